//! Feature sets: sets of features, deduplicated by their members (same members → same
//! record, LaminDB's hash), linked to artifacts under a slot (`columns`, `external`, …).

use std::collections::{HashMap, HashSet};

use lamella_schema::{
    Artifact, Dtype, Feature, FeatureSet, Store as _, base62_uid, now, require_id,
};

use crate::artifact::Artifacts;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::registry::Saved;

/// The feature-set registry of an instance: `ln.feature_sets()`.
#[derive(Debug, Clone)]
pub struct FeatureSets {
    ln: Instance,
}

impl Instance {
    /// The feature-set registry.
    pub fn feature_sets(&self) -> FeatureSets {
        FeatureSets { ln: self.clone() }
    }
}

/// Saves (or finds) the feature set of `features` inside a transaction.
pub(crate) fn save_set(
    conn: &mut lamella_schema::Conn<'_>,
    features: &[Feature],
    user: i64,
) -> Result<Saved<FeatureSet>> {
    if features.is_empty() {
        return Err(Error::Incomplete {
            what: "a feature set".into(),
            needs: "at least one feature".into(),
        });
    }
    let ids = features
        .iter()
        .map(|f| require_id(f).map_err(Error::from))
        .collect::<Result<Vec<i64>>>()?;
    let keys: Vec<(i64, &str)> = ids
        .iter()
        .zip(features)
        .map(|(id, f)| (*id, f.uid.as_str()))
        .collect();
    let first: &Dtype = &features[0].dtype;
    let dtype = features
        .iter()
        .all(|f| &f.dtype == first)
        .then(|| first.clone());
    save_set_of_keys(conn, &keys, dtype, user)
}

/// [`save_set`] for many sets at once (each a non-empty list of saved features): one lock
/// statement, one lookup by hash, one insert of the new sets and one of their members,
/// whatever the number of sets. The result is in input order; equal member lists give the
/// same set.
pub(crate) fn save_sets_many(
    conn: &mut lamella_schema::Conn<'_>,
    sets: &[Vec<Feature>],
    user: i64,
) -> Result<Vec<Saved<FeatureSet>>> {
    let mut prepared: Vec<(Vec<i64>, String, Option<Dtype>)> = Vec::with_capacity(sets.len());
    for features in sets {
        let Some(first) = features.first() else {
            return Err(Error::Incomplete {
                what: "a feature set".into(),
                needs: "at least one feature".into(),
            });
        };
        let mut ids = features
            .iter()
            .map(|f| require_id(f).map_err(Error::from))
            .collect::<Result<Vec<i64>>>()?;
        ids.sort_unstable();
        ids.dedup();
        let hash = lamella_storage::hash_set(features.iter().map(|f| f.uid.as_str()));
        let dtype = features
            .iter()
            .all(|f| f.dtype == first.dtype)
            .then(|| first.dtype.clone());
        prepared.push((ids, hash, dtype));
    }
    let mut hashes: Vec<String> = prepared.iter().map(|(_, h, _)| h.clone()).collect();
    hashes.sort();
    hashes.dedup();
    let locks: Vec<String> = hashes.iter().map(|h| format!("feature-set:{h}")).collect();
    conn.lock(&locks)?;
    let mut found: HashMap<String, FeatureSet> = HashMap::new();
    for chunk in hashes.chunks(5_000) {
        for set in lamella_schema::load_where_in::<FeatureSet, _>(conn, "hash", chunk)? {
            found.insert(set.hash.clone(), set);
        }
    }
    let existed: HashSet<String> = found.keys().cloned().collect();
    let t = now();
    let mut rows = Vec::new();
    let mut members_of: Vec<&Vec<i64>> = Vec::new();
    let mut queued: HashSet<&str> = HashSet::new();
    for (ids, hash, dtype) in &prepared {
        if existed.contains(hash) || !queued.insert(hash.as_str()) {
            continue;
        }
        rows.push(FeatureSet {
            id: None,
            uid: base62_uid(lamella_schema::uid_len::FEATURE_SET),
            name: None,
            n: i32::try_from(ids.len()).unwrap_or(i32::MAX),
            dtype: dtype.clone(),
            registry: "Feature".into(),
            hash: hash.clone(),
            created_at: t,
            updated_at: t,
            created_by_id: user,
            run_id: None,
        });
        members_of.push(ids);
    }
    FeatureSet::insert_all(conn, &mut rows)?;
    let mut members = Vec::new();
    for (set, ids) in rows.iter().zip(&members_of) {
        let sid = require_id(set)?;
        members.extend(ids.iter().map(|f| (sid, *f)));
    }
    lamella_schema::insert_feature_set_members_many(conn, &members)?;
    for set in rows {
        found.insert(set.hash.clone(), set);
    }
    prepared
        .iter()
        .map(|(_, hash, _)| {
            Ok(Saved {
                record: found
                    .get(hash)
                    .cloned()
                    .ok_or_else(|| Error::Internal(format!("feature set {hash} not saved")))?,
                existed: existed.contains(hash),
                similar: Vec::new(),
                notes: Vec::new(),
            })
        })
        .collect()
}

/// [`save_set`] from what it needs of each feature — id and uid — and the set's dtype (the
/// members' common dtype, if they share one).
pub(crate) fn save_set_of_keys(
    conn: &mut lamella_schema::Conn<'_>,
    keys: &[(i64, &str)],
    dtype: Option<Dtype>,
    user: i64,
) -> Result<Saved<FeatureSet>> {
    if keys.is_empty() {
        return Err(Error::Incomplete {
            what: "a feature set".into(),
            needs: "at least one feature".into(),
        });
    }
    let ids: Vec<i64> = keys.iter().map(|(id, _)| *id).collect();
    let hash = lamella_storage::hash_set(keys.iter().map(|(_, uid)| *uid));
    conn.lock(&[format!("feature-set:{hash}")])?;
    let found: Vec<FeatureSet> =
        lamella_schema::load_where_in(conn, "hash", std::slice::from_ref(&hash))?;
    if let Some(set) = found.into_iter().next() {
        return Ok(Saved {
            record: set,
            existed: true,
            similar: Vec::new(),
            notes: Vec::new(),
        });
    }
    let mut distinct: Vec<i64> = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let t = now();
    let mut rows = vec![FeatureSet {
        id: None,
        uid: base62_uid(lamella_schema::uid_len::FEATURE_SET),
        name: None,
        n: distinct.len() as i32,
        dtype,
        registry: "Feature".into(),
        hash,
        created_at: t,
        updated_at: t,
        created_by_id: user,
        run_id: None,
    }];
    FeatureSet::insert_all(conn, &mut rows)?;
    let set = rows.remove(0);
    lamella_schema::insert_feature_set_members(conn, require_id(&set)?, &distinct)?;
    Ok(Saved {
        record: set,
        existed: false,
        similar: Vec::new(),
        notes: Vec::new(),
    })
}

impl FeatureSets {
    /// The feature set of these saved features: the existing one when a set with the same
    /// members exists (order and repeats do not matter), else a new one.
    pub fn from_features(&self, features: &[Feature]) -> Result<Saved<FeatureSet>> {
        let user = self.ln.user_id();
        self.ln
            .db()
            .transaction(|conn| save_set(conn, features, user))
    }

    /// The members of a feature set, in id order.
    pub fn members(&self, set: &FeatureSet) -> Result<Vec<Feature>> {
        let id = require_id(set)?;
        let ids: Vec<i64> = self
            .ln
            .db()
            .with_conn(|c| lamella_schema::feature_set_members(c, &[id]))?
            .into_iter()
            .map(|(_, f)| f)
            .collect();
        let mut features: Vec<Feature> = self
            .ln
            .db()
            .with_conn(|c| lamella_schema::load_by_ids(c, &ids))?;
        features.sort_by_key(|f| f.id);
        Ok(features)
    }
}

/// Checks a slot name: a non-empty identifier such as `columns` or `external`.
fn check_slot(slot: &str) -> Result<()> {
    if slot.is_empty() || !slot.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::invalid(
            "the slot",
            slot,
            "use letters, digits and _ (e.g. 'columns')",
        ));
    }
    Ok(())
}

impl Artifacts {
    /// Links `set` to the artifact under `slot`, replacing the slot's previous set.
    pub fn add_feature_set(&self, a: &Artifact, slot: &str, set: &FeatureSet) -> Result<()> {
        check_slot(slot)?;
        let (aid, sid) = (require_id(a)?, require_id(set)?);
        self.ln.db().transaction(|conn| {
            let owner = lamella_schema::links::Owner::Artifact(aid);
            super::lock_owner(conn, owner)?;
            if let Some(previous) = lamella_schema::links::set_slot(conn, owner, slot, sid)? {
                lamella_schema::links::delete_feature_set_if_unused(conn, previous)?;
            }
            Ok(())
        })
    }

    /// Annotates a table artifact with its columns: the registered feature of each column,
    /// as one feature set under the slot `columns` (the existing set when one has the same
    /// members). A column without a registered feature is an error naming every such column
    /// (register them first, e.g. with `ln.features().from_table(&table)`); nothing is linked.
    /// For an AnnData artifact use [`annotate_slots`](Self::annotate_slots).
    pub fn annotate_columns(&self, a: &Artifact) -> Result<Saved<FeatureSet>> {
        if crate::anndata::is_anndata_artifact(a) {
            return Err(Error::Annotation {
                feature: None,
                message: format!(
                    "artifact {} is AnnData: its feature sets are the slots `obs` and `var` \
                     (annotate its slots)",
                    a.uid
                ),
            });
        }
        let path = self.local_copy(a)?;
        let names: Vec<String> = crate::table::read_table_schema(&path)?
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut linked = self.link_slots(a, &[("columns", &names, "column")])?;
        Ok(linked.remove(0).1)
    }

    /// Annotates an artifact with the feature sets of its slots: a table's `columns`; an
    /// AnnData's `obs` (its columns' features) and `var` (the features named by its index —
    /// gene identifiers, one feature set for a panel however many files share it). Every
    /// name must be a registered feature (an error lists the others; nothing is linked); the
    /// sets are linked in one transaction.
    pub fn annotate_slots(&self, a: &Artifact) -> Result<Vec<(String, Saved<FeatureSet>)>> {
        if !crate::anndata::is_anndata_artifact(a) {
            return Ok(vec![("columns".to_string(), self.annotate_columns(a)?)]);
        }
        let path = self.local_copy(a)?;
        let data = lamella_storage::AnnData::open(&path)?;
        let obs: Vec<String> = data
            .frame_schema(lamella_storage::Axis::Obs)?
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let var: Vec<String> = data
            .names(lamella_storage::Axis::Var)?
            .iter()
            .map(|n| n.unwrap_or_default().to_string())
            .collect();
        drop(data);
        let slots: Vec<(&str, &[String], &str)> = [
            ("obs", obs.as_slice(), "obs column"),
            ("var", var.as_slice(), "var entry (gene)"),
        ]
        .into_iter()
        .filter(|(_, names, _)| !names.is_empty())
        .collect();
        self.link_slots(a, &slots)
    }

    /// Links to the artifact, in one transaction, the feature set of each slot's names (the
    /// registered features so named), replacing the slot's previous set. A long list of
    /// names (a gene panel) is first looked up whole among the lists resolved before: the
    /// same panel in another file costs one statement instead of a read of its 20k
    /// features. A list resolved the long way is remembered for the next time.
    fn link_slots(
        &self,
        a: &Artifact,
        slots: &[(&str, &[String], &str)],
    ) -> Result<Vec<(String, Saved<FeatureSet>)>> {
        let user = self.ln.user_id();
        let owner = lamella_schema::links::Owner::Artifact(require_id(a)?);
        let mut remembered = true;
        loop {
            let resolved = slots
                .iter()
                .map(|(slot, names, what)| Ok((*slot, self.resolve(a, names, what, remembered)?)))
                .collect::<Result<Vec<_>>>()?;
            let linked = self.ln.db().transaction(|conn| -> Result<_> {
                super::lock_owner(conn, owner)?;
                let mut linked = Vec::new();
                for (slot, names) in &resolved {
                    let set = match names {
                        Resolved::Remembered(set) => {
                            // The set goes when its last use does: still there, under its lock?
                            conn.lock(&[format!("feature-set:{}", set.hash)])?;
                            match lamella_schema::load_by_ids(conn, &[require_id(set)?])?.pop() {
                                Some(record) => Saved {
                                    record,
                                    existed: true,
                                    similar: Vec::new(),
                                    notes: Vec::new(),
                                },
                                None => return Ok(None),
                            }
                        }
                        Resolved::Features { keys, names_hash } => {
                            let set =
                                save_set_of_keys(conn, &set_keys(keys), set_dtype(keys), user)?;
                            if let Some(h) = names_hash {
                                lamella_schema::remember_set_names(
                                    conn,
                                    h,
                                    require_id(&set.record)?,
                                )?;
                            }
                            set
                        }
                    };
                    let sid = require_id(&set.record)?;
                    if let Some(previous) = lamella_schema::links::set_slot(conn, owner, slot, sid)?
                    {
                        lamella_schema::links::delete_feature_set_if_unused(conn, previous)?;
                    }
                    linked.push((slot.to_string(), set));
                }
                Ok(Some(linked))
            })?;
            match linked {
                Some(linked) => return Ok(linked),
                // Deleted meanwhile (its last artifact annotated anew): the long way.
                None => remembered = false,
            }
        }
    }

    /// What a slot's names resolve to: the feature set remembered for them (when `remembered`
    /// and the list is long), else their registered features.
    fn resolve(
        &self,
        a: &Artifact,
        names: &[String],
        what: &str,
        remembered: bool,
    ) -> Result<Resolved> {
        check_distinct(a, names, what)?;
        let names_hash = (names.len() >= REMEMBER_FROM).then(|| lamella_storage::hash_set(names));
        if let (Some(h), true) = (&names_hash, remembered)
            && let Some(set) = self
                .ln
                .db()
                .with_conn(|c| lamella_schema::feature_set_by_names(c, h))?
        {
            return Ok(Resolved::Remembered(set));
        }
        Ok(Resolved::Features {
            keys: self.registered_features(a, names, what)?,
            names_hash,
        })
    }

    /// The registered features named `names` (in order; one statement however many): an
    /// error when a name names no feature (the first 20 listed with close spellings, the
    /// count of all).
    fn registered_features(
        &self,
        a: &Artifact,
        names: &[String],
        what: &str,
    ) -> Result<Vec<lamella_schema::FeatureKey>> {
        let found = self
            .ln
            .db()
            .with_conn(|c| lamella_schema::feature_keys(c, names))?;
        if found.iter().any(Option::is_none) {
            let missing: Vec<&str> = names
                .iter()
                .zip(&found)
                .filter(|(_, k)| k.is_none())
                .map(|(n, _)| n.as_str())
                .collect();
            const LISTED: usize = 20;
            let shown = &missing[..missing.len().min(LISTED)];
            let hints = self.ln.features().suggestions(shown)?;
            let mut listed: Vec<String> = shown
                .iter()
                .zip(hints)
                .map(|(m, h)| match h.first() {
                    Some(s) => format!("'{m}' (did you mean '{s}'?)"),
                    None => format!("'{m}'"),
                })
                .collect();
            if missing.len() > LISTED {
                listed.push(format!("… and {} more", missing.len() - LISTED));
            }
            return Err(Error::Annotation {
                feature: None,
                message: format!(
                    "{} {what}{} of artifact {} {} no registered feature: {}; register \
                     features for them (from the file) and annotate again",
                    missing.len(),
                    if missing.len() == 1 { "" } else { "s" },
                    a.uid,
                    if missing.len() == 1 { "has" } else { "have" },
                    listed.join(", ")
                ),
            });
        }
        Ok(found.into_iter().flatten().collect())
    }
}

/// Names from this many up (a gene panel, not a table's columns) are looked up whole among
/// the lists resolved before ([`lamella_schema::feature_set_by_names`]).
const REMEMBER_FROM: usize = 1_000;

/// What the names of a slot resolve to (see `Artifacts::link_slots`).
enum Resolved {
    /// The feature set remembered for these names.
    Remembered(FeatureSet),
    /// Their registered features, and the names' set hash when the list is long enough to
    /// be remembered.
    Features {
        keys: Vec<lamella_schema::FeatureKey>,
        names_hash: Option<String>,
    },
}

/// An error when a name repeats: a feature describes one column (one gene).
fn check_distinct(a: &Artifact, names: &[String], what: &str) -> Result<()> {
    let mut seen: foldhash::HashSet<&str> = foldhash::HashSet::default();
    seen.reserve(names.len());
    match names.iter().find(|n| !seen.insert(n.as_str())) {
        Some(twice) => Err(Error::Conflict {
            message: format!(
                "artifact {} has more than one {what} named '{}': a feature describes one; \
                 rename the others and save the file again",
                a.uid,
                crate::names::shown(twice, 80)
            ),
        }),
        None => Ok(()),
    }
}

/// The (id, uid) pairs a feature set is saved from.
fn set_keys(keys: &[lamella_schema::FeatureKey]) -> Vec<(i64, &str)> {
    keys.iter().map(|k| (k.id, k.uid.as_str())).collect()
}

/// The members' common dtype, if they share one.
fn set_dtype(keys: &[lamella_schema::FeatureKey]) -> Option<Dtype> {
    let first = &keys.first()?.dtype;
    if keys.iter().all(|k| &k.dtype == first) {
        first.parse().ok()
    } else {
        None
    }
}
