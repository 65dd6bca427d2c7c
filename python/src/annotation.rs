//! Features of artifacts and collections: `Feature.from_df`, `FeatureSet`,
//! `artifact.features.add_feature_set(...)`, `artifact.features` (slots), feature values.

use arrow_pyarrow::FromPyArrow;
use lamella_core::{Feature, FeatureSet, FeaturesOf, RecordBatch};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::{PyInstance, ValidationError, json, lookup_value, to_py};

#[pymethods]
impl PyInstance {
    /// The features a table's columns call for (name and dtype per column), not saved:
    /// JSON records, as LaminDB's `Feature.from_df`.
    fn infer_features(&self, py: Python<'_>, batch: Bound<'_, PyAny>) -> PyResult<String> {
        let table = RecordBatch::from_pyarrow_bound(&batch)?;
        let reg = self.ln.features();
        json(&py.detach(|| reg.infer(&table)).map_err(to_py)?)
    }

    /// Saves the feature set of the features `uids` (the same members are the same set):
    /// `(JSON, existed)`.
    fn save_feature_set(&self, py: Python<'_>, uids: Vec<String>) -> PyResult<(String, bool)> {
        let saved = py
            .detach(|| {
                let features = self.features_by_uid(&uids)?;
                self.ln.feature_sets().from_features(&features)
            })
            .map_err(to_py)?;
        Ok((json(&saved.record)?, saved.existed))
    }

    /// The members of the feature set `uid`, as JSON feature records.
    fn feature_set_members(&self, py: Python<'_>, uid: &str) -> PyResult<String> {
        let found = py
            .detach(|| {
                let set = self.ln.query::<FeatureSet>().filter("uid", uid).one()?;
                self.ln.feature_sets().members(&set)
            })
            .map_err(to_py)?;
        json(&found)
    }

    /// Links the feature set `set_uid` to the artifact `uid` under `slot`.
    fn add_feature_set(
        &self,
        py: Python<'_>,
        uid: &str,
        slot: &str,
        set_uid: &str,
    ) -> PyResult<()> {
        py.detach(|| {
            let a = self.ln.artifacts().filter("uid", uid).one()?;
            let set = self.ln.query::<FeatureSet>().filter("uid", set_uid).one()?;
            self.ln.artifacts().add_feature_set(&a, slot, &set)
        })
        .map_err(to_py)
    }

    /// The feature sets of an artifact or collection by slot: `(LaminDB's "Features:" text,
    /// JSON {slot: {feature_set, features: [{feature, labels, value?}]}})`.
    fn feature_slots(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
    ) -> PyResult<(String, String)> {
        let slots = py
            .detach(|| self.features_of(registry, uid)?.slots())
            .map_err(to_py)?;
        let text = lamella_core::FeaturesView(&slots).to_string();
        Ok((text, json(&slots)?))
    }

    /// Adds feature values to an artifact or collection (`values`: feature name → value or
    /// list of values; `replace` replaces the features' previous values). Returns the notes.
    #[pyo3(signature = (registry, uid, values, replace=false))]
    fn add_values(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        values: Bound<'_, PyDict>,
        replace: bool,
    ) -> PyResult<Vec<String>> {
        let mut map = Vec::with_capacity(values.len());
        for (k, v) in values.iter() {
            let name: String = k.extract().map_err(|_| {
                ValidationError::new_err("feature values are keyed by feature name (text)")
            })?;
            map.push((name, lookup_value(&v)?));
        }
        py.detach(|| {
            let of = self.features_of(registry, uid)?;
            let added = if replace {
                of.set_values(map)?
            } else {
                of.add_values(map)?
            };
            Ok(added.notes)
        })
        .map_err(to_py)
    }

    /// The feature values of an artifact or collection: JSON {feature: value}.
    fn get_values(&self, py: Python<'_>, registry: &str, uid: &str) -> PyResult<String> {
        let values = py
            .detach(|| self.features_of(registry, uid)?.get_values())
            .map_err(to_py)?;
        json(&values)
    }

    /// Removes the values of `feature` (only `value` when given); returns how many.
    #[pyo3(signature = (registry, uid, feature, value=None))]
    fn remove_values(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        feature: &str,
        value: Option<Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let value = value.map(|v| lookup_value(&v)).transpose()?;
        py.detach(|| {
            self.features_of(registry, uid)?
                .remove_values(feature, value)
        })
        .map_err(to_py)
    }
}

impl PyInstance {
    /// The features handle of the artifact or collection `uid`.
    fn features_of(&self, registry: &str, uid: &str) -> lamella_core::Result<FeaturesOf> {
        match registry {
            "Collection" => {
                let c = self.ln.collections().query().filter("uid", uid).one()?;
                self.ln.collections().features(&c)
            }
            _ => {
                let a = self.ln.artifacts().filter("uid", uid).one()?;
                self.ln.artifacts().features(&a)
            }
        }
    }

    /// The features with these uids, in their order; a uid that is no feature is an error.
    fn features_by_uid(&self, uids: &[String]) -> lamella_core::Result<Vec<Feature>> {
        let found = self
            .ln
            .features()
            .query()
            .filter("uid__in", uids.to_vec())
            .all()?;
        uids.iter()
            .map(|u| match found.iter().find(|f| &f.uid == u) {
                Some(f) => Ok(f.clone()),
                None => self.ln.features().filter("uid", u.as_str()).one(),
            })
            .collect()
    }
}
