//! Applying what the report can only suggest: synonym column names become feature names,
//! synonym values of categorical columns become label names (SPEC §5.1).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use lamella_schema::Feature;
use serde::Serialize;

use super::curator::Curator;
use super::registry::synonyms;
use super::values;
use crate::error::Result;

/// What [`Curator::standardize`] changed: a fix map a program can apply to the same table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fixes {
    /// Column renames: a feature's synonym → the feature's name.
    pub columns: BTreeMap<String, String>,
    /// Per column (by its name after renaming): a label's synonym → the label's name.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Per column: how many rows changed.
    pub rows: BTreeMap<String, usize>,
    /// For AnnData: gene renames in the var index (a gene feature's synonym → its name).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub genes: BTreeMap<String, String>,
}

impl Fixes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.values.is_empty() && self.genes.is_empty()
    }

    /// Each change in words: `column 'sepal length' → 'sepal_length'`, `species: 'Setosa' →
    /// 'setosa' (12 rows)`.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .columns
            .iter()
            .map(|(from, to)| format!("column '{from}' → '{to}'"))
            .collect();
        out.extend(
            self.genes
                .iter()
                .map(|(from, to)| format!("gene '{from}' → '{to}'")),
        );
        for (column, map) in &self.values {
            for (from, to) in map {
                out.push(format!("{column}: '{from}' → '{to}'"));
            }
            if let Some(n) = self.rows.get(column) {
                out.push(format!(
                    "{column}: {n} row{} changed",
                    if *n == 1 { "" } else { "s" }
                ));
            }
        }
        out
    }
}

impl Curator {
    /// Applies synonyms: a column named by a feature's synonym (and no feature of its own
    /// name) is renamed to the feature; in each categorical column, values that are a label's
    /// synonym become the label's name. Close spellings are left to the report (they are
    /// guesses). Returns the curator of the fixed table — same options, the renamed columns
    /// followed — and what changed. Two statements however wide the table: the features and
    /// their synonyms, then the label synonyms of every categorical column at once.
    pub fn standardize(self) -> Result<(Curator, Fixes)> {
        let mut fixes = Fixes::default();
        let schema = self.table.schema();
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mapped: HashMap<String, String> = self.categorical.iter().cloned().collect();
        let mut wanted: Vec<String> = columns
            .iter()
            .map(|c| mapped.get(c).cloned().unwrap_or_else(|| c.clone()))
            .collect();
        wanted.sort();
        wanted.dedup();
        let (found, feature_synonyms) = self.ln.db().with_conn(|c| {
            let found: Vec<Feature> = lamella_schema::load_where_in(c, "name", &wanted)?;
            Ok::<_, crate::Error>((found, synonyms::<Feature>(c)?))
        })?;
        let mut features: HashMap<String, Feature> =
            found.into_iter().map(|f| (f.name.clone(), f)).collect();
        // Column names: synonyms of features become the features' names (unless the table
        // has that column already, or another column takes the same name).
        let mut renamed: Vec<String> = columns.clone();
        let mut more: Vec<String> = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            if mapped.contains_key(c) || features.contains_key(c) {
                continue;
            }
            let Some(name) = feature_synonyms.get(c) else {
                continue;
            };
            if renamed.contains(name) {
                continue;
            }
            renamed[i] = name.clone();
            fixes.columns.insert(c.clone(), name.clone());
            more.push(name.clone());
        }
        if !more.is_empty() {
            let extra: Vec<Feature> = self
                .ln
                .db()
                .with_conn(|c| lamella_schema::load_where_in(c, "name", &more))?;
            features.extend(extra.into_iter().map(|f| (f.name.clone(), f)));
        }
        // Values: the distinct texts of every categorical column, looked up at once.
        let categorical: Vec<usize> = (0..columns.len())
            .filter(|&i| {
                let feature = mapped.get(&columns[i]).unwrap_or(&renamed[i]);
                features
                    .get(feature)
                    .is_some_and(|f| f.dtype.is_categorical())
                    && text_like(schema.field(i).data_type())
            })
            .collect();
        // Each column's distinct values once (with per-row codes), then one lookup for all.
        let mut per_column: Vec<(usize, values::Distinct)> = Vec::new();
        let mut distinct: Vec<String> = Vec::new();
        for &i in &categorical {
            let d = values::distinct(self.table.column(i).as_ref(), true)?;
            distinct.extend(d.values.iter().cloned());
            per_column.push((i, d));
        }
        distinct.sort_unstable();
        distinct.dedup();
        let to_name = if distinct.is_empty() {
            BTreeMap::new()
        } else {
            self.ln.ulabels().standardize(&distinct)?.mapping
        };
        let mut new_columns: Vec<ArrayRef> = self.table.columns().to_vec();
        let mut new_fields: Vec<Field> =
            schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (i, d) in per_column {
            let mapped: Vec<Option<&String>> = d.values.iter().map(|v| to_name.get(v)).collect();
            let used: BTreeMap<String, String> = d
                .values
                .iter()
                .zip(&mapped)
                .filter_map(|(v, m)| Some((v.clone(), (*m)?.clone())))
                .collect();
            if used.is_empty() {
                continue;
            }
            let changed: usize = d
                .counts
                .iter()
                .zip(&mapped)
                .filter(|(_, m)| m.is_some())
                .map(|(n, _)| n)
                .sum();
            let fixed: StringArray = d
                .codes
                .iter()
                .map(|&c| {
                    (c != values::NULL).then(|| {
                        let c = c as usize;
                        mapped[c].map_or(d.values[c].as_str(), String::as_str)
                    })
                })
                .collect();
            fixes.values.insert(renamed[i].clone(), used);
            fixes.rows.insert(renamed[i].clone(), changed);
            new_fields[i] = Field::new(
                new_fields[i].name(),
                DataType::Utf8,
                new_fields[i].is_nullable(),
            )
            .with_metadata(new_fields[i].metadata().clone());
            new_columns[i] = Arc::new(fixed);
        }
        if fixes.is_empty() {
            return Ok((self, fixes));
        }
        for (field, name) in new_fields.iter_mut().zip(&renamed) {
            if field.name() != name {
                *field = field.clone().with_name(name);
            }
        }
        let table = RecordBatch::try_new(
            Arc::new(Schema::new_with_metadata(
                new_fields,
                schema.metadata().clone(),
            )),
            new_columns,
        )?;
        let rename = |c: &String| fixes.columns.get(c).cloned().unwrap_or_else(|| c.clone());
        let mut fixed = self;
        fixed.table = table;
        fixed.units = fixed
            .units
            .iter()
            .map(|(c, u)| (rename(c), u.clone()))
            .collect();
        fixed.add_new = fixed.add_new.iter().map(rename).collect();
        Ok((fixed, fixes))
    }
}

/// Whether a column holds text a label could be named by (strings, or a dictionary of them).
fn text_like(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => text_like(v),
        _ => false,
    }
}
