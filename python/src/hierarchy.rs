//! Label hierarchies, transform parents, lookups and search: `ulabel.children.set(...)`,
//! `view_parents()`, `Registry.lookup()`, `Registry.search()`.

use lamella_core::{Format, ULabel, ViewParents};
use pyo3::prelude::*;

use crate::{PyInstance, ValidationError, json, to_py};

/// The format named `format`: `svg`, `dot` or `mermaid`.
pub(crate) fn format(format: &str) -> PyResult<Format> {
    match format {
        "svg" => Ok(Format::Svg),
        "dot" => Ok(Format::Dot),
        "mermaid" | "mmd" => Ok(Format::Mermaid),
        other => Err(ValidationError::new_err(format!(
            "no graph format {other}: use svg, dot or mermaid"
        ))),
    }
}

#[pymethods]
impl PyInstance {
    /// The parents or children (`which`) of the label `uid`, after `action`: `all` (nothing
    /// changed), `set` (replace by `uids`), `add` or `remove` them. Returns JSON records.
    #[pyo3(signature = (uid, which, action, uids=Vec::new()))]
    fn relatives(
        &self,
        py: Python<'_>,
        uid: &str,
        which: &str,
        action: &str,
        uids: Vec<String>,
    ) -> PyResult<String> {
        if !["parents", "children"].contains(&which) {
            return Err(ValidationError::new_err(format!(
                "no relation {which}: use parents or children"
            )));
        }
        if !["all", "set", "add", "remove"].contains(&action) {
            return Err(ValidationError::new_err(format!(
                "no action {action}: use all, set, add or remove"
            )));
        }
        let reg = self.ln.ulabels();
        let found = py
            .detach(|| {
                let label = reg.filter("uid", uid).one()?;
                let others: Vec<ULabel> = if action == "all" {
                    Vec::new()
                } else {
                    self.labels_by_uid(&uids)?
                };
                let relatives = if which == "parents" {
                    reg.parents(&label)?
                } else {
                    reg.children(&label)?
                };
                match action {
                    "set" => relatives.set(&others)?,
                    "add" => relatives.add(&others)?,
                    "remove" => relatives.remove(&others)?,
                    _ => 0,
                };
                relatives.all()
            })
            .map_err(to_py)?;
        json(&found)
    }

    /// The hierarchy around a label (`ULabel`) or the parents of a transform (`Transform`),
    /// `distance` levels, with the children when asked, as `format` text (svg, dot, mermaid).
    #[pyo3(signature = (registry, uid, with_children=false, distance=5, format="svg"))]
    fn view_parents(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        with_children: bool,
        distance: u32,
        format: &str,
    ) -> PyResult<String> {
        let format = self::format(format)?;
        let view = if with_children {
            ViewParents::WithChildren
        } else {
            ViewParents::Parents
        };
        let graph = match registry {
            "ULabel" => {
                let reg = self.ln.ulabels();
                py.detach(|| reg.view_parents(&reg.filter("uid", uid).one()?, view, distance))
            }
            "Transform" => {
                let reg = self.ln.transforms();
                py.detach(|| reg.view_parents(&reg.filter("uid", uid).one()?, view, distance))
            }
            other => {
                return Err(ValidationError::new_err(format!(
                    "{other} records have no parents; labels and transforms do"
                )));
            }
        }
        .map_err(to_py)?;
        lamella_core::render(&graph, format)
            .map_err(|e| crate::LamellaError::new_err(e.to_string()))
    }

    /// Every record of `registry` (`ULabel`, `Feature`) under its identifier-safe name:
    /// `(key, record as JSON)` pairs, as LaminDB's `lookup()` offers them.
    fn lookup(&self, py: Python<'_>, registry: &str) -> PyResult<Vec<(String, String)>> {
        fn pairs<T: serde::Serialize>(
            l: &lamella_core::NameLookup<T>,
        ) -> PyResult<Vec<(String, String)>> {
            l.keys()
                .into_iter()
                .filter_map(|k| l.get(k).map(|r| (k, r)))
                .map(|(k, r)| Ok((k.to_string(), json(r)?)))
                .collect()
        }
        match registry {
            "ULabel" => {
                let reg = self.ln.ulabels();
                pairs(&py.detach(|| reg.lookup()).map_err(to_py)?)
            }
            "Feature" => {
                let reg = self.ln.features();
                pairs(&py.detach(|| reg.lookup()).map_err(to_py)?)
            }
            other => Err(ValidationError::new_err(format!(
                "{other} has no lookup(); ULabel and Feature do"
            ))),
        }
    }

    /// Records of `registry` (`ULabel`, `Feature`) whose names match `text`, best first: JSON
    /// `[{"record": …, "match": "exact"|"prefix"|…}]`.
    fn search(&self, py: Python<'_>, registry: &str, text: &str) -> PyResult<String> {
        fn hits<T: serde::Serialize>(found: Vec<lamella_core::Hit<T>>) -> PyResult<String> {
            let rows: Vec<serde_json::Value> = found
                .iter()
                .map(|h| {
                    serde_json::json!({
                        "record": h.record,
                        "match": format!("{:?}", h.kind).to_lowercase(),
                    })
                })
                .collect();
            json(&rows)
        }
        match registry {
            "ULabel" => {
                let reg = self.ln.ulabels();
                hits(py.detach(|| reg.search(text)).map_err(to_py)?)
            }
            "Feature" => {
                let reg = self.ln.features();
                hits(py.detach(|| reg.search(text)).map_err(to_py)?)
            }
            other => Err(ValidationError::new_err(format!(
                "{other} has no search(); ULabel and Feature do"
            ))),
        }
    }
}

impl PyInstance {
    /// The labels with these uids, in one query; a uid that is no label is an error naming it.
    pub(crate) fn labels_by_uid(&self, uids: &[String]) -> lamella_core::Result<Vec<ULabel>> {
        let found = self
            .ln
            .ulabels()
            .query()
            .filter("uid__in", uids.to_vec())
            .all()?;
        if found.len() != uids.len() {
            for u in uids {
                self.ln.ulabels().filter("uid", u.as_str()).one()?;
            }
        }
        Ok(found)
    }
}
