//! The validation report (SPEC §5.1): data that the text form and `--json` both render.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// The stage of validation an issue belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Which columns are there, against the features.
    Columns,
    /// Arrow types against feature dtypes.
    Dtype,
    /// Missing values where a feature is not nullable.
    Nulls,
    /// Categorical values against the labels.
    Labels,
    /// Declared units against the features' units.
    Units,
    /// Values against the features' ranges and patterns.
    Constraints,
}

impl Stage {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Columns => "columns",
            Stage::Dtype => "dtype",
            Stage::Nulls => "nulls",
            Stage::Labels => "labels",
            Stage::Units => "units",
            Stage::Constraints => "constraints",
        }
    }
}

/// What is wrong: a stable code programs can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// A required feature has no column.
    MissingColumn,
    /// A column has no registered feature (and extra columns are not allowed).
    UnexpectedColumn,
    /// Columns are not in the required order.
    ColumnOrder,
    /// Two or more columns have the same name.
    DuplicateColumn,
    /// The column's type does not fit the feature's dtype.
    WrongDtype,
    /// Nulls in a column whose feature is not nullable.
    UnexpectedNulls,
    /// Categorical values that are no label's name.
    UnknownLabel,
    /// Categorical values that cannot be a label's name (leading or trailing spaces, control
    /// characters, too long), so they cannot be registered as new labels either.
    NotAName,
    /// Labels that exist but are outside the feature's branch (`cat[ULabel[NAME]]`).
    LabelOutsideBranch,
    /// The feature's dtype draws from a registry Lamella does not hold.
    UnknownRegistry,
    /// The label a `cat[ULabel[NAME]]` dtype names does not exist.
    MissingBranch,
    /// The column's declared unit differs from the feature's.
    UnitMismatch,
    /// Numbers below the feature's minimum or above its maximum.
    OutOfRange,
    /// Text that does not match the feature's pattern.
    PatternMismatch,
}

impl Code {
    /// The code as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MissingColumn => "missing_column",
            Code::UnexpectedColumn => "unexpected_column",
            Code::ColumnOrder => "column_order",
            Code::DuplicateColumn => "duplicate_column",
            Code::WrongDtype => "wrong_dtype",
            Code::UnexpectedNulls => "unexpected_nulls",
            Code::UnknownLabel => "unknown_label",
            Code::NotAName => "not_a_name",
            Code::LabelOutsideBranch => "label_outside_branch",
            Code::UnknownRegistry => "unknown_registry",
            Code::MissingBranch => "missing_branch",
            Code::UnitMismatch => "unit_mismatch",
            Code::OutOfRange => "out_of_range",
            Code::PatternMismatch => "pattern_mismatch",
        }
    }
}

/// What kind of fix a suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    /// Rename (the column or value) to this feature name.
    Feature,
    /// Replace by this label name (close spelling).
    Label,
    /// Replace by this name, which has the value as a synonym.
    Synonym,
    /// Convert into this unit by multiplying with `factor`.
    Convert,
    /// Rename this column (`value`) to the issue's feature.
    RenameColumn,
}

/// A fix a program can apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// What kind of fix.
    pub kind: SuggestionKind,
    /// The name (or unit) to use instead.
    pub value: String,
    /// For conversions: the factor to multiply values with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

/// An offending value: how often it occurs and where first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offending {
    /// The value (as text); only its first characters and `…` when it is longer than a name
    /// can be (see `length`).
    pub value: String,
    /// The whole value's length in characters, when `value` holds only its beginning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    /// Rows holding it.
    pub count: usize,
    /// The first rows holding it (0-based).
    pub rows: Vec<usize>,
    /// The fix for this value, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
}

/// One problem: one (stage, column, code).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    /// For AnnData: the axis (`obs` for its columns, `var` for its genes); none for tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub axis: Option<String>,
    /// The stage.
    pub stage: Stage,
    /// The stable code.
    pub code: Code,
    /// The column concerned (none for a missing column's absence… which names the feature).
    pub column: Option<String>,
    /// The feature concerned.
    pub feature: Option<String>,
    /// The offending values (at most the report's example limit).
    pub values: Vec<Offending>,
    /// Rows affected in all.
    pub count: usize,
    /// What was expected (a dtype, a unit, a range, a branch).
    pub expected: Option<String>,
    /// The fix for the whole issue, when one is known.
    pub suggestion: Option<Suggestion>,
    /// One sentence saying what is wrong and what to do.
    pub message: String,
}

impl Issue {
    /// An issue without offending values or suggestion (a column's type, a missing
    /// registry, …).
    pub(crate) fn plain(
        stage: Stage,
        code: Code,
        column: Option<String>,
        feature: Option<String>,
        expected: impl Into<String>,
        message: String,
    ) -> Issue {
        Issue {
            axis: None,
            stage,
            code,
            column,
            feature,
            values: Vec::new(),
            count: 0,
            expected: Some(expected.into()),
            message,
            suggestion: None,
        }
    }
}

/// Everything wrong with a table, found in one pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Whether the table passed.
    pub valid: bool,
    /// Rows checked.
    pub rows: usize,
    /// Columns checked.
    pub columns: usize,
    /// Whether some issue's list of values was cut.
    pub truncated: bool,
    /// Issues per stage (stages without issues are absent).
    pub stages: BTreeMap<Stage, usize>,
    /// The issues, by column in table order, then stage.
    pub issues: Vec<Issue>,
    /// What was done besides checking (unit conversions applied, …).
    pub notes: Vec<String>,
}

impl Report {
    pub(crate) fn new(
        rows: usize,
        columns: usize,
        mut issues: Vec<Issue>,
        order: &[String],
    ) -> Report {
        // Column positions looked up once (a table may have 100k columns).
        let position: std::collections::HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .rev()
            .collect();
        let pos = |c: &Option<String>| {
            c.as_deref()
                .and_then(|c| position.get(c).copied())
                .unwrap_or(usize::MAX)
        };
        issues.sort_by_cached_key(|i| {
            (
                pos(&i.column),
                i.column.is_none(),
                i.feature.clone(),
                i.stage,
            )
        });
        let mut stages = BTreeMap::new();
        for i in &issues {
            *stages.entry(i.stage).or_insert(0) += 1;
        }
        Report {
            valid: issues.is_empty(),
            rows,
            columns,
            truncated: false,
            stages,
            issues,
            notes: Vec::new(),
        }
    }

    /// How many distinct columns (or missing features) the issues concern.
    pub fn columns_with_issues(&self) -> usize {
        // (An issue of the whole table, such as the column order, counts as one "column".)
        let mut seen: Vec<&str> = self
            .issues
            .iter()
            .map(|i| i.column.as_deref().or(i.feature.as_deref()).unwrap_or(""))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// The closing line: `5 problems in 3 columns` (or that the table is valid).
    pub fn summary(&self) -> String {
        if self.valid {
            return format!(
                "valid: {} rows × {} columns, no problems",
                self.rows, self.columns
            );
        }
        let n = self.issues.len();
        let c = self.columns_with_issues();
        format!(
            "{n} problem{} in {c} column{}",
            if n == 1 { "" } else { "s" },
            if c == 1 { "" } else { "s" }
        )
    }
}

/// Characters of a value shown in the text report (the JSON form has up to
/// [`crate::names::MAX_NAME_CHARS`]).
const SHOWN_CHARS: usize = 80;

impl fmt::Display for Report {
    /// Issues grouped by column, then the summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut current: Option<String> = None;
        for issue in &self.issues {
            let heading = match (issue.axis.as_deref(), &issue.column, &issue.feature) {
                (Some("var"), Some(c), _) => format!("var '{c}'"),
                (Some("var"), None, Some(feat)) => format!("var: feature '{feat}'"),
                (Some("var"), None, None) => "var".to_string(),
                (Some(axis), Some(c), _) => format!("{axis} column '{c}'"),
                (Some(axis), None, Some(feat)) => format!("{axis}: feature '{feat}'"),
                (Some(axis), None, None) => axis.to_string(),
                (None, Some(c), _) => format!("column '{c}'"),
                (None, None, Some(feat)) => format!("feature '{feat}'"),
                (None, None, None) => "table".to_string(),
            };
            if current.as_deref() != Some(&heading) {
                writeln!(f, "{}:", crate::names::shown(&heading, usize::MAX))?;
                current = Some(heading);
            }
            // Names inside messages show their invisible and look-alike characters too.
            writeln!(
                f,
                "  ✗ [{}/{}] {}",
                issue.stage.as_str(),
                issue.code.as_str(),
                crate::names::shown(&issue.message, usize::MAX)
            )?;
            for v in &issue.values {
                let rows = v
                    .rows
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = if v.count > v.rows.len() { ", …" } else { "" };
                let hint = match &v.suggestion {
                    Some(s) if s.kind == SuggestionKind::Synonym => {
                        format!(
                            " → synonym of '{}'",
                            crate::names::shown(&s.value, SHOWN_CHARS)
                        )
                    }
                    Some(s) => format!(
                        " → did you mean '{}'?",
                        crate::names::shown(&s.value, SHOWN_CHARS)
                    ),
                    None => String::new(),
                };
                if issue.axis.as_deref() == Some("var") {
                    // Genes: where they are in the var index.
                    writeln!(
                        f,
                        "      '{}' (position {rows}{more}){hint}",
                        crate::names::shown(&v.value, SHOWN_CHARS)
                    )?;
                    continue;
                }
                writeln!(
                    f,
                    "      '{}': {} row{} (row {rows}{more}){hint}",
                    match v.length {
                        Some(n) => format!(
                            "{}… ({n} characters)",
                            crate::names::shown(
                                &v.value.chars().take(SHOWN_CHARS).collect::<String>(),
                                SHOWN_CHARS
                            )
                        ),
                        None => crate::names::shown(&v.value, SHOWN_CHARS),
                    },
                    v.count,
                    if v.count == 1 { "" } else { "s" }
                )?;
            }
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        write!(f, "{}", self.summary())?;
        if self.truncated {
            write!(f, " (value lists cut; the full report has the counts)")?;
        }
        Ok(())
    }
}
