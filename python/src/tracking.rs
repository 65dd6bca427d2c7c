//! Provenance: `ln.track()`, `ln.finish()`, the current run, and lineage graphs
//! (`artifact.view_lineage()`).

use lamella_core::{Direction, LineageOf, Transform};
use pyo3::prelude::*;

use crate::{PyInstance, ValidationError, json, to_py};

#[pymethods]
impl PyInstance {
    /// Starts a run of the transform `name` (found by key, else by name; a new `version`
    /// makes a new version of the family); `uid` (16 characters) names a new transform.
    /// Returns `(transform JSON, run JSON, whether the transform is new)`.
    #[pyo3(signature = (name, kind, key=None, version=None, uid=None, description=None))]
    #[allow(clippy::too_many_arguments)]
    fn track(
        &self,
        py: Python<'_>,
        name: String,
        kind: String,
        key: Option<String>,
        version: Option<String>,
        uid: Option<String>,
        description: Option<String>,
    ) -> PyResult<(String, String, bool)> {
        let mut t = Transform::new(name);
        t.kind = kind;
        t.key = key;
        t.version = version;
        t.description = description;
        if let Some(u) = uid {
            if u.len() != 16 || !u.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ValidationError::new_err(format!(
                    "a transform uid is 16 letters and digits (a 12-character stem and a \
                     4-character version suffix), not '{u}'"
                )));
            }
            t.uid = u;
        }
        let tracked = py.detach(|| self.ln.track(t)).map_err(to_py)?;
        Ok((
            json(&tracked.transform)?,
            json(&tracked.run)?,
            tracked.new_transform,
        ))
    }

    /// Finishes the current run; its JSON, or `None` when nothing was tracked.
    fn finish(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let run = py.detach(|| self.ln.finish()).map_err(to_py)?;
        run.map(|r| json(&r)).transpose()
    }

    /// The run being tracked: `(transform JSON, run JSON)`, or `None`.
    fn current_run(&self) -> PyResult<Option<(String, String)>> {
        self.ln
            .current_run()
            .map(|t| Ok((json(&t.transform)?, json(&t.run)?)))
            .transpose()
    }

    /// The lineage of an artifact or collection (`depth` steps upstream, or downstream) as
    /// `format` text (svg, dot, mermaid).
    #[pyo3(signature = (registry, uid, depth=10, downstream=false, format="svg"))]
    fn lineage(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        depth: u32,
        downstream: bool,
        format: &str,
    ) -> PyResult<String> {
        if registry != "Artifact" && registry != "Collection" {
            return Err(ValidationError::new_err(format!(
                "{registry} records have no lineage; artifacts and collections do"
            )));
        }
        let format = crate::hierarchy::format(format)?;
        let direction = if downstream {
            Direction::Downstream
        } else {
            Direction::Upstream
        };
        let graph = py
            .detach(|| {
                let lineage = match registry {
                    "Artifact" => {
                        let a = self.ln.artifacts().filter("uid", uid).one()?;
                        self.ln.lineage(LineageOf::Artifact(&a), depth, direction)?
                    }
                    _ => {
                        let c = self.ln.collections().query().filter("uid", uid).one()?;
                        self.ln
                            .lineage(LineageOf::Collection(&c), depth, direction)?
                    }
                };
                Ok(lineage.graph(5))
            })
            .map_err(to_py)?;
        lamella_core::render(&graph, format)
            .map_err(|e| crate::LamellaError::new_err(e.to_string()))
    }
}
