//! The curator's pure stages: each takes a table's columns and what was read from the
//! registries beforehand (a [`Snapshot`]) and returns issues — no database access, so each
//! rule is unit-tested here. The curator reads the snapshot once, then runs the stages; the
//! label stage, which needs the labels a column names, reads them in one batch per column.

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use lamella_schema::{Dtype, Feature};

use super::report::{Code, Issue, Offending, Stage, Suggestion, SuggestionKind};
use super::values::{self, Distinct};
use crate::error::Result;

/// What the registries say about a table's columns, read once before the stages run.
pub(super) struct Snapshot {
    /// The features named by a column (directly or through a categorical mapping) or
    /// required, by name.
    pub(super) features: HashMap<String, Feature>,
    /// Feature synonyms: synonym → feature name.
    pub(super) feature_synonyms: HashMap<String, String>,
}

/// A column matched to its feature.
#[derive(Debug, Clone)]
pub(super) struct Matched {
    pub(super) column: usize,
    pub(super) feature: Feature,
    /// The factor converting the column's declared unit into the feature's, when they differ.
    pub(super) factor: Option<f64>,
    /// Whether saving converts the column by `factor`.
    pub(super) convert: bool,
}

/// Stage columns: names given to more than one column (which one a feature describes is
/// anyone's guess).
pub(super) fn duplicate_columns(columns: &[String]) -> Vec<Issue> {
    let mut times: HashMap<&str, usize> = HashMap::new();
    for c in columns {
        *times.entry(c.as_str()).or_default() += 1;
    }
    let mut reported = HashSet::new();
    let mut issues = Vec::new();
    for c in columns {
        let n = times[c.as_str()];
        if n > 1 && reported.insert(c.as_str()) {
            issues.push(Issue::plain(
                Stage::Columns,
                Code::DuplicateColumn,
                Some(c.clone()),
                None,
                "one column per name",
                format!("{n} columns are named '{c}': rename all but one"),
            ));
        }
    }
    issues
}

/// The columns with a registered feature (`feature_of` maps a column to the feature name it
/// stands for), and the others as (position, column, feature name wanted).
pub(super) fn match_columns(
    columns: &[String],
    feature_of: &dyn Fn(&str) -> String,
    snapshot: &Snapshot,
) -> (Vec<Matched>, Vec<(usize, String, String)>) {
    let mut matched = Vec::new();
    let mut unmatched = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let name = feature_of(c);
        match snapshot.features.get(&name) {
            Some(f) => matched.push(Matched {
                column: i,
                feature: f.clone(),
                factor: None,
                convert: false,
            }),
            None => unmatched.push((i, c.clone(), name)),
        }
    }
    (matched, unmatched)
}

/// Stage columns: columns without a feature, each with its fix — the feature it is a synonym
/// of, else the closest spelling (`spelled[i]` for `unexpected[i]`, from the name index),
/// else registering one.
pub(super) fn unexpected_columns(
    unexpected: &[&(usize, String, String)],
    spelled: Vec<Vec<String>>,
    snapshot: &Snapshot,
) -> Vec<Issue> {
    let mut issues = Vec::new();
    for ((_, column, name), spelled) in unexpected.iter().copied().zip(spelled) {
        let name = &name.as_str();
        let column = Some(column.clone());
        let explicit = column.as_deref() != Some(*name);
        let suggestion = match snapshot.feature_synonyms.get(*name) {
            Some(f) => Some(Suggestion {
                kind: SuggestionKind::Synonym,
                value: f.clone(),
                factor: None,
            }),
            None => spelled.first().cloned().map(|f| Suggestion {
                kind: SuggestionKind::Feature,
                value: f,
                factor: None,
            }),
        };
        let hint = match &suggestion {
            Some(s) if s.kind == SuggestionKind::Synonym => format!(
                "'{name}' is a synonym of feature '{}': rename the column",
                s.value
            ),
            Some(s) => format!("did you mean '{}'?", s.value),
            None => format!(
                "register a feature '{name}'{}",
                if explicit {
                    ""
                } else {
                    ", or allow extra columns"
                }
            ),
        };
        issues.push(Issue {
            axis: None,
            stage: Stage::Columns,
            code: Code::UnexpectedColumn,
            column,
            feature: None,
            values: Vec::new(),
            count: 0,
            expected: Some("a registered feature".into()),
            message: format!("no feature is named '{name}'; {hint}"),
            suggestion,
        });
    }
    issues
}

/// Stage columns: required features without a column, with the spare column that looks like
/// a misspelling of one.
pub(super) fn missing_required(
    required: &[&String],
    present: &HashSet<&str>,
    spare: &[&str],
    snapshot: &Snapshot,
) -> Vec<Issue> {
    let mut issues = Vec::new();
    for r in required.iter().copied() {
        if present.contains(r.as_str()) {
            continue;
        }
        let near = closest(r, spare.iter().copied());
        let registered = snapshot.features.contains_key(r.as_str());
        issues.push(Issue {
            axis: None,
            stage: Stage::Columns,
            code: Code::MissingColumn,
            column: None,
            feature: Some(r.clone()),
            values: Vec::new(),
            count: 0,
            expected: Some(format!("a column '{r}'")),
            message: match (near, registered) {
                (Some(c), _) => format!(
                    "required feature '{r}' has no column; the column '{c}' looks like a \
                     misspelling of it"
                ),
                (None, true) => format!("required feature '{r}' has no column"),
                (None, false) => format!(
                    "required feature '{r}' has no column, and no feature has this name: \
                     register it first"
                ),
            },
            suggestion: near.map(|c| Suggestion {
                kind: SuggestionKind::RenameColumn,
                value: c.to_string(),
                factor: None,
            }),
        });
    }
    issues
}

/// Stage columns: the required features present, when they are not in the required order.
pub(super) fn column_order(
    required: &[&String],
    present: &HashSet<&str>,
    matched: &[Matched],
) -> Option<Issue> {
    let order: Vec<&str> = required
        .iter()
        .filter(|r| present.contains(r.as_str()))
        .map(|r| r.as_str())
        .collect();
    let seen: Vec<&str> = matched
        .iter()
        .map(|m| m.feature.name.as_str())
        .filter(|n| order.contains(n))
        .collect();
    (seen != order).then(|| {
        Issue::plain(
            Stage::Columns,
            Code::ColumnOrder,
            None,
            None,
            order.join(", "),
            format!(
                "columns are in the order {}, not {}",
                seen.join(", "),
                order.join(", ")
            ),
        )
    })
}

/// Stage dtype: when `column` does not fit `f`'s dtype, the issue — with the values that keep
/// it from fitting (text that is not a number, say), at most `examples` of them — and whether
/// that list was cut.
pub(super) fn wrong_dtype(
    name: &str,
    f: &Feature,
    column: &dyn Array,
    examples: usize,
) -> Result<Option<(Issue, bool)>> {
    if fits(column.data_type(), &f.dtype) {
        return Ok(None);
    }
    let misfits = match misfit_rule(column.data_type(), &f.dtype) {
        Some(bad) => Some(values::failing(column, bad, examples)?),
        None => None,
    };
    let mut truncated = false;
    let (values, count) = match &misfits {
        Some(d) if !d.values.is_empty() => {
            truncated = d.uncounted > 0;
            let shown: Vec<Offending> =
                (0..d.values.len()).map(|i| offending(d, i, None)).collect();
            let n = d.counts.iter().sum::<usize>() + d.uncounted;
            (shown, n)
        }
        _ => (Vec::new(), column.len()),
    };
    let what = if values.is_empty() {
        String::new()
    } else {
        format!(
            "; {} value{} {} not {}",
            count,
            if count == 1 { "" } else { "s" },
            if count == 1 { "is" } else { "are" },
            dtype_noun(&f.dtype)
        )
    };
    let issue = Issue {
        axis: None,
        stage: Stage::Dtype,
        code: Code::WrongDtype,
        column: Some(name.to_string()),
        feature: Some(f.name.clone()),
        values,
        count,
        expected: Some(f.dtype.to_string()),
        message: format!(
            "holds {} but feature '{}' has dtype '{}'{what}",
            column.data_type(),
            f.name,
            f.dtype
        ),
        suggestion: None,
    };
    Ok(Some((issue, truncated)))
}

/// Stage nulls: missing values (null or NaN) in a column whose feature is not nullable.
pub(super) fn unexpected_nulls(name: &str, f: &Feature, column: &dyn Array) -> Option<Issue> {
    if f.nullable {
        return None;
    }
    let (missing, rows) = missing_values(column);
    (missing > 0).then(|| Issue {
        axis: None,
        stage: Stage::Nulls,
        code: Code::UnexpectedNulls,
        column: Some(name.to_string()),
        feature: Some(f.name.clone()),
        values: vec![Offending {
            value: "null".into(),
            length: None,
            count: missing,
            rows,
            suggestion: None,
        }],
        count: missing,
        expected: Some("no missing values".into()),
        message: format!(
            "{missing} missing value{} (null or NaN) but feature '{}' is not nullable",
            if missing == 1 { "" } else { "s" },
            f.name
        ),
        suggestion: None,
    })
}

/// Missing values of a column — nulls (also those inside a dictionary's values) and NaN in
/// float columns — with the first rows holding them.
fn missing_values(column: &dyn Array) -> (usize, Vec<usize>) {
    let nulls = column.logical_nulls();
    let is_nan = |row: usize| match column.data_type() {
        DataType::Float64 => column.as_primitive::<Float64Type>().value(row).is_nan(),
        DataType::Float32 => column
            .as_primitive::<arrow::datatypes::Float32Type>()
            .value(row)
            .is_nan(),
        _ => false,
    };
    let floats = matches!(column.data_type(), DataType::Float64 | DataType::Float32);
    if !floats {
        let n = nulls.as_ref().map_or(0, |n| n.null_count());
        let rows = match &nulls {
            Some(b) if n > 0 => (0..column.len())
                .filter(|&r| b.is_null(r))
                .take(values::ROWS_KEPT)
                .collect(),
            _ => Vec::new(),
        };
        return (n, rows);
    }
    let mut count = 0;
    let mut rows = Vec::new();
    for r in 0..column.len() {
        if nulls.as_ref().is_some_and(|b| b.is_null(r)) || is_nan(r) {
            count += 1;
            if rows.len() < values::ROWS_KEPT {
                rows.push(r);
            }
        }
    }
    (count, rows)
}

pub(super) fn offending(d: &Distinct, i: usize, suggestion: Option<Suggestion>) -> Offending {
    let (value, length) = cut(&d.values[i]);
    Offending {
        value,
        length,
        count: d.counts[i],
        rows: d.rows[i].clone(),
        suggestion,
    }
}

/// For a column of Arrow type `ty` that does not fit `dtype`, the test of a single value
/// (as text) that makes it not fit — text that is no number, a float with a fraction for an
/// int feature — or `None` when the whole type is wrong (booleans for a number, say).
fn misfit_rule(ty: &DataType, dtype: &Dtype) -> Option<fn(&str) -> bool> {
    let text = matches!(
        ty,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) || matches!(ty, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8));
    match dtype {
        Dtype::Int if text || ty.is_floating() => Some(|v| {
            v.trim().parse::<i64>().is_err()
                && !v
                    .trim()
                    .parse::<f64>()
                    .is_ok_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
        }),
        Dtype::Float | Dtype::Num if text => Some(|v| v.trim().parse::<f64>().is_err()),
        Dtype::Bool if text => Some(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "true" | "false" | "t" | "f" | "yes" | "no" | "0" | "1"
            )
        }),
        Dtype::Date if text => {
            Some(|v| chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").is_err())
        }
        Dtype::Datetime if text => Some(|v| lamella_schema::parse_timestamp(v.trim()).is_none()),
        _ => None,
    }
}

/// What values of `dtype` are, in a message: "integers", "numbers", ….
fn dtype_noun(dtype: &Dtype) -> &'static str {
    match dtype {
        Dtype::Int => "integers",
        Dtype::Float | Dtype::Num => "numbers",
        Dtype::Bool => "booleans",
        Dtype::Date => "dates (YYYY-MM-DD)",
        Dtype::Datetime => "timestamps",
        _ => "of that dtype",
    }
}

/// A value as a report carries it: whole up to the longest name there can be, else its
/// beginning and `…` (a 10 MB cell does not make a 10 MB report).
fn cut(value: &str) -> (String, Option<usize>) {
    match value.char_indices().nth(crate::names::MAX_NAME_CHARS) {
        None => (value.to_string(), None),
        Some((end, _)) => (format!("{}…", &value[..end]), Some(value.chars().count())),
    }
}

/// Whether a column of Arrow type `ty` can hold values of `dtype`.
pub(super) fn fits(ty: &DataType, dtype: &Dtype) -> bool {
    let text =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let dictionary_text = |t: &DataType| matches!(t, DataType::Dictionary(_, v) if text(v));
    if *ty == DataType::Null {
        // All values missing: any dtype (the nulls stage reports them when it must).
        return true;
    }
    match dtype {
        Dtype::Int => ty.is_integer(),
        Dtype::Float | Dtype::Num => ty.is_numeric(),
        Dtype::Bool => *ty == DataType::Boolean,
        Dtype::Str => text(ty) || dictionary_text(ty),
        Dtype::Date => matches!(ty, DataType::Date32 | DataType::Date64),
        Dtype::Datetime => matches!(ty, DataType::Timestamp(_, _)),
        Dtype::Cat(_) => text(ty) || matches!(ty, DataType::Dictionary(_, _)) || ty.is_integer(),
        Dtype::List(inner) => match ty {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                fits(f.data_type(), inner)
            }
            _ => false,
        },
    }
}

/// The candidate that looks like a misspelling of `name` (the near-duplicate rule: case,
/// spaces and punctuation aside, or one edit apart), closest first.
fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let key = crate::names::normalize(name);
    candidates
        .filter(|c| crate::names::similar_keys(&key, &crate::names::normalize(c)))
        .min_by_key(|c| strsim::levenshtein(name, c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, StringArray};

    fn snapshot(features: &[Feature], synonyms: &[(&str, &str)]) -> Snapshot {
        Snapshot {
            features: features
                .iter()
                .map(|f| (f.name.clone(), f.clone()))
                .collect(),
            feature_synonyms: synonyms
                .iter()
                .map(|(s, f)| (s.to_string(), f.to_string()))
                .collect(),
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_name_on_two_columns_is_reported_once() {
        let issues = duplicate_columns(&names(&["a", "b", "a", "a"]));
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, Code::DuplicateColumn);
        assert!(issues[0].message.starts_with("3 columns are named 'a'"));
        assert!(duplicate_columns(&names(&["a", "b"])).is_empty());
    }

    #[test]
    fn columns_match_features_directly_or_through_a_mapping() {
        let snap = snapshot(&[Feature::new("species", Dtype::Cat(vec![]))], &[]);
        let columns = names(&["iris", "petal"]);
        let map = |c: &str| {
            if c == "iris" {
                "species".into()
            } else {
                c.to_string()
            }
        };
        let (matched, unmatched) = match_columns(&columns, &map, &snap);
        assert_eq!(matched.len(), 1);
        assert_eq!(
            (matched[0].column, matched[0].feature.name.as_str()),
            (0, "species")
        );
        assert_eq!(unmatched, [(1, "petal".to_string(), "petal".to_string())]);
    }

    #[test]
    fn an_unexpected_column_gets_the_synonym_then_the_spelling_then_registering() {
        let snap = snapshot(&[], &[("sepal length", "sepal_length")]);
        let cols = [
            (0, "sepal length".to_string(), "sepal length".to_string()),
            (1, "petl".to_string(), "petl".to_string()),
            (2, "x".to_string(), "x".to_string()),
        ];
        let refs: Vec<&(usize, String, String)> = cols.iter().collect();
        let spelled = vec![vec![], vec!["petal".to_string()], vec![]];
        let issues = unexpected_columns(&refs, spelled, &snap);
        let kinds: Vec<Option<SuggestionKind>> = issues
            .iter()
            .map(|i| i.suggestion.as_ref().map(|s| s.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                Some(SuggestionKind::Synonym),
                Some(SuggestionKind::Feature),
                None
            ]
        );
        assert!(issues[1].message.contains("did you mean 'petal'?"));
        assert!(
            issues[2]
                .message
                .contains("register a feature 'x', or allow extra columns")
        );
    }

    #[test]
    fn a_required_feature_without_column_names_the_misspelt_column() {
        let snap = snapshot(&[Feature::new("sepal_length", Dtype::Float)], &[]);
        let required = names(&["sepal_length", "unknown"]);
        let required: Vec<&String> = required.iter().collect();
        let issues = missing_required(&required, &HashSet::new(), &["sepal_lenght"], &snap);
        assert_eq!(issues.len(), 2);
        assert!(
            issues[0]
                .message
                .contains("'sepal_lenght' looks like a misspelling")
        );
        assert_eq!(
            issues[0].suggestion.as_ref().map(|s| s.value.as_str()),
            Some("sepal_lenght")
        );
        assert!(issues[1].message.contains("register it first"));
    }

    #[test]
    fn order_counts_only_required_features_present() {
        let a = Feature::new("a", Dtype::Int);
        let b = Feature::new("b", Dtype::Int);
        let matched = |fs: &[&Feature]| -> Vec<Matched> {
            fs.iter()
                .enumerate()
                .map(|(i, f)| Matched {
                    column: i,
                    feature: (*f).clone(),
                    factor: None,
                    convert: false,
                })
                .collect()
        };
        let req = names(&["a", "b", "missing"]);
        let req: Vec<&String> = req.iter().collect();
        let present: HashSet<&str> = ["a", "b"].into();
        assert!(column_order(&req, &present, &matched(&[&a, &b])).is_none());
        let issue = column_order(&req, &present, &matched(&[&b, &a])).expect("out of order");
        assert_eq!(issue.message, "columns are in the order b, a, not a, b");
    }

    #[test]
    fn a_wrong_dtype_lists_the_values_that_do_not_fit() {
        let f = Feature::new("n", Dtype::Int);
        let text = StringArray::from(vec!["1", "two", "3", "two", "4.5"]);
        let (issue, cut) = wrong_dtype("n", &f, &text, 20).unwrap().expect("an issue");
        assert!(!cut);
        let values: Vec<(&str, usize)> = issue
            .values
            .iter()
            .map(|v| (v.value.as_str(), v.count))
            .collect();
        assert_eq!(values, [("two", 2), ("4.5", 1)]);
        assert_eq!(issue.count, 3);
        assert!(
            issue.message.ends_with("3 values are not integers"),
            "{}",
            issue.message
        );
        let ints = Int64Array::from(vec![1, 2]);
        assert!(wrong_dtype("n", &f, &ints, 20).unwrap().is_none());
        // One example asked for: the list is cut, the count still covers every row.
        let (issue, cut) = wrong_dtype("n", &f, &text, 1).unwrap().expect("an issue");
        assert!(cut);
        assert_eq!(issue.values.len(), 1);
    }

    #[test]
    fn nulls_and_nan_count_only_for_features_that_are_not_nullable() {
        let mut f = Feature::new("x", Dtype::Float);
        let column = Float64Array::from(vec![Some(1.0), None, Some(f64::NAN), Some(2.0)]);
        assert!(unexpected_nulls("x", &f, &column).is_none());
        f.nullable = false;
        let issue = unexpected_nulls("x", &f, &column).expect("an issue");
        assert_eq!(issue.count, 2);
        assert_eq!(issue.values[0].rows, [1, 2]);
    }
}
