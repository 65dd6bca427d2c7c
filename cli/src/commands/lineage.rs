//! `lamella lineage UID|--key K|--collection NAME|--transform NAME [--out FILE]…`

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
    /// A transform (key, name or uid), for its hierarchy.
    pub transform: Option<String>,
}

/// `lineage --transform NAME`: the transform hierarchy, written or printed.
fn transform_hierarchy(
    name: &str,
    files: &[PathBuf],
    depth: u32,
    downstream: bool,
    out: &mut Out,
) -> Result<()> {
    for f in files {
        if f.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            anyhow::bail!(
                "{}: OpenLineage events describe runs and their data; write a transform's \
                 hierarchy as .svg, .dot or .mmd, or ask for the lineage of an artifact",
                f.display()
            );
        }
        lamella_core::Format::from_path(f)?;
    }
    let ln = super::current()?;
    let t = ln.transforms().resolve(name)?;
    let view = if downstream {
        lamella_core::ViewParents::WithChildren
    } else {
        lamella_core::ViewParents::Parents
    };
    let graph = ln.transforms().view_parents(&t, view, depth)?;
    for f in files {
        lamella_core::write_to(&graph, f)?;
        if !out.json {
            out.line(format!("wrote {}", f.display()))?;
        }
    }
    let edges: Vec<(String, String)> = graph
        .edges()
        .map(|(from, to)| (from.label.clone(), to.label.clone()))
        .collect();
    if out.json {
        return out.json(&serde_json::json!({
            "record": t,
            "edges": edges.iter().map(|(p, c)| serde_json::json!({"parent": p, "child": c})).collect::<Vec<_>>(),
            "files": files,
        }));
    }
    if files.is_empty() {
        if edges.is_empty() {
            return out.line(format!(
                "transform '{}' has no {} yet: they are recorded when a run reads another \
                 transform's output",
                t.name,
                if downstream {
                    "parents or children"
                } else {
                    "parents"
                }
            ));
        }
        for (p, c) in edges {
            out.line(format!("{p} → {c}"))?;
        }
    }
    Ok(())
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
    if let Some(name) = &target.transform {
        return transform_hierarchy(name, files, depth, downstream, out);
    }
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
    let direction = if downstream {
        lamella_core::Direction::Downstream
    } else {
        lamella_core::Direction::Upstream
    };
    let lineage = ln.lineage(of, depth, direction)?;
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
            return out.json(&serde_json::json!({ "files": files }));
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
