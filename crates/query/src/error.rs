//! The one error type of the crate.

use flowwatch_insights::Location;

/// Why a query could not be compiled or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The text does not compile (MalformedQueryException).
    #[error(transparent)]
    Compile(#[from] flowwatch_insights::QueryError),
    /// A construct of the language flowwatch does not run yet (MalformedQueryException).
    #[error("{construct} is not supported yet")]
    Unsupported {
        construct: String,
        location: Location,
    },
    /// The input or the execution needed more memory than the query may use.
    #[error("query exceeded its memory limit of {limit} bytes")]
    MemoryExceeded { limit: usize },
    /// A SQL query that DataFusion cannot plan.
    #[error("invalid SQL: {message}")]
    Sql { message: String },
    /// A file read by `query --file` could not be read as what its name says it holds.
    #[error("{message}")]
    Input { message: String },
    /// A streamed query needs no more input: every plan has all it reads (a `limit`), or
    /// stopped with an error of its own. The reader stops; the query's result says which.
    #[error("the query reads no more input")]
    InputClosed,
    /// Execution failed (for example an invalid regex met at run time).
    #[error("query failed: {message}")]
    Execution { message: String },
}

impl QueryError {
    /// Whether the client's query is at fault (MalformedQueryException), with where.
    pub fn compile_location(&self) -> Option<Location> {
        match self {
            QueryError::Compile(e) => Some(e.location),
            QueryError::Unsupported { location, .. } => Some(*location),
            _ => None,
        }
    }

    /// The message for `queryCompileError.message` or the failure reason.
    pub fn message(&self) -> String {
        match self {
            QueryError::Compile(e) => e.message(),
            other => other.to_string(),
        }
    }
}

impl From<datafusion::error::DataFusionError> for QueryError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as E;
        match e.find_root() {
            E::ResourcesExhausted(_) => QueryError::MemoryExceeded { limit: 0 },
            E::SQL(..) | E::Plan(_) | E::SchemaError(..) => QueryError::Sql {
                message: e.strip_backtrace(),
            },
            _ => QueryError::Execution {
                message: e.strip_backtrace(),
            },
        }
    }
}

impl From<arrow::error::ArrowError> for QueryError {
    fn from(e: arrow::error::ArrowError) -> Self {
        QueryError::Execution {
            message: e.to_string(),
        }
    }
}

pub type Result<T, E = QueryError> = std::result::Result<T, E>;
