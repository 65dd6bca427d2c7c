//! The public API's error type.

use std::path::PathBuf;

/// Everything that can go wrong in Lamella's public API. Each message names the thing and
/// says what to do; each kind carries the values a program needs to react to it. New kinds
/// may be added, so a `match` needs a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database error.
    #[error(transparent)]
    Schema(#[from] lamella_schema::Error),
    /// A graph could not be built or rendered.
    #[error(transparent)]
    Lineage(#[from] lamella_lineage::Error),
    /// A storage operation failed.
    #[error(transparent)]
    Storage(#[from] lamella_storage::Error),
    /// The same content is already registered and the policy says so.
    #[error(
        "the content of {path} is already registered as artifact {uid} (hash {hash}): use it, or save with the create-new duplicate policy"
    )]
    Duplicate {
        /// What was being saved.
        path: String,
        /// The existing artifact's uid.
        uid: String,
        /// The shared hash.
        hash: String,
    },
    /// A dtype string is invalid.
    #[error(transparent)]
    Dtype(#[from] lamella_schema::DtypeError),
    /// The curator found problems; its report lists every one. Nothing was saved.
    #[error("the table is not valid: {}; nothing saved", .0.summary())]
    Curation(Box<crate::validate::Report>),
    /// No record matched.
    #[error("no {registry} matches {what}")]
    NotFound {
        /// The registry searched.
        registry: &'static str,
        /// What was looked for.
        what: String,
    },
    /// Several records matched where one was expected.
    #[error("{count} {registry} records match {what}: narrow the query (e.g. a longer uid prefix)")]
    Ambiguous {
        /// The registry searched.
        registry: &'static str,
        /// What was looked for.
        what: String,
        /// How many matched.
        count: i64,
    },
    /// A record is still linked and cannot be deleted.
    #[error(
        "cannot delete {registry} '{name}': it is still linked to {links}; remove those links first"
    )]
    Linked {
        /// The registry.
        registry: &'static str,
        /// The record's name.
        name: String,
        /// The links, e.g. `2 artifacts`.
        links: String,
    },
    /// Adding a parent would close a cycle in a hierarchy.
    #[error(
        "cannot make '{parent}' a parent of '{child}': '{child}' is already an ancestor of '{parent}' (or the same label), and a hierarchy cannot have cycles"
    )]
    Cycle {
        /// The would-be child.
        child: String,
        /// The would-be parent.
        parent: String,
    },
    /// Something that should be a uid (or uid prefix) is not one.
    #[error("'{given}' is not a {registry} uid (letters and digits only)")]
    NotAUid {
        /// The registry looked in.
        registry: &'static str,
        /// What was given.
        given: String,
    },
    /// A stored uid is not a versioned uid.
    #[error(transparent)]
    Uid(#[from] lamella_schema::UidError),
    /// An artifact key breaks the key rules.
    #[error("invalid key '{key}': {reason}; use a relative path such as 'iris/study0.csv'")]
    InvalidKey {
        /// The key.
        key: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A name breaks the naming rules of its registry.
    #[error("{message}")]
    InvalidName {
        /// The registry.
        registry: &'static str,
        /// The name (possibly shortened).
        name: String,
        /// The whole explanation.
        message: String,
    },
    /// A local path does not exist.
    #[error("{} does not exist: check the path", path.display())]
    MissingPath {
        /// The path.
        path: PathBuf,
    },
    /// An output path exists already (Lamella never overwrites one).
    #[error("{} already exists: choose another path or remove it first", path.display())]
    PathExists {
        /// The path.
        path: PathBuf,
    },
    /// A fault point of a crash test fired (only in builds with the `failpoints` feature).
    #[error("failpoint '{name}' triggered")]
    Failpoint {
        /// The fault point.
        name: &'static str,
    },
    /// A value given by the user is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// There is no instance where one was expected.
    #[error("{0}")]
    NoInstance(String),
    /// An instance exists where a new one was to be created.
    #[error("{0}")]
    InstanceExists(String),
    /// A file could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The settings file is unreadable.
    #[error("the settings file {} is unreadable ({message}): fix or delete it", path.display())]
    Settings {
        /// The settings file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A table could not be built.
    #[error("cannot build a table: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// `Result` with Lamella's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
