//! `lamella storage add|list`

use anyhow::Result;
use lamella_core::Storage;
use serde_json::json;

use crate::cli::StorageCommand;
use crate::output::{Out, repr};

/// Runs one `storage` subcommand.
pub fn run(cmd: StorageCommand, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    match cmd {
        StorageCommand::Add { url } => {
            let before = ln.query::<Storage>().count()?;
            let storage = ln.add_storage(&url)?;
            let existed = ln.query::<Storage>().count()? == before;
            if out.json {
                let mut v = json!(storage);
                v["existed"] = json!(existed);
                return out.json(&v);
            }
            if existed {
                out.warn(format!(
                    "storage {} is already registered: returning it",
                    storage.root
                ))?;
            } else {
                out.line(format!(
                    "✅ registered storage {} ({})",
                    storage.root, storage.kind
                ))?;
            }
            out.line(repr(&storage)?)
        }
        StorageCommand::Default { url } => {
            let storage = match url {
                Some(url) => {
                    let s = ln.set_default_storage(&url)?;
                    ln.remember_default_storage()?;
                    s
                }
                None => ln.storage(),
            };
            if out.json {
                return out.json(&storage);
            }
            out.line(format!(
                "new artifacts go to {} ({})",
                storage.root, storage.uid
            ))
        }
        StorageCommand::List => {
            let storages = ln.query::<Storage>().order_by("id").all()?;
            if out.json {
                return out.json(&storages);
            }
            out.records(&storages)
        }
    }
}
