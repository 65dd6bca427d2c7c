//! `lamella._lamella`: the native half of the Python package. A thin layer over
//! `lamella-core`: an `Instance` handle whose methods take and return plain Python values
//! (records as JSON text, tables as pyarrow tables through the Arrow C Data Interface), and
//! exceptions by error kind. The LaminDB-shaped API (`ln.ULabel(...).save()`, `filter`,
//! `df`) is Python, in `lamella/__init__.py`, on top of this.
//!
//! Every call into the core releases the GIL, so Python threads wait on the database, not
//! on each other.

mod annotation;
mod curation;
mod hierarchy;
mod objects;
mod tracking;

use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use lamella_core::{Dtype, Feature, Instance, Query, ULabel};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString};

create_exception!(
    _lamella,
    LamellaError,
    PyException,
    "An error of Lamella's core."
);
create_exception!(_lamella, DoesNotExist, LamellaError, "No record matches.");
create_exception!(
    _lamella,
    MultipleResultsFound,
    LamellaError,
    "More than one record matches where one was expected."
);
create_exception!(
    _lamella,
    ValidationError,
    LamellaError,
    "A value, name, dtype or lookup is not valid."
);

/// A core error as the Python exception of its kind, the message intact.
fn to_py(e: lamella_core::Error) -> PyErr {
    let mut message = e.to_string();
    if let lamella_core::Error::Curation(report) = &e {
        // the one report listing every problem, as the CLI prints it
        message = format!("{message}\n{report}");
    }
    match e.kind() {
        "not_found" => DoesNotExist::new_err(message),
        "ambiguous" => MultipleResultsFound::new_err(message),
        k if k.starts_with("invalid") || k == "unknown_choice" || k == "missing_branch" => {
            ValidationError::new_err(message)
        }
        _ => LamellaError::new_err(message),
    }
}

fn json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| LamellaError::new_err(e.to_string()))
}

/// The text field `name` of a record's fields (a dict), `None` when absent or None.
fn text_field(r: &Bound<'_, PyAny>, registry: &str, name: &str) -> PyResult<Option<String>> {
    match r.get_item(name) {
        Ok(v) if !v.is_none() => Ok(Some(v.extract::<String>().map_err(|_| {
            ValidationError::new_err(format!(
                "{registry}.{name} must be text, not {}",
                v.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?)),
        _ => Ok(None),
    }
}

/// A label from its fields.
fn label_from(r: &Bound<'_, PyAny>) -> PyResult<ULabel> {
    let name = text_field(r, "ULabel", "name")?
        .ok_or_else(|| ValidationError::new_err("a ULabel needs a name"))?;
    let mut l = ULabel::new(name);
    l.description = text_field(r, "ULabel", "description")?;
    l.reference = text_field(r, "ULabel", "reference")?;
    Ok(l)
}

/// A feature from its fields.
fn feature_from(r: &Bound<'_, PyAny>) -> PyResult<Feature> {
    let name = text_field(r, "Feature", "name")?
        .ok_or_else(|| ValidationError::new_err("a Feature needs a name"))?;
    let dtype: Dtype = text_field(r, "Feature", "dtype")?
        .ok_or_else(|| {
            ValidationError::new_err(format!(
                "the Feature '{name}' needs a dtype (e.g. dtype=\"cat\" or \"float\")"
            ))
        })?
        .parse()
        .map_err(|e: lamella_core::DtypeError| ValidationError::new_err(e.to_string()))?;
    let mut f = Feature::new(name, dtype);
    f.unit = text_field(r, "Feature", "unit")?;
    f.description = text_field(r, "Feature", "description")?;
    Ok(f)
}

/// LaminDB's messages after a bulk save, as `(level, text)`.
fn save_messages<T>(registry: &str, saved: &lamella_core::SavedAll<T>) -> Vec<(String, String)> {
    let quoted = |names: &[String]| -> String {
        let mut shown: Vec<String> = names.iter().take(10).map(|n| format!("'{n}'")).collect();
        if names.len() > 10 {
            shown.push(format!("… {} more", names.len() - 10));
        }
        shown.join(", ")
    };
    let mut out = Vec::new();
    match saved.existing.len() {
        0 => {}
        1 => out.push((
            "warning".into(),
            format!(
                "loaded {registry} record with same name: {}",
                quoted(&saved.existing)
            ),
        )),
        n => out.push((
            "warning".into(),
            format!(
                "loaded {n} {registry} records with same names: {}",
                quoted(&saved.existing)
            ),
        )),
    }
    for (name, similar) in &saved.similar {
        out.push((
            "warning".into(),
            format!(
                "record with similar name exists for '{name}': {} — did you mean to load it?",
                quoted(similar)
            ),
        ));
    }
    out.extend(
        saved
            .notes
            .iter()
            .map(|n| ("warning".to_string(), n.clone())),
    );
    out
}

/// A Python value as a lookup value: None, bool, int, float, str, or a list of those.
fn lookup_value(v: &Bound<'_, PyAny>) -> PyResult<lamella_core::Value> {
    use lamella_core::Value;
    Ok(if v.is_none() {
        Value::Null
    } else if v.is_instance_of::<PyBool>() {
        Value::Bool(v.extract()?)
    } else if v.is_instance_of::<PyInt>() {
        Value::Int(v.extract()?)
    } else if v.is_instance_of::<PyFloat>() {
        Value::Float(v.extract()?)
    } else if v.is_instance_of::<PyString>() {
        Value::Text(v.extract()?)
    } else if let Ok(list) = v.cast::<PyList>() {
        Value::List(
            list.iter()
                .map(|x| lookup_value(&x))
                .collect::<PyResult<_>>()?,
        )
    } else {
        return Err(ValidationError::new_err(format!(
            "a lookup value must be None, a bool, a number, text or a list of them, not {}",
            v.get_type().name()?
        )));
    })
}

/// What a query call returns.
enum Answer {
    Records(String),
    Count(i64),
    Table(lamella_core::RecordBatch),
}

/// A connection to one Lamella instance.
#[pyclass(name = "Instance", module = "lamella._lamella", frozen)]
struct PyInstance {
    ln: Instance,
}

#[pymethods]
impl PyInstance {
    /// Creates an instance: its data under `storage`, its metadata in SQLite there or in the
    /// database `db` (a `postgresql://` URL); it becomes the current instance.
    #[staticmethod]
    #[pyo3(signature = (storage, db=None))]
    fn init(py: Python<'_>, storage: String, db: Option<String>) -> PyResult<Self> {
        let ln = py
            .detach(|| {
                let mut b = Instance::builder(&storage).remember();
                if let Some(url) = db {
                    b = b.db(url);
                }
                b.create()
            })
            .map_err(to_py)?;
        Ok(PyInstance { ln })
    }

    /// Connects to the instance at `root`, or the current one.
    #[staticmethod]
    #[pyo3(signature = (root=None))]
    fn connect(py: Python<'_>, root: Option<String>) -> PyResult<Self> {
        let ln = py
            .detach(|| match root {
                Some(r) => Instance::connect(r),
                None => Instance::connect_current(),
            })
            .map_err(to_py)?;
        Ok(PyInstance { ln })
    }

    /// The instance's storage root.
    #[getter]
    fn root(&self) -> String {
        self.ln.root().to_string()
    }

    /// Saves records of `registry` (`ULabel`, `Feature`) given as dicts of fields, in one
    /// bulk call: existing names are returned as stored. Returns the records as JSON and
    /// LaminDB's messages as `(level, text)` (`warning`: a name loaded or near a known one).
    fn save(
        &self,
        py: Python<'_>,
        registry: &str,
        records: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<(String, Vec<(String, String)>)> {
        match registry {
            "ULabel" => {
                let labels = records
                    .iter()
                    .map(label_from)
                    .collect::<PyResult<Vec<_>>>()?;
                let saved = py
                    .detach(|| self.ln.ulabels().save_all(labels))
                    .map_err(to_py)?;
                Ok((json(&saved.records)?, save_messages(registry, &saved)))
            }
            "Feature" => {
                let features = records
                    .iter()
                    .map(feature_from)
                    .collect::<PyResult<Vec<_>>>()?;
                let saved = py
                    .detach(|| self.ln.features().save_all(features))
                    .map_err(to_py)?;
                Ok((json(&saved.records)?, save_messages(registry, &saved)))
            }
            other => Err(ValidationError::new_err(format!(
                "{other} records are not saved with save(): ULabel and Feature are"
            ))),
        }
    }

    /// Writes the changed fields of the saved record `uid` of `registry` (`ULabel`: name,
    /// description, reference; `Feature`: name, dtype, unit, description). Returns its JSON.
    fn update(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        fields: Bound<'_, PyAny>,
    ) -> PyResult<String> {
        match registry {
            "ULabel" => {
                let edit = label_from(&fields)?;
                let reg = self.ln.ulabels();
                let l = py
                    .detach(|| {
                        let mut l = reg.filter("uid", uid).one()?;
                        l.name = edit.name;
                        l.description = edit.description;
                        l.reference = edit.reference;
                        reg.update(&mut l)?;
                        Ok(l)
                    })
                    .map_err(to_py)?;
                json(&l)
            }
            "Feature" => {
                let edit = feature_from(&fields)?;
                let reg = self.ln.features();
                let f = py
                    .detach(|| {
                        let mut f = reg.filter("uid", uid).one()?;
                        f.name = edit.name;
                        f.dtype = edit.dtype;
                        f.unit = edit.unit;
                        f.description = edit.description;
                        reg.update(&mut f)?;
                        Ok(f)
                    })
                    .map_err(to_py)?;
                json(&f)
            }
            other => Err(ValidationError::new_err(format!(
                "{other} records are not changed with save(): ULabel and Feature are"
            ))),
        }
    }

    /// Runs a query on `registry`: `lookups` are (field__lookup, value) pairs (ANDed);
    /// `method` is `all`, `one`, `first` (records as JSON), `count`, or `df` (a pyarrow
    /// table).
    fn query(
        &self,
        py: Python<'_>,
        registry: &str,
        lookups: Vec<(String, Bound<'_, PyAny>)>,
        method: &str,
    ) -> PyResult<Py<PyAny>> {
        if !["all", "one", "first", "count", "df"].contains(&method) {
            return Err(ValidationError::new_err(format!(
                "no query method {method}: use all, one, first, count or df"
            )));
        }
        let lookups: Vec<(String, lamella_core::Value)> = lookups
            .iter()
            .map(|(k, v)| Ok((k.clone(), lookup_value(v)?)))
            .collect::<PyResult<_>>()?;
        let answer = match registry {
            "ULabel" => {
                let q = self.ln.ulabels().query();
                py.detach(|| run(q, &lookups, method))
            }
            "Feature" => {
                let q = self.ln.features().query();
                py.detach(|| run(q, &lookups, method))
            }
            "Artifact" => {
                let q = self.ln.artifacts().query();
                py.detach(|| run(q, &lookups, method))
            }
            "Collection" => {
                let q = self.ln.collections().query();
                py.detach(|| run(q, &lookups, method))
            }
            "FeatureSet" => {
                let q = self.ln.query::<lamella_core::FeatureSet>();
                py.detach(|| run(q, &lookups, method))
            }
            "Transform" => {
                let q = self.ln.query::<lamella_core::Transform>();
                py.detach(|| run(q, &lookups, method))
            }
            "Run" => {
                let q = self.ln.query::<lamella_core::Run>();
                py.detach(|| run(q, &lookups, method))
            }
            "Storage" => {
                let q = self.ln.query::<lamella_core::Storage>();
                py.detach(|| run(q, &lookups, method))
            }
            "User" => {
                let q = self.ln.query::<lamella_core::User>();
                py.detach(|| run(q, &lookups, method))
            }
            other => {
                return Err(ValidationError::new_err(format!(
                    "no registry {other}: use ULabel, Feature, FeatureSet, Artifact, \
                     Collection, Transform, Run, Storage or User"
                )));
            }
        }
        .map_err(to_py)?;
        Ok(match answer {
            Answer::Records(s) => s.into_pyobject(py)?.into_any().unbind(),
            Answer::Count(n) => n.into_pyobject(py)?.into_any().unbind(),
            Answer::Table(b) => b.to_pyarrow(py)?.unbind(),
        })
    }

    /// Saves an artifact from a file or folder `path`, or from a pyarrow `RecordBatch`
    /// (written as Parquet); returns `(record as JSON, existed)`.
    #[pyo3(signature = (path=None, batch=None, key=None, description=None))]
    fn save_artifact(
        &self,
        py: Python<'_>,
        path: Option<String>,
        batch: Option<Bound<'_, PyAny>>,
        key: Option<String>,
        description: Option<String>,
    ) -> PyResult<(String, bool)> {
        let artifacts = self.ln.artifacts();
        let mut draft = match (path, batch) {
            (Some(p), None) => artifacts.from_path(p),
            (None, Some(b)) => {
                artifacts.from_table(&lamella_core::RecordBatch::from_pyarrow_bound(&b)?)
            }
            _ => {
                return Err(ValidationError::new_err(
                    "an artifact comes from a path or from a table, one of them",
                ));
            }
        };
        if let Some(k) = key {
            draft = draft.key(k);
        }
        if let Some(d) = description {
            draft = draft.description(d);
        }
        let saved = py.detach(|| draft.save()).map_err(to_py)?;
        Ok((json(&saved.record)?, saved.existed))
    }

    /// An artifact's content: a table (pyarrow) for Parquet and CSV, else its local path.
    fn load_artifact(&self, py: Python<'_>, uid: &str) -> PyResult<Py<PyAny>> {
        let reg = self.ln.artifacts();
        let loaded = py
            .detach(|| {
                let a = reg.filter("uid", uid).one()?;
                reg.load(&a)
            })
            .map_err(to_py)?;
        Ok(match loaded {
            lamella_core::Loaded::Table(b) => b.to_pyarrow(py)?.unbind(),
            lamella_core::Loaded::Path(p) => p
                .display()
                .to_string()
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        })
    }

    /// A local path to an artifact's content (downloaded to the cache from cloud storage).
    fn cache(&self, py: Python<'_>, uid: &str) -> PyResult<String> {
        let reg = self.ln.artifacts();
        py.detach(|| {
            let a = reg.filter("uid", uid).one()?;
            reg.cache(&a)
        })
        .map(|p| p.display().to_string())
        .map_err(to_py)
    }

    /// Saves a collection of the artifacts `uids` (in order) named `name`; returns `(record
    /// as JSON, existed)`.
    #[pyo3(signature = (uids, name, version=None, description=None))]
    fn save_collection(
        &self,
        py: Python<'_>,
        uids: Vec<String>,
        name: String,
        version: Option<String>,
        description: Option<String>,
    ) -> PyResult<(String, bool)> {
        let saved = py
            .detach(|| {
                let members = self
                    .ln
                    .artifacts()
                    .query()
                    .filter("uid__in", uids.clone())
                    .all()?;
                let by_uid: std::collections::HashMap<&str, &lamella_core::Artifact> =
                    members.iter().map(|a| (a.uid.as_str(), a)).collect();
                let mut ordered = Vec::with_capacity(uids.len());
                for u in &uids {
                    match by_uid.get(u.as_str()) {
                        Some(a) => ordered.push((*a).clone()),
                        // (not among the visible artifacts: the lookup says why)
                        None => ordered.push(self.ln.artifacts().filter("uid", u.as_str()).one()?),
                    }
                }
                let mut draft = self.ln.collections().create(&ordered, name);
                if let Some(v) = version {
                    draft = draft.version(v);
                }
                if let Some(d) = description {
                    draft = draft.description(d);
                }
                draft.save()
            })
            .map_err(to_py)?;
        Ok((json(&saved.record)?, saved.existed))
    }

    /// A collection's members (JSON records, in order) and its concatenated table (pyarrow).
    fn collection_members(&self, py: Python<'_>, uid: &str) -> PyResult<String> {
        let reg = self.ln.collections();
        let members = py
            .detach(|| {
                let c = reg.query().filter("uid", uid).one()?;
                reg.artifacts(&c)
            })
            .map_err(to_py)?;
        json(&members)
    }

    /// The members' tables concatenated (SPEC §7.1 rules, outer join) as a pyarrow batch.
    fn load_collection(&self, py: Python<'_>, uid: &str) -> PyResult<Py<PyAny>> {
        let reg = self.ln.collections();
        let table = py
            .detach(|| {
                let c = reg.query().filter("uid", uid).one()?;
                reg.concat(&c).load()
            })
            .map_err(to_py)?;
        Ok(table.to_pyarrow(py)?.unbind())
    }

    /// Links the labels `label_uids` to an artifact or collection, through the feature
    /// `feature_uid` when given; returns the notes (LaminDB's messages, e.g. a new feature
    /// set).
    #[pyo3(signature = (registry, uid, label_uids, feature_uid=None))]
    fn add_labels(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        label_uids: Vec<String>,
        feature_uid: Option<String>,
    ) -> PyResult<Vec<String>> {
        let labels_of = self.labels_handle(registry)?;
        py.detach(|| {
            let labels = self.labels_by_uid(&label_uids)?;
            let feature = feature_uid
                .map(|f| self.ln.features().filter("uid", f).one())
                .transpose()?;
            let added = labels_of(&self.ln, uid)?.add(&labels, feature.as_ref())?;
            Ok(added.notes)
        })
        .map_err(to_py)
    }

    /// The labels of an artifact or collection (through `feature_uid` when given), as JSON.
    #[pyo3(signature = (registry, uid, feature_uid=None))]
    fn labels(
        &self,
        py: Python<'_>,
        registry: &str,
        uid: &str,
        feature_uid: Option<String>,
    ) -> PyResult<String> {
        let labels_of = self.labels_handle(registry)?;
        let found = py
            .detach(|| {
                let feature = feature_uid
                    .map(|f| self.ln.features().filter("uid", f).one())
                    .transpose()?;
                labels_of(&self.ln, uid)?.all(feature.as_ref())
            })
            .map_err(to_py)?;
        json(&found)
    }

    /// LaminDB's `describe()` text of an artifact or collection.
    fn describe(&self, py: Python<'_>, registry: &str, uid: &str) -> PyResult<String> {
        match registry {
            "Artifact" => {
                let reg = self.ln.artifacts();
                py.detach(|| {
                    let a = reg.filter("uid", uid).one()?;
                    Ok(reg.describe(&a)?.to_string())
                })
            }
            "Collection" => {
                let reg = self.ln.collections();
                py.detach(|| {
                    let c = reg.query().filter("uid", uid).one()?;
                    Ok(reg.describe(&c)?.to_string())
                })
            }
            other => {
                return Err(ValidationError::new_err(format!(
                    "{other} records have no describe(); artifacts and collections do"
                )));
            }
        }
        .map_err(to_py)
    }

    /// Deletes the record of `registry` with this uid.
    fn delete(&self, py: Python<'_>, registry: &str, uid: &str) -> PyResult<()> {
        if registry != "ULabel" && registry != "Feature" {
            return Err(ValidationError::new_err(format!(
                "deleting {registry} records from Python is not there yet (ULabel, Feature)"
            )));
        }
        py.detach(|| match registry {
            "ULabel" => {
                let l = self.ln.ulabels().filter("uid", uid).one()?;
                self.ln.ulabels().delete(&l)
            }
            _ => {
                let f = self.ln.features().filter("uid", uid).one()?;
                self.ln.features().delete(&f)
            }
        })
        .map_err(to_py)
    }
}

/// How to reach the labels of a record of `registry` by uid.
type LabelsOf = fn(&Instance, &str) -> lamella_core::Result<lamella_core::Labels>;

impl PyInstance {
    fn labels_handle(&self, registry: &str) -> PyResult<LabelsOf> {
        match registry {
            "Artifact" => Ok(|ln, uid| {
                let a = ln.artifacts().filter("uid", uid).one()?;
                ln.artifacts().labels(&a)
            }),
            "Collection" => Ok(|ln, uid| {
                let c = ln.collections().query().filter("uid", uid).one()?;
                ln.collections().labels(&c)
            }),
            other => Err(ValidationError::new_err(format!(
                "{other} records have no labels; artifacts and collections do"
            ))),
        }
    }
}

fn run<T>(
    mut q: Query<T>,
    lookups: &[(String, lamella_core::Value)],
    method: &str,
) -> lamella_core::Result<Answer>
where
    T: lamella_core::Record + serde::Serialize + Send + Sync + 'static,
{
    for (k, v) in lookups {
        q = q.filter(k, v.clone());
    }
    let text = |v: &dyn erased::Json| v.json();
    Ok(match method {
        "all" => Answer::Records(text(&q.all()?)?),
        "one" => Answer::Records(text(&vec![q.one()?])?),
        "first" => Answer::Records(text(&q.first()?.into_iter().collect::<Vec<_>>())?),
        "count" => Answer::Count(q.count()?),
        _ => Answer::Table(q.df()?),
    })
}

mod erased {
    /// Serializes to JSON text, behind a trait object.
    pub(crate) trait Json {
        fn json(&self) -> lamella_core::Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> lamella_core::Result<String> {
            serde_json::to_string(self).map_err(|e| lamella_core::Error::Internal(e.to_string()))
        }
    }
}

/// The shipped example table `name` (`iris_in_meter`, `iris_in_meter_study1`,
/// `iris_in_meter_study2`) as a pyarrow batch.
#[pyfunction]
fn dataset(py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
    use lamella_core::datasets;
    let table = match name {
        "iris_in_meter" => datasets::iris_in_meter(),
        "iris_in_meter_study1" => datasets::iris_in_meter_study1(),
        "iris_in_meter_study2" => datasets::iris_in_meter_study2(),
        other => {
            return Err(ValidationError::new_err(format!(
                "no dataset {other}: iris_in_meter, iris_in_meter_study1, iris_in_meter_study2"
            )));
        }
    }
    .map_err(to_py)?;
    Ok(table.to_pyarrow(py)?.unbind())
}

/// The native module.
#[pymodule]
fn _lamella(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyInstance>()?;
    m.add_function(wrap_pyfunction!(dataset, m)?)?;
    let py = m.py();
    m.add("LamellaError", py.get_type::<LamellaError>())?;
    m.add("DoesNotExist", py.get_type::<DoesNotExist>())?;
    m.add(
        "MultipleResultsFound",
        py.get_type::<MultipleResultsFound>(),
    )?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    Ok(())
}
