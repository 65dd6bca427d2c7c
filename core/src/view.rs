//! `view()`: the most recent records of every registry, as tables.

use arrow::record_batch::RecordBatch;
use lamella_schema::{
    Artifact, Collection, Feature, FeatureSet, Record, Run, Storage, Transform, ULabel, User,
};
use serde::Serialize;

use crate::error::Result;
use crate::instance::Instance;

/// The registries `view` shows, in its order.
pub const REGISTRIES: [&str; 9] = [
    "Artifact",
    "Collection",
    "Feature",
    "FeatureSet",
    "Run",
    "Storage",
    "Transform",
    "ULabel",
    "User",
];

/// One registry's most recent records.
#[derive(Debug, Clone)]
pub struct RegistryView {
    /// The registry name (`ULabel`, …).
    pub registry: &'static str,
    /// Total number of records (trash included).
    pub total: i64,
    /// The most recent records, newest first.
    pub table: RecordBatch,
    /// The same records as JSON (each as every other output writes the record).
    pub records: Vec<serde_json::Value>,
}

impl Instance {
    /// The `n` most recent records of every registry (or of those named in `only`), newest
    /// first, like LaminDB's `ln.view()`. Registries without records are left out.
    pub fn view(&self, n: i64, only: &[&str]) -> Result<Vec<RegistryView>> {
        if let Some(bad) = only
            .iter()
            .find(|o| !REGISTRIES.iter().any(|n| n.eq_ignore_ascii_case(o)))
        {
            return Err(crate::Error::UnknownChoice {
                what: "a registry",
                given: bad.to_string(),
                choices: REGISTRIES.iter().map(|r| r.to_string()).collect(),
            });
        }
        let mut out = Vec::new();
        macro_rules! one {
            ($t:ty) => {
                self.view_one::<$t>(n, only, &mut out)?
            };
        }
        one!(Artifact);
        one!(Collection);
        one!(Feature);
        one!(FeatureSet);
        one!(Run);
        one!(Storage);
        one!(Transform);
        one!(ULabel);
        one!(User);
        Ok(out)
    }

    fn view_one<T: Record + Serialize>(
        &self,
        n: i64,
        only: &[&str],
        out: &mut Vec<RegistryView>,
    ) -> Result<()> {
        let name = T::REGISTRY.name;
        if !only.is_empty() && !only.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            return Ok(());
        }
        let total = self.query::<T>().include_trash().count()?;
        if total == 0 {
            return Ok(());
        }
        let records = self
            .query::<T>()
            .include_trash()
            .order_by("-id")
            .limit(n)
            .all()?;
        let json = records
            .iter()
            .map(|r| serde_json::to_value(r).map_err(|e| crate::Error::Internal(e.to_string())))
            .collect::<Result<Vec<_>>>()?;
        out.push(RegistryView {
            registry: name,
            total,
            table: crate::table::records_to_batch(T::REGISTRY, &records)?,
            records: json,
        });
        Ok(())
    }
}
