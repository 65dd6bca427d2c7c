//! `lamella view`: the most recent records of every registry.

use anyhow::{Result, bail};

use lamella_core::{
    ArrayFormatter, FormatOptions, Instance, REGISTRIES, RecordBatch, RegistryView,
};
use serde_json::{Map, Value};

use crate::output::{Out, quote};

/// Checks registry names (case-insensitive) and returns them as spelled by Lamella.
fn registry_names(given: &[String]) -> Result<Vec<&'static str>> {
    given
        .iter()
        .map(|g| {
            if let Some(r) = REGISTRIES.iter().find(|r| r.eq_ignore_ascii_case(g)) {
                return Ok(*r);
            }
            let stem: String = g.to_lowercase().chars().take(3).collect();
            let close = REGISTRIES
                .iter()
                .find(|r| !stem.is_empty() && r.to_lowercase().starts_with(&stem));
            let hint = close
                .map(|c| format!("did you mean {c}? "))
                .unwrap_or_default();
            bail!(
                "unknown registry {}: {hint}use one of {}",
                quote(g),
                REGISTRIES.join(", ")
            )
        })
        .collect()
}

/// `lamella view [--registry NAME]… [-n N]`
pub fn run(registries: &[String], n: i64, out: &mut Out) -> Result<()> {
    if n < 1 {
        bail!("-n must be at least 1, got {n}");
    }
    let only = registry_names(registries)?;
    let ln = super::current()?;
    print_views(&ln, n, &only, out)
}

/// Prints `ln.view(n, only)`: per registry a heading and a table (or, with `--json`, an object
/// of registry name → `{total, records}`).
pub fn print_views(ln: &Instance, n: i64, only: &[&str], out: &mut Out) -> Result<()> {
    let views = ln.view(n, only)?;
    if out.json {
        let mut obj = Map::new();
        for v in &views {
            let mut entry = Map::new();
            entry.insert("total".into(), Value::from(v.total));
            entry.insert("records".into(), Value::Array(v.records.clone()));
            obj.insert(v.registry.to_string(), Value::Object(entry));
        }
        return out.json(&obj);
    }
    if views.is_empty() {
        return out.line("no records");
    }
    for (i, v) in views.iter().enumerate() {
        if i > 0 {
            out.blank()?;
        }
        out.line(heading(v))?;
        out.table(&v.table)?;
    }
    Ok(())
}

fn heading(v: &RegistryView) -> String {
    let shown = v.table.num_rows() as i64;
    if shown < v.total {
        format!("{} ({shown} most recent of {})", v.registry, v.total)
    } else {
        format!("{} ({})", v.registry, v.total)
    }
}

/// A record batch as JSON objects, with the same field names and timestamp format as the
/// records' own JSON.
pub fn batch_json(batch: &RecordBatch) -> Result<Vec<Value>> {
    let batch = &crate::output::displayable(batch)?;
    let opts = FormatOptions::new()
        .with_timestamp_tz_format(Some("%Y-%m-%dT%H:%M:%S%.f%:z"))
        .with_timestamp_format(Some("%Y-%m-%dT%H:%M:%S%.f"));
    let schema = batch.schema();
    let formatters = batch
        .columns()
        .iter()
        .map(|a| ArrayFormatter::try_new(a.as_ref(), &opts))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    for r in 0..batch.num_rows() {
        let mut row = Map::new();
        for (i, f) in formatters.iter().enumerate() {
            let field = schema.field(i);
            let value = if batch.column(i).is_null(r) {
                Value::Null
            } else {
                let s = f.value(r).try_to_string()?;
                let dt = field.data_type();
                if dt.is_integer() {
                    match s.parse::<i64>() {
                        Ok(i) => Value::from(i),
                        Err(_) => s.parse::<u64>().map_or(Value::String(s), Value::from),
                    }
                } else if dt.is_floating() {
                    s.parse::<f64>().map_or(Value::String(s), Value::from)
                } else if !dt.is_string() && !dt.is_temporal() && (s == "true" || s == "false") {
                    Value::Bool(s == "true")
                } else {
                    Value::String(s)
                }
            };
            row.insert(field.name().clone(), value);
        }
        rows.push(Value::Object(row));
    }
    Ok(rows)
}
