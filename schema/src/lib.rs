//! `lamella-schema` is Lamella's ORM layer: the registries of a Lamella instance (users,
//! storages, transforms, runs, labels, features, feature sets, artifacts, collections and their
//! links) as diesel models, with migrations embedded for SQLite and PostgreSQL, uid generation,
//! the feature dtype grammar and LaminDB-style query lookups.
//!
//! It knows nothing of files or object stores; `lamella-core` composes it with storage.
//!
//! ```
//! use lamella_schema::{Db, DbUrl, QuerySpec, ULabel, Store, base62_uid, now, registry};
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(&DbUrl::Sqlite(dir.path().join("lamella.db")))?;
//! let n = db.transaction(|conn| -> lamella_schema::Result<i64> {
//!     let t = now();
//!     let mut user = vec![lamella_schema::User {
//!         id: None, uid: base62_uid(8), handle: "alice".into(), name: None,
//!         created_at: t, updated_at: t,
//!     }];
//!     lamella_schema::User::insert_all(conn, &mut user)?;
//!     let mut labels: Vec<ULabel> = ["setosa", "versicolor"].iter().map(|name| ULabel {
//!         id: None, uid: base62_uid(8), name: name.to_string(), description: None,
//!         reference: None, reference_type: None, created_at: t, updated_at: t,
//!         created_by_id: user[0].id.unwrap(), run_id: None, synonyms: None,
//!     }).collect();
//!     ULabel::insert_all(conn, &mut labels)?;
//!     QuerySpec::new(&registry::ULABEL).filter("name__startswith", "set").count(conn)
//! })?;
//! assert_eq!(n, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod anndata;
mod db;
mod dtype;
mod error;
pub mod lamindb;
pub mod links;
mod models;
mod ops;
mod query;
pub mod registry;
pub mod schemas;
mod tables;
mod tls;
mod types;
mod uid;
pub mod values;

pub use db::{Backend, Conn, Db, DbUrl, redact, url_password};
pub use dtype::{Dtype, DtypeError};
pub use error::{Error, Result};
pub use models::{
    Artifact, Collection, Feature, FeatureSet, InstanceRow, Record, Run, Storage, TRANSFORM_KINDS,
    Transform, ULabel, User, join_synonyms, now, split_synonyms,
};
pub use ops::{
    DbColumn, Edge, FeatureKey, Hierarchy, Opening, Store, analyze, analyze_grown, ancestor_ids,
    clear_edges, counts, delete_by_id, delete_edges, descendant_ids, feature_keys, feature_names,
    feature_set_by_names, feature_set_members, ids_by_name, insert_edges,
    insert_feature_set_members, insert_feature_set_members_many, insert_instance, instance_row,
    largest_id, links_to, load_by_ids, load_where_in, move_instance_root, name_index_clear,
    name_index_set_version, name_index_version, name_keys_delete, name_keys_insert,
    name_keys_probe, names, reachable_edges, remember_set_names, require_id, set_family_key,
    set_family_name, set_latest, table_columns,
};
pub use query::{Annotations, LookupFeature, Op, QuerySpec, Value, parse_timestamp};
pub use types::{HashType, StorageKind, UidError, VERSION_LEN, VersionedUid, Visibility};
pub use uid::{BASE62, base62_uid, increment_base62, is_base62, len as uid_len};
