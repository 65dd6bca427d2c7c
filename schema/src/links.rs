//! Annotation links of artifacts and collections: labels (each with an optional feature) and
//! feature sets per slot. The same statements serve both owners.

use diesel::prelude::*;

use crate::db::{Conn, with_conn};
use crate::error::Result;
use crate::tables::*;

/// Rows per INSERT statement.
const INSERT_CHUNK: usize = 1000;

/// The record that annotation links hang from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An artifact, by id.
    Artifact(i64),
    /// A collection, by id.
    Collection(i64),
}

/// Takes the annotation locks of `owners` (records of `kind`'s sort) until the transaction
/// ends: every writer of an owner's labels, feature sets and values takes them first, so
/// annotations of one record are serialised across processes (on SQLite the write lock does
/// it). Owners share a few hundred locks (see [`Conn::lock`]), taken in one order by all.
pub fn lock_owners(conn: &mut Conn<'_>, kind: Owner, owners: &[i64]) -> Result<()> {
    let names: Vec<String> = owners
        .iter()
        .map(|o| match kind {
            Owner::Artifact(_) => format!("annotate:artifact:{o}"),
            Owner::Collection(_) => format!("annotate:collection:{o}"),
        })
        .collect();
    conn.lock(&names)
}

/// Links labels to `owner`, each with an optional feature; existing links are kept. Returns
/// how many links are new. Batched: one statement per thousand links.
/// `owners_locked`: see [`link_ulabels_many`].
pub fn link_ulabels(
    conn: &mut Conn<'_>,
    owner: Owner,
    links: &[(i64, Option<i64>)],
    user_id: i64,
    owners_locked: bool,
) -> Result<usize> {
    let id = match owner {
        Owner::Artifact(id) | Owner::Collection(id) => id,
    };
    let rows: Vec<(i64, i64, Option<i64>)> = links.iter().map(|(l, f)| (id, *l, *f)).collect();
    link_ulabels_many(conn, owner, &rows, user_id, owners_locked)
}

/// Links labels to many owners of `kind`'s sort: `(owner id, ulabel id, feature id)`;
/// existing links (and repeated rows) are kept once. Returns how many links are new. One
/// statement per thousand.
///
/// `owners_locked`: the caller's transaction holds every owner's annotation lock
/// ([`lock_owners`]), which every writer of label links takes, so no other transaction adds
/// links to them until it ends. On PostgreSQL the new links are then found by an anti-join
/// on the unique index instead of `ON CONFLICT DO NOTHING`, whose speculative insertion costs
/// a quarter of the statement (1,000 links: 11 → 8 ms): under read committed (Lamella's
/// isolation) the statement's snapshot, taken after the lock, sees every link committed
/// before. Without the lock an uncommitted link of another writer would make that insert
/// fail on the unique index, so such callers pass `false` and keep `ON CONFLICT`.
pub fn link_ulabels_many(
    conn: &mut Conn<'_>,
    kind: Owner,
    links: &[(i64, i64, Option<i64>)],
    user_id: i64,
    owners_locked: bool,
) -> Result<usize> {
    let t = crate::models::now();
    if let crate::db::ConnRef::Postgresql(c) = &mut conn.inner {
        return pg_link_ulabels(c, kind, links, t, user_id, owners_locked);
    }
    let mut n = 0;
    for chunk in links.chunks(INSERT_CHUNK) {
        n += match kind {
            Owner::Artifact(_) => {
                use lamella_artifact_ulabels as l;
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|(owner, ulabel, feature)| {
                        (
                            l::artifact_id.eq(*owner),
                            l::ulabel_id.eq(*ulabel),
                            l::feature_id.eq(*feature),
                            l::created_at.eq(t),
                            l::created_by_id.eq(user_id),
                        )
                    })
                    .collect();
                with_conn!(conn.inner, |c| {
                    diesel::insert_into(l::table)
                        .values(&rows)
                        .on_conflict_do_nothing()
                        .execute(c)
                })?
            }
            Owner::Collection(_) => {
                use lamella_collection_ulabels as l;
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|(owner, ulabel, feature)| {
                        (
                            l::collection_id.eq(*owner),
                            l::ulabel_id.eq(*ulabel),
                            l::feature_id.eq(*feature),
                        )
                    })
                    .collect();
                with_conn!(conn.inner, |c| {
                    diesel::insert_into(l::table)
                        .values(&rows)
                        .on_conflict_do_nothing()
                        .execute(c)
                })?
            }
        };
    }
    Ok(n)
}

/// The labels linked to many owners of `kind`'s sort: `(owner id, ulabel id, feature id)`, by
/// owner then link order. One statement per thousand owners.
pub fn label_links_many(
    conn: &mut Conn<'_>,
    kind: Owner,
    owners: &[i64],
) -> Result<Vec<(i64, i64, Option<i64>)>> {
    let mut out = Vec::new();
    for chunk in owners.chunks(INSERT_CHUNK) {
        out.extend(match kind {
            Owner::Artifact(_) => {
                use lamella_artifact_ulabels as l;
                with_conn!(conn.inner, |c| {
                    l::table
                        .filter(l::artifact_id.eq_any(chunk))
                        .select((l::artifact_id, l::ulabel_id, l::feature_id))
                        .order((l::artifact_id, l::id))
                        .load::<(i64, i64, Option<i64>)>(c)
                })?
            }
            Owner::Collection(_) => {
                use lamella_collection_ulabels as l;
                with_conn!(conn.inner, |c| {
                    l::table
                        .filter(l::collection_id.eq_any(chunk))
                        .select((l::collection_id, l::ulabel_id, l::feature_id))
                        .order((l::collection_id, l::id))
                        .load::<(i64, i64, Option<i64>)>(c)
                })?
            }
        });
    }
    Ok(out)
}

/// The feature sets linked to many owners of `kind`'s sort: `(owner id, slot, set id)`. One
/// statement per thousand owners.
pub fn slots_many(
    conn: &mut Conn<'_>,
    kind: Owner,
    owners: &[i64],
) -> Result<Vec<(i64, String, i64)>> {
    let mut out = Vec::new();
    for chunk in owners.chunks(INSERT_CHUNK) {
        out.extend(match kind {
            Owner::Artifact(_) => {
                use lamella_artifact_feature_sets as l;
                with_conn!(conn.inner, |c| {
                    l::table
                        .filter(l::artifact_id.eq_any(chunk))
                        .select((l::artifact_id, l::slot, l::feature_set_id))
                        .load::<(i64, String, i64)>(c)
                })?
            }
            Owner::Collection(_) => {
                use lamella_collection_feature_sets as l;
                with_conn!(conn.inner, |c| {
                    l::table
                        .filter(l::collection_id.eq_any(chunk))
                        .select((l::collection_id, l::slot, l::feature_set_id))
                        .load::<(i64, String, i64)>(c)
                })?
            }
        });
    }
    Ok(out)
}

/// Links feature sets under `slot` to many owners of `kind`'s sort (`(owner id, set id)`),
/// replacing each owner's previous set in that slot (or removing it, for `None`). Two
/// statements per thousand owners.
pub fn set_slot_many(
    conn: &mut Conn<'_>,
    kind: Owner,
    slot: &str,
    rows: &[(i64, Option<i64>)],
) -> Result<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let owners: Vec<i64> = chunk.iter().map(|(o, _)| *o).collect();
        match kind {
            Owner::Artifact(_) => {
                use lamella_artifact_feature_sets as l;
                let new: Vec<_> = chunk
                    .iter()
                    .filter_map(|(o, s)| {
                        s.map(|s| {
                            (
                                l::artifact_id.eq(*o),
                                l::feature_set_id.eq(s),
                                l::slot.eq(slot),
                            )
                        })
                    })
                    .collect();
                with_conn!(conn.inner, |c| {
                    diesel::delete(
                        l::table
                            .filter(l::artifact_id.eq_any(&owners))
                            .filter(l::slot.eq(slot)),
                    )
                    .execute(c)?;
                    if new.is_empty() {
                        Ok(0)
                    } else {
                        diesel::insert_into(l::table).values(&new).execute(c)
                    }
                })?;
            }
            Owner::Collection(_) => {
                use lamella_collection_feature_sets as l;
                let new: Vec<_> = chunk
                    .iter()
                    .filter_map(|(o, s)| {
                        s.map(|s| {
                            (
                                l::collection_id.eq(*o),
                                l::feature_set_id.eq(s),
                                l::slot.eq(slot),
                            )
                        })
                    })
                    .collect();
                with_conn!(conn.inner, |c| {
                    diesel::delete(
                        l::table
                            .filter(l::collection_id.eq_any(&owners))
                            .filter(l::slot.eq(slot)),
                    )
                    .execute(c)?;
                    if new.is_empty() {
                        Ok(0)
                    } else {
                        diesel::insert_into(l::table).values(&new).execute(c)
                    }
                })?;
            }
        }
    }
    Ok(())
}

/// The labels linked to `owner`: `(ulabel id, feature id)`, in link order.
pub fn label_links(conn: &mut Conn<'_>, owner: Owner) -> Result<Vec<(i64, Option<i64>)>> {
    Ok(match owner {
        Owner::Artifact(id) => {
            use lamella_artifact_ulabels as l;
            with_conn!(conn.inner, |c| {
                l::table
                    .filter(l::artifact_id.eq(id))
                    .select((l::ulabel_id, l::feature_id))
                    .order(l::id)
                    .load::<(i64, Option<i64>)>(c)
            })?
        }
        Owner::Collection(id) => {
            use lamella_collection_ulabels as l;
            with_conn!(conn.inner, |c| {
                l::table
                    .filter(l::collection_id.eq(id))
                    .select((l::ulabel_id, l::feature_id))
                    .order(l::id)
                    .load::<(i64, Option<i64>)>(c)
            })?
        }
    })
}

/// The feature sets linked to `owner`: `(slot, feature set id)`, by slot.
pub fn slots(conn: &mut Conn<'_>, owner: Owner) -> Result<Vec<(String, i64)>> {
    Ok(match owner {
        Owner::Artifact(id) => {
            use lamella_artifact_feature_sets as l;
            with_conn!(conn.inner, |c| {
                l::table
                    .filter(l::artifact_id.eq(id))
                    .select((l::slot, l::feature_set_id))
                    .order(l::slot)
                    .load::<(String, i64)>(c)
            })?
        }
        Owner::Collection(id) => {
            use lamella_collection_feature_sets as l;
            with_conn!(conn.inner, |c| {
                l::table
                    .filter(l::collection_id.eq(id))
                    .select((l::slot, l::feature_set_id))
                    .order(l::slot)
                    .load::<(String, i64)>(c)
            })?
        }
    })
}

/// Links feature set `set_id` to `owner` under `slot`, replacing the slot's previous set;
/// returns the id of the set it replaced, if another. A slot that already links `set_id` is
/// left as it is (no statement).
pub fn set_slot(conn: &mut Conn<'_>, owner: Owner, slot: &str, set_id: i64) -> Result<Option<i64>> {
    let previous = slots(conn, owner)?
        .into_iter()
        .find(|(s, _)| s == slot)
        .map(|(_, id)| id);
    if previous == Some(set_id) {
        return Ok(None);
    }
    match owner {
        Owner::Artifact(id) => {
            use lamella_artifact_feature_sets as l;
            with_conn!(conn.inner, |c| {
                diesel::delete(
                    l::table
                        .filter(l::artifact_id.eq(id))
                        .filter(l::slot.eq(slot)),
                )
                .execute(c)?;
                diesel::insert_into(l::table)
                    .values((
                        l::artifact_id.eq(id),
                        l::feature_set_id.eq(set_id),
                        l::slot.eq(slot),
                    ))
                    .execute(c)
            })?;
        }
        Owner::Collection(id) => {
            use lamella_collection_feature_sets as l;
            with_conn!(conn.inner, |c| {
                diesel::delete(
                    l::table
                        .filter(l::collection_id.eq(id))
                        .filter(l::slot.eq(slot)),
                )
                .execute(c)?;
                diesel::insert_into(l::table)
                    .values((
                        l::collection_id.eq(id),
                        l::feature_set_id.eq(set_id),
                        l::slot.eq(slot),
                    ))
                    .execute(c)
            })?;
        }
    }
    Ok(previous.filter(|p| *p != set_id))
}

/// Deletes feature set `set_id` when no artifact or collection links it any more; returns
/// whether it was deleted.
pub fn delete_feature_set_if_unused(conn: &mut Conn<'_>, set_id: i64) -> Result<bool> {
    // Under the set's hash lock, so a concurrent save that finds this set by its hash and
    // links it is never left pointing at a deleted set.
    let hash: Option<String> = with_conn!(conn.inner, |c| {
        lamella_feature_sets::table
            .filter(lamella_feature_sets::id.eq(set_id))
            .select(lamella_feature_sets::hash)
            .first::<String>(c)
            .optional()
    })?;
    let Some(hash) = hash else {
        return Ok(false);
    };
    conn.lock(&[format!("feature-set:{hash}")])?;
    let used: i64 = with_conn!(conn.inner, |c| {
        let a: i64 = lamella_artifact_feature_sets::table
            .filter(lamella_artifact_feature_sets::feature_set_id.eq(set_id))
            .count()
            .get_result(c)?;
        let b: i64 = lamella_collection_feature_sets::table
            .filter(lamella_collection_feature_sets::feature_set_id.eq(set_id))
            .count()
            .get_result(c)?;
        Ok::<i64, diesel::result::Error>(a + b)
    })?;
    if used > 0 {
        return Ok(false);
    }
    let n = with_conn!(conn.inner, |c| {
        diesel::delete(lamella_feature_sets::table.filter(lamella_feature_sets::id.eq(set_id)))
            .execute(c)
    })?;
    Ok(n > 0)
}

/// Records artifacts and collections as inputs of run `run_id` (existing inputs are kept);
/// returns how many are new.
pub fn add_run_inputs(
    conn: &mut Conn<'_>,
    run_id: i64,
    artifacts: &[i64],
    collections: &[i64],
) -> Result<usize> {
    let mut n = 0;
    for chunk in artifacts.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|a| {
                (
                    lamella_run_input_artifacts::run_id.eq(run_id),
                    lamella_run_input_artifacts::artifact_id.eq(*a),
                )
            })
            .collect();
        n += with_conn!(conn.inner, |c| {
            diesel::insert_into(lamella_run_input_artifacts::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c)
        })?;
    }
    for chunk in collections.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|a| {
                (
                    lamella_run_input_collections::run_id.eq(run_id),
                    lamella_run_input_collections::collection_id.eq(*a),
                )
            })
            .collect();
        n += with_conn!(conn.inner, |c| {
            diesel::insert_into(lamella_run_input_collections::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c)
        })?;
    }
    Ok(n)
}

/// The artifacts and collections run `run_id` used as inputs: `(artifact ids, collection ids)`.
pub fn run_inputs(conn: &mut Conn<'_>, run_id: i64) -> Result<(Vec<i64>, Vec<i64>)> {
    let a = with_conn!(conn.inner, |c| {
        lamella_run_input_artifacts::table
            .filter(lamella_run_input_artifacts::run_id.eq(run_id))
            .select(lamella_run_input_artifacts::artifact_id)
            .order(lamella_run_input_artifacts::artifact_id)
            .load::<i64>(c)
    })?;
    let c = with_conn!(conn.inner, |c| {
        lamella_run_input_collections::table
            .filter(lamella_run_input_collections::run_id.eq(run_id))
            .select(lamella_run_input_collections::collection_id)
            .order(lamella_run_input_collections::collection_id)
            .load::<i64>(c)
    })?;
    Ok((a, c))
}

/// Sets the members of collection `collection_id`, in order (`position` 0, 1, …).
pub fn insert_collection_members(
    conn: &mut Conn<'_>,
    collection_id: i64,
    artifacts: &[i64],
) -> Result<()> {
    for (c, chunk) in artifacts.chunks(INSERT_CHUNK).enumerate() {
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    lamella_collection_artifacts::collection_id.eq(collection_id),
                    lamella_collection_artifacts::artifact_id.eq(*a),
                    lamella_collection_artifacts::position.eq((c * INSERT_CHUNK + i) as i32),
                )
            })
            .collect();
        with_conn!(conn.inner, |c| {
            diesel::insert_into(lamella_collection_artifacts::table)
                .values(&rows)
                .execute(c)
        })?;
    }
    Ok(())
}

/// The member artifact ids of collection `collection_id`, in order.
pub fn collection_members(conn: &mut Conn<'_>, collection_id: i64) -> Result<Vec<i64>> {
    Ok(with_conn!(conn.inner, |c| {
        lamella_collection_artifacts::table
            .filter(lamella_collection_artifacts::collection_id.eq(collection_id))
            .select(lamella_collection_artifacts::artifact_id)
            .order(lamella_collection_artifacts::position)
            .load::<i64>(c)
    })?)
}

/// A lineage edge: `(child kind, child id, parent kind, parent id)`, kinds `a` (artifact),
/// `c` (collection), `r` (run); data flows from parent to child.
pub type LineageEdge = (String, i64, String, i64);

/// The lineage edges reachable from `(kind, id)` within `depth` steps, upstream (towards
/// inputs) or downstream (towards outputs), in one recursive statement: artifacts and
/// collections are children of the run that made them, collections of their members, runs
/// of their inputs.
pub fn lineage_edges(
    conn: &mut Conn<'_>,
    kind: &str,
    id: i64,
    depth: u32,
    downstream: bool,
) -> Result<Vec<LineageEdge>> {
    use diesel::sql_types::{BigInt, Text};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        ck: String,
        #[diesel(sql_type = BigInt)]
        cid: i64,
        #[diesel(sql_type = Text)]
        pk: String,
        #[diesel(sql_type = BigInt)]
        pid: i64,
    }
    if !matches!(kind, "a" | "c" | "r") {
        return Err(crate::error::Error::Lookup(format!(
            "'{kind}' is no lineage node kind"
        )));
    }
    let edges = "SELECT CAST('a' AS TEXT) AS ck, id AS cid, CAST('r' AS TEXT) AS pk, run_id AS pid \
                   FROM lamella_artifacts WHERE run_id IS NOT NULL \
                 UNION ALL SELECT CAST('c' AS TEXT), id, CAST('r' AS TEXT), run_id \
                   FROM lamella_collections WHERE run_id IS NOT NULL \
                 UNION ALL SELECT CAST('c' AS TEXT), collection_id, CAST('a' AS TEXT), artifact_id \
                   FROM lamella_collection_artifacts \
                 UNION ALL SELECT CAST('r' AS TEXT), run_id, CAST('a' AS TEXT), artifact_id \
                   FROM lamella_run_input_artifacts \
                 UNION ALL SELECT CAST('r' AS TEXT), run_id, CAST('c' AS TEXT), collection_id \
                   FROM lamella_run_input_collections";
    let (from_k, from_i, to_k, to_i) = if downstream {
        ("pk", "pid", "ck", "cid")
    } else {
        ("ck", "cid", "pk", "pid")
    };
    let mut sql = crate::query::Sql::new(conn.backend());
    sql.push(&format!(
        "WITH RECURSIVE e AS ({edges}), walk(k, i, d) AS (SELECT CAST("
    ));
    sql.bind_text(kind.to_string());
    sql.push(" AS TEXT), CAST(");
    sql.bind_i64(id);
    sql.push(&format!(
        " AS BIGINT), 0 UNION SELECT e.{to_k}, e.{to_i}, walk.d + 1 FROM e JOIN walk ON \
         e.{from_k} = walk.k AND e.{from_i} = walk.i WHERE walk.d < "
    ));
    sql.bind_i64(i64::from(depth));
    sql.push(&format!(
        ") SELECT DISTINCT e.ck, e.cid, e.pk, e.pid FROM e JOIN walk ON e.{from_k} = walk.k \
         AND e.{from_i} = walk.i WHERE walk.d < "
    ));
    sql.bind_i64(i64::from(depth));
    sql.push(" ORDER BY 1, 2, 3, 4");
    let rows: Vec<Row> = sql.load_rows(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.ck, r.cid, r.pk, r.pid))
        .collect())
}

/// For many artifacts at once, their feature sets by slot: `(artifact id, slot, set id)`.
pub fn artifacts_slots(conn: &mut Conn<'_>, artifacts: &[i64]) -> Result<Vec<(i64, String, i64)>> {
    use lamella_artifact_feature_sets as l;
    let mut out = Vec::new();
    for chunk in artifacts.chunks(5000) {
        out.extend(with_conn!(conn.inner, |c| {
            l::table
                .filter(l::artifact_id.eq_any(chunk))
                .select((l::artifact_id, l::slot, l::feature_set_id))
                .order((l::artifact_id, l::slot))
                .load::<(i64, String, i64)>(c)
        })?);
    }
    Ok(out)
}

/// `(artifact id, ulabel id, feature id)` of the labels linked to any of `artifacts` through
/// one of `features` (chunked `IN` lists: one statement per 5,000 artifacts).
pub fn artifacts_feature_labels(
    conn: &mut Conn<'_>,
    artifacts: &[i64],
    features: &[i64],
) -> Result<Vec<(i64, i64, i64)>> {
    use lamella_artifact_ulabels as l;
    let mut out = Vec::new();
    if features.is_empty() {
        return Ok(out);
    }
    for chunk in artifacts.chunks(5000) {
        let rows = with_conn!(conn.inner, |c| {
            l::table
                .filter(l::artifact_id.eq_any(chunk))
                .filter(l::feature_id.eq_any(features))
                .select((l::artifact_id, l::ulabel_id, l::feature_id))
                .order(l::id)
                .load::<(i64, i64, Option<i64>)>(c)
        })?;
        out.extend(rows.into_iter().filter_map(|(a, u, f)| Some((a, u, f?))));
    }
    Ok(out)
}

/// Rows per statement of the PostgreSQL bulk link inserts (three arrays of this length).
pub(crate) const PG_UNNEST_ROWS: usize = 100_000;

/// [`link_ulabels_many`] on PostgreSQL: the links as three arrays unnested in one statement
/// per hundred thousand (diesel's multi-row inserts cost ~20 µs a row in binds).
fn pg_link_ulabels(
    c: &mut diesel::pg::PgConnection,
    kind: Owner,
    links: &[(i64, i64, Option<i64>)],
    t: chrono::NaiveDateTime,
    user_id: i64,
    owners_locked: bool,
) -> Result<usize> {
    use diesel::sql_types::{Array, BigInt, Nullable, Timestamp};
    let (table, owner_col, stamped) = match kind {
        Owner::Artifact(_) => ("lamella_artifact_ulabels", "artifact_id", true),
        Owner::Collection(_) => ("lamella_collection_ulabels", "collection_id", false),
    };
    let (columns, values) = if stamped {
        (", created_at, created_by_id", ", $4, $5")
    } else {
        ("", "")
    };
    let new_only = if owners_locked {
        // Only the links that do not exist: the unique index (owner, label,
        // COALESCE(feature, 0)) answers each probe. Rows repeated in the call are dropped
        // below, keeping the first (ON CONFLICT would skip the repeat).
        format!(
            " WHERE NOT EXISTS (SELECT 1 FROM {table} l WHERE l.{owner_col} = x.o AND \
             l.ulabel_id = x.u AND COALESCE(l.feature_id, 0) = COALESCE(x.f, 0))"
        )
    } else {
        " ON CONFLICT DO NOTHING".to_string()
    };
    let sql = format!(
        "INSERT INTO {table} ({owner_col}, ulabel_id, feature_id{columns}) \
         SELECT o, u, f{values} FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) \
         AS x(o, u, f){new_only}"
    );
    let distinct: Vec<(i64, i64, Option<i64>)>;
    let links = if owners_locked {
        let mut seen = std::collections::HashSet::with_capacity(links.len());
        distinct = links.iter().copied().filter(|l| seen.insert(*l)).collect();
        &distinct[..]
    } else {
        links
    };
    let mut n = 0;
    for chunk in links.chunks(PG_UNNEST_ROWS) {
        let owners: Vec<i64> = chunk.iter().map(|l| l.0).collect();
        let labels: Vec<i64> = chunk.iter().map(|l| l.1).collect();
        let features: Vec<Option<i64>> = chunk.iter().map(|l| l.2).collect();
        let q = diesel::sql_query(&sql)
            .bind::<Array<BigInt>, _>(owners)
            .bind::<Array<BigInt>, _>(labels)
            .bind::<Array<Nullable<BigInt>>, _>(features);
        n += if stamped {
            q.bind::<Timestamp, _>(t)
                .bind::<BigInt, _>(user_id)
                .execute(c)?
        } else {
            q.execute(c)?
        };
    }
    Ok(n)
}
