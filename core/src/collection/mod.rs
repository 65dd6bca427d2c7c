//! Collections (SPEC §7): ordered sets of saved artifacts with an order-independent hash
//! (the same function as feature sets, over the members' hashes), versioned by name like
//! artifacts by key, with per-slot feature sets (the union of the members') and labels.

mod concat;

use std::collections::{BTreeMap, HashMap, HashSet};

use lamella_schema::links::{self, Owner};
use lamella_schema::{Artifact, Collection, Feature, Store as _, Visibility, now, require_id};

pub use concat::{
    CategoryCheck, CollectionBatches, Concat, Existing, Join, MemberColumn, MemberLabels,
    MemberPanel, Plan, PlannedColumn, Promotion, UnitDisagreement, VarPanels,
};

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::names;
use crate::registry::Saved;
use crate::versions;
use crate::{Deleted, Deletion, Restored};

/// The collection registry of an instance: `ln.collections()`.
#[derive(Debug, Clone)]
pub struct Collections {
    pub(crate) ln: Instance,
}

impl Instance {
    /// The collection registry.
    pub fn collections(&self) -> Collections {
        Collections { ln: self.clone() }
    }
}

/// A collection being built: `ln.collections().create(&artifacts, name).save()`.
pub struct CollectionDraft {
    ln: Instance,
    artifacts: Vec<Artifact>,
    name: String,
    description: Option<String>,
    version: Option<String>,
}

impl CollectionDraft {
    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the version label (LaminDB's `version="1"`); without it the first version has
    /// none and the n-th of a family is labelled `n`. A family holds each label once.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Saves the collection in one transaction: the same members (by content hash, in any
    /// order) give the existing collection; the name of an existing collection with other
    /// members gives its next version. In a tracked run the collection gets the run, and its
    /// members become the run's inputs.
    pub fn save(self) -> Result<Saved<Collection>> {
        let ln = self.ln;
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid(
                "a collection name",
                "",
                "give a non-empty name",
            ));
        }
        crate::registry::check_text("collection name", Some(&name))?;
        crate::registry::check_text("description", self.description.as_deref())?;
        let wanted_version = match self.version.as_deref().map(str::trim) {
            Some("") => {
                return Err(Error::invalid(
                    format!("the version of collection '{name}'"),
                    "",
                    "give a label such as 1, or none",
                ));
            }
            Some(v) => {
                crate::registry::check_text("version", Some(v))?;
                Some(v.to_string())
            }
            None => None,
        };
        if self.artifacts.is_empty() {
            return Err(Error::Incomplete {
                what: format!("collection '{name}'"),
                needs: "at least one artifact".into(),
            });
        }
        let mut ids = Vec::with_capacity(self.artifacts.len());
        let mut hashes: HashMap<&str, &str> = HashMap::new();
        for a in &self.artifacts {
            ids.push(require_id(a)?);
            let Some(h) = a.hash.as_deref() else {
                return Err(Error::Incomplete {
                    what: format!("artifact {}", a.uid),
                    needs: "a hash: save it before collecting it".into(),
                });
            };
            if let Some(other) = hashes.insert(h, &a.uid) {
                return Err(Error::Conflict {
                    message: format!(
                        "artifacts {other} and {} have the same content (hash {h}): a \
                         collection holds distinct artifacts",
                        a.uid
                    ),
                });
            }
        }
        let hash = lamella_storage::hash_set(hashes.keys().copied());
        let user = ln.user_id();
        let tracked = ln.run_ids();
        let saved = ln.db().transaction(|conn| {
            conn.lock(&[
                format!("collection-hash:{hash}"),
                format!("collection:{name}"),
            ])?;
            let same: Vec<Collection> =
                lamella_schema::load_where_in(conn, "hash", std::slice::from_ref(&hash))?;
            if let Some(c) = same.into_iter().max_by_key(|c| (c.is_latest, c.id)) {
                return Ok::<_, Error>(Saved {
                    record: c,
                    existed: true,
                    similar: Vec::new(),
                    notes: Vec::new(),
                });
            }
            let family: Vec<Collection> =
                lamella_schema::load_where_in(conn, "name", std::slice::from_ref(&name))?;
            if let Some(v) = &wanted_version
                && let Some(taken) = family.iter().find(|c| c.version.as_deref() == Some(v))
            {
                return Err(Error::Taken {
                    what: format!("collection '{name}' version"),
                    name: v.clone(),
                    by: format!("collection {}", taken.uid),
                    reason: "give another version label".into(),
                });
            }
            let t = now();
            let (uid, version) = match family.first() {
                Some(first) => {
                    // The family of the name: its stem's lock (round 2), then its versions.
                    let stem = versions::versioned::<Collection>(&first.uid)?
                        .stem()
                        .to_string();
                    conn.lock(&[versions::family_lock::<Collection>(&stem)])?;
                    let members = versions::family::<Collection>(conn, &stem)?;
                    let next = versions::next_version(&members)?;
                    lamella_schema::set_latest(
                        conn,
                        &lamella_schema::registry::COLLECTION,
                        &stem,
                        None,
                        t,
                    )?;
                    let label = wanted_version.clone().unwrap_or_else(|| {
                        versions::next_label(
                            members.iter().map(|c| c.version.as_deref()),
                            members.len(),
                        )
                    });
                    (next.as_str().to_string(), Some(label))
                }
                None => (
                    versions::new_family::<Collection>().as_str().to_string(),
                    wanted_version.clone(),
                ),
            };
            let mut rows = vec![Collection {
                id: None,
                uid,
                name: name.clone(),
                description: self.description.clone(),
                hash: Some(hash.clone()),
                version,
                is_latest: true,
                visibility: Visibility::Default,
                reference: None,
                reference_type: None,
                transform_id: tracked.map(|(_, tr)| tr),
                run_id: tracked.map(|(r, _)| r),
                created_at: t,
                updated_at: t,
                created_by_id: user,
            }];
            Collection::insert_all(conn, &mut rows)?;
            let c = rows.remove(0);
            let cid = require_id(&c)?;
            links::insert_collection_members(conn, cid, &ids)?;
            // Per slot, the union of the members' feature sets.
            let mut notes = Vec::new();
            for (slot, set) in union_of_slots(conn, &ids)? {
                let saved = crate::annotate::save_set(conn, &set, user)?;
                if saved.existed {
                    notes.push(format!(
                        "loaded: FeatureSet(uid='{}', n={}, registry='Feature', hash='{}')",
                        saved.record.uid, saved.record.n, saved.record.hash
                    ));
                }
                links::set_slot(
                    conn,
                    Owner::Collection(cid),
                    &slot,
                    require_id(&saved.record)?,
                )?;
            }
            Ok(Saved {
                record: c,
                existed: false,
                similar: Vec::new(),
                notes,
            })
        })?;
        ln.note_inputs(&self.artifacts)?;
        Ok(saved)
    }
}

/// Per slot, the features of all members' sets under that slot, in id order.
fn union_of_slots(
    conn: &mut lamella_schema::Conn<'_>,
    artifacts: &[i64],
) -> Result<BTreeMap<String, Vec<Feature>>> {
    // Two statements for all members: their slots, then the sets' members.
    let slots = links::artifacts_slots(conn, artifacts)?;
    let mut set_ids: Vec<i64> = slots.iter().map(|(_, _, s)| *s).collect();
    set_ids.sort_unstable();
    set_ids.dedup();
    let members = lamella_schema::feature_set_members(conn, &set_ids)?;
    let mut by_slot: BTreeMap<String, HashSet<i64>> = BTreeMap::new();
    for (_, slot, set) in &slots {
        let entry = by_slot.entry(slot.clone()).or_default();
        entry.extend(members.iter().filter(|(s, _)| s == set).map(|(_, f)| *f));
    }
    let mut out = BTreeMap::new();
    for (slot, ids) in by_slot {
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        let mut features: Vec<Feature> = lamella_schema::load_by_ids(conn, &ids)?;
        features.sort_by_key(|f| f.id);
        out.insert(slot, features);
    }
    Ok(out)
}

impl Collections {
    /// A new collection of `artifacts` (saved, pairwise distinct contents) named `name`.
    pub fn create(&self, artifacts: &[Artifact], name: impl Into<String>) -> CollectionDraft {
        CollectionDraft {
            ln: self.ln.clone(),
            artifacts: artifacts.to_vec(),
            name: name.into(),
            description: None,
            version: None,
        }
    }

    /// A query on collections (the trash hidden unless asked).
    pub fn query(&self) -> crate::Query<Collection> {
        self.ln.query::<Collection>()
    }

    /// The latest version of the collection named `name`, or the collection with this uid (or
    /// unique uid prefix of at least 6 characters).
    pub fn get(&self, name_or_uid: &str) -> Result<Collection> {
        let by_name = self
            .query()
            .filter("name", name_or_uid)
            .order_by("-id")
            .all()?;
        if let Some(c) = by_name.iter().find(|c| c.is_latest).or(by_name.first()) {
            return Ok(c.clone());
        }
        if lamella_schema::is_base62(name_or_uid) && name_or_uid.len() >= 6 {
            let found = self.query().filter("uid__startswith", name_or_uid).all()?;
            if found.len() == 1 {
                return Ok(found[0].clone());
            }
        }
        Err(self.not_found(name_or_uid, format!("'{}'", names::shown(name_or_uid, 80)))?)
    }

    /// The error for a collection name that matched nothing, with the close names that
    /// exist (collection names are read once; a long list is ranked in memory).
    fn not_found(&self, name: &str, what: String) -> Result<Error> {
        let all: Vec<String> = self
            .ln
            .db()
            .with_conn(|c| lamella_schema::names(c, &lamella_schema::registry::COLLECTION, "name"))?
            .into_iter()
            .map(|(_, n)| n)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let text = names::SearchText::new(name);
        let mut ranked: Vec<(names::MatchKind, usize, String)> = all
            .into_iter()
            .filter(|n| n != name)
            .filter_map(|n| text.rank(&n, None).map(|(k, d)| (k, d, n)))
            .collect();
        ranked.sort();
        Ok(Error::not_found(
            "Collection",
            what,
            ranked.into_iter().take(5).map(|(_, _, n)| n).collect(),
        ))
    }

    /// The version labelled `version` of the collection named `name` (trash aside).
    pub fn get_version(&self, name: &str, version: &str) -> Result<Collection> {
        let found = self
            .query()
            .filter("name", name)
            .filter("version", version)
            .first()?;
        found.ok_or_else(|| {
            Error::not_found(
                "Collection",
                format!("'{name}' version {version}"),
                Vec::new(),
            )
        })
    }

    /// Local paths of the members' content, in order (copies in the cache folder for cloud
    /// storage): `collection.cache()`. In a tracked run the collection becomes an input and
    /// its producing transform a parent of the current one.
    pub fn cache(&self, c: &Collection) -> Result<Vec<std::path::PathBuf>> {
        use rayon::prelude::*;
        let members = self.artifacts(c)?;
        // Cloud members download in parallel, as load() reads them.
        let paths = members
            .par_iter()
            .map(|a| self.ln.artifacts().local_copy(a))
            .collect::<Result<Vec<_>>>()?;
        self.ln.note_collection_inputs(std::slice::from_ref(c))?;
        Ok(paths)
    }

    /// The member artifacts, in order.
    pub fn artifacts(&self, c: &Collection) -> Result<Vec<Artifact>> {
        let id = require_id(c)?;
        self.ln.db().with_conn(|conn| {
            let ids = links::collection_members(conn, id)?;
            let mut by_id: HashMap<i64, Artifact> =
                lamella_schema::load_by_ids::<Artifact>(conn, &ids)?
                    .into_iter()
                    .filter_map(|a| Some((a.id?, a)))
                    .collect();
            Ok(ids.iter().filter_map(|i| by_id.remove(i)).collect())
        })
    }

    /// The members as a table (one row per artifact, in order): `collection.artifacts.df()`.
    pub fn artifacts_df(&self, c: &Collection) -> Result<arrow::record_batch::RecordBatch> {
        crate::table::records_to_batch(&lamella_schema::registry::ARTIFACT, &self.artifacts(c)?)
    }

    /// The collection's feature sets by slot (`columns`, `external`, …): per slot, the union
    /// of its members' sets.
    pub fn feature_sets(
        &self,
        c: &Collection,
    ) -> Result<BTreeMap<String, lamella_schema::FeatureSet>> {
        let id = require_id(c)?;
        self.ln.db().with_conn(|conn| {
            let slots = links::slots(conn, Owner::Collection(id))?;
            let ids: Vec<i64> = slots.iter().map(|(_, s)| *s).collect();
            let sets: HashMap<i64, lamella_schema::FeatureSet> =
                lamella_schema::load_by_ids::<lamella_schema::FeatureSet>(conn, &ids)?
                    .into_iter()
                    .filter_map(|s| Some((s.id?, s)))
                    .collect();
            Ok(slots
                .into_iter()
                .filter_map(|(slot, sid)| Some((slot, sets.get(&sid)?.clone())))
                .collect())
        })
    }

    /// Every version of the collection's family, oldest first.
    pub fn versions(&self, c: &Collection) -> Result<Vec<Collection>> {
        let uid = versions::versioned::<Collection>(&c.uid)?;
        self.query()
            .include_trash()
            .filter("uid__startswith", uid.stem())
            .order_by("id")
            .all()
    }
}

/// Takes the locks a save of `c`'s family takes, in the same order (its name, then its
/// family), before anything is written.
fn lock_family(conn: &mut lamella_schema::Conn<'_>, c: &Collection) -> Result<()> {
    conn.lock(&[format!("collection:{}", c.name)])?;
    let uid = versions::versioned::<Collection>(&c.uid)?;
    conn.lock(&[versions::family_lock::<Collection>(uid.stem())])?;
    Ok(())
}

/// Makes the newest version of `c`'s family that is not in the trash the latest one.
fn relatest(conn: &mut lamella_schema::Conn<'_>, c: &Collection) -> Result<()> {
    lock_family(conn, c)?;
    versions::relatest::<Collection>(conn, versions::versioned::<Collection>(&c.uid)?.stem())
}

impl Collections {
    /// The collection with this uid, trash included.
    fn by_uid(&self, uid: &str) -> Result<Collection> {
        self.query().include_trash().filter("uid", uid).one()
    }

    /// Moves the collection to the trash, or deletes it for good ([`Deletion::Permanent`],
    /// or a collection already in the trash): its member list, labels and feature-set links
    /// go with it; the member artifacts stay. Trashing the latest version promotes the
    /// previous. Says what it did.
    pub fn delete(&self, c: &Collection, how: Deletion) -> Result<Deleted> {
        let current = self.by_uid(&c.uid)?;
        let id = require_id(&current)?;
        let trash = how == Deletion::Trash && !current.visibility.is_trash();
        self.ln.db().transaction(|conn| -> Result<()> {
            lock_family(conn, &current)?;
            if trash {
                let mut r = current.clone();
                r.visibility = Visibility::Trash;
                r.is_latest = false;
                r.updated_at = now();
                Collection::update(conn, &r)?;
            } else {
                lamella_schema::delete_by_id(conn, &lamella_schema::registry::COLLECTION, id)?;
            }
            relatest(conn, &current)
        })?;
        Ok(if trash {
            Deleted::Trashed
        } else {
            Deleted::Removed {
                object_removed: false,
            }
        })
    }

    /// Takes a collection out of the trash (one not in the trash is returned as it is,
    /// `changed: false`).
    pub fn restore(&self, c: &Collection) -> Result<Restored<Collection>> {
        let current = self.by_uid(&c.uid)?;
        if !current.visibility.is_trash() {
            return Ok(Restored {
                record: current,
                changed: false,
            });
        }
        self.ln.db().transaction(|conn| -> Result<()> {
            lock_family(conn, &current)?;
            let mut r = current.clone();
            r.visibility = Visibility::Default;
            r.is_latest = false;
            r.updated_at = now();
            Collection::update(conn, &r)?;
            relatest(conn, &r)
        })?;
        Ok(Restored {
            record: self.by_uid(&c.uid)?,
            changed: true,
        })
    }

    /// The collection named (or with uid) `name_or_uid`, trash included: the latest version
    /// of the name, else its newest trashed version, else the one with that uid.
    pub fn get_any(&self, name_or_uid: &str) -> Result<Collection> {
        match self.get(name_or_uid) {
            Err(Error::NotFound { .. }) => match self.in_trash(name_or_uid) {
                Ok(c) => Ok(c),
                Err(e @ Error::NotFound { .. }) => self
                    .query()
                    .include_trash()
                    .filter("uid", name_or_uid)
                    .one_or_none()?
                    .ok_or(e),
                Err(e) => Err(e),
            },
            other => other,
        }
    }

    /// Restores the newest trashed version named `name_or_uid` (or the collection with that
    /// uid): `changed: false` when it is not in the trash.
    pub fn restore_named(&self, name_or_uid: &str) -> Result<Restored<Collection>> {
        let c = match self.in_trash(name_or_uid) {
            Ok(c) => c,
            Err(e @ Error::NotFound { .. }) => self
                .query()
                .include_trash()
                .filter("uid", name_or_uid)
                .one_or_none()?
                .ok_or(e)?,
            Err(e) => return Err(e),
        };
        self.restore(&c)
    }

    /// The newest version named `name` in the trash (to restore).
    pub fn in_trash(&self, name: &str) -> Result<Collection> {
        self.query()
            .filter("name", name)
            .filter("visibility", -1)
            .order_by("-id")
            .first()?
            .ok_or_else(|| Error::NotFound {
                suggestions: Vec::new(),
                registry: "Collection",
                what: format!("'{name}' in the trash"),
            })
    }
}
