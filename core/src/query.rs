//! Queries on any registry: LaminDB-style lookups, order, limit, and the result as records,
//! a count or an Arrow table.

use std::marker::PhantomData;

use arrow::record_batch::RecordBatch;
use lamella_schema::{QuerySpec, Record, Value};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::instance::Instance;

/// A query on one registry, built step by step and run by `all`, `one`, `first`, `count` or
/// `df`.
#[derive(Debug, Clone)]
pub struct Query<T> {
    ln: Instance,
    spec: QuerySpec,
    what: Vec<String>,
    /// Whether an order was asked for (pages then go by offset, else by id).
    ordered: bool,
    /// The limit asked for, if any.
    limit: Option<i64>,
    /// The offset asked for, if any.
    offset: Option<i64>,
    _t: PhantomData<T>,
}

impl<T: Record + Serialize> Query<T> {
    pub(crate) fn new(ln: Instance) -> Self {
        Query {
            ln,
            spec: QuerySpec::new(T::REGISTRY),
            what: Vec::new(),
            ordered: false,
            limit: None,
            offset: None,
            _t: PhantomData,
        }
    }

    /// Adds a LaminDB-style lookup: `filter("name", "setosa")`, `filter("name__startswith",
    /// "study")`, `filter("parents__name", "is_species")`, `filter("size__gt", 100)`.
    /// A lookup on `visibility` includes the trash, so `filter("visibility", -1)` lists it.
    pub fn filter(mut self, lookup: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        if lookup.split("__").next() == Some("visibility") {
            self.spec = self.spec.include_trash(true);
        }
        self.what.push(format!("{lookup}={}", show_value(&value)));
        self.spec = self.spec.filter(lookup, value);
        self
    }

    /// Keeps records labelled `label` (artifacts, collections), through `feature` when given:
    /// `labelled("T cell", Some("cell_type"))` finds the artifacts whose `cell_type` is
    /// `T cell`. One SQL statement with the rest of the query.
    pub fn labelled(mut self, label: &str, feature: Option<&str>) -> Self {
        self.what.push(match feature {
            Some(f) => format!("{f}='{label}'"),
            None => format!("label '{label}'"),
        });
        self.spec = self.spec.labelled(label, feature.map(str::to_string));
        self
    }

    /// Orders by a field; `-field` for descending.
    pub fn order_by(mut self, field: &str) -> Self {
        self.ordered |= field.trim_start_matches('-') != "id" || field.starts_with('-');
        self.spec = self.spec.order_by(field);
        self
    }

    /// At most `n` records.
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n.max(0));
        self.spec = self.spec.limit(n);
        self
    }

    /// Skips `n` records.
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n.max(0));
        self.spec = self.spec.offset(n);
        self
    }

    /// The matching records in pages of at most `size`, each read when it is needed, so a
    /// million records are listed in the memory of one page. Pages follow the id (or the
    /// order asked for, by offset); the limit and offset asked for hold for all pages.
    pub fn pages(&self, size: usize) -> Pages<T> {
        Pages {
            query: self.clone(),
            size: size.max(1) as i64,
            after_id: None,
            offset: self.offset.unwrap_or(0),
            remaining: self.limit,
            done: false,
        }
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
        let (spec, later) = self.resolved()?;
        let rows: Vec<T> = self.ln.db().with_conn(|c| spec.load(c))?;
        self.names_checked(&spec, later, rows.is_empty())?;
        Ok(rows)
    }

    /// The query ready to run: lookups that name a feature (`temperature__gt`, `split`)
    /// resolved to it (one statement), each checked against the feature's dtype, and the
    /// labels and features it names checked to exist. An unknown feature is an error with
    /// close names — never an empty answer.
    pub(crate) fn prepared(&self) -> Result<QuerySpec> {
        let (spec, later) = self.resolved()?;
        self.names_checked(&spec, later, true)?;
        Ok(spec)
    }

    /// The query with its features resolved (see [`Query::prepared`]); the names it
    /// references are checked here only when a missing one could still leave rows to match
    /// (a name in an `__in` list). Otherwise — `true` — a missing name matches nothing, so the
    /// check waits for an empty answer ([`Query::names_checked`]): a query that finds rows
    /// costs no extra statement (one round trip less for a read-only command).
    fn resolved(&self) -> Result<(QuerySpec, bool)> {
        let heads = self.spec.feature_lookups();
        let mut spec = self.spec.clone();
        if !heads.is_empty() {
            let found: Vec<lamella_schema::Feature> = self
                .ln
                .db()
                .with_conn(|c| lamella_schema::load_where_in(c, "name", &heads))?;
            for h in &heads {
                if found.iter().any(|f| &f.name == h) {
                    continue;
                }
                if self.spec.close_field(h).is_some() {
                    self.spec.validate()?;
                }
                return Err(crate::annotate::unknown_feature(&self.ln, h));
            }
            spec = spec.with_features(
                found
                    .into_iter()
                    .filter_map(|f| {
                        Some(lamella_schema::LookupFeature {
                            id: f.id?,
                            name: f.name,
                            dtype: f.dtype,
                        })
                    })
                    .collect(),
            );
            spec.check_feature_lookups()
                .map_err(|(feature, e)| Error::FeatureValue {
                    feature,
                    message: e.to_string(),
                })?;
        }
        if spec.names_decide_emptiness() {
            return Ok((spec, true));
        }
        check_names(&self.ln, &spec)?;
        Ok((spec, false))
    }

    /// The deferred check of [`Query::resolved`]: runs when it was deferred and the answer
    /// was empty, so a typo is an error instead of "none".
    fn names_checked(&self, spec: &QuerySpec, deferred: bool, empty: bool) -> Result<()> {
        if deferred && empty {
            check_names(&self.ln, spec)?;
        }
        Ok(())
    }

    /// Exactly one record: an error when none or several match.
    pub fn one(&self) -> Result<T> {
        self.one_or_none()?.ok_or_else(|| Error::NotFound {
            suggestions: Vec::new(),
            registry: T::REGISTRY.name,
            what: self.describe(),
        })
    }

    /// One record or none: an error when several match.
    pub fn one_or_none(&self) -> Result<Option<T>> {
        let (spec, later) = self.resolved()?;
        let mut rows: Vec<T> = self.ln.db().with_conn(|c| spec.clone().limit(2).load(c))?;
        self.names_checked(&spec, later, rows.is_empty())?;
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
        let (spec, later) = self.resolved()?;
        let mut rows: Vec<T> = self.ln.db().with_conn(|c| spec.clone().limit(1).load(c))?;
        self.names_checked(&spec, later, rows.is_empty())?;
        Ok(rows.pop())
    }

    /// The number of matching records.
    pub fn count(&self) -> Result<i64> {
        let (spec, later) = self.resolved()?;
        let n = self.ln.db().with_conn(|c| spec.count(c))?;
        self.names_checked(&spec, later, n == 0)?;
        Ok(n)
    }

    /// The database's plan for this query, one line per step (SQLite's `EXPLAIN QUERY PLAN`,
    /// PostgreSQL's `EXPLAIN`): how its lookups meet the indexes.
    pub fn explain(&self) -> Result<Vec<String>> {
        let spec = self.prepared()?;
        Ok(self.ln.db().with_conn(|c| spec.explain(c))?)
    }

    /// The matching records as an Arrow table (one column per field).
    pub fn df(&self) -> Result<RecordBatch> {
        crate::table::records_to_batch(T::REGISTRY, &self.all()?)
    }
}

/// Errors when the query names a label or feature that does not exist (`labelled`,
/// `ulabels__name`, `feature_sets__features__name`, a categorical feature's value, …):
/// "which datasets have label X?" must not answer "none" for a typo. One statement per
/// registry named; the error suggests close names.
fn check_names(ln: &Instance, spec: &QuerySpec) -> Result<()> {
    let refs = spec.named_references();
    if refs.is_empty() {
        return Ok(());
    }
    let (labels, features): (Vec<_>, Vec<_>) = refs
        .into_iter()
        .partition(|(reg, _)| reg.name == lamella_schema::registry::ULABEL.name);
    let labels: Vec<String> = labels.into_iter().map(|(_, n)| n).collect();
    let features: Vec<String> = features.into_iter().map(|(_, n)| n).collect();
    if let Some(missing) = missing_names(&ln.ulabels(), &labels)? {
        return Err(ln.ulabels().not_found(&missing)?);
    }
    if let Some(missing) = missing_names(&ln.features(), &features)? {
        return Err(ln.features().not_found(&missing)?);
    }
    Ok(())
}

/// The first of `names` that no record of the registry has, if any (one statement).
fn missing_names<N: crate::registry::Named>(
    reg: &crate::registry::Registry<N>,
    names: &[String],
) -> Result<Option<String>> {
    if names.is_empty() {
        return Ok(None);
    }
    let found: std::collections::HashSet<String> = reg
        .query()
        .filter("name__in", names.to_vec())
        .all()?
        .iter()
        .map(|r| r.name_str().to_string())
        .collect();
    Ok(names.iter().find(|n| !found.contains(*n)).cloned())
}

/// The pages of a query (see [`Query::pages`]).
#[derive(Debug)]
pub struct Pages<T> {
    query: Query<T>,
    size: i64,
    after_id: Option<i64>,
    offset: i64,
    remaining: Option<i64>,
    done: bool,
}

impl<T: Record + Serialize> Iterator for Pages<T> {
    type Item = Result<Vec<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.remaining == Some(0) {
            return None;
        }
        let take = self.remaining.map_or(self.size, |r| r.min(self.size));
        let mut q = self.query.clone();
        q.spec = if self.query.ordered {
            q.spec.offset(self.offset).limit(take)
        } else {
            let spec = match self.after_id {
                Some(id) => q.spec.filter("id__gt", id).offset(0),
                None => q.spec.offset(self.offset),
            };
            spec.limit(take)
        };
        let page = match q.all() {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let n = page.len() as i64;
        if n < take {
            self.done = true;
        }
        if n == 0 {
            return None;
        }
        self.offset += n;
        self.after_id = page.last().and_then(Record::id);
        if let Some(r) = &mut self.remaining {
            *r -= n;
        }
        Some(Ok(page))
    }
}

/// How a lookup or feature value reads in messages: text quoted, lists bracketed.
pub fn show_value(v: &Value) -> String {
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

impl Instance {
    /// A query on any registry, e.g. `ln.query::<User>()`.
    pub fn query<T: Record + Serialize>(&self) -> Query<T> {
        Query::new(self.clone())
    }
}

/// Records with their features (see [`Query::with_features`]): the records, the features,
/// and per feature one cell per record.
#[derive(Debug, Clone)]
pub struct WithFeatures<T> {
    /// The records, in query order.
    pub records: Vec<T>,
    /// The features shown, in the order asked (or by name).
    pub features: Vec<lamella_schema::Feature>,
    /// Per feature (in the order of `features`), per record: its typed value, the names of
    /// the labels linked through a categorical feature, a list when several; `None` when the
    /// record has none.
    pub columns: Vec<Vec<Option<crate::FeatureValue>>>,
}

impl<T> WithFeatures<T> {
    /// The values of record `i` by feature name (only the features it has).
    pub fn values(&self, i: usize) -> std::collections::BTreeMap<&str, &crate::FeatureValue> {
        self.features
            .iter()
            .zip(&self.columns)
            .filter_map(|(f, col)| Some((f.name.as_str(), col.get(i)?.as_ref()?)))
            .collect()
    }

    /// The value of `feature` on record `i`.
    pub fn get(&self, i: usize, feature: &str) -> Option<&crate::FeatureValue> {
        let k = self.features.iter().position(|f| f.name == feature)?;
        self.columns[k].get(i)?.as_ref()
    }

    /// Each record with its values, `{"record": …, "features": {…}}` when serialized (the
    /// shape of `ls --features --json`), written as it goes.
    pub fn rows(&self) -> impl Iterator<Item = RecordWithFeatures<'_, T>> {
        (0..self.records.len()).map(move |i| RecordWithFeatures { of: self, i })
    }
}

/// One row of [`WithFeatures::rows`].
pub struct RecordWithFeatures<'a, T> {
    of: &'a WithFeatures<T>,
    i: usize,
}

impl<T: Serialize> Serialize for RecordWithFeatures<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("RecordWithFeatures", 2)?;
        st.serialize_field("record", &self.of.records[self.i])?;
        st.serialize_field("features", &self.of.values(self.i))?;
        st.end()
    }
}

impl<T: Serialize> Serialize for WithFeatures<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.rows())
    }
}

/// Puts `v` into a cell: the value, or a list when the dtype is a list or the record has
/// several values of a feature.
fn push_cell(cell: &mut Option<crate::FeatureValue>, v: crate::FeatureValue, list: bool) {
    use crate::FeatureValue as V;
    match cell.take() {
        None if list => *cell = Some(V::List(vec![v])),
        None => *cell = Some(v),
        Some(V::List(mut items)) => {
            items.push(v);
            *cell = Some(V::List(items));
        }
        Some(one) => *cell = Some(V::List(vec![one, v])),
    }
}

impl<T: Record + Serialize> Query<T> {
    /// The matching artifacts or collections with their features — `features` only when
    /// given, else every feature any of them has a value or label for — read in four
    /// statements however many records and features (LaminDB's `df(features=True)`).
    pub fn with_features(&self, features: &[&str]) -> Result<WithFeatures<T>> {
        use std::collections::HashMap;
        let spec = self.prepared()?;
        if T::REGISTRY.feature_links().is_none() {
            return Err(Error::invalid(
                "the registry",
                T::REGISTRY.name,
                "only artifacts and collections carry feature values",
            ));
        }
        let asked: Vec<String> = features.iter().map(|f| f.to_string()).collect();
        let (records, chosen, ann) = self.ln.db().with_conn(|c| {
            let chosen: Vec<lamella_schema::Feature> = if asked.is_empty() {
                Vec::new()
            } else {
                lamella_schema::load_where_in(c, "name", &asked)?
            };
            let ids: Vec<i64> = chosen.iter().filter_map(|f| f.id).collect();
            let records: Vec<T> = spec.load(c)?;
            let ann = spec.feature_annotations(
                c,
                (!asked.is_empty()).then_some(ids.as_slice()),
                records.len(),
            )?;
            Ok::<_, lamella_schema::Error>((records, chosen, ann))
        })?;
        if let Some(missing) = asked.iter().find(|n| !chosen.iter().any(|f| &f.name == *n)) {
            return Err(crate::annotate::unknown_feature(&self.ln, missing));
        }
        let features: Vec<lamella_schema::Feature> = if asked.is_empty() {
            let mut ids: Vec<i64> = ann.label_links.iter().map(|r| r.1).collect();
            ids.extend(ann.values.values().map(|r| r.0));
            ids.sort_unstable();
            ids.dedup();
            let mut all: Vec<lamella_schema::Feature> = self
                .ln
                .db()
                .with_conn(|c| lamella_schema::load_by_ids(c, &ids))?;
            all.sort_by(|a, b| a.name.cmp(&b.name));
            all
        } else {
            asked
                .iter()
                .filter_map(|n| chosen.iter().find(|f| &f.name == n).cloned())
                .collect()
        };
        let column_of: HashMap<i64, usize> = features
            .iter()
            .enumerate()
            .filter_map(|(k, f)| Some((f.id?, k)))
            .collect();
        let row_of: HashMap<i64, usize> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((r.id()?, i)))
            .collect();
        let mut columns: Vec<Vec<Option<crate::FeatureValue>>> =
            features.iter().map(|_| vec![None; records.len()]).collect();
        // Each distinct value decoded once, then cloned into its cells.
        let decoded: HashMap<i64, (usize, crate::FeatureValue)> = ann
            .values
            .iter()
            .filter_map(|(id, (fid, text, num, ts))| {
                let k = *column_of.get(fid)?;
                let v = crate::annotate::decode(&features[k].dtype, text, *num, *ts);
                Some((*id, (k, v)))
            })
            .collect();
        for (owner, value_id) in &ann.value_links {
            if let (Some((k, v)), Some(&i)) = (decoded.get(value_id), row_of.get(owner)) {
                let list = matches!(features[*k].dtype, lamella_schema::Dtype::List(_));
                push_cell(&mut columns[*k][i], v.clone(), list);
            }
        }
        for (owner, fid, label) in &ann.label_links {
            if let (Some(&k), Some(&i), Some(name)) = (
                column_of.get(fid),
                row_of.get(owner),
                ann.label_names.get(label),
            ) {
                let list = matches!(features[k].dtype, lamella_schema::Dtype::List(_));
                push_cell(
                    &mut columns[k][i],
                    crate::FeatureValue::Str(name.clone()),
                    list,
                );
            }
        }
        Ok(WithFeatures {
            records,
            features,
            columns,
        })
    }

    /// [`with_features`](Self::with_features) as one Arrow table: the record's fields, then
    /// one column per feature — typed (Int64, Float64, Boolean, Utf8, Date32, Timestamp UTC)
    /// where each record has at most one value, else the values as text joined with `|`
    /// (labels of categorical features too).
    pub fn df_with_features(&self, features: &[&str]) -> Result<RecordBatch> {
        let w = self.with_features(features)?;
        let base = crate::table::records_to_batch(T::REGISTRY, &w.records)?;
        crate::table::append_feature_columns(base, &w.features, &w.columns)
    }
}
