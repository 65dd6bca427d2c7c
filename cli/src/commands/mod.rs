//! One function per command; each connects, calls `lamella-core` and prints through [`Out`].

mod annotate;
mod artifact;
mod collection;
mod curate;
mod feature;
mod import;
mod instance;
mod lineage;
mod manual;
mod named;
mod schema;
mod storage;
mod ulabel;
mod view;

use anyhow::Result;

use crate::cli::ArtifactRef;
use crate::cli::Command;
use crate::output::Out;

pub use artifact::{print_head, print_saved as print_saved_artifact};
pub use named::print_saved_all;

/// Runs one command.
pub fn run(command: Command, out: &mut Out) -> Result<()> {
    match command {
        Command::Init { storage, db } => instance::init(&storage, db.as_deref(), out),
        Command::Info => instance::info(out),
        Command::Connect { dir } => instance::connect(&dir, out),
        Command::Save(args) => artifact::save(args, out),
        Command::Load {
            which,
            obs,
            var,
            out: dest,
            force,
        } => {
            let axis = match (obs, var) {
                (true, _) => Some(lamella_core::Axis::Obs),
                (_, true) => Some(lamella_core::Axis::Var),
                _ => None,
            };
            artifact::load(&which, axis, dest.as_deref(), existing(force), out)
        }
        Command::Describe { which } => artifact::describe(&which, out),
        Command::Annotate(args) => annotate::annotate(&args, out),
        Command::Validate { check, out: fixed } => curate::validate(&check, fixed.as_deref(), out),
        Command::Curate {
            check,
            key,
            description,
            add_new,
        } => curate::curate(&check, &key, description.as_deref(), &add_new, out),
        Command::Ls {
            filters,
            order,
            limit,
            trash,
            label,
            feature,
            features,
        } => artifact::ls(
            &artifact::LsArgs {
                filters: &filters,
                order: order.as_deref(),
                limit,
                trash,
                label: label.as_deref(),
                feature: feature.as_deref(),
                features: features.as_deref(),
            },
            out,
        ),
        Command::Update(args) => artifact::update(&args, out),
        Command::Versions { which } => artifact::versions(&which, out),
        Command::Delete {
            uid: None,
            key: None,
            force,
            yes,
            ..
        } => instance::delete(force, yes, out),
        Command::Delete {
            uid,
            key,
            permanent,
            yes,
            ..
        } => artifact::delete(&ArtifactRef { uid, key }, permanent, yes, out),
        Command::Restore { uid, key } => artifact::restore(&ArtifactRef { uid, key }, out),
        Command::Storage(cmd) => storage::run(cmd, out),
        Command::Collection(cmd) => collection::run(cmd, out),
        Command::Doctor {
            clean,
            min_age,
            verify,
        } => artifact::doctor(clean, min_age, verify, out),
        Command::Import(cmd) => import::run(cmd, out),
        Command::Ulabel(cmd) => ulabel::run(cmd, out),
        Command::Feature(cmd) => feature::run(cmd, out),
        Command::Schema(cmd) => schema::run(cmd, out),
        Command::View { registries, n } => view::run(&registries, n, out),
        Command::Track {
            name,
            kind,
            version,
            key,
        } => instance::track(&name, &kind, version, key, out),
        Command::Finish => instance::finish(out),
        Command::Lineage {
            uid,
            key,
            collection,
            transform,
            out: files,
            depth,
            downstream,
            cluster,
        } => lineage::run(
            &lineage::Target {
                artifact: ArtifactRef { uid, key },
                collection,
                transform,
            },
            &files,
            depth,
            downstream,
            cluster,
            out,
        ),
        Command::Tutorial { dir, db } => crate::tutorial::run(&dir, db.as_deref(), out),
        Command::Completions { shell } => manual::completions(shell, out),
        Command::Man { out: dir } => manual::man(dir.as_deref(), out),
    }
}

/// What writing over an existing output file does (`--force` replaces it).
pub fn existing(force: bool) -> lamella_core::Existing {
    if force {
        lamella_core::Existing::Replace
    } else {
        lamella_core::Existing::Refuse
    }
}

/// Which type promotions `--allow-lossy` allows.
pub fn promotion(allow_lossy: bool) -> lamella_core::Promotion {
    if allow_lossy {
        lamella_core::Promotion::Lossy
    } else {
        lamella_core::Promotion::Exact
    }
}

/// The current instance, with a hint on how to get one.
fn current() -> Result<lamella_core::Instance> {
    let ln = lamella_core::Instance::connect_current()?;
    crate::progress::attach(&ln);
    Ok(ln)
}

/// Asks `question [y/N]` on the terminal; `None` when there is no terminal to ask (the
/// caller then needs an explicit flag).
pub fn confirm(question: &str) -> Result<Option<bool>> {
    use std::io::{BufRead, IsTerminal, Write};
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(None);
    }
    let mut e = std::io::stderr().lock();
    write!(e, "{question} [y/N] ")?;
    e.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(Some(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    )))
}

/// Ends the command with `code` after its output is printed, without an error line (e.g.
/// `doctor` when it found problems, like `fsck`).
#[derive(Debug)]
pub struct ExitCode(pub u8);

impl std::fmt::Display for ExitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code {}", self.0)
    }
}

impl std::error::Error for ExitCode {}

/// A usage error found after parsing (a column the table lacks, a file that is not a table):
/// printed like any error, with exit code 2 as clap's.
#[derive(Debug)]
pub struct Usage(pub anyhow::Error);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Usage {}
