//! `validate`, `inspect`, `standardize` and `add_synonym` on the named registries (ULabel,
//! Feature), vectorised over Arrow arrays: the work is per distinct value, and the registry is
//! read once per call (names in one `IN` list, synonyms in one more statement; `validate`
//! reads no synonyms, and for a long column beside a small registry reads every name while
//! the column is scanned).

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, BooleanArray};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use lamella_schema::{Conn, require_id, split_synonyms};
use serde::Serialize;

use super::values::{self, Distinct, NULL};
use crate::error::{Error, Result};
use crate::registry::{Named, Registry};

/// What [`Registry::inspect`] found among the distinct values.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Inspection {
    /// Values that are names of records.
    pub validated: Vec<String>,
    /// Values that are not, each with what it might be.
    pub not_validated: Vec<Unmatched>,
}

/// A value that is no record's name.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unmatched {
    /// The value.
    pub value: String,
    /// How many times it occurs.
    pub count: usize,
    /// The name of the record that has it as a synonym (`standardize` maps it there).
    pub synonym_of: Option<String>,
    /// Names spelt almost alike, closest first.
    pub suggestions: Vec<String>,
}

impl Inspection {
    /// Whether every value validated.
    pub fn is_valid(&self) -> bool {
        self.not_validated.is_empty()
    }
}

/// What [`Registry::standardize`] did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Standardized {
    /// The values with synonyms replaced by names (other values as they were).
    pub values: Vec<String>,
    /// Each synonym found → the name it stands for.
    pub mapping: BTreeMap<String, String>,
}

/// The registry's view of a set of distinct values.
pub(crate) struct Matched {
    /// Per distinct value: the id of the record it names.
    pub ids: Vec<Option<i64>>,
    /// Per distinct value: the name of the record that has it as a synonym.
    pub synonym_of: Vec<Option<String>>,
}

/// Every synonym of the registry → the name of its record (one statement).
pub(crate) fn synonyms<T: Named>(conn: &mut Conn<'_>) -> Result<HashMap<String, String>> {
    let with_synonyms: Vec<T> = lamella_schema::QuerySpec::new(T::REGISTRY)
        .filter("synonyms__isnull", false)
        .load(conn)?;
    let mut out = HashMap::new();
    for r in &with_synonyms {
        for s in split_synonyms(r.synonyms_str()) {
            out.entry(s.to_string())
                .or_insert_with(|| r.name_str().to_string());
        }
    }
    Ok(out)
}

/// Columns from this many rows read the registry's names while they are scanned.
const OVERLAP_ROWS: usize = 256 * 1024;
/// ... when the registry has at most one record per this many rows: reading a name costs
/// about 30 times scanning a row, so the read ends before the scan.
const OVERLAP_RATIO: usize = 32;

/// Every name of the registry → its id, when it has at most `most` records (its largest id
/// bounds the count: ids are never reused); `None` for a larger registry.
fn all_names<T: Named>(conn: &mut Conn<'_>, most: usize) -> Result<Option<HashMap<String, i64>>> {
    if lamella_schema::largest_id(conn, T::REGISTRY)? > most as i64 {
        return Ok(None);
    }
    Ok(Some(
        lamella_schema::names(conn, T::REGISTRY, "name")?
            .into_iter()
            .map(|(id, name)| (name, id))
            .collect(),
    ))
}

/// The records the distinct `values` name: name → id (one statement).
fn ids_of<T: Named>(conn: &mut Conn<'_>, values: &[String]) -> Result<HashMap<String, i64>> {
    let possible: Vec<String> = values
        .iter()
        .filter(|v| super::curator::could_be_name(v))
        .cloned()
        .collect();
    Ok(lamella_schema::ids_by_name(conn, T::REGISTRY, &possible)?
        .into_iter()
        .map(|(id, name)| (name, id))
        .collect())
}

/// Looks the distinct `values` up by name (one `IN` statement per 5,000 values) and among
/// the registry's `synonyms`.
pub(crate) fn match_known<T: Named>(
    conn: &mut Conn<'_>,
    values: &[String],
    synonyms: &HashMap<String, String>,
) -> Result<Matched> {
    let found = ids_of::<T>(conn, values)?;
    Ok(Matched {
        ids: values.iter().map(|v| found.get(v).copied()).collect(),
        synonym_of: values
            .iter()
            .map(|v| {
                if found.contains_key(v) {
                    None
                } else {
                    synonyms.get(v).cloned()
                }
            })
            .collect(),
    })
}

/// Looks the distinct `values` up: one statement for the names, one for the synonyms.
pub(crate) fn match_values<T: Named>(conn: &mut Conn<'_>, values: &[String]) -> Result<Matched> {
    let synonyms = synonyms::<T>(conn)?;
    match_known::<T>(conn, values, &synonyms)
}

impl<T: Named> Registry<T> {
    /// One bool per value: whether it is the name of a record (nulls are not).
    pub fn validate<S: AsRef<str>>(&self, values: &[S]) -> Result<Vec<bool>> {
        Ok(self
            .validate_array(&values::to_array(values))?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect())
    }

    /// [`validate`](Self::validate) over an Arrow column (text, dictionary, or cast to text);
    /// nulls stay null.
    pub fn validate_array(&self, column: &dyn Array) -> Result<BooleanArray> {
        // Names only: what a synonym stands for is `inspect`'s and `standardize`'s question.
        // A long column beside a small registry: every name is read while the column is
        // scanned, on another core.
        let (d, all) = if column.len() >= OVERLAP_ROWS {
            let (db, most) = (self.ln.db(), column.len() / OVERLAP_RATIO);
            let (d, all) = rayon::join(
                || values::codes(column),
                || db.with_conn(|c| all_names::<T>(c, most)),
            );
            (d?, all?)
        } else {
            (values::codes(column)?, None)
        };
        let found = match all {
            Some(all) => all,
            None => self.ln.db().with_conn(|c| ids_of::<T>(c, &d.values))?,
        };
        let known: Vec<bool> = d
            .values
            .iter()
            .map(|v| super::curator::could_be_name(v) && found.contains_key(v))
            .collect();
        let valid = BooleanBuffer::collect_bool(d.codes.len(), |i| {
            known.get(d.codes[i] as usize) == Some(&true)
        });
        let nulls = d.codes.contains(&NULL).then(|| {
            NullBuffer::new(BooleanBuffer::collect_bool(d.codes.len(), |i| {
                d.codes[i] != NULL
            }))
        });
        Ok(BooleanArray::new(valid, nulls))
    }

    /// Which values validate and, for the others, the synonym they match and the names spelt
    /// almost alike.
    pub fn inspect<S: AsRef<str>>(&self, values: &[S]) -> Result<Inspection> {
        self.inspect_array(&values::to_array(values))
    }

    /// [`inspect`](Self::inspect) over an Arrow column.
    pub fn inspect_array(&self, column: &dyn Array) -> Result<Inspection> {
        let d = values::distinct(column, false)?;
        let m = self
            .ln
            .db()
            .with_conn(|c| match_values::<T>(c, &d.values))?;
        self.inspection(&d, &m)
    }

    pub(crate) fn inspection(&self, d: &Distinct, m: &Matched) -> Result<Inspection> {
        let mut out = Inspection::default();
        let unknown: Vec<usize> = (0..d.values.len())
            .filter(|&i| m.ids[i].is_none())
            .collect();
        let names: Vec<&str> = unknown.iter().map(|&i| d.values[i].as_str()).collect();
        let suggestions = self.suggestions(&names)?;
        for i in 0..d.values.len() {
            if m.ids[i].is_some() {
                out.validated.push(d.values[i].clone());
            }
        }
        for (&i, suggestions) in unknown.iter().zip(suggestions) {
            out.not_validated.push(Unmatched {
                value: d.values[i].clone(),
                count: d.counts[i],
                synonym_of: m.synonym_of[i].clone(),
                suggestions,
            });
        }
        Ok(out)
    }

    /// For each value, the existing names spelt almost alike (the rule `create` warns with:
    /// case, spaces and punctuation aside, or a small edit distance), closest first.
    pub(crate) fn suggestions(&self, values: &[&str]) -> Result<Vec<Vec<String>>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let similar = self.similar_many(values)?;
        Ok(values
            .iter()
            .zip(similar)
            .map(|(v, mut names)| {
                names.retain(|n| n != v);
                names.sort_by_key(|n| (strsim::levenshtein(v, n), n.clone()));
                names.dedup();
                names.truncate(3);
                names
            })
            .collect())
    }

    /// Replaces synonyms by the names they stand for; values that are names or unknown are
    /// kept. The mapping says what was replaced.
    pub fn standardize<S: AsRef<str>>(&self, values: &[S]) -> Result<Standardized> {
        let array = values::to_array(values);
        let d = values::distinct(&array, true)?;
        let m = self
            .ln
            .db()
            .with_conn(|c| match_values::<T>(c, &d.values))?;
        let mut mapping = BTreeMap::new();
        let to: Vec<&str> = d
            .values
            .iter()
            .zip(&m.synonym_of)
            .map(|(v, s)| match s {
                Some(name) => {
                    mapping.insert(v.clone(), name.clone());
                    name.as_str()
                }
                None => v.as_str(),
            })
            .collect();
        Ok(Standardized {
            values: d
                .codes
                .iter()
                .map(|&c| to[c as usize].to_string())
                .collect(),
            mapping,
        })
    }

    /// Adds `synonym` to a saved record. Refused when it is another record's name or synonym,
    /// or contains `|`.
    pub fn add_synonym(&self, record: &mut T, synonym: &str) -> Result<()> {
        let synonym = synonym.trim();
        let id = require_id(record)?;
        crate::registry::check_synonyms(T::REGISTRY.name, Some(synonym))?;
        if synonym.is_empty() || synonym.contains('|') || synonym.chars().any(char::is_control) {
            return Err(Error::invalid(
                "a synonym",
                synonym,
                "give non-empty text without '|' or control characters",
            ));
        }
        let values = [synonym.to_string()];
        let updated = self.ln.db().transaction(|conn| {
            // Under the registry's names lock: the check and the write see the same registry,
            // and the stored record (not the caller's copy) is extended.
            conn.lock(&[crate::registry::names_lock_of::<T>()])?;
            let m = match_values::<T>(conn, &values)?;
            let stored: Vec<T> = lamella_schema::load_by_ids(conn, &[id])?;
            let Some(mut stored) = stored.into_iter().next() else {
                return Err(Error::NotFound {
                    suggestions: Vec::new(),
                    registry: T::REGISTRY.name,
                    what: format!("'{}' (deleted?)", record.name_str()),
                });
            };
            if let Some(Some(other)) = m.ids.first()
                && *other != id
            {
                return Err(Error::Taken {
                    what: "synonym".into(),
                    name: synonym.to_string(),
                    by: format!("another {}'s name", T::REGISTRY.name),
                    reason: "a synonym must not name a record".into(),
                });
            }
            if let Some(Some(owner)) = m.synonym_of.first()
                && owner != stored.name_str()
            {
                return Err(Error::Taken {
                    what: "synonym".into(),
                    name: synonym.to_string(),
                    by: format!("{} '{owner}'", T::REGISTRY.name),
                    reason: "a synonym stands for one record".into(),
                });
            }
            let mut list: Vec<String> = split_synonyms(stored.synonyms_str())
                .into_iter()
                .map(str::to_string)
                .collect();
            if !list.iter().any(|s| s == synonym) {
                list.push(synonym.to_string());
                stored.set_synonyms(lamella_schema::join_synonyms(list));
                stored.touch(lamella_schema::now());
                T::update(conn, &stored)?;
            }
            Ok(stored)
        })?;
        *record = updated;
        Ok(())
    }

    /// Removes `synonym` from a saved record; `Ok(false)` when the record did not have it.
    pub fn remove_synonym(&self, record: &mut T, synonym: &str) -> Result<bool> {
        let synonym = synonym.trim();
        let id = require_id(record)?;
        let (updated, removed) = self.ln.db().transaction(|conn| {
            conn.lock(&[crate::registry::names_lock_of::<T>()])?;
            let stored: Vec<T> = lamella_schema::load_by_ids(conn, &[id])?;
            let Some(mut stored) = stored.into_iter().next() else {
                return Err(Error::NotFound {
                    suggestions: Vec::new(),
                    registry: T::REGISTRY.name,
                    what: format!("'{}' (deleted?)", record.name_str()),
                });
            };
            let list: Vec<String> = split_synonyms(stored.synonyms_str())
                .into_iter()
                .map(str::to_string)
                .collect();
            let kept: Vec<String> = list.iter().filter(|s| *s != synonym).cloned().collect();
            let removed = kept.len() != list.len();
            if removed {
                stored.set_synonyms(lamella_schema::join_synonyms(kept));
                stored.touch(lamella_schema::now());
                T::update(conn, &stored)?;
            }
            Ok((stored, removed))
        })?;
        *record = updated;
        Ok(removed)
    }
}
