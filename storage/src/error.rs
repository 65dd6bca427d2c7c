//! The crate's one error type.

use std::path::PathBuf;

/// `Result` with this crate's [`enum@Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `lamella-storage`.
///
/// Every variant names the URL, key or local path it is about, and its message
/// says what to do next. Credentials never appear in any message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL's scheme has no backend (or its cargo feature is disabled).
    #[error("unsupported storage URL scheme `{scheme}` in `{url}`: supported are {supported}")]
    UnsupportedScheme {
        /// The URL as given.
        url: String,
        /// The scheme that was not recognised.
        scheme: String,
        /// The schemes this build supports, comma-separated.
        supported: String,
    },

    /// The storage URL could not be understood.
    #[error("invalid storage URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A key is not a clean relative path below the store root.
    #[error("invalid key `{key}`: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The object does not exist.
    #[error("object `{key}` not found in {url}")]
    NotFound {
        /// The store's root URL.
        url: String,
        /// The missing key.
        key: String,
    },

    /// An upload was stopped by its caller before it completed; nothing was written.
    #[error("the upload of `{key}` to {url} was cancelled before it completed")]
    Cancelled {
        /// The store's root URL.
        url: String,
        /// The key that was being written.
        key: String,
    },

    /// An object already exists where a new one was to be put without replacing anything.
    #[error("`{key}` already exists in {url}; refusing to replace it")]
    AlreadyExists {
        /// The store's root URL.
        url: String,
        /// The key that is taken.
        key: String,
    },

    /// The key names a folder (a common prefix), not an object.
    #[error("`{key}` in {url} is a folder, not an object: use list() to see its contents")]
    NotAFile {
        /// The store's root URL.
        url: String,
        /// The key that names a folder.
        key: String,
    },

    /// The backend refused access.
    #[error("access denied to {}: {hint} ({message})", location(url, key))]
    AccessDenied {
        /// The store's root URL.
        url: String,
        /// The key being accessed (empty for the root).
        key: String,
        /// What to check.
        hint: String,
        /// The backend's own message.
        message: String,
    },

    /// The S3 bucket does not exist.
    #[error(
        "bucket `{bucket}` of {url} does not exist: create it first (Lamella never creates buckets)"
    )]
    NoSuchBucket {
        /// The store's root URL.
        url: String,
        /// The bucket name.
        bucket: String,
    },

    /// The endpoint could not be reached at all.
    #[error(
        "cannot reach the object store for {url} at {endpoint}: check AWS_ENDPOINT_URL and that \
         the server is running ({message})"
    )]
    Unreachable {
        /// The store's root URL.
        url: String,
        /// The endpoint that was contacted.
        endpoint: String,
        /// The transport's message.
        message: String,
    },

    /// Any other failure reported by the storage backend.
    #[error("{operation} `{key}` in {url} failed: {message}")]
    Backend {
        /// The operation that failed (`read`, `write`, `list`, …).
        operation: &'static str,
        /// The store's root URL.
        url: String,
        /// The key involved (empty for the root).
        key: String,
        /// The backend's message.
        message: String,
    },

    /// A local file or folder could not be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (`open`, `read`, `create`, …).
        action: &'static str,
        /// The local path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A Parquet file could not be read or written.
    #[error("parquet file `{}`: {source}", path.display())]
    Parquet {
        /// The local path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Arrow could not read or convert a table (CSV parsing, schema mismatch, …).
    #[error("table `{}`: {source}", path.display())]
    Arrow {
        /// The local path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: arrow::error::ArrowError,
    },

    /// A path is not a regular file after following symbolic links (a FIFO, socket or
    /// device): reading it could block or never end, so it is neither hashed nor uploaded.
    #[error(
        "`{}` is a {kind}, not a regular file: reading it could block or never end; copy the \
         data into a regular file and use that",
        path.display()
    )]
    NotARegularFile {
        /// The path as found (a symbolic link is named, not its target).
        path: PathBuf,
        /// What it is: `FIFO (named pipe)`, `socket`, `character device`, …
        kind: &'static str,
    },

    /// A symbolic link whose target does not exist.
    #[error(
        "symbolic link `{}` points to `{}`, which does not exist: fix or remove the link",
        path.display(),
        target.display()
    )]
    DanglingLink {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
    },

    /// A folder is the same folder as one of its ancestors (a bind mount of a parent), so
    /// walking it would never end.
    #[error(
        "folder `{}` is the same folder as its ancestor `{}` (a bind mount or folder loop): \
         remove the loop or save a subfolder",
        path.display(),
        ancestor.display()
    )]
    FolderCycle {
        /// The folder that loops back.
        path: PathBuf,
        /// The ancestor it is the same as.
        ancestor: PathBuf,
    },

    /// A table file does not match its suffix or is malformed (checked when it is saved).
    #[error("`{}` {reason}", path.display())]
    InvalidTable {
        /// The local path.
        path: PathBuf,
        /// What is wrong and what to do, e.g. `line 3 has 1 field, the header has 2: …`.
        reason: String,
    },

    /// An AnnData (`.h5ad`) file is unreadable or not AnnData; `element` names the part
    /// (`obs/cell_type`), empty for the whole file.
    #[error(
        "`{}`{}{} {reason}",
        path.display(),
        if element.is_empty() { "" } else { ": element " },
        if element.is_empty() { String::new() } else { format!("`{element}`") }
    )]
    InvalidAnnData {
        /// The local path.
        path: PathBuf,
        /// The element (`obs`, `obs/cell_type`, `X/indptr`), empty for the file.
        element: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// An argument was unusable (empty folder, no record batches, zero chunk size, …).
    #[error("{what}: {reason}")]
    InvalidInput {
        /// What the input was.
        what: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// The internal I/O runtime could not be started.
    #[error("cannot start the storage I/O runtime: {message}")]
    Runtime {
        /// The runtime's message.
        message: String,
    },
}

impl Error {
    /// Whether this error means "the object does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
            || matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// `url/key`, or the URL alone for the root.
fn location(url: &str, key: &str) -> String {
    if key.is_empty() {
        url.to_string()
    } else {
        format!("{}/{key}", url.trim_end_matches('/'))
    }
}
