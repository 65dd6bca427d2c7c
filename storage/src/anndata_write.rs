//! Writing AnnData: the concatenation of AnnData files along cells (`obs`), as
//! `anndata.concat(..., join=...)` makes it, streamed: `X` is read and written in blocks of
//! rows, so memory follows a block (and one member's `indptr`), not the number of cells.
//!
//! The result is written in anndata's on-disk layout (0.2.0 dataframes, a `csr_matrix` `X`)
//! to a temporary file beside the destination and renamed into place: it appears complete
//! or not at all.

use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use hdf5::types::VarLenUnicode;

use crate::anndata::{AnnData, Axis, MatrixEncoding, MatrixInfo};
use crate::error::{Error, Result};

/// How the members' genes combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarJoin {
    /// The genes every member has, in the first member's order (missing genes dropped).
    Inner,
    /// Every member's genes (as pandas' `Index.union`: sorted unless all panels are equal);
    /// a member's missing genes are zeros.
    Outer,
}

/// The genes of the concatenation of members with these `var` indexes (anndata's rule).
pub fn joined_var_names(panels: &[Vec<String>], join: VarJoin) -> Vec<String> {
    let Some(first) = panels.first() else {
        return Vec::new();
    };
    if panels.iter().all(|p| p == first) {
        return first.clone();
    }
    match join {
        VarJoin::Inner => {
            let sets: Vec<std::collections::HashSet<&str>> = panels[1..]
                .iter()
                .map(|p| p.iter().map(String::as_str).collect())
                .collect();
            let mut seen = std::collections::HashSet::new();
            first
                .iter()
                .filter(|g| sets.iter().all(|s| s.contains(g.as_str())) && seen.insert(g.as_str()))
                .cloned()
                .collect()
        }
        VarJoin::Outer => {
            let mut all: Vec<String> = panels.iter().flatten().cloned().collect();
            all.sort();
            all.dedup();
            all
        }
    }
}

/// Rows of `X` read and written at a time.
const BLOCK_ROWS: usize = 4096;
/// Stored values buffered before they are appended to the output datasets.
const FLUSH_VALUES: usize = 1 << 20;

/// Writes the concatenation of the AnnData files `members` (in order) to `dest`: `obs` is
/// the given table (its first column the cell index, the others the concatenated `obs`
/// columns), `var` the genes `var_names` (index only, as `anndata.concat` leaves it), `X`
/// a CSR matrix of the members' rows with their genes mapped onto `var_names` (genes not
/// there dropped, missing genes zeros). `on_rows` is told of every block of rows written.
/// Returns the file's size.
pub fn write_concatenated_anndata(
    dest: &Path,
    members: &[&Path],
    obs: &RecordBatch,
    var_names: &[String],
    join: VarJoin,
    on_rows: &dyn Fn(u64),
) -> Result<u64> {
    let opened: Vec<AnnData> = members
        .iter()
        .map(|p| AnnData::open(p))
        .collect::<Result<_>>()?;
    let mut n_obs = 0usize;
    let mut float32 = true;
    // Stored values at most (sparse members' counts, dense members' sizes): chunks of the
    // output are no larger than the data.
    let mut most_values = 0u64;
    for a in &opened {
        n_obs += a.len(Axis::Obs)? as usize;
        let x = a.matrix_info("X")?;
        float32 &= x.dtype == "float32";
        most_values += x.nnz.unwrap_or(x.shape.0 * x.shape.1);
    }
    if obs.num_rows() != n_obs {
        return Err(Error::InvalidInput {
            what: "the concatenated obs".into(),
            reason: format!("it has {} rows, the members {n_obs} cells", obs.num_rows()),
        });
    }
    let position: std::collections::HashMap<&str, u32> = var_names
        .iter()
        .enumerate()
        .map(|(i, g)| (g.as_str(), i as u32))
        .collect();
    let maps: Vec<Vec<Option<u32>>> = opened
        .iter()
        .map(|a| {
            Ok(a.names(Axis::Var)?
                .iter()
                .map(|g| g.and_then(|g| position.get(g).copied()))
                .collect())
        })
        .collect::<Result<_>>()?;
    // Layers and obsm entries: those every member has (inner), or any member has (outer: a
    // member without one adds empty rows — zeros — to a layer, NaN rows to an obsm array), as
    // anndata.concat keeps them.
    let shared = |group: &str| -> Result<Vec<String>> {
        let mut keys: Option<Vec<String>> = None;
        for a in &opened {
            let mine = a.group_keys(group)?;
            keys = Some(match keys {
                None => mine,
                Some(k) if join == VarJoin::Inner => {
                    k.into_iter().filter(|x| mine.contains(x)).collect()
                }
                Some(mut k) => {
                    k.extend(
                        mine.into_iter()
                            .filter(|x| !k.contains(x))
                            .collect::<Vec<_>>(),
                    );
                    k.sort();
                    k
                }
            });
        }
        Ok(keys.unwrap_or_default())
    };
    let layers = shared("layers")?;
    let obsm = shared("obsm")?;
    write_anndata_with(dest, obs, var_names, float32, most_values, |root, x| {
        for (a, map) in opened.iter().zip(&maps) {
            copy_rows(a, "X", map, x, on_rows)?;
        }
        for key in &layers {
            let element = format!("layers/{key}");
            let infos: Vec<crate::anndata::MatrixInfo> = opened
                .iter()
                .filter(|a| a.has(&element))
                .map(|a| a.matrix_info(&element))
                .collect::<Result<_>>()?;
            let f32s = infos.iter().all(|i| i.dtype == "float32");
            let most = infos
                .iter()
                .map(|i| i.nnz.unwrap_or(i.shape.0 * i.shape.1))
                .sum();
            let layers_group = root
                .group("layers")
                .map_err(|e| bad_write(dest, "layers", e))?;
            let mut w = CsrWriter::create(&layers_group, key, f32s, (n_obs, var_names.len()), most)
                .map_err(|e| bad_write(dest, &element, e))?;
            for (a, map) in opened.iter().zip(&maps) {
                if a.has(&element) {
                    copy_rows(a, &element, map, &mut w, &|_| {})?;
                } else {
                    for _ in 0..a.len(Axis::Obs)? {
                        w.push_row(&mut [])?;
                    }
                }
            }
            w.finish().map_err(|e| bad_write(dest, &element, e))?;
        }
        for key in &obsm {
            copy_obsm(dest, root, &opened, key)?;
        }
        Ok(())
    })
}

/// Writes an AnnData file: `obs` (its first column the cell index), `var` the genes
/// `var_names` (index only), `X` the CSR matrix of `rows` (per cell, its (gene position,
/// value) entries) as float32 values. Written to a temporary sibling and renamed: `dest`
/// appears complete or not at all. Returns the file's size.
pub fn write_anndata(
    dest: &Path,
    obs: &RecordBatch,
    var_names: &[String],
    rows: &[Vec<(u32, f64)>],
) -> Result<u64> {
    if rows.len() != obs.num_rows() {
        return Err(Error::InvalidInput {
            what: "an AnnData's X".into(),
            reason: format!("it has {} rows, obs {}", rows.len(), obs.num_rows()),
        });
    }
    if let Some((r, (c, _))) = rows.iter().enumerate().find_map(|(r, row)| {
        row.iter()
            .find(|(c, _)| *c as usize >= var_names.len())
            .map(|e| (r, *e))
    }) {
        return Err(Error::InvalidInput {
            what: "an AnnData's X".into(),
            reason: format!(
                "row {r} has gene position {c}, beyond the {} genes",
                var_names.len()
            ),
        });
    }
    let most = rows.iter().map(|r| r.len() as u64).sum();
    write_anndata_with(dest, obs, var_names, true, most, |_, x| {
        for r in rows {
            let mut r = r.clone();
            x.push_row(&mut r)?;
        }
        Ok(())
    })
}

/// Writes `src` again to `dest` with other obs columns and genes: `obs` (its columns, the
/// cell index kept from `src`) and `genes` (the var index, one per gene of `src`, var's
/// columns kept) replace the frames; every other element (`X`, `layers`, `obsm`, `uns`, …)
/// is copied as it is by HDF5. `dest` appears complete or not at all. Returns its size.
pub fn rewrite_anndata(
    src: &Path,
    dest: &Path,
    obs: &RecordBatch,
    genes: &[String],
) -> Result<u64> {
    let a = AnnData::open(src)?;
    let n_obs = a.len(Axis::Obs)? as usize;
    let n_vars = a.len(Axis::Var)? as usize;
    if obs.num_rows() != n_obs || genes.len() != n_vars {
        return Err(Error::InvalidInput {
            what: format!("rewriting `{}`", src.display()),
            reason: format!(
                "{} obs rows and {} genes given, the file has {n_obs} cells and {n_vars} genes",
                obs.num_rows(),
                genes.len()
            ),
        });
    }
    let with_index = |index: arrow::array::ArrayRef, frame: &RecordBatch| {
        let mut columns = vec![("_index".to_string(), index)];
        for (f, c) in frame.schema().fields().iter().zip(frame.columns()) {
            columns.push((f.name().clone(), c.clone()));
        }
        RecordBatch::try_from_iter(columns).map_err(|e| Error::InvalidInput {
            what: format!("rewriting `{}`", src.display()),
            reason: e.to_string(),
        })
    };
    let obs = with_index(std::sync::Arc::new(a.names(Axis::Obs)?), obs)?;
    let var = with_index(
        std::sync::Arc::new(arrow::array::StringArray::from(genes.to_vec())),
        &a.frame(Axis::Var)?,
    )?;
    write_h5_atomically(dest, |root| {
        let bad = |element: &str, e: hdf5::Error| bad_write(dest, element, e);
        let source: &hdf5::Group = a.hdf5_file("standardizing")?;
        for name in source.member_names().map_err(|e| bad("", e))? {
            if name == "obs" || name == "var" {
                continue;
            }
            let copied = match source.loc_type_by_name(&name) {
                Ok(hdf5::LocationType::Dataset) => {
                    source.dataset(&name).and_then(|d| d.copy_to(root, &name))
                }
                _ => source.group(&name).and_then(|g| g.copy_to(root, &name)),
            };
            copied.map_err(|e| bad(&name, e))?;
        }
        write_frame(root, "obs", &obs).map_err(|e| bad("obs", e))?;
        write_frame(root, "var", &var).map_err(|e| bad("var", e))
    })
}

/// Writes an AnnData file at `dest` through a temporary sibling (HDF5 writes by path): the
/// root's anndata attributes, then `fill`; flushed and renamed into place, so `dest`
/// appears complete or not at all. Returns its size.
fn write_h5_atomically(dest: &Path, fill: impl FnOnce(&hdf5::Group) -> Result<()>) -> Result<u64> {
    let tmp = crate::tmp::file_in(&crate::table::parent_dir(dest))?;
    let tmp_path = tmp.path().to_path_buf();
    {
        // the earliest file format: readable by every HDF5 (h5py's and anndata's included),
        // and no object timestamps, so the same content gives the same bytes (and hash);
        // no file lock, as for reading (`open_h5`): a process started meanwhile would
        // inherit it and keep the finished file locked
        let f = hdf5::File::with_options()
            .with_fapl(|p| p.libver_earliest().file_locking(false))
            .create(&tmp_path)
            .map_err(|e| bad_write(dest, "", e))?;
        encoding(&f, "anndata", "0.1.0").map_err(|e| bad_write(dest, "", e))?;
        fill(&f)?;
        f.flush().map_err(|e| bad_write(dest, "", e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("flush", &tmp_path, e))?;
    tmp.persist(dest)
        .map_err(|e| Error::io("rename a temporary file to", dest, e.error))?;
    Ok(std::fs::metadata(dest)
        .map_err(|e| Error::io("stat", dest, e))?
        .len())
}

/// The writer both writes share: the frames, the empty groups, then `X` filled by `fill`.
fn write_anndata_with(
    dest: &Path,
    obs: &RecordBatch,
    var_names: &[String],
    float32: bool,
    most_values: u64,
    fill: impl FnOnce(&hdf5::Group, &mut CsrWriter) -> Result<()>,
) -> Result<u64> {
    let n_obs = obs.num_rows();
    let var = RecordBatch::try_from_iter([(
        "var_names",
        std::sync::Arc::new(arrow::array::StringArray::from(var_names.to_vec()))
            as arrow::array::ArrayRef,
    )])
    .map_err(|e| Error::InvalidInput {
        what: "the genes".into(),
        reason: e.to_string(),
    })?;
    write_h5_atomically(dest, |root| {
        let bad = |element: &str, e: hdf5::Error| bad_write(dest, element, e);
        write_frame(root, "obs", obs).map_err(|e| bad("obs", e))?;
        write_frame(root, "var", &var).map_err(|e| bad("var", e))?;
        for g in ["layers", "obsm", "obsp", "varm", "varp", "uns"] {
            let group = root.create_group(g).map_err(|e| bad(g, e))?;
            encoding(&group, "dict", "0.1.0").map_err(|e| bad(g, e))?;
        }
        let mut x = CsrWriter::create(root, "X", float32, (n_obs, var_names.len()), most_values)
            .map_err(|e| bad("X", e))?;
        fill(root, &mut x)?;
        x.finish().map_err(|e| bad("X", e))
    })
}

/// Appends member `a`'s rows of `X` to `out`, genes mapped by `map` (member position →
/// output column; `None` drops the gene).
fn copy_rows(
    a: &AnnData,
    element: &str,
    map: &[Option<u32>],
    out: &mut CsrWriter,
    on_rows: &dyn Fn(u64),
) -> Result<()> {
    let info = a.matrix_info(element)?;
    let (rows, cols) = (info.shape.0 as usize, info.shape.1 as usize);
    let part = |p: &str| format!("{element}/{p}");
    if cols != map.len() {
        return Err(a.bad_element(
            element,
            format!("has {cols} columns, the var index {} genes", map.len()),
        ));
    }
    let mut row: Vec<(u32, f64)> = Vec::new();
    match info.encoding {
        MatrixEncoding::Dense => {
            let mut r0 = 0;
            while r0 < rows {
                let r1 = (r0 + BLOCK_ROWS).min(rows);
                let block = a.read_dense_rows(element, r0 as u64..r1 as u64, cols as u64)?;
                for r in block.chunks(cols.max(1)).take(r1 - r0) {
                    row.clear();
                    for (j, v) in r.iter().enumerate() {
                        if *v != 0.0
                            && let Some(c) = map[j]
                        {
                            row.push((c, *v));
                        }
                    }
                    out.push_row(&mut row)?;
                }
                if cols == 0 {
                    for _ in r0..r1 {
                        out.push_row(&mut [])?;
                    }
                }
                on_rows((r1 - r0) as u64);
                r0 = r1;
            }
        }
        MatrixEncoding::Csr => {
            let indptr = a.read_numbers::<Int64Type>(&part("indptr"), None)?;
            check_indptr(a, &part("indptr"), &indptr, rows)?;
            let mut r0 = 0;
            while r0 < rows {
                let r1 = (r0 + BLOCK_ROWS).min(rows);
                let span = indptr[r0] as u64..indptr[r1] as u64;
                let s = span.start as usize;
                let values = a.read_numbers::<Float64Type>(&part("data"), Some(span.clone()))?;
                let columns = a.read_numbers::<Int64Type>(&part("indices"), Some(span))?;
                for r in r0..r1 {
                    row.clear();
                    let span = indptr[r] as usize - s..indptr[r + 1] as usize - s;
                    for (&j, &v) in columns[span.clone()].iter().zip(&values[span]) {
                        let Some(m) = usize::try_from(j).ok().and_then(|j| map.get(j)) else {
                            return Err(a.bad_element(
                                &part("indices"),
                                format!("holds column {j}, outside the {cols} genes"),
                            ));
                        };
                        if let Some(c) = m {
                            row.push((*c, v));
                        }
                    }
                    out.push_row(&mut row)?;
                }
                on_rows((r1 - r0) as u64);
                r0 = r1;
            }
        }
        MatrixEncoding::Csc => {
            // Rows of a CSC matrix are spread over every column: the member's matrix is
            // turned into rows once (memory follows this member's stored values).
            let indptr = a.read_numbers::<Int64Type>(&part("indptr"), None)?;
            check_indptr(a, &part("indptr"), &indptr, cols)?;
            let values = a.read_numbers::<Float64Type>(&part("data"), None)?;
            let row_of = a.read_numbers::<Int64Type>(&part("indices"), None)?;
            let mut by_row: Vec<Vec<(u32, f64)>> = vec![Vec::new(); rows];
            if row_of.len() != values.len() || indptr[cols] as usize > values.len() {
                return Err(a.bad_element(
                    element,
                    "has fewer stored values than its index pointer says: the file is corrupt",
                ));
            }
            for (j, m) in map.iter().enumerate() {
                let Some(c) = *m else { continue };
                let span = indptr[j] as usize..indptr[j + 1] as usize;
                for (&r, &v) in row_of[span.clone()].iter().zip(&values[span]) {
                    let Some(slot) = usize::try_from(r).ok().and_then(|r| by_row.get_mut(r)) else {
                        return Err(a.bad_element(
                            &part("indices"),
                            format!("holds row {r}, outside the {rows} cells"),
                        ));
                    };
                    slot.push((c, v));
                }
            }
            for (i, mut r) in by_row.into_iter().enumerate() {
                out.push_row(&mut r)?;
                if (i + 1) % BLOCK_ROWS == 0 {
                    on_rows(BLOCK_ROWS as u64);
                }
            }
            on_rows((rows % BLOCK_ROWS) as u64);
        }
    }
    Ok(())
}

fn bad_write(dest: &Path, element: &str, e: hdf5::Error) -> Error {
    Error::InvalidAnnData {
        path: dest.to_path_buf(),
        element: element.to_string(),
        reason: format!(
            "cannot be written: {}",
            e.to_string().lines().next().unwrap_or("")
        ),
    }
}

/// Concatenates the members' dense `obsm/<key>` arrays along cells (all with the same
/// number of columns; otherwise the entry is left out, as anndata cannot align them).
fn copy_obsm(dest: &Path, root: &hdf5::Group, members: &[AnnData], key: &str) -> Result<()> {
    let element = format!("obsm/{key}");
    // Per member: its column count and its values, row after row.
    let mut parts: Vec<Option<(usize, Vec<f64>)>> = Vec::new();
    for a in members {
        if !a.has(&element) {
            parts.push(None);
            continue;
        }
        // a dense 2-D array; anything else (a data frame) is left out
        let Ok(MatrixInfo {
            encoding: MatrixEncoding::Dense,
            shape: (rows, columns),
            ..
        }) = a.matrix_info(&element)
        else {
            return Ok(());
        };
        let values = a.read_dense_rows(&element, 0..rows, columns)?;
        parts.push(Some((columns as usize, values)));
    }
    let columns = parts.iter().flatten().map(|p| p.0).next().unwrap_or(0);
    if parts.iter().flatten().any(|p| p.0 != columns) {
        return Ok(());
    }
    // A member without the entry: NaN rows.
    let parts: Vec<(usize, Vec<f64>)> = parts
        .into_iter()
        .zip(members)
        .map(|(p, a)| {
            Ok(match p {
                Some(p) => p,
                None => (
                    columns,
                    vec![f64::NAN; a.len(Axis::Obs)? as usize * columns],
                ),
            })
        })
        .collect::<Result<_>>()?;
    let rows: usize = parts.iter().map(|p| p.1.len() / columns.max(1)).sum();
    let all: Vec<f64> = parts.into_iter().flat_map(|p| p.1).collect();
    let group = root.group("obsm").map_err(|e| bad_write(dest, "obsm", e))?;
    let ds = group
        .new_dataset::<f64>()
        .shape((rows, columns))
        .create(key)
        .map_err(|e| bad_write(dest, &element, e))?;
    ds.write_raw(&all)
        .map_err(|e| bad_write(dest, &element, e))?;
    encoding(&ds, "array", "0.2.0").map_err(|e| bad_write(dest, &element, e))
}

fn check_indptr(a: &AnnData, element: &str, indptr: &[i64], n: usize) -> Result<()> {
    if indptr.len() != n + 1 || indptr.first() != Some(&0) || indptr.windows(2).any(|w| w[1] < w[0])
    {
        return Err(a.bad_element(
            element,
            format!(
                "is not a valid index pointer for {n} rows (length {}, it must start at 0 and \
                 never decrease): the file is corrupt",
                indptr.len()
            ),
        ));
    }
    Ok(())
}

/// The output `X`: resizable `data`, `indices`, `indptr` datasets appended to in batches.
struct CsrWriter {
    data: hdf5::Dataset,
    indices: hdf5::Dataset,
    indptr: hdf5::Dataset,
    float32: bool,
    values: Vec<f64>,
    columns: Vec<i32>,
    pointers: Vec<i64>,
    /// Stored values written so far (flushed).
    written: usize,
    /// Row pointers written so far.
    rows_written: usize,
    /// Stored values so far (flushed or buffered).
    nnz: i64,
}

impl CsrWriter {
    fn create(
        root: &hdf5::Group,
        name: &str,
        float32: bool,
        shape: (usize, usize),
        most_values: u64,
    ) -> hdf5::Result<Self> {
        let chunk = (most_values as usize).clamp(1, 1 << 16);
        let row_chunk = (shape.0 + 1).clamp(1, 1 << 14);
        let g = root.create_group(name)?;
        encoding(&g, "csr_matrix", "0.1.0")?;
        g.new_attr::<i64>()
            .shape(2)
            .create("shape")?
            .write_raw(&[shape.0 as i64, shape.1 as i64])?;
        let data = if float32 {
            g.new_dataset::<f32>()
                .chunk(chunk)
                .shape(0..)
                .create("data")?
        } else {
            g.new_dataset::<f64>()
                .chunk(chunk)
                .shape(0..)
                .create("data")?
        };
        let indices = g
            .new_dataset::<i32>()
            .chunk(chunk)
            .shape(0..)
            .create("indices")?;
        let indptr = g
            .new_dataset::<i64>()
            .chunk(row_chunk)
            .shape(0..)
            .create("indptr")?;
        Ok(CsrWriter {
            data,
            indices,
            indptr,
            float32,
            values: Vec::new(),
            columns: Vec::new(),
            pointers: vec![0],
            written: 0,
            rows_written: 0,
            nnz: 0,
        })
    }

    /// Appends one row (its entries sorted by column here).
    fn push_row(&mut self, row: &mut [(u32, f64)]) -> Result<()> {
        row.sort_unstable_by_key(|(c, _)| *c);
        for (c, v) in row.iter() {
            self.columns.push(*c as i32);
            self.values.push(*v);
        }
        self.nnz += row.len() as i64;
        self.pointers.push(self.nnz);
        if self.values.len() >= FLUSH_VALUES || self.pointers.len() >= FLUSH_VALUES {
            self.flush().map_err(|e| Error::InvalidInput {
                what: "writing X".into(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    fn flush(&mut self) -> hdf5::Result<()> {
        let n = self.values.len();
        if n > 0 {
            let end = self.written + n;
            self.data.resize(end)?;
            if self.float32 {
                let v: Vec<f32> = self.values.iter().map(|x| *x as f32).collect();
                self.data.write_slice(&v, self.written..end)?;
            } else {
                self.data.write_slice(&self.values, self.written..end)?;
            }
            self.indices.resize(end)?;
            self.indices.write_slice(&self.columns, self.written..end)?;
            self.written = end;
            self.values.clear();
            self.columns.clear();
        }
        let p = self.pointers.len();
        if p > 0 {
            let end = self.rows_written + p;
            self.indptr.resize(end)?;
            self.indptr
                .write_slice(&self.pointers, self.rows_written..end)?;
            self.rows_written = end;
            self.pointers.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> hdf5::Result<()> {
        self.flush()
    }
}

/// Sets anndata's `encoding-type` and `encoding-version` attributes.
fn encoding(loc: &hdf5::Location, kind: &str, version: &str) -> hdf5::Result<()> {
    text_attr(loc, "encoding-type", kind)?;
    text_attr(loc, "encoding-version", version)
}

fn text_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .shape(())
        .create(name)?
        .write_scalar(&v)
}

fn unicode(values: impl Iterator<Item = String>) -> hdf5::Result<Vec<VarLenUnicode>> {
    values
        .map(|s| {
            s.replace('\0', "")
                .parse::<VarLenUnicode>()
                .map_err(|e| hdf5::Error::from(format!("{e}")))
        })
        .collect()
}

/// Writes a dataframe group: the first column of `frame` is its index, the others its
/// columns, each in anndata's encoding for its type.
fn write_frame(root: &hdf5::Group, name: &str, frame: &RecordBatch) -> hdf5::Result<()> {
    let g = root.create_group(name)?;
    encoding(&g, "dataframe", "0.2.0")?;
    text_attr(&g, "_index", "_index")?;
    let schema = frame.schema();
    let columns: Vec<String> = schema.fields()[1..]
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let order = unicode(columns.iter().cloned())?;
    g.new_attr::<VarLenUnicode>()
        .shape(order.len())
        .create("column-order")?
        .write_raw(&order)?;
    write_strings(&g, "_index", frame.column(0).as_ref())?;
    for (i, c) in columns.iter().enumerate() {
        write_column(&g, c, frame.column(i + 1).as_ref())?;
    }
    Ok(())
}

fn write_strings(g: &hdf5::Group, name: &str, a: &dyn Array) -> hdf5::Result<()> {
    let text =
        arrow::compute::cast(a, &DataType::Utf8).map_err(|e| hdf5::Error::from(e.to_string()))?;
    let s = text.as_string::<i32>();
    let v = unicode((0..s.len()).map(|i| {
        if s.is_null(i) {
            String::new()
        } else {
            s.value(i).to_string()
        }
    }))?;
    let ds = g
        .new_dataset::<VarLenUnicode>()
        .shape(v.len())
        .create(name)?;
    ds.write_raw(&v)?;
    encoding(&ds, "string-array", "0.2.0")
}

fn write_array<T: hdf5::H5Type>(
    g: &hdf5::Group,
    name: &str,
    v: &[T],
) -> hdf5::Result<hdf5::Dataset> {
    let ds = g.new_dataset::<T>().shape(v.len()).create(name)?;
    ds.write_raw(v)?;
    encoding(&ds, "array", "0.2.0")?;
    Ok(ds)
}

fn write_column(g: &hdf5::Group, name: &str, a: &dyn Array) -> hdf5::Result<()> {
    let err = |e: arrow::error::ArrowError| hdf5::Error::from(e.to_string());
    let mask: Vec<bool> = (0..a.len()).map(|i| a.is_null(i)).collect();
    let has_nulls = a.null_count() > 0;
    match a.data_type() {
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let sub = g.create_group(name)?;
            encoding(&sub, "categorical", "0.2.0")?;
            sub.new_attr::<bool>()
                .shape(())
                .create("ordered")?
                .write_scalar(&false)?;
            write_strings(&sub, "categories", d.values().as_ref())?;
            let keys = d.normalized_keys();
            let codes: Vec<i32> = (0..a.len())
                .map(|i| if a.is_null(i) { -1 } else { keys[i] as i32 })
                .collect();
            write_array(&sub, "codes", &codes)?;
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if !has_nulls => {
            write_strings(g, name, a)?;
        }
        DataType::Boolean if !has_nulls => {
            let b = a.as_boolean();
            let v: Vec<bool> = (0..b.len()).map(|i| b.value(i)).collect();
            write_array(g, name, &v)?;
        }
        DataType::Float32 | DataType::Float64 => {
            let f = arrow::compute::cast(a, &DataType::Float64).map_err(err)?;
            let f = f.as_primitive::<arrow::datatypes::Float64Type>();
            let v: Vec<f64> = (0..f.len())
                .map(|i| if f.is_null(i) { f64::NAN } else { f.value(i) })
                .collect();
            if matches!(a.data_type(), DataType::Float32) {
                let v: Vec<f32> = v.iter().map(|x| *x as f32).collect();
                write_array(g, name, &v)?;
            } else {
                write_array(g, name, &v)?;
            }
        }
        t if t.is_integer() && !has_nulls => {
            let i = arrow::compute::cast(a, &DataType::Int64).map_err(err)?;
            let i = i.as_primitive::<arrow::datatypes::Int64Type>();
            write_array(g, name, i.values())?;
        }
        t if t.is_integer() || matches!(t, DataType::Boolean) => {
            let sub = g.create_group(name)?;
            if t.is_integer() {
                encoding(&sub, "nullable-integer", "0.1.0")?;
                let i = arrow::compute::cast(a, &DataType::Int64).map_err(err)?;
                let i = i.as_primitive::<arrow::datatypes::Int64Type>();
                write_array(&sub, "values", i.values())?;
            } else {
                encoding(&sub, "nullable-boolean", "0.1.0")?;
                let b = a.as_boolean();
                let v: Vec<bool> = (0..b.len()).map(|i| !b.is_null(i) && b.value(i)).collect();
                write_array(&sub, "values", &v)?;
            }
            write_array(&sub, "mask", &mask)?;
        }
        _ => {
            // Text with missing values, and types AnnData has no encoding for (dates, times,
            // lists): text, missing values masked.
            let sub = g.create_group(name)?;
            encoding(&sub, "nullable-string-array", "0.1.0")?;
            write_strings(&sub, "values", a)?;
            write_array(&sub, "mask", &mask)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HDF5 opens files without close-on-exec and locks them: a process started by another
    /// thread while a file is being written inherits the descriptor and its lock, which
    /// outlives the writer. What Lamella wrote must open while such a process runs.
    #[cfg(unix)]
    #[test]
    fn a_child_started_during_a_write_does_not_lock_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.h5ad");
        let mut child = None;
        write_h5_atomically(&dest, |_| {
            child = Some(
                std::process::Command::new("sleep")
                    .arg("30")
                    .spawn()
                    .unwrap(),
            );
            Ok(())
        })
        .unwrap();
        let opened = crate::anndata::open_h5(&dest);
        if let Some(mut c) = child {
            let _ = c.kill();
            let _ = c.wait();
        }
        let f = opened.unwrap();
        assert!(f.attr("encoding-type").is_ok());
    }
}
