//! Running external programs, with error messages that say what ran and what it printed.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// `program arg1 arg2 …` for messages.
pub fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(' ') {
            text.push_str(&format!(" \"{arg}\""));
        } else {
            text.push(' ');
            text.push_str(&arg);
        }
    }
    text
}

/// Runs `cmd` with its output captured and returns stdout; on failure the error carries the
/// command line, the exit status and everything it printed.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
    let shown = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not run `{shown}` (is it installed and on PATH?)"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "`{shown}` failed ({}):\n{}",
            out.status,
            indent(&format!("{stdout}{stderr}"))
        );
    }
    Ok(stdout)
}

/// Runs `cmd` with the terminal's stdout/stderr; fails when it exits non-zero.
pub fn run_shown(cmd: &mut Command) -> Result<()> {
    let shown = describe(cmd);
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("could not run `{shown}` (is it installed and on PATH?)"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` (a `cargo test`) with its stdout echoed line by line; when it fails, the
/// opening lines of each failed test's output (its message, before any backtrace) are
/// printed again at the end, so that a log cut in the middle still shows why.
pub fn run_tests_shown(cmd: &mut Command) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    let shown = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not run `{shown}` (is it installed and on PATH?)"))?;
    let mut failures = FailureLog::default();
    if let Some(out) = child.stdout.take() {
        let mut stdout = std::io::stdout().lock();
        for line in BufReader::new(out).lines() {
            let line = line.context("reading the test output")?;
            // The log goes on even when our own stdout is gone; the status decides.
            let _ = writeln!(stdout, "{line}");
            failures.add(&line);
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{shown}`"))?;
    if !status.success() {
        let summary = failures.summary();
        if !summary.is_empty() {
            println!("\nwhy the failed tests failed (each one's first lines):\n{summary}");
        }
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// The opening lines of each `---- NAME stdout ----` block of libtest's output.
#[derive(Default)]
struct FailureLog {
    blocks: Vec<(String, Vec<String>)>,
    open: bool,
}

impl FailureLog {
    const LINES: usize = 8;

    fn add(&mut self, line: &str) {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            self.blocks.push((name.to_owned(), Vec::new()));
            self.open = true;
        } else if line == "failures:" || line.starts_with("test result:") {
            self.open = false;
        } else if self.open
            && let Some((_, lines)) = self.blocks.last_mut()
        {
            let frame = line.trim_start();
            let noise = line.trim().is_empty()
                || frame.starts_with("stack backtrace:")
                || frame.starts_with("Stack backtrace:")
                || frame.starts_with("at ")
                || frame
                    .split_once(": ")
                    .is_some_and(|(n, _)| n.parse::<u32>().is_ok());
            if !noise && lines.len() < Self::LINES {
                lines.push(line.to_owned());
            }
        }
    }

    fn summary(&self) -> String {
        let mut text = String::new();
        for (name, lines) in &self.blocks {
            text.push_str(&format!("  {name}\n"));
            for line in lines {
                text.push_str(&format!("    {line}\n"));
            }
        }
        text
    }
}

/// The first executable called `name` on PATH.
pub fn which(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    let name = name.as_ref();
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether this process runs as root (uid 0).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the effective uid; `id -u` where there is no /proc.
    match std::fs::metadata("/proc/self") {
        Ok(meta) => meta.uid() == 0,
        Err(_) => Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.trim_ascii() == b"0"),
    }
}

/// Whether process `pid` exists and is not a zombie, with its command line (Linux /proc).
pub fn process_cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    // Zombies and kernel threads have an empty command line.
    (!raw.is_empty()).then(|| String::from_utf8_lossy(&raw).replace('\0', " "))
}

/// Polls `ready` every 100 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last `n` lines of a log file, indented, for error messages.
pub fn log_tail(path: &str, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(n)..].join("\n");
            format!("last lines of {path}:\n{}", indent(&tail))
        }
        Err(err) => format!("({path} unreadable: {err})"),
    }
}

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::FailureLog;

    #[test]
    fn failed_tests_keep_their_message_without_the_backtrace() {
        let output = "\
running 2 tests
test a::b ... FAILED
test c ... ok

failures:

---- a::b stdout ----
Error: reading `x.h5ad`: no such object

Stack backtrace:
   0: anyhow::error::<impl anyhow::Error>::msg
             at /cargo/anyhow/src/error.rs:83:36
   1: it::a::b
---- c::d stdout ----
thread 'c::d' panicked at tests/it/c.rs:3:5:
assertion `left == right` failed
  left: 1
 right: 2

failures:
    a::b
    c::d

test result: FAILED. 0 passed; 2 failed";
        let mut log = FailureLog::default();
        for line in output.lines() {
            log.add(line);
        }
        assert_eq!(
            log.summary(),
            "  a::b\n    Error: reading `x.h5ad`: no such object\n  c::d\n    \
             thread 'c::d' panicked at tests/it/c.rs:3:5:\n    assertion `left == right` \
             failed\n      left: 1\n     right: 2\n"
        );
    }
}
