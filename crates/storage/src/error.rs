//! Storage errors.

/// What can go wrong in the storage engine.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("log group already exists")]
    LogGroupExists,
    #[error("log group does not exist")]
    LogGroupNotFound,
    #[error("log stream already exists")]
    LogStreamExists,
    #[error("log stream does not exist")]
    LogStreamNotFound,
    #[error("too many log groups (limit {limit})")]
    TooManyLogGroups { limit: usize },
    /// A caller's check inside an atomic update refused it, with the AWS error to answer.
    #[error("refused: {0}")]
    Refused(flowwatch_model::ApiError),
    #[error("storage is shutting down")]
    Closed,
    #[error("i/o error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("catalog error: {0}")]
    Catalog(#[from] rusqlite::Error),
    #[error("object store error: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("corrupt data in {what}: {detail}")]
    Corrupt { what: String, detail: String },
    #[error("background task failed: {0}")]
    Task(String),
    /// An ingest observer failed (panicked) or fell too far behind.
    #[error("ingest observers: {0}")]
    Observer(String),
}

impl StorageError {
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// Result with a [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
