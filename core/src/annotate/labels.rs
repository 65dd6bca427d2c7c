//! `artifact.labels.add(labels, feature)`: labels linked to an artifact or a collection, each
//! through a feature, with LaminDB's side effects (SPEC §5): the feature's dtype widens from
//! `cat` to `cat[ULabel]`, and a feature not yet in one of the record's feature sets joins
//! its `external` set, which is rebuilt (deduplicated by its members).

use std::collections::HashSet;

use lamella_schema::links::{self, Owner};
use lamella_schema::{
    Artifact, Collection, Conn, Feature, FeatureSet, Hierarchy, Store as _, ULabel, require_id,
};
use serde::Serialize;

use super::feature_sets::save_set;
use crate::artifact::Artifacts;
use crate::error::{Error, Result};
use crate::instance::Instance;

/// The labels of one artifact or collection: `ln.artifacts().labels(&artifact)`.
#[derive(Debug, Clone)]
pub struct Labels {
    ln: Instance,
    owner: Owner,
    what: &'static str,
}

/// What `Labels::add` did.
#[derive(Debug, Clone, Serialize)]
pub struct LabelsAdded {
    /// Links that are new (links that existed are kept and not counted).
    pub linked: usize,
    /// The feature as it is now (its dtype widened to `cat[ULabel]` if it was `cat`).
    pub feature: Option<Feature>,
    /// The record's `external` feature set, when the feature joined it.
    pub external: Option<FeatureSet>,
    /// What changed besides the links, in LaminDB's words.
    pub notes: Vec<String>,
}

impl Artifacts {
    /// The labels of an artifact, to add to (`labels(&a).add(&labels, Some(&feature))`).
    pub fn labels(&self, a: &Artifact) -> Result<Labels> {
        Ok(Labels {
            ln: self.ln.clone(),
            owner: Owner::Artifact(require_id(a)?),
            what: "artifact",
        })
    }
}

impl crate::Collections {
    /// The labels of a collection, to add to (`labels(&c).add(&labels, Some(&feature))`).
    pub fn labels(&self, c: &Collection) -> Result<Labels> {
        Ok(Labels {
            ln: self.ln.clone(),
            owner: Owner::Collection(require_id(c)?),
            what: "collection",
        })
    }
}

/// [`Labels::add`] inside an open transaction (`ids`: the labels' ids, distinct).
pub(crate) fn add_in(
    conn: &mut Conn<'_>,
    owner: Owner,
    ids: &[i64],
    feature: Option<&Feature>,
    user: i64,
) -> Result<LabelsAdded> {
    lock_owner(conn, owner)?;
    let mut notes = Vec::new();
    let Some(feature) = feature else {
        let rows: Vec<(i64, Option<i64>)> = ids.iter().map(|l| (*l, None)).collect();
        let linked = links::link_ulabels(conn, owner, &rows, user, true)?;
        return Ok(LabelsAdded {
            linked,
            feature: None,
            external: None,
            notes,
        });
    };
    let fid = require_id(feature)?;
    let stored: Vec<Feature> = lamella_schema::load_by_ids(conn, &[fid])?;
    let mut feature = stored.into_iter().next().ok_or_else(|| Error::NotFound {
        suggestions: Vec::new(),
        registry: "Feature",
        what: format!("'{}' (deleted?)", feature.name),
    })?;
    widen(conn, &mut feature, &mut notes)?;
    check_branch(conn, &feature, ids)?;
    let rows: Vec<(i64, Option<i64>)> = ids.iter().map(|l| (*l, Some(fid))).collect();
    let linked = links::link_ulabels(conn, owner, &rows, user, true)?;
    let external = join_external(conn, owner, &feature, user, &mut notes)?;
    Ok(LabelsAdded {
        linked,
        feature: Some(feature),
        external,
        notes,
    })
}

/// Serialises annotation of one record (labels, feature sets) across processes; taken before
/// any feature-set lock.
pub(crate) fn lock_owner(conn: &mut Conn<'_>, owner: Owner) -> Result<()> {
    let (Owner::Artifact(id) | Owner::Collection(id)) = owner;
    Ok(links::lock_owners(conn, owner, &[id])?)
}

impl Labels {
    /// Links `labels`, through `feature` when given, in one transaction and a handful of
    /// statements however many labels there are. With a feature:
    /// - the feature must be categorical; `cat` widens to `cat[ULabel]`;
    /// - under `cat[ULabel[NAME]]` every label must descend from `NAME` (else nothing is
    ///   linked and the error names the labels outside the branch);
    /// - a feature that is in none of the record's feature sets joins its `external` set
    ///   (the set with the same members is reused; the old one is deleted when nothing else
    ///   uses it).
    pub fn add(&self, labels: &[ULabel], feature: Option<&Feature>) -> Result<LabelsAdded> {
        let mut ids = labels
            .iter()
            .map(|l| require_id(l).map_err(Error::from))
            .collect::<Result<Vec<i64>>>()?;
        ids.sort_unstable();
        ids.dedup();
        let user = self.ln.user_id();
        let owner = self.owner;
        let added = self
            .ln
            .db()
            .transaction(|conn| add_in(conn, owner, &ids, feature, user))?;
        let table = match owner {
            Owner::Artifact(_) => "lamella_artifact_ulabels",
            Owner::Collection(_) => "lamella_collection_ulabels",
        };
        self.ln
            .db()
            .with_conn(|c| lamella_schema::analyze_grown(c, &[(table, added.linked)]))?;
        Ok(added)
    }

    /// Unlinks `labels` from the record — only their links through `feature` when given,
    /// else every link of theirs. A feature left without labels or values leaves the record's
    /// `external` feature set. Returns how many links were removed; a label that is not linked
    /// is an error naming it.
    pub fn remove(&self, labels: &[ULabel], feature: Option<&Feature>) -> Result<usize> {
        let mut ids = labels
            .iter()
            .map(|l| require_id(l).map_err(Error::from))
            .collect::<Result<Vec<i64>>>()?;
        ids.sort_unstable();
        ids.dedup();
        let fid = feature.map(require_id).transpose()?;
        let owner = self.owner;
        let user = self.ln.user_id();
        let linked = self.all(feature)?;
        if let Some(missing) = labels.iter().find(|l| !linked.iter().any(|k| k.id == l.id)) {
            return Err(Error::Annotation {
                feature: feature.map(|f| f.name.clone()),
                message: format!(
                    "label '{}' is not linked to this {}{}: nothing removed",
                    missing.name,
                    self.what,
                    feature
                        .map(|f| format!(" through feature '{}'", f.name))
                        .unwrap_or_default()
                ),
            });
        }
        self.ln.db().transaction(|conn| {
            lock_owner(conn, owner)?;
            let before = links::label_links(conn, owner)?;
            let n = lamella_schema::values::unlink_labels(conn, owner, fid, Some(&ids))?;
            let mut touched: Vec<i64> = before
                .iter()
                .filter(|(l, f)| ids.contains(l) && (fid.is_none() || *f == fid))
                .filter_map(|(_, f)| *f)
                .collect();
            touched.sort_unstable();
            touched.dedup();
            for f in touched {
                super::values::leave_external(conn, owner, f, user)?;
            }
            Ok(n)
        })
    }

    /// The labels linked to the record, each once, in link order; through `feature` only
    /// when given.
    pub fn all(&self, feature: Option<&Feature>) -> Result<Vec<ULabel>> {
        let fid = feature.map(require_id).transpose()?;
        let owner = self.owner;
        self.ln.db().with_conn(|conn| {
            let mut seen = HashSet::new();
            let ids: Vec<i64> = links::label_links(conn, owner)?
                .into_iter()
                .filter(|(_, f)| fid.is_none() || *f == fid)
                .map(|(l, _)| l)
                .filter(|l| seen.insert(*l))
                .collect();
            let labels: Vec<ULabel> = lamella_schema::load_by_ids(conn, &ids)?;
            let mut by_id: std::collections::HashMap<i64, ULabel> = labels
                .into_iter()
                .filter_map(|l| Some((l.id?, l)))
                .collect();
            Ok(ids.iter().filter_map(|i| by_id.remove(i)).collect())
        })
    }

    /// `artifact` or `collection`, for messages.
    pub fn kind(&self) -> &'static str {
        self.what
    }
}

/// Widens `cat` to `cat[ULabel]` (`list[cat]` to `list[cat[ULabel]]`, stored); refuses
/// features that are not categorical.
pub(crate) fn widen(
    conn: &mut Conn<'_>,
    feature: &mut Feature,
    notes: &mut Vec<String>,
) -> Result<()> {
    if !(feature.dtype.is_categorical() || feature.dtype.is_categorical_list()) {
        return Err(Error::Annotation {
            feature: Some(feature.name.clone()),
            message: format!(
                "feature '{}' has dtype '{}': labels go with categorical features; link them \
                 without a feature or use a feature with dtype cat",
                feature.name, feature.dtype
            ),
        });
    }
    let widened = feature.dtype.with_registry("ULabel");
    if widened != feature.dtype {
        feature.dtype = widened;
        feature.updated_at = lamella_schema::now();
        Feature::update(conn, feature)?;
        notes.push(format!(
            "linked feature '{}' to registry 'ULabel'",
            feature.name
        ));
    }
    Ok(())
}

/// Under `cat[ULabel[NAME]]`, every label must descend from `NAME` (checked inside the
/// transaction, on the ids, so a hierarchy changed meanwhile is seen).
pub(crate) fn check_branch(conn: &mut Conn<'_>, feature: &Feature, ids: &[i64]) -> Result<()> {
    let branches: Vec<&str> = feature
        .dtype
        .categories()
        .into_iter()
        .filter(|(r, _)| *r == "ULabel")
        .filter_map(|(_, b)| b)
        .collect();
    if branches.is_empty() || ids.is_empty() {
        return Ok(());
    }
    let allowed = branch_members(conn, &branches)?;
    let outside: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|i| !allowed.contains(i))
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    let mut names: Vec<String> = lamella_schema::load_by_ids::<ULabel>(conn, &outside)?
        .into_iter()
        .map(|l| format!("'{}'", l.name))
        .collect();
    names.sort();
    let more = names.len().saturating_sub(10);
    names.truncate(10);
    Err(Error::Annotation {
        feature: Some(feature.name.clone()),
        message: format!(
            "feature '{}' takes only labels under {}: {}{} {} not; add {} as a child of '{}' or \
         use another feature",
            feature.name,
            branches
                .iter()
                .map(|b| format!("'{b}'"))
                .collect::<Vec<_>>()
                .join(" or "),
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            if outside.len() == 1 { "is" } else { "are" },
            if outside.len() == 1 { "it" } else { "them" },
            branches[0]
        ),
    })
}

/// The ids of the labels that descend (at any depth) from the labels named `branches`.
pub(crate) fn branch_members(conn: &mut Conn<'_>, branches: &[&str]) -> Result<HashSet<i64>> {
    let names: Vec<String> = branches.iter().map(|b| b.to_string()).collect();
    let roots: Vec<ULabel> = lamella_schema::load_where_in(conn, "name", &names)?;
    if let Some(missing) = names.iter().find(|n| !roots.iter().any(|r| &r.name == *n)) {
        return Err(Error::NotFound {
            suggestions: Vec::new(),
            registry: "ULabel",
            what: format!(
                "'{missing}', the label a feature's dtype cat[ULabel[{missing}]] draws from: \
                 create it, or change the feature's dtype"
            ),
        });
    }
    let mut allowed = HashSet::new();
    for r in &roots {
        allowed.extend(lamella_schema::descendant_ids(
            conn,
            Hierarchy::ULabel,
            require_id(r)?,
        )?);
    }
    Ok(allowed)
}

/// Puts `feature` into the record's `external` feature set unless one of its sets has it.
fn join_external(
    conn: &mut Conn<'_>,
    owner: Owner,
    feature: &Feature,
    user: i64,
    notes: &mut Vec<String>,
) -> Result<Option<FeatureSet>> {
    let fid = require_id(feature)?;
    let slots = links::slots(conn, owner)?;
    let set_ids: Vec<i64> = slots.iter().map(|(_, s)| *s).collect();
    let members = lamella_schema::feature_set_members(conn, &set_ids)?;
    if members.iter().any(|(_, f)| *f == fid) {
        return Ok(None);
    }
    let old = slots.iter().find(|(s, _)| s == "external").map(|(_, s)| *s);
    let mut ids: Vec<i64> = members
        .iter()
        .filter(|(s, _)| Some(*s) == old)
        .map(|(_, f)| *f)
        .collect();
    ids.push(fid);
    let mut features: Vec<Feature> = lamella_schema::load_by_ids(conn, &ids)?;
    features.sort_by_key(|f| f.id);
    let set = save_set(conn, &features, user)?;
    let shown = format!(
        "FeatureSet(uid='{}', n={}, registry='{}', hash='{}')",
        set.record.uid, set.record.n, set.record.registry, set.record.hash
    );
    if set.existed {
        notes.push(format!("loaded: {shown}"));
    }
    notes.push(format!(
        "linked new feature '{}' together with {}feature set {shown}",
        feature.name,
        if set.existed { "" } else { "new " }
    ));
    let sid = require_id(&set.record)?;
    if let Some(previous) = links::set_slot(conn, owner, "external", sid)? {
        links::delete_feature_set_if_unused(conn, previous)?;
    }
    Ok(Some(set.record))
}
