//! `lamella annotate`: columns, labels and feature values of an artifact or a collection.

use anyhow::{Context, Result, bail};
use lamella_core::{FeaturesOf, Instance, Labels, Value};
use serde::Serialize;

use super::artifact::resolve;
use super::named::plural;
use crate::cli::AnnotateArgs;
use crate::output::{Out, outcome_json, repr};

/// The record annotated: its handles and how messages name it.
struct Target {
    features: FeaturesOf,
    labels: Labels,
    json: serde_json::Value,
    name: String,
}

fn target(ln: &Instance, args: &AnnotateArgs) -> Result<(Target, Option<lamella_core::Artifact>)> {
    if let Some(c) = &args.collection {
        let c = ln.collections().get(c)?;
        return Ok((
            Target {
                features: ln.collections().features(&c)?,
                labels: ln.collections().labels(&c)?,
                json: outcome_json(&c, "annotated")?,
                name: format!("collection '{}'", c.name),
            },
            None,
        ));
    }
    let a = resolve(
        ln,
        &crate::cli::ArtifactRef {
            uid: args.uid.clone(),
            key: args.key.clone(),
        },
    )?;
    Ok((
        Target {
            features: ln.artifacts().features(&a)?,
            labels: ln.artifacts().labels(&a)?,
            json: outcome_json(&a, "annotated")?,
            name: format!("artifact {}", a.uid),
        },
        Some(a),
    ))
}

/// A JSON value as a feature value: numbers, booleans, text, lists, null.
fn json_value(v: &serde_json::Value) -> Result<Value> {
    Value::from_json(v).ok_or_else(|| {
        anyhow::anyhow!("a feature value cannot be a JSON object: give a value or a list of values")
    })
}

/// The values of `--value` and `--from-json`, in order.
fn values(args: &AnnotateArgs) -> Result<Vec<(String, Value)>> {
    let mut out: Vec<(String, Value)> = args
        .values
        .iter()
        .map(|(k, v)| (k.clone(), Value::Text(v.clone())))
        .collect();
    if let Some(path) = &args.from_json {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
            .with_context(|| {
                format!(
                    "{} is not a JSON object of feature → value (e.g. {{\"temperature\": 37.5}})",
                    path.display()
                )
            })?;
        for (k, v) in &map {
            out.push((
                k.clone(),
                json_value(v).with_context(|| format!("feature '{k}' in {}", path.display()))?,
            ));
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct Removed {
    feature: Option<String>,
    value: Option<String>,
    label: Option<String>,
    removed: usize,
}

/// `lamella annotate UID|--key K|--collection NAME [--columns] [--label NAME…] [--value F=V…]
/// [--remove-value F[=V]…] [--remove-label NAME…]`
pub fn annotate(args: &AnnotateArgs, out: &mut Out) -> Result<()> {
    let values = values(args)?;
    if !args.columns
        && args.labels.is_empty()
        && values.is_empty()
        && args.remove_values.is_empty()
        && args.remove_labels.is_empty()
    {
        bail!(
            "nothing to annotate: give --columns, --label NAME [--feature F], --value F=V, \
             --from-json FILE, --remove-value F[=V] or --remove-label NAME"
        );
    }
    if args.feature.is_some() && args.labels.is_empty() && args.remove_labels.is_empty() {
        bail!("--feature goes with --label or --remove-label; record values with --value F=V");
    }
    let ln = super::current()?;
    let (t, artifact) = target(&ln, args)?;
    let mut json = t.json.clone();
    // Everything named is resolved before anything is written.
    let records = super::named::find_all(&ln.ulabels(), &args.labels)?;
    let to_remove = super::named::find_all(&ln.ulabels(), &args.remove_labels)?;
    let feature = args
        .feature
        .as_deref()
        .map(|f| super::named::find(&ln.features(), f))
        .transpose()?;
    let mut notes: Vec<String> = Vec::new();
    if args.columns {
        let Some(a) = &artifact else {
            bail!("--columns annotates an artifact's table, not a collection");
        };
        let slots = ln.artifacts().annotate_slots(a)?;
        let mut listed = Vec::new();
        for (i, (slot, set)) in slots.iter().enumerate() {
            for note in &set.notes {
                out.warn(note)?;
            }
            notes.extend(set.notes.iter().cloned());
            // Members are listed for the first slot (a table's columns, an AnnData's obs);
            // a gene panel is counted, not listed.
            let members = if i == 0 {
                ln.feature_sets().members(&set.record)?
            } else {
                Vec::new()
            };
            if i == 0 {
                json["slot"] = slot.as_str().into();
                json["feature_set"] = serde_json::to_value(&set.record)?;
                json["existed"] = set.existed.into();
                json["features"] = serde_json::to_value(&members)?;
            }
            listed.push(serde_json::json!({
                "slot": slot,
                "feature_set": set.record,
                "existed": set.existed,
                "n_features": set.record.n,
            }));
            if !out.json {
                let n = set.record.n.max(0) as usize;
                out.line(format!(
                    "✅ linked {n} feature{} to artifact {} as its {slot}: {}",
                    plural(n),
                    a.uid,
                    repr(&set.record)?
                ))?;
                for f in &members {
                    out.line(format!("   {} ({})", f.name, f.dtype))?;
                }
            }
        }
        json["slots"] = listed.into();
    }
    if !records.is_empty() {
        let added = t.labels.add(&records, feature.as_ref())?;
        json["labels"] = serde_json::to_value(&records)?;
        json["linked"] = added.linked.into();
        json["feature"] = serde_json::to_value(&added.feature)?;
        json["external"] = serde_json::to_value(&added.external)?;
        notes.extend(added.notes.iter().cloned());
        if !out.json {
            for n in &added.notes {
                out.line(format!("✅ {n}"))?;
            }
            let through = added
                .feature
                .as_ref()
                .map(|f| format!(" through feature '{}'", f.name))
                .unwrap_or_default();
            out.line(format!(
                "✅ linked {} label{} to {}{through}{}",
                records.len(),
                plural(records.len()),
                t.name,
                if added.linked < records.len() {
                    format!(" ({} new)", added.linked)
                } else {
                    String::new()
                }
            ))?;
        }
    }
    if !values.is_empty() {
        let added = if args.replace {
            t.features.set_values(values.clone())?
        } else {
            t.features.add_values(values.clone())?
        };
        notes.extend(added.notes.iter().cloned());
        json["added"] = serde_json::to_value(&added)?;
        if !out.json {
            for n in &added.notes {
                out.line(format!("✅ {n}"))?;
            }
            let shown: Vec<String> = values
                .iter()
                .map(|(k, v)| match v {
                    Value::Text(t) => format!("{k}={t}"),
                    v => format!("{k}={}", lamella_core::show_value(v)),
                })
                .collect();
            out.line(format!(
                "✅ recorded {} value{} on {}: {}{}",
                values.len(),
                plural(values.len()),
                t.name,
                shown.join(", "),
                match (added.values + added.labels, added.removed) {
                    (0, _) => " (all linked already)".to_string(),
                    (_, 0) => String::new(),
                    (_, r) => format!(" (replacing {r})"),
                }
            ))?;
        }
    }
    let mut removed = Vec::new();
    for spec in &args.remove_values {
        let (f, v) = match spec.split_once('=') {
            Some((f, v)) => (f.trim(), Some(v.trim())),
            None => (spec.trim(), None),
        };
        let n = t
            .features
            .remove_values(f, v.map(|v| Value::Text(v.to_string())))?;
        if !out.json {
            out.line(format!(
                "✅ removed {n} value{} of feature '{f}'{} from {}",
                plural(n),
                v.map(|v| format!(" ({v})")).unwrap_or_default(),
                t.name
            ))?;
        }
        removed.push(Removed {
            feature: Some(f.to_string()),
            value: v.map(str::to_string),
            label: None,
            removed: n,
        });
    }
    if !to_remove.is_empty() {
        let n = t.labels.remove(&to_remove, feature.as_ref())?;
        if !out.json {
            out.line(format!(
                "✅ unlinked {} label{} from {}{}",
                to_remove.len(),
                plural(to_remove.len()),
                t.name,
                feature
                    .as_ref()
                    .map(|f| format!(" (through feature '{}')", f.name))
                    .unwrap_or_default()
            ))?;
        }
        removed.extend(to_remove.iter().map(|l| Removed {
            feature: feature.as_ref().map(|f| f.name.clone()),
            value: None,
            label: Some(l.name.clone()),
            removed: n,
        }));
    }
    if out.json {
        if !removed.is_empty() {
            json["removed"] = serde_json::to_value(&removed)?;
        }
        json["values"] = serde_json::to_value(t.features.get_values()?)?;
        json["notes"] = serde_json::to_value(&notes)?;
        return out.json(&json);
    }
    Ok(())
}

/// `ls --features [F]…`: the records with one column per feature (`base` fields first);
/// under `--json` one object per record: `{"record": …, "features": {feature: value}}`.
pub fn print_with_features<T: lamella_core::Record + Serialize>(
    q: &lamella_core::Query<T>,
    features: &[String],
    base: &[&str],
    out: &mut Out,
) -> Result<()> {
    let names: Vec<&str> = features.iter().map(String::as_str).collect();
    let w = q.with_features(&names)?;
    if out.json {
        return out.json(&w);
    }
    if w.records.is_empty() {
        return out.line(format!("no {}s", T::REGISTRY.name.to_lowercase()));
    }
    let batch = lamella_core::records_to_batch_of(T::REGISTRY, &w.records, Some(base))?;
    let batch = lamella_core::append_feature_columns(batch, &w.features, &w.columns)?;
    out.table(&batch)
}
