//! `lamella ulabel …`

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use lamella_core::{Error, Graph, Instance, ULabel, ULabels};
use serde_json::json;

use super::named::{self, find, plural};
use crate::cli::UlabelCommand;
use crate::output::{Out, outcome_json, quote, quote_all, repr, shell_word, spinner};

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
        UlabelCommand::Synonym(cmd) => named::synonym(&reg, cmd, out),
        UlabelCommand::Inspect { values, from_file } => {
            named::inspect(&reg, &values, from_file.as_deref(), out)
        }
        UlabelCommand::Standardize { values, from_file } => {
            named::standardize(&reg, &values, from_file.as_deref(), out)
        }
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
                let mut v = outcome_json(&c, if n > 0 { "removed" } else { "unchanged" })?;
                v["parent"] = json!(p);
                return out.json(&v);
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
                return out.json(&outcome_json(&label, "updated")?);
            }
            out.line(repr(&label)?)
        }
        UlabelCommand::Search { text, limit } => named::search(&reg, &text, limit, out),
        UlabelCommand::Delete { name } => named::delete(&reg, &name, out),
    }
}

/// The labels named `names`, each of which must exist.
fn existing_parents(reg: &ULabels, names: &[String]) -> Result<Vec<ULabel>> {
    names
        .iter()
        .map(|p| {
            reg.resolve(p).map_err(|e| match e {
                e @ Error::NotFound { .. } => crate::errors::hinted(
                    e,
                    format!(
                        "create the parent first with `lamella ulabel create {}`",
                        shell_word(p)
                    ),
                ),
                other => other.into(),
            })
        })
        .collect()
}

fn create(
    ln: &Instance,
    name: &str,
    description: Option<String>,
    parent_names: &[String],
    out: &mut Out,
) -> Result<()> {
    let reg = ln.ulabels();
    let parents = existing_parents(&reg, parent_names)?;
    let mut label = ULabel::new(name);
    if let Some(d) = description {
        label = label.description(d);
    }
    // The label and its parent links are saved in one transaction.
    let saved = reg.create(label).parents(&parents).save()?;
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
    let pb = spinner(format!("saving {} labels", names.len()));
    // One transaction: a link that would close a cycle saves nothing.
    let result = reg.save_names(&names, &parents);
    pb.finish_and_clear();
    let saved = result.with_context(|| format!("nothing was saved from {}", file.display()))?;
    named::print_saved_names(&reg, &saved, out)?;
    if !parents.is_empty() && !out.json {
        out.line(format!(
            "   parent{}: {}",
            plural(parents.len()),
            quote_all(&parents.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
        ))?;
    }
    Ok(())
}

fn add_parent(reg: &ULabels, child: &str, parent: &str, out: &mut Out) -> Result<()> {
    let c = find(reg, child)?;
    let p = find(reg, parent)?;
    let n = reg.parents(&c)?.add(std::slice::from_ref(&p))?;
    if out.json {
        let mut v = outcome_json(&c, if n > 0 { "added" } else { "unchanged" })?;
        v["parent"] = json!(p);
        return out.json(&v);
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
    let view = if with_children {
        lamella_core::ViewParents::WithChildren
    } else {
        lamella_core::ViewParents::Parents
    };
    let graph = reg.view_parents(&label, view, distance)?;
    write_graph(&graph, files)?;
    let direct_parents = reg.parents(&label)?.all()?;
    let direct_children = if with_children {
        reg.children(&label)?.all()?
    } else {
        Vec::new()
    };
    if out.json {
        let mut v = json!({
            "record": label,
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
        for l in lamella_core::tree_lines(&graph) {
            out.line(l)?;
        }
    }
    for f in files {
        out.line(format!("wrote {}", f.display()))?;
    }
    Ok(())
}
