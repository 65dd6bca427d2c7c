//! Saving prepared artifacts in four phases: dedup → plan → stage → commit.

use lamella_schema::{Artifact, Store as _, VersionedUid, base62_uid, now, registry, require_id};
use lamella_storage::Store;

use super::delete::prune_empty_dirs;
use super::draft::{ArtifactDraft, Hook};
use super::prepare::{Prepared, skipped_link_notes};
use super::versions::{family_lock, key_lock, versioned};
use super::{DuplicatePolicy, STAGING, suffix_of};
use crate::error::{Error, Result};
use crate::failpoint::failpoint;
use crate::instance::{Instance, LAMELLA_DIR};
use crate::progress::{Meter, ProgressTask, ProgressUnit};
use crate::registry::Saved;

/// One artifact to insert, with where its object comes from.
pub(super) struct Plan {
    pub(super) record: Artifact,
    pub(super) prepared: Prepared,
    pub(super) copy: bool,
    /// The uid of the artifact this one is a new version of.
    pub(super) revises: Option<String>,
    /// Whether the content is deduplicated by hash (policy and size allow it).
    pub(super) dedup: bool,
    pub(super) policy: DuplicatePolicy,
    /// Uploaded objects: (staging key, path relative to the object's final place; "" for a
    /// file).
    pub(super) staged: Vec<(String, String)>,
    /// The uid chosen before the upload when the object went straight to its final key (an
    /// object store, a new version family): committed as a new family, the object needs no
    /// promotion; committed as a version after all, it is moved like a staged one.
    pub(super) early_uid: Option<String>,
}

/// What committing one plan came to.
pub(super) enum Outcome {
    /// A new row (and object).
    Saved(Artifact),
    /// The same content was registered meanwhile (by another writer or earlier in the batch).
    Existing(Artifact),
}

/// Saves prepared artifacts in four phases: [`dedup`] (one query), [`plan`] (records without
/// uids), [`stage`] (parallel uploads under `.lamella/.staging/`, invisible), then [`commit`]:
/// one write transaction that takes the locks, repeats the dedup check, allocates uids and
/// versions, retires older versions, inserts the rows and promotes the staged objects to their
/// final keys without ever replacing one. Anything that fails removes what this save uploaded
/// or promoted, and nothing else.
pub(super) fn save_prepared(
    ln: &Instance,
    mut items: Vec<(ArtifactDraft, Prepared)>,
) -> Result<Vec<Saved<Artifact>>> {
    let existing = dedup(ln, &items)?;
    let hooks: Vec<Option<Hook>> = items.iter_mut().map(|(d, _)| d.then.take()).collect();
    // One read of the default storage: the records and the uploads agree on it.
    let target = ln.storage()?;
    let (mut out, mut plans) = plan(ln, items, &existing, &target)?;
    // Artifacts found by the first dedup check are annotated in a transaction of their own.
    for (saved, hook) in out.iter().zip(&hooks) {
        if let (Some(saved), Some(hook)) = (saved, hook) {
            ln.db().transaction(|conn| hook(conn, &saved.record))?;
        }
    }
    if plans.is_empty() {
        return Ok(out.into_iter().flatten().collect());
    }
    if plans.iter().any(|(_, p)| p.copy) {
        ln.require_managed(&target)?;
    }
    let store = ln.store_for(&target)?;
    // Files copied while they were hashed are staged already.
    for (_, p) in plans.iter_mut() {
        if p.copy
            && let Some(copy) = p.prepared.staged.take()
            && let Some(key) = copy.take(Some(p.record.storage_id))
        {
            p.staged.push((key, String::new()));
        }
    }
    // Single files uploaded to their final keys while they were hashed: waited for. (A
    // plan that revises another artifact never started one: its uid comes from the family.)
    let mut early_err = None;
    for (_, p) in plans.iter_mut() {
        let Some(remote) = p.prepared.remote.take() else {
            continue;
        };
        if !p.copy || p.revises.is_some() {
            continue; // dropped: cancelled, removed
        }
        match remote.finish(Some(p.record.storage_id)) {
            Ok(Some((key, uid))) => {
                p.staged.push((key, String::new()));
                p.early_uid = Some(uid);
            }
            Ok(None) => {}
            Err(e) => {
                early_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = early_err {
        remove_all(&store, &staged_keys(&plans));
        return Err(e);
    }
    let bytes: u64 = plans
        .iter()
        .filter(|(_, p)| p.copy && p.staged.is_empty())
        .map(|(_, p)| p.prepared.size)
        .sum();
    // (Nothing left to upload — files copied while hashed — reports nothing.)
    let meter =
        (bytes > 0).then(|| Meter::new(ln, ProgressTask::Uploading, ProgressUnit::Bytes, bytes));
    stage(&store, &mut plans, &|n| {
        if let Some(m) = &meter {
            m.add(n);
        }
    })?;
    drop(meter);
    if let Err(e) = failpoint("after-upload") {
        remove_all(&store, &staged_keys(&plans));
        return Err(e);
    }
    let mut promoted: Vec<String> = Vec::new();
    let result = ln.db().transaction(|conn| {
        let outcomes = commit(conn, &store, &mut plans, &mut promoted)?;
        for ((i, _), outcome) in plans.iter().zip(&outcomes) {
            if let Some(hook) = &hooks[*i] {
                let (Outcome::Saved(a) | Outcome::Existing(a)) = outcome;
                hook(conn, a)?;
            }
        }
        Ok::<_, Error>(outcomes)
    });
    // Whatever was staged and not promoted (duplicates found under the lock, or a failure)
    // goes; on failure so do the objects this save promoted — no other save owns them,
    // since promotion never replaces an object. (`promoted` lists the moved staging keys
    // too, so nothing is deleted twice.)
    let leftover: Vec<String> = {
        let promoted: std::collections::HashSet<&String> = promoted.iter().collect();
        staged_keys(&plans)
            .into_iter()
            .filter(|k| !promoted.contains(k))
            .collect()
    };
    remove_all(&store, &leftover);
    let outcomes = match result {
        Ok(o) => o,
        Err(e) => {
            remove_all(&store, &promoted);
            prune_empty_dirs(&store);
            return Err(e);
        }
    };
    let new = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Saved(_)))
        .count();
    ln.db()
        .with_conn(|c| lamella_schema::analyze_grown(c, &[("lamella_artifacts", new)]))?;
    for ((i, plan), outcome) in plans.iter().zip(outcomes) {
        out[*i] = Some(match outcome {
            Outcome::Saved(r) => {
                tracing::info!(uid = %r.uid, "saved artifact");
                Saved {
                    record: r,
                    existed: false,
                    similar: Vec::new(),
                    notes: plan
                        .prepared
                        .walk
                        .as_ref()
                        .map(skipped_link_notes)
                        .unwrap_or_default(),
                }
            }
            Outcome::Existing(a) => existing_saved(&a, plan.policy, plan.record.key.as_deref())?,
        });
    }
    Ok(out.into_iter().flatten().collect())
}

/// Phase 1: one query for every hash that may already be registered (a fast path that saves
/// uploading known content; [`commit`] checks again under the lock).
pub(super) fn dedup(ln: &Instance, items: &[(ArtifactDraft, Prepared)]) -> Result<Vec<Artifact>> {
    let hashes: Vec<String> = items
        .iter()
        .filter(|(d, p)| p.size > 0 && d.policy != DuplicatePolicy::CreateNew)
        .map(|(_, p)| p.hash.clone())
        .collect();
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    ln.db()
        .with_conn(|c| lamella_schema::load_where_in(c, "hash", &hashes))
        .map_err(Error::from)
}

/// The answer for content that is already registered, by policy; `asked` is the key the
/// save asked for (a different key is named, with the command that changes it).
pub(super) fn existing_saved(
    a: &Artifact,
    policy: DuplicatePolicy,
    asked: Option<&str>,
) -> Result<Saved<Artifact>> {
    if policy == DuplicatePolicy::Error {
        return Err(Error::Duplicate {
            path: a.key.clone().or(a.description.clone()).unwrap_or_default(),
            uid: a.uid.clone(),
            hash: a.hash.clone().unwrap_or_default(),
        });
    }
    Ok(Saved {
        record: a.clone(),
        existed: true,
        similar: Vec::new(),
        notes: vec![match asked.filter(|k| a.key.as_deref() != Some(*k)) {
            Some(k) => format!(
                "this content is already artifact {} {}: returned it, not saved under '{k}' \
                 (change its key with an update)",
                a.uid,
                a.key
                    .as_deref()
                    .map_or("without a key".to_string(), |old| format!(
                        "under key '{old}'"
                    )),
            ),
            None => format!(
                "returning existing artifact with same hash: {} ({})",
                a.uid,
                a.key.as_deref().or(a.description.as_deref()).unwrap_or("")
            ),
        }],
    })
}

pub(super) type Planned = (Vec<Option<Saved<Artifact>>>, Vec<(usize, Plan)>);

/// Phase 2: a record (without uid) for every item that is not a known duplicate.
pub(super) fn plan(
    ln: &Instance,
    items: Vec<(ArtifactDraft, Prepared)>,
    existing: &[Artifact],
    default_storage: &lamella_schema::Storage,
) -> Result<Planned> {
    let t = now();
    let user = ln.user_id();
    let tracked = ln.run_ids();
    let mut out: Vec<Option<Saved<Artifact>>> = Vec::new();
    let mut plans: Vec<(usize, Plan)> = Vec::new();
    for (i, (draft, prepared)) in items.into_iter().enumerate() {
        crate::registry::check_text("description", draft.description.as_deref())?;
        crate::registry::check_text("version", draft.version.as_deref())?;
        let dedup = prepared.size > 0 && draft.policy != DuplicatePolicy::CreateNew;
        if let Some(a) = dedup
            .then(|| {
                existing
                    .iter()
                    .find(|a| a.hash.as_deref() == Some(prepared.hash.as_str()))
            })
            .flatten()
        {
            if draft.policy == DuplicatePolicy::Error {
                return Err(Error::Duplicate {
                    path: prepared.local.display().to_string(),
                    uid: a.uid.clone(),
                    hash: prepared.hash.clone(),
                });
            }
            out.push(Some(existing_saved(a, draft.policy, draft.key.as_deref())?));
            continue;
        }
        let (storage, key, key_is_virtual, copy) = match (&prepared.in_place, &draft.key) {
            (Some((s, k)), Some(given)) if given != k => {
                return Err(Error::Conflict {
                    message: format!(
                        "{} is already inside storage {} at key '{k}': it is registered in \
                         place, so its key cannot be '{given}'; leave the key out or copy the \
                         file elsewhere first",
                        prepared.local.display(),
                        s.root
                    ),
                });
            }
            (Some((s, k)), _) => (s.clone(), Some(k.clone()), false, false),
            (None, k) => (default_storage.clone(), k.clone(), true, true),
        };
        if let Some(k) = &key
            && !prepared.is_dir
            && suffix_of(k) != prepared.suffix
        {
            return Err(Error::Conflict {
                message: format!(
                    "the key '{k}' has suffix '{}' but the file has '{}': give a key ending in \
                     '{}'",
                    suffix_of(k),
                    prepared.suffix,
                    prepared.suffix
                ),
            });
        }
        out.push(None);
        plans.push((
            i,
            Plan {
                record: Artifact {
                    id: None,
                    uid: String::new(),
                    storage_id: require_id(&storage)?,
                    key,
                    suffix: prepared.suffix.clone(),
                    accessor: prepared.accessor.clone(),
                    description: draft.description.clone(),
                    size: Some(prepared.size as i64),
                    hash: Some(prepared.hash.clone()),
                    hash_type: Some(prepared.hash_type),
                    n_objects: prepared.n_objects,
                    n_observations: prepared.n_observations,
                    version: draft.version.clone(),
                    is_latest: true,
                    visibility: lamella_schema::Visibility::Default,
                    key_is_virtual,
                    transform_id: tracked.map(|(_, tr)| tr),
                    run_id: tracked.map(|(r, _)| r),
                    created_at: t,
                    updated_at: t,
                    created_by_id: user,
                },
                prepared,
                copy,
                revises: draft.revises.map(|r| r.uid),
                dedup,
                policy: draft.policy,
                staged: Vec::new(),
                early_uid: None,
            },
        ));
    }
    Ok((out, plans))
}

/// Phase 3: uploads every copy under `.lamella/.staging/<token>…` in parallel. The staging
/// name does not depend on the uid (allocated later, under the lock), so racing saves never
/// share a key. On failure, everything this phase uploaded is removed.
pub(super) fn stage(
    store: &Store,
    plans: &mut [(usize, Plan)],
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    use rayon::prelude::*;
    if !plans.iter().any(|(_, p)| p.copy && p.staged.is_empty()) {
        return Ok(()); // all uploaded while hashed (or nothing to copy)
    }
    let results: Vec<Result<Uploaded>> = on_object_pool(store, || {
        plans
            .par_iter()
            .map(|(_, plan)| {
                if !plan.copy || !plan.staged.is_empty() {
                    return Ok((Vec::new(), None));
                }
                upload_staging(store, plan, on_bytes)
            })
            .collect()
    });
    let mut first_err = None;
    for ((_, plan), r) in plans.iter_mut().zip(results) {
        match r {
            Ok((staged, early_uid)) => {
                plan.staged.extend(staged);
                // (a plan uploaded while hashed keeps the uid it went up under)
                if early_uid.is_some() {
                    plan.early_uid = early_uid;
                }
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        remove_all(store, &staged_keys(plans));
        return Err(e);
    }
    Ok(())
}

/// A plan's uploaded objects, (key, path relative to the object's place), and the uid chosen
/// for them when they went to their final keys.
type Uploaded = (Vec<(String, String)>, Option<String>);

/// Uploads one plan's file or folder; returns (key, relative path) of each object and, for an
/// object store and an artifact that does not revise another, the uid chosen for it.
///
/// Object stores get the object at its final key `.lamella/<uid>…` under a uid drawn now, in
/// one conditional request that never replaces an object (no staging copy, no server-side copy
/// later: most saves start a new version family and keep that uid). Local stores upload under
/// `.lamella/.staging/<token>…` and promote with a link, which costs nothing.
pub(super) fn upload_staging(
    store: &Store,
    plan: &Plan,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<Uploaded> {
    let early_uid = (store.kind() != lamella_storage::StoreKind::Local && plan.revises.is_none())
        .then(|| String::from(crate::versions::new_family::<Artifact>()));
    let base = match &early_uid {
        Some(uid) => format!("{LAMELLA_DIR}/{uid}"),
        None => format!("{STAGING}/{}", base62_uid(20)),
    };
    let put = |key: &str, local: &std::path::Path| match early_uid {
        Some(_) => store.put_file_new_with(key, local, on_bytes),
        None => store.put_file_with(key, local, on_bytes),
    };
    let mut staged = Vec::new();
    let result = (|| -> Result<()> {
        if let Some(walk) = &plan.prepared.walk {
            for f in &walk.files {
                let key = format!("{base}/{}", f.rel);
                put(&key, &f.path)?;
                staged.push((key, f.rel.clone()));
            }
        } else {
            let key = format!("{base}{}", plan.prepared.suffix);
            put(&key, &plan.prepared.local)?;
            staged.push((key, String::new()));
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok((staged, early_uid)),
        Err(e) => {
            let keys: Vec<String> = staged.into_iter().map(|(k, _)| k).collect();
            remove_all(store, &keys);
            Err(e)
        }
    }
}

/// Every object the plans have staged (or uploaded to their final keys) so far.
fn staged_keys(plans: &[(usize, Plan)]) -> Vec<String> {
    plans
        .iter()
        .flat_map(|(_, p)| p.staged.iter().map(|(k, _)| k.clone()))
        .collect()
}

/// Best-effort removal of objects this save wrote.
pub(super) fn remove_all(store: &Store, keys: &[String]) {
    for k in keys {
        if let Err(e) = store.delete(k) {
            tracing::warn!(key = %k, error = %e, "cannot remove an object of a failed save");
        }
    }
}

/// Per plan the artifact found under the lock (if any), and the first plan of each hash.
type Rechecked = (
    Vec<Option<Outcome>>,
    std::collections::HashMap<String, usize>,
);

/// Round 1 of the locks (content hashes and keys), then the dedup check again under them:
/// another writer may have saved the same content meanwhile; within the batch, the first of
/// several equal contents is saved and the others return it. Returns each plan's existing
/// artifact, if any, and the first plan of each hash.
fn lock_and_recheck(
    conn: &mut lamella_schema::Conn<'_>,
    plans: &[(usize, Plan)],
) -> Result<Rechecked> {
    let mut names: Vec<String> = Vec::new();
    for (_, p) in plans.iter() {
        if p.dedup {
            names.push(format!("artifact-hash:{}", p.prepared.hash));
        }
        if let Some(k) = &p.record.key {
            names.push(key_lock(p.record.storage_id, k));
        }
    }
    conn.lock(&names)?;
    let hashes: Vec<String> = plans
        .iter()
        .filter(|(_, p)| p.dedup)
        .map(|(_, p)| p.prepared.hash.clone())
        .collect();
    let known: std::collections::HashMap<String, Artifact> =
        lamella_schema::load_where_in::<Artifact, _>(conn, "hash", &hashes)?
            .into_iter()
            .filter_map(|a| Some((a.hash.clone()?, a)))
            .collect();
    let mut first_of_hash: std::collections::HashMap<String, usize> = Default::default();
    let mut existing: Vec<Option<Outcome>> = Vec::with_capacity(plans.len());
    for (j, (_, p)) in plans.iter().enumerate() {
        if !p.dedup {
            existing.push(None);
            continue;
        }
        if let Some(a) = known.get(&p.prepared.hash) {
            if p.policy == DuplicatePolicy::Error {
                return Err(Error::Duplicate {
                    path: p.prepared.local.display().to_string(),
                    uid: a.uid.clone(),
                    hash: p.prepared.hash.clone(),
                });
            }
            existing.push(Some(Outcome::Existing(a.clone())));
        } else {
            first_of_hash.entry(p.prepared.hash.clone()).or_insert(j);
            existing.push(None);
        }
    }
    Ok((existing, first_of_hash))
}

/// Completes plans that revise an artifact: checks the revised artifacts exist and gives each
/// new version its family's key (and description, unless one is given).
fn inherit_from_revised(
    conn: &mut lamella_schema::Conn<'_>,
    plans: &mut [(usize, Plan)],
) -> Result<()> {
    // The artifacts that `revises` names (their uid and key never change).
    let revised_uids: Vec<String> = plans
        .iter()
        .filter_map(|(_, p)| p.revises.clone())
        .collect();
    let revised: std::collections::HashMap<String, Artifact> =
        lamella_schema::load_where_in::<Artifact, _>(conn, "uid", &revised_uids)?
            .into_iter()
            .map(|a| (a.uid.clone(), a))
            .collect();
    for uid in &revised_uids {
        if !revised.contains_key(uid) {
            return Err(Error::NotFound {
                suggestions: Vec::new(),
                registry: "Artifact",
                what: format!("uid '{uid}' (given as revises)"),
            });
        }
    }
    for (_, p) in plans.iter_mut() {
        if let Some(prev) = p.revises.as_ref().and_then(|u| revised.get(u)) {
            // All versions of a family share one key.
            if p.record.key.is_some() && p.record.key != prev.key {
                return Err(Error::Conflict {
                    message: format!(
                        "a new version of {} keeps its key {}: leave the key out, or give that \
                         key",
                        prev.uid,
                        prev.key
                            .as_deref()
                            .map_or("(none)".to_string(), |k| format!("'{k}'"))
                    ),
                });
            }
            if p.record.key.is_none() {
                p.record.key = prev.key.clone();
            }
            if p.record.description.is_none() {
                p.record.description = prev.description.clone();
            }
        }
    }
    Ok(())
}

/// Phase 4, inside one write transaction: locks, dedup again, uids and versions, rows,
/// promotion. Locks are taken in two rounds — content hashes and keys, then version
/// families — in sorted order, so two writers never wait for each other in a cycle.
pub(super) fn commit(
    conn: &mut lamella_schema::Conn<'_>,
    store: &Store,
    plans: &mut [(usize, Plan)],
    promoted: &mut Vec<String>,
) -> Result<Vec<Outcome>> {
    let t = now();
    inherit_from_revised(conn, plans)?;
    let (mut existing, first_of_hash) = lock_and_recheck(conn, plans)?;
    // The newest artifact of every key being saved to (one query; trash included, so a key
    // whose versions are all in the trash keeps its family).
    let keys: Vec<String> = plans
        .iter()
        .zip(&existing)
        .filter(|((_, p), e)| e.is_none() && p.revises.is_none())
        .filter_map(|((_, p), _)| p.record.key.clone())
        .collect();
    let mut by_key: std::collections::HashMap<(i64, String), Artifact> = Default::default();
    // The highest version number of each family seen among them: versions share their key,
    // so new versions of keyed families need no query of their own.
    let mut max_version: std::collections::HashMap<String, String> = Default::default();
    for a in lamella_schema::load_where_in::<Artifact, _>(conn, "key", &keys)? {
        let v = versioned(&a.uid)?;
        let top = max_version.entry(v.stem().to_string()).or_default();
        if v.version() > top.as_str() {
            *top = v.version().to_string();
        }
        let Some(k) = a.key.clone() else { continue };
        let slot = by_key.entry((a.storage_id, k)).or_insert_with(|| a.clone());
        if (a.is_latest, a.id) > (slot.is_latest, slot.id) {
            *slot = a;
        }
    }
    // Round 2: the version families that get a new version.
    let mut previous: Vec<Option<String>> = Vec::with_capacity(plans.len());
    for ((_, p), e) in plans.iter().zip(&existing) {
        let prev = if e.is_some() || is_later_duplicate(p, &first_of_hash, previous.len()) {
            None
        } else if let Some(u) = &p.revises {
            Some(versioned(u)?.stem().to_string())
        } else {
            p.record
                .key
                .as_ref()
                .and_then(|k| by_key.get(&(p.record.storage_id, k.clone())))
                .map(|a| versioned(&a.uid).map(|v| v.stem().to_string()))
                .transpose()?
        };
        previous.push(prev);
    }
    let families: Vec<String> = previous.iter().flatten().map(|s| family_lock(s)).collect();
    conn.lock(&families)?;
    // Uids: a new stem, or the family's next version; older versions stop being latest
    // before the new row is inserted (the database allows one latest per family and key).
    let mut next_in_family: std::collections::HashMap<String, String> = Default::default();
    let mut new_rows: Vec<Artifact> = Vec::new();
    let mut new_index: Vec<usize> = Vec::new();
    for (j, (_, p)) in plans.iter_mut().enumerate() {
        if existing[j].is_some() || is_later_duplicate(p, &first_of_hash, j) {
            continue;
        }
        p.record.uid = match &previous[j] {
            Some(stem) => {
                let exhausted = || Error::VersionsExhausted {
                    registry: "Artifact",
                    family: stem.clone(),
                };
                let next = match next_in_family.get(stem) {
                    Some(last) => VersionedUid::of(stem, last).next().ok_or_else(exhausted)?,
                    None if p.revises.is_none() && max_version.contains_key(stem) => {
                        VersionedUid::of(stem, &max_version[stem])
                            .next()
                            .ok_or_else(exhausted)?
                    }
                    None => crate::versions::next_version(&crate::versions::family::<Artifact>(
                        conn, stem,
                    )?)?,
                };
                next_in_family.insert(stem.clone(), next.version().to_string());
                lamella_schema::set_latest(conn, &registry::ARTIFACT, stem, None, t)?;
                next.into()
            }
            None => match p.early_uid.take() {
                Some(uid) => uid,
                None => crate::versions::new_family::<Artifact>().into(),
            },
        };
        new_rows.push(p.record.clone());
        new_index.push(j);
    }
    Artifact::insert_all(conn, &mut new_rows)?;
    // What AnnData files hold, kept with their rows (one statement).
    let mut shapes = Vec::new();
    for (row, &j) in new_rows.iter().zip(&new_index) {
        if let Some(info) = &plans[j].1.prepared.anndata {
            shapes.push(info.to_row(lamella_schema::require_id(row)?)?);
        }
    }
    lamella_schema::anndata::insert(conn, &shapes)?;
    failpoint("before-promote")?;
    {
        use rayon::prelude::*;
        let plans = &*plans;
        let promote_one = |(row, &j): (&Artifact, &usize)| {
            let mut keys = Vec::new();
            let r = promote(store, &plans[j].1, &row.uid, &mut keys);
            (keys, r)
        };
        // Object stores: many moves in flight. Local folders: one after the other — links
        // into one folder take its lock, and parallel movers only wait for each other. (One
        // artifact needs no pool of threads.)
        let moved: Vec<(Vec<String>, Result<()>)> =
            if store.kind() == lamella_storage::StoreKind::Local || new_rows.len() <= 1 {
                new_rows.iter().zip(&new_index).map(promote_one).collect()
            } else {
                on_object_pool(store, || {
                    new_rows
                        .par_iter()
                        .zip(new_index.par_iter())
                        .map(promote_one)
                        .collect()
                })
            };
        let mut first_err = None;
        for (keys, r) in moved {
            promoted.extend(keys);
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
    }
    failpoint("after-promote")?;
    // Outcomes in plan order; later duplicates within the batch return the first's record.
    let mut saved: std::collections::HashMap<usize, Artifact> =
        new_index.iter().copied().zip(new_rows).collect();
    let mut outcomes = Vec::with_capacity(plans.len());
    for (j, (_, p)) in plans.iter().enumerate() {
        outcomes.push(match existing[j].take() {
            Some(o) => o,
            None => {
                match saved.remove(&j) {
                    Some(r) => Outcome::Saved(r),
                    None => {
                        let first = first_of_hash[&p.prepared.hash];
                        Outcome::Existing(outcomes_record(&outcomes, first).ok_or_else(|| {
                            Error::Internal("a duplicate lost its original".into())
                        })?)
                    }
                }
            }
        });
    }
    Ok(outcomes)
}

/// Whether plan `j` repeats the content of an earlier plan of the same batch.
pub(super) fn is_later_duplicate(
    p: &Plan,
    first_of_hash: &std::collections::HashMap<String, usize>,
    j: usize,
) -> bool {
    p.dedup
        && first_of_hash
            .get(&p.prepared.hash)
            .is_some_and(|&first| first != j)
}

pub(super) fn outcomes_record(outcomes: &[Outcome], i: usize) -> Option<Artifact> {
    match outcomes.get(i)? {
        Outcome::Saved(a) | Outcome::Existing(a) => Some(a.clone()),
    }
}

/// Moves a plan's staged objects to `.lamella/<uid>…` without replacing anything. The uid was
/// just allocated under the lock and no row has it, so an object already there is a leftover
/// of a save that crashed after promoting: it is removed first (a folder's whole prefix, so no
/// stale file joins the new folder).
pub(super) fn promote(
    store: &Store,
    p: &Plan,
    uid: &str,
    promoted: &mut Vec<String>,
) -> Result<()> {
    // Uploaded to its final place under this very uid: nothing to move.
    if p.staged.iter().all(|(k, rel)| *k == final_key(p, uid, rel)) {
        promoted.extend(p.staged.iter().map(|(k, _)| k.clone()));
        return Ok(());
    }
    if p.prepared.is_dir {
        let prefix = format!("{LAMELLA_DIR}/{uid}");
        let stale = store.list(&prefix)?;
        if !stale.is_empty() {
            tracing::warn!(uid, n = stale.len(), "removing leftovers of a crashed save");
            for o in stale {
                store.delete(&o.key)?;
            }
        }
    }
    for (staging, rel) in &p.staged {
        let fin = final_key(p, uid, rel);
        match store.rename_new(staging, &fin) {
            Ok(()) => {}
            Err(lamella_storage::Error::AlreadyExists { .. }) if !p.prepared.is_dir => {
                tracing::warn!(uid, key = %fin, "removing the leftover of a crashed save");
                store.delete(&fin)?;
                store.rename_new(staging, &fin)?;
            }
            Err(e) => return Err(e.into()),
        }
        // The staging key is gone with the move: listed so the cleanup does not delete it
        // again (a request per object on S3); deleting it after a failure finds nothing.
        promoted.push(staging.clone());
        promoted.push(fin);
    }
    Ok(())
}

/// Where a plan's object (a folder's file at `rel`) lives once saved under `uid`.
fn final_key(p: &Plan, uid: &str, rel: &str) -> String {
    if p.prepared.is_dir {
        format!("{LAMELLA_DIR}/{uid}/{rel}")
    } else {
        format!("{LAMELLA_DIR}/{uid}{}", p.prepared.suffix)
    }
}

/// Runs `work` (parallel object requests) on the object pool when `store` is remote: object
/// stores answer in milliseconds of latency, not CPU, so more requests than cores are in
/// flight; local stores use the cores' pool.
pub(crate) fn on_object_pool<T: Send>(store: &Store, work: impl FnOnce() -> T + Send) -> T {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    if store.kind() == lamella_storage::StoreKind::Local {
        return work();
    }
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(OBJECT_REQUESTS)
            .thread_name(|i| format!("lamella-objects-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Object requests in flight at once on a remote store.
const OBJECT_REQUESTS: usize = 16;
