//! `save`, `load`, `describe`, `ls`, `versions`, `delete UID`, `restore`, `doctor`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use lamella_core::{
    Artifact, DuplicatePolicy, Error, Instance, Loaded, Record, RecordBatch, Saved, Storage, User,
    object_key, records_to_batch,
};
use serde::Serialize;
use serde_json::json;

use super::named::plural;
use crate::cli::{ArtifactRef, Duplicate, Lookup, SaveArgs};
use crate::output::{Out, interactive, repr, spinner};

/// Characters of a uid that its versions share.
const STEM_LEN: usize = 16;

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
    ln.artifacts().get(uid).map_err(|e| match e {
        Error::NotFound { .. } => {
            anyhow!("no artifact with uid '{uid}': list artifacts with `lamella ls --trash`")
        }
        Error::Invalid(msg) => anyhow!("{msg}: to name an artifact by its key, use --key KEY"),
        other => other.into(),
    })
}

fn is_ambiguous(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<Error>(), Some(Error::Ambiguous { .. }))
}

/// The artifact named by uid or key (its latest version).
fn resolve(ln: &Instance, which: &ArtifactRef) -> Result<Artifact> {
    match (&which.uid, &which.key) {
        (Some(uid), _) => find(ln, uid),
        (None, Some(key)) => ln.artifacts().get_by_key(key).map_err(|e| match e {
            Error::NotFound { .. } => anyhow!(
                "no artifact with key '{key}': list artifacts with `lamella ls --filter \
                 key__startswith=…` (deleted ones with --trash)"
            ),
            other => other.into(),
        }),
        (None, None) => bail!("give an artifact uid, or --key KEY"),
    }
}

/// The storage record holding `a`.
fn storage_of(ln: &Instance, a: &Artifact) -> Result<Storage> {
    if Some(a.storage_id) == ln.storage().id {
        return Ok(ln.storage().clone());
    }
    Ok(ln.query::<Storage>().filter("id", a.storage_id).one()?)
}

/// Where the artifact's object lives: its storage root joined with its object key.
fn location(ln: &Instance, a: &Artifact) -> Result<String> {
    let storage = storage_of(ln, a)?;
    Ok(format!(
        "{}/{}",
        storage.root.trim_end_matches('/'),
        object_key(a)
    ))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn progress_bar(len: u64, message: String) -> ProgressBar {
    if !interactive() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len).with_message(message);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} [{elapsed}, eta {eta}]")
    {
        pb.set_style(style);
    }
    pb
}

fn plural_files(n: usize) -> String {
    format!("{n} file{}", plural(n))
}

/// A size in bytes for people: `5.2 kB`, `1.3 GB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
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
        if std::fs::symlink_metadata(p).is_err() {
            bail!(
                "{} does not exist: check the path (nothing was saved)",
                p.display()
            );
        }
    }
    Ok(())
}

/// A saved (or found) artifact with what `save` found out, for `--json`.
#[derive(Serialize)]
struct SavedJson<'a> {
    #[serde(flatten)]
    record: &'a Artifact,
    existed: bool,
    path: String,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
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
    if args.key.is_none() && args.description.is_none() && revises.is_none() {
        // LaminDB needs a key or a description: the file name is the natural description.
        let name = path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| path.display().to_string());
        draft = draft.description(name);
    }
    let pb = spinner(format!("hashing and saving {}", path.display()));
    let saved = draft.save();
    pb.finish_and_clear();
    let saved = saved.map_err(|e| match e {
        Error::Duplicate { path, uid, hash } => anyhow!(
            "the content of {path} is already registered as artifact {uid} (hash {hash}): use \
             it, or register it again with --duplicate new"
        ),
        other => other.into(),
    })?;
    print_saved(&ln, &saved, out)
}

/// Prints one save's messages and record.
pub fn print_saved(ln: &Instance, saved: &Saved<Artifact>, out: &mut Out) -> Result<()> {
    for note in &saved.notes {
        out.warn(note)?;
    }
    let a = &saved.record;
    let path = location(ln, a)?;
    if out.json {
        return out.json(&SavedJson {
            record: a,
            existed: saved.existed,
            path,
            notes: &saved.notes,
        });
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

#[derive(Serialize)]
struct SavedManyJson<'a> {
    created: usize,
    existing: Vec<&'a str>,
    records: Vec<SavedJson<'a>>,
}

/// `save --each DIR` or `save PATH PATH…`: one artifact per file, one transaction.
fn save_many(args: &SaveArgs, out: &mut Out) -> Result<()> {
    let mut paths = Vec::new();
    let mut prefix = args.key_prefix.clone();
    let ln = super::current()?;
    for p in &args.paths {
        if args.each && p.is_dir() {
            let walk = ln.artifacts().folder_files(p)?;
            if walk.files.is_empty() {
                bail!("{} holds no files: nothing was saved", p.display());
            }
            for note in lamella_core::skipped_link_notes(&walk) {
                out.note(note)?;
            }
            paths.extend(walk.files.into_iter().map(|f| f.path));
        } else {
            paths.push(p.clone());
        }
    }
    // LaminDB's from_dir: a folder's files are keyed under the folder's name.
    if prefix.is_none()
        && args.each
        && let [dir] = args.paths.as_slice()
        && dir.is_dir()
    {
        let abs = dir
            .canonicalize()
            .with_context(|| format!("cannot access {}", dir.display()))?;
        prefix = abs.file_name().map(|n| n.to_string_lossy().into_owned());
    }
    // A single folder keeps its subfolders in the keys.
    let base_dir = match args.paths.as_slice() {
        [dir] if args.each && dir.is_dir() => Some(dir.clone()),
        _ => None,
    };
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let pb = progress_bar(
        paths.len() as u64,
        format!(
            "hashing {} ({})",
            plural_files(paths.len()),
            human_size(total)
        ),
    );
    let tick = |done: usize, _total: usize| pb.set_position(done as u64);
    let opts = lamella_core::SaveMany {
        key_prefix: prefix.clone(),
        base_dir,
        policy: policy(args.duplicate),
        progress: Some(&tick),
    };
    let saved = ln.artifacts().save_paths_with(&paths, &opts);
    pb.finish_and_clear();
    let saved = saved?;
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
        let records = saved
            .iter()
            .map(|s| {
                Ok(SavedJson {
                    record: &s.record,
                    existed: s.existed,
                    path: location(&ln, &s.record)?,
                    notes: &s.notes,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return out.json(&SavedManyJson {
            created,
            existing: existing.iter().map(|s| s.record.uid.as_str()).collect(),
            records,
        });
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
pub fn ls(
    filters: &[Lookup],
    order: Option<&str>,
    limit: Option<i64>,
    trash: bool,
    out: &mut Out,
) -> Result<()> {
    let ln = super::current()?;
    let mut q = ln.artifacts().query();
    // Asking for a visibility includes the trash: `visibility=-1` lists it.
    if trash || filters.iter().any(|f| f.field.starts_with("visibility")) {
        q = q.include_trash();
    }
    for f in filters {
        q = q.filter(&f.field, f.value.as_str());
    }
    q = q.order_by(order.unwrap_or("id"));
    if let Some(n) = limit {
        if n < 0 {
            bail!("--limit must be zero or more, got {n}");
        }
        q = q.limit(n);
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

/// `lamella versions UID|--key K`
pub fn versions(which: &ArtifactRef, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let uid = match (&which.uid, &which.key) {
        (Some(uid), _) => uid.as_str(),
        (None, Some(key)) => {
            // The newest artifact with this key, trash included: a family whose versions
            // are all in the trash is still listed.
            let newest = ln
                .artifacts()
                .query()
                .include_trash()
                .filter("key", key.as_str())
                .order_by("-id")
                .first()?
                .ok_or_else(|| {
                    anyhow!(
                        "no artifact with key '{key}': list artifacts with `lamella ls --filter \
                         key__startswith=…`"
                    )
                })?;
            let family = ln.artifacts().versions(&newest)?;
            if out.json {
                return out.json(&family);
            }
            return print_list(&family, out);
        }
        (None, None) => bail!("give an artifact uid, or --key KEY"),
    };
    let a = match find(&ln, uid) {
        Ok(a) => a,
        // A uid stem (its first 16 characters) names the whole family.
        Err(e) if is_ambiguous(&e) => {
            let matches = ln
                .artifacts()
                .query()
                .include_trash()
                .filter("uid__startswith", uid)
                .order_by("-uid")
                .all()?;
            let stem = |a: &Artifact| a.uid.chars().take(STEM_LEN).collect::<String>();
            match matches.first() {
                Some(first) if matches.iter().all(|m| stem(m) == stem(first)) => first.clone(),
                _ => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    let family = ln.artifacts().versions(&a)?;
    if out.json {
        return out.json(&family);
    }
    print_list(&family, out)
}

/// `lamella load UID|--key K [--out PATH]`
pub fn load(which: &ArtifactRef, dest: Option<&Path>, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let a = resolve(&ln, which)?;
    let reg = ln.artifacts();
    if let Some(dest) = dest {
        reg.export(&a, dest)?;
        if out.json {
            return out.json(&json!({ "uid": a.uid, "out": dest }));
        }
        return out.line(format!("✅ wrote artifact {} to {}", a.uid, dest.display()));
    }
    if matches!(a.suffix.to_ascii_lowercase().as_str(), ".parquet" | ".csv") {
        // Only the rows shown are read.
        let head = reg.head(&a, HEAD_ROWS)?;
        if out.json {
            let columns: Vec<String> = head
                .batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            return out.json(&json!({
                "uid": a.uid,
                "n_rows": head.n_rows,
                "n_columns": head.n_columns,
                "columns": columns,
                "head": super::view::batch_json(&head.batch)?,
            }));
        }
        return print_table_head(&head.batch, head.n_rows, out);
    }
    match reg.load(&a)? {
        Loaded::Table(batch) => print_head(&batch, HEAD_ROWS, out),
        Loaded::Path(p) => {
            if out.json {
                return out.json(&json!({ "uid": a.uid, "path": p }));
            }
            out.line(p.display().to_string())
        }
    }
}

/// Prints a table's first `n` rows (every column) and its shape.
pub fn print_head(batch: &RecordBatch, n: usize, out: &mut Out) -> Result<()> {
    let head = batch.slice(0, n.min(batch.num_rows()));
    print_table_head(&head, batch.num_rows() as u64, out)
}

/// Prints the first rows of a table of `n_rows` rows, and its shape.
fn print_table_head(head: &RecordBatch, n_rows: u64, out: &mut Out) -> Result<()> {
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
    if out.json {
        let storage = storage_of(&ln, &a)?;
        let user: Option<User> = ln
            .query::<User>()
            .filter("id", a.created_by_id)
            .one_or_none()?;
        return out.json(&json!({
            "artifact": a,
            "path": location(&ln, &a)?,
            "provenance": { "storage": storage, "created_by": user },
        }));
    }
    let text = ln.artifacts().describe(&a)?;
    for l in text.trim_end().lines() {
        out.line(l)?;
    }
    Ok(())
}

/// `lamella delete UID [--permanent]`
pub fn delete(uid: &str, permanent: bool, yes: bool, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let a = find(&ln, uid)?;
    // A second delete of a trashed artifact removes it for good — after asking, as LaminDB
    // does; a script says so with --permanent or --yes.
    let for_good = permanent || a.visibility == -1;
    if for_good && !permanent && !yes {
        let what = if a.key_is_virtual {
            "its row and its stored object"
        } else {
            "its row (the file registered in place is kept)"
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
    ln.artifacts().delete(&a, for_good)?;
    if out.json {
        return out.json(&json!({ "deleted": a, "permanent": for_good }));
    }
    if for_good {
        let what = if a.key_is_virtual {
            "and its stored object"
        } else {
            "(its file, registered in place, was kept)"
        };
        out.line(format!("✅ permanently deleted artifact {} {what}", a.uid))
    } else {
        out.line(format!(
            "🗑️ moved artifact {} to the trash: restore it with `lamella restore {}`, delete it \
             for good with `lamella delete {} --permanent`",
            a.uid, a.uid, a.uid
        ))
    }
}

/// `lamella restore UID`
pub fn restore(uid: &str, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let a = find(&ln, uid)?;
    if a.visibility != -1 {
        if out.json {
            return out.json(&json!({ "restored": a, "changed": false }));
        }
        return out.line(format!(
            "artifact {} is not in the trash: nothing changed",
            a.uid
        ));
    }
    let restored = ln.artifacts().restore(&a)?;
    if out.json {
        return out.json(&json!({ "restored": restored, "changed": true }));
    }
    out.line(format!("✅ restored artifact {}", restored.uid))?;
    out.line(repr(&restored)?)
}

/// `lamella doctor [--clean]`
pub fn doctor(clean: bool, min_age: u64, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let pb = spinner("checking storage against the database".into());
    let report = ln.artifacts().doctor(clean, Duration::from_secs(min_age));
    pb.finish_and_clear();
    let report = report?;
    let leftovers = report.staging.len() + report.orphans.len();
    // Like fsck: non-zero while anything needs attention after this run.
    let needs_attention =
        !report.missing.is_empty() || !report.unreachable.is_empty() || (leftovers > 0 && !clean);
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
    if leftovers == 0 && report.missing.is_empty() {
        if report.unreachable.is_empty() && report.recent.is_empty() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(5347), "5.3 kB");
        assert_eq!(human_size(1_300_000_000), "1.3 GB");
    }
}
