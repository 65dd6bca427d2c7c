//! `lamella completions SHELL` and `lamella man`: generated from the command definitions, so
//! they always match the binary.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::CommandFactory;

use crate::cli::Cli;
use crate::output::Out;

/// `lamella completions SHELL`
pub fn completions(shell: clap_complete::Shell, out: &mut Out) -> Result<()> {
    if out.json {
        bail!("a completion script is shell code and has no JSON output: run without --json");
    }
    let mut cmd = Cli::command();
    // Generated into memory first: clap_complete panics on a failed write (a closed pipe),
    // while `out` reports it as an error like every other output.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "lamella", &mut script);
    out.w.write_all(&script)?;
    Ok(())
}

/// `lamella man [--out DIR]`
pub fn man(dir: Option<&Path>, out: &mut Out) -> Result<()> {
    if out.json {
        bail!("a manual page is roff text and has no JSON output: run without --json");
    }
    let cmd = Cli::command();
    let Some(dir) = dir else {
        clap_mangen::Man::new(cmd).render(&mut out.w)?;
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("cannot write manual pages into {}", dir.display()))?;
    let n = count_pages(dir);
    out.line(format!(
        "✅ wrote {n} manual pages into {} (read one with `man -l {}`)",
        dir.display(),
        crate::output::shell_word(&dir.join("lamella.1").display().to_string())
    ))
}

/// How many of Lamella's pages (`lamella*.1`) `dir` holds.
fn count_pages(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.starts_with("lamella") && name.ends_with(".1")
                })
                .count()
        })
        .unwrap_or(0)
}
