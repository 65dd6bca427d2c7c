//! The LaminDB import benchmark (issue: import an existing LaminDB instance): a LaminDB 2.x
//! instance grown from the 2.12 fixture to 100k artifacts (1 KB files), 10k labels, 50
//! features and 200k label links (`tests/python/make_lamindb_instance.py`, cached under
//! `target/bench-data/`), imported whole and as a dry run (the database part alone).
//! Targets: ≤ 60 s and ≤ 300 MB peak RSS end to end on local storage; the dry run ≤ 10 s.

use std::path::{Path, PathBuf};

use anyhow::Result;
use lamella_core::{ImportOptions, Instance};

use super::{Row, fmt_duration, peak_rss, reset_peak_rss, time};

/// The generated instance's storage root (made once per size).
fn source(quick: bool) -> Result<PathBuf> {
    let (artifacts, labels, features, links) = if quick {
        (10_000, 1_000, 50, 20_000)
    } else {
        (100_000, 10_000, 50, 200_000)
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench-data")
        .join(format!("lamindb-{artifacts}"));
    let root = dir.join("inst/data");
    if !dir.join("done").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        eprintln!(
            "generating a LaminDB instance with {artifacts} artifacts in {} …",
            dir.display()
        );
        let tar = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/lamindb/lamindb-2.12-instance.tar.gz");
        let status = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(tar)
            .arg("-C")
            .arg(&dir)
            .status()?;
        anyhow::ensure!(status.success(), "tar failed");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/make_lamindb_instance.py");
        let status = std::process::Command::new("python3")
            .arg(script)
            .arg(&root)
            .args([artifacts, labels, features, links].map(|n| n.to_string()))
            .status()?;
        anyhow::ensure!(status.success(), "make_lamindb_instance.py failed");
        std::fs::write(dir.join("done"), "")?;
    }
    Ok(root)
}

/// Imports the generated instance into `ln` (fresh): the dry run, then the import.
pub fn import(
    ln: &Instance,
    backend: &'static str,
    quick: bool,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let root = source(quick)?.display().to_string();
    let dry = ImportOptions {
        dry_run: true,
        ..Default::default()
    };
    reset_peak_rss();
    let (report, t) = time(|| Ok(ln.import_lamindb(&root, &dry)?))?;
    let artifacts = report
        .registries
        .iter()
        .find(|c| c.registry == "Artifact")
        .map_or(0, |c| c.imported);
    rows.push(Row {
        backend,
        what: format!(
            "import lamindb --dry-run: {artifacts} artifacts, 10k labels, 200k links read and \
             planned (target ≤ 10 s; peak RSS {} MB)",
            peak_rss().map_or("?".into(), |p| (p / 1_000_000).to_string())
        ),
        time: t,
        per: None,
        lamindb: "",
    });
    reset_peak_rss();
    let (report, t) = time(|| Ok(ln.import_lamindb(&root, &ImportOptions::default())?))?;
    anyhow::ensure!(
        report.missing.is_empty(),
        "objects missing: {:?}",
        report.missing
    );
    rows.push(Row {
        backend,
        what: format!(
            "import lamindb: {artifacts} artifacts with their 1 KB objects ({} hard-linked, {} \
             copied), labels, links (target ≤ 60 s, ≤ 300 MB; peak RSS {} MB)",
            report.linked,
            report.copied,
            peak_rss().map_or("?".into(), |p| (p / 1_000_000).to_string())
        ),
        time: t,
        per: None,
        lamindb: "",
    });
    let (again, t) = time(|| Ok(ln.import_lamindb(&root, &ImportOptions::default())?))?;
    anyhow::ensure!(again.nothing_new(), "a second import imported something");
    rows.push(Row {
        backend,
        what: "import lamindb again: everything found, nothing written".into(),
        time: t,
        per: None,
        lamindb: "",
    });
    eprintln!("  import: {}", fmt_duration(t));
    Ok(())
}
