//! The schema layer's error type.

/// Everything that can go wrong in the schema layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL names no supported backend.
    #[error(
        "unsupported database URL '{url}' ({hint}): use postgresql://user@host:port/db for \
         PostgreSQL, or sqlite:///abs/path.db for SQLite"
    )]
    UnsupportedUrl {
        /// The URL, with any password removed.
        url: String,
        /// What is wrong with it.
        hint: String,
    },
    /// Connecting to the database failed.
    #[error("cannot connect to {backend} database {url}: {message}")]
    Connect {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The URL, with any password removed.
        url: String,
        /// What the driver said, and what to check.
        message: String,
    },
    /// Applying the embedded migrations failed.
    #[error("cannot migrate the {backend} database {url}: {message}")]
    Migration {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The URL, with any password removed.
        url: String,
        /// What failed.
        message: String,
    },
    /// The database holds no Lamella tables where an instance was expected.
    #[error("the database {url} holds no Lamella instance: create one in it first")]
    NotInitialized {
        /// The URL, with any password removed.
        url: String,
    },
    /// A query failed.
    #[error("database error: {message}")]
    Query {
        /// What the database said.
        message: String,
    },
    /// The connection pool gave no connection.
    #[error("no database connection available: {0}")]
    Pool(String),
    /// A filter or ordering names something the registry does not have.
    #[error("{0}")]
    Lookup(String),
    /// A value cannot be used for a field.
    #[error("{0}")]
    Value(String),
    /// A LaminDB database to import cannot be read: what is wrong and what to do.
    #[error("{0}")]
    Source(String),
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Error {
        Error::Query {
            message: e.to_string(),
        }
    }
}

/// `Result` with the schema layer's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
