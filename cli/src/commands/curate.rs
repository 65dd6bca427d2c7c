//! `lamella validate FILE …` and `lamella curate FILE --key K …`

use anyhow::Result;
use lamella_core::Code;
use std::path::Path;

use lamella_core::{AnnDataCurator, Curator, Error, Fixes, Instance, Report};

use super::{ExitCode, Usage};
use crate::cli::CurateArgs;
use crate::output::{Out, shell_word};

/// The errors of setting up a check are usage errors (exit 2: a column the options name is
/// missing, an unknown schema, a file that is not a table) — except a file whose content is
/// broken (a corrupt AnnData or table), which is a failure (exit 1) like any other.
fn usage_unless_data(e: anyhow::Error) -> anyhow::Error {
    let broken = e
        .downcast_ref::<Error>()
        .is_some_and(|e| matches!(e.kind(), "invalid_anndata" | "invalid_table"));
    if broken { e } else { Usage(e).into() }
}

/// What checks the file: the table curator, or the AnnData curator (obs as a table, var's
/// genes against the features).
enum Checker {
    Table(Box<Curator>),
    AnnData(Box<AnnDataCurator>),
}

impl Checker {
    fn validate(&self) -> lamella_core::Result<Report> {
        match self {
            Checker::Table(c) => c.validate(),
            Checker::AnnData(c) => c.validate(),
        }
    }

    /// The table whose columns the options name (an AnnData's obs).
    fn table(&self) -> &lamella_core::RecordBatch {
        match self {
            Checker::Table(c) => c.table(),
            Checker::AnnData(c) => c.obs_curator().table(),
        }
    }

    fn save_artifact(
        &self,
        key: Option<&str>,
        description: Option<&str>,
    ) -> lamella_core::Result<lamella_core::Saved<lamella_core::Artifact>> {
        match self {
            Checker::Table(c) => c.save_artifact(key, description),
            Checker::AnnData(c) => c.save_artifact(key, description),
        }
    }
}

/// The table curator with the command's options (for an AnnData file: of its obs).
fn configure(ln: &Instance, c: Curator, args: &CurateArgs) -> Result<Curator> {
    let mut c = c.examples(args.examples);
    if let Some(name) = &args.schema {
        c = c.schema(&ln.schemas().get(name)?);
    }
    if args.allow_extra {
        c = c.allow_extra();
    }
    if args.ordered {
        c = c.ordered();
    }
    if args.convert_units {
        c = c.convert_units();
    }
    for (column, feature) in &args.categorical {
        c = c.categorical(column, feature);
    }
    for f in &args.require {
        c = c.require(f);
    }
    for (column, unit) in &args.units {
        c = c.unit(column, unit);
    }
    c.check_options()?;
    Ok(c)
}

fn curator(ln: &Instance, args: &CurateArgs) -> Result<Curator> {
    let table = lamella_core::read_table_with(&args.file, &args.na.options())?;
    configure(ln, ln.curator(table), args)
}

fn checker(ln: &Instance, args: &CurateArgs) -> Result<Checker> {
    if !lamella_core::is_anndata_file(&args.file.to_string_lossy()) {
        if args.var_schema.is_some() {
            anyhow::bail!("--var-schema checks an AnnData file's genes; give an .h5ad file");
        }
        return Ok(Checker::Table(Box::new(curator(ln, args)?)));
    }
    let mut c = ln
        .anndata_curator(&args.file)?
        .examples(args.examples)
        .try_obs(|obs| configure(ln, obs, args))?;
    if let Some(name) = &args.var_schema {
        c = c.var_schema(&ln.schemas().get(name)?);
    }
    Ok(Checker::AnnData(Box::new(c)))
}

fn print_report(report: &Report, suffix: &str, out: &mut Out) -> Result<()> {
    if out.json {
        return out.json(report);
    }
    let text = report.to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap_or_default();
    for l in lines {
        out.line(l)?;
    }
    if report.valid {
        out.line(format!("✅ {last}"))
    } else {
        out.line(format!("{last}{suffix}"))?;
        // The command-line way to register unknown labels, per column that has them.
        let mut columns: Vec<&str> = report
            .issues
            .iter()
            .filter(|i| i.code == Code::UnknownLabel)
            .filter_map(|i| i.column.as_deref())
            .collect();
        columns.dedup();
        if !columns.is_empty() {
            out.note(format!(
                "to register the unknown values as labels, curate with {}",
                columns
                    .iter()
                    .map(|c| format!("--add-new {}", shell_word(c)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))?;
        }
        Ok(())
    }
}

/// With `--standardize`: the checker of the standardized data and what changed (printed
/// unless `--json`, where the report or result carries the fix map).
fn standardized(c: Checker, args: &CurateArgs, out: &mut Out) -> Result<(Checker, Option<Fixes>)> {
    if !args.standardize {
        return Ok((c, None));
    }
    let (c, fixes) = match c {
        Checker::Table(c) => {
            let (c, f) = c.standardize()?;
            (Checker::Table(Box::new(c)), f)
        }
        Checker::AnnData(c) => {
            let (c, f) = c.standardize()?;
            (Checker::AnnData(Box::new(c)), f)
        }
    };
    if !out.json {
        if fixes.is_empty() {
            out.line("🔧 standardize: no synonyms to apply")?;
        } else {
            out.line("🔧 standardized:")?;
            for l in fixes.lines() {
                out.line(format!("  {l}"))?;
            }
        }
    }
    Ok((c, Some(fixes)))
}

/// Writes the standardized data to `path`: an AnnData file as AnnData (`.h5ad`), a table by
/// the suffix (Parquet, or CSV/TSV, maybe gzipped); refuses to replace a file.
fn write_fixed(c: &Checker, path: &Path) -> Result<()> {
    let name = path.to_string_lossy();
    if path.exists() {
        anyhow::bail!(
            "{} exists: give --out a new path (the standardized data is never written over a \
             file)",
            path.display()
        );
    }
    let table = match c {
        Checker::AnnData(a) => {
            if !lamella_core::is_h5ad_file(&name) {
                return Err(Usage(anyhow::anyhow!(
                    "--out {}: a standardized AnnData file is written as AnnData; give a path \
                     ending in .h5ad",
                    path.display()
                ))
                .into());
            }
            a.write(path)?;
            return Ok(());
        }
        Checker::Table(t) => t.table(),
    };
    if lamella_core::suffix_of(&name).eq_ignore_ascii_case(".parquet") {
        lamella_core::write_parquet([table], path)?;
    } else if lamella_core::is_table_file(&name) {
        lamella_core::write_csv([table], path)?;
    } else {
        return Err(Usage(anyhow::anyhow!(
            "--out {}: give a path ending in .parquet, .csv or .tsv (.csv.gz, .tsv.gz)",
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// `lamella validate FILE [--standardize [--out FIXED]] …`: the report; exit code 1 when the
/// table is not valid.
pub fn validate(args: &CurateArgs, fixed: Option<&Path>, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let (c, fixes) = standardized(checker(&ln, args).map_err(usage_unless_data)?, args, out)?;
    if let Some(path) = fixed {
        write_fixed(&c, path)?;
        if !out.json {
            out.line(format!(
                "✅ wrote the standardized data to {}",
                path.display()
            ))?;
        }
    }
    let report = c.validate()?;
    if out.json && fixes.is_some() {
        let mut v = serde_json::to_value(&report)?;
        v["fixes"] = serde_json::to_value(&fixes)?;
        out.json(&v)?;
    } else {
        print_report(&report, "", out)?;
    }
    if report.valid {
        Ok(())
    } else {
        Err(ExitCode(1).into())
    }
}

/// `lamella curate FILE --key K …`: registers new labels on request, validates, and saves
/// the table with its annotations only when it is valid (exit code 1 otherwise).
pub fn curate(
    args: &CurateArgs,
    key: &str,
    description: Option<&str>,
    add_new: &[String],
    out: &mut Out,
) -> Result<()> {
    let ln = super::current()?;
    let (c, fixes) = standardized(checker(&ln, args).map_err(usage_unless_data)?, args, out)?;
    let schema = c.table().schema();
    if let Some(missing) = add_new
        .iter()
        .find(|col| schema.field_with_name(col).is_err())
    {
        return Err(Usage(anyhow::anyhow!(
            "--add-new names the column '{missing}', which {} does not have",
            args.file.display()
        ))
        .into());
    }
    let c = match c {
        Checker::Table(t) => {
            let mut t = *t;
            for column in add_new {
                t = t.add_new(column);
            }
            t.check_options().map_err(|e| Usage(e.into()))?;
            Checker::Table(Box::new(t))
        }
        Checker::AnnData(a) => Checker::AnnData(Box::new(a.obs(|mut t| {
            for column in add_new {
                t = t.add_new(column);
            }
            t
        }))),
    };
    match c.save_artifact(Some(key), description) {
        Ok(saved) => {
            let d = ln.artifacts().describe(&saved.record)?;
            if out.json {
                // The description of what was saved, as a result: outcome and notes added.
                let mut v = serde_json::to_value(&d)?;
                v["outcome"] = serde_json::json!(crate::output::created_or_existing(saved.existed));
                v["notes"] = serde_json::json!(saved.notes);
                if let Some(f) = &fixes {
                    v["fixes"] = serde_json::to_value(f)?;
                }
                return out.json(&v);
            }
            for n in &saved.notes {
                out.warn(n)?;
            }
            if saved.existed {
                out.line(format!(
                    "✅ {} is already registered as {} (key {}): annotated it with its columns \
                     and labels",
                    args.file.display(),
                    saved.record.uid,
                    saved.record.key.as_deref().unwrap_or("none")
                ))?;
            } else {
                out.line(format!(
                    "✅ saved {} as {} with its {} and labels",
                    args.file.display(),
                    saved.record.uid,
                    if matches!(c, Checker::AnnData(_)) {
                        "obs and var feature sets"
                    } else {
                        "columns"
                    }
                ))?;
            }
            for line in d.to_string().lines() {
                out.line(line)?;
            }
            Ok(())
        }
        Err(Error::Curation(report)) => {
            if out.json
                && let Some(f) = &fixes
            {
                let mut v = serde_json::to_value(&report)?;
                v["fixes"] = serde_json::to_value(f)?;
                out.json(&v)?;
                return Err(ExitCode(1).into());
            }
            print_report(&report, "; nothing saved", out)?;
            Err(ExitCode(1).into())
        }
        Err(e) => Err(e.into()),
    }
}
