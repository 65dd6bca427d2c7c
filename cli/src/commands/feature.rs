//! `lamella feature …`

use anyhow::{Result, bail};
use lamella_core::Feature;

use super::named;
use crate::cli::{Constraints, FeatureCommand};
use crate::output::{Out, repr};

/// Runs one `feature` subcommand.
pub fn run(cmd: FeatureCommand, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let reg = ln.features();
    match cmd {
        FeatureCommand::Create {
            name,
            dtype,
            unit,
            synonyms,
            description,
            create_branch,
            constraints,
        } => {
            let dtype = reg.parse_dtype(&dtype)?;
            if create_branch {
                named::print_created_branches(&reg.create_branches(&dtype)?, out)?;
            }
            let mut f = Feature::new(name, dtype);
            apply(&mut f, &constraints)?;
            if let Some(u) = unit {
                f = f.unit(u);
            }
            if let Some(s) = synonyms {
                f = f.synonyms(s.split('|'));
            }
            if let Some(d) = description {
                f = f.description(d);
            }
            let saved = reg.create(f).save()?;
            named::print_saved(&saved, out)
        }
        FeatureCommand::Update {
            name,
            new_name,
            dtype,
            unit,
            synonyms,
            description,
            create_branch,
            constraints,
        } => {
            if [&new_name, &dtype, &unit, &synonyms, &description]
                .iter()
                .all(|o| o.is_none())
                && constraints.min.is_none()
                && constraints.max.is_none()
                && constraints.pattern.is_none()
                && constraints.nullable.is_none()
            {
                bail!(
                    "nothing to update: give --name, --dtype, --unit, --synonyms, \
                     --description, --min, --max, --pattern and/or --nullable"
                );
            }
            let mut f = named::find(&reg, &name)?;
            if let Some(n) = new_name {
                f.name = n;
            }
            if let Some(d) = dtype {
                f.dtype = reg.parse_dtype(&d)?;
                if create_branch {
                    named::print_created_branches(&reg.create_branches(&f.dtype)?, out)?;
                }
            }
            if let Some(u) = unit {
                f.unit = (!u.is_empty()).then_some(u);
            }
            if let Some(s) = synonyms {
                f = f.synonyms(s.split('|'));
            }
            if let Some(d) = description {
                f.description = (!d.is_empty()).then_some(d);
            }
            apply(&mut f, &constraints)?;
            reg.update(&mut f)?;
            if out.json {
                return out.json(&crate::output::outcome_json(&f, "updated")?);
            }
            out.line(repr(&f)?)
        }
        FeatureCommand::FromFile {
            file,
            var,
            na,
            save,
        } => {
            if var && !lamella_core::is_anndata_file(&file.to_string_lossy()) {
                return Err(super::Usage(anyhow::anyhow!(
                    "--var reads an AnnData file's genes; {} is not an .h5ad file",
                    file.display()
                ))
                .into());
            }
            if save {
                let saved = if var {
                    reg.from_var(&file)?
                } else {
                    reg.from_file(&file, &na.options())?
                };
                return named::print_saved_all(&saved, out);
            }
            let features = if var {
                reg.infer_var(&file)?
            } else {
                reg.infer_file(&file, &na.options())?
            };
            if out.json {
                // Not records yet (no id, no timestamps): what saving would register.
                let drafts: Vec<_> = features
                    .iter()
                    .map(|f| serde_json::json!({"name": f.name, "dtype": f.dtype, "unit": f.unit}))
                    .collect();
                return out.json(&serde_json::json!({ "features": drafts }));
            }
            out.note(format!(
                "{} {}; nothing saved (save the features with --save)",
                features.len(),
                if var { "genes" } else { "columns" }
            ))?;
            for f in &features {
                let unit = f
                    .unit
                    .as_deref()
                    .map(|u| format!(" [{u}]"))
                    .unwrap_or_default();
                out.line(format!("{} ({}){unit}", f.name, f.dtype))?;
            }
            Ok(())
        }
        FeatureCommand::List(args) => named::list(&reg, &args, out),
        FeatureCommand::Synonym(cmd) => named::synonym(&reg, cmd, out),
        FeatureCommand::Search { text, limit } => named::search(&reg, &text, limit, out),
        FeatureCommand::Delete { name } => named::delete(&reg, &name, out),
    }
}

/// Applies `--min/--max/--pattern/--nullable` ('none' or '' remove a constraint).
fn apply(f: &mut Feature, c: &Constraints) -> Result<()> {
    let bound = |flag: &str, v: &str| -> Result<Option<f64>> {
        if v.eq_ignore_ascii_case("none") || v.is_empty() {
            return Ok(None);
        }
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => bail!("--{flag} takes a number (or 'none' to remove it), got '{v}'"),
        }
    };
    if let Some(v) = &c.min {
        f.min_value = bound("min", v)?;
    }
    if let Some(v) = &c.max {
        f.max_value = bound("max", v)?;
    }
    if let Some(p) = &c.pattern {
        f.pattern = (!p.is_empty()).then(|| p.clone());
    }
    if let Some(n) = c.nullable {
        f.nullable = n;
    }
    Ok(())
}
