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
    dirs::home_dir().map(|h| h.join(".lamella")).ok_or_else(|| {
        Error::Invalid("cannot find a home folder: set LAMELLA_HOME to a writable folder".into())
    })
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

    /// Writes the settings atomically (temporary file, then rename).
    pub fn save(&self) -> Result<()> {
        let home = home()?;
        std::fs::create_dir_all(&home).map_err(io_err(&home))?;
        let path = Settings::path(&home);
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = home.join(format!(".settings.{}.{n}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Settings {
            path: path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(())
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

    /// The current instance.
    pub fn current_entry(&self) -> Option<&InstanceEntry> {
        let uid = self.current.as_deref()?;
        self.instances.iter().find(|e| e.uid == uid)
    }
}
