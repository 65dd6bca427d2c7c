//! The AnnData benchmarks (issue: single-cell data): files generated once by the `anndata`
//! Python package (cached under `target/bench-data/`), then save + describe against
//! `md5sum`, annotating a 20k-gene panel, the curator on 1M cells, and the concatenation of
//! 10 members against `anndata.experimental.concat_on_disk` on the same files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use lamella_core::{Existing, Feature, Instance, Join, ULabel};

use super::{Row, fmt_duration, md5sum_time, peak_rss, reset_peak_rss, time};

/// Writes the benchmark's files: `sc_{i}.h5ad` (`cells` × 20k genes, CSR float32, 100
/// stored values per cell, obs: cell_type, batch, n_genes, total_counts), and `big_obs.h5ad`
/// (`obs_cells` cells × 10 obs columns, 10 genes).
const GENERATE: &str = r#"
import sys, numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out, members, cells, obs_cells = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
genes = [f"GENE{g:05d}" for g in range(20000)]
types = [f"type {t}" for t in range(10)]
for i in range(members):
    rng = np.random.default_rng(i)
    per = 100
    indices = (np.arange(per) * 200)[None, :] + rng.integers(0, 200, size=(cells, per))
    indices = indices.astype(np.int32).ravel()
    data = rng.integers(1, 20, size=cells * per).astype(np.float32)
    indptr = np.arange(0, cells * per + 1, per, dtype=np.int64)
    x = sp.csr_matrix((data, indices, indptr), shape=(cells, len(genes)))
    obs = pd.DataFrame({
        "cell_type": pd.Categorical(np.array(types)[rng.integers(0, 10, cells)]),
        "batch": pd.Categorical([f"b{i}"] * cells),
        "n_genes": np.full(cells, per, dtype=np.int64),
        "total_counts": np.asarray(x.sum(axis=1)).ravel().astype(np.float64),
    }, index=[f"m{i}_c{c}" for c in range(cells)])
    ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=genes)).write_h5ad(f"{out}/sc_{i}.h5ad")
rng = np.random.default_rng(99)
n = obs_cells
obs = pd.DataFrame({
    "cell_type": pd.Categorical(np.array(types)[rng.integers(0, 10, n)]),
    "donor": pd.Categorical(np.array([f"donor {d}" for d in range(20)])[rng.integers(0, 20, n)]),
    "tissue": pd.Categorical(np.array(["blood", "lung", "liver"])[rng.integers(0, 3, n)]),
    "assay": pd.Categorical(["10x 3' v3"] * n),
    "n_genes": rng.integers(200, 5000, n),
    "total_counts": rng.random(n) * 1e4,
    "pct_mito": rng.random(n) * 10,
    "doublet_score": rng.random(n),
    "is_doublet": rng.random(n) > 0.95,
    "phase": pd.Categorical(np.array(["G1", "S", "G2M"])[rng.integers(0, 3, n)]),
}, index=[f"cell{c}" for c in range(n)])
x = sp.random(n, 10, density=0.1, format="csr", dtype=np.float32, random_state=1)
ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[f"G{g}" for g in range(10)])).write_h5ad(f"{out}/big_obs.h5ad")
"#;

/// The generated files (made once per size, kept under `target/bench-data/`).
fn files(quick: bool) -> Result<Option<(Vec<PathBuf>, PathBuf)>> {
    if !lamella_tests::python_has(&["anndata", "scipy"]) {
        eprintln!("AnnData figures skipped: python3 cannot import anndata and scipy");
        return Ok(None);
    }
    let (members, cells, obs_cells) = if quick {
        (4, 10_000, 100_000)
    } else {
        (10, 100_000, 1_000_000)
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench-data")
        .join(format!("anndata-{members}x{cells}-{obs_cells}"));
    let paths: Vec<PathBuf> = (0..members)
        .map(|i| dir.join(format!("sc_{i}.h5ad")))
        .collect();
    let big = dir.join("big_obs.h5ad");
    if !big.exists() {
        std::fs::create_dir_all(&dir)?;
        eprintln!(
            "generating AnnData files with anndata in {} …",
            dir.display()
        );
        let run = std::process::Command::new("python3")
            .arg("-c")
            .arg(GENERATE)
            .arg(&dir)
            .args([
                members.to_string(),
                cells.to_string(),
                obs_cells.to_string(),
            ])
            .output()?;
        anyhow::ensure!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    Ok(Some((paths, big)))
}

pub(super) fn anndata(
    ln: &Instance,
    backend: &'static str,
    quick: bool,
    peers: bool,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let Some((paths, big)) = files(quick)? else {
        return Ok(());
    };
    let size = std::fs::metadata(&paths[0])?.len();
    // Save + describe, next to md5sum of the same file.
    let floor = md5sum_time(&paths[0])?;
    // Best of 3 (new artifacts of the same file each time), as `register` is measured.
    let mut d = Duration::MAX;
    let mut describe = Duration::MAX;
    let mut a = None;
    for i in 0..3 {
        let (saved, t) = time(|| {
            Ok(ln
                .artifacts()
                .from_path(&paths[0])
                .on_duplicate(lamella_core::DuplicatePolicy::CreateNew)
                .description(format!("sc {i}"))
                .save()?
                .record)
        })?;
        let (_, td) = time(|| Ok(ln.artifacts().describe(&saved)?))?;
        d = d.min(t + td);
        describe = describe.min(td);
        a.get_or_insert(saved);
    }
    let a = a.ok_or_else(|| anyhow::anyhow!("nothing was saved"))?;
    let info = ln
        .artifacts()
        .describe(&a)?
        .anndata
        .ok_or_else(|| anyhow::anyhow!("the saved .h5ad has no AnnData summary"))?;
    rows.push(Row {
        backend,
        what: format!(
            "save + describe a {} x {} sparse .h5ad ({} MB; describe {}; md5sum alone {}, ratio {:.2}, target <= 1.2)",
            info.n_obs,
            info.n_vars,
            size / 1_000_000,
            fmt_duration(describe),
            fmt_duration(floor),
            d.as_secs_f64() / floor.as_secs_f64()
        ),
        time: d,
        per: None,
        lamindb: "",
    });
    // The panel: 20k genes as features (one bulk call), then annotate twice.
    let (_, d) = time(|| Ok(ln.features().from_var(&paths[0])?))?;
    rows.push(Row {
        backend,
        what: "feature from-file --var: 20k genes as features, one bulk call".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    ln.features().save_all(
        ["cell_type", "batch"].map(|n| Feature::new(n, lamella_core::Dtype::Cat(Vec::new()))),
    )?;
    ln.features().save_all([
        Feature::new("n_genes", lamella_core::Dtype::Int),
        Feature::new("total_counts", lamella_core::Dtype::Float),
    ])?;
    let (_, first) = time(|| Ok(ln.artifacts().annotate_slots(&a)?))?;
    let b = ln.artifacts().from_path(&paths[1]).save()?.record;
    let (slots, again) = time(|| Ok(ln.artifacts().annotate_slots(&b)?))?;
    anyhow::ensure!(slots[1].1.existed, "the panel's feature set is reused");
    rows.push(Row {
        backend,
        what: "annotate --columns, 20k-gene panel, first time (target <= 0.5 s)".into(),
        time: first,
        per: None,
        lamindb: "",
    });
    rows.push(Row {
        backend,
        what: "annotate --columns, the same panel in another file (target <= 20 ms)".into(),
        time: again,
        per: None,
        lamindb: "",
    });
    // The curator on 1M cells x 10 obs columns (labels and features registered).
    let types: Vec<ULabel> = (0..10).map(|t| ULabel::new(format!("type {t}"))).collect();
    ln.ulabels().save_all(types)?;
    let curator_cells = lamella_storage::AnnData::open(&big)?.len(lamella_storage::Axis::Obs)?;
    ln.features().from_file(&big, &Default::default())?;
    ln.features().from_var(&big)?;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let (report, d) = time(|| {
            Ok(ln
                .anndata_curator(&big)?
                .obs(|c| c.allow_extra())
                .validate()?)
        })?;
        anyhow::ensure!(report.rows == curator_cells as usize);
        best = best.min(d);
    }
    rows.push(Row {
        backend,
        what: format!(
            "AnnData curator: {curator_cells} cells x 10 obs columns, read + validate (target <= 1 s)"
        ),
        time: best,
        per: None,
        lamindb: "",
    });
    // The concatenation of every member along cells, X streamed.
    let members: Vec<lamella_core::Artifact> = paths
        .iter()
        .map(|p| Ok(ln.artifacts().from_path(p).save()?.record))
        .collect::<Result<_>>()?;
    let c = ln.collections().create(&members, "cells").save()?.record;
    let out_dir = tempfile::tempdir_in(std::env::current_dir()?)?;
    let out = out_dir.path().join("all.h5ad");
    reset_peak_rss();
    let ((cells, bytes), d) = time(|| {
        Ok(ln
            .collections()
            .concat(&c)
            .join(Join::Inner)
            .export(&out, Existing::Refuse)?)
    })?;
    let peak = peak_rss();
    rows.push(Row {
        backend,
        what: format!(
            "collection load --out all.h5ad: {} members, {cells} cells x 20k genes ({} MB; peak RSS {} MB, target <= 500)",
            members.len(),
            bytes / 1_000_000,
            peak.map_or("?".to_string(), |p| (p / 1_000_000).to_string()),
        ),
        time: d,
        per: None,
        lamindb: "",
    });
    if peers {
        let peer = out_dir.path().join("peer.h5ad");
        match super::peer_export(
            "anndata",
            "import anndata.experimental as ae\n\
             ae.concat_on_disk(paths, out, join='inner')\n",
            &paths,
            &peer,
        ) {
            Ok(Some((pd, peak))) => rows.push(Row {
                backend,
                what: format!(
                    "  peer: anndata.experimental.concat_on_disk, same files (peak RSS {} MB)",
                    peak / 1_000_000
                ),
                time: pd,
                per: None,
                lamindb: super::ratio(d, pd, "anndata", 1.0),
            }),
            Ok(None) => {}
            Err(e) => eprintln!("peer anndata failed: {e}"),
        }
    }
    Ok(())
}
