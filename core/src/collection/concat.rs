//! The concatenation plan and `load()` (SPEC §7.1): a plan is made from the members' schemas
//! (Parquet footers, no data pages) before any data is read; members are then read in
//! parallel, cast to the planned types, and concatenated in member order.
//!
//! Supertypes, where Lamella differs from pandas:
//! - a column missing from some members stays of its type, with nulls (pandas turns ints into
//!   float64 and bools into object);
//! - signed ints of different widths, and unsigned ints that fit, give the wider signed int;
//! - int + float and float32 + float64 give float64;
//! - dictionary + dictionary gives a dictionary of the union of the values, in first-seen
//!   order (pandas falls back to object when the categories differ);
//! - dictionary + string and utf8 + large utf8 give a string (large when either is);
//! - timestamps in one zone with different units give the finer unit, when the members'
//!   Parquet statistics show their times fit it (else an error);
//! - an int that becomes float64 is lossy (an error unless allowed) when the statistics show
//!   values beyond 2^53;
//! - lists apply the rules to their items, structs to their children by name (a child one
//!   member lacks is filled with nulls);
//! - anything else (bool + number, number + string, different or missing zones, uint64 +
//!   int64, date + timestamp) is an error naming the column, both types and the artifacts,
//!   unless lossy promotions are allowed: then numbers become float64, zoned timestamps UTC,
//!   the rest strings.

use std::sync::Arc;

use arrow::array::{ArrayRef, new_null_array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use lamella_schema::{Artifact, Collection};
use lamella_storage::TablePart;
use rayon::prelude::*;
use serde::Serialize;

use super::Collections;
use crate::error::{Error, Result};

/// How columns of different members combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Join {
    /// Every column of any member (nulls where a member lacks it), in first-seen order.
    #[default]
    Outer,
    /// Only the columns every member has.
    Inner,
}

/// How columns whose member types differ are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Promotion {
    /// Only promotions that keep every value (ints widen, int + float → float64 while the
    /// ints fit exactly); anything else is an error naming the column.
    #[default]
    Exact,
    /// Also the stated fallbacks that may lose information: numbers to float64, zoned times
    /// to UTC, the rest to strings.
    Lossy,
}

/// What writing to a path that exists does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Existing {
    /// Refuse: the file stays as it is.
    #[default]
    Refuse,
    /// Replace it (atomically: the old file stays until the new one is complete). Never
    /// allowed inside a storage location.
    Replace,
}

/// A concatenation of a collection's member tables, configured then run:
/// `ln.collections().concat(&c).join(Join::Inner).promotion(Promotion::Lossy).load()`.
#[derive(Debug, Clone)]
#[must_use = "a concatenation runs with check(), load(), batches() or export()"]
pub struct Concat {
    collections: Collections,
    collection: Collection,
    join: Join,
    promotion: Promotion,
}

impl Collections {
    /// The concatenation of `c`'s members (outer join, exact promotions unless changed).
    pub fn concat(&self, c: &Collection) -> Concat {
        Concat {
            collections: self.clone(),
            collection: c.clone(),
            join: Join::default(),
            promotion: Promotion::default(),
        }
    }
}

impl Concat {
    /// Which columns: all (outer, the default) or those every member has (inner).
    pub fn join(mut self, join: Join) -> Self {
        self.join = join;
        self
    }

    /// Which type promotions are allowed (exact by default).
    pub fn promotion(mut self, promotion: Promotion) -> Self {
        self.promotion = promotion;
        self
    }

    fn lossy(&self) -> bool {
        self.promotion == Promotion::Lossy
    }

    /// The plan, from the members' schemas (and statistics) only: per column the result
    /// type, lossy or not, the nulls the join fills, units and categories from the
    /// registries.
    pub fn check(&self) -> Result<Plan> {
        self.collections
            .check(&self.collection, self.join, self.lossy())
    }

    /// The members' tables concatenated in member order by the plan, read in parallel. In a
    /// tracked run the collection becomes an input.
    pub fn load(&self) -> Result<RecordBatch> {
        self.collections
            .load(&self.collection, self.join, self.lossy())
    }

    /// The concatenation as a stream of record batches, one member file open at a time.
    pub fn batches(&self) -> Result<(SchemaRef, CollectionBatches)> {
        self.collections
            .batches(&self.collection, self.join, self.lossy())
    }

    /// Streams the concatenation into one Parquet, CSV or TSV file at `path` (by suffix):
    /// it appears complete or not at all; an existing file is replaced only when `existing`
    /// says so, and never inside a storage location. Returns `(rows, bytes)`.
    pub fn export(&self, path: &std::path::Path, existing: Existing) -> Result<(u64, u64)> {
        self.collections
            .export(&self.collection, path, self.join, self.lossy(), existing)
    }

    /// [`export`](Self::export), then saves the file as an artifact under `key`: in a
    /// tracked run the collection is the run's input and the artifact its output.
    pub fn export_artifact(
        &self,
        path: &std::path::Path,
        existing: Existing,
        key: &str,
    ) -> Result<(u64, crate::registry::Saved<Artifact>)> {
        self.collections.export_artifact(
            &self.collection,
            path,
            self.join,
            self.lossy(),
            existing,
            key,
        )
    }
}

/// One column of the concatenation.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedColumn {
    /// The column.
    pub name: String,
    /// Its type in the result (as Arrow prints it).
    pub data_type: String,
    /// Whether some member's values lose information on the way (allowed on request only).
    pub lossy: bool,
    /// Rows the outer join fills with nulls (members without the column).
    pub nulls_filled: usize,
    /// Per member, in member order: its type for this column.
    pub members: Vec<MemberColumn>,
    /// The unit of the registered feature of this name, if it has one (`check()` only).
    pub unit: Option<String>,
    /// Members whose column declares (Arrow field metadata `unit`) a unit other than the
    /// feature's — or, without a feature unit, other than the first declared one.
    pub unit_disagreements: Vec<UnitDisagreement>,
    /// For a categorical feature: the labels the members are annotated with through it, and
    /// which are not shared by every annotated member (`check()` only).
    pub categories: Option<CategoryCheck>,
    #[serde(skip)]
    pub(crate) arrow_type: DataType,
    /// Whether the result's column may hold nulls: unless every member has it, declared
    /// without nulls, and none loses values on the way (a lossy cast makes nulls).
    #[serde(skip)]
    pub(crate) nullable: bool,
}

/// A member's type for a planned column.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberColumn {
    /// The member (artifact uid).
    pub artifact: String,
    /// Its column's type (as Arrow prints it), `None` when it lacks the column.
    pub data_type: Option<String>,
}

/// A member's column whose unit differs from the column's.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitDisagreement {
    /// The member (artifact uid).
    pub artifact: String,
    /// Its column's unit.
    pub unit: String,
    /// The unit expected: the feature's, or the first member's.
    pub expected: String,
    /// The factor that converts the member's values into `expected`, when the units convert.
    pub factor: Option<f64>,
}

/// Labels of a categorical column across members, from their label links (no data read).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CategoryCheck {
    /// The feature's registry dtype (`cat[ULabel]`, …).
    pub dtype: String,
    /// Distinct labels over all annotated members.
    pub labels: usize,
    /// Labels every annotated member has.
    pub common: usize,
    /// Members annotated through the feature.
    pub annotated: usize,
    /// Per annotated member with labels others lack: those labels (the first 20) and how many.
    pub only_in: Vec<MemberLabels>,
}

/// Labels of one member that not every annotated member has.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemberLabels {
    /// The member (artifact uid).
    pub artifact: String,
    /// How many such labels it has.
    pub count: usize,
    /// The first 20 of them, in link order.
    pub labels: Vec<String>,
}

/// Labels shown per member in a [`CategoryCheck`].
const SHOWN_LABELS: usize = 20;

/// The plan: the result's columns and rows, before any data is read.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The join.
    pub join: Join,
    /// Rows of the result.
    pub rows: usize,
    /// The result's columns, in order.
    pub columns: Vec<PlannedColumn>,
    /// Columns an inner join leaves out.
    pub dropped: Vec<String>,
    /// For AnnData members: how their genes (`var` panels) line up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub var: Option<VarPanels>,
}

/// How the genes of AnnData members line up (see [`Plan::var`]).
#[derive(Debug, Clone, Serialize)]
pub struct VarPanels {
    /// Whether every member has the same genes in the same order.
    pub identical: bool,
    /// Genes of the concatenation under the plan's join.
    pub n_vars: usize,
    /// Genes all members share.
    pub shared: usize,
    /// Per member, in order: its genes and the genes of others it lacks.
    pub members: Vec<MemberPanel>,
}

/// One member's genes against the others' (see [`VarPanels`]).
#[derive(Debug, Clone, Serialize)]
pub struct MemberPanel {
    /// The member's uid.
    pub uid: String,
    /// Its number of genes.
    pub n_vars: usize,
    /// How many genes of the other members it lacks (zeros in an outer join).
    pub n_missing: usize,
    /// The first of them.
    pub missing: Vec<String>,
}

fn int_width(t: &DataType) -> Option<(bool, u8)> {
    Some(match t {
        DataType::Int8 => (true, 8),
        DataType::Int16 => (true, 16),
        DataType::Int32 => (true, 32),
        DataType::Int64 => (true, 64),
        DataType::UInt8 => (false, 8),
        DataType::UInt16 => (false, 16),
        DataType::UInt32 => (false, 32),
        DataType::UInt64 => (false, 64),
        _ => return None,
    })
}

fn signed(bits: u8) -> DataType {
    match bits {
        8 => DataType::Int8,
        16 => DataType::Int16,
        32 => DataType::Int32,
        _ => DataType::Int64,
    }
}

fn unsigned(bits: u8) -> DataType {
    match bits {
        8 => DataType::UInt8,
        16 => DataType::UInt16,
        32 => DataType::UInt32,
        _ => DataType::UInt64,
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn finer(a: TimeUnit, b: TimeUnit) -> TimeUnit {
    let rank = |u: TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// A member's schema, rows and integer bounds (from the Parquet footer's statistics).
pub(crate) struct MemberSchema {
    schema: SchemaRef,
    rows: usize,
    bounds: std::collections::HashMap<String, (i64, i64)>,
}

/// Largest integer a float64 holds exactly.
const EXACT_FLOAT: i64 = 1 << 53;

/// Reads a member column's value range (smallest, largest) from its values.
type ReadBounds<'a> = dyn Fn(&Artifact, &str) -> Result<Option<(i64, i64)>> + 'a;

/// Whether a member column of type `from` must have its value range checked to become `to`:
/// integers that become floats (exact only up to 2^53), timestamps that move to a finer unit
/// (which may not fit 64 bits).
fn needs_bounds(from: &DataType, to: &DataType) -> bool {
    match (from, to) {
        (f, t) if f.is_integer() && t.is_floating() => true,
        (DataType::Timestamp(a, _), DataType::Timestamp(b, _)) => finer(*a, *b) != *a,
        _ => false,
    }
}

/// What the members' values say of the planned type `to` of column `name`: integers beyond
/// 2^53 that become floats are lossy (an error unless allowed); timestamps that move to a
/// finer unit must fit it. The range comes from the Parquet statistics, or — for a member
/// without them (a CSV file, a Parquet file written without statistics) — from `read`, which
/// reads the column's values. Returns whether the column is lossy.
fn check_bounds(
    name: &str,
    to: &DataType,
    types: &[Option<&DataType>],
    schemas: &[MemberSchema],
    members: &[Artifact],
    allow_lossy: bool,
    read: &ReadBounds<'_>,
) -> Result<bool> {
    let mut lossy = false;
    for ((t, m), a) in types.iter().zip(schemas).zip(members) {
        let Some(t) = t else { continue };
        if !needs_bounds(t, to) {
            continue;
        }
        let (lo, hi) = match m.bounds.get(name) {
            Some(&b) => b,
            None => match read(a, name)? {
                Some(b) => b,
                None => continue,
            },
        };
        if t.is_integer() && to.is_floating() && (lo < -EXACT_FLOAT || hi > EXACT_FLOAT) {
            if !allow_lossy {
                return Err(Error::Concat {
                    column: Some(name.to_string()),
                    message: format!(
                        "column '{name}' becomes {to}, but artifact {} holds integers from {lo} \
                         to {hi}, beyond 2^53, which {to} cannot hold exactly: convert that \
                         member, or allow lossy promotions",
                        a.uid
                    ),
                    lossy_would_resolve: true,
                });
            }
            lossy = true;
        }
        if let (DataType::Timestamp(from, _), DataType::Timestamp(unit, _)) = (t, to) {
            let per_second = |u: &TimeUnit| match u {
                TimeUnit::Second => 1i64,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            let factor = per_second(unit) / per_second(from);
            if factor > 1 && (lo.checked_mul(factor).is_none() || hi.checked_mul(factor).is_none())
            {
                return Err(Error::Concat {
                    column: Some(name.to_string()),
                    message: format!(
                        "column '{name}' becomes {to}, but the times of artifact {} ({t}) do \
                         not fit that unit (64-bit {unit:?} spans about 1677 to 2262 for \
                         nanoseconds): convert a member to a common coarser unit before \
                         collecting them",
                        a.uid
                    ),
                    lossy_would_resolve: false,
                });
            }
        }
    }
    Ok(lossy)
}

/// Whether a member column of type `from` converts to the planned type `to` (structs and
/// lists child by child, as the loader conforms them).
fn convertible(from: &DataType, to: &DataType) -> bool {
    use DataType as D;
    match (from, to) {
        (a, b) if a == b => true,
        (D::Null, _) => true,
        (D::Struct(a), D::Struct(b)) => a.iter().all(|f| {
            b.iter()
                .find(|g| g.name() == f.name())
                .is_some_and(|g| convertible(f.data_type(), g.data_type()))
        }),
        (D::List(a) | D::LargeList(a), D::List(b) | D::LargeList(b)) => {
            convertible(a.data_type(), b.data_type())
        }
        (D::Struct(_) | D::List(_) | D::LargeList(_) | D::FixedSizeList(_, _), _) => false,
        (_, D::Struct(_) | D::List(_) | D::LargeList(_)) => false,
        (a, b) => arrow::compute::can_cast_types(a, b),
    }
}

/// The supertype of two member types: `Ok((type, lossy))`, or why they do not combine.
pub(crate) fn supertype(
    a: &DataType,
    b: &DataType,
    allow_lossy: bool,
) -> std::result::Result<(DataType, bool), String> {
    use DataType as D;
    if a == b {
        return Ok((a.clone(), false));
    }
    match (a, b) {
        (D::Null, t) | (t, D::Null) => return Ok((t.clone(), false)),
        (D::List(x), D::List(y)) => {
            let (t, lossy) = supertype(x.data_type(), y.data_type(), allow_lossy)?;
            return Ok((D::List(Arc::new(Field::new_list_field(t, true))), lossy));
        }
        (D::Struct(x), D::Struct(y)) => {
            // Children by name, in first-seen order; a child one side lacks is nullable.
            let mut children: Vec<Field> = Vec::with_capacity(x.len().max(y.len()));
            let mut lossy = false;
            for f in x.iter() {
                match y.iter().find(|g| g.name() == f.name()) {
                    Some(g) => {
                        let (t, l) = supertype(f.data_type(), g.data_type(), allow_lossy)
                            .map_err(|why| format!("field '{}': {why}", f.name()))?;
                        lossy |= l;
                        children.push(Field::new(f.name(), t, true));
                    }
                    None => children.push(f.as_ref().clone().with_nullable(true)),
                }
            }
            for g in y.iter().filter(|g| x.iter().all(|f| f.name() != g.name())) {
                children.push(g.as_ref().clone().with_nullable(true));
            }
            return Ok((D::Struct(children.into()), lossy));
        }
        (D::LargeList(x) | D::List(x), D::LargeList(y) | D::List(y)) => {
            let (t, lossy) = supertype(x.data_type(), y.data_type(), allow_lossy)?;
            return Ok((
                D::LargeList(Arc::new(Field::new_list_field(t, true))),
                lossy,
            ));
        }
        _ => {}
    }
    if let (Some((sa, wa)), Some((sb, wb))) = (int_width(a), int_width(b)) {
        return match (sa, sb) {
            (true, true) => Ok((signed(wa.max(wb)), false)),
            (false, false) => Ok((unsigned(wa.max(wb)), false)),
            _ => {
                let (s, u) = if sa { (wa, wb) } else { (wb, wa) };
                if u < 64 {
                    Ok((signed(s.max(u * 2)), false))
                } else if allow_lossy {
                    Ok((D::Float64, true))
                } else {
                    Err("uint64 and a signed integer have no common integer type".into())
                }
            }
        };
    }
    let numeric = |t: &DataType| t.is_integer() || t.is_floating();
    if numeric(a) && numeric(b) {
        return Ok((D::Float64, false));
    }
    let dict_text = |t: &DataType| matches!(t, D::Dictionary(_, v) if is_text(v));
    if dict_text(a) && dict_text(b) {
        return Ok((D::Dictionary(Box::new(D::Int32), Box::new(D::Utf8)), false));
    }
    if (is_text(a) || dict_text(a)) && (is_text(b) || dict_text(b)) {
        let large = matches!(a, D::LargeUtf8) || matches!(b, D::LargeUtf8);
        return Ok((if large { D::LargeUtf8 } else { D::Utf8 }, false));
    }
    if let (D::Timestamp(ua, za), D::Timestamp(ub, zb)) = (a, b) {
        if za == zb {
            return Ok((D::Timestamp(finer(*ua, *ub), za.clone()), false));
        }
        if allow_lossy {
            return Ok((D::Timestamp(finer(*ua, *ub), Some("UTC".into())), true));
        }
        return Err(match (za, zb) {
            (Some(_), Some(_)) => "the time zones differ".into(),
            _ => "one is zoned and the other naive".into(),
        });
    }
    if allow_lossy {
        if numeric(a) && numeric(b)
            || (numeric(a) && *b == D::Boolean)
            || (*a == D::Boolean && numeric(b))
        {
            return Ok((D::Float64, true));
        }
        return Ok((D::Utf8, true));
    }
    Err("the types do not combine without losing information".into())
}

impl Collections {
    fn member_schemas(&self, members: &[Artifact]) -> Result<Vec<MemberSchema>> {
        // AnnData members (.h5ad files and Zarr stores alike) are read by their obs.
        let anndata = members.iter().all(crate::anndata::is_anndata_artifact);
        let suffix = members.first().map(|a| a.suffix.to_ascii_lowercase());
        if let Some(a) = members
            .iter()
            .find(|a| Some(a.suffix.to_ascii_lowercase()) != suffix)
            .filter(|_| !anndata)
        {
            return Err(Error::Concat {
                column: None,
                message: format!(
                    "the members have different suffixes ('{}' and '{}', artifact {}): a \
                     collection loads as one table only when every member has the same suffix",
                    suffix.unwrap_or_default(),
                    a.suffix,
                    a.uid
                ),
                lossy_would_resolve: false,
            });
        }
        if !anndata
            && !suffix
                .as_deref()
                .is_some_and(crate::artifact::is_table_suffix)
        {
            return Err(Error::NotATable {
                what: "the collection".into(),
                reason: format!(
                    "its members are '{}' files; load them one by one",
                    suffix.unwrap_or_default()
                ),
            });
        }
        members
            .par_iter()
            .map(|a| {
                let path = self.ln.artifacts().local_copy(a)?;
                let rows = a.n_observations.unwrap_or(0).max(0) as usize;
                if crate::anndata::is_anndata_artifact(a) {
                    // An AnnData member's table is its obs, the cell index first.
                    return Ok(MemberSchema {
                        schema: lamella_storage::AnnData::open(&path)?
                            .frame_with_names_schema(lamella_storage::Axis::Obs)?,
                        rows,
                        bounds: Default::default(),
                    });
                }
                if a.suffix.eq_ignore_ascii_case(".parquet") {
                    let pq = lamella_storage::ParquetBatches::open(&path)?;
                    return Ok(MemberSchema {
                        schema: pq.schema(),
                        rows,
                        bounds: pq.int_bounds(),
                    });
                }
                Ok(MemberSchema {
                    schema: crate::table::read_table_schema(&path)?,
                    rows,
                    bounds: Default::default(),
                })
            })
            .collect()
    }

    fn plan_of(
        &self,
        members: &[Artifact],
        schemas: &[MemberSchema],
        join: Join,
        allow_lossy: bool,
    ) -> Result<Plan> {
        let mut names: Vec<String> = Vec::new();
        for m in schemas {
            for f in m.schema.fields() {
                if !names.contains(f.name()) {
                    names.push(f.name().clone());
                }
            }
        }
        let mut columns = Vec::new();
        let mut dropped = Vec::new();
        for name in names {
            let types: Vec<Option<&DataType>> = schemas
                .iter()
                .map(|m| m.schema.field_with_name(&name).ok().map(|f| f.data_type()))
                .collect();
            if join == Join::Inner && types.iter().any(Option::is_none) {
                dropped.push(name);
                continue;
            }
            let mut current: Option<(DataType, usize)> = None;
            let mut lossy = false;
            for (i, t) in types.iter().enumerate() {
                let Some(t) = t else { continue };
                current = Some(match current {
                    None => ((*t).clone(), i),
                    Some((c, first)) => match supertype(&c, t, allow_lossy) {
                        Ok((s, l)) => {
                            lossy |= l;
                            (s, first)
                        }
                        Err(why) => {
                            return Err(Error::Concat {
                                column: Some(name.to_string()),
                                message: format!(
                                    "column '{name}' is {c} in artifact {} and {t} in artifact \
                                     {}: {why}; convert one of them, or allow lossy promotions \
                                     (numbers to float64, zoned times to UTC, the rest to \
                                     strings)",
                                    members[first].uid, members[i].uid
                                ),
                                lossy_would_resolve: !allow_lossy,
                            });
                        }
                    },
                });
            }
            let Some((t, _)) = current else { continue };
            let nulls_filled = types
                .iter()
                .zip(schemas)
                .filter(|(t, _)| t.is_none())
                .map(|(_, m)| m.rows)
                .sum();
            let read = |a: &Artifact, column: &str| -> Result<Option<(i64, i64)>> {
                let path = self.ln.artifacts().local_copy(a)?;
                Ok(lamella_storage::column_int_bounds(&path, column)?)
            };
            lossy |= check_bounds(&name, &t, &types, schemas, members, allow_lossy, &read)?;
            // A lossy promotion is still a conversion Arrow must be able to make: a struct or
            // a list has no text form, so `check` and `load` refuse it alike.
            if let Some((i, from)) = types
                .iter()
                .enumerate()
                .find_map(|(i, f)| f.filter(|f| !convertible(f, &t)).map(|f| (i, f)))
            {
                return Err(Error::Concat {
                    column: Some(name.to_string()),
                    message: format!(
                        "column '{name}' is {from} in artifact {}, which does not convert to \
                         {t}, even with lossy promotions: convert that member first",
                        members[i].uid
                    ),
                    lossy_would_resolve: false,
                });
            }
            let nullable = lossy
                || schemas.iter().any(|m| {
                    m.schema
                        .field_with_name(&name)
                        .map_or(true, |f| f.is_nullable())
                });
            columns.push(PlannedColumn {
                nullable,
                name,
                data_type: t.to_string(),
                lossy,
                nulls_filled,
                members: members
                    .iter()
                    .zip(&types)
                    .map(|(a, t)| MemberColumn {
                        artifact: a.uid.clone(),
                        data_type: t.map(ToString::to_string),
                    })
                    .collect(),
                unit: None,
                unit_disagreements: Vec::new(),
                categories: None,
                arrow_type: t,
            });
        }
        Ok(Plan {
            var: None,
            join,
            rows: schemas.iter().map(|m| m.rows).sum(),
            columns,
            dropped,
        })
    }

    /// The concatenation plan, from the members' schemas only (no data pages read), with
    /// what the registries say of each column: the feature's unit and the members whose
    /// column declares another, and for categorical features the labels members are
    /// annotated with that not all of them share. Three statements however many members.
    pub(crate) fn check(&self, c: &Collection, join: Join, allow_lossy: bool) -> Result<Plan> {
        let members = self.artifacts(c)?;
        let schemas = self.member_schemas(&members)?;
        let mut plan = self.plan_of(&members, &schemas, join, allow_lossy)?;
        self.registry_checks(&members, &schemas, &mut plan)?;
        if members.iter().all(crate::anndata::is_anndata_artifact) {
            let paths: Vec<std::path::PathBuf> = members
                .par_iter()
                .map(|a| self.ln.artifacts().local_copy(a))
                .collect::<Result<_>>()?;
            let panels = var_panels(&paths)?;
            plan.var = Some(compare_panels(&members, &panels, join));
        }
        Ok(plan)
    }

    fn registry_checks(
        &self,
        members: &[Artifact],
        schemas: &[MemberSchema],
        plan: &mut Plan,
    ) -> Result<()> {
        use std::collections::{HashMap, HashSet};
        let names: Vec<String> = plan.columns.iter().map(|p| p.name.clone()).collect();
        let member_ids: Vec<i64> = members.iter().filter_map(|a| a.id).collect();
        let (features, links, labels) = self.ln.db().with_conn(|conn| {
            let features: Vec<lamella_schema::Feature> =
                lamella_schema::load_where_in(conn, "name", &names)?;
            let categorical: Vec<i64> = features
                .iter()
                .filter(|f| f.dtype.is_categorical())
                .filter_map(|f| f.id)
                .collect();
            let links =
                lamella_schema::links::artifacts_feature_labels(conn, &member_ids, &categorical)?;
            let mut label_ids: Vec<i64> = links.iter().map(|(_, u, _)| *u).collect();
            label_ids.sort_unstable();
            label_ids.dedup();
            let labels: Vec<lamella_schema::ULabel> =
                lamella_schema::load_by_ids(conn, &label_ids)?;
            Ok::<_, Error>((features, links, labels))
        })?;
        let label_name: HashMap<i64, &str> = labels
            .iter()
            .filter_map(|l| Some((l.id?, l.name.as_str())))
            .collect();
        // (feature, artifact) → its labels through the feature, in link order, once each.
        let mut by_owner: HashMap<(i64, i64), Vec<i64>> = HashMap::new();
        for (owner, label, feat) in &links {
            let ids = by_owner.entry((*feat, *owner)).or_default();
            if !ids.contains(label) {
                ids.push(*label);
            }
        }
        for column in &mut plan.columns {
            let feature = features.iter().find(|f| f.name == column.name);
            column.unit = feature
                .and_then(|f| f.unit.clone())
                .filter(|u| !u.is_empty());
            // Units the members' columns declare.
            let declared = members.iter().zip(schemas).filter_map(|(a, m)| {
                let unit = m
                    .schema
                    .field_with_name(&column.name)
                    .ok()?
                    .metadata()
                    .get("unit")?;
                Some((a, unit.trim().to_string())).filter(|(_, u)| !u.is_empty())
            });
            let mut expected = column.unit.clone();
            for (a, unit) in declared {
                let Some(want) = expected.clone() else {
                    expected = Some(unit);
                    continue;
                };
                if !crate::validate::same_unit(&unit, &want) {
                    column.unit_disagreements.push(UnitDisagreement {
                        artifact: a.uid.clone(),
                        factor: crate::validate::conversion_factor(&unit, &want),
                        unit,
                        expected: want,
                    });
                }
            }
            // Labels through a categorical feature.
            let Some(f) = feature.filter(|f| f.dtype.is_categorical()) else {
                continue;
            };
            let per_member: Vec<(&Artifact, &Vec<i64>)> = members
                .iter()
                .filter_map(|a| Some((a, by_owner.get(&(f.id?, a.id?))?)))
                .collect();
            if per_member.is_empty() {
                continue;
            }
            let sets: Vec<HashSet<i64>> = per_member
                .iter()
                .map(|(_, ids)| ids.iter().copied().collect())
                .collect();
            let all: HashSet<i64> = sets.iter().flatten().copied().collect();
            let common: HashSet<i64> = all
                .iter()
                .copied()
                .filter(|l| sets.iter().all(|s| s.contains(l)))
                .collect();
            let only_in = per_member
                .iter()
                .filter_map(|(a, ids)| {
                    let extra: Vec<&i64> = ids.iter().filter(|l| !common.contains(l)).collect();
                    (!extra.is_empty()).then(|| MemberLabels {
                        artifact: a.uid.clone(),
                        count: extra.len(),
                        labels: extra
                            .iter()
                            .take(SHOWN_LABELS)
                            .map(|l| label_name.get(l).copied().unwrap_or("?").to_string())
                            .collect(),
                    })
                })
                .collect();
            column.categories = Some(CategoryCheck {
                dtype: f.dtype.to_string(),
                labels: all.len(),
                common: common.len(),
                annotated: per_member.len(),
                only_in,
            });
        }
        Ok(())
    }

    /// The members' tables concatenated in member order by the plan (outer join by default):
    /// members are read in parallel and cast to the planned types. In a tracked run the
    /// collection becomes an input.
    pub(crate) fn load(
        &self,
        c: &Collection,
        join: Join,
        allow_lossy: bool,
    ) -> Result<RecordBatch> {
        let members = self.artifacts(c)?;
        let schemas = self.member_schemas(&members)?;
        let plan = self.plan_of(&members, &schemas, join, allow_lossy)?;
        let target = target_schema(&plan);
        let opts = cast_options(allow_lossy);
        // Each member's batches are conformed as read; one concatenation copies the data once.
        let parts: Vec<Vec<RecordBatch>> = members
            .par_iter()
            .map(|a| {
                let path = self.ln.artifacts().local_copy(a)?;
                let batches: Vec<RecordBatch> =
                    open_member(a, &path)?.collect::<lamella_storage::Result<_>>()?;
                let mut nulls = NullColumns::default();
                batches
                    .iter()
                    .map(|b| conform(b, &target, &opts, a, &mut nulls))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<_>>()?;
        let parts: Vec<RecordBatch> = parts.into_iter().flatten().collect();
        let mut out = arrow::compute::concat_batches(&target, &parts)?;
        // Dictionaries: one dictionary of the union of the values, in first-seen order.
        let mut columns = out.columns().to_vec();
        let mut changed = false;
        for (i, f) in target.fields().iter().enumerate() {
            if let DataType::Dictionary(_, _) = f.data_type() {
                let text = arrow::compute::cast(&columns[i], &DataType::Utf8)?;
                columns[i] = arrow::compute::cast(&text, f.data_type())?;
                changed = true;
            }
        }
        if changed {
            out = RecordBatch::try_new(target.clone(), columns)?;
        }
        self.ln.note_collection_inputs(std::slice::from_ref(c))?;
        Ok(out)
    }

    /// The concatenation as a stream of record batches in member order, each cast to the
    /// plan: one member file open at a time, so memory is bounded by a batch, not by the
    /// collection. Returns the result's schema and the batches. In a tracked run the
    /// collection becomes an input once the stream has been read to its end without error.
    pub(crate) fn batches(
        &self,
        c: &Collection,
        join: Join,
        allow_lossy: bool,
    ) -> Result<(SchemaRef, CollectionBatches)> {
        let (schema, mut batches) = self.stream(c, join, allow_lossy)?;
        batches.record_at_end = Some(c.clone());
        Ok((schema, batches))
    }

    /// [`batches`](Self::batches) without recording an input.
    fn stream(
        &self,
        c: &Collection,
        join: Join,
        allow_lossy: bool,
    ) -> Result<(SchemaRef, CollectionBatches)> {
        let (target, parts) = self.parts(c, join, allow_lossy, false)?;
        Ok((
            target,
            CollectionBatches {
                parts,
                record_at_end: None,
                failed: false,
            },
        ))
    }

    /// The plan's schema and the members' parts in it (spliced row groups when `splice`).
    fn parts(
        &self,
        c: &Collection,
        join: Join,
        allow_lossy: bool,
        splice: bool,
    ) -> Result<(SchemaRef, MemberParts)> {
        let members = self.artifacts(c)?;
        let schemas = self.member_schemas(&members)?;
        let plan = self.plan_of(&members, &schemas, join, allow_lossy)?;
        let target = target_schema(&plan);
        Ok((
            target.clone(),
            MemberParts {
                collections: self.clone(),
                members: members.into_iter(),
                current: None,
                opts: cast_options(allow_lossy),
                nulls: NullColumns::default(),
                splice,
                splice_target: lamella_storage::splice_schema(&target),
                target,
            },
        ))
    }

    /// Streams the concatenation into one Parquet or CSV file at `path` (by suffix), memory
    /// bounded by a batch; the file appears complete or not at all. Returns `(rows, bytes)`.
    pub(crate) fn export(
        &self,
        c: &Collection,
        path: &std::path::Path,
        join: Join,
        allow_lossy: bool,
        existing: Existing,
    ) -> Result<(u64, u64)> {
        let name = path.to_string_lossy();
        if lamella_storage::is_h5ad_file(&name) {
            self.ln.check_output(path, existing)?;
            return self.export_anndata(c, path, join, allow_lossy);
        }
        if crate::anndata::is_anndata(&name) {
            return Err(Error::Conflict {
                message: format!(
                    "{}: Lamella reads AnnData from Zarr stores but writes it as .h5ad; give                      a path ending in .h5ad (anndata.read_h5ad(path).write_zarr(store) makes                      a Zarr store of it)",
                    path.display()
                ),
            });
        }
        self.ln.check_output(path, existing)?;
        // Parquet: row groups whose columns mostly keep their type are spliced in.
        let parquet = name.to_ascii_lowercase().ends_with(".parquet");
        let (schema, parts) = self.parts(c, join, allow_lossy, parquet)?;
        // Rows in all, when every member's row count is recorded (else the bar counts up).
        let total = self
            .artifacts(c)?
            .iter()
            .map(|a| a.n_observations.map(|n| n.max(0) as u64))
            .sum::<Option<u64>>()
            .unwrap_or(0);
        let meter = crate::progress::Meter::new(
            &self.ln,
            crate::ProgressTask::Exporting,
            crate::ProgressUnit::Rows,
            total,
        );
        let failure: std::cell::RefCell<Option<Error>> = std::cell::RefCell::new(None);
        let mut rows = 0u64;
        let stream = parts.map(|p| match p {
            Ok(p) => {
                rows += p.num_rows() as u64;
                meter.add(p.num_rows() as u64);
                Ok(p)
            }
            Err(e) => {
                let message = e.to_string();
                *failure.borrow_mut() = Some(e);
                Err(lamella_storage::Error::InvalidInput {
                    what: "the collection's batches".into(),
                    reason: message,
                })
            }
        });
        let written = if parquet {
            lamella_storage::write_parquet_parts(&schema, stream, path)
        } else {
            let batches = stream.map(|p| p?.into_batch());
            lamella_storage::write_batches(&schema, batches, path)
        };
        if let Some(e) = failure.into_inner() {
            return Err(e);
        }
        let size = written?;
        self.ln.note_collection_inputs(std::slice::from_ref(c))?;
        Ok((rows, size))
    }

    /// The concatenation of AnnData members along cells, written as one AnnData file: obs
    /// by the plan (SPEC §7.1), genes by the join (inner: the shared genes; outer: all,
    /// missing ones zeros), `X` streamed block by block as CSR. Returns `(cells, bytes)`.
    fn export_anndata(
        &self,
        c: &Collection,
        path: &std::path::Path,
        join: Join,
        allow_lossy: bool,
    ) -> Result<(u64, u64)> {
        let members = self.artifacts(c)?;
        if let Some(a) = members
            .iter()
            .find(|a| !crate::anndata::is_anndata_artifact(a))
        {
            return Err(Error::NotATable {
                what: format!("{} (an AnnData file)", path.display()),
                reason: format!(
                    "member {} is a '{}' file: only a collection of AnnData (.h5ad) members \
                     concatenates into AnnData; write a table instead",
                    a.uid, a.suffix
                ),
            });
        }
        let obs = self.load(c, join, allow_lossy)?;
        let paths: Vec<std::path::PathBuf> = members
            .par_iter()
            .map(|a| self.ln.artifacts().local_copy(a))
            .collect::<Result<_>>()?;
        let panels = var_panels(&paths)?;
        let var_join = match join {
            Join::Inner => lamella_storage::VarJoin::Inner,
            Join::Outer => lamella_storage::VarJoin::Outer,
        };
        let var_names = lamella_storage::joined_var_names(&panels, var_join);
        let meter = crate::progress::Meter::new(
            &self.ln,
            crate::ProgressTask::Exporting,
            crate::ProgressUnit::Rows,
            obs.num_rows() as u64,
        );
        let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
        let size = lamella_storage::write_concatenated_anndata(
            path,
            &refs,
            &obs,
            &var_names,
            var_join,
            &|n| meter.add(n),
        )?;
        Ok((obs.num_rows() as u64, size))
    }

    /// [`export`](Self::export), then saves the file as an artifact under `key` (its
    /// description names the collection): in a tracked run the collection is the run's input
    /// and the artifact its output, so the lineage shows where the concatenation came from.
    pub(crate) fn export_artifact(
        &self,
        c: &Collection,
        path: &std::path::Path,
        join: Join,
        allow_lossy: bool,
        existing: Existing,
        key: &str,
    ) -> Result<(u64, crate::registry::Saved<Artifact>)> {
        let (rows, _) = self.export(c, path, join, allow_lossy, existing)?;
        let saved = self
            .ln
            .artifacts()
            .from_path(path)
            .key(key)
            .description(format!("Concatenation of collection '{}'", c.name))
            .save()?;
        Ok((rows, saved))
    }
}

/// A member table's batches, read one at a time.
type MemberReader = Box<dyn Iterator<Item = lamella_storage::Result<RecordBatch>> + Send>;

/// The batches of a collection, member after member (see [`Collections::batches`]).
pub struct CollectionBatches {
    parts: MemberParts,
    /// The collection to record as the run's input when the stream ends without error.
    record_at_end: Option<Collection>,
    /// Whether an error was returned.
    failed: bool,
}

impl Iterator for CollectionBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        // `MemberParts` splices only when asked to, which a batch stream does not.
        let item = self.parts.next().map(|part| Ok(part?.into_batch()?));
        match &item {
            Some(Err(_)) => self.failed = true,
            None if !self.failed => {
                if let Some(c) = self.record_at_end.take()
                    && let Err(e) = self
                        .parts
                        .collections
                        .ln
                        .note_collection_inputs(std::slice::from_ref(&c))
                {
                    return Some(Err(e));
                }
            }
            _ => {}
        }
        item
    }
}

/// A member being read: batches, or a Parquet file's row groups to splice.
enum MemberStream {
    Batches(MemberReader),
    Parts(lamella_storage::ParquetParts),
}

/// The members' tables in the plan's schema, member after member: batches, and — when
/// `splice` — row groups of Parquet members whose unchanged columns are copied as encoded
/// ([`lamella_storage::ParquetParts`]).
struct MemberParts {
    collections: Collections,
    members: std::vec::IntoIter<Artifact>,
    current: Option<(Artifact, MemberStream)>,
    target: SchemaRef,
    opts: CastOptions<'static>,
    /// The columns of nulls given to members that lack a column, reused batch after batch.
    nulls: NullColumns,
    splice: bool,
    /// The schema of spliced row groups' batches ([`lamella_storage::splice_schema`]).
    splice_target: SchemaRef,
}

impl Iterator for MemberParts {
    type Item = Result<TablePart>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((a, stream)) = &mut self.current {
                let (target, opts, nulls) = (&self.target, &self.opts, &mut self.nulls);
                let item = match stream {
                    MemberStream::Batches(r) => r.next().map(|b| b.map(TablePart::Batch)),
                    MemberStream::Parts(p) => p.next(),
                };
                match item {
                    Some(Ok(TablePart::Batch(b))) => {
                        return Some(conform(&b, target, opts, a, nulls).map(TablePart::Batch));
                    }
                    Some(Ok(TablePart::Splice(s))) => {
                        let to = &self.splice_target;
                        return Some(
                            s.map_batches(|b| conform(&b, to, opts, a, nulls))
                                .map(TablePart::Splice),
                        );
                    }
                    Some(Err(e)) => return Some(Err(e.into())),
                    None => self.current = None,
                }
            }
            let a = self.members.next()?;
            let opened = (|| -> Result<MemberStream> {
                let path = self.collections.ln.artifacts().local_copy(&a)?;
                let parquet = a.suffix.eq_ignore_ascii_case(".parquet")
                    && !crate::anndata::is_anndata_artifact(&a);
                Ok(if self.splice && parquet {
                    MemberStream::Parts(lamella_storage::ParquetParts::open(&path, &self.target)?)
                } else {
                    MemberStream::Batches(open_member(&a, &path)?)
                })
            })();
            match opened {
                Ok(r) => self.current = Some((a, r)),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// A member's table as batches: a Parquet or CSV file read batch by batch, an AnnData's
/// obs (its cell index first) as one batch.
fn open_member(a: &Artifact, path: &std::path::Path) -> Result<MemberReader> {
    Ok(if crate::anndata::is_anndata_artifact(a) {
        Box::new(std::iter::once(Ok(member_batch(path)?)))
    } else if a.suffix.eq_ignore_ascii_case(".parquet") {
        Box::new(lamella_storage::ParquetBatches::open(path)?)
    } else {
        Box::new(lamella_storage::CsvBatches::open(path)?)
    })
}

/// Genes listed per member in a [`MemberPanel`].
const SHOWN_GENES: usize = 20;

/// How the members' genes line up: identical, or which genes each lacks.
fn compare_panels(members: &[Artifact], panels: &[Vec<String>], join: Join) -> VarPanels {
    use std::collections::HashSet;
    let union: Vec<String> =
        lamella_storage::joined_var_names(panels, lamella_storage::VarJoin::Outer);
    let inner = lamella_storage::joined_var_names(panels, lamella_storage::VarJoin::Inner);
    let identical = panels.windows(2).all(|w| w[0] == w[1]);
    let mut out = Vec::with_capacity(members.len());
    for (a, p) in members.iter().zip(panels) {
        let have: HashSet<&str> = p.iter().map(String::as_str).collect();
        let missing: Vec<&String> = union
            .iter()
            .filter(|g| !have.contains(g.as_str()))
            .collect();
        out.push(MemberPanel {
            uid: a.uid.clone(),
            n_vars: p.len(),
            n_missing: missing.len(),
            missing: missing.into_iter().take(SHOWN_GENES).cloned().collect(),
        });
    }
    VarPanels {
        identical,
        n_vars: match join {
            Join::Inner => inner.len(),
            Join::Outer => union.len(),
        },
        shared: inner.len(),
        members: out,
    }
}

/// The `var` indexes (genes) of AnnData files, in order.
fn var_panels(paths: &[std::path::PathBuf]) -> Result<Vec<Vec<String>>> {
    paths
        .par_iter()
        .map(|p| {
            let names = lamella_storage::AnnData::open(p)?.names(lamella_storage::Axis::Var)?;
            Ok(names
                .iter()
                .map(|n| n.unwrap_or_default().to_string())
                .collect())
        })
        .collect()
}

/// An AnnData member's obs with its cell index first, as the column `obs_names` (whatever
/// the member calls its index: members concatenate by it).
fn member_batch(path: &std::path::Path) -> Result<RecordBatch> {
    Ok(lamella_storage::AnnData::open(path)?.frame_with_names(lamella_storage::Axis::Obs)?)
}

fn cast_options(allow_lossy: bool) -> CastOptions<'static> {
    CastOptions {
        safe: allow_lossy,
        ..Default::default()
    }
}

fn target_schema(plan: &Plan) -> SchemaRef {
    Arc::new(Schema::new(
        plan.columns
            .iter()
            .map(|p| Field::new(&p.name, p.arrow_type.clone(), p.nullable))
            .collect::<Vec<_>>(),
    ))
}

/// Columns of nulls by target column, kept for the next batch of the same length: a column
/// most members lack (a stream of 100M rows) is not allocated and zeroed batch after batch.
#[derive(Debug, Default)]
struct NullColumns(Vec<Option<ArrayRef>>);

impl NullColumns {
    /// `n` nulls of type `t` for target column `i`.
    fn get(&mut self, i: usize, t: &DataType, n: usize) -> ArrayRef {
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        match &self.0[i] {
            Some(a) if a.len() == n && a.data_type() == t => a.clone(),
            _ => {
                let a = new_null_array(t, n);
                self.0[i] = Some(a.clone());
                a
            }
        }
    }
}

/// One member's batch in the plan's schema: its columns cast, missing ones null.
/// `col` as `to`: structs child by child (children it lacks become nulls), lists of
/// structs through their items, everything else by Arrow's cast.
fn conform_array(
    col: &ArrayRef,
    to: &DataType,
    opts: &CastOptions<'_>,
) -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
    use arrow::array::{Array, AsArray, LargeListArray, ListArray, StructArray};
    if col.data_type() == to {
        return Ok(col.clone());
    }
    match (col.data_type(), to) {
        (DataType::Struct(_), DataType::Struct(children)) => {
            let s = col.as_struct();
            let arrays = children
                .iter()
                .map(|f| match s.column_by_name(f.name()) {
                    Some(c) => conform_array(c, f.data_type(), opts),
                    None => Ok(new_null_array(f.data_type(), s.len())),
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(Arc::new(StructArray::try_new(
                children.clone(),
                arrays,
                s.nulls().cloned(),
            )?))
        }
        (DataType::List(_), DataType::List(item))
            if matches!(item.data_type(), DataType::Struct(_)) =>
        {
            let l = col.as_list::<i32>();
            let values = conform_array(l.values(), item.data_type(), opts)?;
            Ok(Arc::new(ListArray::try_new(
                item.clone(),
                l.offsets().clone(),
                values,
                l.nulls().cloned(),
            )?))
        }
        (DataType::LargeList(_), DataType::LargeList(item))
            if matches!(item.data_type(), DataType::Struct(_)) =>
        {
            let l = col.as_list::<i64>();
            let values = conform_array(l.values(), item.data_type(), opts)?;
            Ok(Arc::new(LargeListArray::try_new(
                item.clone(),
                l.offsets().clone(),
                values,
                l.nulls().cloned(),
            )?))
        }
        _ => cast_with_options(col, to, opts),
    }
}

fn conform(
    table: &RecordBatch,
    target: &SchemaRef,
    opts: &CastOptions<'_>,
    a: &Artifact,
    nulls: &mut NullColumns,
) -> Result<RecordBatch> {
    let columns = target
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| -> Result<ArrayRef> {
            match table.column_by_name(f.name()) {
                None => Ok(nulls.get(i, f.data_type(), table.num_rows())),
                Some(col) if col.data_type() == f.data_type() => Ok(col.clone()),
                Some(col) => conform_array(col, f.data_type(), opts).map_err(|e| Error::Concat {
                    column: Some(f.name().clone()),
                    message: format!(
                        "column '{}' of artifact {} does not convert from {} to {}: {e}",
                        f.name(),
                        a.uid,
                        col.data_type(),
                        f.data_type()
                    ),
                    lossy_would_resolve: false,
                }),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let options =
        arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(table.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        target.clone(),
        columns,
        &options,
    )?)
}

#[cfg(test)]
mod tests {
    //! The promotion rules as pure functions of two types; `tests/it/concat_rules.rs` runs
    //! the same pairs through whole collections, next to pandas, polars and DuckDB.
    use super::*;
    use DataType as D;

    fn exact(a: &D, b: &D) -> std::result::Result<(D, bool), String> {
        supertype(a, b, false)
    }

    #[test]
    fn widening_keeps_every_value() {
        assert_eq!(exact(&D::Int8, &D::Int32), Ok((D::Int32, false)));
        assert_eq!(exact(&D::UInt8, &D::UInt16), Ok((D::UInt16, false)));
        assert_eq!(exact(&D::UInt32, &D::Int8), Ok((D::Int64, false)));
        assert_eq!(exact(&D::Int64, &D::Float32), Ok((D::Float64, false)));
        assert_eq!(exact(&D::Null, &D::Utf8), Ok((D::Utf8, false)));
        assert_eq!(exact(&D::Utf8, &D::LargeUtf8), Ok((D::LargeUtf8, false)));
        let dict = D::Dictionary(Box::new(D::Int8), Box::new(D::Utf8));
        assert_eq!(
            exact(&dict, &D::Dictionary(Box::new(D::Int16), Box::new(D::Utf8))),
            Ok((D::Dictionary(Box::new(D::Int32), Box::new(D::Utf8)), false))
        );
        assert_eq!(exact(&dict, &D::Utf8), Ok((D::Utf8, false)));
    }

    #[test]
    fn what_loses_information_needs_lossy_promotion() {
        for (a, b, lossy_result) in [
            (D::UInt64, D::Int64, D::Float64),
            (D::Boolean, D::Int64, D::Float64),
            (D::Utf8, D::Int64, D::Utf8),
            (D::Date32, D::Timestamp(TimeUnit::Second, None), D::Utf8),
        ] {
            assert!(exact(&a, &b).is_err(), "{a} + {b}");
            assert_eq!(
                supertype(&a, &b, true),
                Ok((lossy_result, true)),
                "{a} + {b}"
            );
        }
    }

    #[test]
    fn timestamps_take_the_finer_unit_and_zones_must_agree() {
        let s = D::Timestamp(TimeUnit::Second, Some("UTC".into()));
        let ms = D::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
        assert_eq!(exact(&s, &ms), Ok((ms.clone(), false)));
        let naive = D::Timestamp(TimeUnit::Second, None);
        assert_eq!(
            exact(&s, &naive),
            Err("one is zoned and the other naive".to_string())
        );
        let paris = D::Timestamp(TimeUnit::Second, Some("Europe/Paris".into()));
        assert_eq!(exact(&s, &paris), Err("the time zones differ".to_string()));
        assert_eq!(supertype(&paris, &ms, true), Ok((ms, true)));
    }

    #[test]
    fn lists_and_structs_combine_their_children() {
        let list = |t: D| D::List(Arc::new(Field::new_list_field(t, true)));
        assert_eq!(
            exact(&list(D::Int32), &list(D::Int64)),
            Ok((list(D::Int64), false))
        );
        let a = D::Struct(vec![Field::new("x", D::Int32, false)].into());
        let b = D::Struct(
            vec![
                Field::new("x", D::Float64, false),
                Field::new("y", D::Utf8, false),
            ]
            .into(),
        );
        let expected = D::Struct(
            vec![
                Field::new("x", D::Float64, true),
                Field::new("y", D::Utf8, true),
            ]
            .into(),
        );
        assert_eq!(exact(&a, &b), Ok((expected, false)));
        let bad = D::Struct(vec![Field::new("x", D::Boolean, false)].into());
        let err = exact(&a, &bad).unwrap_err();
        assert!(err.starts_with("field 'x':"), "{err}");
    }

    #[test]
    fn a_lossy_target_must_still_be_reachable_by_a_cast() {
        let list = D::List(Arc::new(Field::new_list_field(D::Int64, true)));
        assert!(!convertible(&list, &D::Utf8));
        assert!(!convertible(
            &D::Struct(Vec::<Field>::new().into()),
            &D::Utf8
        ));
        assert!(convertible(&D::Int64, &D::Utf8));
        assert!(convertible(&D::Boolean, &D::Float64));
    }
}
