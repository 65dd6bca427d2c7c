//! `lamella-tests`: the shared test harness. [`TestInstance`] gives each test a fresh instance
//! on SQLite or PostgreSQL; [`db_test!`] runs one test body on both; [`PgDatabase`] makes a
//! throwaway PostgreSQL database; [`Cli`] runs the real `lamella` binary with an isolated
//! `$LAMELLA_HOME`.
//!
//! PostgreSQL tests read `LAMELLA_TEST_POSTGRES_URL` (a server where the user may create
//! databases; `cargo xtask services up` starts one). Without it they are skipped — except when
//! `CI=true`, where a missing server is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use lamella_core::Instance;
use tempfile::TempDir;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL from `LAMELLA_TEST_POSTGRES_URL`.
    Postgres,
}

/// Whether we run in CI, where missing services are failures.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether `python3` imports every module of `modules` (for the interop checks with pandas and
/// openlineage-python). `false` means skip — and panics in CI, which installs them.
pub fn python_has(modules: &[&str]) -> bool {
    let ok = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!("import {}", modules.join(", ")))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!in_ci(), "CI must have the Python modules {modules:?}");
        eprintln!("skipping: python3 cannot import {modules:?}");
    }
    ok
}

/// AnnData test files written by the `anndata` Python package (`tests/python/make_h5ad.py`),
/// generated once per test process, with `expected.json` holding what anndata reads from
/// them. `None` when python3 lacks anndata (outside CI).
pub fn anndata_fixtures() -> Option<&'static Path> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        if !python_has(&["anndata", "h5py", "scipy"]) {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("lamella-h5ad-{}", std::process::id()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/make_h5ad.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(&dir)
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "make_h5ad.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(dir)
    })
    .as_deref()
}

/// Checks the OpenLineage RunEvents in `file` (a JSON list) with the official client,
/// openlineage-python (`tests/python/check_openlineage.py`): each event is rebuilt from the
/// client's models and must serialise back unchanged. Returns how many events it checked, or
/// `None` when the client is not installed (outside CI). Panics with the client's complaint.
pub fn check_openlineage(file: &Path) -> Option<usize> {
    if !python_has(&["openlineage.client"]) {
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/check_openlineage.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(file)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "OpenLineage events in {} do not validate:\n{stdout}{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let n = stdout
        .trim()
        .strip_suffix(" RunEvents valid")
        .and_then(|n| n.parse().ok())
        .expect("the checker prints `N RunEvents valid`");
    Some(n)
}

/// The admin URL of the test PostgreSQL server, or `None` (skip) — panics in CI.
pub fn postgres_url() -> Option<String> {
    match std::env::var("LAMELLA_TEST_POSTGRES_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ if in_ci() => panic!(
            "LAMELLA_TEST_POSTGRES_URL is not set but CI=true: PostgreSQL tests must run in CI; \
             start the server with `cargo xtask services up`"
        ),
        _ => {
            eprintln!("skipping: LAMELLA_TEST_POSTGRES_URL is not set (cargo xtask services up)");
            None
        }
    }
}

/// Points the settings at a process-wide temporary folder so tests never touch the user's
/// settings.
pub fn isolate_home() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join(format!("lamella-test-home-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create test home");
        lamella_core::set_settings_home(&dir);
    });
}

fn random_name() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..12)
        .map(|_| (b'a' + rng.random_range(0..26)) as char)
        .collect()
}

fn with_database(url: &str, db: &str) -> String {
    // postgres://user@host:port/name?params → replace the path
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A throwaway PostgreSQL database, dropped with the value.
pub struct PgDatabase {
    admin: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

impl PgDatabase {
    /// Creates a database with a random name on the test server.
    pub fn create(admin: &str) -> anyhow::Result<PgDatabase> {
        let name = format!("lamella_t_{}", random_name());
        let mut conn = PgConnection::establish(admin)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn)?;
        Ok(PgDatabase {
            admin: admin.to_string(),
            url: with_database(admin, &name),
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // `LAMELLA_TEST_KEEP_DATABASES=1` keeps them for a look at the plans afterwards.
        if std::env::var_os("LAMELLA_TEST_KEEP_DATABASES").is_some() {
            eprintln!("kept PostgreSQL database {}", self.url);
            return;
        }
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// Where a test instance keeps its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// A local temporary folder.
    Local,
    /// A fresh prefix in the test S3 bucket (`LAMELLA_TEST_S3_ENDPOINT`).
    S3,
}

/// The root URL of a fresh S3 test prefix, or `None` (skip) — panics in CI.
pub fn s3_root() -> Option<String> {
    match std::env::var("LAMELLA_TEST_S3_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => {
            assert!(
                std::env::var("AWS_ENDPOINT_URL").is_ok(),
                "LAMELLA_TEST_S3_ENDPOINT is set but AWS_ENDPOINT_URL is not: export $(cargo \
                 xtask services env)"
            );
            let bucket =
                std::env::var("LAMELLA_TEST_S3_BUCKET").unwrap_or_else(|_| "lamella-test".into());
            Some(format!("s3://{bucket}/t-{}", random_name()))
        }
        _ if in_ci() => panic!(
            "LAMELLA_TEST_S3_ENDPOINT is not set but CI=true: S3 tests must run in CI; start the \
             server with `cargo xtask services up`"
        ),
        _ => {
            eprintln!("skipping: LAMELLA_TEST_S3_ENDPOINT is not set (cargo xtask services up)");
            None
        }
    }
}

/// The object store at `url` (an `s3://` test prefix), for putting objects there the way
/// another program would.
pub fn store(url: &str) -> lamella_storage::Store {
    lamella_storage::Store::open(url).expect("open the test store")
}

/// A fresh instance in a temporary folder, on SQLite or PostgreSQL.
pub struct TestInstance {
    /// The instance.
    pub ln: Instance,
    /// Which database it uses.
    pub db: Db,
    /// Where it stores objects.
    pub storage: StorageKind,
    /// The temporary folder holding its storage.
    pub dir: TempDir,
    _pg: Option<PgDatabase>,
}

impl TestInstance {
    /// A new instance, or `None` when the database is not available outside CI.
    pub fn new(db: Db) -> Option<TestInstance> {
        TestInstance::with(db, StorageKind::Local)
    }

    /// A new instance on the given database and storage, or `None` when a service is not
    /// available outside CI.
    pub fn with(db: Db, storage: StorageKind) -> Option<TestInstance> {
        isolate_home();
        let dir = tempfile::tempdir().expect("tempdir");
        let root = match storage {
            StorageKind::Local => dir.path().join("data"),
            StorageKind::S3 => PathBuf::from(s3_root()?),
        };
        let (ln, pg) = match db {
            Db::Sqlite if storage == StorageKind::S3 => {
                let file = dir.path().join("lamella.db");
                let url = format!("sqlite://{}", file.display());
                let ln = Instance::init(&root, Some(&url)).expect("init SQLite instance");
                (ln, None)
            }
            Db::Sqlite => (
                Instance::init(&root, None).expect("init SQLite instance"),
                None,
            ),
            Db::Postgres => {
                let admin = postgres_url()?;
                let pg = PgDatabase::create(&admin).expect("create PostgreSQL test database");
                let ln = Instance::init(&root, Some(&pg.url)).expect("init PostgreSQL instance");
                (ln, Some(pg))
            }
        };
        Some(TestInstance {
            ln,
            db,
            storage,
            dir,
            _pg: pg,
        })
    }

    /// A scratch folder outside the storage, for files to register.
    pub fn scratch(&self) -> PathBuf {
        let p = self.dir.path().join("scratch");
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }

    /// Writes a file in the scratch folder and returns its path.
    pub fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.scratch().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(&p, content).expect("write file");
        p
    }

    /// The local storage root folder (for local-storage instances).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The database URL to pass to `init` for another instance on the same backend (SQLite:
    /// `None`; PostgreSQL: a new database, kept alive by the returned guard).
    pub fn another_db(&self) -> (Option<String>, Option<PgDatabase>) {
        match self.db {
            Db::Sqlite => (None, None),
            Db::Postgres => {
                let admin = postgres_url().expect("postgres url");
                let pg = PgDatabase::create(&admin).expect("create database");
                (Some(pg.url.clone()), Some(pg))
            }
        }
    }
}

impl std::ops::Deref for TestInstance {
    type Target = Instance;
    fn deref(&self) -> &Instance {
        &self.ln
    }
}

/// Runs one test body on SQLite and on PostgreSQL: generates `mod $name { fn sqlite(); fn
/// postgres(); }`. The body sees `$t: TestInstance` and returns `anyhow::Result<()>`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$t:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() -> anyhow::Result<()> {
                let $t = $crate::TestInstance::new($crate::Db::Sqlite).expect("SQLite instance");
                $body
            }

            #[test]
            fn postgres() -> anyhow::Result<()> {
                let Some($t) = $crate::TestInstance::new($crate::Db::Postgres) else {
                    return Ok(());
                };
                $body
            }
        }
    };
}

/// Runs one test body on every database × storage pair: `sqlite_local`, `sqlite_s3`,
/// `postgres_local`, `postgres_s3`.
#[macro_export]
macro_rules! artifact_test {
    ($name:ident, |$t:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run(db: $crate::Db, storage: $crate::StorageKind) -> anyhow::Result<()> {
                let Some($t) = $crate::TestInstance::with(db, storage) else {
                    return Ok(());
                };
                $body
            }

            #[test]
            fn sqlite_local() -> anyhow::Result<()> {
                run($crate::Db::Sqlite, $crate::StorageKind::Local)
            }

            #[test]
            fn sqlite_s3() -> anyhow::Result<()> {
                run($crate::Db::Sqlite, $crate::StorageKind::S3)
            }

            #[test]
            fn postgres_local() -> anyhow::Result<()> {
                run($crate::Db::Postgres, $crate::StorageKind::Local)
            }

            #[test]
            fn postgres_s3() -> anyhow::Result<()> {
                run($crate::Db::Postgres, $crate::StorageKind::S3)
            }
        }
    };
}

/// Runs the real `lamella` binary with its own `$LAMELLA_HOME` and working folder.
pub struct Cli {
    bin: PathBuf,
    /// The isolated home (settings) and working folder.
    pub dir: TempDir,
}

/// The outcome of one CLI call.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics with the whole output unless the call succeeded.
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the call failed; returns it for checking the message.
    pub fn fails(self) -> Run {
        assert_ne!(
            self.code, 0,
            "command should fail:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Standard output parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Cli {
    /// A CLI runner for the binary at `bin` (use `env!("CARGO_BIN_EXE_lamella")`).
    pub fn new(bin: impl AsRef<Path>) -> Cli {
        Cli {
            bin: bin.as_ref().to_path_buf(),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A path inside the working folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs `lamella ARGS…`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// Runs `lamella ARGS…` with extra environment variables (e.g. `LAMELLA_FAILPOINT`, or
    /// `AWS_ENDPOINT_URL`); the test process's environment is passed through as well.
    pub fn run_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let out: Output = self.command(args, vars).output().expect("run lamella");
        Run::from(out)
    }

    /// The command `run_with_env` runs, for starting several processes at once
    /// (`.spawn()`, then [`Run::from`] of `wait_with_output()`).
    pub fn command(&self, args: &[&str], vars: &[(&str, &str)]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .current_dir(self.dir.path())
            .env("LAMELLA_HOME", self.dir.path().join(".home"))
            .env("LAMELLA_USER", "testuser")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .envs(vars.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    }

    /// Runs every command line of `calls` as its own process, all at once, and waits for all.
    pub fn run_parallel(&self, calls: &[Vec<String>], vars: &[(&str, &str)]) -> Vec<Run> {
        let children: Vec<_> = calls
            .iter()
            .map(|args| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.command(&args, vars).spawn().expect("start lamella")
            })
            .collect();
        children
            .into_iter()
            .map(|c| Run::from(c.wait_with_output().expect("wait for lamella")))
            .collect()
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl TestInstance {
    /// The instance's database, opened directly (for setting up rows the public API cannot
    /// create yet).
    pub fn raw_db(&self) -> anyhow::Result<lamella_schema::Db> {
        Ok(lamella_schema::Db::open(&self.raw_url()?)?)
    }

    /// The URL of the instance's database.
    pub fn raw_url(&self) -> anyhow::Result<lamella_schema::DbUrl> {
        Ok(match &self._pg {
            Some(pg) => lamella_schema::DbUrl::parse(&pg.url)?,
            None if self.storage == StorageKind::S3 => {
                lamella_schema::DbUrl::Sqlite(self.dir.path().join("lamella.db"))
            }
            None => lamella_schema::DbUrl::Sqlite(
                self.root()
                    .canonicalize()?
                    .join(".lamella")
                    .join("lamella.db"),
            ),
        })
    }
}

/// Registers a bare artifact row and links `label` to it (until artifacts have an API).
pub fn link_label_to_new_artifact(
    t: &TestInstance,
    label: &lamella_core::ULabel,
) -> anyhow::Result<()> {
    use lamella_schema::Store;
    let db = t.raw_db()?;
    let user = t.user().id.unwrap();
    let storage = t.storage()?.id.unwrap();
    let label_id = label.id.unwrap();
    db.transaction(|conn| -> anyhow::Result<()> {
        let now = lamella_schema::now();
        let mut a = vec![lamella_schema::Artifact {
            id: None,
            uid: lamella_schema::base62_uid(20),
            storage_id: storage,
            key: Some("x.txt".into()),
            suffix: ".txt".into(),
            accessor: None,
            description: None,
            size: Some(1),
            hash: Some("h".into()),
            hash_type: Some(lamella_schema::HashType::Md5),
            n_objects: None,
            n_observations: None,
            version: None,
            is_latest: true,
            visibility: lamella_schema::Visibility::Default,
            key_is_virtual: false,
            transform_id: None,
            run_id: None,
            created_at: now,
            updated_at: now,
            created_by_id: user,
        }];
        lamella_schema::Artifact::insert_all(conn, &mut a)?;
        lamella_schema::links::link_ulabels(
            conn,
            lamella_schema::links::Owner::Artifact(a[0].id.unwrap()),
            &[(label_id, None)],
            user,
            false,
        )?;
        Ok(())
    })
}

/// A LaminDB instance LaminDB itself wrote (`tests/fixtures/lamindb/lamindb-NAME-instance.tar.gz`,
/// NAME `2.12` or `0.72`) extracted into a new folder: `(folder, its storage root, what LaminDB
/// read from it — expected-NAME.json)`.
pub fn lamindb_fixture(name: &str) -> anyhow::Result<(TempDir, PathBuf, serde_json::Value)> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lamindb");
    let dir = tempfile::tempdir()?;
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(here.join(format!("lamindb-{name}-instance.tar.gz")))
        .arg("-C")
        .arg(dir.path())
        .status()?;
    anyhow::ensure!(status.success(), "tar failed on the {name} fixture");
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        here.join(format!("expected-{name}.json")),
    )?)?;
    let root = dir.path().join("inst/data");
    Ok((dir, root, expected))
}

/// Runs SQL on a SQLite file with Python's sqlite3 (hostile or extended variants of a
/// fixture).
pub fn run_sqlite(db: &Path, sql: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); \
             c.commit()",
        )
        .arg(db)
        .arg(sql)
        .status()?;
    anyhow::ensure!(
        status.success(),
        "python3 sqlite3 failed on {}",
        db.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            with_database("postgres://u@h:1/lamella_test", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
