//! `lamella ulabel …`

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use lamella_core::{Error, Graph, Instance, ULabel, ULabels};
use serde_json::json;

use super::named::{self, find, plural};
use crate::cli::UlabelCommand;
use crate::output::{Out, quote, quote_all, repr, spinner};

/// Runs one `ulabel` subcommand.
pub fn run(cmd: UlabelCommand, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let reg = ln.ulabels();
    match cmd {
        UlabelCommand::Create {
            name,
            description,
            parents,
            from_file,
        } => match (name, from_file) {
            (_, Some(file)) => create_from_file(&ln, &file, &parents, out),
            (Some(name), None) => create(&ln, &name, description, &parents, out),
            (None, None) => bail!("give a label name, or --from-file FILE"),
        },
        UlabelCommand::List(args) => named::list(&reg, &args, out),
        UlabelCommand::Parents {
            name,
            children,
            out: files,
            distance,
        } => parents(&ln, &name, children, &files, distance, out),
        UlabelCommand::AddParent { child, parent } => add_parent(&reg, &child, &parent, out),
        UlabelCommand::RemoveParent { child, parent } => {
            let (c, p) = (find(&reg, &child)?, find(&reg, &parent)?);
            let n = reg.parents(&c)?.remove(std::slice::from_ref(&p))?;
            if out.json {
                return out.json(&json!({ "child": c, "parent": p, "removed": n > 0 }));
            }
            if n == 0 {
                out.line(format!(
                    "{} was not a parent of {}: nothing changed",
                    quote(&p.name),
                    quote(&c.name)
                ))
            } else {
                out.line(format!(
                    "✅ {} is no longer a parent of {}",
                    quote(&p.name),
                    quote(&c.name)
                ))
            }
        }
        UlabelCommand::Update {
            name,
            new_name,
            description,
        } => {
            if new_name.is_none() && description.is_none() {
                bail!("nothing to update: give --name NEW_NAME and/or --description TEXT");
            }
            let mut label = find(&reg, &name)?;
            if let Some(n) = new_name {
                label.name = n;
            }
            if let Some(d) = description {
                label.description = (!d.is_empty()).then_some(d);
            }
            reg.update(&mut label)?;
            if out.json {
                return out.json(&label);
            }
            out.line(repr(&label)?)
        }
        UlabelCommand::Search { text, limit } => named::search(&reg, &text, limit, out),
        UlabelCommand::Delete { name } => named::delete(&reg, &name, out),
    }
}

/// The labels named `names`, each of which must exist.
fn existing_parents(reg: &ULabels<'_>, names: &[String]) -> Result<Vec<ULabel>> {
    names
        .iter()
        .map(|p| {
            reg.resolve(p).map_err(|e| match e {
                Error::NotFound { .. } => anyhow!(
                    "parent {}: {e}; create it first with `lamella ulabel create {}`",
                    quote(p),
                    shell_word(p)
                ),
                other => other.into(),
            })
        })
        .collect()
}

/// A name as the user would type it in a shell.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn create(
    ln: &Instance,
    name: &str,
    description: Option<String>,
    parent_names: &[String],
    out: &mut Out,
) -> Result<()> {
    let reg = ln.ulabels();
    // Check the parents before writing anything.
    let parents = existing_parents(&reg, parent_names)?;
    let mut label = ULabel::new(name);
    if let Some(d) = description {
        label = label.description(d);
    }
    let saved = reg.create(label)?;
    if !parents.is_empty() {
        reg.parents(&saved.record)?.add(&parents)?;
    }
    named::print_saved(&saved, out)?;
    if !parents.is_empty() && !out.json {
        out.line(format!(
            "   parents: {}",
            quote_all(&parents.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
        ))?;
    }
    Ok(())
}

fn create_from_file(
    ln: &Instance,
    file: &Path,
    parent_names: &[String],
    out: &mut Out,
) -> Result<()> {
    let reg = ln.ulabels();
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read label names from {}", file.display()))?;
    let names: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if names.is_empty() {
        bail!(
            "{} holds no label names: write one name per line",
            file.display()
        );
    }
    let parents = existing_parents(&reg, parent_names)?;
    // Linking happens after the bulk save: refuse cycles up front so that a refused link
    // leaves the database unchanged. Only names that already exist can close a cycle: one
    // that is a parent or an ancestor of a parent.
    for p in &parents {
        let ancestors = reg.view_parents(p, false, u32::MAX)?;
        if let Some(a) = ancestors
            .nodes()
            .find(|a| names.contains(&a.label.as_str()))
        {
            return Err(Error::Cycle {
                child: a.label.clone(),
                parent: p.name.clone(),
            })
            .with_context(|| format!("nothing was saved from {}", file.display()));
        }
    }
    let pb = spinner(format!("saving {} labels", names.len()));
    let result = reg.save_all(names.iter().map(|n| ULabel::new(*n)));
    let result = result.and_then(|saved| {
        for p in &parents {
            pb.set_message(format!(
                "linking {} labels to {}",
                saved.records.len(),
                p.name
            ));
            reg.children(p)?.add(&saved.records)?;
        }
        Ok(saved)
    });
    pb.finish_and_clear();
    let saved = result?;
    named::print_saved_all(&saved, out)?;
    if !parents.is_empty() && !out.json {
        out.line(format!(
            "   parent{}: {}",
            plural(parents.len()),
            quote_all(&parents.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
        ))?;
    }
    Ok(())
}

fn add_parent(reg: &ULabels<'_>, child: &str, parent: &str, out: &mut Out) -> Result<()> {
    let c = find(reg, child)?;
    let p = find(reg, parent)?;
    let n = reg.parents(&c)?.add(std::slice::from_ref(&p))?;
    if out.json {
        return out.json(&json!({ "child": c, "parent": p, "added": n > 0 }));
    }
    if n == 0 {
        out.line(format!(
            "{} is already a parent of {}: nothing changed",
            quote(&p.name),
            quote(&c.name)
        ))
    } else {
        out.line(format!(
            "✅ {} is now a parent of {}",
            quote(&p.name),
            quote(&c.name)
        ))
    }
}

/// The hierarchy as an indented tree, roots first: what `view_parents` draws as a picture.
/// The label asked about is marked with `*`; a label with several parents appears under each.
pub fn tree_lines(graph: &Graph) -> Vec<String> {
    struct Tree {
        labels: HashMap<String, String>,
        children: HashMap<String, Vec<String>>,
        lines: Vec<String>,
    }
    impl Tree {
        fn walk(&mut self, id: &str, prefix: &str, last: bool, root: bool) {
            let label = self.labels.get(id).cloned().unwrap_or_default();
            let (line, next) = if root {
                (label, String::new())
            } else if last {
                (format!("{prefix}└── {label}"), format!("{prefix}    "))
            } else {
                (format!("{prefix}├── {label}"), format!("{prefix}│   "))
            };
            self.lines.push(line);
            let kids = self.children.get(id).cloned().unwrap_or_default();
            for (i, k) in kids.iter().enumerate() {
                self.walk(k, &next, i + 1 == kids.len(), false);
            }
        }
    }
    let mut tree = Tree {
        labels: graph
            .nodes()
            .map(|n| {
                let mark = if n.highlight { " *" } else { "" };
                (n.id.clone(), format!("{}{mark}", n.label))
            })
            .collect(),
        children: HashMap::new(),
        lines: Vec::new(),
    };
    let mut has_parent = HashSet::new();
    for (a, b) in graph.edges() {
        tree.children
            .entry(a.id.clone())
            .or_default()
            .push(b.id.clone());
        has_parent.insert(b.id.clone());
    }
    let roots: Vec<String> = graph
        .nodes()
        .filter(|n| !has_parent.contains(&n.id))
        .map(|n| n.id.clone())
        .collect();
    for r in roots {
        tree.walk(&r, "", true, true);
    }
    tree.lines
}

/// Writes `graph` to each file (format from the extension).
pub fn write_graph(graph: &Graph, files: &[PathBuf]) -> Result<()> {
    for f in files {
        if let Some(dir) = f.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create folder {}", dir.display()))?;
        }
        lamella_core::write_to(graph, f)?;
    }
    Ok(())
}

fn parents(
    ln: &Instance,
    name: &str,
    with_children: bool,
    files: &[PathBuf],
    distance: u32,
    out: &mut Out,
) -> Result<()> {
    let reg = ln.ulabels();
    let label = find(&reg, name)?;
    // Check every extension before writing anything.
    for f in files {
        lamella_core::Format::from_path(f)?;
    }
    let graph = reg.view_parents(&label, with_children, distance)?;
    write_graph(&graph, files)?;
    let direct_parents = reg.parents(&label)?.all()?;
    let direct_children = if with_children {
        reg.children(&label)?.all()?
    } else {
        Vec::new()
    };
    if out.json {
        let mut v = json!({
            "label": label,
            "parents": direct_parents,
            "files": files,
        });
        if with_children {
            v["children"] = json!(direct_children);
        }
        return out.json(&v);
    }
    if graph.edge_count() == 0 {
        out.line(format!(
            "{} has no {}",
            quote(&label.name),
            if with_children {
                "parents or children"
            } else {
                "parents"
            }
        ))?;
    } else {
        for l in tree_lines(&graph) {
            out.line(l)?;
        }
    }
    for f in files {
        out.line(format!("wrote {}", f.display()))?;
    }
    Ok(())
}
