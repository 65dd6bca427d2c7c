//! Progress of long operations: hashing, uploads, downloads, exports, verification. An
//! embedder (the CLI draws bars) registers one callback with [`Instance::on_progress`]; every
//! operation of that instance and its handles reports through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Instance;

/// What is in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgressTask {
    /// Hashing files before a save (bytes of a folder, or files of a many-file save).
    Hashing,
    /// Sending objects to storage.
    Uploading,
    /// Fetching objects from storage into the cache or a file.
    Downloading,
    /// Writing a collection's concatenation.
    Exporting,
    /// Re-hashing stored objects (`doctor` with content verification).
    Verifying,
    /// Bringing another system's records and objects in (`import lamindb`).
    Importing,
}

/// What [`Progress::done`] and [`Progress::total`] count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgressUnit {
    /// Bytes.
    Bytes,
    /// Files.
    Files,
    /// Table rows.
    Rows,
}

/// One report: `done` of `total` (`total` is 0 when unknown). Reports of one operation share
/// its `id`; the last one has `finished` set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Tells operations apart (several may run at once).
    pub id: u64,
    /// What is in progress.
    pub task: ProgressTask,
    /// What is counted.
    pub unit: ProgressUnit,
    /// Done so far.
    pub done: u64,
    /// In all; 0 when unknown.
    pub total: u64,
    /// Whether the operation ended (successfully or not).
    pub finished: bool,
}

/// The callback [`Instance::on_progress`] registers.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Counts one operation's progress and reports it; reports `finished` when dropped.
pub(crate) struct Meter {
    report: Option<ProgressFn>,
    id: u64,
    task: ProgressTask,
    unit: ProgressUnit,
    total: u64,
    done: AtomicU64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Meter {
    pub(crate) fn new(ln: &Instance, task: ProgressTask, unit: ProgressUnit, total: u64) -> Meter {
        let m = Meter {
            report: ln.progress_fn(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            task,
            unit,
            total,
            done: AtomicU64::new(0),
        };
        m.send(0, false);
        m
    }

    /// Adds `n` to what is done.
    pub(crate) fn add(&self, n: u64) {
        if self.report.is_some() && n > 0 {
            let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
            self.send(done, false);
        }
    }

    fn send(&self, done: u64, finished: bool) {
        if let Some(f) = &self.report {
            f(&Progress {
                id: self.id,
                task: self.task,
                unit: self.unit,
                done,
                total: self.total,
                finished,
            });
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.send(self.done.load(Ordering::Relaxed), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_meter_reports_start_each_step_and_the_end() {
        let dir = tempfile::tempdir().unwrap();
        crate::set_settings_home(dir.path().join("home"));
        let ln = Instance::builder(dir.path().join("data")).create().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        ln.on_progress(move |p| s.lock().unwrap().push(p.clone()));
        {
            let m = Meter::new(&ln, ProgressTask::Uploading, ProgressUnit::Bytes, 10);
            m.add(4);
            m.add(0);
            m.add(6);
        }
        let seen = seen.lock().unwrap();
        let done: Vec<(u64, bool)> = seen.iter().map(|p| (p.done, p.finished)).collect();
        assert_eq!(done, [(0, false), (4, false), (10, false), (10, true)]);
        assert!(
            seen.iter()
                .all(|p| p.total == 10 && p.task == ProgressTask::Uploading)
        );
        assert_eq!(
            seen.iter()
                .map(|p| p.id)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            1
        );
    }
}
