//! Settings under `$LAMELLA_HOME` (default `~/.lamella`): the known instances and the current
//! one, so the CLI reconnects.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_err};

/// One known instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceEntry {
    /// The instance uid.
    pub uid: String,
    /// The default storage root (absolute path or URL).
    pub root: String,
    /// The database URL, as given (may hold a password; the file is the user's own).
    pub db: String,
}

/// The contents of `settings.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The uid of the current instance.
    pub current: Option<String>,
    /// Every instance initialised or connected from this machine.
    #[serde(default)]
    pub instances: Vec<InstanceEntry>,
    /// The run each instance tracks across commands (`lamella track` … `lamella finish`):
    /// instance uid → run uid.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub runs: std::collections::BTreeMap<String, String>,
    /// The default storage each instance saves new artifacts to, when not its own
    /// (`lamella storage default URL`): instance uid → storage root.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub storages: std::collections::BTreeMap<String, String>,
}

static HOME_OVERRIDE: std::sync::RwLock<Option<PathBuf>> = std::sync::RwLock::new(None);

/// Makes this process keep its settings in `dir` instead of `$LAMELLA_HOME` / `~/.lamella`
/// (for embedding applications and tests that must not touch the user's settings).
pub fn set_home(dir: impl Into<PathBuf>) {
    if let Ok(mut g) = HOME_OVERRIDE.write() {
        *g = Some(dir.into());
    }
}

/// The settings folder: the one given to [`set_home`], else `$LAMELLA_HOME`, else
/// `~/.lamella`.
pub fn home() -> Result<PathBuf> {
    if let Some(h) = HOME_OVERRIDE.read().ok().and_then(|g| g.clone()) {
        return Ok(h);
    }
    if let Some(h) = std::env::var_os("LAMELLA_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    dirs::home_dir()
        .map(|h| h.join(".lamella"))
        .ok_or_else(|| Error::Incomplete {
            what: "the settings".into(),
            needs: "a home folder, and none was found: set LAMELLA_HOME to a writable folder"
                .into(),
        })
}

/// Creates `dir` (and its parents) if needed and makes it accessible to the user alone.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir).map_err(io_err(dir))?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io_err(dir))?;
        }
    }
    Ok(())
}

/// Writes a new file that only the user may read (0600 from the start, never wider).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    Ok(())
}

impl Settings {
    fn path(home: &Path) -> PathBuf {
        home.join("settings.json")
    }

    /// Reads the settings (empty when there is no file yet).
    pub fn load() -> Result<Settings> {
        let path = Settings::path(&home()?);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Settings {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(io_err(path)(e)),
        }
    }

    /// Writes the settings atomically (temporary file, then rename). The file is readable by
    /// the user alone (0600) and so is the settings folder (0700): a database URL may hold a
    /// password (or leave it to `PGPASSWORD` / `~/.pgpass`, which Lamella never stores).
    fn save(&self) -> Result<()> {
        let home = home()?;
        ensure_private_dir(&home)?;
        let path = Settings::path(&home);
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = home.join(format!(".settings.{}.{n}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Settings {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_private(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(())
    }

    /// Reads, changes and writes the settings under an exclusive lock (`.settings.lock` in the
    /// settings folder), so that processes and threads changing them at once — a `track` and
    /// an `init` in two shells — never lose each other's change.
    pub fn update<R>(change: impl FnOnce(&mut Settings) -> R) -> Result<R> {
        let home = home()?;
        ensure_private_dir(&home)?;
        let lock_path = home.join(".settings.lock");
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let lock = opts.open(&lock_path).map_err(io_err(&lock_path))?;
        lock.lock().map_err(io_err(&lock_path))?;
        let mut settings = Settings::load()?;
        let before = settings.clone();
        let out = change(&mut settings);
        // Nothing changed, nothing written (every command connects; most change nothing).
        if settings != before {
            settings.save()?;
        }
        // Unlocked when `lock` closes.
        drop(lock);
        Ok(out)
    }

    /// Records `entry` as known and current.
    pub fn remember(&mut self, entry: InstanceEntry) {
        self.instances
            .retain(|e| e.uid != entry.uid && e.root != entry.root);
        self.current = Some(entry.uid.clone());
        self.instances.push(entry);
    }

    /// Forgets the instance with this uid.
    pub fn forget(&mut self, uid: &str) {
        self.instances.retain(|e| e.uid != uid);
        if self.current.as_deref() == Some(uid) {
            self.current = None;
        }
    }

    /// The instance whose root is `root`.
    pub fn by_root(&self, root: &str) -> Option<&InstanceEntry> {
        self.instances.iter().find(|e| e.root == root)
    }

    /// The instance with this uid.
    pub fn by_uid(&self, uid: &str) -> Option<&InstanceEntry> {
        self.instances.iter().find(|e| e.uid == uid)
    }

    /// The current instance.
    pub fn current_entry(&self) -> Option<&InstanceEntry> {
        let uid = self.current.as_deref()?;
        self.instances.iter().find(|e| e.uid == uid)
    }
}

/// Environment variables whose values are secrets.
const SECRET_VARS: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "PGPASSWORD",
];

/// The secret values this process may come across — S3 keys and tokens and the PostgreSQL
/// password from the environment, and the passwords of the database URLs in the settings and
/// in `extra` (e.g. a `--db` argument) — so a front-end can scrub them from anything it shows,
/// logs of dependencies included. Values shorter than 4 characters are left out (scrubbing them
/// would garble text).
pub fn known_secrets<S: AsRef<str>>(extra: &[S]) -> Vec<String> {
    let mut out: Vec<String> = SECRET_VARS
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .collect();
    let mut urls: Vec<String> = extra.iter().map(|s| s.as_ref().to_string()).collect();
    if let Ok(settings) = Settings::load() {
        urls.extend(settings.instances.into_iter().map(|e| e.db));
    }
    for u in &urls {
        if let Some(pw) = lamella_schema::url_password(u) {
            out.push(pw.to_string());
        }
        // a `password=` keyword, wherever it appears
        for w in u.split_whitespace() {
            if let Some((k, v)) = w.split_once('=')
                && k.eq_ignore_ascii_case("password")
            {
                out.push(v.to_string());
            }
        }
    }
    out.retain(|s| s.len() >= 4);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

/// The command line with every known secret (see [`known_secrets`], including passwords in the
/// arguments' own URLs) replaced by `***`, for records such as a run's environment.
pub(crate) fn redact_args(args: &[String]) -> Vec<String> {
    let secrets = known_secrets(args);
    args.iter()
        .map(|a| {
            let mut a = a.clone();
            for s in &secrets {
                a = a.replace(s.as_str(), "***");
            }
            a
        })
        .collect()
}
