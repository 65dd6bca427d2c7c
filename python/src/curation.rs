//! Validation from Python: `Registry.validate/inspect/standardize`, `add_synonym`, and the
//! curator (`ln.Curator.from_df(df, categoricals=…)`: `validate`, `standardize`,
//! `add_new_from`, `save_artifact`).

use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use lamella_core::{Curator, Instance, RecordBatch};
use pyo3::prelude::*;

use crate::{PyInstance, ValidationError, json, to_py};

/// A curator's options, as Python keeps them between calls (a dict).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Options {
    /// Column → categorical feature.
    categoricals: Vec<(String, String)>,
    /// Features every table needs.
    required: Vec<String>,
    /// Whether columns without features are allowed.
    allow_extra: bool,
    /// A saved schema to check against.
    schema: Option<String>,
}

impl Options {
    fn curator(&self, ln: &Instance, table: RecordBatch) -> lamella_core::Result<Curator> {
        let mut c = ln.curator(table);
        for (column, feature) in &self.categoricals {
            c = c.categorical(column, feature);
        }
        for f in &self.required {
            c = c.require(f);
        }
        if self.allow_extra {
            c = c.allow_extra();
        }
        if let Some(s) = &self.schema {
            c = c.schema(&ln.schemas().get(s)?);
        }
        c.check_options()?;
        Ok(c)
    }
}

#[pymethods]
impl PyInstance {
    /// `op` on `values` against the names of `registry` (`ULabel`, `Feature`): `validate`
    /// (JSON list of bools), `inspect` (JSON {validated, not_validated}) or `standardize`
    /// (JSON {values, mapping}).
    fn check_values(
        &self,
        py: Python<'_>,
        registry: &str,
        op: &str,
        values: Vec<String>,
    ) -> PyResult<String> {
        macro_rules! on {
            ($reg:expr) => {{
                let reg = $reg;
                match op {
                    "validate" => json(&py.detach(|| reg.validate(&values)).map_err(to_py)?),
                    "inspect" => json(&py.detach(|| reg.inspect(&values)).map_err(to_py)?),
                    "standardize" => json(&py.detach(|| reg.standardize(&values)).map_err(to_py)?),
                    other => Err(ValidationError::new_err(format!(
                        "no check {other}: validate, inspect or standardize"
                    ))),
                }
            }};
        }
        match registry {
            "ULabel" => on!(self.ln.ulabels()),
            "Feature" => on!(self.ln.features()),
            other => Err(ValidationError::new_err(format!(
                "{other} has no validate(); ULabel and Feature do"
            ))),
        }
    }

    /// Adds `synonym` to the record `uid` of `registry`; returns its JSON.
    fn add_synonym(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        synonym: &str,
    ) -> PyResult<String> {
        match registry {
            "ULabel" => {
                let reg = self.ln.ulabels();
                let l = py
                    .detach(|| {
                        let mut l = reg.filter("uid", uid).one()?;
                        reg.add_synonym(&mut l, synonym)?;
                        Ok(l)
                    })
                    .map_err(to_py)?;
                json(&l)
            }
            "Feature" => {
                let reg = self.ln.features();
                let f = py
                    .detach(|| {
                        let mut f = reg.filter("uid", uid).one()?;
                        reg.add_synonym(&mut f, synonym)?;
                        Ok(f)
                    })
                    .map_err(to_py)?;
                json(&f)
            }
            other => Err(ValidationError::new_err(format!(
                "{other} records have no synonyms; labels and features do"
            ))),
        }
    }

    /// Validates a table with the curator's `options`: `(report text, report JSON)`.
    fn curate_validate(
        &self,
        py: Python<'_>,
        batch: Bound<'_, PyAny>,
        options: Options,
    ) -> PyResult<(String, String)> {
        let table = RecordBatch::from_pyarrow_bound(&batch)?;
        let report = py
            .detach(|| options.curator(&self.ln, table)?.validate())
            .map_err(to_py)?;
        Ok((report.to_string(), json(&report)?))
    }

    /// Applies synonyms to the table (column names and categorical values): `(fixed table,
    /// what changed as lines)`.
    fn curate_standardize(
        &self,
        py: Python<'_>,
        batch: Bound<'_, PyAny>,
        options: Options,
    ) -> PyResult<(Py<PyAny>, Vec<String>)> {
        let table = RecordBatch::from_pyarrow_bound(&batch)?;
        let (fixed, fixes) = py
            .detach(|| {
                let (c, fixes) = options.curator(&self.ln, table)?.standardize()?;
                Ok((c.table().clone(), fixes))
            })
            .map_err(to_py)?;
        Ok((fixed.to_pyarrow(py)?.unbind(), fixes.lines()))
    }

    /// Registers the unknown values of `column` as new labels: the new labels as JSON.
    fn curate_add_new_from(
        &self,
        py: Python<'_>,
        batch: Bound<'_, PyAny>,
        options: Options,
        column: &str,
    ) -> PyResult<String> {
        let table = RecordBatch::from_pyarrow_bound(&batch)?;
        let saved = py
            .detach(|| options.curator(&self.ln, table)?.add_new_from(column))
            .map_err(to_py)?;
        json(&saved.records)
    }

    /// Saves the valid table as an artifact with its features and labels: `(JSON, existed)`;
    /// an invalid table is a `ValidationError` carrying the report.
    #[pyo3(signature = (batch, options, key=None, description=None))]
    fn curate_save(
        &self,
        py: Python<'_>,
        batch: Bound<'_, PyAny>,
        options: Options,
        key: Option<String>,
        description: Option<String>,
    ) -> PyResult<(String, bool)> {
        let table = RecordBatch::from_pyarrow_bound(&batch)?;
        let saved = py
            .detach(|| {
                options
                    .curator(&self.ln, table)?
                    .save_artifact(key.as_deref(), description.as_deref())
            })
            .map_err(to_py)?;
        Ok((json(&saved.record)?, saved.existed))
    }
}
