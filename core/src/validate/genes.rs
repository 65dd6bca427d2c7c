//! The genes of an AnnData (its `var` index) checked as `X`'s columns: every gene a
//! registered feature of a numeric dtype, no gene twice, a saved schema's genes. A panel has
//! tens of thousands of genes (and a hostile one millions), so the check works on the names
//! as a whole — one lookup statement, one issue per kind listing the first genes — never an
//! object per gene.

use std::collections::{BTreeMap, HashMap};

use lamella_schema::{Dtype, FeatureKey};

use super::report::{Code, Issue, Offending, Stage, Suggestion, SuggestionKind};
use crate::error::Result;
use crate::instance::Instance;

/// The gene check's set-up.
#[derive(Clone)]
pub(super) struct GeneCheck {
    pub(super) ln: Instance,
    /// The var index, in order.
    pub(super) genes: Vec<String>,
    /// Genes listed per issue.
    pub(super) examples: usize,
    /// A saved schema: its name, its features, the required ones, whether others may
    /// appear.
    pub(super) schema: Option<GeneSchema>,
}

#[derive(Clone)]
pub(super) struct GeneSchema {
    name: String,
    listed: foldhash::HashSet<String>,
    required: Vec<String>,
    allow_extra: bool,
}

/// What the check found: the issues (axis `var`) and the registered features of the genes
/// in var order (one per distinct gene), for the save.
pub(super) struct GenesChecked {
    pub(super) issues: Vec<Issue>,
    pub(super) keys: Vec<FeatureKey>,
}

impl GeneCheck {
    pub(super) fn new(ln: &Instance, genes: Vec<String>) -> GeneCheck {
        GeneCheck {
            ln: ln.clone(),
            genes,
            examples: super::DEFAULT_EXAMPLES,
            schema: None,
        }
    }

    pub(super) fn schema(&mut self, schema: &crate::Schema) {
        self.schema = Some(GeneSchema {
            name: schema.name.clone(),
            listed: schema.features.iter().map(|f| f.name.clone()).collect(),
            required: schema
                .features
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name.clone())
                .collect(),
            allow_extra: schema.allow_extra,
        });
    }

    /// The distinct genes, first seen first, and how often each occurs.
    fn positions(&self) -> (Vec<&str>, foldhash::HashMap<&str, usize>) {
        let mut times: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
        times.reserve(self.genes.len());
        let mut distinct = Vec::new();
        for g in &self.genes {
            let e = times.entry(g.as_str()).or_default();
            if *e == 0 {
                distinct.push(g.as_str());
            }
            *e += 1;
        }
        (distinct, times)
    }

    /// The shown genes with their first positions (one pass over the index for all of them).
    fn offending(
        &self,
        shown: &[(&str, Option<Suggestion>)],
        times: &foldhash::HashMap<&str, usize>,
    ) -> Vec<Offending> {
        let mut rows: HashMap<&str, Vec<usize>> =
            shown.iter().map(|(g, _)| (*g, Vec::new())).collect();
        for (i, g) in self.genes.iter().enumerate() {
            if let Some(r) = rows.get_mut(g.as_str())
                && r.len() < self.examples
            {
                r.push(i);
            }
        }
        shown
            .iter()
            .map(|(g, suggestion)| Offending {
                value: g.to_string(),
                length: None,
                count: times.get(g).copied().unwrap_or(0),
                rows: rows.remove(g).unwrap_or_default(),
                suggestion: suggestion.clone(),
            })
            .collect()
    }

    pub(super) fn check(&self) -> Result<GenesChecked> {
        let (distinct, at) = self.positions();
        let mut issues = Vec::new();
        let twice: Vec<&str> = distinct.iter().copied().filter(|g| at[g] > 1).collect();
        if !twice.is_empty() {
            let n = twice.len();
            issues.push(var_issue(
                Code::DuplicateColumn,
                self.offending(
                    &twice
                        .iter()
                        .take(self.examples)
                        .map(|g| (*g, None))
                        .collect::<Vec<_>>(),
                    &at,
                ),
                n,
                "one entry per gene",
                format!(
                    "{n} gene{} {} more than once in the var index: a gene is one column of X; \
                     make the identifiers unique",
                    plural(n),
                    if n == 1 { "appears" } else { "appear" }
                ),
            ));
        }
        let names: Vec<String> = distinct.iter().map(|g| g.to_string()).collect();
        let (found, synonyms) = self.ln.db().with_conn(|c| {
            // One answer per distinct gene, in their order.
            let found = lamella_schema::feature_keys(c, &names)?;
            let synonyms = super::registry::synonyms::<lamella_schema::Feature>(c)?;
            Ok::<_, crate::Error>((found, synonyms))
        })?;
        let allow_extra = self.schema.as_ref().is_some_and(|s| s.allow_extra);
        let unknown: Vec<&str> = distinct
            .iter()
            .zip(&found)
            .filter(|(_, k)| k.is_none())
            .map(|(g, _)| *g)
            .collect();
        if !unknown.is_empty() && !allow_extra {
            let shown = &unknown[..unknown.len().min(self.examples)];
            let spelled_for: Vec<&str> = shown
                .iter()
                .copied()
                .filter(|g| !synonyms.contains_key(*g))
                .collect();
            let spelled: HashMap<&str, Option<String>> = spelled_for
                .iter()
                .copied()
                .zip(self.ln.features().suggestions(&spelled_for)?)
                .map(|(g, s)| (g, s.into_iter().next()))
                .collect();
            let with: Vec<(&str, Option<Suggestion>)> = shown
                .iter()
                .map(|g| {
                    let suggestion = match synonyms.get(*g) {
                        Some(f) => Some(Suggestion {
                            kind: SuggestionKind::Synonym,
                            value: f.clone(),
                            factor: None,
                        }),
                        None => spelled.get(g).cloned().flatten().map(|f| Suggestion {
                            kind: SuggestionKind::Feature,
                            value: f,
                            factor: None,
                        }),
                    };
                    (*g, suggestion)
                })
                .collect();
            let values = self.offending(&with, &at);
            let n = unknown.len();
            issues.push(var_issue(
                Code::UnexpectedColumn,
                values,
                n,
                "a registered feature per gene",
                format!(
                    "{n} gene{} of the var index {} no registered feature: fix the spellings \
                     shown, or register the genes as features (from the file's var index)",
                    plural(n),
                    if n == 1 { "is" } else { "are" }
                ),
            ));
        }
        // Genes are X's columns: their features hold numbers.
        let not_numeric: Vec<&FeatureKey> = found
            .iter()
            .flatten()
            .filter(|k| {
                !matches!(
                    k.dtype.parse::<Dtype>(),
                    Ok(Dtype::Float | Dtype::Int | Dtype::Num)
                )
            })
            .collect();
        if !not_numeric.is_empty() {
            let n = not_numeric.len();
            issues.push(var_issue(
                Code::WrongDtype,
                self.offending(
                    &not_numeric
                        .iter()
                        .take(self.examples)
                        .map(|k| (k.name.as_str(), None))
                        .collect::<Vec<_>>(),
                    &at,
                ),
                n,
                "float, int or num",
                format!(
                    "{n} gene{} of the var index {} a feature whose dtype is not a number (the \
                     first: '{}' is {}); X holds numbers: give those features a numeric dtype",
                    plural(n),
                    if n == 1 { "is" } else { "are" },
                    not_numeric[0].name,
                    not_numeric[0].dtype
                ),
            ));
        }
        if let Some(s) = &self.schema {
            if !s.allow_extra {
                let outside: Vec<&str> = distinct
                    .iter()
                    .zip(&found)
                    .filter(|(g, k)| k.is_some() && !s.listed.contains(**g))
                    .map(|(g, _)| *g)
                    .collect();
                if !outside.is_empty() {
                    let n = outside.len();
                    issues.push(var_issue(
                        Code::UnexpectedColumn,
                        self.offending(
                            &outside
                                .iter()
                                .take(self.examples)
                                .map(|g| (*g, None))
                                .collect::<Vec<_>>(),
                            &at,
                        ),
                        n,
                        format!("a gene of schema '{}'", s.name),
                        format!(
                            "{n} gene{} of the var index {} not in schema '{}': drop them, or \
                             save a schema version that lists them (or allows extra genes)",
                            plural(n),
                            if n == 1 { "is" } else { "are" },
                            s.name
                        ),
                    ));
                }
            }
            let missing: Vec<&String> = s
                .required
                .iter()
                .filter(|r| !at.contains_key(r.as_str()))
                .collect();
            if !missing.is_empty() {
                let n = missing.len();
                issues.push(var_issue(
                    Code::MissingColumn,
                    missing
                        .iter()
                        .take(self.examples)
                        .map(|g| Offending {
                            value: g.to_string(),
                            length: None,
                            count: 0,
                            rows: Vec::new(),
                            suggestion: None,
                        })
                        .collect(),
                    n,
                    format!("the required genes of schema '{}'", s.name),
                    format!(
                        "{n} gene{} that schema '{}' requires {} missing from the var index",
                        plural(n),
                        s.name,
                        if n == 1 { "is" } else { "are" }
                    ),
                ));
            }
        }
        let keys: Vec<FeatureKey> = found.into_iter().flatten().collect();
        // Unregistered genes first: the problem to fix before the others.
        issues.sort_by_key(|i| i.code != Code::UnexpectedColumn);
        Ok(GenesChecked { issues, keys })
    }

    /// Renames genes named by a gene feature's synonym (and no feature of their own name)
    /// to the feature; returns the renames.
    pub(super) fn standardize(mut self) -> Result<(GeneCheck, BTreeMap<String, String>)> {
        let synonyms = self
            .ln
            .db()
            .with_conn(super::registry::synonyms::<lamella_schema::Feature>)?;
        let mut renames = BTreeMap::new();
        let candidates: Vec<String> = {
            let mut v: Vec<String> = self
                .genes
                .iter()
                .filter(|g| synonyms.contains_key(g.as_str()))
                .cloned()
                .collect();
            v.sort();
            v.dedup();
            v
        };
        if !candidates.is_empty() {
            // A gene that is a feature's own name stays, even if another feature lists it as
            // a synonym.
            let own: foldhash::HashSet<String> = self
                .ln
                .db()
                .with_conn(|c| lamella_schema::feature_keys(c, &candidates))?
                .into_iter()
                .flatten()
                .map(|k| k.name)
                .collect();
            for g in self.genes.iter_mut() {
                if own.contains(g) {
                    continue;
                }
                if let Some(to) = synonyms.get(g.as_str()) {
                    renames.insert(g.clone(), to.clone());
                    *g = to.clone();
                }
            }
        }
        Ok((self, renames))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn var_issue(
    code: Code,
    values: Vec<Offending>,
    count: usize,
    expected: impl Into<String>,
    message: String,
) -> Issue {
    Issue {
        axis: Some("var".into()),
        stage: if code == Code::WrongDtype {
            Stage::Dtype
        } else {
            Stage::Columns
        },
        code,
        column: None,
        feature: None,
        values,
        count,
        expected: Some(expected.into()),
        suggestion: None,
        message,
    }
}
