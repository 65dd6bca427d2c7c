//! The curator: checks a table against the registries in one pass and reports every problem
//! (SPEC §5.1); registers missing labels on request; saves the table with its annotations —
//! the `columns` feature set and the labels through their features — only when it is valid.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use arrow::record_batch::RecordBatch;
use lamella_schema::links::{self, Owner};
use lamella_schema::{Artifact, Dtype, Feature, ULabel, require_id};

use super::registry::{match_known, synonyms};
use super::report::{Code, Issue, Offending, Report, Stage, Suggestion, SuggestionKind};
use super::stages::{
    Matched, Snapshot, column_order, duplicate_columns, fits, match_columns, missing_required,
    offending, unexpected_columns, unexpected_nulls, wrong_dtype,
};
use super::units::{conversion_factor, same_unit};
use super::values::{self, Distinct};
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::registry::{Saved, SavedAll};

/// Offending values listed per issue by default (counts always cover all rows).
pub const DEFAULT_EXAMPLES: usize = 20;

/// Checks a table against the registries: `ln.curator(table).categorical("species",
/// "iris_species_name").validate()`.
pub struct Curator {
    pub(super) ln: Instance,
    pub(super) table: RecordBatch,
    pub(super) categorical: Vec<(String, String)>,
    pub(super) required: Vec<String>,
    pub(super) allow_extra: bool,
    pub(super) ordered: bool,
    pub(super) units: HashMap<String, String>,
    pub(super) convert_units: bool,
    pub(super) examples: usize,
    /// Columns whose unknown values become new labels when the table is saved.
    pub(super) add_new: Vec<String>,
    /// The saved schema checked against (its id, name and features), if any.
    pub(super) schema: Option<(i64, String, Vec<String>)>,
}

impl Instance {
    /// A curator for `table`. By default every column needs a registered feature of the same
    /// name; categorical features are checked against the labels.
    pub fn curator(&self, table: RecordBatch) -> Curator {
        Curator {
            ln: self.clone(),
            table,
            categorical: Vec::new(),
            required: Vec::new(),
            allow_extra: false,
            ordered: false,
            units: HashMap::new(),
            convert_units: false,
            examples: DEFAULT_EXAMPLES,
            add_new: Vec::new(),
            schema: None,
        }
    }
}

/// What the label checks share across columns: the synonyms (read once) and the branches.
#[derive(Default)]
struct LabelCtx {
    synonyms: Option<HashMap<String, String>>,
    branch_cache: HashMap<String, HashSet<i64>>,
    new_labels: Vec<NewLabels>,
}

/// What a check found, kept for saving.
pub(super) struct Checked {
    /// The report.
    pub(super) report: Report,
    pub(super) matched: Vec<Matched>,
    /// Per categorical column: its feature and the ids of the labels its values name.
    labels: Vec<(Feature, Vec<i64>)>,
    /// Per column named by `add_new`: the labels to register (under the feature's branch)
    /// when the table is saved.
    new_labels: Vec<NewLabels>,
}

/// What a valid check links to the saved artifact: the matched features (one feature set),
/// the labels through their features, new labels asked for, the schema version passed.
#[derive(Clone)]
pub(super) struct Annotations {
    pub(super) features: Vec<Feature>,
    labels: Vec<(Feature, Vec<i64>)>,
    new_labels: Vec<NewLabels>,
    schema_id: Option<i64>,
}

impl Annotations {
    /// Links them to `owner` inside the save's transaction: the feature set under `slot`,
    /// the labels, the new labels (registered here: a failed save leaves none), the schema.
    pub(super) fn link(
        &self,
        ln: &Instance,
        conn: &mut lamella_schema::Conn<'_>,
        owner: Owner,
        slot: &str,
    ) -> Result<()> {
        let user = ln.user_id();
        let ulabels = ln.ulabels();
        if let (Some(sid), Owner::Artifact(aid)) = (self.schema_id, owner) {
            lamella_schema::schemas::link_artifact_schema(conn, aid, sid)?;
        }
        if !self.features.is_empty() {
            let set = crate::annotate::save_set(conn, &self.features, user)?;
            let sid = require_id(&set.record)?;
            if let Some(previous) = links::set_slot(conn, owner, slot, sid)? {
                links::delete_feature_set_if_unused(conn, previous)?;
            }
        }
        for (feature, ids) in &self.labels {
            crate::annotate::add_in(conn, owner, ids, Some(feature), user)?;
        }
        for n in &self.new_labels {
            let records = n.names.iter().map(|v| ULabel::new(v.as_str()));
            let saved = match &n.branch {
                Some(b) => {
                    let parents: Vec<ULabel> =
                        lamella_schema::load_where_in(conn, "name", std::slice::from_ref(b))?;
                    ulabels.save_all_with_parents_in(conn, records, &parents)?
                }
                None => ulabels.save_all_in(conn, records)?,
            };
            let ids: Vec<i64> = saved
                .records
                .iter()
                .map(|l| require_id(l).map_err(Error::from))
                .collect::<Result<_>>()?;
            crate::annotate::add_in(conn, owner, &ids, Some(&n.feature), user)?;
        }
        Ok(())
    }
}

/// Labels to register from one column (see [`Curator::add_new`]).
#[derive(Debug, Clone)]
struct NewLabels {
    feature: Feature,
    branch: Option<String>,
    names: Vec<String>,
}

/// Why `v` cannot be a label's name, if it cannot.
fn why_not_a_name(v: &str) -> Option<String> {
    if v.is_empty() {
        Some("is empty".into())
    } else if v.trim() != v {
        Some("has leading or trailing spaces".into())
    } else if v.chars().any(char::is_control) {
        Some("holds control characters".into())
    } else if v.chars().count() > crate::names::MAX_NAME_CHARS {
        Some("is longer than a name can be".into())
    } else {
        crate::names::unicode_problem(v)
    }
}

/// Whether a value could be a record's name at all (printable, trimmed, not too long);
/// others are unknown without asking the database (PostgreSQL refuses NUL bytes).
pub(crate) fn could_be_name(v: &str) -> bool {
    !v.is_empty()
        && v.trim() == v
        && !v.chars().any(char::is_control)
        && v.chars().count() <= crate::names::MAX_NAME_CHARS
}

impl Curator {
    /// Registers the values of `column` that are no label yet as new labels (under the
    /// feature's branch for `cat[ULabel[NAME]]`) — when the table is saved, in the save's one
    /// transaction, and only if nothing else stands in the way: a table that stays invalid
    /// registers nothing. Values that cannot be names (spaces around them, say) are reported.
    pub fn add_new(mut self, column: impl Into<String>) -> Self {
        self.add_new.push(column.into());
        self
    }

    /// Checks `column` against `feature` (a feature whose name differs from the column's).
    pub fn categorical(mut self, column: impl Into<String>, feature: impl Into<String>) -> Self {
        self.categorical.push((column.into(), feature.into()));
        self
    }

    /// Requires a column for `feature` (the minimal set; any feature named here must be there).
    pub fn require(mut self, feature: impl Into<String>) -> Self {
        self.required.push(feature.into());
        self
    }

    /// Allows columns without a registered feature (they are left out of the annotations).
    pub fn allow_extra(mut self) -> Self {
        self.allow_extra = true;
        self
    }

    /// Requires the required features' columns in the order they were given.
    pub fn ordered(mut self) -> Self {
        self.ordered = true;
        self
    }

    /// Declares the unit of `column` (otherwise its Arrow field metadata `unit` is used).
    pub fn unit(mut self, column: impl Into<String>, unit: impl Into<String>) -> Self {
        self.units.insert(column.into(), unit.into());
        self
    }

    /// Converts columns whose declared unit converts into their feature's unit (mm → m)
    /// instead of reporting them; the saved table holds the converted values.
    pub fn convert_units(mut self) -> Self {
        self.convert_units = true;
        self
    }

    /// Lists at most `n` offending values per issue (counts still cover every row).
    pub fn examples(mut self, n: usize) -> Self {
        self.examples = n.max(1);
        self
    }

    /// The table being checked.
    pub fn table(&self) -> &RecordBatch {
        &self.table
    }

    /// Checks against a saved schema: its features are the columns allowed (unless it allows
    /// extra ones), its required features must have columns (in order when it is ordered),
    /// its column mappings apply; a curated artifact is linked to the schema version.
    pub fn schema(mut self, schema: &crate::Schema) -> Self {
        for f in &schema.features {
            if f.required && !self.required.contains(&f.name) {
                self.required.push(f.name.clone());
            }
            // (A mapped column the table lacks: its feature is missing, reported as such.)
            if let Some(c) = &f.column
                && self.table.schema().field_with_name(c).is_ok()
            {
                self.categorical.push((c.clone(), f.name.clone()));
            }
        }
        self.ordered |= schema.ordered;
        self.allow_extra |= schema.allow_extra;
        self.schema = Some((
            schema.id,
            schema.name.clone(),
            schema.features.iter().map(|f| f.name.clone()).collect(),
        ));
        self
    }

    /// Checks the table: one report with every problem.
    pub fn validate(&self) -> Result<Report> {
        Ok(self.check()?.report)
    }

    fn declared_unit(&self, column: usize) -> Option<String> {
        let field = self.table.schema().field(column).clone();
        self.units
            .get(field.name())
            .cloned()
            .or_else(|| field.metadata().get("unit").cloned())
            .filter(|u| !u.trim().is_empty())
    }

    /// Checks the options against the table: every column named by `categorical` and `unit`
    /// exists (a usage error otherwise, before anything is read from the registries).
    pub fn check_options(&self) -> Result<()> {
        let schema = self.table.schema();
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        for (c, _) in &self.categorical {
            if !columns.contains(c) {
                return Err(Error::UnknownColumn {
                    column: c.clone(),
                    role: "named as categorical",
                    columns,
                });
            }
        }
        for c in self.units.keys() {
            if !columns.contains(c) {
                return Err(Error::UnknownColumn {
                    column: c.clone(),
                    role: "given a unit",
                    columns,
                });
            }
        }
        for c in &self.add_new {
            if !columns.contains(c) {
                return Err(Error::UnknownColumn {
                    column: c.clone(),
                    role: "named for new labels",
                    columns,
                });
            }
        }
        Ok(())
    }

    /// Checks the table, keeping what a save links (see [`Curator::annotations`]).
    pub(super) fn check(&self) -> Result<Checked> {
        let schema = self.table.schema();
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        self.check_options()?;
        let mapped: HashMap<&str, &str> = self
            .categorical
            .iter()
            .map(|(c, f)| (c.as_str(), f.as_str()))
            .collect();
        let feature_of = |c: &str| mapped.get(c).copied().unwrap_or(c).to_string();
        let mut wanted: Vec<String> = columns.iter().map(|c| feature_of(c)).collect();
        wanted.extend(self.required.iter().cloned());
        wanted.retain(|w| could_be_name(w));
        wanted.sort();
        wanted.dedup();
        let (features, feature_synonyms) = self.ln.db().with_conn(|c| {
            let syn = synonyms::<Feature>(c)?;
            let found: Vec<Feature> = lamella_schema::load_where_in(c, "name", &wanted)?;
            Ok::<_, Error>((found, syn))
        })?;
        let snapshot = Snapshot {
            features: features.into_iter().map(|f| (f.name.clone(), f)).collect(),
            feature_synonyms,
        };
        let mut issues = duplicate_columns(&columns);
        let mut truncated = false;
        let (mut matched, unmatched_columns) = match_columns(&columns, &feature_of, &snapshot);
        let spare: Vec<&str> = unmatched_columns
            .iter()
            .map(|(_, c, _)| c.as_str())
            .collect();
        if !self.allow_extra || !self.categorical.is_empty() {
            let reported: Vec<&(usize, String, String)> = unmatched_columns
                .iter()
                .filter(|(_, c, n)| !self.allow_extra || c != n)
                .collect();
            let names: Vec<&str> = reported.iter().map(|(_, _, n)| n.as_str()).collect();
            // Close spellings come from the name index: the one registry read of this stage.
            let spelled = self.ln.features().suggestions(&names)?;
            issues.extend(unexpected_columns(&reported, spelled, &snapshot));
        }
        if let Some((_, schema, listed)) = &self.schema
            && !self.allow_extra
        {
            for m in &matched {
                if !listed.contains(&m.feature.name) {
                    let column = columns[m.column].clone();
                    issues.push(Issue::plain(
                        Stage::Columns,
                        Code::UnexpectedColumn,
                        Some(column.clone()),
                        Some(m.feature.name.clone()),
                        format!("a feature of schema '{schema}'"),
                        format!(
                            "column '{column}' is feature '{}', which schema '{schema}' does not \
                             list: drop the column, or save a schema version that lists it (or \
                             allows extra columns)",
                            m.feature.name
                        ),
                    ));
                }
            }
        }
        let present: HashSet<&str> = matched.iter().map(|m| m.feature.name.as_str()).collect();
        let mut required: Vec<&String> = Vec::new();
        for r in &self.required {
            if !required.contains(&r) {
                required.push(r);
            }
        }
        issues.extend(missing_required(&required, &present, &spare, &snapshot));
        if self.ordered {
            issues.extend(column_order(&required, &present, &matched));
        }
        // Per matched column: dtype, nulls, units, constraints, labels — every stage runs;
        // a wrong dtype skips only the checks that need the values' type.
        let mut labels = Vec::new();
        let mut ctx = LabelCtx::default();
        for mi in 0..matched.len() {
            let column = self.table.column(matched[mi].column).clone();
            let name = columns[matched[mi].column].clone();
            let f = matched[mi].feature.clone();
            let fits_dtype = fits(column.data_type(), &f.dtype);
            if let Some((issue, cut_short)) =
                wrong_dtype(&name, &f, column.as_ref(), self.examples)?
            {
                truncated |= cut_short;
                issues.push(issue);
            }
            issues.extend(unexpected_nulls(&name, &f, column.as_ref()));
            if let Some(declared) = self.declared_unit(matched[mi].column) {
                let numeric = fits_dtype
                    && matches!(f.dtype, Dtype::Float | Dtype::Num)
                    && column.data_type().is_numeric();
                self.check_unit(&name, &mut matched[mi], &declared, numeric, &mut issues);
            }
            if !fits_dtype {
                continue;
            }
            if f.min_value.is_some() || f.max_value.is_some() {
                let factor = matched[mi].factor;
                truncated |= self.check_range(&name, &f, factor, &column, &mut issues)?;
            }
            if f.dtype.is_categorical() || f.dtype.is_categorical_list() {
                // A list column is checked element by element; a row is reported once per
                // element it holds.
                let d = if f.dtype.is_categorical_list() {
                    values::distinct_elements(column.as_ref())?
                } else {
                    values::distinct(column.as_ref(), false)?
                };
                if let Some(p) = &f.pattern {
                    truncated |= self.check_pattern(&name, &f, p, &d, &mut issues)?;
                }
                truncated |= self.check_labels(
                    &columns,
                    &matched,
                    vec![(mi, d)],
                    &mut ctx,
                    &mut issues,
                    &mut labels,
                )?;
            } else if let Some(p) = &f.pattern {
                let re = super::full_match(p)?;
                let d = values::failing(column.as_ref(), |v| !re.is_match(v), self.examples)?;
                truncated |= self.check_pattern(&name, &f, p, &d, &mut issues)?;
            }
        }
        let mut report = Report::new(self.table.num_rows(), columns.len(), issues, &columns);
        report.truncated = truncated;
        for m in &matched {
            if let (Some(factor), true) = (m.factor, m.convert) {
                report.notes.push(format!(
                    "column '{}' converted from {} to {} (× {factor})",
                    columns[m.column],
                    self.declared_unit(m.column).unwrap_or_default(),
                    m.feature.unit.clone().unwrap_or_default()
                ));
            }
        }
        for n in &ctx.new_labels {
            report.notes.push(format!(
                "{} new label{} from column '{}' {} registered when the table is saved",
                n.names.len(),
                if n.names.len() == 1 { "" } else { "s" },
                columns
                    .iter()
                    .zip(&matched)
                    .find(|(_, m)| m.feature.id == n.feature.id)
                    .map_or(n.feature.name.as_str(), |(c, _)| c.as_str()),
                if n.names.len() == 1 { "is" } else { "are" },
            ));
        }
        Ok(Checked {
            report,
            matched,
            labels,
            new_labels: ctx.new_labels,
        })
    }

    /// Values (distinct, or the bounded sample of a text column) that do not match `p`.
    fn check_pattern(
        &self,
        column: &str,
        f: &Feature,
        p: &str,
        d: &Distinct,
        issues: &mut Vec<Issue>,
    ) -> Result<bool> {
        let re = super::full_match(p)?;
        let bad: Vec<usize> = (0..d.values.len())
            .filter(|&i| !re.is_match(&d.values[i]))
            .collect();
        if bad.is_empty() {
            return Ok(false);
        }
        let count = bad.iter().map(|&i| d.counts[i]).sum::<usize>() + d.uncounted;
        let distinct_bad = bad.len() + usize::from(d.uncounted > 0);
        issues.push(Issue {
            axis: None,
            stage: Stage::Constraints,
            code: Code::PatternMismatch,
            column: Some(column.to_string()),
            feature: Some(f.name.clone()),
            values: bad
                .iter()
                .take(self.examples)
                .map(|&i| offending(d, i, None))
                .collect(),
            count,
            expected: Some(format!("text matching {p}")),
            message: format!(
                "{count} value{} do not match the pattern {p} of feature '{}'",
                if count == 1 { "" } else { "s" },
                f.name
            ),
            suggestion: None,
        });
        Ok(distinct_bad > self.examples || d.uncounted > 0)
    }

    fn check_unit(
        &self,
        column: &str,
        m: &mut Matched,
        declared: &str,
        numeric: bool,
        issues: &mut Vec<Issue>,
    ) {
        let f = &m.feature;
        let Some(unit) = f.unit.as_deref() else {
            issues.push(Issue::plain(
                Stage::Units,
                Code::UnitMismatch,
                Some(column.to_string()),
                Some(f.name.clone()),
                "no unit",
                format!(
                    "declares the unit {declared} but feature '{}' has none: set the feature's \
                     unit to {declared}",
                    f.name
                ),
            ));
            return;
        };
        if same_unit(declared, unit) {
            return;
        }
        let factor = conversion_factor(declared, unit);
        m.factor = factor;
        // Only numbers in float features are converted (an int feature would no longer hold
        // ints; text has no factor).
        m.convert = factor.is_some() && numeric && self.convert_units;
        if m.convert {
            return;
        }
        issues.push(Issue {
            axis: None,
            stage: Stage::Units,
            code: Code::UnitMismatch,
            column: Some(column.to_string()),
            feature: Some(f.name.clone()),
            values: Vec::new(),
            count: 0,
            expected: Some(unit.to_string()),
            message: match factor {
                Some(x) if numeric => format!(
                    "is in {declared} but feature '{}' is in {unit}: multiply by {x} (or \
                     let the curator convert units)",
                    f.name
                ),
                Some(x) => format!(
                    "is in {declared} but feature '{}' is in {unit}: multiply by {x} (units \
                     are converted in float features only)",
                    f.name
                ),
                None => format!(
                    "is in {declared} but feature '{}' is in {unit}, and the two do not convert",
                    f.name
                ),
            },
            suggestion: factor.map(|x| Suggestion {
                kind: SuggestionKind::Convert,
                value: unit.to_string(),
                factor: Some(x),
            }),
        });
    }

    /// Values outside the feature's range (in the feature's unit). Returns whether the list
    /// of values was cut.
    fn check_range(
        &self,
        column: &str,
        f: &Feature,
        factor: Option<f64>,
        array: &ArrayRef,
        issues: &mut Vec<Issue>,
    ) -> Result<bool> {
        let floats = arrow::compute::cast(array.as_ref(), &DataType::Float64)?;
        let floats = floats.as_primitive::<Float64Type>();
        let (lo, hi) = (
            f.min_value.unwrap_or(f64::NEG_INFINITY),
            f.max_value.unwrap_or(f64::INFINITY),
        );
        let x = factor.unwrap_or(1.0);
        // Values are listed as the table writes them (an int64 beyond 2^53 exactly, not
        // through a float).
        let exact = arrow::util::display::ArrayFormatter::try_new(
            array.as_ref(),
            &arrow::util::display::FormatOptions::default(),
        )?;
        let integers = array.data_type().is_integer();
        let mut found: Vec<(String, usize, Vec<usize>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut count = 0;
        let mut cut = false;
        let nulls = floats.nulls();
        for (row, raw) in floats.values().iter().enumerate() {
            let v = raw * x;
            // (NaN is a missing value, reported by the nulls stage.)
            if (v >= lo && v <= hi) || v.is_nan() || nulls.is_some_and(|n| n.is_null(row)) {
                continue;
            }
            count += 1;
            let text = if integers {
                exact.value(row).to_string()
            } else {
                raw.to_string()
            };
            if found.len() >= self.examples && !index.contains_key(&text) {
                cut = true;
                continue;
            }
            // (The table's own value is listed; the range applies in the feature's unit.)
            let slot = *index.entry(text.clone()).or_insert_with(|| {
                found.push((text, 0, Vec::new()));
                found.len() - 1
            });
            let e = &mut found[slot];
            e.1 += 1;
            if e.2.len() < values::ROWS_KEPT {
                e.2.push(row);
            }
        }
        if count == 0 {
            return Ok(false);
        }
        let range = match (f.min_value, f.max_value) {
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => String::new(),
        };
        issues.push(Issue {
            axis: None,
            stage: Stage::Constraints,
            code: Code::OutOfRange,
            column: Some(column.to_string()),
            feature: Some(f.name.clone()),
            values: found
                .into_iter()
                .take(self.examples)
                .map(|(v, count, rows)| Offending {
                    value: v,
                    length: None,
                    count,
                    rows,
                    suggestion: None,
                })
                .collect(),
            count,
            expected: Some(range.clone()),
            message: format!(
                "{count} value{} outside the range of feature '{}' ({range}{}{})",
                if count == 1 { " is" } else { "s are" },
                f.name,
                f.unit
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default(),
                if x == 1.0 {
                    String::new()
                } else {
                    format!("; the column's values × {x}")
                }
            ),
            suggestion: None,
        });
        Ok(cut)
    }

    /// Categorical values against the labels: one synonym read, one name lookup per column,
    /// one branch walk per distinct branch, one spelling probe per column with unknowns.
    fn check_labels(
        &self,
        columns: &[String],
        matched: &[Matched],
        label_columns: Vec<(usize, Distinct)>,
        ctx: &mut LabelCtx,
        issues: &mut Vec<Issue>,
        labels: &mut Vec<(Feature, Vec<i64>)>,
    ) -> Result<bool> {
        let mut truncated = false;
        let LabelCtx {
            synonyms: cached,
            branch_cache,
            new_labels,
        } = ctx;
        let label_synonyms: &HashMap<String, String> = match cached {
            Some(s) => s,
            None => cached.insert(self.ln.db().with_conn(synonyms::<ULabel>)?),
        };
        for (mi, d) in label_columns {
            let m = &matched[mi];
            let f = &m.feature;
            let name = &columns[m.column];
            let cats = f.dtype.categories();
            if !cats.is_empty() && !cats.iter().any(|(r, _)| *r == "ULabel") {
                issues.push(Issue::plain(
                    Stage::Labels,
                    Code::UnknownRegistry,
                    Some(name.clone()),
                    Some(f.name.clone()),
                    f.dtype.to_string(),
                    format!(
                        "feature '{}' draws its values from {}, which this instance does not \
                         hold; use dtype cat[ULabel]",
                        f.name,
                        cats.iter().map(|(r, _)| *r).collect::<Vec<_>>().join(", ")
                    ),
                ));
                continue;
            }
            let found = self
                .ln
                .db()
                .with_conn(|c| match_known::<ULabel>(c, &d.values, label_synonyms))?;
            let branches: Vec<&str> = cats
                .iter()
                .filter(|(r, _)| *r == "ULabel")
                .filter_map(|(_, b)| *b)
                .collect();
            let allowed: Option<HashSet<i64>> = if branches.is_empty() {
                None
            } else {
                let key = branches.join("|");
                if !branch_cache.contains_key(&key) {
                    match self
                        .ln
                        .db()
                        .with_conn(|c| crate::annotate::branch_members(c, &branches))
                    {
                        Ok(members) => {
                            branch_cache.insert(key.clone(), members);
                        }
                        Err(Error::NotFound { .. }) => {
                            issues.push(Issue::plain(
                                Stage::Labels,
                                Code::MissingBranch,
                                Some(name.clone()),
                                Some(f.name.clone()),
                                f.dtype.to_string(),
                                format!(
                                    "feature '{}' has dtype {} but no label is named {}: \
                                     create it, or change the feature's dtype",
                                    f.name,
                                    f.dtype,
                                    branches
                                        .iter()
                                        .map(|b| format!("'{b}'"))
                                        .collect::<Vec<_>>()
                                        .join(" or ")
                                ),
                            ));
                        }
                        Err(e) => return Err(e),
                    }
                }
                branch_cache.get(&key).cloned()
            };
            let mut unknown: Vec<usize> = (0..d.values.len())
                .filter(|&i| found.ids[i].is_none())
                .collect();
            // Asked to register this column's new labels: those that can be names (and are
            // no synonym) are registered when the table is saved; those that cannot be names
            // are reported with the reason.
            if self.add_new.contains(name) {
                let (creatable, rest): (Vec<usize>, Vec<usize>) = unknown.iter().partition(|&&i| {
                    found.synonym_of[i].is_none() && why_not_a_name(&d.values[i]).is_none()
                });
                let (not_names, synonyms): (Vec<usize>, Vec<usize>) = rest
                    .into_iter()
                    .partition(|&i| why_not_a_name(&d.values[i]).is_some());
                if !creatable.is_empty() {
                    new_labels.push(NewLabels {
                        feature: f.clone(),
                        branch: branches.first().map(|b| b.to_string()),
                        names: creatable.iter().map(|&i| d.values[i].clone()).collect(),
                    });
                }
                if !not_names.is_empty() {
                    let count: usize = not_names.iter().map(|&i| d.counts[i]).sum();
                    truncated |= not_names.len() > self.examples;
                    let reasons: Vec<String> = not_names
                        .iter()
                        .filter_map(|&i| why_not_a_name(&d.values[i]))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    issues.push(Issue {
                        axis: None,
                        stage: Stage::Labels,
                        code: Code::NotAName,
                        column: Some(name.clone()),
                        feature: Some(f.name.clone()),
                        values: not_names
                            .iter()
                            .take(self.examples)
                            .map(|&i| {
                                let trimmed = d.values[i].trim();
                                let s =
                                    (trimmed != d.values[i] && !trimmed.is_empty()).then(|| {
                                        Suggestion {
                                            kind: SuggestionKind::Label,
                                            value: trimmed.to_string(),
                                            factor: None,
                                        }
                                    });
                                offending(&d, i, s)
                            })
                            .collect(),
                        count,
                        expected: Some("values that can be label names".into()),
                        message: format!(
                            "{} value{} ({count} row{}) cannot be label names (a value {}): \
                             fix the values; nothing is registered while they are there",
                            not_names.len(),
                            if not_names.len() == 1 { "" } else { "s" },
                            if count == 1 { "" } else { "s" },
                            reasons.join("; a value ")
                        ),
                        suggestion: None,
                    });
                }
                unknown = synonyms;
            }
            let outside: Vec<usize> = (0..d.values.len())
                .filter(|&i| {
                    matches!((&allowed, found.ids[i]), (Some(a), Some(id)) if !a.contains(&id))
                })
                .collect();
            let ids: Vec<i64> = found.ids.iter().flatten().copied().collect();
            labels.push((f.clone(), ids));
            if !unknown.is_empty() {
                let spelled_for: Vec<&str> = unknown
                    .iter()
                    .filter(|&&i| found.synonym_of[i].is_none())
                    .take(self.examples)
                    .map(|&i| d.values[i].as_str())
                    .collect();
                let spelled = self.ln.ulabels().suggestions(&spelled_for)?;
                let spelled: HashMap<&str, Option<String>> = spelled_for
                    .iter()
                    .copied()
                    .zip(spelled.into_iter().map(|s| s.into_iter().next()))
                    .collect();
                let count: usize = unknown.iter().map(|&i| d.counts[i]).sum();
                truncated |= unknown.len() > self.examples;
                let values: Vec<Offending> = unknown
                    .iter()
                    .take(self.examples)
                    .map(|&i| {
                        let s = match &found.synonym_of[i] {
                            Some(n) => Some(Suggestion {
                                kind: SuggestionKind::Synonym,
                                value: n.clone(),
                                factor: None,
                            }),
                            None => spelled
                                .get(d.values[i].as_str())
                                .cloned()
                                .flatten()
                                .map(|n| Suggestion {
                                    kind: SuggestionKind::Label,
                                    value: n,
                                    factor: None,
                                }),
                        };
                        offending(&d, i, s)
                    })
                    .collect();
                issues.push(Issue {
                    axis: None,
                    stage: Stage::Labels,
                    code: Code::UnknownLabel,
                    column: Some(name.clone()),
                    feature: Some(f.name.clone()),
                    values,
                    count,
                    expected: Some(f.dtype.to_string()),
                    message: format!(
                        "{} value{} ({count} row{}) {}: fix the spelling or register {} \
                         as new labels",
                        unknown.len(),
                        if unknown.len() == 1 { "" } else { "s" },
                        if count == 1 { "" } else { "s" },
                        if unknown.len() == 1 {
                            "is not a registered label"
                        } else {
                            "are not registered labels"
                        },
                        if unknown.len() == 1 { "it" } else { "them" }
                    ),
                    suggestion: None,
                });
            }
            if !outside.is_empty() {
                let count: usize = outside.iter().map(|&i| d.counts[i]).sum();
                truncated |= outside.len() > self.examples;
                issues.push(Issue {
                    axis: None,
                    stage: Stage::Labels,
                    code: Code::LabelOutsideBranch,
                    column: Some(name.clone()),
                    feature: Some(f.name.clone()),
                    values: outside
                        .iter()
                        .take(self.examples)
                        .map(|&i| offending(&d, i, None))
                        .collect(),
                    count,
                    expected: Some(format!(
                        "a label under {}",
                        branches
                            .iter()
                            .map(|b| format!("'{b}'"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )),
                    message: format!(
                        "{} label{} ({count} row{}) {} not under {} as dtype {} requires",
                        outside.len(),
                        if outside.len() == 1 { "" } else { "s" },
                        if count == 1 { "" } else { "s" },
                        if outside.len() == 1 { "is" } else { "are" },
                        branches
                            .iter()
                            .map(|b| format!("'{b}'"))
                            .collect::<Vec<_>>()
                            .join(" or "),
                        f.dtype
                    ),
                    suggestion: None,
                });
            }
        }
        Ok(truncated)
    }

    /// Registers the values of `column` that are no label's name (synonyms excepted) as new
    /// labels — under the feature's branch when its dtype is `cat[ULabel[NAME]]` — in one bulk
    /// save.
    pub fn add_new_from(&self, column: &str) -> Result<SavedAll<ULabel>> {
        let schema = self.table.schema();
        let Some(index) = schema.fields().iter().position(|f| f.name() == column) else {
            return Err(Error::UnknownColumn {
                column: column.to_string(),
                role: "named for new labels",
                columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
            });
        };
        let d = values::distinct(self.table.column(index).as_ref(), false)?;
        let found = self
            .ln
            .db()
            .with_conn(|c| super::registry::match_values::<ULabel>(c, &d.values))?;
        let feature_name = self
            .categorical
            .iter()
            .find(|(c, _)| c == column)
            .map_or(column, |(_, f)| f.as_str());
        let feature = self
            .ln
            .features()
            .filter("name", feature_name)
            .one_or_none()?;
        if !feature.as_ref().is_some_and(|f| f.dtype.is_categorical()) {
            return Err(Error::Annotation {
                feature: Some(feature_name.to_string()),
                message: format!(
                    "column '{column}' has no categorical feature ('{feature_name}' {}): new \
                     labels come only from categorical columns",
                    match &feature {
                        Some(f) => format!("has dtype {}", f.dtype),
                        None => "is not registered".to_string(),
                    }
                ),
            });
        }
        // Values that cannot be names (untrimmed, control characters, too long) stay unknown
        // and stay in the report.
        let new: Vec<ULabel> = d
            .values
            .iter()
            .zip(found.ids.iter().zip(&found.synonym_of))
            .filter(|(v, (l, s))| l.is_none() && s.is_none() && could_be_name(v))
            .map(|(v, _)| ULabel::new(v.clone()))
            .collect();
        let branch: Option<String> = feature.as_ref().and_then(|f| {
            f.dtype
                .categories()
                .into_iter()
                .find_map(|(r, b)| (r == "ULabel").then_some(b).flatten().map(str::to_string))
        });
        match branch {
            Some(b) => {
                let parent = self.ln.ulabels().get_by_name(&b)?;
                self.ln.ulabels().save_all_with_parents(new, &[parent])
            }
            None => self.ln.ulabels().save_all(new),
        }
    }

    /// Saves the table as an artifact with its `columns` feature set (the matched features in
    /// column order) and its labels linked through their features, all in the save's one
    /// transaction. Refused, with the report, while the table is not valid.
    pub fn save_artifact(
        &self,
        key: Option<&str>,
        description: Option<&str>,
    ) -> Result<Saved<Artifact>> {
        let checked = self.check()?;
        if !checked.report.valid {
            return Err(Error::Curation(Box::new(checked.report)));
        }
        if let Some(k) = key
            && crate::artifact::suffix_of(k) != ".parquet"
        {
            return Err(Error::Conflict {
                message: format!(
                    "the key '{k}' does not end in '.parquet': a curated table is saved as \
                     Parquet (its validated, standardized columns), so give a key ending in \
                     '.parquet'"
                ),
            });
        }
        let table = self.converted(&checked.matched)?;
        let annotations = self.annotations(checked);
        let mut draft = self.ln.artifacts().from_table(&table);
        if let Some(k) = key {
            draft = draft.key(k);
        }
        if let Some(d) = description {
            draft = draft.description(d);
        }
        let ln = self.ln.clone();
        let draft = draft.then(Box::new(move |conn, a| {
            let owner = Owner::Artifact(require_id(a)?);
            crate::annotate::lock_owner(conn, owner)?;
            annotations.link(&ln, conn, owner, "columns")
        }));
        draft.save()
    }

    /// What a check links when the checked data is saved.
    pub(super) fn annotations(&self, checked: Checked) -> Annotations {
        Annotations {
            features: checked.matched.iter().map(|m| m.feature.clone()).collect(),
            labels: checked.labels,
            new_labels: checked.new_labels,
            schema_id: self.schema.as_ref().map(|(id, _, _)| *id),
        }
    }

    /// The table with unit conversions applied (when asked for), each converted column as
    /// float64 with its field metadata `unit` set to the feature's unit.
    fn converted(&self, matched: &[Matched]) -> Result<RecordBatch> {
        if matched.iter().all(|m| !m.convert) {
            return Ok(self.table.clone());
        }
        let schema = self.table.schema();
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns: Vec<ArrayRef> = self.table.columns().to_vec();
        for m in matched {
            let (Some(x), true) = (m.factor, m.convert) else {
                continue;
            };
            let floats = arrow::compute::cast(columns[m.column].as_ref(), &DataType::Float64)?;
            let floats = floats.as_primitive::<Float64Type>();
            let scaled: Float64Array = floats.unary(|v| v * x);
            let mut meta = fields[m.column].metadata().clone();
            if let Some(u) = &m.feature.unit {
                meta.insert("unit".to_string(), u.clone());
            }
            fields[m.column] = Field::new(
                fields[m.column].name(),
                DataType::Float64,
                fields[m.column].is_nullable(),
            )
            .with_metadata(meta);
            columns[m.column] = Arc::new(scaled);
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
            columns,
        )?)
    }
}
