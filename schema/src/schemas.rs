//! Saved schemas: rows of `lamella_schemas`, their members, and the version an artifact
//! passed. Every function is one statement (or one per table).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{Conn, with_conn};
use crate::error::Result;
use crate::tables::{lamella_artifact_schemas, lamella_schema_features, lamella_schemas};

/// A saved schema version.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = lamella_schemas)]
pub struct SchemaRow {
    /// Its id (ignored on insert).
    #[diesel(skip_insertion)]
    pub id: i64,
    /// 16-character stem shared by the versions, then the 4-character version.
    pub uid: String,
    /// Its name (the versions share it).
    pub name: String,
    /// A description.
    pub description: Option<String>,
    /// The hash of its members and rules.
    pub hash: String,
    /// Whether required features must come in order.
    pub ordered: bool,
    /// Whether columns of other features (or none) are allowed.
    pub allow_extra: bool,
    /// Whether it is its name's newest version.
    pub is_latest: bool,
    /// When it was saved.
    pub created_at: NaiveDateTime,
    /// Who saved it.
    pub created_by_id: i64,
}

/// A member of a schema version.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = lamella_schema_features)]
pub struct SchemaMemberRow {
    /// The schema.
    pub schema_id: i64,
    /// The feature.
    pub feature_id: i64,
    /// Its place in the schema (0-based).
    pub position: i32,
    /// Whether a table must have it.
    pub required: bool,
    /// The column checked against it when the column is named otherwise.
    pub column_name: Option<String>,
}

/// Inserts a schema version and its members; returns its id.
pub fn insert_schema(
    conn: &mut Conn<'_>,
    row: &SchemaRow,
    members: &[SchemaMemberRow],
) -> Result<i64> {
    let id: i64 = with_conn!(conn.inner, |c| {
        diesel::insert_into(lamella_schemas::table)
            .values(row)
            .returning(lamella_schemas::id)
            .get_result(c)
    })?;
    let members: Vec<SchemaMemberRow> = members
        .iter()
        .map(|m| SchemaMemberRow {
            schema_id: id,
            ..m.clone()
        })
        .collect();
    for chunk in members.chunks(1000) {
        with_conn!(conn.inner, |c| {
            diesel::insert_into(lamella_schema_features::table)
                .values(chunk)
                .execute(c)
        })?;
    }
    Ok(id)
}

/// Schema versions: every version of `name` (newest last), or all when `name` is `None`.
pub fn schemas(conn: &mut Conn<'_>, name: Option<&str>) -> Result<Vec<SchemaRow>> {
    use lamella_schemas as s;
    Ok(with_conn!(conn.inner, |c| match name {
        Some(n) => s::table
            .filter(s::name.eq(n))
            .order(s::uid)
            .select(SchemaRow::as_select())
            .load(c),
        None => s::table
            .order((s::name, s::uid))
            .select(SchemaRow::as_select())
            .load(c),
    })?)
}

/// Schema versions whose uid starts with `prefix`.
pub fn schemas_by_uid(conn: &mut Conn<'_>, prefix: &str) -> Result<Vec<SchemaRow>> {
    use lamella_schemas as s;
    Ok(with_conn!(conn.inner, |c| s::table
        .filter(s::uid.like(format!("{prefix}%")))
        .order(s::uid)
        .select(SchemaRow::as_select())
        .load(c))?)
}

/// Schema versions by id.
pub fn schemas_by_ids(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<SchemaRow>> {
    use lamella_schemas as s;
    Ok(with_conn!(conn.inner, |c| s::table
        .filter(s::id.eq_any(ids))
        .select(SchemaRow::as_select())
        .load(c))?)
}

/// The members of the schemas `ids`, by schema then position.
pub fn schema_members(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<SchemaMemberRow>> {
    use lamella_schema_features as m;
    Ok(with_conn!(conn.inner, |c| m::table
        .filter(m::schema_id.eq_any(ids))
        .order((m::schema_id, m::position))
        .select(SchemaMemberRow::as_select())
        .load(c))?)
}

/// Marks version `id` of `name` the latest and the others not.
pub fn set_latest_schema(conn: &mut Conn<'_>, name: &str, id: i64) -> Result<()> {
    use lamella_schemas as s;
    with_conn!(conn.inner, |c| {
        diesel::update(s::table.filter(s::name.eq(name)))
            .set(s::is_latest.eq(s::id.eq(id)))
            .execute(c)
    })?;
    Ok(())
}

/// Links an artifact to the schema version it passed (replacing an earlier one).
pub fn link_artifact_schema(conn: &mut Conn<'_>, artifact_id: i64, schema_id: i64) -> Result<()> {
    use lamella_artifact_schemas as a;
    with_conn!(conn.inner, |c| {
        diesel::delete(a::table.filter(a::artifact_id.eq(artifact_id))).execute(c)?;
        diesel::insert_into(a::table)
            .values((a::artifact_id.eq(artifact_id), a::schema_id.eq(schema_id)))
            .execute(c)
    })?;
    Ok(())
}

/// The schema version an artifact passed, if any.
pub fn artifact_schema(conn: &mut Conn<'_>, artifact_id: i64) -> Result<Option<SchemaRow>> {
    use lamella_artifact_schemas as a;
    use lamella_schemas as s;
    Ok(with_conn!(conn.inner, |c| a::table
        .inner_join(s::table.on(s::id.eq(a::schema_id)))
        .filter(a::artifact_id.eq(artifact_id))
        .select(SchemaRow::as_select())
        .first(c)
        .optional())?)
}

/// How many artifacts passed each of the schema versions `ids`.
pub fn schema_use(conn: &mut Conn<'_>, ids: &[i64]) -> Result<i64> {
    use lamella_artifact_schemas as a;
    Ok(with_conn!(conn.inner, |c| a::table
        .filter(a::schema_id.eq_any(ids))
        .count()
        .get_result(c))?)
}

/// Deletes the schema versions `ids` (their members go with them).
pub fn delete_schemas(conn: &mut Conn<'_>, ids: &[i64]) -> Result<usize> {
    use lamella_schemas as s;
    Ok(with_conn!(conn.inner, |c| diesel::delete(
        s::table.filter(s::id.eq_any(ids))
    )
    .execute(c))?)
}
