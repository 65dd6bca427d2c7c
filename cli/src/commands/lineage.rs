//! `lamella lineage UID|--key K|--collection NAME [--out FILE]…`

use std::path::PathBuf;

use anyhow::Result;
use lamella_core::LineageOf;

use crate::cli::ArtifactRef;
use crate::output::Out;

/// Whose lineage: an artifact, or a collection.
pub struct Target {
    /// The artifact (by uid or key), when no collection is given.
    pub artifact: ArtifactRef,
    /// The collection's name or uid.
    pub collection: Option<String>,
}

/// Writes each `--out` file (by suffix), or prints the edges.
pub fn run(
    target: &Target,
    files: &[PathBuf],
    depth: u32,
    downstream: bool,
    cluster: usize,
    out: &mut Out,
) -> Result<()> {
    let ln = super::current()?;
    let (a, c);
    let of = match &target.collection {
        Some(name) => {
            c = ln.collections().get(name)?;
            LineageOf::Collection(&c)
        }
        None => {
            a = super::artifact::resolve(&ln, &target.artifact)?;
            LineageOf::Artifact(&a)
        }
    };
    let lineage = ln.lineage(of, depth, downstream)?;
    let graph = lineage.graph(cluster);
    for f in files {
        let ext = f
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if ext == "json" {
            let events = lineage.openlineage(&ln)?;
            let text = serde_json::to_string_pretty(&events)?;
            std::fs::write(f, text + "\n")
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", f.display()))?;
        } else {
            lamella_core::write_to(&graph, f)?;
        }
        if !out.json {
            out.line(format!("wrote {}", f.display()))?;
        }
    }
    if out.json {
        if !files.is_empty() {
            return out.json(&serde_json::json!({ "written": files }));
        }
        return out.json(&lineage.openlineage(&ln)?);
    }
    if files.is_empty() {
        if graph.edge_count() == 0 {
            return out.line(
                "no lineage: this record was not made in a tracked run and has no inputs \
                 (track runs with `lamella track NAME`)",
            );
        }
        for (from, to) in graph.edges() {
            out.line(format!(
                "{} → {}",
                from.label.replace('\n', " "),
                to.label.replace('\n', " ")
            ))?;
        }
    }
    Ok(())
}
