//! `lamella collection create|load|check|ls|describe`

use anyhow::{Result, bail};
use lamella_core::{Collection, Deleted, Deletion, Join};
use serde_json::json;

use crate::cli::{CollectionCommand, JoinArg};
use crate::output::{Out, created_or_existing, outcome_json, repr};
use lamella_core::RecordBatch;

fn join(j: JoinArg) -> Join {
    match j {
        JoinArg::Outer => Join::Outer,
        JoinArg::Inner => Join::Inner,
    }
}

/// The collection named (or with uid) `name`: its latest version, or `version` of that name.
fn pick(reg: &lamella_core::Collections, name: &str, version: Option<&str>) -> Result<Collection> {
    Ok(match version {
        Some(v) => reg.get_version(name, v)?,
        None => reg.get(name)?,
    })
}

/// Runs one `collection` subcommand.
pub fn run(cmd: CollectionCommand, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let reg = ln.collections();
    match cmd {
        CollectionCommand::Create {
            name,
            artifacts,
            keys,
            description,
            version,
        } => {
            if artifacts.is_empty() && keys.is_empty() {
                bail!("give the members with --artifact UID and/or --key KEY (repeatable)");
            }
            let mut members = Vec::new();
            for uid in &artifacts {
                members.push(ln.artifacts().get(uid)?);
            }
            for key in &keys {
                let latest = ln
                    .artifacts()
                    .query()
                    .filter("key", key.as_str())
                    .filter("is_latest", true)
                    .first()?;
                members.push(latest.ok_or_else(|| {
                    anyhow::anyhow!("no artifact has the key '{key}': list them with `lamella ls`")
                })?);
            }
            let mut draft = reg.create(&members, name);
            if let Some(d) = description {
                draft = draft.description(d);
            }
            if let Some(v) = version {
                draft = draft.version(v);
            }
            let saved = draft.save()?;
            if out.json {
                let mut v = outcome_json(&saved.record, created_or_existing(saved.existed))?;
                v["notes"] = json!(saved.notes);
                return out.json(&v);
            }
            for n in &saved.notes {
                out.line(format!("✅ {n}"))?;
            }
            if saved.existed {
                out.warn(format!(
                    "a collection with these members exists: returning '{}'",
                    saved.record.name
                ))?;
            } else {
                out.line(format!(
                    "✅ saved collection of {} artifact{}",
                    members.len(),
                    if members.len() == 1 { "" } else { "s" }
                ))?;
            }
            out.line(repr(&saved.record)?)
        }
        CollectionCommand::Load {
            name,
            version,
            join: j,
            allow_lossy,
            obs,
            out: dest,
            force,
            save,
        } => {
            let c = pick(&reg, &name, version.as_deref())?;
            if obs {
                if dest
                    .as_deref()
                    .is_some_and(|d| lamella_core::is_anndata_file(&d.to_string_lossy()))
                {
                    return Err(super::Usage(anyhow::anyhow!(
                        "--obs writes the cells' metadata as a table: give --out a .parquet, \
                         .csv or .tsv file (or leave out --obs to write AnnData)"
                    ))
                    .into());
                }
                if let Some(a) = reg
                    .artifacts(&c)?
                    .iter()
                    .find(|a| !lamella_core::is_anndata_file(&a.suffix))
                {
                    anyhow::bail!(
                        "--obs concatenates AnnData members' obs, but member {} is a '{}' file",
                        a.uid,
                        a.suffix
                    );
                }
            }
            let concat = reg
                .concat(&c)
                .join(join(j))
                .promotion(super::promotion(allow_lossy));
            if let (Some(path), Some(key)) = (&dest, &save) {
                let (rows, saved) = concat.export_artifact(path, super::existing(force), key)?;
                if out.json {
                    let mut v = outcome_json(&saved.record, created_or_existing(saved.existed))?;
                    v["path"] = json!(path);
                    v["rows"] = json!(rows);
                    v["collection"] = json!(c);
                    return out.json(&v);
                }
                out.line(format!("✅ wrote {rows} rows to {}", path.display()))?;
                super::print_saved_artifact(&ln, &saved, Some(key.as_str()), out)?;
                return Ok(());
            }
            if let Some(path) = dest {
                // Streamed member by member: memory bounded by a batch.
                let (rows, size) = concat.export(&path, super::existing(force))?;
                if out.json {
                    let mut v = outcome_json(&c, "written")?;
                    v["path"] = json!(path);
                    v["rows"] = json!(rows);
                    v["size"] = json!(size);
                    return out.json(&v);
                }
                return out.line(format!(
                    "✅ wrote {rows} rows to {} ({size} bytes)",
                    path.display()
                ));
            }
            // Streamed: only the first and last rows are kept, whatever the size.
            let (schema, batches) = concat.batches()?;
            let (head, tail, n_rows) = head_and_tail(schema, batches, SHOWN_ROWS)?;
            if out.json {
                let columns: Vec<&String> = head
                    .schema_ref()
                    .fields()
                    .iter()
                    .map(|f| f.name())
                    .collect();
                return out.json(&json!({
                    "record": c,
                    "n_rows": n_rows,
                    "n_columns": columns.len(),
                    "columns": columns,
                    "head": super::view::batch_json(&head)?,
                    "tail": super::view::batch_json(&tail)?,
                }));
            }
            super::artifact::print_table_head(&head, n_rows, out)?;
            if n_rows > SHOWN_ROWS as u64 {
                out.line("tail:")?;
                out.data_table(&tail)?;
            }
            Ok(())
        }
        CollectionCommand::Cache { name, version } => {
            let c = pick(&reg, &name, version.as_deref())?;
            let paths = reg.cache(&c)?;
            if out.json {
                return out.json(&json!({ "record": c, "paths": paths }));
            }
            for p in &paths {
                out.line(p.display().to_string())?;
            }
            Ok(())
        }
        CollectionCommand::Check {
            name,
            version,
            join: j,
            allow_lossy,
        } => {
            let c = pick(&reg, &name, version.as_deref())?;
            let plan = reg
                .concat(&c)
                .join(join(j))
                .promotion(super::promotion(allow_lossy))
                .check()?;
            if out.json {
                return out.json(&plan);
            }
            let w = plan
                .columns
                .iter()
                .map(|p| p.name.chars().count())
                .max()
                .unwrap_or(6)
                .max(6);
            let t = plan
                .columns
                .iter()
                .map(|p| p.data_type.len())
                .max()
                .unwrap_or(4)
                .max(4);
            let u = plan
                .columns
                .iter()
                .filter_map(|p| p.unit.as_ref().map(|u| u.chars().count()))
                .max()
                .unwrap_or(4)
                .max(4);
            out.line(format!(
                "{:<w$}  {:<t$}  {:<u$}  {:>5}  {:>12}",
                "column", "type", "unit", "lossy", "nulls filled"
            ))?;
            out.line(format!(
                "{}  {}  {}  {}  {}",
                "-".repeat(w),
                "-".repeat(t),
                "-".repeat(u),
                "-----",
                "------------"
            ))?;
            for p in &plan.columns {
                out.line(format!(
                    "{:<w$}  {:<t$}  {:<u$}  {:>5}  {:>12}",
                    p.name,
                    p.data_type,
                    p.unit.as_deref().unwrap_or("-"),
                    if p.lossy { "yes" } else { "no" },
                    p.nulls_filled
                ))?;
            }
            for p in &plan.columns {
                for d in &p.unit_disagreements {
                    let convert = match d.factor {
                        Some(f) => format!("multiply by {f} to convert"),
                        None => "the units do not convert".to_string(),
                    };
                    out.line(format!(
                        "⚠️ column '{}': artifact {} is in '{}', not '{}' ({convert})",
                        p.name, d.artifact, d.unit, d.expected
                    ))?;
                }
                if let Some(cat) = p.categories.as_ref().filter(|c| !c.only_in.is_empty()) {
                    out.line(format!(
                        "⚠️ column '{}' ({}): {} of {} labels are not on every annotated member",
                        p.name,
                        cat.dtype,
                        cat.labels - cat.common,
                        cat.labels
                    ))?;
                    for m in &cat.only_in {
                        let more = m.count - m.labels.len();
                        out.line(format!(
                            "    only in artifact {}: {}{}",
                            m.artifact,
                            m.labels
                                .iter()
                                .map(|l| crate::output::quote(l))
                                .collect::<Vec<_>>()
                                .join(", "),
                            if more > 0 {
                                format!(" and {more} more")
                            } else {
                                String::new()
                            }
                        ))?;
                    }
                }
            }
            if !plan.dropped.is_empty() {
                out.line(format!(
                    "left out by the inner join: {}",
                    plan.dropped.join(", ")
                ))?;
            }
            if let Some(v) = &plan.var {
                if v.identical {
                    out.line(format!(
                        "genes: every member has the same {} genes in the same order",
                        v.n_vars
                    ))?;
                } else {
                    out.line(format!(
                        "genes: {} in the result ({} shared by all members)",
                        v.n_vars, v.shared
                    ))?;
                    for m in v.members.iter().filter(|m| m.n_missing > 0) {
                        let more = m.n_missing - m.missing.len();
                        out.line(format!(
                            "    artifact {} ({} genes) lacks {}: {}{}",
                            m.uid,
                            m.n_vars,
                            m.n_missing,
                            m.missing.join(", "),
                            if more > 0 {
                                format!(" and {more} more")
                            } else {
                                String::new()
                            }
                        ))?;
                    }
                }
            }
            out.line(format!(
                "{} rows × {} columns",
                plan.rows,
                plan.columns.len()
            ))
        }
        CollectionCommand::Ls {
            label,
            feature,
            trash,
            filters,
            features,
        } => {
            let mut q = reg.query().order_by("id");
            if trash {
                q = q.include_trash();
            }
            for f in &filters {
                q = q.filter(&f.field, f.value.as_str());
            }
            match (label.as_deref(), feature.as_deref()) {
                (Some(l), f) => q = q.labelled(l, f),
                (None, Some(f)) => q = q.filter("feature_sets__features__name", f),
                (None, None) => {}
            }
            if let Some(features) = &features {
                return super::annotate::print_with_features(
                    &q,
                    features,
                    &["uid", "name", "version"],
                    out,
                );
            }
            let records = q.all()?;
            if out.json {
                return out.json(&records);
            }
            if records.is_empty() {
                return out.line("no collections");
            }
            out.records(&records)
        }
        CollectionCommand::Describe { name, version } => {
            describe(&ln, &pick(&reg, &name, version.as_deref())?, out)
        }
        CollectionCommand::Delete { name, permanent } => {
            let c = reg.get_any(&name)?;
            let how = if permanent {
                Deletion::Permanent
            } else {
                Deletion::Trash
            };
            let done = reg.delete(&c, how)?;
            if out.json {
                return out.json(&crate::output::deleted_json(&c, done, false)?);
            }
            out.line(match done {
                Deleted::Trashed => format!(
                    "✅ moved collection '{}' ({}) to the trash (undo: `lamella collection restore {}`)",
                    c.name, c.uid, c.uid
                ),
                _ => format!("✅ deleted collection '{}' ({}) for good", c.name, c.uid),
            })
        }
        CollectionCommand::Restore { name } => {
            let restored = reg.restore_named(&name)?;
            if out.json {
                return out.json(&crate::output::restored_json(&restored)?);
            }
            if !restored.changed {
                return out.line(format!(
                    "collection '{}' ({}) is not in the trash: nothing changed",
                    restored.record.name, restored.record.uid
                ));
            }
            out.line(format!("✅ restored {}", repr(&restored.record)?))
        }
    }
}

fn describe(ln: &lamella_core::Instance, c: &Collection, out: &mut Out) -> Result<()> {
    let d = ln.collections().describe(c)?;
    if out.json {
        return out.json(&d);
    }
    for line in d.to_string().lines() {
        out.line(line)?;
    }
    Ok(())
}

/// Rows shown at the start and at the end of a loaded collection.
const SHOWN_ROWS: usize = 5;

/// The first and last `n` rows of a stream of batches, and how many rows it had; memory is
/// bounded by a few batches.
fn head_and_tail(
    schema: lamella_core::arrow::datatypes::SchemaRef,
    batches: impl Iterator<Item = lamella_core::Result<RecordBatch>>,
    n: usize,
) -> Result<(RecordBatch, RecordBatch, u64)> {
    use lamella_core::arrow::compute::concat_batches;
    let mut head: Vec<RecordBatch> = Vec::new();
    let mut head_rows = 0;
    let mut tail: std::collections::VecDeque<RecordBatch> = std::collections::VecDeque::new();
    let mut tail_rows = 0;
    let mut total = 0u64;
    for b in batches {
        let b = b?;
        total += b.num_rows() as u64;
        if head_rows < n {
            let take = (n - head_rows).min(b.num_rows());
            head.push(b.slice(0, take));
            head_rows += take;
        }
        tail_rows += b.num_rows();
        tail.push_back(b);
        while tail.len() > 1 && tail_rows - tail.front().map_or(0, RecordBatch::num_rows) >= n {
            tail_rows -= tail.pop_front().map_or(0, |f| f.num_rows());
        }
    }
    let head = concat_batches(&schema, &head)?;
    let tail = concat_batches(&schema, tail.iter())?;
    let start = tail.num_rows().saturating_sub(n);
    Ok((head, tail.slice(start, tail.num_rows() - start), total))
}
