//! What each registry is made of, as data: its table, fields and relations. Queries are
//! compiled from this description, so a lookup path such as `parents__name` or
//! `feature_sets__features__name` works on every registry without code per registry.

/// The SQL type of a field, as the query compiler needs it to coerce values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// 64-bit integer (ids, sizes, counts).
    BigInt,
    /// 32-bit integer.
    Int,
    /// 16-bit integer (visibility).
    SmallInt,
    /// Text.
    Text,
    /// Boolean.
    Bool,
    /// UTC timestamp without zone.
    Timestamp,
    /// 64-bit floating point.
    Double,
}

/// A column of a registry.
#[derive(Debug)]
pub struct Field {
    /// Name as users write it (and as the column is called).
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
}

/// How a relation reaches its target registry.
#[derive(Debug)]
pub enum RelationKind {
    /// This registry's `column` holds the target's id.
    ForeignKey {
        /// The column on this registry.
        column: &'static str,
    },
    /// The target's `column` holds this registry's id.
    Reverse {
        /// The column on the target registry.
        column: &'static str,
    },
    /// A link table joins the two: `self_col` = this id, `other_col` = target id.
    ManyToMany {
        /// The link table.
        link: &'static str,
        /// The link column holding this registry's id.
        self_col: &'static str,
        /// The link column holding the target's id.
        other_col: &'static str,
    },
}

/// A named relation from one registry to another.
#[derive(Debug)]
pub struct Relation {
    /// The name used in lookups (`parents`, `created_by`, …).
    pub name: &'static str,
    /// The registry at the other end.
    pub target: &'static Registry,
    /// How the two are joined.
    pub kind: RelationKind,
}

/// Where a registry's records link labels (through features) and feature values.
#[derive(Debug, Clone, Copy)]
pub struct FeatureLinks {
    /// The column of both link tables holding the record's id.
    pub owner_col: &'static str,
    /// The label link table (`ulabel_id`, `feature_id`).
    pub labels: &'static str,
    /// The value link table (`feature_value_id`).
    pub values: &'static str,
}

/// A registry: a table users query by field names and relation paths.
#[derive(Debug)]
pub struct Registry {
    /// The registry's name, as in the tutorial (`ULabel`, `Feature`, …).
    pub name: &'static str,
    /// The table behind it.
    pub table: &'static str,
    /// Its columns.
    pub fields: &'static [Field],
    /// Its relations.
    pub relations: &'static [Relation],
    /// Whether records carry `visibility` (1 = default, 0 = hidden, -1 = trash) and queries
    /// hide non-default records unless asked.
    pub has_visibility: bool,
}

impl Registry {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The relation called `name`.
    pub fn relation(&self, name: &str) -> Option<&'static Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The link tables of a registry whose records carry feature values and labels
    /// (Artifact, Collection).
    pub fn feature_links(&self) -> Option<FeatureLinks> {
        match self.table {
            "lamella_artifacts" => Some(FeatureLinks {
                owner_col: "artifact_id",
                labels: "lamella_artifact_ulabels",
                values: "lamella_artifact_feature_values",
            }),
            "lamella_collections" => Some(FeatureLinks {
                owner_col: "collection_id",
                labels: "lamella_collection_ulabels",
                values: "lamella_collection_feature_values",
            }),
            _ => None,
        }
    }

    /// Every name a lookup may start with, fields first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields
            .iter()
            .map(|f| f.name)
            .chain(self.relations.iter().map(|r| r.name))
    }
}

use FieldType::*;

macro_rules! fields {
    ($($name:literal : $ty:ident),* $(,)?) => {
        &[$(Field { name: $name, ty: $ty }),*]
    };
}

const fn fk(name: &'static str, column: &'static str, target: &'static Registry) -> Relation {
    Relation {
        name,
        target,
        kind: RelationKind::ForeignKey { column },
    }
}

const fn rev(name: &'static str, target: &'static Registry, column: &'static str) -> Relation {
    Relation {
        name,
        target,
        kind: RelationKind::Reverse { column },
    }
}

const fn m2m(
    name: &'static str,
    target: &'static Registry,
    link: &'static str,
    self_col: &'static str,
    other_col: &'static str,
) -> Relation {
    Relation {
        name,
        target,
        kind: RelationKind::ManyToMany {
            link,
            self_col,
            other_col,
        },
    }
}

/// Users.
pub static USER: Registry = Registry {
    name: "User",
    table: "lamella_users",
    fields: fields!("id": BigInt, "uid": Text, "handle": Text, "name": Text, "created_at": Timestamp, "updated_at": Timestamp),
    relations: &[],
    has_visibility: false,
};

/// Storage locations.
pub static STORAGE: Registry = Registry {
    name: "Storage",
    table: "lamella_storages",
    fields: fields!("id": BigInt, "uid": Text, "root": Text, "type": Text, "region": Text, "description": Text,
        "created_at": Timestamp, "updated_at": Timestamp, "created_by_id": BigInt, "run_id": BigInt,
        "instance_uid": Text),
    relations: &[
        fk("created_by", "created_by_id", &USER),
        fk("run", "run_id", &RUN),
        rev("artifacts", &ARTIFACT, "storage_id"),
    ],
    has_visibility: false,
};

/// Transforms (pipelines, notebooks, scripts, functions, uploads).
pub static TRANSFORM: Registry = Registry {
    name: "Transform",
    table: "lamella_transforms",
    fields: fields!("id": BigInt, "uid": Text, "name": Text, "key": Text, "description": Text, "type": Text,
        "version": Text, "is_latest": Bool, "reference": Text, "reference_type": Text,
        "created_at": Timestamp, "updated_at": Timestamp, "created_by_id": BigInt),
    relations: &[
        fk("created_by", "created_by_id", &USER),
        m2m(
            "parents",
            &TRANSFORM,
            "lamella_transform_parents",
            "child_id",
            "parent_id",
        ),
        m2m(
            "children",
            &TRANSFORM,
            "lamella_transform_parents",
            "parent_id",
            "child_id",
        ),
        rev("runs", &RUN, "transform_id"),
        rev("artifacts", &ARTIFACT, "transform_id"),
        rev("collections", &COLLECTION, "transform_id"),
    ],
    has_visibility: false,
};

/// Runs of transforms.
pub static RUN: Registry = Registry {
    name: "Run",
    table: "lamella_runs",
    fields: fields!("id": BigInt, "uid": Text, "transform_id": BigInt, "started_at": Timestamp,
        "finished_at": Timestamp, "is_consecutive": Bool, "reference": Text, "reference_type": Text,
        "created_at": Timestamp, "created_by_id": BigInt, "environment": Text),
    relations: &[
        fk("transform", "transform_id", &TRANSFORM),
        fk("created_by", "created_by_id", &USER),
        m2m(
            "input_artifacts",
            &ARTIFACT,
            "lamella_run_input_artifacts",
            "run_id",
            "artifact_id",
        ),
        m2m(
            "input_collections",
            &COLLECTION,
            "lamella_run_input_collections",
            "run_id",
            "collection_id",
        ),
        rev("output_artifacts", &ARTIFACT, "run_id"),
        rev("output_collections", &COLLECTION, "run_id"),
    ],
    has_visibility: false,
};

/// Universal labels, a DAG through `parents` / `children`.
pub static ULABEL: Registry = Registry {
    name: "ULabel",
    table: "lamella_ulabels",
    fields: fields!("id": BigInt, "uid": Text, "name": Text, "description": Text, "reference": Text,
        "reference_type": Text, "created_at": Timestamp, "updated_at": Timestamp,
        "created_by_id": BigInt, "run_id": BigInt, "synonyms": Text),
    relations: &[
        fk("created_by", "created_by_id", &USER),
        fk("run", "run_id", &RUN),
        m2m(
            "parents",
            &ULABEL,
            "lamella_ulabel_parents",
            "child_id",
            "parent_id",
        ),
        m2m(
            "children",
            &ULABEL,
            "lamella_ulabel_parents",
            "parent_id",
            "child_id",
        ),
        m2m(
            "artifacts",
            &ARTIFACT,
            "lamella_artifact_ulabels",
            "ulabel_id",
            "artifact_id",
        ),
        m2m(
            "collections",
            &COLLECTION,
            "lamella_collection_ulabels",
            "ulabel_id",
            "collection_id",
        ),
    ],
    has_visibility: false,
};

/// Features: measurement dimensions with a dtype and unit.
pub static FEATURE: Registry = Registry {
    name: "Feature",
    table: "lamella_features",
    fields: fields!("id": BigInt, "uid": Text, "name": Text, "dtype": Text, "unit": Text, "description": Text,
        "synonyms": Text, "created_at": Timestamp, "updated_at": Timestamp, "created_by_id": BigInt,
        "run_id": BigInt, "min_value": Double, "max_value": Double, "pattern": Text, "nullable": Bool),
    relations: &[
        fk("created_by", "created_by_id", &USER),
        fk("run", "run_id", &RUN),
        m2m(
            "feature_sets",
            &FEATURE_SET,
            "lamella_feature_set_features",
            "feature_id",
            "feature_set_id",
        ),
    ],
    has_visibility: false,
};

/// Feature sets, deduplicated by the hash of their members.
pub static FEATURE_SET: Registry = Registry {
    name: "FeatureSet",
    table: "lamella_feature_sets",
    fields: fields!("id": BigInt, "uid": Text, "name": Text, "n": Int, "dtype": Text, "registry": Text,
        "hash": Text, "created_at": Timestamp, "updated_at": Timestamp, "created_by_id": BigInt,
        "run_id": BigInt),
    relations: &[
        fk("created_by", "created_by_id", &USER),
        fk("run", "run_id", &RUN),
        m2m(
            "features",
            &FEATURE,
            "lamella_feature_set_features",
            "feature_set_id",
            "feature_id",
        ),
        m2m(
            "artifacts",
            &ARTIFACT,
            "lamella_artifact_feature_sets",
            "feature_set_id",
            "artifact_id",
        ),
        m2m(
            "collections",
            &COLLECTION,
            "lamella_collection_feature_sets",
            "feature_set_id",
            "collection_id",
        ),
    ],
    has_visibility: false,
};

/// Artifacts: files, folders and tables.
pub static ARTIFACT: Registry = Registry {
    name: "Artifact",
    table: "lamella_artifacts",
    fields: fields!("id": BigInt, "uid": Text, "storage_id": BigInt, "key": Text, "suffix": Text,
        "accessor": Text, "description": Text, "size": BigInt, "hash": Text, "hash_type": Text,
        "n_objects": BigInt, "n_observations": BigInt, "version": Text, "is_latest": Bool,
        "visibility": SmallInt, "key_is_virtual": Bool, "transform_id": BigInt, "run_id": BigInt,
        "created_at": Timestamp, "updated_at": Timestamp, "created_by_id": BigInt),
    relations: &[
        fk("storage", "storage_id", &STORAGE),
        fk("created_by", "created_by_id", &USER),
        fk("transform", "transform_id", &TRANSFORM),
        fk("run", "run_id", &RUN),
        m2m(
            "ulabels",
            &ULABEL,
            "lamella_artifact_ulabels",
            "artifact_id",
            "ulabel_id",
        ),
        m2m(
            "feature_sets",
            &FEATURE_SET,
            "lamella_artifact_feature_sets",
            "artifact_id",
            "feature_set_id",
        ),
        m2m(
            "collections",
            &COLLECTION,
            "lamella_collection_artifacts",
            "artifact_id",
            "collection_id",
        ),
        m2m(
            "input_of_runs",
            &RUN,
            "lamella_run_input_artifacts",
            "artifact_id",
            "run_id",
        ),
    ],
    has_visibility: true,
};

/// Collections of artifacts.
pub static COLLECTION: Registry = Registry {
    name: "Collection",
    table: "lamella_collections",
    fields: fields!("id": BigInt, "uid": Text, "name": Text, "description": Text, "hash": Text,
        "version": Text, "is_latest": Bool, "visibility": SmallInt, "reference": Text,
        "reference_type": Text, "transform_id": BigInt, "run_id": BigInt, "created_at": Timestamp,
        "updated_at": Timestamp, "created_by_id": BigInt),
    relations: &[
        fk("created_by", "created_by_id", &USER),
        fk("transform", "transform_id", &TRANSFORM),
        fk("run", "run_id", &RUN),
        m2m(
            "artifacts",
            &ARTIFACT,
            "lamella_collection_artifacts",
            "collection_id",
            "artifact_id",
        ),
        m2m(
            "ulabels",
            &ULABEL,
            "lamella_collection_ulabels",
            "collection_id",
            "ulabel_id",
        ),
        m2m(
            "feature_sets",
            &FEATURE_SET,
            "lamella_collection_feature_sets",
            "collection_id",
            "feature_set_id",
        ),
        m2m(
            "input_of_runs",
            &RUN,
            "lamella_run_input_collections",
            "collection_id",
            "run_id",
        ),
    ],
    has_visibility: true,
};

/// Every registry, in dependency order.
pub static ALL: [&Registry; 9] = [
    &USER,
    &STORAGE,
    &TRANSFORM,
    &RUN,
    &ULABEL,
    &FEATURE,
    &FEATURE_SET,
    &ARTIFACT,
    &COLLECTION,
];

/// Every table, in creation order (drop in reverse).
pub static ALL_TABLES: [&str; 30] = [
    "lamella_users",
    "lamella_instance",
    "lamella_transforms",
    "lamella_transform_parents",
    "lamella_runs",
    "lamella_storages",
    "lamella_ulabels",
    "lamella_ulabel_parents",
    "lamella_features",
    "lamella_feature_sets",
    "lamella_feature_set_features",
    "lamella_artifacts",
    "lamella_artifact_ulabels",
    "lamella_artifact_feature_sets",
    "lamella_collections",
    "lamella_collection_artifacts",
    "lamella_collection_ulabels",
    "lamella_collection_feature_sets",
    "lamella_run_input_artifacts",
    "lamella_run_input_collections",
    "lamella_name_keys",
    "lamella_name_index",
    "lamella_feature_values",
    "lamella_artifact_feature_values",
    "lamella_collection_feature_values",
    "lamella_schemas",
    "lamella_schema_features",
    "lamella_artifact_schemas",
    "lamella_artifact_anndata",
    "lamella_feature_set_names",
];
