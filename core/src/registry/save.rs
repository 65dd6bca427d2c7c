//! Creating, bulk-saving, updating and deleting named records, with the duplicate and
//! similar-name checks, in one transaction each.

use std::collections::HashMap;

use lamella_schema::{Conn, ULabel, now, require_id};

use super::{Named, Registry, Saved, SavedAll, name_index};
use crate::error::{Error, Result};
use crate::names::SimilarityIndex;

/// The lock that serialises writers of a named registry's names (see `Conn::lock`).
pub(crate) fn names_lock<T: Named>() -> String {
    format!("names:{}", T::REGISTRY.table)
}

pub(super) fn load_names(
    conn: &mut Conn<'_>,
    reg: &lamella_schema::registry::Registry,
) -> Result<Vec<(i64, String)>> {
    Ok(lamella_schema::names(conn, reg, "name")?)
}

/// The one record of a single-record save.
pub(super) fn single<T: Named>(out: SavedAll<T>) -> Result<Saved<T>> {
    let record = out.records.into_iter().next().ok_or_else(|| {
        Error::Internal(format!("saving the {} returned nothing", T::REGISTRY.name))
    })?;
    let existed = !out.existing.is_empty();
    let similar = out.similar.into_iter().flat_map(|(_, s)| s).collect();
    Ok(Saved {
        record,
        existed,
        similar,
        notes: out.notes,
    })
}

/// A ULabel or Feature about to be saved: `ln.ulabels().create(ULabel::new("x")).save()`
/// — drafts with one verb at the end, like artifacts and collections.
#[derive(Debug, Clone)]
#[must_use = "a draft is saved by .save()"]
pub struct NamedDraft<T> {
    registry: Registry<T>,
    record: T,
}

impl<T: Named> NamedDraft<T> {
    /// Saves the record. If one with the same name exists, that one is returned
    /// (`existed = true`) and nothing is written; similar names are reported in `similar`.
    pub fn save(self) -> Result<Saved<T>> {
        single(self.registry.save_all(std::iter::once(self.record))?)
    }
}

impl NamedDraft<ULabel> {
    /// The label with parents: made a child of each of `parents` when it is saved, in the
    /// same transaction (a link that would close a cycle saves nothing).
    pub fn parents(self, parents: &[ULabel]) -> LabelDraft {
        LabelDraft {
            draft: self,
            parents: parents.to_vec(),
        }
    }
}

/// A label about to be saved with its parents (see [`NamedDraft::parents`]).
#[derive(Debug, Clone)]
#[must_use = "a draft is saved by .save()"]
pub struct LabelDraft {
    draft: NamedDraft<ULabel>,
    parents: Vec<ULabel>,
}

impl LabelDraft {
    /// Saves the label and its parent links in one transaction.
    pub fn save(self) -> Result<Saved<ULabel>> {
        let out = self
            .draft
            .registry
            .save_all_with_parents(std::iter::once(self.draft.record), &self.parents)?;
        single(out)
    }
}

impl<T: Named> Registry<T> {
    /// A draft of `record`, saved by [`NamedDraft::save`].
    pub fn create(&self, record: T) -> NamedDraft<T> {
        NamedDraft {
            registry: self.clone(),
            record,
        }
    }

    /// Saves many records in one transaction: one query finds existing names, one pass finds
    /// similar ones, batched inserts write the rest. Records whose name exists are returned
    /// as stored.
    pub fn save_all(&self, records: impl IntoIterator<Item = T>) -> Result<SavedAll<T>> {
        self.save_all_then(records, |_, _| Ok(()))
    }

    /// `save_all`, then `then` in the same transaction (e.g. linking the records): when `then`
    /// fails, nothing is saved.
    pub(super) fn save_all_then(
        &self,
        records: impl IntoIterator<Item = T>,
        then: impl FnOnce(&mut Conn<'_>, &SavedAll<T>) -> Result<()>,
    ) -> Result<SavedAll<T>> {
        let input = self.prepared(records)?;
        self.ln.db().transaction(|conn| {
            let saved = self.save_in(conn, input)?;
            then(conn, &saved)?;
            Ok::<_, Error>(saved)
        })
    }

    /// `save_all` inside a transaction the caller holds (its commit saves the records).
    pub(crate) fn save_all_in(
        &self,
        conn: &mut Conn<'_>,
        records: impl IntoIterator<Item = T>,
    ) -> Result<SavedAll<T>> {
        let input = self.prepared(records)?;
        self.save_in(conn, input)
    }

    /// The records checked (names, fields) and stamped (creator, times, run) for saving.
    fn prepared(&self, records: impl IntoIterator<Item = T>) -> Result<Vec<T>> {
        let t = now();
        let user = self.ln.user_id();
        let run = self.ln.run_ids().map(|(r, _)| r);
        let mut input: Vec<T> = records.into_iter().collect();
        for r in &mut input {
            r.validate()?;
            r.stamp(user, t);
            r.set_run(run);
        }
        Ok(input)
    }

    /// Saves prepared records in `conn`'s transaction: existing names, similar names,
    /// batched inserts, the name index.
    fn save_in(&self, conn: &mut Conn<'_>, input: Vec<T>) -> Result<SavedAll<T>> {
        // Concurrent creates of one name: the second waits, then finds the first's record.
        conn.lock(&[names_lock::<T>()])?;
        T::check_references(conn, &input)?;
        name_index::ensure::<T>(conn)?;
        // The first input of each name, by input position (names borrowed, not copied: a bulk
        // save may hold a million).
        let mut first_of: Vec<usize> = Vec::with_capacity(input.len());
        let mut distinct: Vec<&str> = Vec::new();
        {
            let mut first: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
            first.reserve(input.len());
            for (i, r) in input.iter().enumerate() {
                let j = *first.entry(r.name_str()).or_insert(i);
                if j == i {
                    distinct.push(r.name_str());
                }
                first_of.push(j);
            }
        }
        // A large batch reads every stored name once — for the existing names here and for
        // the similar-name check below; a few names are looked up.
        let large = !name_index::probe_pays(&distinct);
        let stored: Vec<(i64, String)> = if large {
            lamella_schema::names(conn, T::REGISTRY, "name")?
        } else {
            Vec::new()
        };
        let existing: Vec<T> = if large {
            let wanted: foldhash::HashSet<&str> = distinct.iter().copied().collect();
            let ids: Vec<i64> = stored
                .iter()
                .filter(|(_, n)| wanted.contains(n.as_str()))
                .map(|(id, _)| *id)
                .collect();
            lamella_schema::load_by_ids(conn, &ids)?
        } else {
            lamella_schema::load_where_in(conn, "name", &distinct)?
        };
        drop(distinct);
        let existing: HashMap<String, T> = existing
            .into_iter()
            .map(|r| (r.name_str().to_string(), r))
            .collect();
        // Where each input record ends up: new (the first input of a name not stored), an
        // existing record, or the same as an earlier input.
        enum Slot {
            New(usize),
            Existing(String),
            SameAs(usize),
        }
        let mut notes = Vec::new();
        let mut order: Vec<Slot> = Vec::with_capacity(input.len());
        let mut new: Vec<T> = Vec::new();
        for (i, r) in input.into_iter().enumerate() {
            if first_of[i] != i {
                order.push(Slot::SameAs(first_of[i]));
            } else if let Some(stored) = existing.get(r.name_str()) {
                notes.extend(r.differences(stored));
                order.push(Slot::Existing(r.name_str().to_string()));
            } else {
                order.push(Slot::New(new.len()));
                new.push(r);
            }
        }
        drop(first_of);
        // A new name that is another record's synonym would shadow it: the same word would
        // name two records.
        if !new.is_empty() {
            let synonyms = crate::validate::synonyms_of::<T>(conn)?;
            if let Some((name, owner)) = new
                .iter()
                .find_map(|r| synonyms.get(r.name_str()).map(|o| (r.name_str(), o)))
            {
                return Err(Error::Taken {
                    what: format!("{} name", T::REGISTRY.name),
                    name: name.to_string(),
                    by: format!("{} '{owner}' as a synonym", T::REGISTRY.name),
                    reason: "use that record, or remove the synonym from it first".into(),
                });
            }
        }
        let similar = if new.is_empty() {
            Vec::new()
        } else {
            let new_names: Vec<&str> = new.iter().map(|r| r.name_str()).collect();
            // A few names probe the persisted index; a large batch reads every name once.
            let mut similar = if !large {
                use rayon::prelude::*;
                let index = SimilarityIndex::new(&new_names);
                let mut similar = name_index::similar_existing::<T>(conn, &new_names, &index)?;
                // Within the batch, matched on every core.
                let hits: Vec<Vec<usize>> =
                    new_names.par_iter().map(|n| index.matches(n)).collect();
                for (j, hits) in hits.into_iter().enumerate() {
                    for i in hits {
                        if i != j {
                            similar[i].push(new_names[j].to_string());
                        }
                    }
                }
                similar
            } else {
                let old: Vec<&str> = stored.iter().map(|(_, n)| n.as_str()).collect();
                name_index::similar_among::<T>(&new_names, &old, true)?
            };
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
        drop(stored);
        T::insert_all(conn, &mut new)?;
        name_index::add(conn, &new)?;
        let created = new.len();
        let mut new: Vec<Option<T>> = new.into_iter().map(Some).collect();
        let mut records: Vec<T> = Vec::with_capacity(order.len());
        for slot in order {
            let record = match slot {
                Slot::New(i) => new[i].take(),
                Slot::Existing(name) => existing.get(&name).cloned(),
                Slot::SameAs(j) => records.get(j).cloned(),
            };
            records.push(record.ok_or_else(|| {
                Error::Internal(format!("saving a {} lost a record", T::REGISTRY.name))
            })?);
        }
        let mut existing_names: Vec<String> = existing.into_keys().collect();
        existing_names.sort();
        for (name, s) in &similar {
            tracing::warn!("{} '{name}' is similar to existing {s:?}", T::REGISTRY.name);
        }
        let saved = SavedAll {
            records,
            created,
            existing: existing_names,
            similar,
            notes,
        };
        Ok(saved)
    }

    /// Writes the changed fields of a saved record (and sets `updated_at`).
    pub fn update(&self, record: &mut T) -> Result<()> {
        let id = require_id(record).map_err(Error::from)?;
        let mut updated = record.clone();
        updated.validate()?;
        updated.touch(now());
        self.ln.db().transaction(|conn| {
            conn.lock(&[names_lock::<T>()])?;
            T::check_references(conn, std::slice::from_ref(&updated))?;
            let name = [updated.name_str().to_string()];
            let clash: Vec<T> = lamella_schema::load_where_in(conn, "name", &name)?;
            if clash.iter().any(|r| r.id() != Some(id)) {
                return Err(Error::Taken {
                    what: format!("{} name", T::REGISTRY.name),
                    name: updated.name_str().to_string(),
                    by: format!("another {}", T::REGISTRY.name),
                    reason: "choose another name".into(),
                });
            }
            let old: Vec<T> = lamella_schema::load_by_ids(conn, &[id])?;
            T::update(conn, &updated)?;
            if let Some(old) = old.first()
                && old.name_str() != updated.name_str()
            {
                name_index::ensure::<T>(conn)?;
                name_index::remove::<T>(conn, id, old.name_str())?;
                name_index::add(conn, std::slice::from_ref(&updated))?;
            }
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
            let stored: Vec<T> = lamella_schema::load_by_ids(conn, &[id])?;
            if let Some(r) = stored.first() {
                name_index::remove::<T>(conn, id, r.name_str())?;
            }
            if !lamella_schema::delete_by_id(conn, T::REGISTRY, id)? {
                return Err(Error::NotFound {
                    suggestions: Vec::new(),
                    registry: T::REGISTRY.name,
                    what: format!("'{}' (already deleted?)", record.name_str()),
                });
            }
            Ok(())
        })
    }
}
