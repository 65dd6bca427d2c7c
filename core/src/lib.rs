//! `lamella-core` is Lamella's public API: it composes the registries of `lamella-schema`, the
//! storage backends of `lamella-storage` and the graphs of `lamella-lineage` into instances
//! with labels, features, artifacts, annotation, validation and tracking — named like LaminDB's
//! tutorial.
//!
//! ```
//! use lamella_core::{Instance, ULabel, Feature};
//!
//! let dir = tempfile::tempdir()?;
//! # lamella_core::set_settings_home(dir.path().join("home"));
//! let ln = Instance::init(dir.path().join("mydata"), None)?;          // SQLite + local folder
//! let study0 = ln.ulabels().create(ULabel::new("study0").description("My initial study")).save()?;
//! let species = ln.ulabels().save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?;
//! let is_species = ln.ulabels().create(ULabel::new("is_species")).save()?;
//! ln.ulabels().children(&is_species)?.set(&species.records)?;
//! let f = ln.features().create(Feature::new("iris_species_name", "cat".parse()?)).save()?;
//! assert_eq!(ln.ulabels().filter("parents__name", "is_species").count()?, 3);
//! assert_eq!(f.dtype, "cat");
//! assert!(!study0.existed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Synchronous, and shareable across threads
//!
//! Every call blocks until it is done (database statements, hashing, uploads; an internal
//! runtime drives the object stores). An [`Instance`] and every handle made from it
//! (registries, drafts, [`Query`], [`Curator`], [`Concat`]) own a cheap clone of the instance:
//! they are `Send + Sync + 'static`, so they can be stored and moved to other threads. From
//! async code, run calls on a blocking thread:
//!
//! ```
//! # use lamella_core::Instance;
//! # let dir = tempfile::tempdir()?;
//! # lamella_core::set_settings_home(dir.path().join("home"));
//! # let ln = Instance::init(dir.path().join("mydata"), None)?;
//! let labels = ln.ulabels();
//! // in async code: tokio::task::spawn_blocking(move || labels.query().count()).await??
//! let n = std::thread::spawn(move || labels.query().count()).join().expect("thread")?;
//! assert_eq!(n, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Errors are one [`Error`] enum whose kinds carry fields ([`Error::kind`] names them);
//! messages say what to do in the library's terms and name no command-line flag.

mod anndata;
mod annotate;
mod artifact;
mod collection;
mod convert;
pub mod datasets;
mod describe;
mod error;
mod failpoint;
mod import;
mod instance;
mod marker;
mod names;
mod progress;
mod query;
mod registry;
mod schemas;
mod settings;
mod table;
mod track;
mod validate;
mod versions;
mod view;

pub use anndata::{AnnDataInfo, AxisColumn, MatrixSummary};
pub use annotate::{
    FeatureSets, FeatureValue, FeaturesOf, Labels, LabelsAdded, ValueMap, ValuesAdded, infer_dtype,
};
pub use artifact::{
    ArtifactDraft, Artifacts, ChangedObject, Deleted, Deletion, DoctorMode, DoctorOptions,
    DoctorReport, DuplicatePolicy, Edit, Loaded, Preview, Restored, SaveMany, SavedEach, UID_LEN,
    Updated, Verified, Verify, check_key, object_key, skipped_link_notes, suffix_of,
};
pub use collection::{
    CategoryCheck, CollectionBatches, CollectionDraft, Collections, Concat, Existing, Join,
    MemberColumn, MemberLabels, MemberPanel, Plan, PlannedColumn, Promotion, UnitDisagreement,
    VarPanels,
};
pub use describe::{
    CollectionDescription, DescribedFeature, Description, FeaturesView, Provenance, SlotFeatures,
};
pub use error::{Error, NoInstanceReason, Result};
pub use import::{ImportCount, ImportOptions, ImportReport, MissingObject, OnMissing};
pub use instance::{
    Instance, InstanceBuilder, InstanceDeletion, InstanceInfo, LAMELLA_DIR, current_handle,
};
pub use lamella_storage::{AnnData, Axis, CsvOptions, Location};
pub use names::{MAX_NAME_CHARS, MatchKind, shown as shown_text, unicode_problem};
pub use progress::{Progress, ProgressFn, ProgressTask, ProgressUnit};
pub use query::{Pages, Query, RecordWithFeatures, WithFeatures, show_value};
pub use registry::{
    Features, Hit, LabelDraft, NameLookup, Named, NamedDraft, Registry, Relatives, Saved, SavedAll,
    SavedNames, ULabels,
};
pub use schemas::{Schema, SchemaDraft, SchemaFeature, SchemaRef, Schemas};
pub use settings::{
    InstanceEntry, Settings, home as settings_home, known_secrets, set_home as set_settings_home,
};
pub use table::{
    append_feature_columns, read_table, read_table_with, records_to_batch, records_to_batch_of,
};
pub use track::{Direction, Lineage, LineageOf, Tracked, Transforms, ViewParents};
pub use validate::{
    AnnDataCurator, Code, Curator, DEFAULT_EXAMPLES, Fixes, Inspection, Issue, Offending, Report,
    Stage, Standardized, Suggestion, SuggestionKind, Unmatched, conversion_factor, same_unit,
};
pub use view::{REGISTRIES, RegistryView};

pub use arrow::{
    self,
    record_batch::RecordBatch,
    util::display::{ArrayFormatter, FormatOptions},
};
pub use lamella_lineage::{
    Error as LineageError, Format, Graph, MAX_SVG_NODES, render, tree_lines, write_to,
};
pub use lamella_schema::{
    Artifact, Backend, Collection, Dtype, DtypeError, Feature, FeatureSet, HashType, Record, Run,
    Storage, StorageKind, Transform, ULabel, User, Value, VersionedUid, Visibility, split_synonyms,
};
pub use lamella_schema::{Error as SchemaError, UidError};
pub use lamella_storage::Error as StorageError;
pub use lamella_storage::TableHead;
pub use lamella_storage::{
    FolderWalk, WalkedFile, is_anndata_file, is_h5ad_file, is_table_file, write_anndata, write_csv,
    write_parquet,
};

/// The README's Rust example runs as a doctest (and is `examples/readme.rs`).
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
