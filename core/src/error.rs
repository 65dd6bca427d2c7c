//! The public API's error type.
//!
//! Each message names the thing and says what to do in the library's own terms; it never
//! names a command-line command or flag (front-ends add their hints by [`Error::kind`]).

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
    #[error("no {registry} matches {what}{}", did_you_mean(suggestions))]
    NotFound {
        /// The registry searched.
        registry: &'static str,
        /// What was looked for.
        what: String,
        /// Close names that do exist (closest first), if any.
        suggestions: Vec<String>,
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
        "cannot make '{parent}' a parent of '{child}': '{child}' is already an ancestor of '{parent}' (or the same record), and a hierarchy cannot have cycles"
    )]
    Cycle {
        /// The would-be child.
        child: String,
        /// The would-be parent.
        parent: String,
    },
    /// Something that should be a uid (or uid prefix) is not one.
    #[error(
        "'{given}' is not {} {registry} uid (letters and digits only)",
        article(registry)
    )]
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
    /// A value given for a field or option is not acceptable (an empty name, a control
    /// character, a malformed pattern, a dtype that does not allow the option, …).
    #[error("{what} {}: {reason}", quoted(value))]
    InvalidValue {
        /// What the value is for, e.g. `collection version`, `feature 'x' minimum`.
        what: String,
        /// The value as given (shortened and escaped).
        value: String,
        /// Why it is refused and what to give instead.
        reason: String,
    },
    /// A categorical feature's dtype names a branch label that does not exist.
    #[error(
        "feature '{feature}' takes the labels under '{branch}', but there is no label '{branch}': create it first (its children are the allowed values)"
    )]
    MissingBranch {
        /// The feature.
        feature: String,
        /// The missing branch label.
        branch: String,
    },
    /// A value is not one of a closed set of choices.
    #[error("'{given}' is not {what}: use one of {}", choices.join(", "))]
    UnknownChoice {
        /// What was chosen, e.g. `a transform type`.
        what: &'static str,
        /// What was given.
        given: String,
        /// The allowed values.
        choices: Vec<String>,
    },
    /// A name or version label is taken by another record.
    #[error("{what} '{name}' is taken by {by}: {reason}")]
    Taken {
        /// What the name is, e.g. `ULabel name`, `synonym`, `collection version`.
        what: String,
        /// The name.
        name: String,
        /// Who holds it, e.g. `ULabel 'setosa'`.
        by: String,
        /// What to do.
        reason: String,
    },
    /// Options of one request contradict each other (a key against the file's suffix, two
    /// files with one key, a new version with another key, …).
    #[error("{message}")]
    Conflict {
        /// What clashes with what, and what to do.
        message: String,
    },
    /// Something required is missing or empty: a collection without members, a table
    /// artifact without key or description, an empty folder, no home or cache folder.
    #[error("{what} needs {needs}")]
    Incomplete {
        /// What is incomplete.
        what: String,
        /// What it needs.
        needs: String,
    },
    /// A table has no column of this name (given for a categorical feature, a unit, new
    /// labels, …).
    #[error("the table has no column '{column}' ({role}); its columns: {}", columns.join(", "))]
    UnknownColumn {
        /// The column named.
        column: String,
        /// What it was named for, e.g. `named as categorical`.
        role: &'static str,
        /// The table's columns.
        columns: Vec<String>,
    },
    /// A storage location belongs to another instance, which alone writes there.
    #[error(
        "storage {root} is managed by another instance ({}): this instance only reads it; save to a storage of its own",
        manager.as_deref().unwrap_or("unknown")
    )]
    NotManaged {
        /// The storage root.
        root: String,
        /// The managing instance's uid, when known.
        manager: Option<String>,
    },
    /// A location is reserved: Lamella's own folder, a storage root itself, a folder holding
    /// an instance's database.
    #[error("{location} {reason}")]
    Reserved {
        /// The path or URL.
        location: String,
        /// Why it is reserved, and what to do.
        reason: String,
    },
    /// A cloud object cannot be registered where it is.
    #[error("{location} {reason}")]
    NotInStorage {
        /// The URL.
        location: String,
        /// Why (not inside a registered storage, no usable ETag, missing), and what to do.
        reason: String,
    },
    /// A registered artifact's object is missing from its storage.
    #[error(
        "the object of artifact {uid} is missing at {location}: check the storage, or let the storage check repair the records"
    )]
    MissingObject {
        /// The artifact.
        uid: String,
        /// Where the object should be.
        location: String,
    },
    /// Something is not a table where a table is needed.
    #[error("{what} is not a table: {reason}")]
    NotATable {
        /// The artifact, collection or file.
        what: String,
        /// Why, and what to do.
        reason: String,
    },
    /// A column has an Arrow type no feature dtype describes.
    #[error(
        "column '{column}' has the Arrow type {data_type}, which no feature dtype describes: convert it (e.g. to text or numbers) or leave the column out"
    )]
    UnsupportedType {
        /// The column.
        column: String,
        /// Its Arrow type.
        data_type: String,
    },
    /// Members of a collection cannot be concatenated as they are.
    #[error("{message}")]
    Concat {
        /// The column, when one column is the problem.
        column: Option<String>,
        /// What clashes, and what to do.
        message: String,
        /// Whether allowing lossy promotions would resolve it.
        lossy_would_resolve: bool,
    },
    /// Labels or feature sets cannot be linked as asked.
    #[error("{message}")]
    Annotation {
        /// The feature concerned, if any.
        feature: Option<String>,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A feature value (to annotate with, or to filter by) that its feature cannot take, or a
    /// feature that does not exist.
    #[error("{message}")]
    FeatureValue {
        /// The feature concerned.
        feature: String,
        /// What is wrong, naming the value and the dtype, and what to do.
        message: String,
    },
    /// A version family has no version numbers left.
    #[error("{registry} {family} has no version numbers left")]
    VersionsExhausted {
        /// The registry.
        registry: &'static str,
        /// The family (uid stem or name).
        family: String,
    },
    /// There is no instance where one was expected.
    #[error("{}", no_instance(location, reason))]
    NoInstance {
        /// The folder, URL or database looked at (no password).
        location: String,
        /// Why there is none.
        reason: NoInstanceReason,
    },
    /// An instance exists where a new one was to be created.
    #[error("{location}: {detail}")]
    InstanceExists {
        /// The storage location or database.
        location: String,
        /// What is there already.
        detail: String,
        /// The location to connect to instead, if any.
        connect_to: Option<String>,
    },
    /// An instance still registers artifacts and would lose their records.
    #[error(
        "the instance at {root} still registers {artifacts} artifacts: delete them first, or drop the metadata anyway (stored files are kept)"
    )]
    NotEmpty {
        /// The instance's storage root.
        root: String,
        /// How many artifacts it registers.
        artifacts: i64,
    },
    /// Stored data that Lamella wrote is unreadable.
    #[error("{what} is unreadable ({message}): {advice}")]
    Corrupt {
        /// What, e.g. `the storage marker s3://b/.lamella/storage.json`.
        what: String,
        /// What the reader said.
        message: String,
        /// What to do.
        advice: &'static str,
    },
    /// A local path does not exist.
    #[error("{} does not exist: check the path", path.display())]
    MissingPath {
        /// The path.
        path: PathBuf,
    },
    /// An output path exists already (Lamella never overwrites one unless asked).
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
    /// An internal invariant does not hold: a bug in Lamella.
    #[error("internal error: {0}; this is a bug in Lamella, please report it")]
    Internal(String),
}

/// Why there is no instance ([`Error::NoInstance`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoInstanceReason {
    /// No instance keeps its database inside this folder.
    NothingHere,
    /// No instance with this storage is known to this machine's settings.
    UnknownStorage,
    /// No instance is current.
    NoCurrent,
    /// The folder is managed by an instance whose database this machine does not know.
    ManagedElsewhere {
        /// That instance's uid.
        instance: String,
    },
    /// The instance's SQLite file is gone.
    DatabaseMissing {
        /// The missing file.
        db: String,
    },
    /// The database holds no Lamella instance.
    EmptyDatabase {
        /// The database (no password).
        db: String,
    },
    /// A cloud storage needs a database given explicitly.
    NeedsDatabase,
}

fn no_instance(location: &str, reason: &NoInstanceReason) -> String {
    match reason {
        NoInstanceReason::NothingHere => format!("no Lamella instance at {location}"),
        NoInstanceReason::UnknownStorage => {
            format!("no instance with storage {location} is known here: give its database")
        }
        NoInstanceReason::NoCurrent => "no current instance".into(),
        NoInstanceReason::ManagedElsewhere { instance } => format!(
            "{location} is managed by instance {instance}, whose database this machine does \
             not know: create nothing here; ask its owner for the database URL"
        ),
        NoInstanceReason::DatabaseMissing { db } => {
            format!("the instance at {location} has no database any more ({db} is missing)")
        }
        NoInstanceReason::EmptyDatabase { db } => {
            format!("the database {db} holds no Lamella instance")
        }
        NoInstanceReason::NeedsDatabase => format!(
            "an instance on {location} needs a database: give one, or remember the instance \
             to keep its SQLite file in the settings folder"
        ),
    }
}

impl Error {
    /// A stable snake_case name of the error's kind (`not_found`, `invalid_value`, …), for
    /// front-ends and scripts that react to kinds.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Schema(e) => match e {
                lamella_schema::Error::Lookup(_) | lamella_schema::Error::Value(_) => {
                    "invalid_query"
                }
                lamella_schema::Error::UnsupportedUrl { .. } => "invalid_url",
                lamella_schema::Error::Source(_) => "invalid_source",
                _ => "database",
            },
            Error::Lineage(_) => "lineage",
            Error::Storage(e) => match e {
                lamella_storage::Error::InvalidTable { .. } => "invalid_table",
                lamella_storage::Error::InvalidAnnData { .. } => "invalid_anndata",
                lamella_storage::Error::NotFound { .. } => "missing_object",
                lamella_storage::Error::AccessDenied { .. } => "access_denied",
                _ => "storage",
            },
            Error::Duplicate { .. } => "duplicate",
            Error::Dtype(_) => "invalid_dtype",
            Error::Curation(_) => "invalid_table",
            Error::NotFound { .. } => "not_found",
            Error::Ambiguous { .. } => "ambiguous",
            Error::Linked { .. } => "linked",
            Error::Cycle { .. } => "cycle",
            Error::NotAUid { .. } => "not_a_uid",
            Error::Uid(_) => "internal",
            Error::InvalidKey { .. } => "invalid_key",
            Error::InvalidName { .. } => "invalid_name",
            Error::InvalidValue { .. } => "invalid_value",
            Error::UnknownChoice { .. } => "unknown_choice",
            Error::MissingBranch { .. } => "missing_branch",
            Error::Taken { .. } => "taken",
            Error::Conflict { .. } => "conflict",
            Error::Incomplete { .. } => "incomplete",
            Error::UnknownColumn { .. } => "unknown_column",
            Error::NotManaged { .. } => "not_managed",
            Error::Reserved { .. } => "reserved",
            Error::NotInStorage { .. } => "not_in_storage",
            Error::MissingObject { .. } => "missing_object",
            Error::NotATable { .. } => "not_a_table",
            Error::UnsupportedType { .. } => "unsupported_type",
            Error::Concat { .. } => "concat",
            Error::FeatureValue { .. } => "invalid_feature_value",
            Error::Annotation { .. } => "annotation",
            Error::VersionsExhausted { .. } => "versions_exhausted",
            Error::NoInstance { .. } => "no_instance",
            Error::InstanceExists { .. } => "instance_exists",
            Error::NotEmpty { .. } => "not_empty",
            Error::Corrupt { .. } => "corrupt",
            Error::MissingPath { .. } => "missing_path",
            Error::PathExists { .. } => "path_exists",
            Error::Failpoint { .. } => "failpoint",
            Error::Io { .. } => "io",
            Error::Settings { .. } => "settings",
            Error::Arrow(_) => "arrow",
            Error::Internal(_) => "internal",
        }
    }

    /// An [`Error::InvalidValue`].
    pub(crate) fn invalid(
        what: impl Into<String>,
        value: impl AsRef<str>,
        reason: impl Into<String>,
    ) -> Error {
        Error::InvalidValue {
            what: what.into(),
            value: crate::names::shown(value.as_ref(), 60),
            reason: reason.into(),
        }
    }

    /// An [`Error::NotFound`] with the close names that exist.
    pub(crate) fn not_found(
        registry: &'static str,
        what: impl Into<String>,
        suggestions: Vec<String>,
    ) -> Error {
        Error::NotFound {
            registry,
            what: what.into(),
            suggestions,
        }
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(": did you mean '{one}'?"),
        many => format!(
            ": did you mean {}?",
            many.iter()
                .take(5)
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn quoted(value: &str) -> String {
    if value.is_empty() {
        "(empty)".into()
    } else {
        format!("'{value}'")
    }
}

fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

/// `Result` with Lamella's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
