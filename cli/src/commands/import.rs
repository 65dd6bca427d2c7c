//! `lamella import lamindb SOURCE`

use anyhow::Result;
use lamella_core::{ImportOptions, ImportReport, OnMissing};

use crate::cli::{ImportCommand, OnMissingArg};
use crate::output::Out;

pub fn run(cmd: ImportCommand, out: &mut Out) -> Result<()> {
    match cmd {
        ImportCommand::Lamindb {
            source,
            storage,
            dry_run,
            on_missing,
        } => {
            let ln = super::current()?;
            let options = ImportOptions {
                dry_run,
                on_missing: match on_missing {
                    OnMissingArg::Skip => OnMissing::Skip,
                    OnMissingArg::Record => OnMissing::Record,
                },
                storage,
            };
            // (progress: bars of files and bytes while the artifacts come over)
            let report = ln.import_lamindb(&source, &options)?;
            if out.json {
                out.json(&report)?;
            } else {
                print_report(&report, out)?;
            }
            if !report.missing.is_empty() {
                // like doctor: non-zero while something needs attention
                return Err(super::ExitCode(1).into());
            }
            Ok(())
        }
    }
}

fn print_report(r: &ImportReport, out: &mut Out) -> Result<()> {
    out.line(format!(
        "{} {} ({}) from {}",
        if r.dry_run {
            "Would import"
        } else {
            "Imported"
        },
        r.source,
        r.layout,
        r.root
    ))?;
    let width = r
        .registries
        .iter()
        .map(|c| c.registry.len())
        .max()
        .unwrap_or(8)
        .max("registry".len());
    out.line(format!(
        "  {:<width$}  {:>9}  {:>8}  {:>6}",
        "registry", "imported", "skipped", "failed"
    ))?;
    for c in &r.registries {
        out.line(format!(
            "  {:<width$}  {:>9}  {:>8}  {:>6}",
            c.registry, c.imported, c.skipped, c.failed
        ))?;
    }
    if !r.dry_run {
        let on_server = if r.copied_on_server > 0 {
            format!(", {} copied on the S3 server", r.copied_on_server)
        } else {
            String::new()
        };
        out.line(format!(
            "  objects: {} hard-linked, {} copied{on_server}, {} bytes",
            r.linked, r.copied, r.bytes
        ))?;
    }
    for m in &r.missing {
        out.line(format!(
            "❗ artifact {}{}: object {} at {} (expected hash {})",
            m.uid,
            m.key
                .as_deref()
                .map(|k| format!(" ('{k}')"))
                .unwrap_or_default(),
            match &m.found {
                None => "missing".to_string(),
                Some(h) => format!("changed (hash {h})"),
            },
            m.location,
            m.expected.as_deref().unwrap_or("none")
        ))?;
    }
    for n in &r.notes {
        out.line(format!("💡 {n}"))?;
    }
    Ok(())
}
