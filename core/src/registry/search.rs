//! Finding named records: by uid or prefix, by name, ranked search, similar names, lookup.

use std::collections::HashMap;

use lamella_schema::is_base62;

use super::name_index;
use super::save::{load_names, names_lock};
use super::{Hit, NameLookup, Named, Registry};
use crate::error::{Error, Result};
use crate::names::{self, MatchKind};

/// The shortest uid prefix `resolve` accepts for a named record.
const MIN_PREFIX: usize = 6;

/// Registries up to this size are searched for suggestions when no close spelling exists.
const SCAN_FOR_SUGGESTIONS: i64 = 50_000;

/// Names per statement of [`Registry::resolve_all`].
const RESOLVE_CHUNK: usize = 5_000;

impl<T: Named> Registry<T> {
    /// Names of existing records that look like near-duplicates of `name` — what `create`
    /// would warn about — without saving anything (LaminDB warns on construction).
    pub fn similar(&self, name: &str) -> Result<Vec<String>> {
        let mut similar: Vec<String> = self
            .similar_many(&[name])?
            .pop()
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n != name)
            .collect();
        similar.sort();
        similar.dedup();
        Ok(similar)
    }

    /// For each of `names`, the existing names that look like near-duplicates (unsorted),
    /// from the name index in one probe (or one pass over all names for large batches).
    pub(crate) fn similar_many(&self, names: &[&str]) -> Result<Vec<Vec<String>>> {
        // A text longer than any name can be is near no name: it is left out of the probes
        // (whose work grows with the text's length).
        if names
            .iter()
            .any(|n| n.chars().count() > names::MAX_NAME_CHARS)
        {
            let short: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| n.chars().count() <= names::MAX_NAME_CHARS)
                .collect();
            let mut found = self.similar_many(&short)?.into_iter();
            return Ok(names
                .iter()
                .map(|n| {
                    if n.chars().count() > names::MAX_NAME_CHARS {
                        Vec::new()
                    } else {
                        found.next().unwrap_or_default()
                    }
                })
                .collect());
        }
        let index =
            name_index::probe_pays(names).then(|| crate::names::SimilarityIndex::new(names));
        let index = index.as_ref();
        // A built index is only read: validation never waits for (or blocks) writers.
        let read = self.ln.db().with_conn(|conn| {
            if !name_index::is_current::<T>(conn)? {
                return Ok(None);
            }
            match index {
                Some(index) => name_index::similar_existing::<T>(conn, names, index).map(Some),
                None => name_index::similar_all::<T>(conn, names).map(Some),
            }
        })?;
        if let Some(found) = read {
            return Ok(found);
        }
        self.ln.db().transaction(|conn| {
            // (The index is built here if this instance predates it.)
            conn.lock(&[names_lock::<T>()])?;
            name_index::ensure::<T>(conn)?;
            match index {
                Some(index) => name_index::similar_existing::<T>(conn, names, index),
                None => name_index::similar_all::<T>(conn, names),
            }
        })
    }

    /// The record with this uid, or the only one whose uid starts with this prefix.
    pub fn get(&self, uid_or_prefix: &str) -> Result<T> {
        if !is_base62(uid_or_prefix) {
            return Err(Error::NotAUid {
                registry: T::REGISTRY.name,
                given: uid_or_prefix.to_string(),
            });
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

    /// The record with this name, uid or uid prefix of at least 6 characters (names win; a
    /// short word such as `T` or `B1` that names nothing is not taken for a uid prefix, which
    /// could pick an unrelated record).
    pub fn resolve(&self, name_or_uid: &str) -> Result<T> {
        if let Some(r) = self.filter("name", name_or_uid).one_or_none()? {
            return Ok(r);
        }
        if is_base62(name_or_uid) {
            if let Some(r) = self.filter("uid", name_or_uid).one_or_none()? {
                return Ok(r);
            }
            if name_or_uid.len() >= MIN_PREFIX
                && let Some(r) = self.filter("uid__startswith", name_or_uid).one_or_none()?
            {
                return Ok(r);
            }
        }
        Err(self.not_found(name_or_uid)?)
    }

    /// [`resolve`](Self::resolve) for many names at once, in their order: one statement finds
    /// every name that names exactly one record; only the others (uids, uid prefixes,
    /// misses) are resolved one by one.
    pub fn resolve_all<S: AsRef<str>>(&self, names_or_uids: &[S]) -> Result<Vec<T>> {
        let mut wanted: Vec<String> = names_or_uids
            .iter()
            .map(|n| n.as_ref().to_string())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut by_name: HashMap<String, Vec<T>> = HashMap::new();
        // A statement binds each name: a few thousand at a time stay far below the
        // databases' limits on parameters.
        for chunk in wanted.chunks(RESOLVE_CHUNK) {
            for r in self.filter("name__in", chunk.to_vec()).all()? {
                by_name.entry(r.name_str().to_string()).or_default().push(r);
            }
        }
        names_or_uids
            .iter()
            .map(|n| match by_name.get(n.as_ref()).map(Vec::as_slice) {
                Some([one]) => Ok(one.clone()),
                _ => self.resolve(n.as_ref()),
            })
            .collect()
    }

    /// The error for a name that matched nothing, with the close names that exist.
    pub(crate) fn not_found(&self, name: &str) -> Result<Error> {
        Ok(Error::not_found(
            T::REGISTRY.name,
            format!("'{}'", names::shown(name, 80)),
            self.close_names(name)?,
        ))
    }

    /// Up to five existing names a user who wrote `name` may have meant: close spellings
    /// from the name index (any registry size), else — in registries small enough to scan —
    /// the best search hits (same name in another case, a synonym, a prefix).
    pub fn close_names(&self, name: &str) -> Result<Vec<String>> {
        let mut out = self.suggestions(&[name])?.pop().unwrap_or_default();
        if out.is_empty() && self.query().count()? <= SCAN_FOR_SUGGESTIONS {
            out = self
                .search(name)?
                .into_iter()
                .map(|h| h.record.name_str().to_string())
                .filter(|n| n != name)
                .collect();
        }
        out.truncate(5);
        Ok(out)
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
}
