//! End-to-end tests of the `lamella` binary: each runs the real executable with an isolated
//! `$LAMELLA_HOME`. `cli_test!` bodies run on SQLite and, when `LAMELLA_TEST_POSTGRES_URL` is
//! set (always in CI), on PostgreSQL.

mod artifacts;
mod concurrency;
mod errors;
mod features;
mod help;
mod hostile;
mod import;
mod instance;
mod json_shapes;
mod ownership;
mod readme;
mod secrets;
mod tutorial;
mod ulabels;
mod validation;
mod values;
mod view;

use std::path::PathBuf;

use lamella_tests::{Cli, PgDatabase, Run};

/// A CLI runner plus the database its instances use.
pub struct Env {
    /// Runs the binary in a temporary working folder.
    pub cli: Cli,
    pg: Vec<PgDatabase>,
    postgres: Option<String>,
}

impl Env {
    /// An environment on SQLite.
    pub fn sqlite() -> Env {
        Env {
            cli: Cli::new(env!("CARGO_BIN_EXE_lamella")),
            pg: Vec::new(),
            postgres: None,
        }
    }

    /// An environment on PostgreSQL, or `None` (skip) when no server is configured outside CI.
    pub fn postgres() -> Option<Env> {
        let admin = lamella_tests::postgres_url()?;
        Some(Env {
            cli: Cli::new(env!("CARGO_BIN_EXE_lamella")),
            pg: Vec::new(),
            postgres: Some(admin),
        })
    }

    /// Runs `lamella ARGS…`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.cli.run(args)
    }

    /// Runs `lamella ARGS…` with extra environment variables.
    pub fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        self.cli.run_with_env(args, vars)
    }

    /// A path in the working folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.cli.path(rel)
    }

    /// The `--db` arguments for a new instance: none on SQLite, a fresh database on PostgreSQL.
    pub fn db_args(&mut self) -> Vec<String> {
        match &self.postgres {
            None => Vec::new(),
            Some(admin) => {
                let pg = PgDatabase::create(admin).expect("create PostgreSQL test database");
                let args = vec!["--db".to_string(), pg.url.clone()];
                self.pg.push(pg);
                args
            }
        }
    }

    /// Whether instances of this environment live on PostgreSQL.
    pub fn db_is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// `lamella init --storage DIR` on a new database of this environment; must succeed.
    pub fn init(&mut self, dir: &str) -> Run {
        let db = self.db_args();
        self.init_with(dir, &db).ok()
    }

    /// `lamella init --storage DIR [--db URL]` with the given `--db` arguments.
    pub fn init_with(&self, dir: &str, db: &[String]) -> Run {
        let mut args = vec!["init", "--storage", dir];
        args.extend(db.iter().map(String::as_str));
        self.run(&args)
    }
}

/// Runs one test body on SQLite and on PostgreSQL: generates `mod $name { fn sqlite(); fn
/// postgres(); }`; the body sees `$env: Env`.
#[macro_export]
macro_rules! cli_test {
    ($name:ident, |$env:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                #[allow(unused_mut)]
                let mut $env = $crate::Env::sqlite();
                $body
            }

            #[test]
            fn postgres() {
                #[allow(unused_mut)]
                let Some(mut $env) = $crate::Env::postgres() else {
                    return;
                };
                $body
            }
        }
    };
}

/// Asserts that a failed `--json` call printed one JSON object `{"error": {kind, message,
/// hint}}` on stderr and nothing on stdout, exited with `code`, and that its kind is `kind`
/// and its message mentions `needle`. Returns the error object.
pub fn assert_json_error(run: &Run, code: i32, kind: &str, needle: &str) -> serde_json::Value {
    assert_eq!(
        run.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    let v: serde_json::Value = serde_json::from_str(run.stderr.trim())
        .unwrap_or_else(|e| panic!("stderr is not one JSON object ({e}):\n{}", run.stderr));
    let err = &v["error"];
    assert_eq!(err["kind"], kind, "{v}");
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains(needle)),
        "{v}"
    );
    assert!(err["hint"].is_null() || err["hint"].is_string(), "{v}");
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
    err.clone()
}

/// Asserts that a failed call printed exactly one `error: …` line (and at most one `hint: …`
/// line after it) and exited with 1.
pub fn assert_error(run: &Run, needle: &str) {
    assert_eq!(
        run.code, 1,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "one error line (and a hint) expected:\n{}",
        run.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", run.stderr);
    assert!(
        run.stderr.contains(needle),
        "stderr should mention {needle:?}:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
