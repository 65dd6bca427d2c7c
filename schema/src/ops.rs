//! Statements on records: batch inserts, updates, deletes, links and hierarchy edges. Every
//! function takes the open connection of a transaction, so callers compose them atomically.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::{Conn, with_conn};
use crate::error::{Error, Result};
use crate::models::*;
use crate::query::{CountRow, QuerySpec, Sql, Value};
use crate::registry::{self, Registry};
use crate::tables::*;

/// Rows per INSERT statement: below SQLite's 32,766 bind limit for the widest table.
const INSERT_CHUNK: usize = 1000;
/// Values per `IN (…)` list.
const IN_CHUNK: usize = 5000;

/// Records that can be inserted in batches and updated.
pub trait Store: Record {
    /// Inserts all `records` (chunked, one statement per chunk) and sets their ids.
    fn insert_all(conn: &mut Conn<'_>, records: &mut [Self]) -> Result<()>;
    /// Writes every field of a saved record.
    fn update(conn: &mut Conn<'_>, record: &Self) -> Result<()>;
}

macro_rules! store {
    ($ty:ty, $table:ident) => {
        store!($ty, $table, |_c, _chunk| None);
    };
    // `$pg`: an optional bulk insert for PostgreSQL (`None`: the generic one).
    ($ty:ty, $table:ident, $pg:expr) => {
        impl Store for $ty {
            fn insert_all(conn: &mut Conn<'_>, records: &mut [Self]) -> Result<()> {
                for chunk in records.chunks_mut(INSERT_CHUNK) {
                    let pg_rows = match &mut conn.inner {
                        crate::db::ConnRef::Postgresql(c) => {
                            let pg: fn(
                                &mut diesel::pg::PgConnection,
                                &[Self],
                            )
                                -> Option<diesel::QueryResult<Vec<(i64, String)>>> = $pg;
                            pg(c, chunk).transpose()?
                        }
                        crate::db::ConnRef::Sqlite(_) => None,
                    };
                    // A whole chunk goes as an array: its statement has a static query id,
                    // so it is prepared once per connection instead of parsed per chunk.
                    let whole: Option<&[Self; INSERT_CHUNK]> = (&*chunk).try_into().ok();
                    let rows: Vec<(i64, String)> = match pg_rows {
                        Some(rows) => rows,
                        None => with_conn!(conn.inner, |c| match whole {
                            Some(whole) => diesel::insert_into($table::table)
                                .values(whole)
                                .returning(($table::id, $table::uid))
                                .get_results(c),
                            None => diesel::insert_into($table::table)
                                .values(&*chunk)
                                .returning(($table::id, $table::uid))
                                .get_results(c),
                        })?,
                    };
                    let ids: std::collections::HashMap<String, i64> =
                        rows.into_iter().map(|(id, uid)| (uid, id)).collect();
                    for r in chunk.iter_mut() {
                        r.id = ids.get(&r.uid).copied();
                        if r.id.is_none() {
                            return Err(Error::Value(format!(
                                "the database returned no id for {} '{}'",
                                <$ty as Record>::REGISTRY.name,
                                r.uid
                            )));
                        }
                    }
                }
                Ok(())
            }

            fn update(conn: &mut Conn<'_>, record: &Self) -> Result<()> {
                let id = require_id(record)?;
                let n = with_conn!(conn.inner, |c| {
                    diesel::update($table::table.filter($table::id.eq(id)))
                        .set(record)
                        .execute(c)
                })?;
                if n == 0 {
                    return Err(Error::Lookup(format!(
                        "no {} with id {id} to update (deleted meanwhile?)",
                        <$ty as Record>::REGISTRY.name
                    )));
                }
                Ok(())
            }
        }
    };
}

store!(User, lamella_users);
store!(Storage, lamella_storages);
store!(Transform, lamella_transforms);
store!(Run, lamella_runs);
store!(ULabel, lamella_ulabels, |c, chunk| (chunk.len() >= 16)
    .then(|| pg_insert_ulabels(c, chunk)));
store!(Feature, lamella_features);
store!(FeatureSet, lamella_feature_sets);
// A few rows go as `VALUES` (parsed and bound faster than the arrays' statement).
store!(Artifact, lamella_artifacts, |c, chunk| (chunk.len() >= 16)
    .then(|| pg_insert_artifacts(c, chunk)));
store!(Collection, lamella_collections);

/// The id of a saved record, or an error saying it must be saved first.
pub fn require_id<T: Record>(record: &T) -> Result<i64> {
    record.id().ok_or_else(|| {
        Error::Value(format!(
            "{} '{}' is not saved yet: save it before using it",
            T::REGISTRY.name,
            record.name().unwrap_or(record.uid())
        ))
    })
}

/// Loads the records whose `field` is one of `values` (chunked `IN` lists).
pub fn load_where_in<T: Record, S: AsRef<str>>(
    conn: &mut Conn<'_>,
    field: &str,
    values: &[S],
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for chunk in values.chunks(IN_CHUNK) {
        let spec = QuerySpec::new(T::REGISTRY).include_trash(true).filter(
            format!("{field}__in"),
            Value::List(chunk.iter().map(|v| Value::from(v.as_ref())).collect()),
        );
        out.extend(spec.load::<T>(conn)?);
    }
    Ok(out)
}

/// What a feature set needs of a feature: its id, uid, name and dtype (as stored).
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct FeatureKey {
    /// Database id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its uid.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub uid: String,
    /// Its name.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub name: String,
    /// Its dtype, as text.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub dtype: String,
}

/// How many names make [`feature_keys`] and [`ids_by_name`] consider one scan of the registry.
const SCAN_FROM: usize = 2_000;

/// The key of the feature named by each of `names`, in the names' order (`None` where no
/// feature has the name), in one statement however many (a gene panel has tens of
/// thousands): SQLite reads the names from one JSON array parameter, PostgreSQL from one text
/// array; only the four columns a feature set needs are read. Names that are a good part of
/// the registry (a panel annotated again) are matched here against one scan of it instead:
/// 20k genes among 20k features, 6 ms against 15 for a probe per name on SQLite. Rows are
/// placed by one hash lookup each as they are decoded — no sort, no second copy.
pub fn feature_keys(conn: &mut Conn<'_>, names: &[String]) -> Result<Vec<Option<FeatureKey>>> {
    use lamella_features as f;
    let mut out: Vec<Option<FeatureKey>> = Vec::new();
    out.resize_with(names.len(), || None);
    if names.is_empty() {
        return Ok(out);
    }
    let mut position: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
    position.reserve(names.len());
    for (i, n) in names.iter().enumerate() {
        position.entry(n.as_str()).or_insert(i);
    }
    let mut place = |(id, uid, name, dtype): (i64, String, String, String)| {
        if let Some(&i) = position.get(name.as_str()) {
            out[i] = Some(FeatureKey {
                id,
                uid,
                name,
                dtype,
            });
        }
    };
    let columns = (f::id, f::uid, f::name, f::dtype);
    if names.len() >= SCAN_FROM && scan_pays(conn, "lamella_features", names.len())? {
        with_conn!(conn.inner, |c| {
            for row in f::table
                .select(columns)
                .load_iter::<(i64, String, String, String), diesel::connection::DefaultLoadingMode>(
                    c,
                )?
            {
                place(row?);
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    } else {
        match &mut conn.inner {
            crate::db::ConnRef::Sqlite(c) => {
                let json = serde_json::to_string(names)
                    .map_err(|e| Error::Lookup(format!("feature names as JSON: {e}")))?;
                for k in diesel::sql_query(
                    "SELECT id, uid, name, dtype FROM lamella_features \
                     WHERE name IN (SELECT value FROM json_each(?))",
                )
                .bind::<diesel::sql_types::Text, _>(json)
                .load::<FeatureKey>(&mut **c)?
                {
                    place((k.id, k.uid, k.name, k.dtype));
                }
            }
            crate::db::ConnRef::Postgresql(c) => {
                for row in f::table
                    .filter(f::name.eq_any(names))
                    .select(columns)
                    .load_iter::<(i64, String, String, String), diesel::connection::DefaultLoadingMode>(
                        &mut **c,
                    )?
                {
                    place(row?);
                }
            }
        }
    }
    // A name given twice: each place gets the key.
    if position.len() < names.len() {
        for i in 0..names.len() {
            let first = position[names[i].as_str()];
            if first != i {
                out[i] = out[first].clone();
            }
        }
    }
    Ok(out)
}

/// Loads the records with the given ids.
pub fn load_by_ids<T: Record>(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let spec = QuerySpec::new(T::REGISTRY).include_trash(true).filter(
            "id__in",
            Value::List(chunk.iter().map(|i| Value::Int(*i)).collect()),
        );
        out.extend(spec.load::<T>(conn)?);
    }
    Ok(out)
}

/// An `(id, name)` row of a hand-written statement.
#[derive(QueryableByName)]
struct IdName {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// `(id, name)` of every record of a registry with a `name`-like column (for similarity
/// checks and search), in id order.
pub fn names(conn: &mut Conn<'_>, reg: &Registry, column: &str) -> Result<Vec<(i64, String)>> {
    if reg.field(column).is_none() {
        return Err(Error::Lookup(format!(
            "{} has no field '{column}'",
            reg.name
        )));
    }
    // The hot cases (name checks on large registries) decode by position, several times
    // cheaper per row than by name.
    match (reg.table, column) {
        ("lamella_ulabels", "name") => {
            return Ok(with_conn!(conn.inner, |c| {
                lamella_ulabels::table
                    .select((lamella_ulabels::id, lamella_ulabels::name))
                    .order(lamella_ulabels::id)
                    .load::<(i64, String)>(c)
            })?);
        }
        ("lamella_features", "name") => {
            return Ok(with_conn!(conn.inner, |c| {
                lamella_features::table
                    .select((lamella_features::id, lamella_features::name))
                    .order(lamella_features::id)
                    .load::<(i64, String)>(c)
            })?);
        }
        _ => {}
    }
    let mut sql = Sql::new(conn.backend());
    sql.push(&format!(
        "SELECT id, \"{column}\" AS name FROM {} WHERE \"{column}\" IS NOT NULL ORDER BY id",
        reg.table
    ));
    let rows: Vec<IdName> = sql.load_rows(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// `(id, name)` of the ULabels or Features whose name is one of `names` (validation), in one
/// statement, decoding two columns only: names that are a good part of the registry (a
/// column of 10k labels checked against 10k) are matched against one read of every name,
/// others are looked up — on SQLite from one JSON array parameter, on PostgreSQL from one
/// text array.
pub fn ids_by_name(
    conn: &mut Conn<'_>,
    reg: &Registry,
    names: &[String],
) -> Result<Vec<(i64, String)>> {
    let table = match reg.table {
        t @ ("lamella_ulabels" | "lamella_features") => t,
        other => {
            return Err(Error::Lookup(format!(
                "{other} has no names to validate against"
            )));
        }
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    if names.len() >= SCAN_FROM && scan_pays(conn, table, names.len())? {
        let wanted: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let mut all = self::names(conn, reg, "name")?;
        all.retain(|(_, n)| wanted.contains(n.as_str()));
        return Ok(all);
    }
    let rows: Vec<IdName> = match &mut conn.inner {
        crate::db::ConnRef::Sqlite(c) => {
            let json = serde_json::to_string(names)
                .map_err(|e| Error::Lookup(format!("names as JSON: {e}")))?;
            diesel::sql_query(format!(
                "SELECT id, name FROM {table} WHERE name IN (SELECT value FROM json_each(?))"
            ))
            .bind::<diesel::sql_types::Text, _>(json)
            .load(&mut **c)?
        }
        crate::db::ConnRef::Postgresql(c) => {
            diesel::sql_query(format!("SELECT id, name FROM {table} WHERE name = ANY($1)"))
                .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(names)
                .load(&mut **c)?
        }
    };
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Whether `n` names are a third of `table` or more, so that one read of every name beats a
/// lookup per name. Ids are never reused, so the largest bounds the count (an index lookup).
fn scan_pays(conn: &mut Conn<'_>, table: &str, n: usize) -> Result<bool> {
    let largest = largest_name_id(conn, table)?;
    Ok((n as i64).saturating_mul(3) >= largest)
}

/// The largest id of a named registry (ULabel or Feature; 0 when empty), which bounds how
/// many records it has: ids are never reused. One index lookup.
pub fn largest_id(conn: &mut Conn<'_>, reg: &Registry) -> Result<i64> {
    match reg.table {
        t @ ("lamella_ulabels" | "lamella_features") => largest_name_id(conn, t),
        other => Err(Error::Lookup(format!(
            "{other} has no names to validate against"
        ))),
    }
}

fn largest_name_id(conn: &mut Conn<'_>, table: &str) -> Result<i64> {
    let largest: Option<i64> = match table {
        "lamella_features" => with_conn!(conn.inner, |c| lamella_features::table
            .select(diesel::dsl::max(lamella_features::id))
            .first(c))?,
        _ => with_conn!(conn.inner, |c| lamella_ulabels::table
            .select(diesel::dsl::max(lamella_ulabels::id))
            .first(c))?,
    };
    Ok(largest.unwrap_or(0))
}

/// `(id, name, synonyms)` of every feature, for search and validation.
pub fn feature_names(conn: &mut Conn<'_>) -> Result<Vec<(i64, String, Option<String>)>> {
    let rows = with_conn!(conn.inner, |c| {
        lamella_features::table
            .select((
                lamella_features::id,
                lamella_features::name,
                lamella_features::synonyms,
            ))
            .order(lamella_features::id)
            .load::<(i64, String, Option<String>)>(c)
    })?;
    Ok(rows)
}

/// Makes `latest` (a full uid, or none) the only latest version of the family whose uids
/// start with `stem`, in two statements: first every other version of the family is marked
/// not latest, then `latest` is marked latest — in that order, so the unique index that allows
/// one latest version per family (and per storage key) never sees two. For registries with
/// versions (Artifact, Collection).
pub fn set_latest(
    conn: &mut Conn<'_>,
    reg: &Registry,
    stem: &str,
    latest: Option<&str>,
    updated_at: chrono::NaiveDateTime,
) -> Result<()> {
    if !crate::uid::is_base62(stem) || stem.is_empty() {
        return Err(Error::Value(format!("'{stem}' is not a uid stem")));
    }
    let mut clear = Sql::new(conn.backend());
    clear.push(&format!("UPDATE {} SET is_latest = ", reg.table));
    clear.bind_bool(false);
    clear.push(", updated_at = ");
    clear.bind_timestamp(updated_at);
    clear.push(" WHERE is_latest = ");
    clear.bind_bool(true);
    // base62 stems hold no LIKE wildcards; the prefix match uses the uid's unique index
    clear.push(" AND uid LIKE ");
    clear.bind_text(format!("{stem}%"));
    if let Some(l) = latest {
        clear.push(" AND uid <> ");
        clear.bind_text(l.to_string());
    }
    clear.execute(conn)?;
    if let Some(l) = latest {
        let mut set = Sql::new(conn.backend());
        set.push(&format!("UPDATE {} SET is_latest = ", reg.table));
        set.bind_bool(true);
        set.push(", updated_at = ");
        set.bind_timestamp(updated_at);
        set.push(" WHERE is_latest = ");
        set.bind_bool(false);
        set.push(" AND uid = ");
        set.bind_text(l.to_string());
        set.execute(conn)?;
    }
    Ok(())
}

/// Deletes one record by id; returns whether it existed.
pub fn delete_by_id(conn: &mut Conn<'_>, reg: &Registry, id: i64) -> Result<bool> {
    let mut sql = Sql::new(conn.backend());
    sql.push(&format!("DELETE FROM {} WHERE id = ", reg.table));
    sql.bind_i64(id);
    Ok(sql.execute(conn)? > 0)
}

/// What still points at a record, as `(description, count)` pairs with a non-zero count; a
/// record with links cannot be deleted.
pub fn links_to(conn: &mut Conn<'_>, reg: &Registry, id: i64) -> Result<Vec<(String, i64)>> {
    let checks: &[(&str, &str, &str)] = match reg.name {
        "ULabel" => &[
            ("lamella_artifact_ulabels", "ulabel_id", "artifact"),
            ("lamella_collection_ulabels", "ulabel_id", "collection"),
        ],
        "Feature" => &[
            ("lamella_feature_set_features", "feature_id", "feature set"),
            (
                "lamella_artifact_ulabels",
                "feature_id",
                "artifact label link",
            ),
            (
                "lamella_collection_ulabels",
                "feature_id",
                "collection label link",
            ),
        ],
        "FeatureSet" => &[
            (
                "lamella_artifact_feature_sets",
                "feature_set_id",
                "artifact",
            ),
            (
                "lamella_collection_feature_sets",
                "feature_set_id",
                "collection",
            ),
        ],
        "Storage" => &[("lamella_artifacts", "storage_id", "artifact")],
        "Artifact" => &[("lamella_collection_artifacts", "artifact_id", "collection")],
        "Transform" => &[
            ("lamella_runs", "transform_id", "run"),
            ("lamella_artifacts", "transform_id", "artifact"),
        ],
        "User" => &[
            ("lamella_ulabels", "created_by_id", "label"),
            ("lamella_features", "created_by_id", "feature"),
            ("lamella_artifacts", "created_by_id", "artifact"),
        ],
        _ => &[],
    };
    let mut out = Vec::new();
    for (table, column, what) in checks {
        let mut sql = Sql::new(conn.backend());
        sql.push(&format!(
            "SELECT COUNT(*) AS count FROM {table} WHERE {column} = "
        ));
        sql.bind_i64(id);
        let rows: Vec<CountRow> = sql.load_rows(conn)?;
        let n = rows.first().map_or(0, |r| r.count);
        if n > 0 {
            out.push((what.to_string(), n));
        }
    }
    Ok(out)
}

/// A hierarchy: ULabel or Transform parents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hierarchy {
    /// `lamella_ulabel_parents`.
    ULabel,
    /// `lamella_transform_parents`.
    Transform,
}

impl Hierarchy {
    fn table(self) -> &'static str {
        match self {
            Hierarchy::ULabel => "lamella_ulabel_parents",
            Hierarchy::Transform => "lamella_transform_parents",
        }
    }

    /// The registry whose records form this hierarchy.
    pub fn registry(self) -> &'static Registry {
        match self {
            Hierarchy::ULabel => &registry::ULABEL,
            Hierarchy::Transform => &registry::TRANSFORM,
        }
    }
}

/// An edge of a hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    /// The child's id.
    pub child: i64,
    /// The parent's id.
    pub parent: i64,
}

/// Inserts edges, ignoring those that exist already; returns how many were new.
pub fn insert_edges(conn: &mut Conn<'_>, h: Hierarchy, edges: &[Edge]) -> Result<usize> {
    let mut n = 0;
    for chunk in edges.chunks(INSERT_CHUNK * 4) {
        match h {
            Hierarchy::ULabel => {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|e| {
                        (
                            lamella_ulabel_parents::child_id.eq(e.child),
                            lamella_ulabel_parents::parent_id.eq(e.parent),
                        )
                    })
                    .collect();
                n += with_conn!(conn.inner, |c| {
                    diesel::insert_into(lamella_ulabel_parents::table)
                        .values(&rows)
                        .on_conflict_do_nothing()
                        .execute(c)
                })?;
            }
            Hierarchy::Transform => {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|e| {
                        (
                            lamella_transform_parents::child_id.eq(e.child),
                            lamella_transform_parents::parent_id.eq(e.parent),
                        )
                    })
                    .collect();
                n += with_conn!(conn.inner, |c| {
                    diesel::insert_into(lamella_transform_parents::table)
                        .values(&rows)
                        .on_conflict_do_nothing()
                        .execute(c)
                })?;
            }
        }
    }
    Ok(n)
}

/// Removes the edges between `id` and its parents (`as_child`) or its children.
pub fn clear_edges(conn: &mut Conn<'_>, h: Hierarchy, id: i64, as_child: bool) -> Result<usize> {
    let mut sql = Sql::new(conn.backend());
    let col = if as_child { "child_id" } else { "parent_id" };
    sql.push(&format!("DELETE FROM {} WHERE {col} = ", h.table()));
    sql.bind_i64(id);
    sql.execute(conn)
}

/// Removes the given edges; returns how many existed.
pub fn delete_edges(conn: &mut Conn<'_>, h: Hierarchy, edges: &[Edge]) -> Result<usize> {
    let mut n = 0;
    for e in edges {
        let mut sql = Sql::new(conn.backend());
        sql.push(&format!("DELETE FROM {} WHERE child_id = ", h.table()));
        sql.bind_i64(e.child);
        sql.push(" AND parent_id = ");
        sql.bind_i64(e.parent);
        n += sql.execute(conn)?;
    }
    Ok(n)
}

/// The edges reachable from `id` upwards (`up`, towards ancestors) or downwards, at most
/// `depth` steps away; one recursive query.
pub fn reachable_edges(
    conn: &mut Conn<'_>,
    h: Hierarchy,
    id: i64,
    up: bool,
    depth: u32,
) -> Result<Vec<Edge>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        child_id: i64,
        #[diesel(sql_type = BigInt)]
        parent_id: i64,
    }
    let (from, to) = if up {
        ("child_id", "parent_id")
    } else {
        ("parent_id", "child_id")
    };
    let table = h.table();
    let mut sql = Sql::new(conn.backend());
    sql.push(&format!(
        "WITH RECURSIVE walk(child_id, parent_id, depth) AS ( \
           SELECT e.child_id, e.parent_id, 1 FROM {table} e WHERE e.{from} = "
    ));
    sql.bind_i64(id);
    sql.push(&format!(
        " UNION SELECT e.child_id, e.parent_id, w.depth + 1 FROM {table} e \
           JOIN walk w ON e.{from} = w.{to} WHERE w.depth < "
    ));
    sql.bind_i64(i64::from(depth));
    sql.push(") SELECT DISTINCT child_id, parent_id FROM walk ORDER BY child_id, parent_id");
    let rows: Vec<Row> = sql.load_rows(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Edge {
            child: r.child_id,
            parent: r.parent_id,
        })
        .collect())
}

/// The ids of all records reachable from `id` upwards (`up`: ancestors) or downwards
/// (descendants), at any depth; one recursive query whose UNION keeps each id once.
fn closure_ids(conn: &mut Conn<'_>, h: Hierarchy, id: i64, up: bool) -> Result<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let (from, to) = if up {
        ("child_id", "parent_id")
    } else {
        ("parent_id", "child_id")
    };
    let table = h.table();
    let mut sql = Sql::new(conn.backend());
    sql.push(&format!(
        "WITH RECURSIVE walk(id) AS (SELECT e.{to} FROM {table} e WHERE e.{from} = "
    ));
    sql.bind_i64(id);
    sql.push(&format!(
        " UNION SELECT e.{to} FROM {table} e JOIN walk w ON e.{from} = w.id) \
         SELECT id FROM walk ORDER BY id"
    ));
    let rows: Vec<Row> = sql.load_rows(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The ids of all ancestors of `id`, for cycle checks.
pub fn ancestor_ids(conn: &mut Conn<'_>, h: Hierarchy, id: i64) -> Result<Vec<i64>> {
    closure_ids(conn, h, id, true)
}

/// The ids of all descendants of `id`, for cycle checks.
pub fn descendant_ids(conn: &mut Conn<'_>, h: Hierarchy, id: i64) -> Result<Vec<i64>> {
    closure_ids(conn, h, id, false)
}

/// Inserts the instance row.
pub fn insert_instance(conn: &mut Conn<'_>, row: &InstanceRow) -> Result<()> {
    with_conn!(conn.inner, |c| {
        diesel::insert_into(lamella_instance::table)
            .values(row)
            .execute(c)
    })?;
    Ok(())
}

/// Moves the instance to a new default storage root (after its folder was moved): the
/// instance row and the Storage record with the old root both get `new_root`.
pub fn move_instance_root(conn: &mut Conn<'_>, old_root: &str, new_root: &str) -> Result<()> {
    let t = crate::models::now();
    let mut sql = Sql::new(conn.backend());
    sql.push("UPDATE lamella_instance SET storage_root = ");
    sql.bind_text(new_root.to_string());
    sql.push(" WHERE storage_root = ");
    sql.bind_text(old_root.to_string());
    sql.execute(conn)?;
    let mut sql = Sql::new(conn.backend());
    sql.push("UPDATE lamella_storages SET root = ");
    sql.bind_text(new_root.to_string());
    sql.push(", updated_at = ");
    sql.bind_timestamp(t);
    sql.push(" WHERE root = ");
    sql.bind_text(old_root.to_string());
    sql.execute(conn)?;
    Ok(())
}

/// The instance row, if the database has one.
pub fn instance_row(conn: &mut Conn<'_>) -> Result<Option<InstanceRow>> {
    let mut sql = Sql::new(conn.backend());
    sql.push("SELECT * FROM lamella_instance ORDER BY id LIMIT 1");
    let rows: Vec<InstanceRow> = sql.load_rows(conn)?;
    Ok(rows.into_iter().next())
}

/// Artifacts inserted on PostgreSQL as one array per column (`INSERT … SELECT FROM unnest`):
/// twenty parameters however many rows, where a multi-row `VALUES` binds twenty per row —
/// parsing and binding 20,000 parameters took 11-12 ms of a thousand artifacts' insert.
fn pg_insert_artifacts(
    c: &mut diesel::pg::PgConnection,
    chunk: &[Artifact],
) -> diesel::QueryResult<Vec<(i64, String)>> {
    use diesel::sql_types::{Array, Bool, Nullable, SmallInt, Text, Timestamp};
    let col = |f: &dyn Fn(&Artifact) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
    let int = |f: &dyn Fn(&Artifact) -> Option<i64>| chunk.iter().map(f).collect::<Vec<_>>();
    let stamp =
        |f: &dyn Fn(&Artifact) -> chrono::NaiveDateTime| chunk.iter().map(f).collect::<Vec<_>>();
    let flag = |f: &dyn Fn(&Artifact) -> bool| chunk.iter().map(f).collect::<Vec<_>>();
    let rows: Vec<IdUid> = diesel::sql_query(
        "INSERT INTO lamella_artifacts (uid, storage_id, key, suffix, accessor, description, \
         size, hash, hash_type, n_objects, n_observations, version, is_latest, visibility, \
         key_is_virtual, transform_id, run_id, created_at, updated_at, created_by_id) \
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
         $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], \
         $12::text[], $13::boolean[], $14::smallint[], $15::boolean[], $16::bigint[], \
         $17::bigint[], $18::timestamp[], $19::timestamp[], $20::bigint[]) \
         RETURNING id, uid",
    )
    .bind::<Array<Text>, _>(chunk.iter().map(|a| a.uid.as_str()).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(chunk.iter().map(|a| a.storage_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(col(&|a| a.key.clone()))
    .bind::<Array<Text>, _>(chunk.iter().map(|a| a.suffix.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(col(&|a| a.accessor.clone()))
    .bind::<Array<Nullable<Text>>, _>(col(&|a| a.description.clone()))
    .bind::<Array<Nullable<BigInt>>, _>(int(&|a| a.size))
    .bind::<Array<Nullable<Text>>, _>(col(&|a| a.hash.clone()))
    .bind::<Array<Nullable<Text>>, _>(col(&|a| a.hash_type.map(|h| h.as_str().to_string())))
    .bind::<Array<Nullable<BigInt>>, _>(int(&|a| a.n_objects))
    .bind::<Array<Nullable<BigInt>>, _>(int(&|a| a.n_observations))
    .bind::<Array<Nullable<Text>>, _>(col(&|a| a.version.clone()))
    .bind::<Array<Bool>, _>(flag(&|a| a.is_latest))
    .bind::<Array<SmallInt>, _>(
        chunk
            .iter()
            .map(|a| a.visibility.code())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Bool>, _>(flag(&|a| a.key_is_virtual))
    .bind::<Array<Nullable<BigInt>>, _>(int(&|a| a.transform_id))
    .bind::<Array<Nullable<BigInt>>, _>(int(&|a| a.run_id))
    .bind::<Array<Timestamp>, _>(stamp(&|a| a.created_at))
    .bind::<Array<Timestamp>, _>(stamp(&|a| a.updated_at))
    .bind::<Array<BigInt>, _>(chunk.iter().map(|a| a.created_by_id).collect::<Vec<_>>())
    .load(c)?;
    Ok(rows.into_iter().map(|r| (r.id, r.uid)).collect())
}

/// Labels inserted on PostgreSQL as one array per column, like [`pg_insert_artifacts`].
fn pg_insert_ulabels(
    c: &mut diesel::pg::PgConnection,
    chunk: &[ULabel],
) -> diesel::QueryResult<Vec<(i64, String)>> {
    use diesel::sql_types::{Array, Nullable, Text, Timestamp};
    let text = |f: &dyn Fn(&ULabel) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
    let rows: Vec<IdUid> = diesel::sql_query(
        "INSERT INTO lamella_ulabels (uid, name, description, reference, reference_type, \
         created_at, updated_at, created_by_id, run_id, synonyms) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
         $6::timestamp[], $7::timestamp[], $8::bigint[], $9::bigint[], $10::text[]) \
         RETURNING id, uid",
    )
    .bind::<Array<Text>, _>(chunk.iter().map(|l| l.uid.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(chunk.iter().map(|l| l.name.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(text(&|l| l.description.clone()))
    .bind::<Array<Nullable<Text>>, _>(text(&|l| l.reference.clone()))
    .bind::<Array<Nullable<Text>>, _>(text(&|l| l.reference_type.clone()))
    .bind::<Array<Timestamp>, _>(chunk.iter().map(|l| l.created_at).collect::<Vec<_>>())
    .bind::<Array<Timestamp>, _>(chunk.iter().map(|l| l.updated_at).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(chunk.iter().map(|l| l.created_by_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(chunk.iter().map(|l| l.run_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(text(&|l| l.synonyms.clone()))
    .load(c)?;
    Ok(rows.into_iter().map(|r| (r.id, r.uid)).collect())
}

/// The id and uid of an inserted row.
#[derive(QueryableByName)]
struct IdUid {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    uid: String,
}

/// What opening an instance reads: its row and the current user's (when registered). The
/// default storage's record is read when a command needs it.
#[derive(Debug, Clone)]
pub struct Opening {
    /// The instance row.
    pub instance: InstanceRow,
    /// The user with the handle asked for.
    pub user: Option<User>,
}

/// The migrations `embedded` as [`read_opening`] compares them: their number, the newest
/// version and the sum of the versions (14-digit timestamps); `None` for versions that are
/// not numbers.
pub(crate) fn migrations_stamp(embedded: &[String]) -> Option<String> {
    let sum: Option<i64> = embedded
        .iter()
        .map(|v| v.parse::<i64>().ok())
        .try_fold(0i64, |acc, v| acc.checked_add(v?));
    match (embedded.iter().max(), sum) {
        (Some(newest), Some(sum)) => Some(format!("{} {newest} {sum}", embedded.len())),
        _ => None,
    }
}

/// Records in the instance row that the database has applied exactly `embedded`, when it
/// has (the full check just found so); a database a newer release migrated keeps its stamp.
/// Best effort: a role that may not write leaves the stamp as it was, and later opens take
/// the full check again.
pub(crate) fn stamp_migrations(
    conn: &mut Conn<'_>,
    applied: &std::collections::HashSet<String>,
    embedded: &[String],
) {
    let exact = applied.len() == embedded.len() && embedded.iter().all(|v| applied.contains(v));
    let Some(stamp) = migrations_stamp(embedded).filter(|_| exact) else {
        return;
    };
    let written = with_conn!(conn.inner, |c| diesel::update(
        lamella_instance::table.filter(
            lamella_instance::migrations
                .is_null()
                .or(lamella_instance::migrations.ne(stamp.clone()))
        )
    )
    .set(lamella_instance::migrations.eq(stamp.clone()))
    .execute(c));
    if let Err(e) = written {
        tracing::debug!(error = %e, "the migrations stamp was not written");
    }
}

/// The [`Opening`] and whether the instance row's stamp says the database has applied
/// exactly the `embedded` migrations ([`stamp_migrations`]), in one statement; `None`
/// without an instance row.
pub(crate) fn read_opening(
    conn: &mut Conn<'_>,
    handle: &str,
    embedded: &[String],
) -> Result<Option<(Opening, bool)>> {
    let expected = migrations_stamp(embedded);
    type Row = (InstanceRow, Option<User>, Option<String>);
    let row: Option<Row> = with_conn!(conn.inner, |c| lamella_instance::table
        .left_join(lamella_users::table.on(lamella_users::handle.eq(handle.to_string())))
        .order(lamella_instance::id)
        .select((
            InstanceRow::as_select(),
            Option::<User>::as_select(),
            lamella_instance::migrations,
        ))
        .first(c)
        .optional())?;
    Ok(row.map(|(instance, user, stamp)| {
        (
            Opening { instance, user },
            expected.is_some() && stamp == expected,
        )
    }))
}

/// Number of records of every registry, in [`registry::ALL`] order.
pub fn counts(conn: &mut Conn<'_>) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for reg in registry::ALL {
        let n = QuerySpec::new(reg).include_trash(true).count(conn)?;
        out.push((reg.name, n));
    }
    Ok(out)
}

/// The members of feature sets: `(feature set id, feature id)`.
pub fn feature_set_members(conn: &mut Conn<'_>, set_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for chunk in set_ids.chunks(IN_CHUNK) {
        out.extend(with_conn!(conn.inner, |c| {
            lamella_feature_set_features::table
                .filter(lamella_feature_set_features::feature_set_id.eq_any(chunk))
                .select((
                    lamella_feature_set_features::feature_set_id,
                    lamella_feature_set_features::feature_id,
                ))
                .order((
                    lamella_feature_set_features::feature_set_id,
                    lamella_feature_set_features::feature_id,
                ))
                .load::<(i64, i64)>(c)
        })?);
    }
    Ok(out)
}

/// A column of a table as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbColumn {
    /// The column's name.
    pub name: String,
    /// Its type, normalised to `bigint`, `integer`, `smallint`, `text`, `boolean` or
    /// `timestamp` (anything else as the database spells it, lower case).
    pub sql_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
}

/// The columns of `table` in the connected database (for checks that the migrations, the
/// diesel tables and the registries agree), in column order. SQLite's `INTEGER PRIMARY KEY`
/// (a 64-bit rowid) reads as `bigint`.
pub fn table_columns(conn: &mut Conn<'_>, table: &str) -> Result<Vec<DbColumn>> {
    use diesel::sql_types::{Bool, Text};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        sql_type: String,
        #[diesel(sql_type = Bool)]
        nullable: bool,
    }
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Lookup(format!("'{table}' is not a table name")));
    }
    let rows: Vec<Row> = match &mut conn.inner {
        crate::db::ConnRef::Sqlite(c) => diesel::sql_query(format!(
            "SELECT name, CASE WHEN pk = 1 AND lower(type) = 'integer' THEN 'bigint' \
             ELSE lower(type) END AS sql_type, (\"notnull\" = 0 AND pk = 0) AS nullable \
             FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .load(&mut **c)?,
        crate::db::ConnRef::Postgresql(c) => diesel::sql_query(format!(
            "SELECT column_name::text AS name, data_type::text AS sql_type, \
             (is_nullable = 'YES') AS nullable FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}' \
             ORDER BY ordinal_position"
        ))
        .load(&mut **c)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| DbColumn {
            name: r.name,
            sql_type: match r.sql_type.as_str() {
                "timestamp without time zone" => "timestamp".into(),
                "int" | "int4" => "integer".into(),
                "bool" => "boolean".into(),
                other => other.to_string(),
            },
            nullable: r.nullable,
        })
        .collect())
}

/// Adds `(fingerprint, record id)` rows to the name index of `registry` (existing rows are
/// kept).
pub fn name_keys_insert(conn: &mut Conn<'_>, registry: i16, rows: &[(i64, i64)]) -> Result<()> {
    // Few statements for many rows: on SQLite blocks of rows go through one prepared
    // multi-row statement (15M rows: 7 s, against 14 s for statements of 20,000 literal rows,
    // which SQLite parses every time); on PostgreSQL through `COPY FROM`. The rows
    // are new (the caller files new records, under the names lock), so both insert them
    // plainly — on PostgreSQL `ON CONFLICT` costs a speculative insertion per row, 45 % of
    // the time of 120,000 rows.
    use std::fmt::Write as _;
    use std::io::Write as _;
    if let crate::db::ConnRef::Sqlite(c) = &mut conn.inner {
        // Whole blocks through one prepared statement (an array of rows has a static query
        // id, so diesel compiles it once per connection); the rest as literals.
        let mut blocks = rows.chunks_exact(SQLITE_KEY_BLOCK);
        for block in &mut blocks {
            use lamella_name_keys::dsl;
            let values: Box<[_; SQLITE_KEY_BLOCK]> = Box::new(std::array::from_fn(|i| {
                let (fp, id) = block[i];
                (
                    dsl::registry.eq(registry),
                    dsl::fp.eq(fp),
                    dsl::record_id.eq(id),
                )
            }));
            diesel::insert_into(lamella_name_keys::table)
                .values(&*values)
                .execute(*c)?;
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut sql = String::with_capacity(100 + rest.len() * 36);
            sql.push_str("INSERT INTO lamella_name_keys (registry, fp, record_id) VALUES ");
            for (i, (fp, id)) in rest.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                let _ = write!(sql, "({registry},{fp},{id})");
            }
            diesel::sql_query(sql).execute(*c)?;
        }
        return Ok(());
    }
    if let crate::db::ConnRef::Postgresql(c) = &mut conn.inner {
        // One `COPY FROM STDIN` (text format) for all the rows.
        use lamella_name_keys::dsl;
        diesel::copy_from(lamella_name_keys::table)
            .from_raw_data(
                (dsl::registry, dsl::fp, dsl::record_id),
                |out: &mut dyn std::io::Write| -> diesel::QueryResult<()> {
                    let mut buf = std::io::BufWriter::with_capacity(1 << 16, out);
                    let io =
                        |e: std::io::Error| diesel::result::Error::SerializationError(e.into());
                    for (fp, id) in rows {
                        writeln!(buf, "{registry}\t{fp}\t{id}").map_err(io)?;
                    }
                    buf.flush().map_err(io)
                },
            )
            .execute(*c)?;
    }
    Ok(())
}

/// Rows per prepared insert of the name index on SQLite (3 parameters each; SQLite takes up to
/// 32,766).
const SQLITE_KEY_BLOCK: usize = 1024;

/// Removes a record's rows (its fingerprints `fps`) from the name index of `registry`.
pub fn name_keys_delete(
    conn: &mut Conn<'_>,
    registry: i16,
    record_id: i64,
    fps: &[i64],
) -> Result<()> {
    for chunk in fps.chunks(IN_CHUNK) {
        with_conn!(conn.inner, |c| {
            diesel::delete(
                lamella_name_keys::table
                    .filter(lamella_name_keys::registry.eq(registry))
                    .filter(lamella_name_keys::record_id.eq(record_id))
                    .filter(lamella_name_keys::fp.eq_any(chunk)),
            )
            .execute(c)
        })?;
    }
    Ok(())
}

/// The ids of records of `registry` filed under any of `fps`, each once.
pub fn name_keys_probe(conn: &mut Conn<'_>, registry: i16, fps: &[i64]) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for chunk in fps.chunks(IN_CHUNK) {
        ids.extend(with_conn!(conn.inner, |c| {
            lamella_name_keys::table
                .filter(lamella_name_keys::registry.eq(registry))
                .filter(lamella_name_keys::fp.eq_any(chunk))
                .select(lamella_name_keys::record_id)
                .distinct()
                .load::<i64>(c)
        })?);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The version of the name index of `registry`, `None` while it is not built.
pub fn name_index_version(conn: &mut Conn<'_>, registry: i16) -> Result<Option<i32>> {
    Ok(with_conn!(conn.inner, |c| {
        lamella_name_index::table
            .filter(lamella_name_index::registry.eq(registry))
            .select(lamella_name_index::version)
            .first::<i32>(c)
            .optional()
    })?)
}

/// Empties the name index of `registry` and marks it as not built.
pub fn name_index_clear(conn: &mut Conn<'_>, registry: i16) -> Result<()> {
    with_conn!(conn.inner, |c| {
        diesel::delete(lamella_name_keys::table.filter(lamella_name_keys::registry.eq(registry)))
            .execute(c)?;
        diesel::delete(lamella_name_index::table.filter(lamella_name_index::registry.eq(registry)))
            .execute(c)
    })?;
    Ok(())
}

/// Marks the name index of `registry` as built with `version`.
pub fn name_index_set_version(conn: &mut Conn<'_>, registry: i16, version: i32) -> Result<()> {
    with_conn!(conn.inner, |c| {
        diesel::delete(lamella_name_index::table.filter(lamella_name_index::registry.eq(registry)))
            .execute(c)?;
        diesel::insert_into(lamella_name_index::table)
            .values((
                lamella_name_index::registry.eq(registry),
                lamella_name_index::version.eq(version),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// Adds features to a feature set (existing members are kept).
pub fn insert_feature_set_members(
    conn: &mut Conn<'_>,
    set_id: i64,
    feature_ids: &[i64],
) -> Result<()> {
    for chunk in feature_ids.chunks(INSERT_CHUNK * 4) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|f| {
                (
                    lamella_feature_set_features::feature_set_id.eq(set_id),
                    lamella_feature_set_features::feature_id.eq(*f),
                )
            })
            .collect();
        with_conn!(conn.inner, |c| {
            diesel::insert_into(lamella_feature_set_features::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c)
        })?;
    }
    Ok(())
}

/// Inserts the members of many feature sets, `(set id, feature id)`, a few thousand per
/// statement (existing members are kept).
pub fn insert_feature_set_members_many(conn: &mut Conn<'_>, rows: &[(i64, i64)]) -> Result<()> {
    for chunk in rows.chunks(INSERT_CHUNK * 4) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(s, f)| {
                (
                    lamella_feature_set_features::feature_set_id.eq(*s),
                    lamella_feature_set_features::feature_id.eq(*f),
                )
            })
            .collect();
        with_conn!(conn.inner, |c| {
            diesel::insert_into(lamella_feature_set_features::table)
                .values(&values)
                .on_conflict_do_nothing()
                .execute(c)
        })?;
    }
    Ok(())
}

/// The feature set that the features named by a list of names make up, as remembered by
/// [`remember_set_names`] under the set hash of the names; `None` when not remembered or
/// forgotten since (a member was renamed). One statement.
pub fn feature_set_by_names(conn: &mut Conn<'_>, names_hash: &str) -> Result<Option<FeatureSet>> {
    let mut sql = Sql::new(conn.backend());
    sql.push(
        "SELECT s.* FROM lamella_feature_sets s JOIN lamella_feature_set_names n \
         ON n.feature_set_id = s.id WHERE n.names_hash = ",
    );
    sql.bind_text(names_hash.to_string());
    Ok(sql.load::<FeatureSet>(conn)?.pop())
}

/// Remembers that the features named by a list of names (their set hash: `names_hash`)
/// make up the feature set `set_id` (kept when already remembered). The caller holds the
/// set's lock and has just read its members by those names.
pub fn remember_set_names(conn: &mut Conn<'_>, names_hash: &str, set_id: i64) -> Result<()> {
    use lamella_feature_set_names as n;
    with_conn!(conn.inner, |c| {
        diesel::insert_into(n::table)
            .values((n::names_hash.eq(names_hash), n::feature_set_id.eq(set_id)))
            .on_conflict_do_nothing()
            .execute(c)
    })?;
    Ok(())
}

/// Sets the key of every artifact of the version family `stem` (their uids start with it)
/// in one statement; returns how many versions changed.
pub fn set_family_key(
    conn: &mut Conn<'_>,
    stem: &str,
    key: &str,
    at: chrono::NaiveDateTime,
) -> Result<usize> {
    use lamella_artifacts as a;
    Ok(with_conn!(conn.inner, |c| {
        diesel::update(a::table.filter(a::uid.like(format!("{stem}%"))))
            .set((a::key.eq(key), a::updated_at.eq(at)))
            .execute(c)
    })?)
}

/// Sets the name of every collection of the version family `stem` in one statement;
/// returns how many versions changed.
pub fn set_family_name(
    conn: &mut Conn<'_>,
    stem: &str,
    name: &str,
    at: chrono::NaiveDateTime,
) -> Result<usize> {
    use lamella_collections as c_;
    Ok(with_conn!(conn.inner, |c| {
        diesel::update(c_::table.filter(c_::uid.like(format!("{stem}%"))))
            .set((c_::name.eq(name), c_::updated_at.eq(at)))
            .execute(c)
    })?)
}

/// Refreshes PostgreSQL's statistics of each table that a write just grew by `added` rows
/// when that is at least [`GROWN_FROM`] rows and more than the table held at its last
/// statistics (never analysed, or at least doubled): plans made from a table's empty-table
/// statistics probe every row (a query by label through a feature over 1,005 fresh artifacts:
/// 1.9 ms, 0.2 ms once analysed). Autovacuum would catch up within a minute or so; a user
/// querying right after a bulk save should not wait for it. Each table is analysed about
/// log2(size) times in its life. Nothing on SQLite. One statement to read the sizes.
pub fn analyze_grown(conn: &mut Conn<'_>, tables: &[(&str, usize)]) -> Result<()> {
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Float)]
        rows: f32,
    }
    let grown: Vec<&(&str, usize)> = tables.iter().filter(|(_, n)| *n >= GROWN_FROM).collect();
    let crate::db::ConnRef::Postgresql(c) = &mut conn.inner else {
        return Ok(());
    };
    if grown.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = grown.iter().map(|(t, _)| t.to_string()).collect();
    let sizes: Vec<Size> = diesel::sql_query(
        "SELECT relname::text AS name, reltuples AS rows FROM pg_class \
         WHERE relname = ANY($1) AND relkind = 'r' AND relnamespace = \
         (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&names)
    .load(&mut **c)?;
    let stale: Vec<&str> = grown
        .iter()
        .filter(|(t, n)| {
            sizes
                .iter()
                .find(|s| s.name == *t)
                .is_some_and(|s| *n as f32 > s.rows)
        })
        .map(|(t, _)| *t)
        .collect();
    analyze(conn, &stale)
}

/// The fewest rows one write must add for [`analyze_grown`] to consider its table.
const GROWN_FROM: usize = 1_000;

/// Refreshes PostgreSQL's statistics of `tables` after a bulk write (`ANALYZE`, sampled:
/// fast at any size), so the next plans see the new rows instead of an empty table; nothing
/// on SQLite, whose plans here do not use statistics.
pub fn analyze(conn: &mut Conn<'_>, tables: &[&str]) -> Result<()> {
    if conn.backend() != crate::Backend::Postgres || tables.is_empty() {
        return Ok(());
    }
    // (The names are our own tables, never user input.)
    let sql = format!("ANALYZE {}", tables.join(", "));
    with_conn!(conn.inner, |c| diesel::sql_query(sql.as_str()).execute(c))?;
    Ok(())
}
