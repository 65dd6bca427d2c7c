//! Queries and named registries (ULabel, Feature): create with duplicate and similarity checks,
//! bulk save, get, filter, search, lookup, update, delete, hierarchies.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::ops::Deref;

use arrow::record_batch::RecordBatch;
use lamella_lineage::{Graph, Node, NodeKind};
use lamella_schema::{
    Conn, Dtype, Edge, Feature, Hierarchy, QuerySpec, Record, Store, ULabel, Value, is_base62, now,
    require_id,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::names::{self, MatchKind, SimilarityIndex};

/// A query on one registry, built step by step and run by `all`, `one`, `first`, `count` or
/// `df`.
#[derive(Debug, Clone)]
pub struct Query<'a, T> {
    ln: &'a Instance,
    spec: QuerySpec,
    what: Vec<String>,
    _t: PhantomData<T>,
}

impl<'a, T: Record + Serialize> Query<'a, T> {
    pub(crate) fn new(ln: &'a Instance) -> Self {
        Query {
            ln,
            spec: QuerySpec::new(T::REGISTRY),
            what: Vec::new(),
            _t: PhantomData,
        }
    }

    /// Adds a LaminDB-style lookup: `filter("name", "setosa")`, `filter("name__startswith",
    /// "study")`, `filter("parents__name", "is_species")`, `filter("size__gt", 100)`.
    pub fn filter(mut self, lookup: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        self.what.push(format!("{lookup}={}", show_value(&value)));
        self.spec = self.spec.filter(lookup, value);
        self
    }

    /// Orders by a field; `-field` for descending.
    pub fn order_by(mut self, field: &str) -> Self {
        self.spec = self.spec.order_by(field);
        self
    }

    /// At most `n` records.
    pub fn limit(mut self, n: i64) -> Self {
        self.spec = self.spec.limit(n);
        self
    }

    /// Skips `n` records.
    pub fn offset(mut self, n: i64) -> Self {
        self.spec = self.spec.offset(n);
        self
    }

    /// Includes trashed and hidden records.
    pub fn include_trash(mut self) -> Self {
        self.spec = self.spec.include_trash(true);
        self
    }

    fn describe(&self) -> String {
        if self.what.is_empty() {
            "the query".into()
        } else {
            self.what.join(", ")
        }
    }

    /// All matching records.
    pub fn all(&self) -> Result<Vec<T>> {
        Ok(self.ln.db().with_conn(|c| self.spec.load(c))?)
    }

    /// Exactly one record: an error when none or several match.
    pub fn one(&self) -> Result<T> {
        self.one_or_none()?.ok_or_else(|| Error::NotFound {
            registry: T::REGISTRY.name,
            what: self.describe(),
        })
    }

    /// One record or none: an error when several match.
    pub fn one_or_none(&self) -> Result<Option<T>> {
        let mut rows: Vec<T> = self
            .ln
            .db()
            .with_conn(|c| self.spec.clone().limit(2).load(c))?;
        if rows.len() > 1 {
            return Err(Error::Ambiguous {
                registry: T::REGISTRY.name,
                what: self.describe(),
                count: self.count()?,
            });
        }
        Ok(rows.pop())
    }

    /// The first record in query order, if any.
    pub fn first(&self) -> Result<Option<T>> {
        let mut rows: Vec<T> = self
            .ln
            .db()
            .with_conn(|c| self.spec.clone().limit(1).load(c))?;
        Ok(rows.pop())
    }

    /// The number of matching records.
    pub fn count(&self) -> Result<i64> {
        Ok(self.ln.db().with_conn(|c| self.spec.count(c))?)
    }

    /// The matching records as an Arrow table, one column per field.
    pub fn df(&self) -> Result<RecordBatch> {
        crate::table::records_to_batch(T::REGISTRY, &self.all()?)
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Text(s) => format!("'{s}'"),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(show_value).collect::<Vec<_>>().join(", ")
        ),
    }
}

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

/// Records with a unique `name`: ULabel and Feature.
pub trait Named: Store + Serialize {
    /// The record's name.
    fn name_str(&self) -> &str;
    /// Its synonyms, `|`-separated.
    fn synonyms_str(&self) -> Option<&str> {
        None
    }
    /// Checks the record's fields, canonicalising them (e.g. the dtype spelling).
    fn validate(&mut self) -> Result<()>;
    /// Sets creator and timestamps of a record about to be created.
    fn stamp(&mut self, user_id: i64, t: chrono::NaiveDateTime);
    /// Sets `updated_at`.
    fn touch(&mut self, t: chrono::NaiveDateTime);
}

/// Refuses control characters (other than newline and tab) in a free-text field, on every
/// backend alike (PostgreSQL rejects NUL, SQLite would store it).
pub(crate) fn check_text(what: &str, value: Option<&str>) -> Result<()> {
    let Some(v) = value else { return Ok(()) };
    if let Some(c) = v
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(Error::Invalid(format!(
            "the {what} '{}' contains the control character {}: remove it",
            v.chars().take(60).collect::<String>().escape_default(),
            c.escape_unicode()
        )));
    }
    Ok(())
}

fn check_name(registry: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Invalid(format!(
            "a {registry} needs a non-empty name"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Error::Invalid(format!(
            "the {registry} name '{}' contains the control character {}: names are printable \
             text; remove it",
            name.escape_default(),
            c.escape_unicode()
        )));
    }
    let n = name.chars().count();
    if n > names::MAX_NAME_CHARS {
        return Err(Error::Invalid(format!(
            "the {registry} name '{}…' has {n} characters: names have at most {}; put long text \
             in the description",
            name.chars().take(40).collect::<String>(),
            names::MAX_NAME_CHARS
        )));
    }
    if name.trim() != name {
        return Err(Error::Invalid(format!(
            "the {registry} name '{name}' has leading or trailing spaces: remove them"
        )));
    }
    Ok(())
}

impl Named for ULabel {
    fn name_str(&self) -> &str {
        &self.name
    }
    fn validate(&mut self) -> Result<()> {
        check_name("ULabel", &self.name)?;
        check_text("description", self.description.as_deref())?;
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
    fn validate(&mut self) -> Result<()> {
        check_name("Feature", &self.name)?;
        check_text("description", self.description.as_deref())?;
        check_text("unit", self.unit.as_deref())?;
        check_text("synonyms", self.synonyms.as_deref())?;
        self.dtype = Dtype::parse(&self.dtype)
            .map_err(|e| Error::Invalid(format!("feature '{}': {e}", self.name)))?
            .to_string();
        if let Some(u) = &self.unit
            && u.trim().is_empty()
        {
            self.unit = None;
        }
        Ok(())
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

/// A named registry of an instance: `ln.ulabels()`, `ln.features()`.
#[derive(Debug, Clone, Copy)]
pub struct Registry<'a, T> {
    ln: &'a Instance,
    _t: PhantomData<T>,
}

/// The ULabel registry.
pub type ULabels<'a> = Registry<'a, ULabel>;
/// The Feature registry.
pub type Features<'a> = Registry<'a, Feature>;

impl Instance {
    /// The ULabel registry.
    pub fn ulabels(&self) -> ULabels<'_> {
        Registry {
            ln: self,
            _t: PhantomData,
        }
    }

    /// The Feature registry.
    pub fn features(&self) -> Features<'_> {
        Registry {
            ln: self,
            _t: PhantomData,
        }
    }

    /// A query on any registry, e.g. `ln.query::<User>()`.
    pub fn query<T: Record + Serialize>(&self) -> Query<'_, T> {
        Query::new(self)
    }
}

/// The lock that serialises writers of a named registry's names (see `Conn::lock`).
fn names_lock<T: Named>() -> String {
    format!("names:{}", T::REGISTRY.table)
}

fn load_names(
    conn: &mut Conn<'_>,
    reg: &lamella_schema::registry::Registry,
) -> Result<Vec<(i64, String)>> {
    Ok(lamella_schema::names(conn, reg, "name")?)
}

impl<'a, T: Named> Registry<'a, T> {
    /// A query on this registry.
    pub fn query(&self) -> Query<'a, T> {
        Query::new(self.ln)
    }

    /// A query with one lookup, e.g. `filter("name__startswith", "study")`.
    pub fn filter(&self, lookup: &str, value: impl Into<Value>) -> Query<'a, T> {
        self.query().filter(lookup, value)
    }

    /// Saves a new record. If one with the same name exists, that one is returned
    /// (`existed = true`) and nothing is written; similar names are reported in `similar`.
    pub fn create(&self, record: T) -> Result<Saved<T>> {
        let out = self.save_all(std::iter::once(record))?;
        let record = out.records.into_iter().next().ok_or_else(|| {
            Error::Invalid(format!("saving the {} returned nothing", T::REGISTRY.name))
        })?;
        let existed = !out.existing.is_empty();
        let similar = out.similar.into_iter().flat_map(|(_, s)| s).collect();
        Ok(Saved {
            record,
            existed,
            similar,
            notes: Vec::new(),
        })
    }

    /// Saves many records in one transaction: one query finds existing names, one pass finds
    /// similar ones, batched inserts write the rest. Records whose name exists are returned
    /// as stored.
    pub fn save_all(&self, records: impl IntoIterator<Item = T>) -> Result<SavedAll<T>> {
        let t = now();
        let user = self.ln.user_id();
        let mut input: Vec<T> = records.into_iter().collect();
        for r in &mut input {
            r.validate()?;
            r.stamp(user, t);
        }
        let names: Vec<String> = {
            let mut seen = HashSet::new();
            input
                .iter()
                .map(|r| r.name_str().to_string())
                .filter(|n| seen.insert(n.clone()))
                .collect()
        };
        self.ln.db().transaction(|conn| {
            // Concurrent creates of one name: the second waits, then finds the first's record.
            conn.lock(&[names_lock::<T>()])?;
            let existing: Vec<T> = lamella_schema::load_where_in(conn, "name", &names)?;
            let existing: HashMap<String, T> = existing
                .into_iter()
                .map(|r| (r.name_str().to_string(), r))
                .collect();
            // New records, first occurrence of each name.
            let mut seen = HashSet::new();
            let mut new: Vec<T> = input
                .iter()
                .filter(|r| !existing.contains_key(r.name_str()))
                .filter(|r| seen.insert(r.name_str().to_string()))
                .cloned()
                .collect();
            let similar = if new.is_empty() {
                Vec::new()
            } else {
                let new_names: Vec<&str> = new.iter().map(|r| r.name_str()).collect();
                let index = SimilarityIndex::new(&new_names);
                let mut similar: Vec<Vec<String>> = vec![Vec::new(); new.len()];
                for (_, name) in load_names(conn, T::REGISTRY)? {
                    for i in index.matches(&name) {
                        similar[i].push(name.clone());
                    }
                }
                for (j, name) in new_names.iter().enumerate() {
                    for i in index.matches(name) {
                        if i != j {
                            similar[i].push(name.to_string());
                        }
                    }
                }
                for s in &mut similar {
                    s.sort();
                    s.dedup();
                }
                new_names
                    .iter()
                    .zip(similar)
                    .filter(|(_, s)| !s.is_empty())
                    .map(|(n, s)| (n.to_string(), s))
                    .collect()
            };
            T::insert_all(conn, &mut new)?;
            let created = new.len();
            let mut by_name: HashMap<String, T> = existing.clone();
            for r in new {
                by_name.insert(r.name_str().to_string(), r);
            }
            let records = input
                .iter()
                .map(|r| by_name[r.name_str()].clone())
                .collect();
            let mut existing_names: Vec<String> = existing.into_keys().collect();
            existing_names.sort();
            for (name, s) in &similar {
                tracing::warn!("{} '{name}' is similar to existing {s:?}", T::REGISTRY.name);
            }
            Ok::<_, Error>(SavedAll {
                records,
                created,
                existing: existing_names,
                similar,
            })
        })
    }

    /// Names of existing records that look like near-duplicates of `name` — what `create`
    /// would warn about — without saving anything (LaminDB warns on construction).
    pub fn similar(&self, name: &str) -> Result<Vec<String>> {
        let index = SimilarityIndex::new(&[name]);
        let names = self.ln.db().with_conn(|c| load_names(c, T::REGISTRY))?;
        Ok(names
            .into_iter()
            .filter(|(_, n)| n != name && !index.matches(n).is_empty())
            .map(|(_, n)| n)
            .collect())
    }

    /// The record with this uid, or the only one whose uid starts with this prefix.
    pub fn get(&self, uid_or_prefix: &str) -> Result<T> {
        if !is_base62(uid_or_prefix) {
            return Err(Error::Invalid(format!(
                "'{uid_or_prefix}' is not a uid (letters and digits only): use get_by_name for \
                 names"
            )));
        }
        let exact = self.filter("uid", uid_or_prefix).one_or_none()?;
        match exact {
            Some(r) => Ok(r),
            None => self.filter("uid__startswith", uid_or_prefix).one(),
        }
    }

    /// The record with exactly this name.
    pub fn get_by_name(&self, name: &str) -> Result<T> {
        self.filter("name", name).one()
    }

    /// The record with this name, uid or uid prefix (names win).
    pub fn resolve(&self, name_or_uid: &str) -> Result<T> {
        if let Some(r) = self.filter("name", name_or_uid).one_or_none()? {
            return Ok(r);
        }
        if is_base62(name_or_uid) {
            if let Some(r) = self.filter("uid", name_or_uid).one_or_none()? {
                return Ok(r);
            }
            if let Some(r) = self.filter("uid__startswith", name_or_uid).one_or_none()? {
                return Ok(r);
            }
        }
        let hint = self
            .search(name_or_uid)?
            .into_iter()
            .take(3)
            .map(|h| format!("'{}'", h.record.name_str()))
            .collect::<Vec<_>>();
        Err(Error::NotFound {
            registry: T::REGISTRY.name,
            what: if hint.is_empty() {
                format!("'{name_or_uid}'")
            } else {
                format!("'{name_or_uid}' (did you mean {}?)", hint.join(", "))
            },
        })
    }

    /// Records ranked by how well their name (or a synonym) matches `text`: exact, exact
    /// ignoring case, synonym, prefix, substring, close spelling.
    pub fn search(&self, text: &str) -> Result<Vec<Hit<T>>> {
        // No name is longer than this, so a longer text can match nothing.
        if text.chars().count() > names::MAX_NAME_CHARS {
            return Ok(Vec::new());
        }
        let candidates: Vec<(i64, String, Option<String>)> = self.ln.db().with_conn(|c| {
            if T::REGISTRY.name == "Feature" {
                lamella_schema::feature_names(c)
            } else {
                Ok(load_names(c, T::REGISTRY)
                    .map_err(|e| match e {
                        Error::Schema(s) => s,
                        other => lamella_schema::Error::Value(other.to_string()),
                    })?
                    .into_iter()
                    .map(|(i, n)| (i, n, None))
                    .collect())
            }
        })?;
        let query = names::SearchText::new(text);
        let mut ranked: Vec<(MatchKind, usize, i64)> = candidates
            .iter()
            .filter_map(|(id, name, syn)| {
                query.rank(name, syn.as_deref()).map(|(k, d)| (k, d, *id))
            })
            .collect();
        ranked.sort();
        let ids: Vec<i64> = ranked.iter().map(|r| r.2).collect();
        let records: Vec<T> = self
            .ln
            .db()
            .with_conn(|c| lamella_schema::load_by_ids(c, &ids))?;
        let mut by_id: HashMap<i64, T> = records
            .into_iter()
            .filter_map(|r| r.id().map(|i| (i, r)))
            .collect();
        Ok(ranked
            .into_iter()
            .filter_map(|(kind, _, id)| by_id.remove(&id).map(|record| Hit { record, kind }))
            .collect())
    }

    /// Every record by identifier-safe name (`lookup().get("iris_species_name")`).
    pub fn lookup(&self) -> Result<NameLookup<T>> {
        let mut map: HashMap<String, Vec<T>> = HashMap::new();
        for r in self.query().all()? {
            map.entry(names::lookup_key(r.name_str()))
                .or_default()
                .push(r);
        }
        Ok(NameLookup { map })
    }

    /// Writes the changed fields of a saved record (and sets `updated_at`).
    pub fn update(&self, record: &mut T) -> Result<()> {
        let id = require_id(record).map_err(Error::from)?;
        let mut updated = record.clone();
        updated.validate()?;
        updated.touch(now());
        self.ln.db().transaction(|conn| {
            conn.lock(&[names_lock::<T>()])?;
            let name = [updated.name_str().to_string()];
            let clash: Vec<T> = lamella_schema::load_where_in(conn, "name", &name)?;
            if clash.iter().any(|r| r.id() != Some(id)) {
                return Err(Error::Invalid(format!(
                    "cannot rename to '{}': another {} has that name",
                    updated.name_str(),
                    T::REGISTRY.name
                )));
            }
            T::update(conn, &updated)?;
            Ok(())
        })?;
        *record = updated;
        Ok(())
    }

    /// Deletes a record. Refused, with the links named, while it is linked to artifacts,
    /// collections or feature sets. Its hierarchy edges are removed with it.
    pub fn delete(&self, record: &T) -> Result<()> {
        let id = require_id(record).map_err(Error::from)?;
        self.ln.db().transaction(|conn| {
            let links = lamella_schema::links_to(conn, T::REGISTRY, id)?;
            if !links.is_empty() {
                return Err(Error::Linked {
                    registry: T::REGISTRY.name,
                    name: record.name_str().to_string(),
                    links: links
                        .iter()
                        .map(|(what, n)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            if !lamella_schema::delete_by_id(conn, T::REGISTRY, id)? {
                return Err(Error::NotFound {
                    registry: T::REGISTRY.name,
                    what: format!("'{}' (already deleted?)", record.name_str()),
                });
            }
            Ok(())
        })
    }
}

/// The parents or children of one record in a hierarchy (ULabel, Transform).
#[derive(Debug, Clone)]
pub struct Relatives<'a, T> {
    ln: &'a Instance,
    hierarchy: Hierarchy,
    id: i64,
    name: String,
    parents: bool,
    _t: PhantomData<T>,
}

impl<T: Named> Relatives<'_, T> {
    fn edges_to(&self, others: &[i64]) -> Vec<Edge> {
        others
            .iter()
            .map(|&o| {
                if self.parents {
                    Edge {
                        child: self.id,
                        parent: o,
                    }
                } else {
                    Edge {
                        child: o,
                        parent: self.id,
                    }
                }
            })
            .collect()
    }

    fn ids(others: &[T]) -> Result<Vec<i64>> {
        others
            .iter()
            .map(|o| require_id(o).map_err(Error::from))
            .collect()
    }

    fn add_in(&self, conn: &mut Conn<'_>, others: &[T]) -> Result<usize> {
        let ids = Self::ids(others)?;
        // Adding parents p to x closes a cycle iff p is x or one of x's descendants; adding
        // children c to x iff c is x or one of x's ancestors.
        let forbidden: HashSet<i64> = if self.parents {
            lamella_schema::descendant_ids(conn, self.hierarchy, self.id)?
        } else {
            lamella_schema::ancestor_ids(conn, self.hierarchy, self.id)?
        }
        .into_iter()
        .chain([self.id])
        .collect();
        if let Some(bad) = others
            .iter()
            .zip(&ids)
            .find(|(_, id)| forbidden.contains(id))
        {
            let (child, parent) = if self.parents {
                (self.name.clone(), bad.0.name_str().to_string())
            } else {
                (bad.0.name_str().to_string(), self.name.clone())
            };
            return Err(Error::Cycle { child, parent });
        }
        Ok(lamella_schema::insert_edges(
            conn,
            self.hierarchy,
            &self.edges_to(&ids),
        )?)
    }

    /// Links `others` (one transaction, one cycle check); returns how many links are new.
    pub fn add(&self, others: &[T]) -> Result<usize> {
        self.ln.db().transaction(|conn| self.add_in(conn, others))
    }

    /// Replaces the current links by `others`.
    pub fn set(&self, others: &[T]) -> Result<usize> {
        self.ln.db().transaction(|conn| {
            lamella_schema::clear_edges(conn, self.hierarchy, self.id, self.parents)?;
            self.add_in(conn, others)
        })
    }

    /// Removes the links to `others`; returns how many existed.
    pub fn remove(&self, others: &[T]) -> Result<usize> {
        let ids = Self::ids(others)?;
        let edges = self.edges_to(&ids);
        self.ln
            .db()
            .transaction(|conn| Ok(lamella_schema::delete_edges(conn, self.hierarchy, &edges)?))
    }

    /// The linked records (direct parents or children), in id order.
    pub fn all(&self) -> Result<Vec<T>> {
        let relation = if self.parents {
            "children__id"
        } else {
            "parents__id"
        };
        Query::<T>::new(self.ln).filter(relation, self.id).all()
    }
}

impl<'a> Registry<'a, ULabel> {
    fn relatives(&self, label: &ULabel, parents: bool) -> Result<Relatives<'a, ULabel>> {
        Ok(Relatives {
            ln: self.ln,
            hierarchy: Hierarchy::ULabel,
            id: require_id(label)?,
            name: label.name.clone(),
            parents,
            _t: PhantomData,
        })
    }

    /// The parents of `label`: `ln.ulabels().parents(&label)?.add(&[is_species])`.
    pub fn parents(&self, label: &ULabel) -> Result<Relatives<'a, ULabel>> {
        self.relatives(label, true)
    }

    /// The children of `label`: `ln.ulabels().children(&is_species)?.set(&species)`.
    pub fn children(&self, label: &ULabel) -> Result<Relatives<'a, ULabel>> {
        self.relatives(label, false)
    }

    /// The hierarchy around `label`: its ancestors (up to `distance` levels) and, with
    /// `with_children`, its descendants (up to `distance` levels), as a graph to render with
    /// `lamella_lineage::render` or `write_to`.
    pub fn view_parents(
        &self,
        label: &ULabel,
        with_children: bool,
        distance: u32,
    ) -> Result<Graph> {
        let id = require_id(label)?;
        let distance = distance.max(1);
        let mut edges = self.ln.db().with_conn(|c| {
            lamella_schema::reachable_edges(c, Hierarchy::ULabel, id, true, distance)
        })?;
        if with_children {
            edges.extend(self.ln.db().with_conn(|c| {
                lamella_schema::reachable_edges(c, Hierarchy::ULabel, id, false, distance)
            })?);
        }
        let mut ids: Vec<i64> = edges.iter().flat_map(|e| [e.child, e.parent]).collect();
        ids.push(id);
        ids.sort_unstable();
        ids.dedup();
        let labels: Vec<ULabel> = self
            .ln
            .db()
            .with_conn(|c| lamella_schema::load_by_ids(c, &ids))?;
        let mut graph = Graph::new();
        let key = |i: i64| format!("ulabel:{i}");
        for l in &labels {
            let lid = l.id.unwrap_or_default();
            let node = Node::new(key(lid), l.name.clone(), NodeKind::Label);
            graph.add_node(if lid == id { node.highlighted() } else { node });
        }
        edges.sort();
        edges.dedup();
        for e in edges {
            graph.add_edge(&key(e.parent), &key(e.child))?;
        }
        Ok(graph)
    }
}

impl Registry<'_, Feature> {
    /// Parses and checks a dtype string (see [`Dtype`]).
    pub fn parse_dtype(&self, dtype: &str) -> Result<Dtype> {
        Ok(Dtype::parse(dtype)?)
    }
}
