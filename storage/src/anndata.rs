//! AnnData read from `.h5ad` files through the HDF5 C library (`hdf5-metno`), and from
//! `.zarr` folders (Zarr formats 2 and 3, through `zarrs`; see [`crate::zarr`]): the layout is
//! the same tree of groups, arrays and attributes in both, and the reader asks the same few
//! questions of either (members, attributes, shapes, element types, values).
//!
//! The on-disk layout anndata writes (0.7 to 0.12): a root group with `obs` and `var`
//! dataframes (a group per frame: one element per column, the index named by the `_index`
//! attribute, the order by `column-order`), `X` (a dense 2-D dataset, or a `csr_matrix` /
//! `csc_matrix` group of `data`, `indices`, `indptr` with a `shape` attribute), and the
//! groups `layers`, `obsm`, `varm`, `obsp`, `varp`, `uns`. Columns are 1-D datasets
//! (numbers, booleans, strings) or groups: `categorical` (`categories` + `codes`, -1 for a
//! missing value), `nullable-integer`, `nullable-boolean`, `nullable-string-array` (`values`
//! and `mask`). anndata 0.7 wrote categoricals as a codes dataset with a `categories`
//! attribute pointing into `<frame>/__categories/`; files before 0.7 hold `obs` and `var` as
//! compound datasets (fields `index` and one per column, categories in
//! `uns/<column>_categories`).
//!
//! Reading touches only what is asked for: a summary reads attributes and shapes, a frame
//! reads its columns; `X` is never read whole. Errors name the file and the element (`obs/cell_type`).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, DictionaryArray, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch, RecordBatchOptions, StringArray,
    UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema, SchemaRef};
use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};

use crate::error::{Error, Result};
use crate::zarr::{self, ZarrTree};

/// Whether `name` is AnnData by its suffix (case-insensitive): an `.h5ad` file, or a `.zarr`
/// folder (Zarr is AnnData's other format; a store that is not AnnData is refused when
/// opened, naming what is missing).
pub fn is_anndata_file(name: &str) -> bool {
    let name = name.trim_end_matches(['/', '\\']).to_ascii_lowercase();
    name.ends_with(".h5ad") || name.ends_with(".zarr")
}

/// Whether `name` is an `.h5ad` file by its suffix (case-insensitive): the format Lamella
/// writes AnnData in.
pub fn is_h5ad_file(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".h5ad")
}

/// Whether `path` is a Zarr store holding AnnData (a folder whose root group has `obs` and
/// `var`); a `.zarr` folder of something else (an image, a plain array) is not.
pub fn is_anndata_store(path: &Path) -> bool {
    crate::zarr::is_zarr_store(path)
        && ZarrTree::open(path).is_ok_and(|z| {
            ["obs", "var"]
                .iter()
                .all(|n| matches!(z.node(n), Ok(Some(zarr::Node::Group(_)))))
        })
}

/// The two annotated axes of an AnnData: cells (`obs`) and genes (`var`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Observations (cells): rows of `X`.
    Obs,
    /// Variables (genes): columns of `X`.
    Var,
}

impl Axis {
    /// `obs` or `var`, the element's name in the file (and LaminDB's slot name).
    pub fn name(self) -> &'static str {
        match self {
            Axis::Obs => "obs",
            Axis::Var => "var",
        }
    }
}

/// How a matrix (`X`, a layer) is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixEncoding {
    /// A 2-D dataset.
    Dense,
    /// Compressed sparse rows.
    Csr,
    /// Compressed sparse columns.
    Csc,
}

impl MatrixEncoding {
    /// `dense`, `csr_matrix` or `csc_matrix` (anndata's encoding names).
    pub fn name(self) -> &'static str {
        match self {
            MatrixEncoding::Dense => "dense",
            MatrixEncoding::Csr => "csr_matrix",
            MatrixEncoding::Csc => "csc_matrix",
        }
    }
}

/// A matrix's layout, read from its attributes and shapes only.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixInfo {
    /// Dense, CSR or CSC.
    pub encoding: MatrixEncoding,
    /// The value type as numpy names it (`float32`, `int64`, …).
    pub dtype: String,
    /// Rows × columns.
    pub shape: (u64, u64),
    /// Stored values of a sparse matrix.
    pub nnz: Option<u64>,
}

/// What an AnnData holds, read without reading any matrix or column values.
#[derive(Debug, Clone)]
pub struct AnnDataSummary {
    /// Number of observations (cells).
    pub n_obs: u64,
    /// Number of variables (genes).
    pub n_vars: u64,
    /// `X`'s layout; `None` when the file has no `X`.
    pub x: Option<MatrixInfo>,
    /// `obs`'s columns (the index excluded) with their Arrow types.
    pub obs: SchemaRef,
    /// The name of `obs`'s index when it has one (anndata's `_index` means unnamed).
    pub obs_index: Option<String>,
    /// `var`'s columns (the index excluded).
    pub var: SchemaRef,
    /// The name of `var`'s index when it has one.
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
    /// Whether `obs`/`var` are in the layout written before anndata 0.7 (compound datasets).
    pub legacy: bool,
}

/// An open AnnData: an HDF5 file (`.h5ad`) or a Zarr store (a `.zarr` folder).
pub struct AnnData {
    path: PathBuf,
    backend: Backend,
}

/// What an AnnData is stored in.
enum Backend {
    Hdf5(hdf5::File),
    Zarr(ZarrTree),
}

impl std::fmt::Debug for AnnData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnData").field("path", &self.path).finish()
    }
}

/// One line of an HDF5 error (the library's message without its stack).
fn one_line(e: &hdf5::Error) -> String {
    let text = e.to_string();
    text.lines()
        .next()
        .unwrap_or("unknown HDF5 error")
        .trim()
        .to_string()
}

/// How a frame's column is stored.
#[derive(Debug, Clone)]
enum ColumnKind {
    /// A 1-D dataset of numbers, booleans or strings.
    Plain(TypeDescriptor),
    /// Codes with categories (`categories` group member, anndata 0.7's `__categories`, or a
    /// legacy `uns/<column>_categories`).
    Categorical {
        codes: String,
        categories: String,
        values: TypeDescriptor,
    },
    /// `values` + `mask` (true = missing).
    Nullable(TypeDescriptor),
}

/// Opens an HDF5 file read-only, without HDF5's file lock: HDF5 opens files without
/// close-on-exec, so a process another thread starts meanwhile (a tool, a test's checker, a
/// Python user's subprocess) inherits the descriptor and with it the lock, and the file
/// stays locked against every reader and writer until that process ends. Lamella needs no
/// lock: it writes to a temporary file renamed into place, so a reader never sees a partial
/// file.
pub(crate) fn open_h5(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .open(path)
}

impl AnnData {
    /// Opens `path` read-only and checks that it is AnnData: an HDF5 file, or a Zarr store
    /// (a folder), with `obs` and `var`.
    pub fn open(path: &Path) -> Result<AnnData> {
        if !path.exists() {
            return Err(Error::io(
                "open",
                path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        let backend = if path.is_dir() {
            if !crate::zarr::is_zarr_store(path) {
                return Err(Error::InvalidAnnData {
                    path: path.to_path_buf(),
                    element: String::new(),
                    reason: "is a folder but not a Zarr store (it has no .zgroup or zarr.json); \
                             AnnData is an .h5ad file or a .zarr folder written by anndata"
                        .into(),
                });
            }
            Backend::Zarr(
                ZarrTree::open(path).map_err(|reason| Error::InvalidAnnData {
                    path: path.to_path_buf(),
                    element: String::new(),
                    reason: format!("cannot be opened as a Zarr store: {reason}"),
                })?,
            )
        } else {
            Backend::Hdf5(open_h5(path).map_err(|e| Error::InvalidAnnData {
                path: path.to_path_buf(),
                element: String::new(),
                reason: format!(
                    "is not a readable HDF5 file ({}); it may be truncated or corrupt: write it \
                     again",
                    one_line(&e)
                ),
            })?)
        };
        let me = AnnData {
            path: path.to_path_buf(),
            backend,
        };
        let what = match me.backend {
            Backend::Hdf5(_) => "an HDF5 file",
            Backend::Zarr(_) => "a Zarr store",
        };
        for axis in [Axis::Obs, Axis::Var] {
            if !me.has(axis.name()) {
                return Err(me.bad(
                    "",
                    format!(
                        "is {what} but not AnnData: it has no `{}` element (AnnData holds \
                         `obs`, `var` and `X`)",
                        axis.name()
                    ),
                ));
            }
        }
        Ok(me)
    }

    /// Whether the AnnData has the element `name` (`X`, `layers`, `layers/counts`, …).
    pub fn has(&self, name: &str) -> bool {
        match &self.backend {
            Backend::Hdf5(f) => f.link_exists(name),
            // (metadata that cannot be read is there: reading it names the problem)
            Backend::Zarr(z) => !matches!(z.node(name), Ok(None)),
        }
    }

    /// The file's (or store's) path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open HDF5 file, for copying its elements as they are; a Zarr store is an error
    /// naming what to do.
    pub(crate) fn hdf5_file(&self, doing: &str) -> Result<&hdf5::File> {
        match &self.backend {
            Backend::Hdf5(f) => Ok(f),
            Backend::Zarr(_) => Err(self.bad(
                "",
                format!(
                    "is a Zarr store, and {doing} copies an .h5ad's elements as they are; \
                     write it as .h5ad first (anndata.read_zarr(path).write_h5ad(new_path))"
                ),
            )),
        }
    }

    /// An [`Error::InvalidAnnData`] naming `element` of this file.
    pub(crate) fn bad_element(&self, element: &str, reason: impl Into<String>) -> Error {
        self.bad(element, reason)
    }

    fn bad(&self, element: &str, reason: impl Into<String>) -> Error {
        Error::InvalidAnnData {
            path: self.path.clone(),
            element: element.to_string(),
            reason: reason.into(),
        }
    }

    fn h5(&self, element: &str) -> impl Fn(hdf5::Error) -> Error + '_ {
        let element = element.to_string();
        move |e| self.bad(&element, format!("cannot be read: {}", one_line(&e)))
    }

    fn unreadable(&self, element: &str) -> impl Fn(String) -> Error + '_ {
        let element = element.to_string();
        move |e| self.bad(&element, format!("cannot be read: {e}"))
    }

    /// The HDF5 file of a layout only HDF5 files have (pre-0.7 compound frames).
    fn legacy_file(&self, element: &str) -> Result<&hdf5::File> {
        match &self.backend {
            Backend::Hdf5(f) => Ok(f),
            Backend::Zarr(_) => Err(self.bad(element, "is an array, not a dataframe group")),
        }
    }

    // --- the tree: the few questions the reader asks of either format -------------------

    /// Whether element `path` is an array (HDF5 dataset), not a group.
    fn is_array(&self, path: &str) -> Result<bool> {
        match &self.backend {
            Backend::Hdf5(f) => Ok(matches!(
                f.loc_type_by_name(path).map_err(self.h5(path))?,
                hdf5::LocationType::Dataset
            )),
            Backend::Zarr(z) => match z.node(path).map_err(self.unreadable(path))? {
                Some(n) => Ok(matches!(n, zarr::Node::Array { .. })),
                None => Err(self.bad(path, "is missing")),
            },
        }
    }

    /// The members of group `path`, sorted.
    fn members(&self, path: &str) -> Result<Vec<String>> {
        let mut names = match &self.backend {
            Backend::Hdf5(f) => f
                .group(path)
                .and_then(|g| g.member_names())
                .map_err(self.h5(path))?,
            Backend::Zarr(z) => z.members(path).map_err(self.unreadable(path))?,
        };
        names.sort();
        Ok(names)
    }

    /// The HDF5 attribute `name` of element `path`, `None` when it has none.
    fn h5_attr(&self, f: &hdf5::File, path: &str, name: &str) -> Result<Option<hdf5::Attribute>> {
        let location: hdf5::Location = if self.is_array(path)? {
            (**f.dataset(path).map_err(self.h5(path))?).clone()
        } else {
            (*f.group(path).map_err(self.h5(path))?).clone()
        };
        if !location
            .attr_names()
            .map_err(self.h5(path))?
            .iter()
            .any(|a| a == name)
        {
            return Ok(None);
        }
        location.attr(name).map(Some).map_err(self.h5(path))
    }

    /// The Zarr attribute `name` of element `path`, `None` when it has none.
    fn zarr_attr(&self, z: &ZarrTree, path: &str, name: &str) -> Result<Option<serde_json::Value>> {
        Ok(z.node(path)
            .map_err(self.unreadable(path))?
            .and_then(|n| n.attrs().get(name).cloned()))
    }

    /// The text attribute `name` of element `path`.
    fn attr_string(&self, path: &str, name: &str) -> Result<Option<String>> {
        let bad = |r: String| self.bad(path, format!("attribute {name} {r}"));
        match &self.backend {
            Backend::Hdf5(f) => self
                .h5_attr(f, path, name)?
                .map(|a| read_attr_string(&a).map_err(bad))
                .transpose(),
            Backend::Zarr(z) => match self.zarr_attr(z, path, name)? {
                None => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(bad(format!("is {other}, not text"))),
            },
        }
    }

    /// The list-of-text attribute `name` of element `path` (`column-order`).
    fn attr_strings(&self, path: &str, name: &str) -> Result<Option<Vec<String>>> {
        let bad = |r: String| self.bad(path, format!("attribute {name} {r}"));
        match &self.backend {
            Backend::Hdf5(f) => self
                .h5_attr(f, path, name)?
                .map(|a| read_attr_strings(&a).map_err(bad))
                .transpose(),
            Backend::Zarr(z) => match self.zarr_attr(z, path, name)? {
                None => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(vec![s])),
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>()
                    .map(Some)
                    .ok_or_else(|| bad("holds something other than text".into())),
                Some(other) => Err(bad(format!("is {other}, not a list of names"))),
            },
        }
    }

    /// The list-of-integers attribute `name` of element `path` (a sparse matrix's `shape`).
    fn attr_ints(&self, path: &str, name: &str) -> Result<Option<Vec<i64>>> {
        match &self.backend {
            Backend::Hdf5(f) => self
                .h5_attr(f, path, name)?
                .map(|a| a.read_raw::<i64>().map_err(self.h5(path)))
                .transpose(),
            Backend::Zarr(z) => match self.zarr_attr(z, path, name)? {
                None => Ok(None),
                Some(v) => v
                    .as_array()
                    .and_then(|items| items.iter().map(|i| i.as_i64()).collect())
                    .map(Some)
                    .ok_or_else(|| {
                        self.bad(path, format!("attribute {name} is {v}, not integers"))
                    }),
            },
        }
    }

    /// The shape of array `path`.
    fn shape(&self, path: &str) -> Result<Vec<u64>> {
        match &self.backend {
            Backend::Hdf5(f) => Ok(f
                .dataset(path)
                .map_err(self.h5(path))?
                .shape()
                .into_iter()
                .map(|n| n as u64)
                .collect()),
            Backend::Zarr(z) => match z.node(path).map_err(self.unreadable(path))? {
                Some(zarr::Node::Array { shape, .. }) => Ok(shape),
                _ => Err(self.bad(path, "is not an array")),
            },
        }
    }

    /// The element type of array `path`.
    fn dataset_type(&self, path: &str) -> Result<TypeDescriptor> {
        match &self.backend {
            Backend::Hdf5(f) => f
                .dataset(path)
                .and_then(|ds| ds.dtype())
                .and_then(|t| t.to_descriptor())
                .map_err(self.h5(path)),
            Backend::Zarr(z) => match z.node(path).map_err(self.unreadable(path))? {
                Some(zarr::Node::Array { ty, .. }) => Ok(ty),
                _ => Err(self.bad(path, "is not an array")),
            },
        }
    }

    /// The 1-D array `path` as an Arrow array of its type.
    fn read_plain(&self, path: &str) -> Result<ArrayRef> {
        let not_1d = |ndim: usize| {
            self.bad(
                path,
                format!("is {ndim}-dimensional; a column must be 1-dimensional"),
            )
        };
        match &self.backend {
            Backend::Hdf5(f) => {
                let ds = f.dataset(path).map_err(self.h5(path))?;
                if ds.ndim() > 1 {
                    return Err(not_1d(ds.ndim()));
                }
                let ty = ds
                    .dtype()
                    .and_then(|t| t.to_descriptor())
                    .map_err(self.h5(path))?;
                self.read_values(path, Source::Dataset(&ds), &ty)
            }
            Backend::Zarr(z) => match z.node(path).map_err(self.unreadable(path))? {
                Some(zarr::Node::Array { shape, .. }) if shape.len() > 1 => {
                    Err(not_1d(shape.len()))
                }
                Some(zarr::Node::Array { ty, .. }) => {
                    z.read(path, &ty, None).map_err(self.unreadable(path))
                }
                _ => Err(self.bad(path, "is not an array")),
            },
        }
    }

    /// The values of `subset` (one range per dimension; all when `None`) of the Zarr array
    /// `path`, row after row, converted to `T`'s Arrow type.
    fn zarr_numbers<T: arrow::datatypes::ArrowPrimitiveType>(
        &self,
        z: &ZarrTree,
        path: &str,
        subset: Option<Vec<Range<u64>>>,
    ) -> Result<Vec<T::Native>> {
        let ty = self.dataset_type(path)?;
        let array = z.read(path, &ty, subset).map_err(self.unreadable(path))?;
        let cast = arrow::compute::cast(&array, &T::DATA_TYPE)
            .map_err(|e| self.bad(path, e.to_string()))?;
        Ok(cast.as_primitive::<T>().values().to_vec())
    }

    /// Values `range` (all when `None`) of the 1-D array `path` converted to `T`'s Arrow
    /// type (`f64` or `i64`: the matrix reader's numbers).
    pub(crate) fn read_numbers<T>(
        &self,
        path: &str,
        range: Option<Range<u64>>,
    ) -> Result<Vec<T::Native>>
    where
        T: arrow::datatypes::ArrowPrimitiveType,
        T::Native: hdf5::H5Type,
    {
        match &self.backend {
            Backend::Hdf5(f) => {
                let ds = f.dataset(path).map_err(self.h5(path))?;
                match range {
                    None => ds.read_raw::<T::Native>(),
                    Some(r) => ds
                        .read_slice_1d::<T::Native, _>(r.start as usize..r.end as usize)
                        .map(|a| a.to_vec()),
                }
                .map_err(self.h5(path))
            }
            Backend::Zarr(z) => self.zarr_numbers::<T>(z, path, range.map(|r| vec![r])),
        }
    }

    /// Rows `rows` of the dense 2-D array `path` with `cols` columns, row after row.
    pub(crate) fn read_dense_rows(
        &self,
        path: &str,
        rows: Range<u64>,
        cols: u64,
    ) -> Result<Vec<f64>> {
        match &self.backend {
            Backend::Hdf5(f) => f
                .dataset(path)
                .and_then(|ds| {
                    ds.read_slice_2d::<f64, _>((
                        rows.start as usize..rows.end as usize,
                        0..cols as usize,
                    ))
                })
                .map(|block| block.iter().copied().collect())
                .map_err(self.h5(path)),
            Backend::Zarr(z) => {
                self.zarr_numbers::<Float64Type>(z, path, Some(vec![rows, 0..cols]))
            }
        }
    }

    // --- the layout ---------------------------------------------------------------------

    /// Whether `axis`'s frame is a legacy compound dataset.
    fn is_legacy(&self, axis: Axis) -> Result<bool> {
        self.is_array(axis.name())
    }

    /// What the file holds, from attributes and shapes only.
    pub fn summary(&self) -> Result<AnnDataSummary> {
        let n_obs = self.len(Axis::Obs)?;
        let n_vars = self.len(Axis::Var)?;
        let x = if self.has("X") {
            Some(self.matrix_info("X")?)
        } else {
            None
        };
        Ok(AnnDataSummary {
            n_obs,
            n_vars,
            x,
            obs: self.frame_schema(Axis::Obs)?,
            obs_index: self.index_name(Axis::Obs)?,
            var: self.frame_schema(Axis::Var)?,
            var_index: self.index_name(Axis::Var)?,
            layers: self.keys("layers")?,
            obsm: self.keys("obsm")?,
            varm: self.keys("varm")?,
            obsp: self.keys("obsp")?,
            varp: self.keys("varp")?,
            uns: self.uns_keys()?,
            legacy: self.is_legacy(Axis::Obs)?,
        })
    }

    /// The keys of `uns`, without the categories of pre-0.7 frames' columns
    /// (`uns/<column>_categories`), which belong to those columns — as anndata reads them.
    fn uns_keys(&self) -> Result<Vec<String>> {
        let mut keys = self.keys("uns")?;
        let mut columns = Vec::new();
        for axis in [Axis::Obs, Axis::Var] {
            if self.is_legacy(axis)? {
                columns.extend(self.column_names(axis)?);
            }
        }
        keys.retain(|k| {
            k.strip_suffix("_categories")
                .is_none_or(|c| !columns.iter().any(|col| col == c))
        });
        Ok(keys)
    }

    /// Members of a top-level group (`layers`, `obsm`, …), sorted; empty when it is absent.
    pub fn group_keys(&self, group: &str) -> Result<Vec<String>> {
        self.keys(group)
    }

    /// Members of a top-level group, sorted; empty when it is absent.
    fn keys(&self, group: &str) -> Result<Vec<String>> {
        if !self.has(group) {
            return Ok(Vec::new());
        }
        self.members(group)
    }

    /// The number of entries of `axis` (its index's length).
    pub fn len(&self, axis: Axis) -> Result<u64> {
        let path = if self.is_legacy(axis)? {
            axis.name().to_string()
        } else {
            self.index_path(axis)?.0
        };
        Ok(self.shape(&path)?.first().copied().unwrap_or(0))
    }

    /// The index dataset's path and the index's name (`None` for anndata's unnamed
    /// `_index`).
    fn index_path(&self, axis: Axis) -> Result<(String, Option<String>)> {
        let name = axis.name();
        let index = if let Some(index) = self.attr_string(name, "_index")? {
            index
        } else if self.has(&format!("{name}/_index")) {
            "_index".to_string()
        } else if self.has(&format!("{name}/index")) {
            "index".to_string()
        } else {
            return Err(self.bad(
                name,
                "has no index (no `_index` attribute or dataset): it was not written by anndata",
            ));
        };
        let path = format!("{name}/{index}");
        if !self.has(&path) {
            return Err(self.bad(&path, "is missing: the frame's `_index` attribute names it"));
        }
        let display = (index != "_index").then_some(index);
        Ok((path, display))
    }

    /// The name of `axis`'s index, `None` when unnamed.
    pub fn index_name(&self, axis: Axis) -> Result<Option<String>> {
        if self.is_legacy(axis)? {
            return Ok(None);
        }
        Ok(self.index_path(axis)?.1)
    }

    /// The index of `axis` (cell barcodes, gene identifiers) as text.
    pub fn names(&self, axis: Axis) -> Result<StringArray> {
        if self.is_legacy(axis)? {
            return self.legacy_index(axis);
        }
        let (path, _) = self.index_path(axis)?;
        let array = self.read_plain(&path)?;
        let text = match array.data_type() {
            DataType::Utf8 => array,
            // A numeric index (rare): its text, as pandas shows it.
            _ => arrow::compute::cast(&array, &DataType::Utf8)
                .map_err(|e| self.bad(&path, e.to_string()))?,
        };
        Ok(text.as_string::<i32>().clone())
    }

    /// The fields of a legacy compound frame.
    fn legacy_fields(&self, axis: Axis) -> Result<Vec<hdf5::types::CompoundField>> {
        let name = axis.name();
        let ds = self
            .legacy_file(name)?
            .dataset(name)
            .map_err(self.h5(name))?;
        let TypeDescriptor::Compound(c) = ds
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(self.h5(name))?
        else {
            return Err(self.bad(name, "is a dataset but not a table (compound) of columns"));
        };
        Ok(c.fields)
    }

    /// The column names of `axis`'s frame in their order (the index excluded).
    fn column_names(&self, axis: Axis) -> Result<Vec<String>> {
        let name = axis.name();
        if self.is_legacy(axis)? {
            return Ok(self
                .legacy_fields(axis)?
                .into_iter()
                .map(|f| f.name)
                .filter(|n| n != "index")
                .collect());
        }
        if let Some(order) = self.attr_strings(name, "column-order")? {
            return Ok(order);
        }
        // No order recorded: every member but the index and anndata's internals.
        let (index, _) = self.index_path(axis)?;
        let index = index.rsplit('/').next().unwrap_or_default().to_string();
        let mut names = self.members(name)?;
        names.retain(|n| *n != index && !n.starts_with("__"));
        Ok(names)
    }

    /// How column `column` of `axis` is stored.
    fn column_kind(&self, axis: Axis, column: &str) -> Result<ColumnKind> {
        let frame = axis.name();
        let path = format!("{frame}/{column}");
        if self.is_legacy(axis)? {
            let field = self
                .legacy_fields(axis)?
                .into_iter()
                .find(|f| f.name == column)
                .ok_or_else(|| self.bad(&path, "is not a field of the compound frame"))?;
            let cats = format!("uns/{column}_categories");
            if self.has(&cats) {
                let values = self.dataset_type(&cats)?;
                return Ok(ColumnKind::Categorical {
                    codes: path,
                    categories: cats,
                    values,
                });
            }
            return Ok(ColumnKind::Plain(field.ty));
        }
        if !self.has(&path) {
            return Err(self.bad(&path, "is listed in column-order but missing"));
        }
        if self.is_array(&path)? {
            let ty = self.dataset_type(&path)?;
            // anndata 0.7: codes with a `categories` reference into `__categories`.
            let legacy_cats = format!("{frame}/__categories/{column}");
            if self.has(&legacy_cats) && self.has_attr(&path, "categories")? {
                let values = self.dataset_type(&legacy_cats)?;
                return Ok(ColumnKind::Categorical {
                    codes: path,
                    categories: legacy_cats,
                    values,
                });
            }
            return Ok(ColumnKind::Plain(ty));
        }
        let encoding = self
            .attr_string(&path, "encoding-type")?
            .unwrap_or_default();
        match encoding.as_str() {
            "categorical" => Ok(ColumnKind::Categorical {
                codes: format!("{path}/codes"),
                categories: format!("{path}/categories"),
                values: self.dataset_type(&format!("{path}/categories"))?,
            }),
            "nullable-integer" | "nullable-boolean" | "nullable-string-array" => Ok(
                ColumnKind::Nullable(self.dataset_type(&format!("{path}/values"))?),
            ),
            other => Err(self.bad(
                &path,
                format!(
                    "has encoding '{}', which is not a column type Lamella reads (numbers, \
                     booleans, strings, categoricals, nullable integers/booleans/strings)",
                    if other.is_empty() { "none" } else { other }
                ),
            )),
        }
    }

    /// Whether element `path` has the attribute `name`.
    fn has_attr(&self, path: &str, name: &str) -> Result<bool> {
        Ok(match &self.backend {
            Backend::Hdf5(f) => self.h5_attr(f, path, name)?.is_some(),
            Backend::Zarr(z) => self.zarr_attr(z, path, name)?.is_some(),
        })
    }

    /// The Arrow schema of `axis`'s frame (index excluded), from types only.
    pub fn frame_schema(&self, axis: Axis) -> Result<SchemaRef> {
        let mut fields = Vec::new();
        for column in self.column_names(axis)? {
            let path = format!("{}/{column}", axis.name());
            let ty = match self.column_kind(axis, &column)? {
                ColumnKind::Plain(t) | ColumnKind::Nullable(t) => {
                    arrow_type(&t).ok_or_else(|| self.bad(&path, unsupported_type(&t)))?
                }
                ColumnKind::Categorical { values, .. } => DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(
                        arrow_type(&values)
                            .ok_or_else(|| self.bad(&path, unsupported_type(&values)))?,
                    ),
                ),
            };
            fields.push(Field::new(column, ty, true));
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// `axis`'s frame as one record batch: one row per entry, one column per frame column
    /// (the index excluded; see [`AnnData::frame_with_index`]).
    pub fn frame(&self, axis: Axis) -> Result<RecordBatch> {
        let n = usize::try_from(self.len(axis)?).unwrap_or(usize::MAX);
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for column in self.column_names(axis)? {
            let array = self.read_column(axis, &column)?;
            let path = format!("{}/{column}", axis.name());
            if array.len() != n {
                return Err(self.bad(
                    &path,
                    format!("has {} values, the index has {n}", array.len()),
                ));
            }
            fields.push(Field::new(column, array.data_type().clone(), true));
            columns.push(array);
        }
        RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .map_err(|e| self.bad(axis.name(), e.to_string()))
    }

    /// [`AnnData::frame`] with the index first, as a text column named by the index's name,
    /// else `obs_names` / `var_names` (made unique against the other columns).
    pub fn frame_with_index(&self, axis: Axis) -> Result<RecordBatch> {
        let label = self.index_name(axis)?;
        self.frame_labelled(axis, label)
    }

    /// [`AnnData::frame_with_index`] with the index always called `obs_names` /
    /// `var_names` (files whose indexes are named differently line up by it).
    pub fn frame_with_names(&self, axis: Axis) -> Result<RecordBatch> {
        self.frame_labelled(axis, None)
    }

    fn frame_labelled(&self, axis: Axis, label: Option<String>) -> Result<RecordBatch> {
        let frame = self.frame(axis)?;
        let schema = with_index_field(&frame.schema(), axis, label);
        let mut columns: Vec<ArrayRef> = vec![Arc::new(self.names(axis)?)];
        columns.extend(frame.columns().iter().cloned());
        RecordBatch::try_new(schema, columns).map_err(|e| self.bad(axis.name(), e.to_string()))
    }

    /// The schema of [`AnnData::frame_with_names`], from the types only (no values read).
    pub fn frame_with_names_schema(&self, axis: Axis) -> Result<SchemaRef> {
        Ok(with_index_field(
            self.frame_schema(axis)?.as_ref(),
            axis,
            None,
        ))
    }

    fn read_column(&self, axis: Axis, column: &str) -> Result<ArrayRef> {
        let path = format!("{}/{column}", axis.name());
        match self.column_kind(axis, column)? {
            ColumnKind::Plain(ty) => {
                if self.is_legacy(axis)? {
                    let frame = axis.name();
                    let ds = self
                        .legacy_file(frame)?
                        .dataset(frame)
                        .map_err(self.h5(frame))?;
                    return self.read_values(&path, Source::Field(&ds, column), &ty);
                }
                self.read_plain(&path)
            }
            ColumnKind::Nullable(_) => {
                let values = self.read_plain(&format!("{path}/values"))?;
                let mask_path = format!("{path}/mask");
                let mask = self.read_plain(&mask_path)?;
                let Some(mask) = mask.as_boolean_opt() else {
                    return Err(self.bad(&mask_path, "is not booleans"));
                };
                if mask.len() != values.len() {
                    return Err(self.bad(
                        &path,
                        format!(
                            "has {} values but {} mask entries",
                            values.len(),
                            mask.len()
                        ),
                    ));
                }
                let validity = arrow::buffer::NullBuffer::new(!mask.values());
                let data = values
                    .to_data()
                    .into_builder()
                    .nulls(Some(validity))
                    .build()
                    .map_err(|e| self.bad(&path, e.to_string()))?;
                Ok(arrow::array::make_array(data))
            }
            ColumnKind::Categorical {
                codes, categories, ..
            } => {
                let values = self.read_plain(&categories)?;
                let raw: Vec<i32> = if self.is_legacy(axis)? {
                    // Pre-0.7: the codes are the frame's field, the categories in `uns`.
                    let frame = axis.name();
                    let ds = self
                        .legacy_file(frame)?
                        .dataset(frame)
                        .map_err(self.h5(frame))?;
                    Source::Field(&ds, column)
                        .read::<i32>()
                        .map_err(self.h5(&codes))?
                } else {
                    self.read_numbers::<Int32Type>(&codes, None)?
                };
                let n_categories = values.len() as i64;
                let mut keys = Vec::with_capacity(raw.len());
                for (row, &c) in raw.iter().enumerate() {
                    if c == -1 {
                        keys.push(None);
                    } else if c < -1 || i64::from(c) >= n_categories {
                        return Err(self.bad(
                            &codes,
                            format!(
                                "row {row} has code {c}, outside the {n_categories} categories \
                                 (codes run from -1 for missing to {}): the file is corrupt",
                                n_categories - 1
                            ),
                        ));
                    } else {
                        keys.push(Some(c));
                    }
                }
                let dict = DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), values)
                    .map_err(|e| self.bad(&path, e.to_string()))?;
                Ok(Arc::new(dict))
            }
        }
    }

    /// The `index` field of a legacy compound frame.
    fn legacy_index(&self, axis: Axis) -> Result<StringArray> {
        let name = axis.name();
        let ds = self
            .legacy_file(name)?
            .dataset(name)
            .map_err(self.h5(name))?;
        let rows: Vec<VarLenUnicode> = Source::Field(&ds, "index")
            .read::<VarLenUnicode>()
            .map_err(|e| {
                self.bad(
                    &format!("{name}/index"),
                    format!("cannot be read as text: {}", one_line(&e)),
                )
            })?;
        Ok(rows.iter().map(|r| Some(r.as_str())).collect())
    }

    /// The values of `source` (element `path`, of type `ty`) as an Arrow array of its type.
    fn read_values(&self, path: &str, source: Source<'_>, ty: &TypeDescriptor) -> Result<ArrayRef> {
        let e = self.h5(path);
        Ok(match ty {
            TypeDescriptor::Integer(IntSize::U1) => prim::<i8, Int8Array>(source).map_err(e)?,
            TypeDescriptor::Integer(IntSize::U2) => prim::<i16, Int16Array>(source).map_err(e)?,
            TypeDescriptor::Integer(IntSize::U4) => prim::<i32, Int32Array>(source).map_err(e)?,
            TypeDescriptor::Integer(IntSize::U8) => prim::<i64, Int64Array>(source).map_err(e)?,
            TypeDescriptor::Unsigned(IntSize::U1) => prim::<u8, UInt8Array>(source).map_err(e)?,
            TypeDescriptor::Unsigned(IntSize::U2) => prim::<u16, UInt16Array>(source).map_err(e)?,
            TypeDescriptor::Unsigned(IntSize::U4) => prim::<u32, UInt32Array>(source).map_err(e)?,
            TypeDescriptor::Unsigned(IntSize::U8) => prim::<u64, UInt64Array>(source).map_err(e)?,
            TypeDescriptor::Float(FloatSize::U4) => prim::<f32, Float32Array>(source).map_err(e)?,
            TypeDescriptor::Float(FloatSize::U8) => prim::<f64, Float64Array>(source).map_err(e)?,
            TypeDescriptor::Boolean => {
                let v: Vec<bool> = source.read::<bool>().map_err(e)?;
                let mut b = BooleanBuilder::with_capacity(v.len());
                b.append_slice(&v);
                Arc::new(b.finish()) as ArrayRef
            }
            TypeDescriptor::VarLenUnicode => {
                let v: Vec<VarLenUnicode> = source.read::<VarLenUnicode>().map_err(e)?;
                Arc::new(v.iter().map(|s| Some(s.as_str())).collect::<StringArray>())
            }
            TypeDescriptor::VarLenAscii => {
                let v: Vec<VarLenAscii> = source.read::<VarLenAscii>().map_err(e)?;
                Arc::new(v.iter().map(|s| Some(s.as_str())).collect::<StringArray>())
            }
            TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => match source {
                Source::Dataset(ds) => fixed_strings(ds, ty).map_err(e)?,
                Source::Field(..) => {
                    return Err(self.bad(
                        path,
                        "is a fixed-length text field of a pre-0.7 frame, which Lamella does \
                         not read; read the file with anndata and write it again \
                         (`anndata.read_h5ad(OLD).write_h5ad(NEW)`)",
                    ));
                }
            },
            other => return Err(self.bad(path, unsupported_type(other))),
        })
    }

    /// `X`'s (or a layer's) layout from its attributes and shapes.
    pub fn matrix_info(&self, element: &str) -> Result<MatrixInfo> {
        if self.is_array(element)? {
            let shape = self.shape(element)?;
            if shape.len() != 2 {
                return Err(self.bad(
                    element,
                    format!("is a {}-dimensional dataset; a matrix has 2", shape.len()),
                ));
            }
            return Ok(MatrixInfo {
                encoding: MatrixEncoding::Dense,
                dtype: numpy_name(&self.dataset_type(element)?),
                shape: (shape[0], shape[1]),
                nnz: None,
            });
        }
        let encoding = match self.attr_string(element, "encoding-type")? {
            Some(e) => e,
            // Before anndata 0.7: h5sparse's attributes.
            None => self
                .attr_string(element, "h5sparse_format")?
                .map(|f| format!("{f}_matrix"))
                .unwrap_or_default(),
        };
        let encoding = match encoding.as_str() {
            "csr_matrix" => MatrixEncoding::Csr,
            "csc_matrix" => MatrixEncoding::Csc,
            other => {
                return Err(self.bad(
                    element,
                    format!(
                        "is a group with encoding '{other}'; a matrix is a dense dataset, a \
                         csr_matrix or a csc_matrix"
                    ),
                ));
            }
        };
        let shape = match self.attr_ints(element, "shape")? {
            Some(s) => s,
            None => self
                .attr_ints(element, "h5sparse_shape")?
                .ok_or_else(|| self.bad(element, "is a sparse matrix without a shape attribute"))?,
        };
        if shape.len() != 2 || shape.iter().any(|&s| s < 0) {
            return Err(self.bad(
                element,
                format!("has shape {shape:?}; a matrix has 2 sizes"),
            ));
        }
        let data = format!("{element}/data");
        Ok(MatrixInfo {
            encoding,
            dtype: numpy_name(&self.dataset_type(&data)?),
            shape: (shape[0] as u64, shape[1] as u64),
            nnz: Some(self.shape(&data)?.first().copied().unwrap_or(0)),
        })
    }
}

/// `frame`'s schema with the index first, as a text column named `label` (else
/// `obs_names` / `var_names`), made unique against the frame's columns.
fn with_index_field(frame: &Schema, axis: Axis, label: Option<String>) -> SchemaRef {
    let base = label.unwrap_or_else(|| format!("{}_names", axis.name()));
    let mut label = base.clone();
    let mut k = 1;
    while frame.field_with_name(&label).is_ok() {
        label = format!("{base}_{k}");
        k += 1;
    }
    let mut fields = vec![Field::new(label, DataType::Utf8, false)];
    fields.extend(frame.fields().iter().map(|f| f.as_ref().clone()));
    Arc::new(Schema::new(fields))
}

/// A scalar text attribute (variable- or fixed-length, ASCII or UTF-8).
fn read_attr_string(attr: &hdf5::Attribute) -> std::result::Result<String, String> {
    let ty = attr
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| one_line(&e))?;
    let text = match ty {
        TypeDescriptor::VarLenUnicode => attr
            .read_scalar::<VarLenUnicode>()
            .map(|s| s.as_str().to_string()),
        TypeDescriptor::VarLenAscii => attr
            .read_scalar::<VarLenAscii>()
            .map(|s| s.as_str().to_string()),
        TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => attr
            .read_scalar::<hdf5::types::FixedUnicode<1024>>()
            .map(|s| s.as_str().to_string()),
        other => return Err(format!("is of type {other}, not text")),
    };
    text.map_err(|e| one_line(&e))
}

/// A 1-D text attribute (`column-order`); an empty numeric array (h5py's way of writing an
/// empty list) is no names.
fn read_attr_strings(attr: &hdf5::Attribute) -> std::result::Result<Vec<String>, String> {
    let ty = attr
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| one_line(&e))?;
    if attr.size() == 0 {
        return Ok(Vec::new());
    }
    if attr.is_scalar() {
        return read_attr_string(attr).map(|s| vec![s]);
    }
    match ty {
        TypeDescriptor::VarLenUnicode => attr
            .read_raw::<VarLenUnicode>()
            .map(|v| v.iter().map(|s| s.as_str().to_string()).collect()),
        TypeDescriptor::VarLenAscii => attr
            .read_raw::<VarLenAscii>()
            .map(|v| v.iter().map(|s| s.as_str().to_string()).collect()),
        TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => attr
            .read_raw::<hdf5::types::FixedUnicode<1024>>()
            .map(|v| v.iter().map(|s| s.as_str().to_string()).collect()),
        other => return Err(format!("is of type {other}, not a list of names")),
    }
    .map_err(|e| one_line(&e))
}

/// Reads a 1-D numeric dataset into an Arrow array of the same width.
fn prim<T, A>(source: Source<'_>) -> hdf5::Result<ArrayRef>
where
    T: hdf5::H5Type + arrow::datatypes::ArrowNativeType,
    A: From<Vec<T>> + Array + 'static,
{
    let v: Vec<T> = source.read::<T>()?;
    Ok(Arc::new(A::from(v)))
}

/// Where a column's values are stored.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// A whole 1-D dataset.
    Dataset(&'a hdf5::Dataset),
    /// A field of a compound dataset (a column of a pre-0.7 frame).
    Field(&'a hdf5::Dataset, &'a str),
}

impl Source<'_> {
    /// The values, converted to `T` by HDF5.
    fn read<T: hdf5::H5Type>(self) -> hdf5::Result<Vec<T>> {
        match self {
            Source::Dataset(ds) => ds.read_raw::<T>(),
            Source::Field(ds, name) => crate::compound_field::read(ds, name),
        }
    }
}

/// Fixed-length strings, read in blocks through a 1 KiB buffer type (longer strings are an
/// error rather than silently cut).
fn fixed_strings(ds: &hdf5::Dataset, ty: &TypeDescriptor) -> hdf5::Result<ArrayRef> {
    let width = match ty {
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => *n,
        _ => 0,
    };
    if width > 1024 {
        return Err(hdf5::Error::from(format!(
            "fixed-length strings of {width} bytes (at most 1024 are read)"
        )));
    }
    let n = ds.shape().first().copied().unwrap_or(0);
    let mut out = arrow::array::StringBuilder::with_capacity(n, n * width.min(64));
    let block = 16 * 1024;
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        let part = ds.read_slice_1d::<hdf5::types::FixedUnicode<1024>, _>(start..end)?;
        for s in &part {
            out.append_value(s.as_str());
        }
        start = end;
    }
    Ok(Arc::new(out.finish()))
}

/// The Arrow type of an HDF5 element type, `None` for types a column cannot have.
fn arrow_type(ty: &TypeDescriptor) -> Option<DataType> {
    Some(match ty {
        TypeDescriptor::Integer(IntSize::U1) => DataType::Int8,
        TypeDescriptor::Integer(IntSize::U2) => DataType::Int16,
        TypeDescriptor::Integer(IntSize::U4) => DataType::Int32,
        TypeDescriptor::Integer(IntSize::U8) => DataType::Int64,
        TypeDescriptor::Unsigned(IntSize::U1) => DataType::UInt8,
        TypeDescriptor::Unsigned(IntSize::U2) => DataType::UInt16,
        TypeDescriptor::Unsigned(IntSize::U4) => DataType::UInt32,
        TypeDescriptor::Unsigned(IntSize::U8) => DataType::UInt64,
        TypeDescriptor::Float(FloatSize::U4) => DataType::Float32,
        TypeDescriptor::Float(FloatSize::U8) => DataType::Float64,
        TypeDescriptor::Boolean => DataType::Boolean,
        TypeDescriptor::VarLenUnicode
        | TypeDescriptor::VarLenAscii
        | TypeDescriptor::FixedAscii(_)
        | TypeDescriptor::FixedUnicode(_) => DataType::Utf8,
        _ => return None,
    })
}

fn unsupported_type(ty: &TypeDescriptor) -> String {
    format!(
        "has element type {ty}; a column holds numbers, booleans or text (or categories of \
         them)"
    )
}

/// numpy's name of an element type (`float32`, `int64`, `bool`, `str`).
fn numpy_name(ty: &TypeDescriptor) -> String {
    match ty {
        TypeDescriptor::Integer(s) => format!("int{}", *s as usize * 8),
        TypeDescriptor::Unsigned(s) => format!("uint{}", *s as usize * 8),
        TypeDescriptor::Float(s) => format!("float{}", *s as usize * 8),
        TypeDescriptor::Boolean => "bool".into(),
        other => other.to_string(),
    }
}
