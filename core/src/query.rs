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
    _t: PhantomData<T>,
}

impl<T: Record + Serialize> Query<T> {
    pub(crate) fn new(ln: Instance) -> Self {
        Query {
            ln,
            spec: QuerySpec::new(T::REGISTRY),
            what: Vec::new(),
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
        self.spec = self.spec.order_by(field);
        self
    }

    /// At most `n` records.
    pub fn limit(mut self, n: i64) -> Self {
        self.spec = self.spec.limit(n);
        self
    }

    /// Skips `n` records.
    pub fn offset(mut self, n: i64) -> Self {
        self.spec = self.spec.offset(n);
        self
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
        Ok(self.ln.db().with_conn(|c| self.spec.load(c))?)
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
        let mut rows: Vec<T> = self
            .ln
            .db()
            .with_conn(|c| self.spec.clone().limit(2).load(c))?;
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
        let mut rows: Vec<T> = self
            .ln
            .db()
            .with_conn(|c| self.spec.clone().limit(1).load(c))?;
        Ok(rows.pop())
    }

    /// The number of matching records.
    pub fn count(&self) -> Result<i64> {
        Ok(self.ln.db().with_conn(|c| self.spec.count(c))?)
    }

    /// The matching records as an Arrow table, one column per field.
    pub fn df(&self) -> Result<RecordBatch> {
        crate::table::records_to_batch(T::REGISTRY, &self.all()?)
    }
}

fn show_value(v: &Value) -> String {
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
