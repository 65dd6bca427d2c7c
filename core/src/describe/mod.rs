//! `describe()`: everything known about an artifact — the record, its provenance, its feature
//! sets per slot and its labels per registry — as one value that the text layout (LaminDB's)
//! and `--json` both render.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use lamella_schema::{
    Artifact, Collection, Feature, FeatureSet, Run, Storage, Transform, ULabel, User,
};
use serde::Serialize;

use crate::artifact::Artifacts;
use crate::error::Result;

/// What `describe()` knows about an artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Description {
    /// The record.
    #[serde(rename = "record")]
    pub artifact: Artifact,
    /// Where its object lives (a local path or a URL).
    pub path: String,
    /// Where it came from.
    pub provenance: Provenance,
    /// Its feature sets by slot (`columns`, `external`, …); empty when none is linked.
    pub features: BTreeMap<String, SlotFeatures>,
    /// Its labels by registry (`ulabels`); empty when none is linked.
    pub labels: BTreeMap<String, Vec<ULabel>>,
    /// The saved schema version it passed when it was curated, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<crate::SchemaRef>,
    /// What an AnnData artifact holds (shape, `X`, `obs`/`var` columns, keys), when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anndata: Option<crate::AnnDataInfo>,
}

/// What `describe()` knows about a collection.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionDescription {
    /// The record.
    #[serde(rename = "record")]
    pub collection: Collection,
    /// Its members, in order.
    pub artifacts: Vec<Artifact>,
    /// Where it came from (`storage` is none: a collection's objects are its members').
    pub provenance: Provenance,
    /// Its feature sets by slot (the union of its members' sets per slot).
    pub features: BTreeMap<String, SlotFeatures>,
    /// Its labels by registry.
    pub labels: BTreeMap<String, Vec<ULabel>>,
}

/// Where a record came from.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// The storage location holding it (artifacts only).
    pub storage: Option<Storage>,
    /// Who saved it.
    pub created_by: Option<User>,
    /// The transform that produced it, if it was saved in a tracked run.
    pub transform: Option<Transform>,
    /// The run that produced it.
    pub run: Option<Run>,
    /// The artifacts that run used as inputs.
    pub inputs: Vec<Artifact>,
    /// The collections that run used as inputs.
    pub input_collections: Vec<lamella_schema::Collection>,
}

/// One slot's feature set and its members.
#[derive(Debug, Clone, Serialize)]
pub struct SlotFeatures {
    /// The feature set.
    pub feature_set: FeatureSet,
    /// Its features, each with the labels linked to the artifact through it.
    pub features: Vec<DescribedFeature>,
}

/// A feature of a slot, with the labels the artifact has through it.
#[derive(Debug, Clone, Serialize)]
pub struct DescribedFeature {
    /// The feature.
    pub feature: Feature,
    /// Labels linked to the artifact through this feature.
    pub labels: Vec<ULabel>,
    /// The feature's values on the record (non-categorical features), when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<crate::FeatureValue>,
}

impl Artifacts {
    /// What is known about the artifact: its fields, provenance, feature sets per slot and
    /// labels per registry, in a fixed number of queries however heavily it is annotated.
    /// `to_string()` lays it out like LaminDB's `describe()`.
    pub fn describe(&self, a: &Artifact) -> Result<Description> {
        let id = lamella_schema::require_id(a)?;
        let storage = self.storage_of(a)?;
        let path = self.location(a)?;
        let mut provenance = provenance(&self.ln, a.created_by_id, a.transform_id, a.run_id)?;
        provenance.storage = Some(storage);
        let (features, labels) = annotations(&self.ln, lamella_schema::links::Owner::Artifact(id))?;
        let schema = self
            .ln
            .db()
            .with_conn(|c| lamella_schema::schemas::artifact_schema(c, id))?
            .map(|r| crate::SchemaRef::of(&r));
        let anndata = crate::AnnDataInfo::of_artifact(&self.ln, id)?;
        Ok(Description {
            artifact: a.clone(),
            path,
            provenance,
            features,
            labels,
            schema,
            anndata,
        })
    }
}

impl crate::Collections {
    /// What is known about the collection: its fields, members, provenance, feature sets per
    /// slot and labels, in a fixed number of queries. `to_string()` lays it out like an
    /// artifact's description.
    pub fn describe(&self, c: &Collection) -> Result<CollectionDescription> {
        let id = lamella_schema::require_id(c)?;
        let artifacts = self.artifacts(c)?;
        let provenance = provenance(&self.ln, c.created_by_id, c.transform_id, c.run_id)?;
        let (features, labels) =
            annotations(&self.ln, lamella_schema::links::Owner::Collection(id))?;
        Ok(CollectionDescription {
            collection: c.clone(),
            artifacts,
            provenance,
            features,
            labels,
        })
    }
}

/// Who made a record and from what: creator, transform, run and the run's inputs (four
/// statements).
fn provenance(
    ln: &crate::Instance,
    created_by: i64,
    transform: Option<i64>,
    run: Option<i64>,
) -> Result<Provenance> {
    let created_by = ln.query::<User>().filter("id", created_by).one_or_none()?;
    let transform = match transform {
        Some(t) => ln.query::<Transform>().filter("id", t).one_or_none()?,
        None => None,
    };
    let run_record = match run {
        Some(r) => ln.query::<Run>().filter("id", r).one_or_none()?,
        None => None,
    };
    let (inputs, input_collections) = match run {
        Some(r) => ln.db().with_conn(|c| {
            let (ids, cids) = lamella_schema::links::run_inputs(c, r)?;
            Ok::<_, lamella_schema::Error>((
                lamella_schema::load_by_ids::<Artifact>(c, &ids)?,
                lamella_schema::load_by_ids::<Collection>(c, &cids)?,
            ))
        })?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(Provenance {
        storage: None,
        created_by,
        transform,
        run: run_record,
        inputs,
        input_collections,
    })
}

/// A record's feature sets per slot (their members, each with the labels linked through it)
/// and its labels per registry, in five statements.
#[allow(clippy::type_complexity)]
pub(crate) fn annotations(
    ln: &crate::Instance,
    owner: lamella_schema::links::Owner,
) -> Result<(
    BTreeMap<String, SlotFeatures>,
    BTreeMap<String, Vec<ULabel>>,
)> {
    let (slots, members, links, values) = ln.db().with_conn(|c| {
        let slots = lamella_schema::links::slots(c, owner)?;
        let set_ids: Vec<i64> = slots.iter().map(|(_, s)| *s).collect();
        let members = lamella_schema::feature_set_members(c, &set_ids)?;
        let links = lamella_schema::links::label_links(c, owner)?;
        let (lamella_schema::links::Owner::Artifact(id)
        | lamella_schema::links::Owner::Collection(id)) = owner;
        let values = lamella_schema::values::owner_values(c, owner, &[id])?;
        Ok::<_, lamella_schema::Error>((slots, members, links, values))
    })?;
    let set_ids: Vec<i64> = slots.iter().map(|(_, s)| *s).collect();
    let mut feature_ids: Vec<i64> = members.iter().map(|(_, f)| *f).collect();
    feature_ids.extend(links.iter().filter_map(|(_, f)| *f));
    feature_ids.extend(values.iter().map(|v| v.1));
    feature_ids.sort_unstable();
    feature_ids.dedup();
    let mut label_ids: Vec<i64> = links.iter().map(|(l, _)| *l).collect();
    label_ids.sort_unstable();
    label_ids.dedup();
    let (sets, features, labels) = ln.db().with_conn(|c| {
        let sets: Vec<FeatureSet> = lamella_schema::load_by_ids(c, &set_ids)?;
        let features: Vec<Feature> = lamella_schema::load_by_ids(c, &feature_ids)?;
        let labels: Vec<ULabel> = lamella_schema::load_by_ids(c, &label_ids)?;
        Ok::<_, lamella_schema::Error>((sets, features, labels))
    })?;
    let sets: HashMap<i64, FeatureSet> =
        sets.into_iter().filter_map(|s| Some((s.id?, s))).collect();
    let features: HashMap<i64, Feature> = features
        .into_iter()
        .filter_map(|f| Some((f.id?, f)))
        .collect();
    let labels_by_id: HashMap<i64, ULabel> = labels
        .into_iter()
        .filter_map(|l| Some((l.id?, l)))
        .collect();
    let mut values_of: HashMap<i64, Vec<crate::FeatureValue>> = HashMap::new();
    for (_, fid, text, num, ts) in &values {
        if let Some(f) = features.get(fid) {
            values_of
                .entry(*fid)
                .or_default()
                .push(crate::annotate::decode(&f.dtype, text, *num, *ts));
        }
    }
    let mut through: HashMap<i64, Vec<ULabel>> = HashMap::new();
    let mut all_labels = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (l, f) in &links {
        let Some(label) = labels_by_id.get(l) else {
            continue;
        };
        if let Some(f) = f {
            through.entry(*f).or_default().push(label.clone());
        }
        if seen.insert(*l) {
            all_labels.push(label.clone());
        }
    }
    let mut by_slot = BTreeMap::new();
    for (slot, set_id) in slots {
        let Some(set) = sets.get(&set_id) else {
            continue;
        };
        let features = members
            .iter()
            .filter(|(s, _)| *s == set_id)
            .filter_map(|(_, f)| features.get(f))
            .map(|f| DescribedFeature {
                feature: f.clone(),
                labels: f
                    .id
                    .and_then(|i| through.get(&i).cloned())
                    .unwrap_or_default(),
                value: f
                    .id
                    .and_then(|i| values_of.get(&i).cloned())
                    .map(|vs| crate::annotate::collect_values(&f.dtype, vs)),
            })
            .collect();
        by_slot.insert(
            slot,
            SlotFeatures {
                feature_set: set.clone(),
                features,
            },
        );
    }
    let mut labels = BTreeMap::new();
    if !all_labels.is_empty() {
        labels.insert("ulabels".to_string(), all_labels);
    }
    Ok((by_slot, labels))
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn quoted(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|x| format!("'{x}'"))
}

fn utc(t: &chrono::NaiveDateTime) -> String {
    format!("{} UTC", t.format("%Y-%m-%d %H:%M:%S"))
}

fn quote_names<'n>(names: impl Iterator<Item = &'n str>) -> String {
    names
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `  📎 inputs (N, REGISTRY): 'a', 'b', … k more` (the first five named), nothing when empty.
fn inputs_line<T>(
    f: &mut fmt::Formatter<'_>,
    registry: &str,
    inputs: &[T],
    name: impl Fn(&T) -> String,
) -> fmt::Result {
    if inputs.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = inputs.iter().take(5).map(name).collect();
    let more = inputs.len().saturating_sub(5);
    writeln!(
        f,
        "  📎 inputs ({}, {registry}): {}{}",
        inputs.len(),
        shown.join(", "),
        if more > 0 {
            format!(", … {more} more")
        } else {
            String::new()
        }
    )
}

impl fmt::Display for Description {
    /// LaminDB's layout: the record, then Provenance, Features (per slot) and Labels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.artifact;
        let mut fields = vec![format!("uid='{}'", a.uid)];
        let opt = [
            ("key", quoted(&a.key)),
            ("suffix", Some(format!("'{}'", a.suffix))),
            ("accessor", quoted(&a.accessor)),
            ("description", quoted(&a.description)),
            ("version", quoted(&a.version)),
            ("size", a.size.map(|v| v.to_string())),
            ("hash", quoted(&a.hash)),
            ("hash_type", a.hash_type.map(|h| format!("'{h}'"))),
            ("n_objects", a.n_objects.map(|v| v.to_string())),
            ("n_observations", a.n_observations.map(|v| v.to_string())),
            ("is_latest", Some(py_bool(a.is_latest).to_string())),
            ("visibility", Some(a.visibility.to_string())),
            (
                "key_is_virtual",
                Some(py_bool(a.key_is_virtual).to_string()),
            ),
            ("created_at", Some(utc(&a.created_at))),
        ];
        for (k, v) in opt {
            if let Some(v) = v {
                fields.push(format!("{k}={v}"));
            }
        }
        writeln!(f, "Artifact({})", fields.join(", "))?;
        writeln!(f)?;
        if let Some(d) = &self.anndata {
            write!(f, "{d}")?;
        }
        write!(f, "{}", ProvenanceView(&self.provenance))?;
        if let Some(s) = &self.schema {
            writeln!(
                f,
                "Schema: '{}' (version {}, uid {}), which it passed",
                s.name, s.version, s.uid
            )?;
        }
        write!(f, "{}", FeaturesView(&self.features))?;
        write!(f, "{}", LabelsView(&self.labels))
    }
}

/// The `Provenance:` section of a description.
struct ProvenanceView<'a>(&'a Provenance);

impl fmt::Display for ProvenanceView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        writeln!(f, "Provenance:")?;
        if let Some(s) = &p.storage {
            writeln!(
                f,
                "  📎 storage: Storage(uid='{}', root='{}', type='{}')",
                s.uid, s.root, s.kind
            )?;
        }
        if let Some(u) = &p.created_by {
            writeln!(
                f,
                "  📎 created_by: User(uid='{}', handle='{}')",
                u.uid, u.handle
            )?;
        }
        if let Some(t) = &p.transform {
            writeln!(
                f,
                "  📎 transform: Transform(uid='{}', name='{}', type='{}')",
                t.uid, t.name, t.kind
            )?;
        }
        if let Some(r) = &p.run {
            writeln!(
                f,
                "  📎 run: Run(uid='{}', started_at={})",
                r.uid,
                utc(&r.started_at)
            )?;
        }
        inputs_line(f, "Artifact", &p.inputs, |a| {
            format!(
                "'{}'",
                a.key
                    .as_deref()
                    .or(a.description.as_deref())
                    .unwrap_or(&a.uid)
            )
        })?;
        inputs_line(f, "Collection", &p.input_collections, |c| {
            match &c.version {
                Some(v) => format!("'{}' (version {v})", c.name),
                None => format!("'{}'", c.name),
            }
        })
    }
}

/// The `Labels:` section of a description.
struct LabelsView<'a>(&'a BTreeMap<String, Vec<ULabel>>);

impl fmt::Display for LabelsView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        writeln!(f, "Labels:")?;
        for (registry, labels) in self.0 {
            writeln!(
                f,
                "  📎 {registry} ({}, ULabel): {}",
                labels.len(),
                quote_names(labels.iter().map(|l| l.name.as_str()))
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for CollectionDescription {
    /// The record, its members (the first ten by key), Provenance, Features and Labels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.collection;
        let mut fields = vec![format!("uid='{}'", c.uid), format!("name='{}'", c.name)];
        let opt = [
            ("description", quoted(&c.description)),
            ("version", quoted(&c.version)),
            ("hash", quoted(&c.hash)),
            ("is_latest", Some(py_bool(c.is_latest).to_string())),
            ("visibility", Some(c.visibility.to_string())),
            ("created_at", Some(utc(&c.created_at))),
        ];
        for (k, v) in opt {
            if let Some(v) = v {
                fields.push(format!("{k}={v}"));
            }
        }
        writeln!(f, "Collection({})", fields.join(", "))?;
        writeln!(f)?;
        writeln!(f, "Artifacts ({}):", self.artifacts.len())?;
        for a in self.artifacts.iter().take(10) {
            writeln!(
                f,
                "  {} {}",
                a.uid,
                a.key
                    .as_deref()
                    .or(a.description.as_deref())
                    .map(|k| format!("'{k}'"))
                    .unwrap_or_default()
            )?;
        }
        if self.artifacts.len() > 10 {
            writeln!(f, "  … {} more", self.artifacts.len() - 10)?;
        }
        write!(f, "{}", ProvenanceView(&self.provenance))?;
        write!(f, "{}", FeaturesView(&self.features))?;
        write!(f, "{}", LabelsView(&self.labels))
    }
}

/// The `Features:` section of [`Description`]: LaminDB's `artifact.features` (the `external`
/// slot first, then the others by name; categorical features with their labels).
pub struct FeaturesView<'a>(pub &'a BTreeMap<String, SlotFeatures>);

/// Features of a slot listed in full up to this many; a larger slot shows its first half.
const LISTED_FEATURES: usize = 40;

impl fmt::Display for FeaturesView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        writeln!(f, "Features:")?;
        let mut slots: Vec<(&String, &SlotFeatures)> = self.0.iter().collect();
        slots.sort_by_key(|(slot, _)| (slot.as_str() != "external", slot.as_str()));
        for (slot, s) in slots {
            writeln!(
                f,
                "  {slot}: FeatureSet(uid='{}', n={}, registry='{}')",
                s.feature_set.uid, s.feature_set.n, s.feature_set.registry
            )?;
            // A gene panel (thousands of features) is shown by its first members.
            let shown = if s.features.len() > LISTED_FEATURES {
                LISTED_FEATURES / 2
            } else {
                s.features.len()
            };
            for d in &s.features[..shown] {
                if let Some(v) = &d.value {
                    writeln!(f, "    {} ({}): {v}", d.feature.name, d.feature.dtype)?;
                } else if d.labels.is_empty() {
                    writeln!(f, "    {} ({})", d.feature.name, d.feature.dtype)?;
                } else {
                    writeln!(
                        f,
                        "    🔗 {} ({}, {}): {}",
                        d.feature.name,
                        d.labels.len(),
                        d.feature.dtype,
                        quote_names(d.labels.iter().map(|l| l.name.as_str()))
                    )?;
                }
            }
            if shown < s.features.len() {
                writeln!(f, "    … and {} more", s.features.len() - shown)?;
            }
        }
        Ok(())
    }
}
