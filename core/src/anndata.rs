//! AnnData artifacts: what an `.h5ad` holds, read once when it is saved (shape, `X`'s
//! layout, the `obs`/`var` columns with their dtypes, the keys of `layers`, `obsm`, …) and
//! kept with the artifact, so `describe` answers without fetching the object.

use std::path::Path;

use arrow::array::Array;
use lamella_storage::AnnData;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What an AnnData artifact holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnDataInfo {
    /// Observations (cells).
    pub n_obs: u64,
    /// Variables (genes).
    pub n_vars: u64,
    /// `X`'s layout, when the file has an `X`.
    pub x: Option<MatrixSummary>,
    /// `obs`'s columns (the index excluded), in order.
    pub obs: Vec<AxisColumn>,
    /// The name of `obs`'s index, when it has one.
    pub obs_index: Option<String>,
    /// `var`'s columns (the index excluded), in order.
    pub var: Vec<AxisColumn>,
    /// The name of `var`'s index, when it has one.
    pub var_index: Option<String>,
    /// Keys of `layers`.
    pub layers: Vec<String>,
    /// Keys of `obsm`.
    pub obsm: Vec<String>,
    /// Keys of `varm`.
    pub varm: Vec<String>,
    /// Keys of `obsp`.
    pub obsp: Vec<String>,
    /// Keys of `varp`.
    pub varp: Vec<String>,
    /// Keys of `uns`.
    pub uns: Vec<String>,
}

/// A matrix's layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixSummary {
    /// `dense`, `csr_matrix` or `csc_matrix`.
    pub encoding: String,
    /// numpy's name of the value type (`float32`).
    pub dtype: String,
    /// Stored values of a sparse matrix.
    pub nnz: Option<u64>,
}

/// A column of `obs` or `var` with its dtype.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxisColumn {
    /// The column's name.
    pub name: String,
    /// Its dtype in Lamella's grammar (`cat`, `int`, `float`, `bool`, `str`, …).
    pub dtype: String,
}

impl AnnDataInfo {
    /// Reads the summary of the AnnData file at `path` (attributes and shapes only).
    pub fn read(path: &Path) -> Result<AnnDataInfo> {
        Self::of(&AnnData::open(path)?)
    }

    /// The summary of an open AnnData file.
    pub fn of(a: &AnnData) -> Result<AnnDataInfo> {
        let s = a.summary()?;
        let columns = |schema: &arrow::datatypes::Schema| -> Vec<AxisColumn> {
            schema
                .fields()
                .iter()
                .map(|f| AxisColumn {
                    name: f.name().clone(),
                    dtype: crate::annotate::infer_from_type(f.name(), f.data_type())
                        .map(|d| d.to_string())
                        .unwrap_or_else(|_| f.data_type().to_string()),
                })
                .collect()
        };
        Ok(AnnDataInfo {
            n_obs: s.n_obs,
            n_vars: s.n_vars,
            x: s.x.map(|x| MatrixSummary {
                encoding: x.encoding.name().to_string(),
                dtype: x.dtype,
                nnz: x.nnz,
            }),
            obs: columns(&s.obs),
            obs_index: s.obs_index,
            var: columns(&s.var),
            var_index: s.var_index,
            layers: s.layers,
            obsm: s.obsm,
            varm: s.varm,
            obsp: s.obsp,
            varp: s.varp,
            uns: s.uns,
        })
    }

    /// The row kept with an artifact.
    pub(crate) fn to_row(&self, artifact_id: i64) -> Result<lamella_schema::anndata::AnnDataRow> {
        Ok(lamella_schema::anndata::AnnDataRow {
            artifact_id,
            n_obs: i64::try_from(self.n_obs).unwrap_or(i64::MAX),
            n_vars: i64::try_from(self.n_vars).unwrap_or(i64::MAX),
            summary: serde_json::to_string(self).map_err(|e| Error::Internal(e.to_string()))?,
        })
    }

    /// The summary kept with an artifact (`None` when it is not AnnData or was registered
    /// without being read).
    pub(crate) fn of_artifact(ln: &crate::Instance, artifact_id: i64) -> Result<Option<Self>> {
        let rows = ln
            .db()
            .with_conn(|c| lamella_schema::anndata::of_artifacts(c, &[artifact_id]))?;
        rows.into_iter()
            .next()
            .map(|r| {
                serde_json::from_str(&r.summary).map_err(|e| Error::Corrupt {
                    what: format!("the AnnData summary of artifact {artifact_id}"),
                    message: e.to_string(),
                    advice: "save the .h5ad file again",
                })
            })
            .transpose()
    }
}

/// Columns listed by name in the text layout before "… and N more" (JSON lists all).
const SHOWN_COLUMNS: usize = 40;

impl std::fmt::Display for AnnDataInfo {
    /// The `AnnData:` section of a description: shape, `X`, the axes' columns, the keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnnData: {} obs × {} vars", self.n_obs, self.n_vars)?;
        if let Some(x) = &self.x {
            write!(f, ", X {} {}", x.encoding, x.dtype)?;
            if let Some(n) = x.nnz {
                write!(f, " ({n} stored values)")?;
            }
        }
        writeln!(f)?;
        for (axis, columns, index) in [
            ("obs", &self.obs, &self.obs_index),
            ("var", &self.var, &self.var_index),
        ] {
            let shown: Vec<String> = columns
                .iter()
                .take(SHOWN_COLUMNS)
                .map(|c| format!("{} ({})", c.name, c.dtype))
                .collect();
            let mut line = if shown.is_empty() {
                "no columns".to_string()
            } else {
                shown.join(", ")
            };
            if columns.len() > SHOWN_COLUMNS {
                line.push_str(&format!(", … and {} more", columns.len() - SHOWN_COLUMNS));
            }
            let index = index.as_deref().unwrap_or("unnamed");
            writeln!(f, "  {axis}: {line}; index: {index}")?;
        }
        for (name, keys) in [
            ("layers", &self.layers),
            ("obsm", &self.obsm),
            ("varm", &self.varm),
            ("obsp", &self.obsp),
            ("varp", &self.varp),
            ("uns", &self.uns),
        ] {
            if !keys.is_empty() {
                writeln!(f, "  {name}: {}", keys.join(", "))?;
            }
        }
        writeln!(f)
    }
}

impl crate::registry::Features {
    /// One feature per entry of an AnnData's `var` index (gene identifiers), inferred,
    /// unsaved: the dtype is `X`'s kind of number (`float`, or `int` for integer counts);
    /// a repeated identifier gives one feature.
    pub fn infer_var(&self, path: &Path) -> Result<Vec<lamella_schema::Feature>> {
        let data = AnnData::open(path)?;
        // (X's layout only: the frames' column types are not needed here)
        let x_dtype = if data.has("X") {
            Some(data.matrix_info("X")?.dtype)
        } else {
            None
        };
        let dtype = match x_dtype {
            Some(d) if d.starts_with("int") || d.starts_with("uint") => lamella_schema::Dtype::Int,
            _ => lamella_schema::Dtype::Float,
        };
        let names = data.names(lamella_storage::Axis::Var)?;
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        Ok(names
            .iter()
            .flatten()
            .filter(|n| seen.insert(*n))
            .map(|n| lamella_schema::Feature::new(n.to_string(), dtype.clone()))
            .collect())
    }

    /// [`infer_var`](Self::infer_var), saved in one bulk call (existing features are
    /// returned as they are, with notes where their dtype differs).
    pub fn from_var(
        &self,
        path: &Path,
    ) -> Result<crate::registry::SavedAll<lamella_schema::Feature>> {
        self.save_inferred(self.infer_var(path)?)
    }
}

/// Whether `name` is AnnData by its suffix (`.h5ad`, or a `.zarr` folder).
pub(crate) fn is_anndata(name: &str) -> bool {
    lamella_storage::is_anndata_file(name)
}

/// Whether an artifact is AnnData: an `.h5ad` file, or a folder saved as AnnData (a Zarr
/// store, `accessor = "AnnData"`).
pub(crate) fn is_anndata_artifact(a: &lamella_schema::Artifact) -> bool {
    is_anndata(&a.suffix) || a.accessor.as_deref() == Some("AnnData")
}
