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
    #[error("flow-log records: {0}")]
    FlowLog(#[from] flowwatch_flowlog::FlowLogError),
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

    /// Whether an object was not there (anywhere in the chain of causes): a segment that
    /// compaction or retention removed after a reader listed it.
    pub fn is_not_found(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if let Some(object_store::Error::NotFound { .. }) =
                error.downcast_ref::<object_store::Error>()
            {
                return true;
            }
            if let Some(io) = error.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::NotFound
            {
                return true;
            }
            if let Some(parquet::errors::ParquetError::External(inner)) =
                error.downcast_ref::<parquet::errors::ParquetError>()
                && inner
                    .downcast_ref::<object_store::Error>()
                    .is_some_and(|e| matches!(e, object_store::Error::NotFound { .. }))
            {
                return true;
            }
            cause = error.source();
        }
        false
    }

    /// Whether the store refused access (permissions, credentials), as opposed to any other
    /// failure: found anywhere in the chain of causes.
    pub fn is_access_denied(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if let Some(io) = error.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::PermissionDenied
            {
                return true;
            }
            if let Some(
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. },
            ) = error.downcast_ref::<object_store::Error>()
            {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

/// Result with a [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    #[test]
    fn access_denied_is_found_in_the_chain_of_causes() {
        let denied = || Error::new(ErrorKind::PermissionDenied, "denied");
        assert!(StorageError::io("/x", denied()).is_access_denied());
        let wrapped = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(denied()),
        };
        assert!(StorageError::ObjectStore(wrapped).is_access_denied());
        let other = Error::new(ErrorKind::StorageFull, "full");
        assert!(!StorageError::io("/x", other).is_access_denied());
        assert!(!StorageError::Closed.is_access_denied());
    }
}
