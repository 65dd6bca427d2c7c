//! What lies behind `artifact.path`: an artifact's objects, listed and downloaded one by one
//! (LaminDB's UPath `glob` and `download_to`), on local and S3 storage alike.

use pyo3::prelude::*;

use crate::{PyInstance, to_py};

#[pymethods]
impl PyInstance {
    /// Where the artifact's object lives (a local path or an `s3://` URL).
    fn artifact_location(&self, py: Python<'_>, uid: &str) -> PyResult<String> {
        let reg = self.ln.artifacts();
        py.detach(|| reg.location(&reg.filter("uid", uid).one()?))
            .map_err(to_py)
    }

    /// The objects of the artifact: `(path inside it, size)`; a file artifact is `("", size)`.
    fn artifact_objects(&self, py: Python<'_>, uid: &str) -> PyResult<Vec<(String, u64)>> {
        let reg = self.ln.artifacts();
        py.detach(|| reg.objects(&reg.filter("uid", uid).one()?))
            .map_err(to_py)
    }

    /// Downloads the object `rel` of the artifact (`""`: the file itself) to the file `dest`.
    fn download_object(&self, py: Python<'_>, uid: &str, rel: &str, dest: &str) -> PyResult<()> {
        let reg = self.ln.artifacts();
        py.detach(|| reg.download_object(&reg.filter("uid", uid).one()?, rel, dest.as_ref()))
            .map_err(to_py)
    }

    /// The `n` most recent records of every registry, or of those in `registries`:
    /// `[(registry, total, pyarrow batch)]` (LaminDB's `ln.view()`).
    #[pyo3(signature = (registries=Vec::new(), n=7))]
    fn view(
        &self,
        py: Python<'_>,
        registries: Vec<String>,
        n: i64,
    ) -> PyResult<Vec<(String, i64, Py<PyAny>)>> {
        use arrow_pyarrow::ToPyArrow;
        let only: Vec<&str> = registries.iter().map(String::as_str).collect();
        let views = py.detach(|| self.ln.view(n, &only)).map_err(to_py)?;
        views
            .into_iter()
            .map(|v| {
                Ok((
                    v.registry.to_string(),
                    v.total,
                    v.table.to_pyarrow(py)?.unbind(),
                ))
            })
            .collect()
    }

    /// The default storage's root (a folder or an `s3://` URL).
    #[getter]
    fn storage_root(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.ln.storage())
            .map(|s| s.root)
            .map_err(to_py)
    }

    /// Makes `root` (a registered or new storage location) the default storage.
    fn set_storage(&self, py: Python<'_>, root: &str) -> PyResult<String> {
        py.detach(|| self.ln.set_default_storage(root))
            .map(|s| s.root)
            .map_err(to_py)
    }
}
