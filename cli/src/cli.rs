//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Lamella manages datasets like LaminDB: labels, features, artifacts, collections and their
/// provenance, in an embedded SQLite database or PostgreSQL.
#[derive(Debug, Parser)]
#[command(
    name = "lamella",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Start with `lamella init --storage ./mydata`, or replay the \
                        features & labels tutorial with `lamella tutorial ./lamella-tutorial`."
)]
pub struct Cli {
    /// Print records and results as JSON on stdout (for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// Show Lamella's log messages on stderr (-vv for more); RUST_LOG overrides this.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an instance: a database plus a default storage location, and make it current.
    Init {
        /// The default storage: a local folder (created if missing) or s3://bucket/prefix
        /// (credentials and endpoint from the AWS_* environment variables).
        #[arg(long, value_name = "DIR|URL")]
        storage: PathBuf,
        /// The database: postgresql://user@host:port/db, or a SQLite path (default: SQLite
        /// inside DIR/.lamella, or under $LAMELLA_HOME/instances/ for S3 storage).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Show the current instance: storage, database, user and record counts.
    Info,
    /// Connect to the instance whose storage is DIR (or s3://bucket/prefix) and make it current.
    Connect {
        /// The instance's storage folder or URL.
        #[arg(value_name = "DIR|URL")]
        dir: PathBuf,
    },
    /// Register a file, folder or several files as artifacts (hashed, deduplicated, versioned).
    Save(SaveArgs),
    /// Load an artifact: print a table's first rows, an AnnData's summary and `obs` head, or a
    /// file's local path, or write it to --out.
    Load {
        #[command(flatten)]
        which: ArtifactRef,
        /// An AnnData's `obs` (cells) frame, index first: printed, or written to --out as a table.
        #[arg(long, conflicts_with = "var")]
        obs: bool,
        /// An AnnData's `var` (genes) frame, index first: printed, or written to --out as a table.
        #[arg(long)]
        var: bool,
        /// Write the artifact to PATH: a table as .parquet, .csv or .tsv (by PATH's suffix; .gz
        /// compresses text), any other file or folder as a copy.
        #[arg(long, short = 'o', value_name = "PATH")]
        out: Option<PathBuf>,
        /// Replace an existing file at PATH (never inside a storage location).
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// Show an artifact's fields, provenance, feature sets and labels.
    Describe {
        #[command(flatten)]
        which: ArtifactRef,
    },
    /// Annotate an artifact (or with --collection a collection): --columns links its table's
    /// columns as the `columns` feature set; --label links labels, through --feature when
    /// given; --value records feature values (typed by the feature's dtype).
    Annotate(AnnotateArgs),
    /// Check a table file (Parquet or CSV) against the registries: one report with every
    /// problem; exit code 1 when it is not valid.
    Validate {
        #[command(flatten)]
        check: CurateArgs,
        /// With --standardize: write the standardized table to PATH (.parquet, .csv or .tsv;
        /// an AnnData file to an .h5ad PATH, X and the rest copied unchanged).
        #[arg(long, short = 'o', value_name = "PATH", requires = "standardize")]
        out: Option<PathBuf>,
    },
    /// Validate a table file, then save it as an artifact with its `columns` feature set and
    /// its labels linked through their features; nothing is saved while it is not valid.
    Curate {
        #[command(flatten)]
        check: CurateArgs,
        /// The artifact's key.
        #[arg(long)]
        key: String,
        /// A description.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Register the values of COLUMN that are no label yet (under the feature's branch for
        /// cat[ULabel[NAME]]); repeatable.
        #[arg(long = "add-new", value_name = "COLUMN")]
        add_new: Vec<String>,
    },
    /// List artifacts as a table (the trash is hidden unless --trash).
    Ls {
        /// Keep artifacts matching a LaminDB lookup FIELD=VALUE (e.g. key__startswith=iris/,
        /// suffix=.csv, size__gt=1000, hash=…, created_by__handle=me, visibility=-1) or a
        /// feature value (temperature__gt=20, measured_on__gte=2025-01-01, split=test);
        /// repeatable, all must match.
        #[arg(long = "filter", short = 'f', value_name = "FIELD=VALUE", value_parser = parse_lookup)]
        filters: Vec<Lookup>,
        /// Order by this field; prefix with - for descending (e.g. -created_at).
        #[arg(long, value_name = "FIELD", allow_hyphen_values = true)]
        order: Option<String>,
        /// Show at most N artifacts.
        #[arg(long, value_name = "N")]
        limit: Option<i64>,
        /// Include artifacts in the trash.
        #[arg(long)]
        trash: bool,
        /// Keep artifacts labelled NAME (through --feature when given).
        #[arg(long, value_name = "NAME")]
        label: Option<String>,
        /// Keep artifacts that measured feature F (with --label: labelled through F).
        #[arg(long, value_name = "F")]
        feature: Option<String>,
        /// Show the artifacts' feature values and labels, one column per feature: the
        /// features F given, or every feature they have.
        #[arg(long, num_args = 0.., value_name = "F")]
        features: Option<Vec<String>>,
    },
    /// Change what was saved: an artifact's key (every version of it, no object moves) or
    /// description; with --collection a collection's name or description.
    ///
    /// `lamella update UID --key NEW`, `lamella update --key OLD --key NEW`,
    /// `lamella update UID -d "new description"`, `lamella update --collection NAME --name NEW`.
    Update(UpdateArgs),
    /// List every version of an artifact, oldest first (trash included).
    Versions {
        #[command(flatten)]
        which: ArtifactRef,
    },
    /// Move an artifact to the trash or delete it for good; without UID, delete the instance.
    ///
    /// A first delete moves the artifact to the trash (hidden from `ls`, undone by `restore`);
    /// a second delete, or --permanent, removes its row and then its stored object. Without
    /// UID, the current instance's metadata (database and settings entry) is deleted; stored
    /// files are kept.
    #[command(group = clap::ArgGroup::new("artifact").args(["uid", "key"]))]
    Delete {
        /// The artifact's uid (or a unique uid prefix); leave out (and --key) to delete the
        /// instance.
        uid: Option<String>,
        /// The artifact by key instead (its latest version).
        #[arg(long, short = 'k', conflicts_with = "uid")]
        key: Option<String>,
        /// Delete the artifact for good: its row, then its stored object.
        #[arg(long, requires = "artifact")]
        permanent: bool,
        /// Deleting the instance: do not ask for confirmation, and delete even while artifacts
        /// are registered.
        #[arg(long, conflicts_with_all = ["uid", "key", "permanent"])]
        force: bool,
        /// Confirm without a prompt: deleting the instance, or an artifact that is already in
        /// the trash (needed when not in a terminal, so that a script never deletes for good by
        /// accident).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Take an artifact out of the trash.
    Restore {
        /// The artifact's uid (or a unique uid prefix).
        #[arg(required_unless_present = "key")]
        uid: Option<String>,
        /// The artifact by key instead (its newest version in the trash).
        #[arg(long, short = 'k', conflicts_with = "uid")]
        key: Option<String>,
    },
    /// Manage storage locations: add, list, default.
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Manage collections: create, load (concatenated), check, cache, ls, describe, delete, restore.
    #[command(subcommand)]
    Collection(CollectionCommand),
    /// Check storage against the database: leftover uploads, orphaned objects, missing objects.
    Doctor {
        /// Remove leftover uploads and orphaned objects (database rows are never removed).
        #[arg(long)]
        clean: bool,
        /// Only treat leftovers older than this many seconds as abandoned: younger ones may
        /// belong to a save still running in another process.
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        min_age: u64,
        /// Also check every object's content: hash its bytes again (S3 ETags where they prove
        /// the content) and name each artifact whose bytes changed.
        #[arg(long)]
        verify: bool,
    },
    /// Bring another system's instance into this one: `import lamindb SOURCE`.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage labels (ULabel): create, list, hierarchies, update, synonyms, search, inspect, delete.
    #[command(subcommand)]
    Ulabel(UlabelCommand),
    /// Manage features: create, from-file, update, synonyms, list, search, delete.
    #[command(subcommand)]
    Feature(FeatureCommand),
    /// Manage saved schemas (features with validation rules, versioned): create, ls,
    /// describe, delete; use one with `validate --schema` and `curate --schema`.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Start tracking a run of transform NAME: artifacts saved by later commands get this run
    /// and transform, artifacts they load become its inputs, until `lamella finish`.
    #[command(disable_version_flag = true)]
    Track {
        /// The transform's name (e.g. "Petal & sepal regressor").
        name: String,
        /// Its type: pipeline, notebook, script, function or upload.
        #[arg(long = "type", default_value = "pipeline")]
        kind: String,
        /// Its version (a new version keeps the transform's uid stem).
        #[arg(long)]
        version: Option<String>,
        /// Its key (e.g. a script's file name); transforms with a key are found by it.
        #[arg(long)]
        key: Option<String>,
    },
    /// Finish the tracked run (sets its finished_at) and stop tracking.
    Finish,
    /// Show or write the lineage of an artifact or collection: the runs, inputs and
    /// collections it came from (or, with --downstream, what was made from it); or the
    /// transform hierarchy around a transform.
    #[command(group = clap::ArgGroup::new("target").required(true).args(["uid", "key", "collection", "transform"]))]
    Lineage {
        /// The artifact's uid (or a unique uid prefix).
        uid: Option<String>,
        /// The artifact's key instead (its latest version).
        #[arg(long, short = 'k')]
        key: Option<String>,
        /// A collection (name or uid) instead.
        #[arg(long, short = 'c', value_name = "NAME")]
        collection: Option<String>,
        /// The transform hierarchy around a transform (key, name or uid; its latest version)
        /// instead: the transforms whose outputs it read, and with --downstream those that
        /// read its outputs.
        #[arg(long, short = 't', value_name = "NAME")]
        transform: Option<String>,
        /// Write FILE: .svg, .dot, .mmd, or .json (OpenLineage RunEvents); repeatable.
        #[arg(long = "out", short = 'o', value_name = "FILE")]
        out: Vec<PathBuf>,
        /// How many steps to follow.
        #[arg(long, value_name = "N", default_value_t = 10)]
        depth: u32,
        /// Follow data downstream (what was made from it) instead of upstream.
        #[arg(long)]
        downstream: bool,
        /// Draw more than N parents of one kind feeding one node as one node with a count.
        #[arg(long, value_name = "N", default_value_t = 5)]
        cluster: usize,
    },
    /// Show the most recent records of every registry as tables.
    View {
        /// Only these registries (ULabel, Feature, FeatureSet, Artifact, Collection, Run,
        /// Transform, Storage, User); repeatable.
        #[arg(long = "registry", short = 'r', value_name = "NAME")]
        registries: Vec<String>,
        /// How many records per registry.
        #[arg(short = 'n', long = "limit", value_name = "N", default_value_t = 7)]
        n: i64,
    },
    /// Replay the "Features & labels" tutorial step by step in a new instance at DIR.
    Tutorial {
        /// An empty or missing folder for the tutorial's instance.
        dir: PathBuf,
        /// The tutorial's database (default: SQLite inside DIR).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Print the completion script for SHELL, e.g. `lamella completions bash >
    /// ~/.local/share/bash-completion/completions/lamella`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into --out DIR: `lamella
    /// man | man -l -`.
    Man {
        /// Write lamella.1 and one page per subcommand (lamella-ulabel-create.1, …) into DIR.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// What to do when the same content is already registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Duplicate {
    /// Return the existing artifact.
    Return,
    /// Fail.
    Error,
    /// Register the content again as a new artifact.
    New,
}

/// `lamella save …`
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The file or folder to register; several paths become one artifact each.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The key: a relative path naming the artifact (saving to an existing key makes a new
    /// version), e.g. iris/study0.csv.
    #[arg(long, short = 'k', conflicts_with_all = ["each", "key_prefix"])]
    pub key: Option<String>,
    /// A description.
    #[arg(long, short = 'd', conflicts_with = "each")]
    pub description: Option<String>,
    /// Make this a new version of the artifact with this uid.
    #[arg(long, value_name = "UID", conflicts_with = "each")]
    pub revises: Option<String>,
    /// Register each file of the folder (or each PATH) as a separate artifact, in one
    /// transaction (hidden files are skipped).
    #[arg(long)]
    pub each: bool,
    /// With several artifacts: key each file PREFIX/<path within the folder>, or
    /// PREFIX/<file name> for loose files (default for one folder with --each: its name).
    #[arg(long, value_name = "PREFIX")]
    pub key_prefix: Option<String>,
    /// When the same content is already registered: return it, fail, or register it again.
    #[arg(long, value_enum, value_name = "POLICY", default_value = "return")]
    pub duplicate: Duplicate,
}

/// An artifact named by uid or by key.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ArtifactRef {
    /// The artifact's uid (or a unique uid prefix).
    pub uid: Option<String>,
    /// The artifact's key instead (its latest version).
    #[arg(long, short = 'k')]
    pub key: Option<String>,
}

/// How a collection's tables combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JoinArg {
    /// Every column of any member, nulls where a member lacks it.
    Outer,
    /// Only the columns every member has.
    Inner,
}

/// `lamella collection …`
#[derive(Debug, Subcommand)]
pub enum CollectionCommand {
    /// Create a collection of artifacts (the same members give the existing collection; an
    /// existing name with other members gives its next version).
    #[command(disable_version_flag = true)]
    Create {
        /// The collection's name.
        name: String,
        /// A member artifact (uid or unique prefix), in order; repeatable.
        #[arg(long = "artifact", short = 'a', value_name = "UID")]
        artifacts: Vec<String>,
        /// A member artifact by key (latest version), in order; repeatable.
        #[arg(long = "key", short = 'k', value_name = "KEY")]
        keys: Vec<String>,
        /// A description.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// A version label (e.g. 1); by default the n-th version of a name is labelled n.
        #[arg(long)]
        version: Option<String>,
    },
    /// Load a collection: its tables concatenated in member order (prints head and tail, or
    /// writes --out); AnnData members concatenate along cells (their obs as the table, or
    /// the whole AnnData into an .h5ad --out).
    #[command(disable_version_flag = true)]
    Load {
        /// The collection (name or uid).
        name: String,
        /// The version of that name (default: the latest).
        #[arg(long, value_name = "V")]
        version: Option<String>,
        /// How columns (and an AnnData's genes) combine: outer keeps all (missing genes are
        /// zeros), inner the shared ones.
        #[arg(long, value_enum, default_value_t = JoinArg::Outer)]
        join: JoinArg,
        /// Allow lossy promotions (numbers to float64, zoned times to UTC, the rest to strings).
        #[arg(long)]
        allow_lossy: bool,
        /// Only the AnnData members' obs (cell metadata), as a table.
        #[arg(long)]
        obs: bool,
        /// Write the result to FILE (.parquet, .csv or .tsv; .gz compresses text; .h5ad for
        /// AnnData members: X streamed in blocks of cells).
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace an existing FILE (never inside a storage location).
        #[arg(long, requires = "out")]
        force: bool,
        /// Save the written FILE as an artifact with this key (in a tracked run: the run's
        /// output, the collection its input).
        #[arg(long, value_name = "KEY", requires = "out")]
        save: Option<String>,
    },
    /// Print the local paths of the members' content (cloud members are downloaded to the
    /// cache); in a tracked run the collection becomes an input.
    #[command(disable_version_flag = true)]
    Cache {
        /// The collection (name or uid).
        name: String,
        /// The version of that name (default: the latest).
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Show the concatenation plan from the members' schemas: per column its type, whether
    /// it is lossy, the nulls the join fills.
    #[command(disable_version_flag = true)]
    Check {
        /// The collection (name or uid).
        name: String,
        /// The version of that name (default: the latest).
        #[arg(long, value_name = "V")]
        version: Option<String>,
        /// How columns combine.
        #[arg(long, value_enum, default_value_t = JoinArg::Outer)]
        join: JoinArg,
        /// Allow lossy promotions.
        #[arg(long)]
        allow_lossy: bool,
    },
    /// List collections (labelled NAME through --feature, or that measured --feature).
    Ls {
        /// Keep collections labelled NAME.
        #[arg(long, value_name = "NAME")]
        label: Option<String>,
        /// Include collections in the trash.
        #[arg(long)]
        trash: bool,
        /// Keep collections that measured feature F (with --label: labelled through F).
        #[arg(long, value_name = "F")]
        feature: Option<String>,
        /// Keep collections matching a lookup FIELD=VALUE, feature values included (e.g.
        /// split=train, donors__gte=3, name__startswith=study); repeatable, all must match.
        #[arg(long = "filter", short = 'f', value_name = "FIELD=VALUE", value_parser = parse_lookup)]
        filters: Vec<Lookup>,
        /// Show the collections' feature values and labels, one column per feature.
        #[arg(long, num_args = 0.., value_name = "F")]
        features: Option<Vec<String>>,
    },
    /// Show a collection, its members, feature sets and labels.
    #[command(disable_version_flag = true)]
    Describe {
        /// The collection (name or uid).
        name: String,
        /// The version of that name (default: the latest).
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Move a collection to the trash, or delete it for good (--permanent, or when it is in
    /// the trash already); its member artifacts stay.
    Delete {
        /// The collection (name or uid).
        name: String,
        /// Delete for good.
        #[arg(long)]
        permanent: bool,
    },
    /// Take a collection out of the trash.
    Restore {
        /// The collection's name (its newest trashed version) or uid.
        name: String,
    },
}

/// `lamella import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a LaminDB instance (lamindb 0.x or 1.x/2.x) into the current instance, keeping
    /// every uid, hash, version, link and object; the source is only read. A second import
    /// of the same instance changes nothing.
    Lamindb {
        /// The LaminDB instance: its storage root (the folder holding .lamindb/), its
        /// lamin.db (or 0.x's <id>.lndb), or a postgresql:// URL (with --storage).
        source: String,
        /// Where its objects are (a folder or s3://bucket/prefix): required for a
        /// PostgreSQL source, else overrides the root found.
        #[arg(long, value_name = "ROOT")]
        storage: Option<String>,
        /// Read and plan only: report what would be imported, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// An artifact whose object is missing or changed: skip it, or import its record
        /// without the object.
        #[arg(long, value_enum, default_value_t = OnMissingArg::Skip)]
        on_missing: OnMissingArg,
    },
}

/// `--on-missing`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnMissingArg {
    /// Leave the artifact out.
    Skip,
    /// Import its record without the object.
    Record,
}

/// `lamella storage …`
#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Register another storage location (a local folder or s3://bucket/prefix) after checking
    /// that it is reachable.
    Add {
        /// The folder or URL.
        url: String,
    },
    /// List the registered storage locations.
    List,
    /// Show the default storage of new artifacts, or make URL (a folder or s3://bucket/prefix,
    /// registered first when new) the default — LaminDB's `ln.settings.storage = "s3://…"`.
    /// Saved artifacts stay where they are.
    Default {
        /// The folder or URL; without it, prints the current default.
        url: Option<String>,
    },
}

/// `lamella annotate …`
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(false)))]
pub struct AnnotateArgs {
    /// The artifact's uid (or a unique uid prefix).
    #[arg(group = "target")]
    pub uid: Option<String>,
    /// The artifact's key instead (its latest version).
    #[arg(long, short = 'k', group = "target")]
    pub key: Option<String>,
    /// Annotate this collection (name or uid) instead of an artifact.
    #[arg(
        long,
        short = 'c',
        value_name = "NAME",
        group = "target",
        conflicts_with = "columns"
    )]
    pub collection: Option<String>,
    /// Link the table's columns (their registered features) as the `columns` feature set.
    #[arg(long)]
    pub columns: bool,
    /// Link this label (name or uid); repeatable.
    #[arg(long = "label", short = 'l', value_name = "NAME")]
    pub labels: Vec<String>,
    /// Link the labels (or unlink --remove-label) through this categorical feature (cat widens
    /// to cat[ULabel]; the feature joins the record's `external` feature set).
    #[arg(long, value_name = "F")]
    pub feature: Option<String>,
    /// Record the value of a feature, typed by its dtype: temperature=37.5,
    /// measured_on=2025-01-31, split=train (categorical: a label name), tags=[a,b] (a list);
    /// repeatable (a repeated categorical feature adds labels).
    #[arg(long = "value", value_name = "FEATURE=VALUE", value_parser = parse_value_pair)]
    pub values: Vec<(String, String)>,
    /// Record the values of a JSON file: an object of feature → value (or list of values).
    #[arg(long = "from-json", value_name = "FILE")]
    pub from_json: Option<PathBuf>,
    /// Replace the values of the features given (--value, --from-json) instead of adding.
    #[arg(long)]
    pub replace: bool,
    /// Unlink a feature's values: FEATURE (all) or FEATURE=VALUE; repeatable.
    #[arg(long = "remove-value", value_name = "FEATURE[=VALUE]")]
    pub remove_values: Vec<String>,
    /// Unlink this label (through --feature when given); repeatable.
    #[arg(long = "remove-label", value_name = "NAME")]
    pub remove_labels: Vec<String>,
}

/// `lamella schema …`
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Save a schema: the features a table may have, with rules. The same name with other
    /// rules saves its next version; the same rules return the saved one.
    Create {
        /// The schema's name.
        name: String,
        /// A feature the schema lists (in order); repeatable.
        #[arg(long = "feature", short = 'f', value_name = "F")]
        features: Vec<String>,
        /// A feature a table must have a column for (listed too); repeatable.
        #[arg(long = "require", value_name = "F")]
        require: Vec<String>,
        /// The required features' columns must come in the schema's order.
        #[arg(long)]
        ordered: bool,
        /// Allow columns of features the schema does not list (or of none).
        #[arg(long)]
        allow_extra: bool,
        /// Check COLUMN against feature FEATURE (a column named otherwise); repeatable.
        #[arg(long = "categorical", value_name = "COLUMN=FEATURE", value_parser = parse_pair)]
        categorical: Vec<(String, String)>,
        /// A description.
        #[arg(long, short = 'd')]
        description: Option<String>,
    },
    /// List the saved schemas (their newest versions).
    Ls,
    /// Show a schema's features and rules (the newest version, or --versions for all).
    Describe {
        /// The schema's name, or a version's uid.
        name: String,
        /// Every version, oldest first.
        #[arg(long)]
        versions: bool,
    },
    /// Delete every version of a schema (refused while an artifact keeps one it passed).
    Delete {
        /// The schema's name.
        name: String,
    },
}

/// `lamella update …`
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The artifact's uid (or a unique uid prefix).
    #[arg(conflicts_with = "collection")]
    pub uid: Option<String>,
    /// With UID: the new key. Without UID: the artifact's key, then (given again) the new key.
    #[arg(long, short = 'k', value_name = "KEY", conflicts_with = "collection")]
    pub key: Vec<String>,
    /// Update this collection (name or uid) instead of an artifact.
    #[arg(long, short = 'c', value_name = "NAME")]
    pub collection: Option<String>,
    /// The collection's new name (every version takes it).
    #[arg(long, value_name = "NEW", requires = "collection")]
    pub name: Option<String>,
    /// The new description of this version ("" clears it).
    #[arg(long, short = 'd', value_name = "TEXT")]
    pub description: Option<String>,
}

/// `FEATURE=VALUE` (the value may be empty text).
fn parse_value_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() => Ok((a.trim().to_string(), b.trim().to_string())),
        _ => Err(format!(
            "expected FEATURE=VALUE (e.g. temperature=37.5 or split=train), got '{s}'"
        )),
    }
}

/// A `field=value` lookup, e.g. `name__startswith=study` or `parents__name=is_species`.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The LaminDB-style lookup (`field`, `field__op`, `relation__field__op`).
    pub field: String,
    /// The value, as text (`__in` takes comma-separated values).
    pub value: String,
}

fn parse_lookup(s: &str) -> Result<Lookup, String> {
    match s.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() => Ok(Lookup {
            field: field.trim().to_string(),
            value: value.to_string(),
        }),
        _ => Err(
            "write field=value, e.g. name=setosa, name__startswith=study or \
             parents__name=is_species"
                .into(),
        ),
    }
}

/// Options shared by the list commands.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Keep records matching a LaminDB lookup FIELD=VALUE (e.g. name__startswith=study,
    /// parents__name=is_species, name__in=a,b); repeatable, all must match.
    #[arg(long = "filter", short = 'f', value_name = "FIELD=VALUE", value_parser = parse_lookup)]
    pub filters: Vec<Lookup>,
    /// Order by this field; prefix with - for descending (e.g. -created_at).
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true)]
    pub order: Option<String>,
    /// Show at most N records.
    #[arg(long, value_name = "N")]
    pub limit: Option<i64>,
}

/// What `validate` and `curate` check a table against.
#[derive(Debug, Args)]
pub struct CurateArgs {
    /// The table file (.parquet, .csv or .tsv; .csv.gz and .tsv.gz too), or an AnnData file
    /// (.h5ad): its obs columns are checked as a table, its var index (genes) against the
    /// registered features.
    pub file: PathBuf,
    #[command(flatten)]
    pub na: NaArgs,
    /// Check COLUMN against feature FEATURE (a feature named otherwise); repeatable.
    #[arg(long = "categorical", value_name = "COLUMN=FEATURE", value_parser = parse_pair)]
    pub categorical: Vec<(String, String)>,
    /// Require a column for feature F; repeatable.
    #[arg(long = "require", value_name = "F")]
    pub require: Vec<String>,
    /// Allow columns without a registered feature.
    #[arg(long)]
    pub allow_extra: bool,
    /// Require the --require features' columns in that order.
    #[arg(long)]
    pub ordered: bool,
    /// Declare COLUMN's unit (otherwise a Parquet field's `unit` metadata); repeatable.
    #[arg(long = "unit", value_name = "COLUMN=UNIT", value_parser = parse_pair)]
    pub units: Vec<(String, String)>,
    /// Convert columns whose unit converts into the feature's unit (mm → m) instead of
    /// reporting them.
    #[arg(long)]
    pub convert_units: bool,
    /// List at most N offending values per problem.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub examples: usize,
    /// Check against this saved schema (name, or a version's uid): its features, required
    /// columns, order, extra columns and column mappings; a curated artifact is linked to it.
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,
    /// For an AnnData file: check its genes against this saved schema (name or uid) — the
    /// genes it lists are allowed, its required ones must be there.
    #[arg(long, value_name = "NAME")]
    pub var_schema: Option<String>,
    /// Apply synonyms first: columns named by a feature's synonym are renamed to the
    /// feature, categorical values that are a label's synonym become its name; each change
    /// is reported (--json: the fix map).
    #[arg(long)]
    pub standardize: bool,
}

/// How a text table's missing values are written.
#[derive(Debug, Args, Clone, Default)]
pub struct NaArgs {
    /// The values that mean "missing" in a CSV/TSV file, comma-separated (default: pandas'
    /// NA, NaN, null, N/A, None, … ; an empty field is always missing).
    #[arg(long = "na", value_name = "VALUES")]
    pub na: Option<String>,
}

impl NaArgs {
    /// The reading options these flags give.
    pub fn options(&self) -> lamella_core::CsvOptions {
        match &self.na {
            None => lamella_core::CsvOptions::default(),
            Some(v) => lamella_core::CsvOptions::na_values(
                v.split(',').map(str::trim).filter(|t| !t.is_empty()),
            ),
        }
    }
}

/// Parses `A=B`.
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, got '{s}'")),
    }
}

/// `lamella ulabel synonym …` and `lamella feature synonym …`
#[derive(Debug, Subcommand)]
pub enum SynonymCommand {
    /// Add SYNONYM to the record NAME (refused if it names or is a synonym of another).
    Add {
        /// The record (name or uid).
        name: String,
        /// The other name.
        synonym: String,
    },
    /// Remove SYNONYM from the record NAME.
    Remove {
        /// The record (name or uid).
        name: String,
        /// The synonym to remove.
        synonym: String,
    },
}

/// `lamella ulabel …`
#[derive(Debug, Subcommand)]
pub enum UlabelCommand {
    /// Create a label (an existing name returns the existing label), or many from a file.
    Create {
        /// The label's name.
        #[arg(required_unless_present = "from_file", conflicts_with = "from_file")]
        name: Option<String>,
        /// A description.
        #[arg(long, short = 'd', conflicts_with = "from_file")]
        description: Option<String>,
        /// An existing label to make a parent of the new one(s); repeatable.
        #[arg(long = "parent", short = 'p', value_name = "PARENT")]
        parents: Vec<String>,
        /// Create one label per line of FILE (blank lines skipped) in one bulk save.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// List labels as a table.
    List(ListArgs),
    /// Show a label's parents and children, or write its hierarchy as SVG, DOT or Mermaid.
    Parents {
        /// The label (name or uid).
        name: String,
        /// Include the label's children (descendants) too.
        #[arg(long)]
        children: bool,
        /// Write the hierarchy to FILE (.svg, .dot or .mmd); repeatable.
        #[arg(long = "out", short = 'o', value_name = "FILE")]
        out: Vec<PathBuf>,
        /// How many levels up (and down) to follow.
        #[arg(long, value_name = "N", default_value_t = 5)]
        distance: u32,
    },
    /// Make PARENT a parent of CHILD (refused if it would create a cycle).
    AddParent {
        /// The child label (name or uid).
        child: String,
        /// The parent label (name or uid).
        parent: String,
    },
    /// Remove PARENT from CHILD's parents.
    RemoveParent {
        /// The child label (name or uid).
        child: String,
        /// The parent label (name or uid).
        parent: String,
    },
    /// Rename a label or change its description.
    Update {
        /// The label (name or uid).
        name: String,
        /// The new name.
        #[arg(long = "name", value_name = "NEW_NAME")]
        new_name: Option<String>,
        /// The new description.
        #[arg(long, short = 'd')]
        description: Option<String>,
    },
    /// Search labels by name: exact, prefix, substring, then close spellings.
    Search {
        /// The text to look for.
        text: String,
        /// Show at most N hits.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
    },
    /// Delete a label (refused while it is linked to artifacts or collections).
    Delete {
        /// The label (name or uid).
        name: String,
    },
    /// Manage a label's synonyms (validation maps them to the label's name).
    #[command(subcommand)]
    Synonym(SynonymCommand),
    /// Which VALUES are label names; for the others, the synonym they match and close
    /// spellings (exit code 1 when some are not names).
    Inspect {
        /// The values (or --from-file).
        #[arg(required_unless_present = "from_file")]
        values: Vec<String>,
        /// Read one value per line of FILE.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// Map VALUES that are label synonyms to the labels' names (others stay as they are);
    /// --json gives the standardized values and the mapping.
    Standardize {
        /// The values (or --from-file).
        #[arg(required_unless_present = "from_file")]
        values: Vec<String>,
        /// Read one value per line of FILE.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
}

/// Value constraints of a feature, checked by `validate` and `curate`.
#[derive(Debug, Args, Default)]
pub struct Constraints {
    /// Smallest value allowed (numeric features; 'none' removes it).
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    pub min: Option<String>,
    /// Largest value allowed (numeric features; 'none' removes it).
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    pub max: Option<String>,
    /// A regular expression every value must match in full (text and categorical features;
    /// '' removes it).
    #[arg(long, value_name = "REGEX")]
    pub pattern: Option<String>,
    /// Whether values may be missing (true or false).
    #[arg(long, value_name = "BOOL")]
    pub nullable: Option<bool>,
}

/// `lamella feature …`
#[derive(Debug, Subcommand)]
pub enum FeatureCommand {
    /// Create a feature (an existing name returns the existing feature).
    Create {
        /// The feature's name.
        name: String,
        /// Its dtype: int, float, num, bool, str, date, datetime, cat, cat[ULabel], cat[A|B],
        /// list[<dtype>].
        #[arg(long)]
        dtype: String,
        /// Its unit, e.g. m.
        #[arg(long)]
        unit: Option<String>,
        /// Other names for it, separated by |, e.g. 'species|organism'.
        #[arg(long)]
        synonyms: Option<String>,
        /// A description.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Create the branch labels a cat[ULabel[NAME]] dtype names when they do not exist.
        #[arg(long)]
        create_branch: bool,
        #[command(flatten)]
        constraints: Constraints,
    },
    /// The features of a table file's columns (Parquet or CSV) or an AnnData's `obs` columns,
    /// dtypes inferred; with --var, an AnnData's genes (its `var` index); with --save, saved
    /// (existing features are reused).
    FromFile {
        /// The table file (.parquet, .csv or .tsv; .csv.gz and .tsv.gz too) or AnnData (.h5ad).
        file: PathBuf,
        /// An AnnData's `var` index: one feature per gene, numeric as its X.
        #[arg(long)]
        var: bool,
        #[command(flatten)]
        na: NaArgs,
        /// Save the features (otherwise only show them).
        #[arg(long)]
        save: bool,
    },
    /// Change a feature: its name, dtype, unit, synonyms or description.
    Update {
        /// The feature (name or uid).
        name: String,
        /// The new name.
        #[arg(long = "name", value_name = "NEW_NAME")]
        new_name: Option<String>,
        /// The new dtype.
        #[arg(long)]
        dtype: Option<String>,
        /// The new unit ('' removes it).
        #[arg(long)]
        unit: Option<String>,
        /// The new synonyms, separated by | ('' removes them).
        #[arg(long)]
        synonyms: Option<String>,
        /// The new description ('' removes it).
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Create the branch labels a cat[ULabel[NAME]] dtype names when they do not exist.
        #[arg(long)]
        create_branch: bool,
        #[command(flatten)]
        constraints: Constraints,
    },
    /// Manage a feature's synonyms.
    #[command(subcommand)]
    Synonym(SynonymCommand),
    /// List features as a table.
    List(ListArgs),
    /// Search features by name and synonyms.
    Search {
        /// The text to look for.
        text: String,
        /// Show at most N hits.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
    },
    /// Delete a feature (refused while it is in feature sets or linked to labels).
    Delete {
        /// The feature (name or uid).
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn lookups() {
        let l = parse_lookup("name__startswith=study").unwrap();
        assert_eq!(
            (l.field.as_str(), l.value.as_str()),
            ("name__startswith", "study")
        );
        let l = parse_lookup("name=a=b").unwrap();
        assert_eq!(l.value, "a=b");
        assert!(parse_lookup("name").is_err());
        assert!(parse_lookup("=x").is_err());
    }
}
