//! `cargo xtask services`: a throwaway PostgreSQL and an S3-compatible moto server for tests.
//!
//! PostgreSQL: a fresh cluster in `/tmp/lamella-pg` on 127.0.0.1:55432 (trust auth, superuser
//! `postgres`, fsync off) with database `lamella_test`. S3: `moto_server` on 127.0.0.1:9000 with
//! bucket `lamella-test`. `up` reuses whatever already answers, so it is cheap to repeat; a lock
//! file keeps concurrent `up`/`down` calls from racing.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::http;
use crate::process::{
    describe, is_root, log_tail, process_cmdline, run_captured, run_shown, wait_until, which,
};

const PG_PORT: u16 = 55432;
const PG_DATA: &str = "/tmp/lamella-pg";
const PG_DB: &str = "lamella_test";
const PG_USER: &str = "postgres";
const S3_PORT: u16 = 9000;
const S3_BUCKET: &str = "lamella-test";
const MOTO_LOG: &str = "/tmp/lamella-moto.log";
const MOTO_PID: &str = "/tmp/lamella-moto.pid";
/// A second S3 server that checks request signatures (moto accepts any credentials), so tests
/// can prove that wrong credentials give a clear error. Started when `s3s-fs` is installed
/// (`.ci/run` installs it with `cargo install`).
const AUTH_PORT: u16 = 8014;
const AUTH_DIR: &str = "/tmp/lamella-s3s";
const AUTH_PID: &str = "/tmp/lamella-s3s.pid";
const AUTH_LOG: &str = "/tmp/lamella-s3s.log";
/// The credentials the signature-checking server accepts.
pub const AUTH_KEY: &str = "lamella";
/// Its secret key.
pub const AUTH_SECRET: &str = "lamella-secret";
const LOCK: &str = "/tmp/lamella-services.lock";

/// The variable that tells tests where PostgreSQL is.
pub const PG_URL_VAR: &str = "LAMELLA_TEST_POSTGRES_URL";
/// The variable that tells tests where the S3 endpoint is.
pub const S3_ENDPOINT_VAR: &str = "LAMELLA_TEST_S3_ENDPOINT";

const USAGE: &str = "\
Throwaway PostgreSQL and S3 (moto) servers for Lamella's tests.

Usage: cargo xtask services <action>

Actions:
  up      Start both, or reuse what already answers; create database and bucket. Idempotent.
            PostgreSQL: cluster in /tmp/lamella-pg, 127.0.0.1:55432, user postgres (trust),
                        database lamella_test; log /tmp/lamella-pg/server.log.
                        Installs the server with apt-get when missing and running as root.
            S3:         moto_server on 127.0.0.1:9000, bucket lamella-test; log
                        /tmp/lamella-moto.log, pid /tmp/lamella-moto.pid.
                        Installs moto[server] with pip when missing.
  down    Stop both (pg_ctl stop -m fast; moto by its pid file).
  status  Show what runs. Exit status 0 when both are up, 3 otherwise.
  env     Print the variables the tests read, one KEY=value per line, e.g.
            export $(cargo xtask services env)
";

/// Entry point for `cargo xtask services <action>`.
pub fn main(args: &[String]) -> Result<ExitCode> {
    let action = args.first().map(String::as_str);
    if let Some(extra) = args.get(1) {
        bail!("unexpected argument `{extra}` (see `cargo xtask services --help`)");
    }
    match action {
        None | Some("help" | "-h" | "--help") => print!("{USAGE}"),
        Some("up") => up()?,
        Some("down") => down()?,
        Some("status") => {
            if !status() {
                return Ok(ExitCode::from(3));
            }
        }
        Some("env") => {
            for (key, value) in default_env() {
                println!("{key}={value}");
            }
        }
        Some(other) => {
            eprint!("error: unknown action `{other}`\n\n{USAGE}");
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The environment the tests read, pointing at the services `up` starts.
pub fn default_env() -> Vec<(&'static str, String)> {
    let mut env = vec![
        (
            PG_URL_VAR,
            format!("postgres://{PG_USER}@127.0.0.1:{PG_PORT}/{PG_DB}"),
        ),
        (S3_ENDPOINT_VAR, format!("http://127.0.0.1:{S3_PORT}")),
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{S3_PORT}")),
        ("LAMELLA_TEST_S3_BUCKET", S3_BUCKET.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    if auth_binary().is_some() {
        env.push((
            "LAMELLA_TEST_S3_AUTH_ENDPOINT",
            format!("http://127.0.0.1:{AUTH_PORT}"),
        ));
        env.push(("LAMELLA_TEST_S3_AUTH_KEY", AUTH_KEY.to_owned()));
        env.push(("LAMELLA_TEST_S3_AUTH_SECRET", AUTH_SECRET.to_owned()));
    }
    env
}

/// The environment for a test or bench run: the caller's own services when both
/// `LAMELLA_TEST_POSTGRES_URL` and `LAMELLA_TEST_S3_ENDPOINT` are set and reachable (other
/// variables default when unset), otherwise the local services, started by `up`.
pub fn test_env() -> Result<Vec<(&'static str, String)>> {
    let pg = std::env::var(PG_URL_VAR).unwrap_or_default();
    let s3 = std::env::var(S3_ENDPOINT_VAR).unwrap_or_default();
    if !pg.is_empty() && !s3.is_empty() {
        if http::url_reachable(&pg) && http::url_reachable(&s3) {
            println!("using the services already set in the environment: {pg}, {s3}");
            return Ok(default_env()
                .into_iter()
                .map(|(key, default)| (key, std::env::var(key).unwrap_or(default)))
                .collect());
        }
        println!(
            "{PG_URL_VAR}={pg} or {S3_ENDPOINT_VAR}={s3} is not reachable: \
             starting the local services and using those instead"
        );
    }
    up()?;
    Ok(default_env())
}

/// `services up`.
pub fn up() -> Result<()> {
    let _lock = Lock::acquire()?;
    let started = Instant::now();
    pg_up().context("PostgreSQL did not come up")?;
    println!(
        "PostgreSQL  ready  postgres://{PG_USER}@127.0.0.1:{PG_PORT}/{PG_DB}  ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    s3_up().context("the S3 server (moto) did not come up")?;
    println!(
        "S3 (moto)   ready  http://127.0.0.1:{S3_PORT}  bucket {S3_BUCKET}  ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    match auth_binary() {
        Some(bin) => {
            auth_up(&bin).context("the signature-checking S3 server (s3s-fs) did not come up")?;
            println!("S3 (s3s-fs) ready  http://127.0.0.1:{AUTH_PORT}  bucket {S3_BUCKET}");
        }
        None => println!(
            "S3 (s3s-fs) not installed: wrong-credential tests will be skipped (install with \
             `cargo install s3s-fs@0.14.1 --locked --features binary`)"
        ),
    }
    Ok(())
}

/// The `s3s-fs` binary, if installed.
fn auth_binary() -> Option<PathBuf> {
    which("s3s-fs").or_else(|| {
        let p = PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/s3s-fs");
        p.is_file().then_some(p)
    })
}

fn auth_up(bin: &Path) -> Result<()> {
    if http::port_open(local(AUTH_PORT)) {
        println!("S3 (s3s-fs): already listening on 127.0.0.1:{AUTH_PORT}, reusing it");
        return Ok(());
    }
    // s3s-fs keeps each bucket as a folder of its root.
    fs::create_dir_all(Path::new(AUTH_DIR).join(S3_BUCKET))
        .with_context(|| format!("could not create {AUTH_DIR}/{S3_BUCKET}"))?;
    let log = File::create(AUTH_LOG).with_context(|| format!("could not create {AUTH_LOG}"))?;
    let mut cmd = Command::new(bin);
    cmd.args([
        "--host",
        "127.0.0.1",
        "--port",
        &AUTH_PORT.to_string(),
        "--access-key",
        AUTH_KEY,
        "--secret-key",
        AUTH_SECRET,
        AUTH_DIR,
    ])
    .stdin(Stdio::null())
    .stdout(log.try_clone()?)
    .stderr(log)
    // Not the checkout's folder: the server outlives this command, and a deleted working
    // folder would break it (s3s-fs then fails every request).
    .current_dir("/")
    .process_group(0);
    let shown = describe(&cmd);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    fs::write(AUTH_PID, child.id().to_string())
        .with_context(|| format!("could not write {AUTH_PID}"))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !http::port_open(local(AUTH_PORT)) {
        if let Some(exit) = child.try_wait()? {
            bail!("`{shown}` exited ({exit}); {}", log_tail(AUTH_LOG, 15));
        }
        if Instant::now() >= deadline {
            kill_group(child.id(), "KILL");
            bail!(
                "`{shown}` did not listen within 20 s; {}",
                log_tail(AUTH_LOG, 15)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn auth_down() {
    let pid = fs::read_to_string(AUTH_PID)
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|&pid| process_cmdline(pid).is_some_and(|c| c.contains("s3s-fs")));
    if let Some(pid) = pid {
        kill_group(pid, "TERM");
        println!("S3 (s3s-fs): stopped (pid {pid})");
    }
    let _ = fs::remove_file(AUTH_PID);
}

/// `services down`.
pub fn down() -> Result<()> {
    let _lock = Lock::acquire()?;
    let pg = pg_down();
    let s3 = s3_down();
    auth_down();
    pg.context("stopping PostgreSQL failed")?;
    s3.context("stopping the S3 server (moto) failed")?;
    Ok(())
}

/// `services status`: prints what runs; true when both services are up.
pub fn status() -> bool {
    let pg_up = match pg_query("postgres", "SELECT current_setting('server_version')") {
        Ok(version) => {
            let db = match pg_query("postgres", &db_exists_sql()) {
                Ok(found) if found.trim() == "1" => format!("database {PG_DB} exists"),
                Ok(_) => format!("database {PG_DB} MISSING (run `cargo xtask services up`)"),
                Err(err) => format!("database check failed: {err}"),
            };
            let pid = pg_pid().map_or_else(
                || "not started from /tmp/lamella-pg".to_owned(),
                |pid| format!("pid {pid}, data {PG_DATA}"),
            );
            println!(
                "PostgreSQL  up    127.0.0.1:{PG_PORT}  version {}, {db}, {pid}",
                version.trim()
            );
            true
        }
        Err(err) => {
            let why = if http::port_open(local(PG_PORT)) {
                format!("port {PG_PORT} is open but psql cannot connect: {err}")
            } else {
                format!("nothing listens on 127.0.0.1:{PG_PORT}")
            };
            println!("PostgreSQL  down  {why}");
            false
        }
    };
    let s3_up = match http::request("GET", local(S3_PORT), &format!("/{S3_BUCKET}")) {
        Ok(resp) => {
            let bucket = match resp.status {
                200 => format!("bucket {S3_BUCKET} exists"),
                404 => format!("bucket {S3_BUCKET} MISSING (run `cargo xtask services up`)"),
                other => format!("bucket {S3_BUCKET}: HTTP {other}"),
            };
            let pid = moto_pid().map_or_else(
                || "not started by xtask".to_owned(),
                |pid| format!("pid {pid}, log {MOTO_LOG}"),
            );
            println!("S3 (moto)   up    http://127.0.0.1:{S3_PORT}  {bucket}, {pid}");
            resp.status == 200
        }
        Err(err) => {
            println!("S3 (moto)   down  {err:#}");
            false
        }
    };
    pg_up && s3_up
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

fn pg_up() -> Result<()> {
    let bin = ensure_pg_bin()?;
    if pg_query("postgres", "SELECT 1").is_ok() {
        println!("PostgreSQL: already accepting connections on 127.0.0.1:{PG_PORT}, reusing it");
    } else if http::port_open(local(PG_PORT)) {
        // Something listens: perhaps a server still starting. Give it a moment.
        if !wait_until(Duration::from_secs(10), || {
            pg_query("postgres", "SELECT 1").is_ok()
        }) {
            let err = pg_query("postgres", "SELECT 1").unwrap_err();
            bail!(
                "something listens on 127.0.0.1:{PG_PORT} but `psql -U {PG_USER}` cannot use it: \
                 {err:#}\nStop it (`cargo xtask services down`, or find it with \
                 `ss -ltnp | grep {PG_PORT}`) and run `cargo xtask services up` again."
            );
        }
    } else {
        pg_start(&bin)?;
    }
    let exists = pg_query("postgres", &db_exists_sql())?;
    if exists.trim() != "1" {
        pg_query("postgres", &format!("CREATE DATABASE {PG_DB}"))?;
    }
    Ok(())
}

/// A fresh cluster in PG_DATA, started in the background (`pg_ctl` detaches the server).
fn pg_start(bin: &Path) -> Result<()> {
    let root = is_root();
    if root
        && !fs::read_to_string("/etc/passwd")
            .unwrap_or_default()
            .lines()
            .any(|line| line.starts_with("postgres:"))
    {
        bail!(
            "running as root, but there is no `postgres` user to run the server as \
             (PostgreSQL refuses to run as root). Create it: \
             `useradd --system --home-dir /var/lib/postgresql postgres`"
        );
    }
    let data = Path::new(PG_DATA);
    if data.join("postmaster.pid").exists() {
        // A server of ours that does not answer: stop it before wiping its directory.
        println!("PostgreSQL: a server from {PG_DATA} exists but does not answer; stopping it");
        let _ = as_pg_user(&bin.join("pg_ctl"), root)
            .args(["-D", PG_DATA, "-m", "immediate", "-w", "stop"])
            .output();
    }
    if data.exists() {
        fs::remove_dir_all(data).with_context(|| format!("could not remove old {PG_DATA}"))?;
    }
    if root {
        run_captured(
            Command::new("install")
                .args(["-d", "-m", "700", "-o", PG_USER, "-g", PG_USER, PG_DATA]),
        )?;
    } else {
        fs::create_dir(data).with_context(|| format!("could not create {PG_DATA}"))?;
    }
    run_captured(as_pg_user(&bin.join("initdb"), root).args([
        "-D",
        PG_DATA,
        "-A",
        "trust",
        "-U",
        PG_USER,
        "-E",
        "UTF8",
        "--no-sync",
    ]))
    .context("initdb failed")?;
    let log = format!("{PG_DATA}/server.log");
    let options = format!("-p {PG_PORT} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off");
    run_captured(as_pg_user(&bin.join("pg_ctl"), root).args([
        "-D", PG_DATA, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
    ]))
    .with_context(|| format!("the server did not start; {}", log_tail(&log, 15)))?;
    println!("PostgreSQL: started a fresh cluster in {PG_DATA} (log {log})");
    Ok(())
}

fn pg_down() -> Result<()> {
    if !Path::new(PG_DATA).join("postmaster.pid").exists() {
        println!("PostgreSQL: not running from {PG_DATA}");
        if http::port_open(local(PG_PORT)) {
            println!(
                "PostgreSQL: note: something else listens on 127.0.0.1:{PG_PORT}; \
                 xtask did not start it and leaves it alone"
            );
        }
        return Ok(());
    }
    let bin = find_pg_bin().context(
        "PostgreSQL server binaries (pg_ctl) not found, so the server cannot be stopped cleanly",
    )?;
    run_captured(
        as_pg_user(&bin.join("pg_ctl"), is_root())
            .args(["-D", PG_DATA, "-m", "fast", "-w", "stop"]),
    )?;
    println!("PostgreSQL: stopped");
    Ok(())
}

/// Runs `psql` against the local server as the superuser; returns unaligned, tuples-only output.
fn pg_query(db: &str, sql: &str) -> Result<String> {
    let psql = find_pg_bin()
        .map(|bin| bin.join("psql"))
        .filter(|psql| psql.exists())
        .unwrap_or_else(|| PathBuf::from("psql"));
    run_captured(
        Command::new(psql)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-p", &PG_PORT.to_string(), "-U", PG_USER])
            .args(["-d", db, "-c", sql])
            .env("PGCONNECT_TIMEOUT", "3")
            .env_remove("PGPASSWORD")
            .env_remove("PGOPTIONS"),
    )
}

fn db_exists_sql() -> String {
    format!("SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'")
}

/// The server's pid from PG_DATA/postmaster.pid, if that process is alive.
fn pg_pid() -> Option<u32> {
    let text = fs::read_to_string(Path::new(PG_DATA).join("postmaster.pid")).ok()?;
    let pid = text.lines().next()?.trim().parse().ok()?;
    process_cmdline(pid).map(|_| pid)
}

/// `program`, run as the `postgres` user when we are root (PostgreSQL refuses to run as root).
fn as_pg_user(program: &Path, root: bool) -> Command {
    let mut cmd = if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", PG_USER, "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    };
    // initdb and pg_ctl complain when they cannot enter the working directory (e.g. /root).
    cmd.current_dir("/tmp");
    cmd
}

/// The directory with initdb/pg_ctl/postgres: Debian's newest /usr/lib/postgresql/<N>/bin,
/// else wherever `initdb` is on PATH.
fn find_pg_bin() -> Option<PathBuf> {
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    versioned.sort();
    if let Some((_, bin)) = versioned.pop() {
        return Some(bin);
    }
    which("initdb").and_then(|initdb| initdb.parent().map(Path::to_path_buf))
}

fn ensure_pg_bin() -> Result<PathBuf> {
    if let Some(bin) = find_pg_bin() {
        return Ok(bin);
    }
    if !is_root() {
        bail!(
            "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them \
             (`sudo apt-get install -y postgresql`) or run this as root so xtask can."
        );
    }
    println!("PostgreSQL: server binaries not found; installing with apt-get");
    let install = || {
        run_shown(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "postgresql"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    if install().is_err() {
        println!("PostgreSQL: apt-get install failed; running apt-get update and retrying");
        run_shown(Command::new("apt-get").args(["update", "-q"]))
            .context("apt-get update failed; check network access to the Debian mirrors")?;
        install().context("apt-get install -y postgresql failed (see its output above)")?;
    }
    find_pg_bin().context(
        "apt-get installed postgresql, but no initdb was found under /usr/lib/postgresql/*/bin",
    )
}

// ---------------------------------------------------------------------------------------------
// S3 (moto)

fn s3_up() -> Result<()> {
    if http::request("GET", local(S3_PORT), "/").is_ok() {
        println!("S3: already answering on 127.0.0.1:{S3_PORT}, reusing it");
    } else if http::port_open(local(S3_PORT)) {
        bail!(
            "something listens on 127.0.0.1:{S3_PORT} but does not answer HTTP. Stop it \
             (`cargo xtask services down`, or find it with `ss -ltnp | grep {S3_PORT}`) and run \
             `cargo xtask services up` again."
        );
    } else {
        moto_start()?;
    }
    let resp = http::request("PUT", local(S3_PORT), &format!("/{S3_BUCKET}"))
        .context("creating the bucket failed")?;
    let already_ours = resp.status == 409 && resp.body.contains("BucketAlreadyOwnedByYou");
    if resp.status != 200 && !already_ours {
        bail!(
            "PUT /{S3_BUCKET} (create bucket) answered HTTP {}: {}",
            resp.status,
            resp.body.trim()
        );
    }
    Ok(())
}

fn moto_start() -> Result<()> {
    let mut cmd = moto_command()?;
    let log = File::create(MOTO_LOG).with_context(|| format!("could not create {MOTO_LOG}"))?;
    cmd.args(["-H", "127.0.0.1", "-p", &S3_PORT.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Not the checkout's folder, which may be deleted while the server runs on.
        .current_dir("/")
        // Its own process group: survives xtask exiting and Ctrl-C in the calling terminal,
        // and `down` can stop it together with any children.
        .process_group(0);
    let shown = describe(&cmd);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    fs::write(MOTO_PID, child.id().to_string())
        .with_context(|| format!("could not write {MOTO_PID}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(exit) = child.try_wait()? {
            let _ = fs::remove_file(MOTO_PID);
            bail!(
                "`{shown}` exited ({exit}) before answering HTTP; {}",
                log_tail(MOTO_LOG, 15)
            );
        }
        if http::request("GET", local(S3_PORT), "/").is_ok() {
            break;
        }
        if Instant::now() >= deadline {
            kill_group(child.id(), "KILL");
            let _ = fs::remove_file(MOTO_PID);
            bail!(
                "`{shown}` did not answer HTTP on 127.0.0.1:{S3_PORT} within 30 s; {}",
                log_tail(MOTO_LOG, 15)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("S3: started `{shown}` (pid {}, log {MOTO_LOG})", child.id());
    Ok(())
}

/// `moto_server` from PATH, else `python3 -m moto.server`, installing `moto[server]` with pip
/// when neither works.
fn moto_command() -> Result<Command> {
    if let Some(moto) = which("moto_server") {
        return Ok(Command::new(moto));
    }
    let python = which("python3").context(
        "neither `moto_server` nor `python3` is on PATH; install Python 3 and then \
         `python3 -m pip install \"moto[server]\"`",
    )?;
    let importable = || {
        Command::new(&python)
            .args(["-c", "import moto.server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if !importable() {
        println!("S3: moto_server not found; installing it with pip");
        pip_install(&python, &["moto[server]"])?;
        if !importable() {
            bail!(
                "`python3 -m pip install \"moto[server]\"` succeeded but `import moto.server` \
                 still fails; install moto[server] for {}",
                python.display()
            );
        }
    }
    let mut cmd = Command::new(python);
    cmd.args(["-m", "moto.server"]);
    Ok(cmd)
}

fn pip_install(python: &Path, packages: &[&str]) -> Result<()> {
    let pip = |extra: &[&str]| {
        run_shown(
            Command::new(python)
                .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
                .args(extra)
                .args(packages)
                .env("PIP_ROOT_USER_ACTION", "ignore"),
        )
    };
    if pip(&[]).is_ok() {
        return Ok(());
    }
    // Debian's own python3 is "externally managed" (PEP 668).
    println!("pip install failed; retrying with --break-system-packages");
    pip(&["--break-system-packages"]).with_context(|| {
        format!(
            "could not install {packages:?} with pip; install them by hand \
             (`python3 -m pip install \"moto[server]\"`)"
        )
    })
}

fn s3_down() -> Result<()> {
    match moto_pid() {
        Some(pid) => {
            kill_group(pid, "TERM");
            if !wait_until(Duration::from_secs(5), || process_cmdline(pid).is_none()) {
                kill_group(pid, "KILL");
                if !wait_until(Duration::from_secs(2), || process_cmdline(pid).is_none()) {
                    bail!("moto (pid {pid}) survived SIGKILL; look at `ps -fp {pid}`");
                }
            }
            let _ = fs::remove_file(MOTO_PID);
            println!("S3: stopped moto (pid {pid})");
        }
        None => {
            let _ = fs::remove_file(MOTO_PID);
            println!("S3: not running (no live moto pid in {MOTO_PID})");
            if http::port_open(local(S3_PORT)) {
                println!(
                    "S3: note: something else listens on 127.0.0.1:{S3_PORT}; \
                     xtask did not start it and leaves it alone"
                );
            }
        }
    }
    Ok(())
}

/// The pid in MOTO_PID, if that process is alive and is moto (pids get reused).
fn moto_pid() -> Option<u32> {
    let pid = fs::read_to_string(MOTO_PID).ok()?.trim().parse().ok()?;
    process_cmdline(pid)
        .filter(|cmdline| cmdline.contains("moto"))
        .map(|_| pid)
}

/// Sends `signal` to the process group `pgid` (moto runs as a group leader).
fn kill_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

// ---------------------------------------------------------------------------------------------
// Lock

/// An exclusive lock file so that concurrent `up`/`down` calls do not race (one initdb
/// wiping another's cluster). A lock whose holder died is taken over.
struct Lock;

impl Lock {
    fn acquire() -> Result<Lock> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut announced = false;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(LOCK) {
                Ok(mut file) => {
                    write!(file, "{}", std::process::id())?;
                    return Ok(Lock);
                }
                Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                    let holder: Option<u32> = fs::read_to_string(LOCK)
                        .ok()
                        .and_then(|text| text.trim().parse().ok());
                    match holder {
                        Some(pid) if process_cmdline(pid).is_some() => {
                            if !announced {
                                println!("waiting for another `cargo xtask services` (pid {pid})");
                                announced = true;
                            }
                            if Instant::now() >= deadline {
                                bail!(
                                    "{LOCK} has been held by pid {pid} for 2 minutes; if no \
                                     xtask is running, delete the file and retry"
                                );
                            }
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        // Dead holder, or a file still being written: take over after a beat.
                        _ => {
                            std::thread::sleep(Duration::from_millis(50));
                            let still: Option<u32> = fs::read_to_string(LOCK)
                                .ok()
                                .and_then(|text| text.trim().parse().ok());
                            if still == holder {
                                let _ = fs::remove_file(LOCK);
                            }
                        }
                    }
                }
                Err(err) => return Err(err).with_context(|| format!("could not create {LOCK}")),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(LOCK);
    }
}
