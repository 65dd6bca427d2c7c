//! What AnnData artifacts hold (`lamella_artifact_anndata`): shape and a JSON summary per
//! artifact, written in the save's transaction and read by `describe`. One statement each.

use diesel::prelude::*;

use crate::db::{Conn, with_conn};
use crate::error::Result;
use crate::tables::lamella_artifact_anndata;

/// One artifact's AnnData shape and summary.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = lamella_artifact_anndata)]
pub struct AnnDataRow {
    /// The artifact.
    pub artifact_id: i64,
    /// Observations (cells).
    pub n_obs: i64,
    /// Variables (genes).
    pub n_vars: i64,
    /// The summary as JSON (its shape is the core crate's).
    pub summary: String,
}

/// Inserts the rows (one statement).
pub fn insert(conn: &mut Conn<'_>, rows: &[AnnDataRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    use lamella_artifact_anndata as t;
    with_conn!(conn.inner, |c| diesel::insert_into(t::table)
        .values(rows)
        .execute(c))?;
    Ok(())
}

/// The rows of the artifacts `ids` (one statement).
pub fn of_artifacts(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<AnnDataRow>> {
    use lamella_artifact_anndata as t;
    Ok(with_conn!(conn.inner, |c| t::table
        .filter(t::artifact_id.eq_any(ids))
        .select(AnnDataRow::as_select())
        .load(c))?)
}
