//! `save`, `load`, `describe`, `ls`, `versions`, `delete UID`, `restore`, `doctor`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use lamella_core::{
    Artifact, Deleted, Deletion, DuplicatePolicy, Instance, Preview, Record, RecordBatch, Saved,
    records_to_batch,
};
use serde_json::json;

use super::named::plural;
use crate::cli::{ArtifactRef, Duplicate, Lookup, SaveArgs};
use crate::output::{Out, bulk_json, created_or_existing, outcome_json, repr, spinner};

/// Rows of a table that `load` prints.
const HEAD_ROWS: usize = 10;

/// The columns of `ls` and `versions`, in order.
const LIST_COLUMNS: [&str; 9] = [
    "uid",
    "key",
    "description",
    "suffix",
    "size",
    "hash",
    "version",
    "is_latest",
    "visibility",
];

/// The artifact with this uid (or uid prefix), trash included; a miss says how to find it.
pub fn find(ln: &Instance, uid: &str) -> Result<Artifact> {
    Ok(ln.artifacts().get(uid)?)
}

/// The artifact named by uid or key (its latest version).
pub(crate) fn resolve(ln: &Instance, which: &ArtifactRef) -> Result<Artifact> {
    match (&which.uid, &which.key) {
        (Some(uid), _) => find(ln, uid),
        (None, Some(key)) => Ok(ln.artifacts().get_by_key(key)?),
        (None, None) => bail!("give an artifact uid, or --key KEY"),
    }
}

/// Where the artifact's object lives: its storage root joined with its object key.
fn location(ln: &Instance, a: &Artifact) -> Result<String> {
    Ok(ln.artifacts().location(a)?)
}

fn policy(d: Duplicate) -> DuplicatePolicy {
    match d {
        Duplicate::Return => DuplicatePolicy::ReturnExisting,
        Duplicate::Error => DuplicatePolicy::Error,
        Duplicate::New => DuplicatePolicy::CreateNew,
    }
}

/// Checks that every path exists before anything is hashed or written.
fn check_paths(paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        // Cloud objects (s3://…) are looked up by the library, where they are.
        let remote = p
            .to_str()
            .is_some_and(|s| lamella_core::Location::parse(s).is_remote());
        if !remote && std::fs::symlink_metadata(p).is_err() {
            bail!(
                "{} does not exist: check the path (nothing was saved)",
                p.display()
            );
        }
    }
    Ok(())
}

/// `lamella save PATH… […]`
pub fn save(args: SaveArgs, out: &mut Out) -> Result<()> {
    check_paths(&args.paths)?;
    let many = args.each || args.paths.len() > 1;
    if many {
        if let Some(flag) = [
            args.key.as_ref().map(|_| "--key"),
            args.description.as_ref().map(|_| "--description"),
            args.revises.as_ref().map(|_| "--revises"),
        ]
        .into_iter()
        .flatten()
        .next()
        {
            bail!(
                "{flag} names one artifact, but several are saved: save the paths one by one, \
                 or use --key-prefix PREFIX"
            );
        }
        return save_many(&args, out);
    }
    if args.key_prefix.is_some() {
        bail!("--key-prefix is for several artifacts (with --each): use --key KEY for one");
    }
    let ln = super::current()?;
    let reg = ln.artifacts();
    let path = &args.paths[0];
    let revises = args.revises.as_deref().map(|u| find(&ln, u)).transpose()?;
    let mut draft = reg.from_path(path).on_duplicate(policy(args.duplicate));
    if let Some(k) = &args.key {
        draft = draft.key(k);
    }
    if let Some(d) = &args.description {
        draft = draft.description(d);
    }
    if let Some(r) = &revises {
        draft = draft.revises(r);
    }
    // Hashing and uploading report to the progress bars (crate::progress).
    let saved = draft.save()?;
    print_saved(&ln, &saved, args.key.as_deref(), out)
}

/// Prints one save's messages and record; `asked` is the key the save asked for.
pub fn print_saved(
    ln: &Instance,
    saved: &Saved<Artifact>,
    asked: Option<&str>,
    out: &mut Out,
) -> Result<()> {
    let a = &saved.record;
    match asked.filter(|k| saved.existed && a.key.as_deref() != Some(*k)) {
        // Content saved before under another key (or none): one line with the command that
        // changes it, in place of the library's note.
        Some(k) if !out.json => out.warn(format!(
            "this content is already artifact {} {}: returned it, not saved under '{k}' (to \
             change its key: lamella update {} --key {})",
            a.uid,
            a.key
                .as_deref()
                .map_or("without a key".to_string(), |old| format!(
                    "under key '{old}'"
                )),
            a.uid,
            crate::output::shell_word(k)
        ))?,
        _ => {
            for note in &saved.notes {
                out.warn(note)?;
            }
        }
    }
    let path = location(ln, a)?;
    if out.json {
        let mut v = outcome_json(a, created_or_existing(saved.existed))?;
        v["path"] = json!(path);
        v["notes"] = json!(saved.notes);
        return out.json(&v);
    }
    if saved.existed {
        if saved.notes.is_empty() {
            out.warn(format!(
                "returning existing artifact with same hash: {}",
                a.uid
            ))?;
        }
    } else if a.key_is_virtual {
        out.line(format!("✅ saved artifact {} at {path}", a.uid))?;
    } else {
        out.line(format!(
            "✅ registered artifact {} in place at {path} (nothing copied)",
            a.uid
        ))?;
    }
    out.line(repr(a)?)
}

/// `save --each DIR` or `save PATH PATH…`: one artifact per file, one transaction.
fn save_many(args: &SaveArgs, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let opts = lamella_core::SaveMany {
        key_prefix: args.key_prefix.clone(),
        base_dir: None,
        policy: policy(args.duplicate),
    };
    let result = if args.each {
        // Folders stand for their files; a single folder's files are keyed under its name.
        ln.artifacts()
            .save_each(&args.paths, &opts)
            .map(|each| (each.saved, each.notes))
    } else {
        ln.artifacts()
            .save_paths_with(&args.paths, &opts)
            .map(|saved| (saved, Vec::new()))
    };
    let (saved, notes) = result?;
    for note in &notes {
        out.note(note)?;
    }
    let existing: Vec<&Saved<Artifact>> = saved.iter().filter(|s| s.existed).collect();
    let created = saved.len() - existing.len();
    if !existing.is_empty() {
        const SHOWN: usize = 5;
        let mut uids: Vec<&str> = existing
            .iter()
            .take(SHOWN)
            .map(|s| s.record.uid.as_str())
            .collect();
        let more = existing.len().saturating_sub(SHOWN);
        let more = format!("and {more} more");
        if existing.len() > SHOWN {
            uids.push(&more);
        }
        out.warn(format!(
            "returning {} existing artifact{} with same hash: {}",
            existing.len(),
            plural(existing.len()),
            uids.join(", ")
        ))?;
    }
    if out.json {
        let records: Vec<&Artifact> = saved.iter().map(|s| &s.record).collect();
        let existing: Vec<String> = existing.iter().map(|s| s.record.uid.clone()).collect();
        let notes: Vec<String> = notes
            .iter()
            .cloned()
            .chain(saved.iter().flat_map(|s| s.notes.clone()))
            .collect();
        return out.json(&bulk_json(
            &records,
            records.len(),
            created,
            &existing,
            &[],
            &notes,
        ));
    }
    out.line(format!(
        "✅ saved {created} new artifact{} ({} given, {} existed) in {}",
        plural(created),
        saved.len(),
        existing.len(),
        ln.root()
    ))?;
    if saved.len() <= 50 {
        let records: Vec<Artifact> = saved.into_iter().map(|s| s.record).collect();
        print_list(&records, out)?;
    }
    Ok(())
}

/// Prints artifacts as a table of the `ls` columns.
fn print_list(records: &[Artifact], out: &mut Out) -> Result<()> {
    let batch = records_to_batch(<Artifact as Record>::REGISTRY, records)?;
    let schema = batch.schema();
    let indices = LIST_COLUMNS
        .iter()
        .map(|c| schema.index_of(c))
        .collect::<Result<Vec<_>, _>>()?;
    out.table(&batch.project(&indices)?)
}

/// `lamella ls [--filter F=V]… [--order F] [--limit N] [--trash]`
/// What `lamella ls` keeps.
pub struct LsArgs<'a> {
    /// LaminDB lookups.
    pub filters: &'a [Lookup],
    /// The ordering field.
    pub order: Option<&'a str>,
    /// At most this many.
    pub limit: Option<i64>,
    /// Include the trash.
    pub trash: bool,
    /// Labelled so (through `feature` when given).
    pub label: Option<&'a str>,
    /// Measured this feature.
    pub feature: Option<&'a str>,
    /// Show these features' values (all when empty).
    pub features: Option<&'a [String]>,
}

/// `lamella ls [--filter F=V]... [--label NAME [--feature F]] [--feature F]`
pub fn ls(args: &LsArgs<'_>, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let trash = args.trash;
    let mut q = ln.artifacts().query();
    // (A filter on visibility includes the trash by itself: `visibility=-1` lists it.)
    if trash {
        q = q.include_trash();
    }
    for f in args.filters {
        q = q.filter(&f.field, f.value.as_str());
    }
    match (args.label, args.feature) {
        (Some(l), f) => q = q.labelled(l, f),
        (None, Some(f)) => q = q.filter("feature_sets__features__name", f),
        (None, None) => {}
    }
    q = q.order_by(args.order.unwrap_or("id"));
    if let Some(n) = args.limit {
        if n < 0 {
            bail!("--limit must be zero or more, got {n}");
        }
        q = q.limit(n);
    }
    if let Some(features) = args.features {
        return super::annotate::print_with_features(
            &q,
            features,
            &["uid", "key", "description"],
            out,
        );
    }
    let records = q.all()?;
    if out.json {
        return out.json(&records);
    }
    if records.is_empty() {
        return out.line(if trash {
            "no artifacts"
        } else {
            "no artifacts (deleted ones: `lamella ls --trash`)"
        });
    }
    print_list(&records, out)
}

/// `lamella update UID|--key K [--key NEW] [--description D]`, or `--collection NAME
/// [--name NEW] [--description D]`
pub fn update(args: &crate::cli::UpdateArgs, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let description = args
        .description
        .as_ref()
        .map(|d| (!d.is_empty()).then(|| d.clone()));
    if let Some(name) = &args.collection {
        let edit = lamella_core::Edit {
            key: args.name.clone(),
            description,
        };
        if edit.key.is_none() && edit.description.is_none() {
            bail!("nothing to change: give --name NEW or --description TEXT");
        }
        let c = ln.collections().get(name)?;
        let done = ln.collections().update(&c, &edit)?;
        return print_updated(&format!("collection '{}'", done.record.name), &done, out);
    }
    let (a, new_key) = match (&args.uid, args.key.as_slice()) {
        (Some(uid), []) => (ln.artifacts().get(uid)?, None),
        (Some(uid), [new]) => (ln.artifacts().get(uid)?, Some(new.clone())),
        (None, [old]) => (ln.artifacts().get_by_key(old)?, None),
        (None, [old, new]) => (ln.artifacts().get_by_key(old)?, Some(new.clone())),
        (Some(_), _) => bail!("give the new key once: lamella update UID --key NEW"),
        (None, []) => bail!("give an artifact uid, --key KEY, or --collection NAME"),
        (None, _) => bail!("give --key twice at most: the artifact's key, then the new key"),
    };
    let edit = lamella_core::Edit {
        key: new_key,
        description,
    };
    if edit.key.is_none() && edit.description.is_none() {
        bail!("nothing to change: give --key NEW or --description TEXT");
    }
    let done = ln.artifacts().update(&a, &edit)?;
    print_updated(&format!("artifact {}", done.record.uid), &done, out)
}

fn print_updated<T: serde::Serialize>(
    what: &str,
    done: &lamella_core::Updated<T>,
    out: &mut Out,
) -> Result<()> {
    if out.json {
        return out.json(&json!({
            "record": done.record,
            "outcome": if done.changes.is_empty() { "unchanged" } else { "updated" },
            "versions_renamed": done.versions_renamed,
            "changes": done.changes,
        }));
    }
    if done.changes.is_empty() {
        return out.line(format!(
            "{what}: nothing changed (it already has those values)"
        ));
    }
    let versions = match done.versions_renamed {
        n if n > 1 => format!(" ({n} versions)"),
        _ => String::new(),
    };
    out.line(format!(
        "✅ updated {what}: {}{versions}",
        done.changes.join(", ")
    ))
}

/// `lamella versions UID|STEM|--key K`
pub fn versions(which: &ArtifactRef, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let family = match (&which.uid, &which.key) {
        (Some(uid), _) => ln.artifacts().versions_of(uid)?,
        (None, Some(key)) => ln.artifacts().versions_by_key(key)?,
        (None, None) => bail!("give an artifact uid, or --key KEY"),
    };
    if out.json {
        return out.json(&family);
    }
    print_list(&family, out)
}

/// `lamella load UID|--key K [--out PATH]`
pub fn load(
    which: &ArtifactRef,
    axis: Option<lamella_core::Axis>,
    dest: Option<&Path>,
    existing: lamella_core::Existing,
    out: &mut Out,
) -> Result<()> {
    let ln = super::current()?;
    let a = resolve(&ln, which)?;
    let reg = ln.artifacts();
    if let Some(axis) = axis {
        if let Some(dest) = dest {
            reg.export_axis(&a, axis, dest, existing)?;
            if out.json {
                let mut v = outcome_json(&a, "written")?;
                v["path"] = json!(dest);
                return out.json(&v);
            }
            return out.line(format!(
                "✅ wrote `{}` of artifact {} to {}",
                axis.name(),
                a.uid,
                dest.display()
            ));
        }
        let frame = reg.axis(&a, axis)?;
        let head = frame.slice(0, HEAD_ROWS.min(frame.num_rows()));
        if out.json {
            return out.json(&head_json(&a, &head, frame.num_rows() as u64)?);
        }
        return print_table_head(&head, frame.num_rows() as u64, out);
    }
    if let Some(dest) = dest {
        reg.export(&a, dest, existing)?;
        if out.json {
            let mut v = outcome_json(&a, "written")?;
            v["path"] = json!(dest);
            return out.json(&v);
        }
        return out.line(format!("✅ wrote artifact {} to {}", a.uid, dest.display()));
    }
    // Only the rows shown are read.
    match reg.preview(&a, HEAD_ROWS)? {
        Preview::Table(head) => {
            if out.json {
                return out.json(&head_json(&a, &head.batch, head.n_rows)?);
            }
            print_table_head(&head.batch, head.n_rows, out)
        }
        Preview::AnnData { path, info, obs } => {
            if out.json {
                let mut v = head_json(&a, &obs.batch, obs.n_rows)?;
                v["anndata"] = serde_json::to_value(&info)?;
                v["path"] = json!(path);
                return out.json(&v);
            }
            for l in info.to_string().lines() {
                out.line(l)?;
            }
            out.line("obs:")?;
            print_table_head(&obs.batch, obs.n_rows, out)
        }
        Preview::Path(p) => {
            if out.json {
                return out.json(&json!({ "record": a, "path": p }));
            }
            out.line(p.display().to_string())
        }
    }
}

/// A table head as `load --json` shows it: the record, the shape, the columns, the rows.
fn head_json(a: &Artifact, head: &RecordBatch, n_rows: u64) -> Result<serde_json::Value> {
    let columns: Vec<String> = head
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    Ok(json!({
        "record": a,
        "n_rows": n_rows,
        "n_columns": head.num_columns(),
        "columns": columns,
        "head": super::view::batch_json(head)?,
    }))
}

/// Prints a table's first `n` rows (every column) and its shape.
pub fn print_head(batch: &RecordBatch, n: usize, out: &mut Out) -> Result<()> {
    let head = batch.slice(0, n.min(batch.num_rows()));
    print_table_head(&head, batch.num_rows() as u64, out)
}

/// Prints the first rows of a table of `n_rows` rows, and its shape.
pub fn print_table_head(head: &RecordBatch, n_rows: u64, out: &mut Out) -> Result<()> {
    out.data_table(head)?;
    if n_rows > head.num_rows() as u64 {
        out.line("…")?;
    }
    let n_columns = head.num_columns();
    out.line(format!(
        "{n_rows} row{} × {n_columns} column{}",
        if n_rows == 1 { "" } else { "s" },
        plural(n_columns)
    ))
}

/// `lamella describe UID|--key K`
pub fn describe(which: &ArtifactRef, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let a = resolve(&ln, which)?;
    let description = ln.artifacts().describe(&a)?;
    if out.json {
        return out.json(&description);
    }
    for l in description.to_string().trim_end().lines() {
        out.line(l)?;
    }
    Ok(())
}

/// `lamella delete UID [--permanent]`
pub fn delete(which: &ArtifactRef, permanent: bool, yes: bool, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let a = resolve(&ln, which)?;
    // A second delete of a trashed artifact removes it for good — after asking, as LaminDB
    // does; a script says so with --permanent or --yes.
    if a.visibility.is_trash() && !permanent && !yes {
        let what = if ln.artifacts().deletes_object(&a)? {
            "its row and its stored object"
        } else {
            "its row (the object is not Lamella's to remove and is kept)"
        };
        match super::confirm(&format!(
            "Artifact {} is in the trash. Delete it for good ({what})?",
            a.uid
        ))? {
            Some(true) => {}
            Some(false) => bail!("deletion cancelled: artifact {} stays in the trash", a.uid),
            None => bail!(
                "artifact {} is in the trash: to delete it for good from a script, pass \
                 --permanent (or --yes); restore it with `lamella restore {}`",
                a.uid,
                a.uid
            ),
        }
    }
    let how = if permanent {
        Deletion::Permanent
    } else {
        Deletion::Trash
    };
    let done = ln.artifacts().delete(&a, how)?;
    if out.json {
        return out.json(&crate::output::deleted_json(&a, done, true)?);
    }
    match done {
        Deleted::Removed {
            object_removed: true,
        } => out.line(format!(
            "✅ permanently deleted artifact {} and its stored object",
            a.uid
        )),
        Deleted::Removed { .. } => out.line(format!(
            "✅ permanently deleted artifact {} (its object, not Lamella's to remove, was kept)",
            a.uid
        )),
        _ => out.line(format!(
            "🗑️ moved artifact {} to the trash: restore it with `lamella restore {}`, delete it \
             for good with `lamella delete {} --permanent`",
            a.uid, a.uid, a.uid
        )),
    }
}

/// `lamella restore UID|--key K`
pub fn restore(which: &ArtifactRef, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let restored = match (&which.uid, &which.key) {
        (Some(uid), _) => ln.artifacts().restore(&find(&ln, uid)?)?,
        (None, Some(key)) => ln.artifacts().restore_key(key)?,
        (None, None) => bail!("give an artifact uid, or --key KEY"),
    };
    if out.json {
        return out.json(&crate::output::restored_json(&restored)?);
    }
    if !restored.changed {
        return out.line(format!(
            "artifact {} is not in the trash: nothing changed",
            restored.record.uid
        ));
    }
    out.line(format!("✅ restored artifact {}", restored.record.uid))?;
    out.line(repr(&restored.record)?)
}

/// `lamella doctor [--clean]`
pub fn doctor(clean: bool, min_age: u64, verify: bool, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    // Content verification reports to the progress bars; the presence check is a spinner.
    let pb = if verify {
        indicatif::ProgressBar::hidden()
    } else {
        spinner("checking storage against the database".into())
    };
    let options = lamella_core::DoctorOptions {
        mode: if clean {
            lamella_core::DoctorMode::Clean
        } else {
            lamella_core::DoctorMode::Check
        },
        min_age: Duration::from_secs(min_age),
        verify: if verify {
            lamella_core::Verify::Content
        } else {
            lamella_core::Verify::Presence
        },
    };
    let report = ln.artifacts().doctor(&options);
    pb.finish_and_clear();
    let report = report?;
    let leftovers = report.staging.len() + report.orphans.len();
    // Like fsck: non-zero while anything needs attention after this run.
    let needs_attention = report.needs_attention();
    let status = || -> Result<()> {
        if needs_attention {
            Err(super::ExitCode(1).into())
        } else {
            Ok(())
        }
    };
    if out.json {
        out.json(&report)?;
        return status();
    }
    for u in &report.unreachable {
        out.line(format!("❗ could not check storage {u}"))?;
    }
    if !report.recent.is_empty() {
        out.line(format!(
            "💡 {} recent object{} not yet referenced (a save may be running; older than \
             {min_age}s counts as abandoned):",
            report.recent.len(),
            plural(report.recent.len())
        ))?;
        for s in &report.recent {
            out.line(format!("   {s}"))?;
        }
    }
    if let Some(v) = report.verified {
        out.line(format!(
            "{} {} object{} ({} bytes) verified by content",
            if report.changed.is_empty() {
                "✅"
            } else {
                "❗"
            },
            v.objects,
            plural(v.objects),
            v.bytes
        ))?;
    }
    if !report.changed.is_empty() {
        out.line(format!(
            "❗ {} artifact{} whose stored bytes changed since they were saved:",
            report.changed.len(),
            plural(report.changed.len())
        ))?;
        for c in &report.changed {
            out.line(format!(
                "   {} (key {}) at {}: recorded hash {}, found {}",
                c.uid,
                c.key.as_deref().unwrap_or("none"),
                c.location,
                c.recorded,
                c.found
            ))?;
        }
    }
    if leftovers == 0 && report.missing.is_empty() {
        if report.unreachable.is_empty() && report.recent.is_empty() && report.changed.is_empty() {
            return out.line("✅ storage and database agree: nothing to clean");
        }
        return status();
    }
    let (mark, verb) = if clean {
        ("✅", "removed")
    } else {
        ("❗", "found")
    };
    if !report.staging.is_empty() {
        out.line(format!(
            "{mark} {verb} {} leftover upload{} of unfinished saves:",
            report.staging.len(),
            plural(report.staging.len())
        ))?;
        for s in &report.staging {
            out.line(format!("   {s}"))?;
        }
    }
    if !report.orphans.is_empty() {
        out.line(format!(
            "{mark} {verb} {} orphaned object{} that no artifact references:",
            report.orphans.len(),
            plural(report.orphans.len())
        ))?;
        for s in &report.orphans {
            out.line(format!("   {s}"))?;
        }
    }
    if !report.missing.is_empty() {
        out.line(format!(
            "❗ {} artifact{} whose stored object is missing:",
            report.missing.len(),
            plural(report.missing.len())
        ))?;
        for uid in &report.missing {
            out.line(format!("   {uid}"))?;
        }
        out.line(
            "   rows are never removed by doctor: delete them with `lamella delete UID \
             --permanent` if the data is gone for good",
        )?;
    }
    if leftovers > 0 && !clean {
        out.line("   run `lamella doctor --clean` to remove the leftovers and orphans")?;
    }
    status()
}
