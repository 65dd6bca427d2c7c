//! Feature values on artifacts and collections (SPEC §5.2): `features(&a).add_values(map)`,
//! `set_values`, `remove_values`, `get_values`. Non-categorical features take typed values
//! (stored once per feature and value, linked); categorical features take label names and
//! link those labels through the feature. Either way the feature joins the record's
//! `external` feature set unless one of its sets has it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use lamella_schema::links::{self, Owner};
use lamella_schema::values::{self as sv, StoredValue};
use lamella_schema::{Artifact, Collection, Conn, Dtype, Feature, FeatureSet, ULabel, Value};
use serde::{Serialize, Serializer};

use super::feature_sets::save_set;
use crate::artifact::Artifacts;
use crate::describe::SlotFeatures;
use crate::error::{Error, Result};
use crate::instance::Instance;

/// A feature value as read back, typed by its feature's dtype. Categorical features give
/// their labels' names.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// Text, or a label's name.
    Str(String),
    /// A calendar date.
    Date(NaiveDate),
    /// A point in time, UTC.
    Datetime(DateTime<Utc>),
    /// Several values: a `list[…]` feature, or several labels or values of one feature.
    List(Vec<FeatureValue>),
}

impl fmt::Display for FeatureValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureValue::Bool(b) => write!(f, "{b}"),
            FeatureValue::Int(i) => write!(f, "{i}"),
            FeatureValue::Float(x) => write!(f, "{x}"),
            FeatureValue::Str(s) => write!(f, "{s}"),
            FeatureValue::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            FeatureValue::Datetime(t) => write!(f, "{}", sv::datetime_text(&t.naive_utc())),
            FeatureValue::List(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
        }
    }
}

impl Serialize for FeatureValue {
    /// Numbers, booleans and text as JSON scalars, dates and datetimes as ISO 8601 strings,
    /// lists as arrays.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            FeatureValue::Bool(b) => s.serialize_bool(*b),
            FeatureValue::Int(i) => s.serialize_i64(*i),
            FeatureValue::Float(x) => s.serialize_f64(*x),
            FeatureValue::Str(v) => s.serialize_str(v),
            FeatureValue::Date(_) | FeatureValue::Datetime(_) => s.serialize_str(&self.to_string()),
            FeatureValue::List(items) => s.collect_seq(items),
        }
    }
}

impl From<&FeatureValue> for Value {
    fn from(v: &FeatureValue) -> Value {
        match v {
            FeatureValue::Bool(b) => Value::Bool(*b),
            FeatureValue::Int(i) => Value::Int(*i),
            FeatureValue::Float(x) => Value::Float(*x),
            FeatureValue::List(items) => Value::List(items.iter().map(Value::from).collect()),
            other => Value::Text(other.to_string()),
        }
    }
}

/// Reads a stored value back under its feature's dtype.
pub(crate) fn decode(
    dtype: &Dtype,
    text: &str,
    num: Option<f64>,
    ts: Option<NaiveDateTime>,
) -> FeatureValue {
    let base = match dtype {
        Dtype::List(inner) => inner.as_ref(),
        d => d,
    };
    match (base, num, ts) {
        (Dtype::Int | Dtype::Num, _, _) if text.parse::<i64>().is_ok() => {
            FeatureValue::Int(text.parse().unwrap_or_default())
        }
        (Dtype::Int | Dtype::Float | Dtype::Num, Some(n), _) => FeatureValue::Float(n),
        (Dtype::Bool, _, _) => FeatureValue::Bool(text == "true"),
        (Dtype::Date, _, Some(t)) => FeatureValue::Date(t.date()),
        (Dtype::Datetime, _, Some(t)) => FeatureValue::Datetime(t.and_utc()),
        _ => FeatureValue::Str(text.to_string()),
    }
}

/// The values of one feature on one record: a single value, or a list when the dtype is a
/// list or the record has several.
pub(crate) fn collect_values(dtype: &Dtype, mut values: Vec<FeatureValue>) -> FeatureValue {
    if values.len() == 1 && !matches!(dtype, Dtype::List(_)) {
        values.remove(0)
    } else {
        FeatureValue::List(values)
    }
}

/// The features of one artifact or collection: `ln.artifacts().features(&a)` — its feature
/// sets per slot ([`slots`](Self::slots)) and its feature values.
#[derive(Debug, Clone)]
pub struct FeaturesOf {
    ln: Instance,
    owner: Owner,
    what: String,
}

/// What `add_values` / `set_values` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ValuesAdded {
    /// Value links that are new (values already linked are kept and not counted).
    pub values: usize,
    /// Label links that are new (categorical features).
    pub labels: usize,
    /// Values or labels unlinked first (`set_values`).
    pub removed: usize,
    /// The `external` feature sets the records were given, when features joined them.
    pub external: Vec<FeatureSet>,
    /// What else happened, in LaminDB's words (features widened to `cat[ULabel]`, missing
    /// values of nullable features, new feature sets).
    pub notes: Vec<String>,
}

/// One record's values to add: feature name → value (a repeated name adds more values).
pub type ValueMap = Vec<(String, Value)>;

impl Artifacts {
    /// The features of an artifact: its feature sets per slot and its values
    /// (`features(&a)?.add_values([("temperature", 37.5.into())])`).
    pub fn features(&self, a: &Artifact) -> Result<FeaturesOf> {
        Ok(FeaturesOf {
            ln: self.ln.clone(),
            owner: Owner::Artifact(lamella_schema::require_id(a)?),
            what: format!("artifact {}", a.uid),
        })
    }

    /// Adds values to many artifacts at once — each its own map — in one transaction and a
    /// number of statements that does not grow per artifact.
    pub fn add_values_many(&self, items: &[(&Artifact, ValueMap)]) -> Result<ValuesAdded> {
        let entries = items
            .iter()
            .map(|(a, m)| Ok((lamella_schema::require_id(*a)?, m.clone())))
            .collect::<Result<Vec<_>>>()?;
        add(&self.ln, Owner::Artifact(0), entries, false)
    }
}

impl crate::Collections {
    /// The features of a collection: its feature sets per slot and its values.
    pub fn features(&self, c: &Collection) -> Result<FeaturesOf> {
        Ok(FeaturesOf {
            ln: self.ln.clone(),
            owner: Owner::Collection(lamella_schema::require_id(c)?),
            what: format!("collection '{}'", c.name),
        })
    }
}

fn owner_id(owner: Owner) -> i64 {
    match owner {
        Owner::Artifact(id) | Owner::Collection(id) => id,
    }
}

fn to_map<I, K, V>(values: I) -> ValueMap
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<Value>,
{
    values
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

impl FeaturesOf {
    /// The record's feature sets by slot, each with its members (`slots()?["columns"]`).
    pub fn slots(&self) -> Result<BTreeMap<String, SlotFeatures>> {
        Ok(crate::describe::annotations(&self.ln, self.owner)?.0)
    }

    /// Adds values: feature name → value, typed by the feature's dtype (`37`, `21.5`, `true`,
    /// `"2025-01-31"`, a list for `list[…]`; label names for categorical features). Values
    /// already linked are kept. Nothing is written unless every value is valid; the error
    /// names the feature, the value and the dtype.
    pub fn add_values<I, K, V>(&self, values: I) -> Result<ValuesAdded>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<Value>,
    {
        add(
            &self.ln,
            self.owner,
            vec![(owner_id(self.owner), to_map(values))],
            false,
        )
    }

    /// Replaces the values of the features named: their previous values and labels on this
    /// record are unlinked, then the new ones linked, in one transaction.
    pub fn set_values<I, K, V>(&self, values: I) -> Result<ValuesAdded>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<Value>,
    {
        add(
            &self.ln,
            self.owner,
            vec![(owner_id(self.owner), to_map(values))],
            true,
        )
    }

    /// Unlinks the values of `feature` — only `value` when given (for a categorical feature,
    /// the label of that name). A feature left without values or labels leaves the record's
    /// `external` feature set. Returns how many links were removed; asking to remove a value
    /// the record does not have is an error.
    pub fn remove_values(&self, feature: &str, value: Option<Value>) -> Result<usize> {
        let f = resolve_features(&self.ln, &[feature.to_string()])?.remove(0);
        let fid = lamella_schema::require_id(&f)?;
        let owner = self.owner;
        let user = self.ln.user_id();
        let label_ids = match (&value, categorical(&f)) {
            (Some(v), true) => Some(
                resolve_labels(&self.ln, &f, &label_names(v))?
                    .values()
                    .copied()
                    .collect::<Vec<i64>>(),
            ),
            _ => None,
        };
        let texts = match (&value, categorical(&f)) {
            (Some(v), false) => Some(
                typed(&f, v, &mut Vec::new())?
                    .into_iter()
                    .map(|s| s.value)
                    .collect::<Vec<String>>(),
            ),
            _ => None,
        };
        let n = self.ln.db().transaction(|conn| {
            super::lock_owner(conn, owner)?;
            let n = if categorical(&f) {
                sv::unlink_labels(conn, owner, Some(fid), label_ids.as_deref())?
            } else {
                sv::unlink_values(conn, owner, fid, texts.as_deref())?
            };
            if n > 0 {
                leave_external(conn, owner, fid, user)?;
            }
            Ok::<_, Error>(n)
        })?;
        if n == 0 {
            return Err(Error::FeatureValue {
                feature: f.name.clone(),
                message: match &value {
                    Some(v) => format!(
                        "{} has no value {} for feature '{}': nothing removed",
                        self.what,
                        sv::show(v),
                        f.name
                    ),
                    None => format!(
                        "{} has no value for feature '{}': nothing removed",
                        self.what, f.name
                    ),
                },
            });
        }
        Ok(n)
    }

    /// The record's values by feature name: typed values, and label names for categorical
    /// features (a list when there are several). Three statements.
    pub fn get_values(&self) -> Result<BTreeMap<String, FeatureValue>> {
        let owner = self.owner;
        let id = owner_id(owner);
        let (values, labels) = self.ln.db().with_conn(|c| {
            let values = sv::owner_values(c, owner, &[id])?;
            let labels = links::label_links(c, owner)?;
            Ok::<_, lamella_schema::Error>((values, labels))
        })?;
        let mut feature_ids: Vec<i64> = values.iter().map(|v| v.1).collect();
        feature_ids.extend(labels.iter().filter_map(|(_, f)| *f));
        feature_ids.sort_unstable();
        feature_ids.dedup();
        let label_ids: Vec<i64> = labels
            .iter()
            .filter(|(_, f)| f.is_some())
            .map(|(l, _)| *l)
            .collect();
        let (features, names) = self.ln.db().with_conn(|c| {
            let features: Vec<Feature> = lamella_schema::load_by_ids(c, &feature_ids)?;
            let names: Vec<ULabel> = lamella_schema::load_by_ids(c, &label_ids)?;
            Ok::<_, lamella_schema::Error>((features, names))
        })?;
        let features: HashMap<i64, Feature> = features
            .into_iter()
            .filter_map(|f| Some((f.id?, f)))
            .collect();
        let names: HashMap<i64, String> = names
            .into_iter()
            .filter_map(|l| Some((l.id?, l.name)))
            .collect();
        let mut by_feature: BTreeMap<i64, Vec<FeatureValue>> = BTreeMap::new();
        for (_, fid, text, num, ts) in &values {
            if let Some(f) = features.get(fid) {
                by_feature
                    .entry(*fid)
                    .or_default()
                    .push(decode(&f.dtype, text, *num, *ts));
            }
        }
        for (l, f) in &labels {
            if let (Some(f), Some(name)) = (f, names.get(l)) {
                by_feature
                    .entry(*f)
                    .or_default()
                    .push(FeatureValue::Str(name.clone()));
            }
        }
        Ok(by_feature
            .into_iter()
            .filter_map(|(fid, vs)| {
                let f = features.get(&fid)?;
                Some((f.name.clone(), collect_values(&f.dtype, vs)))
            })
            .collect())
    }

    /// `artifact UID` or `collection 'NAME'`, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }
}

fn categorical(f: &Feature) -> bool {
    f.dtype.is_categorical() || f.dtype.is_categorical_list()
}

/// The features named, in the order asked; an unknown name is an error suggesting close ones.
fn resolve_features(ln: &Instance, names: &[String]) -> Result<Vec<Feature>> {
    let mut distinct: Vec<String> = names.to_vec();
    distinct.sort();
    distinct.dedup();
    let found: Vec<Feature> = ln
        .db()
        .with_conn(|c| lamella_schema::load_where_in(c, "name", &distinct))?;
    let by_name: HashMap<&str, &Feature> = found.iter().map(|f| (f.name.as_str(), f)).collect();
    names
        .iter()
        .map(|n| match by_name.get(n.as_str()) {
            Some(f) => Ok((*f).clone()),
            None => Err(unknown_feature(ln, n)),
        })
        .collect()
}

/// "no Feature named 'X'" with close names, as a feature-value error.
pub(crate) fn unknown_feature(ln: &Instance, name: &str) -> Error {
    let close = ln.features().close_names(name).unwrap_or_default();
    let hint = match close.first() {
        Some(c) => format!("did you mean '{c}'? "),
        None => String::new(),
    };
    Error::FeatureValue {
        feature: name.to_string(),
        message: format!(
            "no Feature named '{}': {hint}register it first (a feature with the values' dtype)",
            crate::names::shown(name, 80)
        ),
    }
}

/// The names a categorical value stands for (`"a"`, `["a", "b"]`, `"[a, b]"`).
fn label_names(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items.iter().flat_map(label_names).collect(),
        Value::Null => Vec::new(),
        Value::Text(t) if t.trim_start().starts_with('[') && t.trim_end().ends_with(']') => {
            let inner = t.trim();
            inner[1..inner.len() - 1]
                .split(',')
                .map(|p| p.trim().trim_matches(['"', '\'']).to_string())
                .filter(|p| !p.is_empty())
                .collect()
        }
        Value::Text(t) => vec![t.clone()],
        Value::Int(i) => vec![i.to_string()],
        Value::Float(x) => vec![x.to_string()],
        Value::Bool(b) => vec![b.to_string()],
    }
}

/// The labels named, by name: one statement per thousand names; a name that is no label is
/// an error naming the feature and suggesting close names.
fn resolve_labels(
    ln: &Instance,
    feature: &Feature,
    names: &[String],
) -> Result<HashMap<String, i64>> {
    let mut distinct: Vec<String> = names.to_vec();
    distinct.sort();
    distinct.dedup();
    let found: Vec<ULabel> = ln
        .db()
        .with_conn(|c| lamella_schema::load_where_in(c, "name", &distinct))?;
    let map: HashMap<String, i64> = found
        .into_iter()
        .filter_map(|l| Some((l.name, l.id?)))
        .collect();
    let missing: Vec<&String> = distinct.iter().filter(|n| !map.contains_key(*n)).collect();
    if let Some(first) = missing.first() {
        let close = ln.ulabels().close_names(first).unwrap_or_default();
        let hint = match close.first() {
            Some(c) => format!(" (did you mean '{c}'?)"),
            None => String::new(),
        };
        let shown: Vec<String> = missing
            .iter()
            .take(10)
            .map(|n| format!("'{}'", crate::names::shown(n, 80)))
            .collect();
        return Err(Error::FeatureValue {
            feature: feature.name.clone(),
            message: format!(
                "feature '{}' is categorical ({}): no ULabel named {}{}{hint}; create the \
                 label{} first",
                feature.name,
                feature.dtype,
                shown.join(", "),
                if missing.len() > 10 {
                    format!(" and {} more", missing.len() - 10)
                } else {
                    String::new()
                },
                if missing.len() == 1 { "" } else { "s" },
            ),
        });
    }
    Ok(map)
}

/// The stored values `value` stands for under the feature's dtype; missing values (null,
/// NaN, ±inf) are refused unless the feature is nullable, then dropped with a note.
fn typed(f: &Feature, value: &Value, notes: &mut Vec<String>) -> Result<Vec<StoredValue>> {
    let wrap = |e: lamella_schema::Error| Error::FeatureValue {
        feature: f.name.clone(),
        message: e.to_string(),
    };
    let typed = sv::typed(&f.name, &f.dtype, value).map_err(wrap)?;
    let missing = typed.iter().filter(|v| v.is_none()).count();
    if missing > 0 {
        if !f.nullable {
            return Err(Error::FeatureValue {
                feature: f.name.clone(),
                message: format!(
                    "feature '{}' ({}) does not allow missing values: {} is null, NaN or \
                     infinite; give a value, or make the feature nullable",
                    f.name,
                    f.dtype,
                    sv::show(value)
                ),
            });
        }
        notes.push(format!(
            "feature '{}': {} is a missing value (null, NaN or infinite), recorded as no value",
            f.name,
            sv::show(value)
        ));
    }
    Ok(typed.into_iter().flatten().collect())
}

/// What one record gets for one feature.
enum Item {
    Labels(Vec<i64>),
    Values(Vec<StoredValue>),
}

/// Adds (or with `replace`, sets) values on the owners of `kind`'s sort.
fn add(
    ln: &Instance,
    kind: Owner,
    entries: Vec<(i64, ValueMap)>,
    replace: bool,
) -> Result<ValuesAdded> {
    let mut notes = Vec::new();
    let mut names: Vec<String> = entries
        .iter()
        .flat_map(|(_, m)| m.iter().map(|(k, _)| k.clone()))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(ValuesAdded::default());
    }
    let features = resolve_features(ln, &names)?;
    let index: HashMap<&str, usize> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    // Label names per categorical feature, resolved in one pass.
    let mut wanted: HashMap<usize, Vec<String>> = HashMap::new();
    for (_, map) in &entries {
        for (k, v) in map {
            let i = index[k.as_str()];
            if categorical(&features[i]) {
                wanted.entry(i).or_default().extend(label_names(v));
            }
        }
    }
    let mut label_ids: HashMap<usize, HashMap<String, i64>> = HashMap::new();
    for (i, names) in wanted {
        label_ids.insert(i, resolve_labels(ln, &features[i], &names)?);
    }
    let mut plan: Vec<(i64, Vec<(usize, Item)>)> = Vec::with_capacity(entries.len());
    for (owner, map) in &entries {
        let mut items = Vec::with_capacity(map.len());
        for (k, v) in map {
            let i = index[k.as_str()];
            let f = &features[i];
            items.push((
                i,
                if categorical(f) {
                    let ids = &label_ids[&i];
                    Item::Labels(label_names(v).iter().map(|n| ids[n]).collect())
                } else {
                    Item::Values(typed(f, v, &mut notes)?)
                },
            ));
        }
        plan.push((*owner, items));
    }
    notes.dedup();
    let user = ln.user_id();
    let out = ln.db().transaction(|conn| {
        let mut features = features.clone();
        let mut out = apply(conn, kind, &mut features, &plan, replace, user)?;
        out.notes.splice(0..0, notes.iter().cloned());
        Ok::<_, Error>(out)
    })?;
    // A bulk write: the planner's statistics catch up with the new rows (PostgreSQL).
    let (values, labels) = match kind {
        Owner::Artifact(_) => (
            "lamella_artifact_feature_values",
            "lamella_artifact_ulabels",
        ),
        Owner::Collection(_) => (
            "lamella_collection_feature_values",
            "lamella_collection_ulabels",
        ),
    };
    ln.db().with_conn(|c| {
        lamella_schema::analyze_grown(
            c,
            &[
                // (New value rows are at most as many as new value links; the value table
                // is small, and its per-feature statistics are what value queries plan by.)
                ("lamella_feature_values", out.values),
                (values, out.values),
                (labels, out.labels),
            ],
        )
    })?;
    Ok(out)
}

fn with_id(kind: Owner, id: i64) -> Owner {
    match kind {
        Owner::Artifact(_) => Owner::Artifact(id),
        Owner::Collection(_) => Owner::Collection(id),
    }
}

/// Writes a plan inside a transaction: owners locked, features widened and branch-checked,
/// values stored once, links made, `external` sets rebuilt (one save per distinct set).
fn apply(
    conn: &mut Conn<'_>,
    kind: Owner,
    features: &mut [Feature],
    plan: &[(i64, Vec<(usize, Item)>)],
    replace: bool,
    user: i64,
) -> Result<ValuesAdded> {
    let mut out = ValuesAdded::default();
    let owners: Vec<i64> = plan.iter().map(|(o, _)| *o).collect();
    links::lock_owners(conn, kind, &owners)?;
    if replace {
        for (owner, items) in plan {
            let mut fids: Vec<usize> = items.iter().map(|(i, _)| *i).collect();
            fids.sort_unstable();
            fids.dedup();
            for i in fids {
                let fid = lamella_schema::require_id(&features[i])?;
                let o = with_id(kind, *owner);
                out.removed += sv::unlink_values(conn, o, fid, None)?;
                out.removed += sv::unlink_labels(conn, o, Some(fid), None)?;
            }
        }
    }
    // Categorical features: widen `cat`, check branches on every label asked.
    let mut used: Vec<usize> = plan
        .iter()
        .flat_map(|(_, items)| items.iter().map(|(i, _)| *i))
        .collect();
    used.sort_unstable();
    used.dedup();
    for &i in &used {
        if !categorical(&features[i]) {
            continue;
        }
        let mut ids: Vec<i64> = plan
            .iter()
            .flat_map(|(_, items)| items.iter())
            .filter(|(j, _)| *j == i)
            .flat_map(|(_, item)| match item {
                Item::Labels(ids) => ids.clone(),
                Item::Values(_) => Vec::new(),
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        super::labels::widen(conn, &mut features[i], &mut out.notes)?;
        super::labels::check_branch(conn, &features[i], &ids)?;
    }
    // Values: each distinct (feature, value) stored once.
    let mut distinct: Vec<(i64, StoredValue)> = Vec::new();
    let mut seen: HashMap<(i64, String), usize> = HashMap::new();
    for (_, items) in plan {
        for (i, item) in items {
            if let Item::Values(vs) = item {
                let fid = lamella_schema::require_id(&features[*i])?;
                for v in vs {
                    seen.entry((fid, v.value.clone())).or_insert_with(|| {
                        distinct.push((fid, v.clone()));
                        distinct.len() - 1
                    });
                }
            }
        }
    }
    let value_ids = sv::ensure_values(conn, &distinct, user)?;
    let mut value_links = Vec::new();
    let mut label_links = Vec::new();
    for (owner, items) in plan {
        for (i, item) in items {
            let fid = lamella_schema::require_id(&features[*i])?;
            match item {
                Item::Values(vs) => {
                    for v in vs {
                        let k = seen[&(fid, v.value.clone())];
                        value_links.push((*owner, value_ids[k]));
                    }
                }
                Item::Labels(ids) => {
                    label_links.extend(ids.iter().map(|l| (*owner, *l, Some(fid))));
                }
            }
        }
    }
    out.values = sv::link_values(conn, kind, &value_links)?;
    out.labels = links::link_ulabels_many(conn, kind, &label_links, user, true)?;
    // The features each owner now has values or labels for.
    let per_owner: Vec<(i64, Vec<i64>)> = plan
        .iter()
        .map(|(o, items)| {
            let mut fids: Vec<i64> = items
                .iter()
                .filter(|(_, item)| match item {
                    Item::Labels(ids) => !ids.is_empty(),
                    Item::Values(vs) => !vs.is_empty(),
                })
                .filter_map(|(i, _)| features[*i].id)
                .collect();
            fids.sort_unstable();
            fids.dedup();
            (*o, fids)
        })
        .collect();
    join_external_many(conn, kind, &per_owner, user, &mut out)?;
    Ok(out)
}

/// Puts each owner's features (`(owner, feature ids)`) into its `external` set unless one of
/// its sets has them: owners that end with the same members share one set record, saved once.
pub(crate) fn join_external_many(
    conn: &mut Conn<'_>,
    kind: Owner,
    per_owner: &[(i64, Vec<i64>)],
    user: i64,
    out: &mut ValuesAdded,
) -> Result<()> {
    let owners: Vec<i64> = per_owner.iter().map(|(o, _)| *o).collect();
    let slots = links::slots_many(conn, kind, &owners)?;
    let mut set_ids: Vec<i64> = slots.iter().map(|(_, _, s)| *s).collect();
    set_ids.sort_unstable();
    set_ids.dedup();
    let members = lamella_schema::feature_set_members(conn, &set_ids)?;
    let mut members_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for (s, f) in members {
        members_of.entry(s).or_default().push(f);
    }
    let mut sets_of: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for (o, slot, s) in slots {
        sets_of.entry(o).or_default().push((slot, s));
    }
    // Owner → the members its external set must have, when they change.
    let mut changes: BTreeMap<Vec<i64>, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for (o, fids) in per_owner {
        let sets = sets_of.get(o).map(Vec::as_slice).unwrap_or_default();
        let has: HashSet<i64> = sets
            .iter()
            .flat_map(|(_, s)| members_of.get(s).cloned().unwrap_or_default())
            .collect();
        let missing: Vec<i64> = fids.iter().copied().filter(|f| !has.contains(f)).collect();
        if missing.is_empty() {
            continue;
        }
        let old = sets
            .iter()
            .find(|(slot, _)| slot == "external")
            .map(|(_, s)| *s);
        let mut new: Vec<i64> = old
            .and_then(|s| members_of.get(&s).cloned())
            .unwrap_or_default();
        new.extend(missing);
        new.sort_unstable();
        new.dedup();
        changes.entry(new).or_default().push((*o, old));
    }
    let mut replaced: Vec<i64> = Vec::new();
    // (members, owners with their previous external set)
    type Change = (Vec<i64>, Vec<(i64, Option<i64>)>);
    let changes: Vec<Change> = changes.into_iter().collect();
    let mut all: Vec<i64> = changes
        .iter()
        .flat_map(|(m, _)| m.iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    let features: HashMap<i64, Feature> = lamella_schema::load_by_ids::<Feature>(conn, &all)?
        .into_iter()
        .filter_map(|f| Some((f.id?, f)))
        .collect();
    let sets: Vec<Vec<Feature>> = changes
        .iter()
        .map(|(members, _)| {
            members
                .iter()
                .filter_map(|id| features.get(id).cloned())
                .collect()
        })
        .collect();
    // every distinct set saved in a few statements, whatever the number of owners
    let saved = crate::annotate::feature_sets::save_sets_many(conn, &sets, user)?;
    let mut rows: Vec<(i64, Option<i64>)> = Vec::new();
    for (((_, owners), set), features) in changes.iter().zip(saved).zip(&sets) {
        let sid = lamella_schema::require_id(&set.record)?;
        rows.extend(owners.iter().map(|(o, _)| (*o, Some(sid))));
        replaced.extend(
            owners
                .iter()
                .filter_map(|(_, old)| *old)
                .filter(|s| *s != sid),
        );
        if per_owner.len() == 1 {
            let names: Vec<&str> = features.iter().map(|f| f.name.as_str()).collect();
            out.notes.push(format!(
                "feature{} {} in {}feature set FeatureSet(uid='{}', n={}) under slot 'external'",
                if names.len() == 1 { "" } else { "s" },
                names
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if set.existed { "" } else { "new " },
                set.record.uid,
                set.record.n
            ));
        }
        out.external.push(set.record);
    }
    links::set_slot_many(conn, kind, "external", &rows)?;
    replaced.sort_unstable();
    replaced.dedup();
    for s in replaced {
        links::delete_feature_set_if_unused(conn, s)?;
    }
    Ok(())
}

/// Takes feature `fid` out of the owner's `external` set when the owner has no value or label
/// through it any more (the set is rebuilt without it, or unlinked when it was the last).
pub(crate) fn leave_external(conn: &mut Conn<'_>, owner: Owner, fid: i64, user: i64) -> Result<()> {
    let id = owner_id(owner);
    let still_values = sv::owner_values(conn, owner, &[id])?
        .iter()
        .any(|v| v.1 == fid);
    let still_labels = links::label_links(conn, owner)?
        .iter()
        .any(|(_, f)| *f == Some(fid));
    if still_values || still_labels {
        return Ok(());
    }
    let Some(old) = links::slots(conn, owner)?
        .into_iter()
        .find(|(s, _)| s == "external")
        .map(|(_, s)| s)
    else {
        return Ok(());
    };
    let members: Vec<i64> = lamella_schema::feature_set_members(conn, &[old])?
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    if !members.contains(&fid) {
        return Ok(());
    }
    let rest: Vec<i64> = members.into_iter().filter(|f| *f != fid).collect();
    let new = if rest.is_empty() {
        None
    } else {
        let mut features: Vec<Feature> = lamella_schema::load_by_ids(conn, &rest)?;
        features.sort_by_key(|f| f.id);
        Some(lamella_schema::require_id(
            &save_set(conn, &features, user)?.record,
        )?)
    };
    links::set_slot_many(conn, owner, "external", &[(id, new)])?;
    if new != Some(old) {
        links::delete_feature_set_if_unused(conn, old)?;
    }
    Ok(())
}
