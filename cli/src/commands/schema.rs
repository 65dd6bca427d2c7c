//! `lamella schema …`: saved schemas.

use anyhow::{Result, bail};
use serde_json::json;

use crate::cli::SchemaCommand;
use crate::output::{Out, quote};

/// Runs one `schema` subcommand.
pub fn run(cmd: SchemaCommand, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let reg = ln.schemas();
    match cmd {
        SchemaCommand::Create {
            name,
            features,
            require,
            ordered,
            allow_extra,
            categorical,
            description,
        } => {
            if features.is_empty() && require.is_empty() && categorical.is_empty() {
                bail!("give the schema's features: --feature F (repeatable), --require F");
            }
            let mut draft = reg.create(&name);
            for f in features {
                draft = draft.feature(f);
            }
            for f in require {
                draft = draft.require(f);
            }
            for (c, f) in categorical {
                draft = draft.categorical(c, f);
            }
            if ordered {
                draft = draft.ordered();
            }
            if allow_extra {
                draft = draft.allow_extra();
            }
            if let Some(d) = description {
                draft = draft.description(d);
            }
            let saved = draft.save()?;
            if out.json {
                return out.json(&json!({
                    "record": saved.record,
                    "outcome": crate::output::created_or_existing(saved.existed),
                }));
            }
            let s = &saved.record;
            if saved.existed {
                out.line(format!(
                    "✅ schema {} version {} has these rules already ({})",
                    quote(&s.name),
                    s.version,
                    s.uid
                ))?;
            } else {
                out.line(format!(
                    "✅ saved schema {} version {} ({}) with {} feature{}",
                    quote(&s.name),
                    s.version,
                    s.uid,
                    s.features.len(),
                    if s.features.len() == 1 { "" } else { "s" }
                ))?;
            }
            print_schema(s, out)
        }
        SchemaCommand::Ls => {
            let all = reg.list()?;
            if out.json {
                return out.json(&all);
            }
            if all.is_empty() {
                return out.line("no schemas (create one: lamella schema create NAME --feature F)");
            }
            use lamella_core::arrow::array::{ArrayRef, StringArray, UInt64Array};
            use std::sync::Arc;
            let text = |f: &dyn Fn(&lamella_core::Schema) -> String| -> ArrayRef {
                Arc::new(StringArray::from_iter_values(all.iter().map(f)))
            };
            let count = |f: &dyn Fn(&lamella_core::Schema) -> u64| -> ArrayRef {
                Arc::new(UInt64Array::from_iter_values(all.iter().map(f)))
            };
            let batch = lamella_core::RecordBatch::try_from_iter(vec![
                ("name", text(&|s| s.name.clone())),
                ("version", count(&|s| u64::from(s.version))),
                ("uid", text(&|s| s.uid.clone())),
                ("features", count(&|s| s.features.len() as u64)),
                (
                    "required",
                    count(&|s| s.features.iter().filter(|f| f.required).count() as u64),
                ),
                (
                    "description",
                    text(&|s| s.description.clone().unwrap_or_default()),
                ),
            ])?;
            out.table(&batch)
        }
        SchemaCommand::Describe { name, versions } => {
            let list = if versions {
                reg.versions(&name)?
            } else {
                vec![reg.get(&name)?]
            };
            if out.json {
                return if versions {
                    out.json(&list)
                } else {
                    out.json(&list[0])
                };
            }
            for (i, s) in list.iter().enumerate() {
                if i > 0 {
                    out.blank()?;
                }
                out.line(format!(
                    "Schema {} version {} ({}){}",
                    quote(&s.name),
                    s.version,
                    s.uid,
                    if s.is_latest { ", latest" } else { "" }
                ))?;
                print_schema(s, out)?;
            }
            Ok(())
        }
        SchemaCommand::Delete { name } => {
            let s = reg.get(&name)?;
            let n = reg.delete(&name)?;
            if out.json {
                return out.json(&json!({
                    "record": s,
                    "outcome": "deleted",
                    "versions_deleted": n,
                }));
            }
            out.line(format!(
                "✅ deleted schema {} ({n} version{})",
                quote(&s.name),
                if n == 1 { "" } else { "s" }
            ))
        }
    }
}

/// A schema's rules and features, one line each.
fn print_schema(s: &lamella_core::Schema, out: &mut Out) -> Result<()> {
    if let Some(d) = &s.description {
        out.line(format!("  {d}"))?;
    }
    out.line(format!(
        "  rules: {}, {}; hash {}",
        if s.ordered {
            "required columns in order"
        } else {
            "any column order"
        },
        if s.allow_extra {
            "extra columns allowed"
        } else {
            "no other columns"
        },
        s.hash
    ))?;
    for f in &s.features {
        let mut line = format!("  {} ({})", f.name, f.dtype);
        if f.required {
            line.push_str(", required");
        }
        if let Some(c) = &f.column {
            line.push_str(&format!(", from column {}", quote(c)));
        }
        out.line(line)?;
    }
    Ok(())
}
