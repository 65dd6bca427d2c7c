//! One function per command; each connects, calls `lamella-core` and prints through [`Out`].

mod feature;
mod instance;
mod named;
mod ulabel;
mod view;

use anyhow::Result;

use crate::cli::Command;
use crate::output::Out;

pub use named::{print_saved, print_saved_all};
pub use ulabel::{tree_lines, write_graph};
pub use view::print_views;

/// Runs one command.
pub fn run(command: Command, out: &mut Out) -> Result<()> {
    match command {
        Command::Init { storage, db } => instance::init(&storage, db.as_deref(), out),
        Command::Info => instance::info(out),
        Command::Connect { dir } => instance::connect(&dir, out),
        Command::Delete { force } => instance::delete(force, out),
        Command::Ulabel(cmd) => ulabel::run(cmd, out),
        Command::Feature(cmd) => feature::run(cmd, out),
        Command::View { registries, n } => view::run(&registries, n, out),
        Command::Tutorial { dir, db } => crate::tutorial::run(&dir, db.as_deref(), out),
    }
}

/// The current instance, with a hint on how to get one.
fn current() -> Result<lamella_core::Instance> {
    Ok(lamella_core::Instance::connect_current()?)
}
