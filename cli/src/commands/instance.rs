//! `init`, `info`, `connect`, `delete`.

use std::path::Path;

use anyhow::{Result, bail};
use lamella_core::{Instance, InstanceInfo};
use serde_json::{Map, Value, json};

use crate::output::Out;

/// `lamella init --storage DIR [--db URL]`
pub fn init(storage: &Path, db: Option<&str>, out: &mut Out) -> Result<()> {
    let ln = Instance::init(storage, db)?;
    let info = ln.info()?;
    if out.json {
        return out.json(&info_json(&info));
    }
    out.line(format!(
        "✅ initialized instance {} at {} ({})",
        info.uid, info.root, info.backend
    ))?;
    out.line("   it is now the current instance; `lamella info` describes it")
}

/// `lamella connect DIR`
pub fn connect(dir: &Path, out: &mut Out) -> Result<()> {
    let ln = Instance::connect(dir)?;
    let info = ln.info()?;
    if out.json {
        return out.json(&info_json(&info));
    }
    out.line(format!(
        "✅ connected to instance {} at {} ({})",
        info.uid, info.root, info.backend
    ))
}

/// `lamella info`
pub fn info(out: &mut Out) -> Result<()> {
    let info = super::current()?.info()?;
    if out.json {
        return out.json(&info_json(&info));
    }
    let counts = info
        .counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{r} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = [
        ("instance", info.uid.clone()),
        (
            "storage",
            format!("{} (uid {})", info.root, info.storage_uid),
        ),
        ("database", format!("{} {}", info.backend, info.db)),
        ("user", info.user.clone()),
        (
            "records",
            if counts.is_empty() {
                "none".into()
            } else {
                counts
            },
        ),
        ("created with", format!("lamella {}", info.created_with)),
        ("settings", info.settings_home.clone()),
    ];
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        out.line(format!("{k:<w$}  {v}"))?;
    }
    Ok(())
}

/// `lamella delete [--force]`
pub fn delete(force: bool, yes: bool, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let (uid, root, db) = (ln.uid().to_string(), ln.root().to_string(), ln.info()?.db);
    if !force && !yes {
        match super::confirm(&format!(
            "Delete instance {uid} at {root} (database {db})? Its metadata is lost; stored files \
             are kept."
        ))? {
            Some(true) => {}
            Some(false) => bail!("deletion cancelled: nothing was deleted"),
            None => bail!(
                "refusing to delete instance {uid} at {root} without confirmation: pass --yes \
                 (or --force) to delete it from a script; to delete an artifact, give its UID"
            ),
        }
    }
    ln.delete(if force {
        lamella_core::InstanceDeletion::DropMetadata
    } else {
        lamella_core::InstanceDeletion::RefuseWithArtifacts
    })?;
    if out.json {
        return out.json(&json!({
            "instance": { "uid": uid, "root": root, "db": db },
            "outcome": "deleted",
        }));
    }
    out.line(format!(
        "✅ deleted instance {uid} at {root}; stored files were kept"
    ))
}

/// The instance summary as JSON, with record counts as an object.
pub fn info_json(info: &InstanceInfo) -> Value {
    let mut v = serde_json::to_value(info).unwrap_or(Value::Null);
    if let Value::Object(obj) = &mut v {
        let counts: Map<String, Value> = info
            .counts
            .iter()
            .map(|(r, n)| (r.clone(), Value::from(*n)))
            .collect();
        obj.insert("counts".into(), Value::Object(counts));
    }
    v
}

/// `lamella track NAME [--type T] [--version V] [--key K]`
pub fn track(
    name: &str,
    kind: &str,
    version: Option<String>,
    key: Option<String>,
    out: &mut Out,
) -> Result<()> {
    let ln = super::current()?;
    let mut t = lamella_core::Transform::new(name).kind(kind);
    if let Some(v) = version {
        t = t.version(v);
    }
    if let Some(k) = key {
        t = t.key(k);
    }
    let tracked = ln.track(t)?;
    let replaced = ln.remember_current_run()?;
    if let Some(r) = &replaced {
        out.warn(format!(
            "run {} was still being tracked: it is finished now, and this run takes its place",
            r.uid
        ))?;
    }
    if out.json {
        let mut v = crate::output::outcome_json(&tracked.run, "started")?;
        v["transform"] = json!(tracked.transform);
        v["new_transform"] = json!(tracked.new_transform);
        v["replaced"] = json!(replaced);
        return out.json(&v);
    }
    let verb = if tracked.new_transform {
        "saved"
    } else {
        "loaded"
    };
    out.line(format!(
        "💡 {verb}: {}",
        crate::output::repr(&tracked.transform)?
    ))?;
    out.line(format!("💡 saved: {}", crate::output::repr(&tracked.run)?))?;
    out.note("later commands save into this run and record what they load, until `lamella finish`")
}

/// `lamella finish`
pub fn finish(out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let run = ln.finish()?;
    if let Some(r) = &run {
        ln.forget_run(&r.uid)?;
    }
    if out.json {
        return out.json(&json!({
            "record": run,
            "outcome": if run.is_some() { "finished" } else { "none" },
        }));
    }
    match run {
        None => out.line("no run is being tracked (start one with `lamella track NAME`)"),
        Some(r) => out.line(format!("✅ finished {}", crate::output::repr(&r)?)),
    }
}
