//! Named registries (ULabel, Feature): the records' rules, the registry handle and what its
//! operations return. Saving lives in `save`, lookups and search in `search`, hierarchies in
//! `hierarchy`.

pub(crate) mod hierarchy;
mod name_index;
mod save;
mod search;

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::ops::Deref;

use lamella_schema::{Dtype, Feature, Store, ULabel, Value};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::names::{self, MatchKind};
use crate::query::Query;

pub use hierarchy::Relatives;
pub(crate) use save::names_lock as names_lock_of;

/// Files records inserted outside `save_all` (the LaminDB import) in the similar-name index,
/// under the caller's transaction and names lock.
pub(crate) fn index_inserted<T: Named>(
    conn: &mut lamella_schema::Conn<'_>,
    records: &[T],
) -> crate::Result<()> {
    if name_index::is_current::<T>(conn)? {
        name_index::add(conn, records)
    } else {
        name_index::ensure::<T>(conn)
    }
}
pub use save::{LabelDraft, NamedDraft};

/// A record returned by `create`: either newly saved or an existing one with the same name.
#[derive(Debug, Clone)]
pub struct Saved<T> {
    /// The record.
    pub record: T,
    /// Whether a record with the same name existed and was returned instead.
    pub existed: bool,
    /// Names of existing records that look like near-duplicates of this one.
    pub similar: Vec<String>,
    /// Other remarks (e.g. an existing feature's dtype differs from the one asked for).
    pub notes: Vec<String>,
}

impl<T> Deref for Saved<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.record
    }
}

/// The outcome of a bulk save.
#[derive(Debug, Clone)]
pub struct SavedAll<T> {
    /// The records, in input order (duplicates in the input map to one record).
    pub records: Vec<T>,
    /// How many records were created.
    pub created: usize,
    /// Names that existed already and were returned instead of created.
    pub existing: Vec<String>,
    /// New names that look like near-duplicates of other names: `(name, similar names)`.
    pub similar: Vec<(String, Vec<String>)>,
    /// Remarks on records returned as stored although the input asked for something else
    /// (e.g. another dtype): change those with `update`.
    pub notes: Vec<String>,
}

/// The outcome of [`ULabels::save_names`]: a bulk save that returns ids instead of records
/// (read them with `ln.ulabels().filter("id__in", ids)` when needed).
#[derive(Debug, Clone)]
pub struct SavedNames {
    /// The record id of each name, in input order (a name given twice has one record).
    pub ids: Vec<i64>,
    /// How many records were created.
    pub created: usize,
    /// Names that existed already and were kept as stored.
    pub existing: Vec<String>,
    /// New names that look like near-duplicates of other names: `(name, similar names)`.
    pub similar: Vec<(String, Vec<String>)>,
}

/// A search hit.
#[derive(Debug, Clone)]
pub struct Hit<T> {
    /// The record.
    pub record: T,
    /// How it matched.
    pub kind: MatchKind,
}

/// Records by identifier-safe name (`lookup()`), like LaminDB's auto-complete object.
#[derive(Debug, Clone)]
pub struct NameLookup<T> {
    map: HashMap<String, Vec<T>>,
}

impl<T> NameLookup<T> {
    /// The record under `key` (e.g. `iris_species_name`); the first if several share it.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.map.get(key).and_then(|v| v.first())
    }

    /// Every record under `key`.
    pub fn get_all(&self, key: &str) -> &[T] {
        self.map.get(key).map_or(&[], Vec::as_slice)
    }

    /// The keys, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.map.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
}

/// Records with a unique `name`: ULabel and Feature. Sealed: the rules that keep names,
/// timestamps and references right are Lamella's own.
pub trait Named: rules::Rules + Store + Serialize {
    /// The record's name.
    fn name_str(&self) -> &str;
    /// Its synonyms, `|`-separated.
    fn synonyms_str(&self) -> Option<&str>;
}

pub(crate) mod rules {
    //! The rules a named record follows when it is saved (sealed: not implementable or
    //! callable outside Lamella).
    use lamella_schema::Conn;

    use crate::error::Result;

    /// Checks and stamps of a named record.
    pub trait Rules: Sized {
        /// Replaces its synonyms (`|`-separated).
        fn set_synonyms(&mut self, synonyms: Option<String>);
        /// Checks the record's fields, canonicalising them (e.g. the dtype spelling).
        fn validate(&mut self) -> Result<()>;
        /// Sets creator and timestamps of a record about to be created.
        fn stamp(&mut self, user_id: i64, t: chrono::NaiveDateTime);
        /// Sets the run that creates it (a tracked run).
        fn set_run(&mut self, run: Option<i64>);
        /// Sets `updated_at`.
        fn touch(&mut self, t: chrono::NaiveDateTime);
        /// How `self`, about to be created, differs from the stored record of the same name
        /// (which `create` returns instead): one remark per field that differs.
        fn differences(&self, _stored: &Self) -> Vec<String> {
            Vec::new()
        }
        /// Checks, inside the saving transaction, what the records refer to by name (a
        /// feature's category branches).
        fn check_references(_conn: &mut Conn<'_>, _records: &[Self]) -> Result<()> {
            Ok(())
        }
    }
}

use rules::Rules;

/// Refuses control characters (other than newline and tab) in a free-text field, on every
/// backend alike (PostgreSQL rejects NUL, SQLite would store it).
pub(crate) fn check_text(what: &str, value: Option<&str>) -> Result<()> {
    let Some(v) = value else { return Ok(()) };
    if let Some(c) = v
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(Error::invalid(
            format!("the {what}"),
            v,
            format!(
                "it contains the control character {}; remove it",
                c.escape_unicode()
            ),
        ));
    }
    Ok(())
}

/// Each synonym follows the rules of a name (length, spaces, hidden characters).
pub(crate) fn check_synonyms(registry: &'static str, synonyms: Option<&str>) -> Result<()> {
    check_text("synonyms", synonyms)?;
    for s in lamella_schema::split_synonyms(synonyms) {
        check_name(registry, s).map_err(|e| match e {
            Error::InvalidName { message, .. } => Error::invalid(
                format!("a {registry} synonym"),
                s,
                message.replacen(&format!("the {registry} name"), "the synonym", 1),
            ),
            other => other,
        })?;
    }
    Ok(())
}

fn check_name(registry: &'static str, name: &str) -> Result<()> {
    let bad = |message: String| {
        Err(Error::InvalidName {
            registry,
            name: name.chars().take(60).collect(),
            message,
        })
    };
    if name.trim().is_empty() {
        return bad(format!("a {registry} needs a non-empty name"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return bad(format!(
            "the {registry} name '{}' contains the control character {}: names are printable \
             text; remove it",
            name.escape_default(),
            c.escape_unicode()
        ));
    }
    let n = name.chars().count();
    if n > names::MAX_NAME_CHARS {
        return bad(format!(
            "the {registry} name '{}…' has {n} characters: names have at most {}; put long text \
             in the description",
            name.chars().take(40).collect::<String>(),
            names::MAX_NAME_CHARS
        ));
    }
    if name.trim() != name {
        return bad(format!(
            "the {registry} name '{}' has leading or trailing spaces: remove them",
            names::shown(name, 60)
        ));
    }
    if let Some(problem) = names::unicode_problem(name) {
        return bad(format!(
            "the {registry} name '{}' {problem}",
            names::shown(name, 60)
        ));
    }
    Ok(())
}

impl Named for ULabel {
    fn name_str(&self) -> &str {
        &self.name
    }
    fn synonyms_str(&self) -> Option<&str> {
        self.synonyms.as_deref()
    }
}

impl Rules for ULabel {
    fn set_synonyms(&mut self, synonyms: Option<String>) {
        self.synonyms = synonyms;
    }
    fn set_run(&mut self, run: Option<i64>) {
        self.run_id = run;
    }
    fn validate(&mut self) -> Result<()> {
        check_name("ULabel", &self.name)?;
        check_text("description", self.description.as_deref())?;
        check_synonyms("ULabel", self.synonyms.as_deref())?;
        check_text("reference", self.reference.as_deref())?;
        check_text("reference type", self.reference_type.as_deref())
    }
    fn stamp(&mut self, user_id: i64, t: chrono::NaiveDateTime) {
        self.created_by_id = user_id;
        self.created_at = t;
        self.updated_at = t;
    }
    fn touch(&mut self, t: chrono::NaiveDateTime) {
        self.updated_at = t;
    }
}

impl Named for Feature {
    fn name_str(&self) -> &str {
        &self.name
    }
    fn synonyms_str(&self) -> Option<&str> {
        self.synonyms.as_deref()
    }
}

impl Rules for Feature {
    fn set_synonyms(&mut self, synonyms: Option<String>) {
        self.synonyms = synonyms;
    }
    fn set_run(&mut self, run: Option<i64>) {
        self.run_id = run;
    }
    fn validate(&mut self) -> Result<()> {
        check_name("Feature", &self.name)?;
        check_text("description", self.description.as_deref())?;
        check_text("unit", self.unit.as_deref())?;
        check_synonyms("Feature", self.synonyms.as_deref())?;
        if let Some(u) = &self.unit
            && u.trim().is_empty()
        {
            self.unit = None;
        }
        check_constraints(self)
    }
    fn stamp(&mut self, user_id: i64, t: chrono::NaiveDateTime) {
        self.created_by_id = user_id;
        self.created_at = t;
        self.updated_at = t;
    }
    fn touch(&mut self, t: chrono::NaiveDateTime) {
        self.updated_at = t;
    }
    fn differences(&self, stored: &Feature) -> Vec<String> {
        feature_differences(self, stored, Asked::Explicitly)
    }
    fn check_references(conn: &mut lamella_schema::Conn<'_>, records: &[Self]) -> Result<()> {
        check_categories(conn, records)
    }
}

/// The registries a categorical dtype may draw labels from.
pub const CATEGORY_REGISTRIES: [&str; 1] = ["ULabel"];

/// Checks the categories of features about to be saved: each names a registry Lamella has,
/// and each branch (`cat[ULabel[NAME]]`) is an existing label — one statement for all.
fn check_categories(conn: &mut lamella_schema::Conn<'_>, features: &[Feature]) -> Result<()> {
    let mut branches: Vec<(String, String)> = Vec::new();
    for f in features {
        for (registry, branch) in f.dtype.categories() {
            if !CATEGORY_REGISTRIES.contains(&registry) {
                return Err(Error::invalid(
                    format!("the dtype of feature '{}'", f.name),
                    f.dtype.to_string(),
                    format!(
                        "Lamella has no registry '{registry}' (its categories come from {}): \
                         write cat[ULabel], or cat[ULabel[NAME]] to allow the labels under NAME",
                        CATEGORY_REGISTRIES.join(", ")
                    ),
                ));
            }
            if let Some(b) = branch {
                branches.push((f.name.clone(), b.to_string()));
            }
        }
    }
    if branches.is_empty() {
        return Ok(());
    }
    let mut wanted: Vec<String> = branches.iter().map(|(_, b)| b.clone()).collect();
    wanted.sort();
    wanted.dedup();
    let found: HashSet<String> = lamella_schema::load_where_in::<ULabel, _>(conn, "name", &wanted)?
        .into_iter()
        .map(|l| l.name)
        .collect();
    if let Some((feature, branch)) = branches.iter().find(|(_, b)| !found.contains(b)) {
        return Err(Error::MissingBranch {
            feature: feature.clone(),
            branch: branch.clone(),
        });
    }
    Ok(())
}

/// How a feature's dtype was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asked {
    /// Given by the user: any other stored dtype is worth a remark.
    Explicitly,
    /// Inferred from a table's column: only a stored dtype that does not accept the
    /// column's values is worth a remark (a stricter one, such as a category branch for a
    /// text column, is what the user chose).
    Inferred,
}

/// One remark per field where `asked` differs from the `stored` feature of the same name,
/// which is kept as it is.
pub(crate) fn feature_differences(asked: &Feature, stored: &Feature, how: Asked) -> Vec<String> {
    let mut out = Vec::new();
    let show = |v: &Option<String>| {
        v.as_deref()
            .map_or("none".to_string(), |s| format!("'{s}'"))
    };
    let differs = match how {
        Asked::Explicitly => asked.dtype != stored.dtype,
        Asked::Inferred => !stored.dtype.accepts(&asked.dtype),
    };
    if differs {
        out.push(format!(
            "feature '{}' exists with dtype '{}', not '{}': kept as it is; update the feature's \
             dtype if '{}' is right",
            stored.name, stored.dtype, asked.dtype, asked.dtype
        ));
    }
    if asked.unit.is_some() && asked.unit != stored.unit {
        out.push(format!(
            "feature '{}' exists with unit {}, not {}: kept as it is; update the feature's unit \
             if {} is right",
            stored.name,
            show(&stored.unit),
            show(&asked.unit),
            show(&asked.unit),
        ));
    }
    out
}

/// Checks a feature's value constraints: a range only on numeric features, with min ≤ max
/// and finite bounds; a pattern that compiles, only on text and categorical features.
fn check_constraints(f: &Feature) -> Result<()> {
    let bad = |option: &str, value: String, reason: String| {
        Err(Error::invalid(
            format!("the {option} of feature '{}'", f.name),
            value,
            reason,
        ))
    };
    let range = || {
        format!(
            "{}..{}",
            f.min_value.map(|v| v.to_string()).unwrap_or_default(),
            f.max_value.map(|v| v.to_string()).unwrap_or_default()
        )
    };
    if f.min_value.is_some() || f.max_value.is_some() {
        if !f.dtype.is_numeric() {
            return bad(
                "value range",
                range(),
                format!(
                    "a range needs a numeric dtype (int, float, num), not '{}'",
                    f.dtype
                ),
            );
        }
        if f.min_value.is_some_and(|v| !v.is_finite())
            || f.max_value.is_some_and(|v| !v.is_finite())
        {
            return bad(
                "value range",
                range(),
                "the bounds must be finite numbers".into(),
            );
        }
        if let (Some(lo), Some(hi)) = (f.min_value, f.max_value)
            && lo > hi
        {
            return bad(
                "value range",
                range(),
                format!("the minimum {lo} is above the maximum {hi}"),
            );
        }
    }
    if let Some(p) = &f.pattern {
        if !(f.dtype == Dtype::Str || f.dtype.is_categorical()) {
            return bad(
                "pattern",
                p.clone(),
                format!(
                    "a pattern needs a text dtype (str or cat), not '{}'",
                    f.dtype
                ),
            );
        }
        check_text("pattern", Some(p))?;
        crate::validate::full_match(p)?;
    }
    Ok(())
}

/// A named registry of an instance: `ln.ulabels()`, `ln.features()`.
#[derive(Debug, Clone)]
pub struct Registry<T> {
    pub(crate) ln: Instance,
    _t: PhantomData<T>,
}

/// The ULabel registry.
pub type ULabels = Registry<ULabel>;
/// The Feature registry.
pub type Features = Registry<Feature>;

impl Instance {
    /// The ULabel registry.
    pub fn ulabels(&self) -> ULabels {
        Registry {
            ln: self.clone(),
            _t: PhantomData,
        }
    }

    /// The Feature registry.
    pub fn features(&self) -> Features {
        Registry {
            ln: self.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Named> Registry<T> {
    /// A query on this registry.
    pub fn query(&self) -> Query<T> {
        Query::new(self.ln.clone())
    }

    /// A query with one lookup, e.g. `filter("name__startswith", "study")`.
    pub fn filter(&self, lookup: &str, value: impl Into<Value>) -> Query<T> {
        self.query().filter(lookup, value)
    }
}

impl Registry<Feature> {
    /// Parses and checks a dtype string (see [`Dtype`]).
    pub fn parse_dtype(&self, dtype: &str) -> Result<Dtype> {
        Ok(Dtype::parse(dtype)?)
    }

    /// Creates the branch labels that `dtype` names (`cat[ULabel[NAME]]`) and that do not
    /// exist yet, in one bulk save, so a feature with that dtype can be saved; labels that
    /// exist are returned as they are.
    pub fn create_branches(&self, dtype: &Dtype) -> Result<SavedAll<ULabel>> {
        let branches: Vec<ULabel> = dtype
            .categories()
            .into_iter()
            .filter(|(r, _)| *r == "ULabel")
            .filter_map(|(_, b)| b.map(ULabel::new))
            .collect();
        self.ln.ulabels().save_all(branches)
    }
}
