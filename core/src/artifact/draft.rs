//! What a caller builds before saving: one draft (`from_path`, `from_table`) or many paths.

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use lamella_schema::Artifact;
use lamella_storage::FolderWalk;

use super::prepare::{LocalContext, Prepared, prepare_path, skipped_link_notes};
use super::save::save_prepared;
use super::{Artifacts, DuplicatePolicy, SaveMany, check_key};
use crate::error::{Error, Result, io_err};
use crate::instance::Instance;
use crate::registry::Saved;

/// What [`Artifacts::save_each`] saved.
#[derive(Debug, Clone)]
pub struct SavedEach {
    /// One artifact per file, in the order the files were found.
    pub saved: Vec<Saved<Artifact>>,
    /// Remarks on what was left out (links to folders inside a folder).
    pub notes: Vec<String>,
}

pub(super) enum Source {
    Path(PathBuf),
    Table(Vec<RecordBatch>),
}

/// Work done on a saved artifact inside the save's own transaction (annotation by the
/// curator), so the artifact and its annotations land together or not at all.
pub(crate) type Hook =
    Box<dyn Fn(&mut lamella_schema::Conn<'_>, &Artifact) -> Result<()> + Send + Sync + 'static>;

/// An artifact being prepared: `ln.artifacts().from_path(p).key("a/b.csv").save()`.
pub struct ArtifactDraft {
    pub(super) ln: Instance,
    pub(super) source: Source,
    pub(super) key: Option<String>,
    pub(super) description: Option<String>,
    pub(super) version: Option<String>,
    pub(super) revises: Option<Artifact>,
    pub(super) policy: DuplicatePolicy,
    pub(super) then: Option<Hook>,
}

impl ArtifactDraft {
    /// Sets the key (a relative path that names the artifact; also what new versions share).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets a version label.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Makes this a new version of `previous`.
    pub fn revises(mut self, previous: &Artifact) -> Self {
        self.revises = Some(previous.clone());
        self
    }

    /// Runs `hook` on the saved (or existing) artifact inside the save's transaction.
    pub(crate) fn then(mut self, hook: Hook) -> Self {
        self.then = Some(hook);
        self
    }

    /// Chooses what happens when the same content is already registered.
    pub fn on_duplicate(mut self, policy: DuplicatePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Hashes, deduplicates, uploads and registers the artifact in one atomic step. A file or
    /// folder saved without key, description or `revises` is described by its name; a table
    /// needs a key or a description.
    pub fn save(mut self) -> Result<Saved<Artifact>> {
        if let Some(k) = &self.key {
            check_key(k)?;
        }

        let prepared = self.prepare()?;
        // A key comes from the user, or from the path of an object registered in place.
        if self.key.is_none()
            && self.description.is_none()
            && self.revises.is_none()
            && prepared.in_place.is_none()
        {
            match &self.source {
                Source::Path(_) => {
                    self.description = prepared
                        .local
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned());
                }
                Source::Table(_) => {
                    return Err(Error::Incomplete {
                        what: "a table artifact".into(),
                        needs: "a key or a description (or the artifact it revises), e.g. the \
                                key 'iris/study0.parquet' or the description 'Iris study 0'"
                            .into(),
                    });
                }
            }
        }
        let ln = self.ln.clone();
        let mut saved = save_prepared(&ln, vec![(self, prepared)])?;
        saved
            .pop()
            .ok_or_else(|| Error::Internal("a save returned no artifact".into()))
    }
}

impl Artifacts {
    pub(super) fn draft(&self, source: Source) -> ArtifactDraft {
        ArtifactDraft {
            ln: self.ln.clone(),
            source,
            key: None,
            description: None,
            version: None,
            revises: None,
            policy: DuplicatePolicy::default(),
            then: None,
        }
    }

    /// An artifact from a local file or folder (copied to the default storage, or registered
    /// in place when it already lies inside a registered local storage).
    pub fn from_path(&self, path: impl AsRef<Path>) -> ArtifactDraft {
        self.draft(Source::Path(path.as_ref().to_path_buf()))
    }

    /// An artifact from an Arrow table, stored as Parquet (`accessor = "DataFrame"`).
    pub fn from_table(&self, table: &RecordBatch) -> ArtifactDraft {
        self.draft(Source::Table(vec![table.clone()]))
    }

    /// An artifact from several batches of one table.
    pub fn from_batches(&self, batches: Vec<RecordBatch>) -> ArtifactDraft {
        self.draft(Source::Table(batches))
    }

    /// Registers many files as separate artifacts: hashed in parallel, saved in one
    /// transaction. Keys are `key_prefix/<file name>` when a prefix is given, else the
    /// description is the file name. See [`Artifacts::save_paths_with`] for more control.
    pub fn save_paths(
        &self,
        paths: &[PathBuf],
        key_prefix: Option<&str>,
    ) -> Result<Vec<Saved<Artifact>>> {
        self.save_paths_with(
            paths,
            &SaveMany {
                key_prefix: key_prefix.map(str::to_string),
                ..SaveMany::default()
            },
        )
    }

    /// Registers many files as separate artifacts with options: keys relative to a base
    /// folder, a duplicate policy (progress goes to [`Instance::on_progress`]). Files are hashed and uploaded in
    /// parallel; all rows are written in one transaction.
    pub fn save_paths_with(
        &self,
        paths: &[PathBuf],
        opts: &SaveMany,
    ) -> Result<Vec<Saved<Artifact>>> {
        use rayon::prelude::*;
        let ctx = LocalContext::of(&self.ln)?;
        let meter = crate::progress::Meter::new(
            &self.ln,
            crate::ProgressTask::Hashing,
            crate::ProgressUnit::Files,
            paths.len() as u64,
        );
        let prepared: Vec<Result<Prepared>> = paths
            .par_iter()
            .map(|p| {
                let r = prepare_path(&ctx, p);
                meter.add(1);
                r
            })
            .collect();
        drop(meter);
        let base = match &opts.base_dir {
            Some(b) => Some(b.canonicalize().map_err(io_err(b))?),
            None => None,
        };
        let mut items = Vec::with_capacity(paths.len());
        let mut keys = std::collections::HashMap::new();
        for (p, prep) in paths.iter().zip(prepared) {
            let prep = prep?;
            let mut draft = self.from_path(p).on_duplicate(opts.policy);
            if prep.in_place.is_none() {
                // The path as given (a link inside the folder keeps its own name), else the
                // resolved one.
                let given = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                let rel = match &base {
                    Some(b) => given
                        .strip_prefix(b)
                        .or_else(|_| prep.local.strip_prefix(b))
                        .map_err(|_| Error::Conflict {
                            message: format!(
                                "{} is not inside the base folder {}",
                                p.display(),
                                b.display()
                            ),
                        })?
                        .to_string_lossy()
                        .replace('\\', "/"),
                    None => p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                };
                draft = match &opts.key_prefix {
                    Some(prefix) => {
                        let key = format!("{}/{rel}", prefix.trim_end_matches('/'));
                        check_key(&key)?;
                        if let Some(other) = keys.insert(key.clone(), p.clone()) {
                            return Err(Error::Conflict {
                                message: format!(
                                    "{} and {} would both get the key '{key}': give a base \
                                     folder so keys keep their subfolders (nothing was saved)",
                                    other.display(),
                                    p.display()
                                ),
                            });
                        }
                        draft.key(key)
                    }
                    None => draft.description(rel),
                };
            }
            items.push((draft, prep));
        }
        save_prepared(&self.ln, items)
    }

    /// Saves each file given as its own artifact, in one transaction; a folder stands for the
    /// files in it (see [`Artifacts::folder_files`]). A single folder keeps its subfolders in
    /// the keys, and without a key prefix its files are keyed under the folder's name
    /// (`<folder>/<path inside it>`, LaminDB's `from_dir`). A folder without files is an error.
    pub fn save_each(&self, paths: &[PathBuf], opts: &SaveMany) -> Result<SavedEach> {
        let mut files = Vec::new();
        let mut notes = Vec::new();
        for p in paths {
            if p.is_dir() {
                let walk = self.folder_files(p)?;
                if walk.files.is_empty() {
                    return Err(Error::Incomplete {
                        what: format!("the folder {}", p.display()),
                        needs: "files to save, and holds none: nothing was saved".into(),
                    });
                }
                notes.extend(skipped_link_notes(&walk));
                files.extend(walk.files.into_iter().map(|f| f.path));
            } else {
                files.push(p.clone());
            }
        }
        let mut key_prefix = opts.key_prefix.clone();
        let mut base_dir = opts.base_dir.clone();
        if let [dir] = paths
            && dir.is_dir()
        {
            if key_prefix.is_none() {
                let abs = dir.canonicalize().map_err(io_err(dir))?;
                key_prefix = abs.file_name().map(|n| n.to_string_lossy().into_owned());
            }
            base_dir.get_or_insert_with(|| dir.clone());
        }
        let opts = SaveMany {
            key_prefix,
            base_dir,
            policy: opts.policy,
        };
        Ok(SavedEach {
            saved: self.save_paths_with(&files, &opts)?,
            notes,
        })
    }

    /// The files of a local folder as a folder save (and `save --each`) takes them: regular
    /// files at any depth, hidden ones included; a link to a file is followed, a link to a
    /// folder is not entered (listed in `skipped_links`), so links can never make a walk loop
    /// or wander off (LaminDB hashes folders the same way); a dangling link, a FIFO or a device
    /// is an error. A folder that contains Lamella's own storage or database is refused.
    pub fn folder_files(&self, dir: &Path) -> Result<FolderWalk> {
        let abs = dir.canonicalize().map_err(io_err(dir))?;
        LocalContext::of(&self.ln)?.check_folder(&abs)?;
        Ok(lamella_storage::walk_folder(&abs)?)
    }
}
