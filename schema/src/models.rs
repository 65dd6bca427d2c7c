//! The records of every registry, as diesel models.
//!
//! One struct per registry serves for reading (`QueryableByName`), inserting (`Insertable`, the
//! database assigns `id`) and updating (`AsChangeset`). `id` is `None` until the record is saved.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::dtype::Dtype;
use crate::registry::{self, Registry};
use crate::tables::*;
use crate::types::{HashType, StorageKind, Visibility};

mod sealed {
    /// What the database layer needs of a record; not nameable outside this crate, so
    /// `Record` is implemented only here and its bounds stay out of the public API.
    pub trait Sealed:
        diesel::QueryableByName<diesel::sqlite::Sqlite> + diesel::QueryableByName<diesel::pg::Pg>
    {
    }
    impl<T> Sealed for T where
        T: diesel::QueryableByName<diesel::sqlite::Sqlite>
            + diesel::QueryableByName<diesel::pg::Pg>
    {
    }
}

/// A record of one registry (sealed: implemented by Lamella's record types only).
pub trait Record: sealed::Sealed + Clone + Send + std::fmt::Debug + 'static {
    /// The registry this record belongs to.
    const REGISTRY: &'static Registry;
    /// The database id, `None` before the record is saved.
    fn id(&self) -> Option<i64>;
    /// The record's uid.
    fn uid(&self) -> &str;
    /// The record's human name, for registries that have one.
    fn name(&self) -> Option<&str> {
        None
    }
}

macro_rules! record {
    ($ty:ident, $reg:expr $(, name = $name:ident)?) => {
        impl Record for $ty {
            const REGISTRY: &'static Registry = &$reg;
            fn id(&self) -> Option<i64> {
                self.id
            }
            fn uid(&self) -> &str {
                &self.uid
            }
            $(fn name(&self) -> Option<&str> {
                Some(&self.$name)
            })?
        }
    };
}

/// Timestamps as RFC 3339 in UTC with a `Z` and microseconds
/// (`2025-01-02T03:04:05.123456Z`), the one form every JSON output uses.
pub mod utc {
    use chrono::{NaiveDateTime, SecondsFormat};
    use serde::Serializer;

    /// Writes `t` (UTC) as RFC 3339 with `Z`.
    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    /// The same for optional timestamps (`null` when absent).
    pub mod option {
        use chrono::NaiveDateTime;
        use serde::Serializer;

        /// Writes `Some(t)` as RFC 3339 with `Z`, `None` as null.
        pub fn serialize<S: Serializer>(
            t: &Option<NaiveDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }
    }
}

/// Writes JSON text as the JSON value it holds (text that is not JSON as a string).
fn json_text<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    match text
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => s.serialize_none(),
        Some(Ok(v)) => v.serialize(s),
        Some(Err(_)) => text.serialize(s),
    }
}

/// A person or bot that creates records.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    QueryableByName,
    Queryable,
    Selectable,
    Insertable,
    AsChangeset,
)]
#[diesel(table_name = lamella_users, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct User {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 8-character uid.
    pub uid: String,
    /// Unique handle (login name).
    pub handle: String,
    /// Full name.
    pub name: Option<String>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
}
record!(User, registry::USER, name = handle);

/// A storage location: a local folder or a cloud bucket prefix.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    QueryableByName,
    Queryable,
    Selectable,
    Insertable,
    AsChangeset,
)]
#[diesel(table_name = lamella_storages, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Storage {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 12-character uid.
    pub uid: String,
    /// Root: an absolute path or `s3://bucket/prefix`.
    pub root: String,
    /// A local folder or an S3 bucket (`local`, `s3` in the database).
    #[serde(rename = "type")]
    #[diesel(column_name = type_)]
    pub kind: StorageKind,
    /// Cloud region.
    pub region: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
    /// Run that registered it.
    pub run_id: Option<i64>,
    /// The instance that manages (writes to) this root; another instance only reads it.
    pub instance_uid: Option<String>,
}
record!(Storage, registry::STORAGE, name = root);

/// Code that produces data: a pipeline, notebook, script, function or upload.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = lamella_transforms, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Transform {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 16-character uid (12 stem + 4 version suffix).
    pub uid: String,
    /// Name.
    pub name: String,
    /// Key (e.g. a file name).
    pub key: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `pipeline`, `notebook`, `script`, `function` or `upload`.
    #[serde(rename = "type")]
    #[diesel(column_name = type_)]
    pub kind: String,
    /// Version label.
    pub version: Option<String>,
    /// Whether this is the latest version of its family.
    pub is_latest: bool,
    /// External reference (URL, commit, …).
    pub reference: Option<String>,
    /// What `reference` is.
    pub reference_type: Option<String>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
}
record!(Transform, registry::TRANSFORM, name = name);

/// One execution of a transform.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = lamella_runs, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Run {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 20-character uid.
    pub uid: String,
    /// The transform that ran.
    pub transform_id: i64,
    /// Start (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub started_at: NaiveDateTime,
    /// End (UTC), when finished.
    #[serde(serialize_with = "utc::option::serialize")]
    pub finished_at: Option<NaiveDateTime>,
    /// Whether the code ran top to bottom.
    pub is_consecutive: Option<bool>,
    /// External reference.
    pub reference: Option<String>,
    /// What `reference` is.
    pub reference_type: Option<String>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
    /// What it ran in (Lamella's version, the OS, the command line), as JSON text (a JSON
    /// object in serialized records).
    #[serde(serialize_with = "json_text")]
    pub environment: Option<String>,
}
record!(Run, registry::RUN);

/// A universal label: a category such as a species, a study or a split.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = lamella_ulabels, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ULabel {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 8-character uid.
    pub uid: String,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// External reference (an ontology id, a URL, …).
    pub reference: Option<String>,
    /// What `reference` is.
    pub reference_type: Option<String>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
    /// Run that created it.
    pub run_id: Option<i64>,
    /// Other names, `|`-separated (validation maps them to the name).
    pub synonyms: Option<String>,
}
record!(ULabel, registry::ULABEL, name = name);

/// A feature: a measurement dimension with a dtype and an optional unit.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = lamella_features, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Feature {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 12-character uid.
    pub uid: String,
    /// Unique name.
    pub name: String,
    /// The data type of its values.
    pub dtype: Dtype,
    /// Unit (e.g. `m`).
    pub unit: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Other names, `|`-separated.
    pub synonyms: Option<String>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
    /// Run that created it.
    pub run_id: Option<i64>,
    /// Smallest value allowed (numeric features), checked by validation.
    pub min_value: Option<f64>,
    /// Largest value allowed (numeric features), checked by validation.
    pub max_value: Option<f64>,
    /// A regular expression every value must match in full (text and categorical features).
    pub pattern: Option<String>,
    /// Whether values may be missing (validation reports nulls when not).
    pub nullable: bool,
}
record!(Feature, registry::FEATURE, name = name);

/// A set of features, deduplicated by the hash of its members' uids.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = lamella_feature_sets, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct FeatureSet {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 20-character uid.
    pub uid: String,
    /// Optional name.
    pub name: Option<String>,
    /// Number of members.
    pub n: i32,
    /// Common dtype of the members, if any.
    pub dtype: Option<Dtype>,
    /// Registry of the members (`Feature`).
    pub registry: String,
    /// Hash of the member uids (dedup key).
    pub hash: String,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
    /// Run that created it.
    pub run_id: Option<i64>,
}
record!(FeatureSet, registry::FEATURE_SET);

/// A file, folder or table with its content hash and provenance.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = lamella_artifacts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Artifact {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 20-character uid (16 stem + 4 version suffix).
    pub uid: String,
    /// Storage holding the object.
    pub storage_id: i64,
    /// Path under the storage root (`None` for virtual keys without a user key).
    pub key: Option<String>,
    /// File suffix (`.parquet`, `` for folders).
    pub suffix: String,
    /// How to load it (`DataFrame`, …).
    pub accessor: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Size in bytes.
    pub size: Option<i64>,
    /// Content hash.
    pub hash: Option<String>,
    /// How the content was hashed.
    pub hash_type: Option<HashType>,
    /// Number of files (folders).
    pub n_objects: Option<i64>,
    /// Number of rows (tables).
    pub n_observations: Option<i64>,
    /// Version label.
    pub version: Option<String>,
    /// Whether this is the latest version of its family.
    pub is_latest: bool,
    /// Shown, hidden or in the trash (`1`, `0`, `-1` in the database).
    pub visibility: Visibility,
    /// Whether the object lives under `.lamella/<uid><suffix>`.
    pub key_is_virtual: bool,
    /// Transform that produced it.
    pub transform_id: Option<i64>,
    /// Run that produced it.
    pub run_id: Option<i64>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
}
record!(Artifact, registry::ARTIFACT);

/// An ordered collection of artifacts.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = lamella_collections, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Collection {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 20-character uid (16 stem + 4 version suffix).
    pub uid: String,
    /// Name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Hash over the members' hashes.
    pub hash: Option<String>,
    /// Version label.
    pub version: Option<String>,
    /// Whether this is the latest version of its family.
    pub is_latest: bool,
    /// Shown, hidden or in the trash (`1`, `0`, `-1` in the database).
    pub visibility: Visibility,
    /// External reference.
    pub reference: Option<String>,
    /// What `reference` is.
    pub reference_type: Option<String>,
    /// Transform that produced it.
    pub transform_id: Option<i64>,
    /// Run that produced it.
    pub run_id: Option<i64>,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Last update (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: NaiveDateTime,
    /// Creator.
    pub created_by_id: i64,
}
record!(Collection, registry::COLLECTION, name = name);

/// The row describing the instance itself.
#[derive(
    Debug, Clone, PartialEq, Serialize, QueryableByName, Queryable, Selectable, Insertable,
)]
#[diesel(table_name = lamella_instance)]
pub struct InstanceRow {
    /// Database id.
    #[diesel(skip_insertion, deserialize_as = i64)]
    pub id: Option<i64>,
    /// 12-character instance uid.
    pub uid: String,
    /// The default storage root.
    pub storage_root: String,
    /// The Lamella version that created the instance.
    pub lamella_version: String,
    /// Creation time (UTC).
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: NaiveDateTime,
}

/// The current UTC time, truncated to microseconds (what both databases store).
pub fn now() -> NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

#[allow(unused)]
fn _assert_records() {
    fn is_record<T: Record>() {}
    is_record::<User>();
    is_record::<Storage>();
    is_record::<Transform>();
    is_record::<Run>();
    is_record::<ULabel>();
    is_record::<Feature>();
    is_record::<FeatureSet>();
    is_record::<Artifact>();
    is_record::<Collection>();
}

fn placeholder_time() -> NaiveDateTime {
    NaiveDateTime::default()
}

/// The kinds of transforms.
pub const TRANSFORM_KINDS: [&str; 5] = ["pipeline", "notebook", "script", "function", "upload"];

impl Transform {
    /// A new, unsaved transform of kind `pipeline` with a fresh uid (stem + `0000`).
    ///
    /// ```
    /// let t = lamella_schema::Transform::new("Petal & sepal regressor").kind("pipeline");
    /// assert_eq!(t.uid.len(), 16);
    /// assert!(t.uid.ends_with("0000"));
    /// ```
    pub fn new(name: impl Into<String>) -> Transform {
        Transform {
            id: None,
            uid: format!("{}0000", crate::uid::base62_uid(12)),
            name: name.into(),
            key: None,
            description: None,
            kind: "pipeline".into(),
            version: None,
            is_latest: true,
            reference: None,
            reference_type: None,
            created_at: placeholder_time(),
            updated_at: placeholder_time(),
            created_by_id: 0,
        }
    }

    /// Sets the kind: `pipeline`, `notebook`, `script`, `function` or `upload`.
    pub fn kind(mut self, kind: impl Into<String>) -> Transform {
        self.kind = kind.into();
        self
    }

    /// Sets the version label (a new version keeps the family's uid stem).
    pub fn version(mut self, version: impl Into<String>) -> Transform {
        self.version = Some(version.into());
        self
    }

    /// Sets the key (e.g. the script's file name); transforms with a key are found by it.
    pub fn key(mut self, key: impl Into<String>) -> Transform {
        self.key = Some(key.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Transform {
        self.description = Some(description.into());
        self
    }

    /// Sets an external reference (a URL, a commit) and what kind of reference it is.
    pub fn reference(mut self, reference: impl Into<String>, kind: impl Into<String>) -> Transform {
        self.reference = Some(reference.into());
        self.reference_type = Some(kind.into());
        self
    }
}

impl ULabel {
    /// A new, unsaved label with a fresh uid. Timestamps and creator are set when it is saved.
    ///
    /// ```
    /// let l = lamella_schema::ULabel::new("setosa").description("Iris setosa");
    /// assert_eq!(l.uid.len(), 8);
    /// assert!(l.id.is_none());
    /// ```
    pub fn new(name: impl Into<String>) -> ULabel {
        ULabel {
            id: None,
            uid: crate::uid::base62_uid(crate::uid::len::ULABEL),
            name: name.into(),
            description: None,
            reference: None,
            reference_type: None,
            created_at: placeholder_time(),
            updated_at: placeholder_time(),
            created_by_id: 0,
            run_id: None,
            synonyms: None,
        }
    }

    /// Sets the synonyms (joined with `|`).
    pub fn synonyms<S: AsRef<str>>(mut self, synonyms: impl IntoIterator<Item = S>) -> ULabel {
        self.synonyms = join_synonyms(synonyms);
        self
    }

    /// The synonyms as a list.
    pub fn synonym_list(&self) -> Vec<&str> {
        split_synonyms(self.synonyms.as_deref())
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> ULabel {
        self.description = Some(description.into());
        self
    }

    /// Sets an external reference and what kind of reference it is.
    pub fn reference(mut self, reference: impl Into<String>, kind: impl Into<String>) -> ULabel {
        self.reference = Some(reference.into());
        self.reference_type = Some(kind.into());
        self
    }
}

impl Feature {
    /// A new, unsaved feature with a fresh uid.
    ///
    /// ```
    /// use lamella_schema::{Dtype, Feature};
    /// let f = Feature::new("sepal_length", Dtype::Float).unit("m");
    /// assert_eq!(f.unit.as_deref(), Some("m"));
    /// let species = Feature::new("iris_species_name", "cat".parse()?);
    /// assert_eq!(species.dtype, Dtype::Cat(vec![]));
    /// # Ok::<(), lamella_schema::DtypeError>(())
    /// ```
    pub fn new(name: impl Into<String>, dtype: Dtype) -> Feature {
        Feature {
            id: None,
            uid: crate::uid::base62_uid(crate::uid::len::FEATURE),
            name: name.into(),
            dtype,
            unit: None,
            description: None,
            synonyms: None,
            created_at: placeholder_time(),
            updated_at: placeholder_time(),
            created_by_id: 0,
            run_id: None,
            min_value: None,
            max_value: None,
            pattern: None,
            nullable: true,
        }
    }

    /// Sets the unit (e.g. `m`).
    pub fn unit(mut self, unit: impl Into<String>) -> Feature {
        self.unit = Some(unit.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Feature {
        self.description = Some(description.into());
        self
    }

    /// Sets the synonyms (joined with `|`).
    pub fn synonyms<S: AsRef<str>>(mut self, synonyms: impl IntoIterator<Item = S>) -> Feature {
        self.synonyms = join_synonyms(synonyms);
        self
    }

    /// The synonyms as a list.
    pub fn synonym_list(&self) -> Vec<&str> {
        split_synonyms(self.synonyms.as_deref())
    }

    /// Sets the smallest and largest values allowed (either may be `None`).
    pub fn range(mut self, min: Option<f64>, max: Option<f64>) -> Feature {
        self.min_value = min;
        self.max_value = max;
        self
    }

    /// Sets whether values may be missing.
    pub fn nullable(mut self, nullable: bool) -> Feature {
        self.nullable = nullable;
        self
    }

    /// Sets a regular expression that every value must match in full.
    pub fn pattern(mut self, pattern: impl Into<String>) -> Feature {
        self.pattern = Some(pattern.into());
        self
    }
}

/// Joins synonyms with `|`, trimmed, empty ones dropped; `None` when none is left.
pub fn join_synonyms<S: AsRef<str>>(synonyms: impl IntoIterator<Item = S>) -> Option<String> {
    let s: Vec<String> = synonyms
        .into_iter()
        .map(|s| s.as_ref().trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if s.is_empty() {
        None
    } else {
        Some(s.join("|"))
    }
}

/// Splits `|`-separated synonyms, trimmed, empty ones dropped.
pub fn split_synonyms(synonyms: Option<&str>) -> Vec<&str> {
    synonyms
        .map(|s| {
            s.split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}
