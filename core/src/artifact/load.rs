//! Reading an artifact back: the local cache, whole tables, heads, and exports.

use std::path::{Path, PathBuf};

use lamella_schema::Artifact;
use lamella_storage::hash_file;

use super::key::is_table_suffix;
use super::{Artifacts, Loaded, object_key, suffix_of};

/// What [`Artifacts::preview`] shows.
#[derive(Debug, Clone)]
pub enum Preview {
    /// The first rows of a table, with its shape.
    Table(lamella_storage::TableHead),
    /// The local path of a file or folder.
    Path(PathBuf),
    /// An AnnData file: what it holds and the first rows of `obs` (the index first).
    AnnData {
        /// The local path.
        path: PathBuf,
        /// Shape, `X`, columns, keys.
        info: Box<crate::AnnDataInfo>,
        /// The first rows of `obs`.
        obs: lamella_storage::TableHead,
    },
}
use crate::error::{Error, Result, io_err};

impl Artifacts {
    /// A local path to the artifact's content: the file itself for local storage, a copy in
    /// the cache folder for cloud storage (re-used while its hash matches). In a tracked run
    /// the artifact becomes an input of the run.
    pub fn cache(&self, a: &Artifact) -> Result<PathBuf> {
        self.read_as_input(a, Ok)
    }

    /// Runs `read` on the artifact's local copy; when it succeeds, a tracked run records the
    /// artifact as its input (a failed read records nothing).
    fn read_as_input<T>(&self, a: &Artifact, read: impl FnOnce(PathBuf) -> Result<T>) -> Result<T> {
        let value = read(self.local_copy(a)?)?;
        self.ln.note_inputs(std::slice::from_ref(a))?;
        Ok(value)
    }

    /// [`cache`](Self::cache) without recording an input (for Lamella's own reads).
    pub(crate) fn local_copy(&self, a: &Artifact) -> Result<PathBuf> {
        let storage = self.storage_of(a)?;
        let store = self.ln.store_for(&storage)?;
        let key = object_key(a);
        if let Some(p) = store.local_path(&key) {
            if !p.exists() {
                return Err(Error::MissingObject {
                    uid: a.uid.clone(),
                    location: p.display().to_string(),
                });
            }
            return Ok(p);
        }
        let cache = self.ln.cache_dir().join(&storage.uid).join(&key);
        let meter = crate::progress::Meter::new(
            &self.ln,
            crate::ProgressTask::Downloading,
            crate::ProgressUnit::Bytes,
            a.size.unwrap_or(0).max(0) as u64,
        );
        if super::key::is_folder(a) {
            // a folder: download every object under the prefix
            for obj in store.list(&key)? {
                let rel = obj
                    .key
                    .strip_prefix(&key)
                    .unwrap_or(&obj.key)
                    .trim_start_matches('/');
                let dest = cache.join(rel);
                if !dest.exists() {
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                    }
                    store.get_to_file_with(&obj.key, &dest, &|n| meter.add(n))?;
                }
            }
            return Ok(cache);
        }
        if cache.is_file()
            && let Ok(h) = hash_file(&cache)
            && Some(h.hash.as_str()) == a.hash.as_deref()
        {
            return Ok(cache);
        }
        if let Some(parent) = cache.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        store.get_to_file_with(&key, &cache, &|n| meter.add(n))?;
        Ok(cache)
    }

    /// The objects an artifact is made of, as `(path inside the artifact, size)`: for a folder
    /// each object under it (`"img/a.jpg"`), sorted; for a file the file itself (`""`). Read
    /// from the storage (a listing on S3), nothing downloaded.
    pub fn objects(&self, a: &Artifact) -> Result<Vec<(String, u64)>> {
        let storage = self.storage_of(a)?;
        let store = self.ln.store_for(&storage)?;
        let key = object_key(a);
        if !super::key::is_folder(a) {
            return Ok(vec![(String::new(), a.size.unwrap_or(0).max(0) as u64)]);
        }
        Ok(store
            .list(&key)?
            .into_iter()
            .map(|o| {
                let rel = o.key.strip_prefix(&key).unwrap_or(&o.key);
                (rel.trim_start_matches('/').to_string(), o.size)
            })
            .collect())
    }

    /// Downloads one object of the artifact (`rel` as [`objects`](Self::objects) names it,
    /// `""` for a file artifact) to the local file `dest` (its folder is created). In a
    /// tracked run the artifact becomes an input of the run, as with [`cache`](Self::cache).
    pub fn download_object(&self, a: &Artifact, rel: &str, dest: &Path) -> Result<()> {
        let storage = self.storage_of(a)?;
        let store = self.ln.store_for(&storage)?;
        let key = match rel.trim_matches('/') {
            "" => object_key(a),
            r if r.split('/').any(|p| p == ".." || p == ".") => {
                return Err(Error::invalid(
                    "a path inside an artifact",
                    rel,
                    "give a path as listed by the artifact's objects",
                ));
            }
            r => format!("{}/{r}", object_key(a)),
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        store.get_to_file(&key, dest)?;
        self.ln.note_inputs(std::slice::from_ref(a))
    }

    /// The content: a table for Parquet and CSV, a local path otherwise.
    pub fn load(&self, a: &Artifact) -> Result<Loaded> {
        self.read_as_input(a, |path| {
            let batches = if a.suffix.eq_ignore_ascii_case(".parquet") {
                lamella_storage::read_parquet(&path)?
            } else if is_table_suffix(&a.suffix) {
                lamella_storage::read_csv(&path)?
            } else {
                return Ok(Loaded::Path(path));
            };
            let schema = match batches.first() {
                Some(b) => b.schema(),
                None => std::sync::Arc::new(arrow::datatypes::Schema::empty()),
            };
            Ok(Loaded::Table(arrow::compute::concat_batches(
                &schema, &batches,
            )?))
        })
    }

    /// What to show of an artifact: the first `n` rows of a table (Parquet, CSV — only those
    /// rows are read), the local path of anything else.
    pub fn preview(&self, a: &Artifact, n: usize) -> Result<Preview> {
        if is_table_suffix(&a.suffix) {
            Ok(Preview::Table(self.head(a, n)?))
        } else if crate::anndata::is_anndata_artifact(a) {
            self.read_as_input(a, |path| {
                let data = lamella_storage::AnnData::open(&path)?;
                let info = crate::AnnDataInfo::of(&data)?;
                let frame = data.frame_with_index(lamella_storage::Axis::Obs)?;
                let obs = lamella_storage::TableHead {
                    n_rows: frame.num_rows() as u64,
                    n_columns: frame.num_columns(),
                    batch: frame.slice(0, n.min(frame.num_rows())),
                };
                Ok(Preview::AnnData {
                    path,
                    info: Box::new(info),
                    obs,
                })
            })
        } else {
            Ok(Preview::Path(self.cache(a)?))
        }
    }

    /// The first `n` rows of a table artifact (Parquet, CSV) with its row and column counts,
    /// reading only what those rows need (a Parquet file's footer and first pages).
    pub fn head(&self, a: &Artifact, n: usize) -> Result<lamella_storage::TableHead> {
        if !is_table_suffix(&a.suffix) {
            return Err(Error::NotATable {
                what: format!("artifact {} ('{}')", a.uid, a.suffix),
                reason: "load it as a file".into(),
            });
        }
        // (Looking at a head is reading: a tracked run records the input.)
        self.read_as_input(a, |path| Ok(lamella_storage::read_table_head(&path, n)?))
    }

    /// The `obs` or `var` frame of an AnnData artifact, its index first (see
    /// [`AnnData::frame_with_index`](lamella_storage::AnnData::frame_with_index)); only that
    /// frame is read, never `X`.
    pub fn axis(
        &self,
        a: &Artifact,
        axis: crate::Axis,
    ) -> Result<arrow::record_batch::RecordBatch> {
        if !crate::anndata::is_anndata_artifact(a) {
            return Err(Error::NotATable {
                what: format!("artifact {} ('{}')", a.uid, a.suffix),
                reason: format!(
                    "only AnnData (.h5ad) artifacts have `{}`; load it as a {}",
                    axis.name(),
                    if is_table_suffix(&a.suffix) {
                        "table"
                    } else {
                        "file"
                    }
                ),
            });
        }
        self.read_as_input(a, |path| {
            Ok(lamella_storage::AnnData::open(&path)?.frame_with_index(axis)?)
        })
    }

    /// Writes an AnnData artifact's `obs` or `var` frame (index first) to the table file
    /// `dest` (`.parquet`, `.csv`, `.tsv`, gzipped text), complete or not at all.
    pub fn export_axis(
        &self,
        a: &Artifact,
        axis: crate::Axis,
        dest: &Path,
        existing: crate::Existing,
    ) -> Result<()> {
        self.ln.check_output(dest, existing)?;
        let out_suffix = suffix_of(&dest.to_string_lossy()).to_ascii_lowercase();
        if !is_table_suffix(&out_suffix) {
            return Err(Error::invalid(
                format!("the output suffix for `{}`", axis.name()),
                out_suffix,
                "give a path ending in .parquet, .csv or .tsv (.csv.gz, .tsv.gz)",
            ));
        }
        let frame = self.axis(a, axis)?;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        lamella_storage::write_batches(&frame.schema(), std::iter::once(Ok(frame.clone())), dest)?;
        Ok(())
    }

    /// Writes the artifact's content to the local path `dest`: a table whose `dest` names
    /// another table format (`.parquet`, `.csv`, `.tsv`, gzipped text) is converted,
    /// streaming batch by batch (another suffix is refused); anything else is copied (a
    /// folder with its files). `dest` appears complete or not at all; an existing file is
    /// replaced only when `existing` says so, and nothing is written inside a storage
    /// location.
    pub fn export(&self, a: &Artifact, dest: &Path, existing: crate::Existing) -> Result<()> {
        self.ln.check_output(dest, existing)?;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let out_suffix = suffix_of(&dest.to_string_lossy()).to_ascii_lowercase();
        if is_table_suffix(&a.suffix) && out_suffix != a.suffix.to_ascii_lowercase() {
            if !is_table_suffix(&out_suffix) {
                return Err(Error::invalid(
                    "the output suffix for a table",
                    out_suffix,
                    "give a path ending in .parquet, .csv or .tsv (.csv.gz, .tsv.gz)",
                ));
            }
            return self.read_as_input(a, |path| {
                lamella_storage::convert_table(&path, dest)?;
                Ok(())
            });
        }
        self.read_as_input(a, |path| copy_atomically(&path, dest))
    }
}

/// Copies a file or a folder to the new path `dest`, under a temporary name beside it that is
/// renamed at the end: `dest` never holds a partial copy. New files get the user's default
/// permissions, not the stored object's.
pub(super) fn copy_atomically(src: &Path, dest: &Path) -> Result<()> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = lamella_storage::temp_dir_in(&parent)?;
    let staged = tmp.path().join("content");
    copy_tree(src, &staged)?;
    std::fs::rename(&staged, dest).map_err(io_err(dest))?;
    Ok(())
}

pub(super) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(io_err(to))?;
        for entry in std::fs::read_dir(from).map_err(io_err(from))? {
            let entry = entry.map_err(io_err(from))?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        let mut src = std::fs::File::open(from).map_err(io_err(from))?;
        let mut dst = std::fs::File::create(to).map_err(io_err(to))?;
        std::io::copy(&mut src, &mut dst).map_err(io_err(to))?;
    }
    Ok(())
}
