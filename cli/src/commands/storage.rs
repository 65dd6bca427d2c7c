//! `lamella storage add|list`

use anyhow::Result;
use lamella_core::Storage;

use crate::cli::StorageCommand;
use crate::output::{Out, created_or_existing, outcome_json, repr};

/// Runs one `storage` subcommand.
pub fn run(cmd: StorageCommand, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    match cmd {
        StorageCommand::Add { url } => {
            let saved = ln.add_storage(&url)?;
            let (storage, existed) = (saved.record, saved.existed);
            if out.json {
                return out.json(&outcome_json(&storage, created_or_existing(existed))?);
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
                None => ln.storage()?,
            };
            if out.json {
                return out.json(&outcome_json(&storage, "default")?);
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
