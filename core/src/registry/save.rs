//! Creating, bulk-saving, updating and deleting named records, with the duplicate and
//! similar-name checks, in one transaction each.

use lamella_schema::{Conn, ULabel, now, require_id};

use super::rules::Rules;
use super::{Named, Registry, Saved, SavedAll, name_index};
use crate::error::{Error, Result};
use crate::names::SimilarityIndex;

/// New records inserted per statement batch of a bulk save (and held at once while the input
/// is made record by record, as by [`Registry::save_names`](super::ULabels)).
const WRITE_BATCH: usize = 50_000;

/// Similar-name warnings logged per save; the rest are counted (the returned `similar`
/// lists all).
const SHOWN_WARNINGS: usize = 20;

/// Where an input of a bulk save ends up.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A new record (the first input of a name not stored).
    New,
    /// The stored record `existing[k]` of its name.
    Existing(usize),
    /// The same record as the earlier input at this position.
    SameAs(usize),
}

/// What a bulk save did, by input position.
struct Plan<T> {
    order: Vec<Slot>,
    created: usize,
    existing: Vec<T>,
    similar: Vec<(String, Vec<String>)>,
    notes: Vec<String>,
}

impl<T: Named> Plan<T> {
    /// The names that existed, sorted.
    fn existing_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .existing
            .iter()
            .map(|r| r.name_str().to_string())
            .collect();
        names.sort();
        names
    }
}

/// The input of a bulk save, read by position: the names (all every check needs), the record
/// as given (to compare with a stored one of its name), and the records of new names, taken
/// a batch at a time to be written.
trait Input<T: Clone> {
    fn len(&self) -> usize;
    fn name(&self, i: usize) -> &str;
    fn given(&self, i: usize) -> Option<std::borrow::Cow<'_, T>>;
    /// The record at `i`, to insert (asked once per position).
    fn take(&mut self, i: usize) -> Result<T>;
    /// The records at `positions`, inserted (with their ids), in the same transaction.
    fn written(&mut self, conn: &mut Conn<'_>, positions: &[usize], records: Vec<T>) -> Result<()>;
}

/// Records in memory; each written record goes back to its position.
impl<T: Named + Clone> Input<T> for Vec<Option<T>> {
    fn len(&self) -> usize {
        <[Option<T>]>::len(self)
    }
    fn name(&self, i: usize) -> &str {
        self[i].as_ref().map_or("", |r| r.name_str())
    }
    fn given(&self, i: usize) -> Option<std::borrow::Cow<'_, T>> {
        self[i].as_ref().map(std::borrow::Cow::Borrowed)
    }
    fn take(&mut self, i: usize) -> Result<T> {
        self[i].take().ok_or_else(|| {
            Error::Internal(format!("saving a {} took a record twice", T::REGISTRY.name))
        })
    }
    fn written(&mut self, _: &mut Conn<'_>, positions: &[usize], records: Vec<T>) -> Result<()> {
        for (&i, r) in positions.iter().zip(records) {
            self[i] = Some(r);
        }
        Ok(())
    }
}

/// Labels given by name, made a batch at a time: a million names are held as the caller's
/// strings, never as a million records.
struct LabelNames<'a> {
    names: &'a [&'a str],
    stamps: (i64, chrono::NaiveDateTime, Option<i64>),
    /// The id saved for each position (0 until known).
    ids: Vec<i64>,
    /// Every written label becomes a child of these.
    parents: Vec<super::Relatives<ULabel>>,
}

impl LabelNames<'_> {
    fn label(&self, i: usize) -> ULabel {
        let mut r = ULabel::new(self.names[i]);
        let (user, t, run) = self.stamps;
        r.stamp(user, t);
        r.set_run(run);
        r
    }
}

impl Input<ULabel> for LabelNames<'_> {
    fn len(&self) -> usize {
        self.names.len()
    }
    fn name(&self, i: usize) -> &str {
        self.names[i]
    }
    fn given(&self, i: usize) -> Option<std::borrow::Cow<'_, ULabel>> {
        Some(std::borrow::Cow::Owned(self.label(i)))
    }
    fn take(&mut self, i: usize) -> Result<ULabel> {
        Ok(self.label(i))
    }
    fn written(
        &mut self,
        conn: &mut Conn<'_>,
        positions: &[usize],
        records: Vec<ULabel>,
    ) -> Result<()> {
        for (&i, r) in positions.iter().zip(&records) {
            self.ids[i] = require_id(r)?;
        }
        for p in &self.parents {
            p.add_in(conn, &records)?;
        }
        Ok(())
    }
}

impl Registry<ULabel> {
    /// Saves a label for each name, each made a child of every label in `parents` — the
    /// bulk form of `create(ULabel::new(name)).save()` for lists of any length, in one
    /// transaction (a link that would close a cycle saves nothing). The labels are made and
    /// written a batch at a time and returned as ids, so memory follows the names, not the
    /// records: a million names take a few hundred megabytes less than [`save_all`](Self::save_all).
    pub fn save_names(&self, names: &[&str], parents: &[ULabel]) -> Result<super::SavedNames> {
        {
            use rayon::prelude::*;
            names
                .par_iter()
                .try_for_each(|n| super::check_name("ULabel", n))?;
        }
        let parents = parents
            .iter()
            .map(|p| self.relatives(p, false))
            .collect::<Result<Vec<_>>>()?;
        let mut input = LabelNames {
            names,
            stamps: self.stamps(),
            ids: vec![0; names.len()],
            parents,
        };
        let plan = self.ln.db().transaction(|conn| {
            let plan = self.save_input(conn, &mut input)?;
            for p in &input.parents {
                p.add_in(conn, &plan.existing)?;
            }
            Ok::<_, Error>(plan)
        })?;
        let mut ids = input.ids;
        for (i, slot) in plan.order.iter().enumerate() {
            match *slot {
                Slot::New => {}
                Slot::Existing(k) => ids[i] = require_id(&plan.existing[k])?,
                Slot::SameAs(j) => ids[i] = ids[j],
            }
        }
        Ok(super::SavedNames {
            ids,
            created: plan.created,
            existing: plan.existing_names(),
            similar: plan.similar,
        })
    }
}

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
        let (user, t, run) = self.stamps();
        let mut input: Vec<T> = records.into_iter().collect();
        for r in &mut input {
            r.validate()?;
            r.stamp(user, t);
            r.set_run(run);
        }
        Ok(input)
    }

    /// Creator, time and run of records created now.
    fn stamps(&self) -> (i64, chrono::NaiveDateTime, Option<i64>) {
        (self.ln.user_id(), now(), self.ln.run_ids().map(|(r, _)| r))
    }

    /// Saves prepared records in `conn`'s transaction: existing names, similar names,
    /// batched inserts, the name index.
    fn save_in(&self, conn: &mut Conn<'_>, input: Vec<T>) -> Result<SavedAll<T>> {
        T::check_references(conn, &input)?;
        // Written records go back to their input position; `Option<T>` is as large as `T`, so
        // this and the final collect reuse the input's memory.
        let mut slots: Vec<Option<T>> = input.into_iter().map(Some).collect();
        let plan = self.save_input(conn, &mut slots)?;
        for (i, slot) in plan.order.iter().enumerate() {
            match *slot {
                Slot::New => {}
                Slot::Existing(k) => slots[i] = Some(plan.existing[k].clone()),
                Slot::SameAs(j) => slots[i] = slots[j].clone(),
            }
        }
        let records = slots
            .into_iter()
            .map(|r| {
                r.ok_or_else(|| {
                    Error::Internal(format!("saving a {} lost a record", T::REGISTRY.name))
                })
            })
            .collect::<Result<Vec<T>>>()?;
        Ok(SavedAll {
            records,
            created: plan.created,
            existing: plan.existing_names(),
            similar: plan.similar,
            notes: plan.notes,
        })
    }

    /// The save of every input, in `conn`'s transaction, reading the input by position:
    /// names first — the existing, synonym and similar-name checks need nothing else — then
    /// the new records, made or taken [`WRITE_BATCH`] at a time as they are inserted.
    fn save_input(&self, conn: &mut Conn<'_>, input: &mut impl Input<T>) -> Result<Plan<T>> {
        // Concurrent creates of one name: the second waits, then finds the first's record.
        conn.lock(&[names_lock::<T>()])?;
        name_index::ensure::<T>(conn)?;
        let n = input.len();
        // The first input of each name, by input position (names borrowed, not copied: a bulk
        // save may hold a million).
        let mut first_of: Vec<usize> = Vec::with_capacity(n);
        let mut distinct: Vec<&str> = Vec::new();
        {
            let mut first: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
            first.reserve(n);
            for i in 0..n {
                let name = input.name(i);
                let j = *first.entry(name).or_insert(i);
                if j == i {
                    distinct.push(name);
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
        // Where each input ends up: new (the first input of a name not stored), an existing
        // record, or the same as an earlier input.
        let mut notes = Vec::new();
        let mut order: Vec<Slot> = Vec::with_capacity(n);
        let mut new: Vec<usize> = Vec::new();
        {
            let existing_at: foldhash::HashMap<&str, usize> = existing
                .iter()
                .enumerate()
                .map(|(k, r)| (r.name_str(), k))
                .collect();
            for (i, &first) in first_of.iter().enumerate() {
                if first != i {
                    order.push(Slot::SameAs(first));
                } else if let Some(&k) = existing_at.get(input.name(i)) {
                    if let Some(given) = input.given(i) {
                        notes.extend(given.differences(&existing[k]));
                    }
                    order.push(Slot::Existing(k));
                } else {
                    order.push(Slot::New);
                    new.push(i);
                }
            }
        }
        drop(first_of);
        // A new name that is another record's synonym would shadow it: the same word would
        // name two records.
        if !new.is_empty() {
            let synonyms = crate::validate::synonyms_of::<T>(conn)?;
            if let Some((name, owner)) = new.iter().find_map(|&i| {
                let name = input.name(i);
                synonyms.get(name).map(|o| (name, o))
            }) {
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
            let new_names: Vec<&str> = new.iter().map(|&i| input.name(i)).collect();
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
        // The new records, a batch at a time: made (or taken), inserted, handed back.
        let mut new_ids: Vec<i64> = Vec::with_capacity(new.len());
        for batch in new.chunks(WRITE_BATCH) {
            let mut records = batch
                .iter()
                .map(|&i| input.take(i))
                .collect::<Result<Vec<T>>>()?;
            T::insert_all(conn, &mut records)?;
            for r in &records {
                new_ids.push(require_id(r)?);
            }
            input.written(conn, batch, records)?;
        }
        // Filed in the name index in one pass over every new name, in key order.
        let filed: Vec<(i64, &str)> = new_ids
            .iter()
            .zip(&new)
            .map(|(&id, &i)| (id, input.name(i)))
            .collect();
        name_index::add_ids::<T>(conn, &filed)?;
        drop(filed);
        for (name, s) in similar.iter().take(SHOWN_WARNINGS) {
            tracing::warn!("{} '{name}' is similar to existing {s:?}", T::REGISTRY.name);
        }
        if similar.len() > SHOWN_WARNINGS {
            tracing::warn!(
                "… and {} more {} names similar to existing ones",
                similar.len() - SHOWN_WARNINGS,
                T::REGISTRY.name
            );
        }
        Ok(Plan {
            order,
            created: new.len(),
            existing,
            similar,
            notes,
        })
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
