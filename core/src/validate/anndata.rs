//! The AnnData curator: `obs` checked as a table (dtypes, labels with branches, units,
//! constraints, synonyms), the `var` index checked as `X`'s columns (every gene a registered
//! feature, no gene twice, a saved schema's genes), all in one report naming the axis; the
//! file is saved as it is, with its `obs` and `var` feature sets and its labels, only when
//! everything is valid.

use std::path::{Path, PathBuf};

use lamella_schema::links::{self, Owner};
use lamella_schema::{Artifact, require_id};
use lamella_storage::{AnnData, Axis};

use super::curator::Curator;
use super::genes::GeneCheck;
use super::report::{Issue, Report};
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::registry::Saved;

/// Checks an AnnData file against the registries: `ln.anndata_curator(path)?.obs(|c|
/// c.categorical("cell_type", "cell_type")).validate()`.
pub struct AnnDataCurator {
    path: PathBuf,
    obs: Curator,
    var: GeneCheck,
    n_obs: usize,
    /// Whether `standardize` changed obs or the genes (a save writes the fixed file).
    changed: bool,
}

impl Instance {
    /// A curator for the AnnData file at `path`: reads its `obs` frame and `var` index (never
    /// `X`). By default every `obs` column needs a registered feature of its name, as the
    /// table curator asks, and every gene of `var` a registered feature.
    pub fn anndata_curator(&self, path: &Path) -> Result<AnnDataCurator> {
        let data = AnnData::open(path)?;
        let obs = data.frame(Axis::Obs)?;
        let n_obs = obs.num_rows();
        let genes: Vec<String> = data
            .names(Axis::Var)?
            .iter()
            .map(|n| n.unwrap_or_default().to_string())
            .collect();
        let var = GeneCheck::new(self, genes);
        Ok(AnnDataCurator {
            path: path.to_path_buf(),
            obs: self.curator(obs),
            var,
            n_obs,
            changed: false,
        })
    }
}

impl AnnDataCurator {
    /// Sets up the `obs` checks (categorical mappings, required features, units, a saved
    /// schema, new labels, …) on the table curator of `obs`.
    pub fn obs(mut self, configure: impl FnOnce(Curator) -> Curator) -> Self {
        self.obs = configure(self.obs);
        self
    }

    /// [`obs`](Self::obs) with a set-up that can fail.
    pub fn try_obs<E>(
        mut self,
        configure: impl FnOnce(Curator) -> std::result::Result<Curator, E>,
    ) -> std::result::Result<Self, E> {
        self.obs = configure(self.obs)?;
        Ok(self)
    }

    /// Checks the genes against a saved schema: its features are the genes allowed, its
    /// required ones must be there.
    pub fn var_schema(mut self, schema: &crate::Schema) -> Self {
        self.var.schema(schema);
        self
    }

    /// Offending values listed per issue (counts cover all), for both axes.
    pub fn examples(mut self, n: usize) -> Self {
        self.obs = self.obs.examples(n);
        self.var.examples = n;
        self
    }

    /// The curator of `obs`.
    pub fn obs_curator(&self) -> &Curator {
        &self.obs
    }

    /// The file checked.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks both axes: one report with every problem, each issue naming its axis.
    pub fn validate(&self) -> Result<Report> {
        Ok(self.check()?.0)
    }

    fn check(&self) -> Result<(Report, super::curator::Checked, super::genes::GenesChecked)> {
        let obs = self.obs.check()?;
        let var = self.var.check()?;
        let mut issues: Vec<Issue> = obs
            .report
            .issues
            .iter()
            .cloned()
            .map(|mut i| {
                i.axis = Some("obs".into());
                i
            })
            .collect();
        issues.extend(var.issues.iter().cloned());
        let order: Vec<String> = self
            .obs
            .table()
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let columns = self.obs.table().num_columns() + self.var.genes.len();
        let mut report = Report::new(self.n_obs, columns, issues, &order);
        // obs issues first (in column order), then the genes'.
        report
            .issues
            .sort_by_key(|i| i.axis.as_deref() == Some("var"));
        report.truncated =
            obs.report.truncated || var.issues.iter().any(|i| i.count > i.values.len());
        report.notes = obs.report.notes.clone();
        Ok((report, obs, var))
    }

    /// Applies synonyms on both axes: obs columns and categorical values as the table
    /// curator does, genes named by a gene feature's synonym renamed to the feature. Returns
    /// the curator of the fixed data and what changed (`genes` holds the var renames); a save
    /// then writes the fixed file.
    pub fn standardize(self) -> Result<(AnnDataCurator, super::Fixes)> {
        let (obs, mut fixes) = self.obs.standardize()?;
        let (var, renames) = self.var.standardize()?;
        fixes.genes = renames;
        Ok((
            AnnDataCurator {
                changed: self.changed || !fixes.is_empty(),
                path: self.path,
                obs,
                var,
                n_obs: self.n_obs,
            },
            fixes,
        ))
    }

    /// Writes the file with the curator's obs and genes (after
    /// [`standardize`](Self::standardize)) to `dest`: every other element (`X`, layers,
    /// obsm, uns, …) copied unchanged. `dest` appears complete or not at all.
    pub fn write(&self, dest: &Path) -> Result<u64> {
        Ok(lamella_storage::rewrite_anndata(
            &self.path,
            dest,
            self.obs.table(),
            &self.var.genes,
        )?)
    }

    /// Saves the file as it is (an AnnData artifact) with its feature sets — slot `obs` (the
    /// matched columns' features), slot `var` (the genes') — and the labels of its
    /// categorical `obs` columns, in the save's one transaction. Refused, with the report,
    /// while either axis is not valid; refused when `obs` units were to be converted (the
    /// file is stored unchanged).
    pub fn save_artifact(
        &self,
        key: Option<&str>,
        description: Option<&str>,
    ) -> Result<Saved<Artifact>> {
        let (report, obs, var) = self.check()?;
        if !report.valid {
            return Err(Error::Curation(Box::new(report)));
        }
        if obs.matched.iter().any(|m| m.convert) {
            return Err(Error::Conflict {
                message: "converting units rewrites values, but an AnnData file is saved as \
                          it is: convert the obs columns in the file, or leave them in their unit"
                    .into(),
            });
        }
        let suffix = if self.path.is_dir() { ".zarr" } else { ".h5ad" };
        if let Some(k) = key
            && !k.to_ascii_lowercase().ends_with(suffix)
        {
            return Err(Error::Conflict {
                message: format!(
                    "the key '{k}' does not end in '{suffix}': a curated AnnData is saved as \
                     it is, so give a key ending in '{suffix}'"
                ),
            });
        }
        let obs_links = self.obs.annotations(obs);
        let gene_keys = var.keys;
        // A standardized file is written beside nothing of the user's: a temporary folder,
        // under the file's own name.
        let fixed = if self.changed {
            let dir = tempfile::tempdir().map_err(|e| Error::Io {
                path: std::env::temp_dir(),
                source: e,
            })?;
            let name = self.path.file_name().map_or_else(
                || std::ffi::OsString::from("standardized.h5ad"),
                |n| n.to_os_string(),
            );
            let dest = dir.path().join(name);
            self.write(&dest)?;
            Some((dir, dest))
        } else {
            None
        };
        let source = fixed
            .as_ref()
            .map_or(self.path.as_path(), |(_, p)| p.as_path());
        let mut draft = self.obs.ln.artifacts().from_path(source);
        if let Some(k) = key {
            draft = draft.key(k);
        }
        if let Some(d) = description {
            draft = draft.description(d);
        }
        let ln = self.obs.ln.clone();
        let draft = draft.then(Box::new(move |conn, a| {
            let owner = Owner::Artifact(require_id(a)?);
            crate::annotate::lock_owner(conn, owner)?;
            obs_links.link(&ln, conn, owner, "obs")?;
            if !gene_keys.is_empty() {
                let keys: Vec<(i64, &str)> =
                    gene_keys.iter().map(|k| (k.id, k.uid.as_str())).collect();
                let first = &gene_keys[0].dtype;
                let dtype = gene_keys
                    .iter()
                    .all(|k| &k.dtype == first)
                    .then(|| first.parse().ok())
                    .flatten();
                let set = crate::annotate::save_set_of_keys(conn, &keys, dtype, ln.user_id())?;
                if let Some(previous) =
                    links::set_slot(conn, owner, "var", require_id(&set.record)?)?
                {
                    links::delete_feature_set_if_unused(conn, previous)?;
                }
            }
            Ok(())
        }));
        draft.save()
    }
}
