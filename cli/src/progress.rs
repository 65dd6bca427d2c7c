//! Progress bars (indicatif) for the library's long operations, on stderr: only when stderr
//! is a terminal and the output is not `--json`, and only for work that lasts (a bar appears
//! after [`DELAY`], so quick saves print nothing extra).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lamella_core::{Instance, Progress, ProgressTask, ProgressUnit};

/// Work shorter than this shows no bar (`LAMELLA_PROGRESS_DELAY_MS` changes it).
const DELAY: Duration = Duration::from_millis(300);

fn delay() -> Duration {
    std::env::var("LAMELLA_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(DELAY, Duration::from_millis)
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns bars on for this process when stderr is a terminal and the output is for people.
pub fn enable(json: bool) {
    ENABLED.store(!json && crate::output::interactive(), Ordering::Relaxed);
}

/// Whether bars and spinners may be drawn.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Draws `ln`'s progress reports as bars (when enabled).
pub fn attach(ln: &Instance) {
    if !enabled() {
        return;
    }
    let bars = Bars {
        multi: MultiProgress::new(),
        live: Mutex::new(HashMap::new()),
        delay: delay(),
    };
    ln.on_progress(move |p| bars.report(p));
}

struct Bars {
    multi: MultiProgress,
    /// Per operation: when it was first reported, and its bar once shown.
    live: Mutex<HashMap<u64, (Instant, Option<ProgressBar>)>>,
    delay: Duration,
}

impl Bars {
    fn report(&self, p: &Progress) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if p.finished {
            if let Some((_, Some(bar))) = live.remove(&p.id) {
                bar.finish_and_clear();
            }
            return;
        }
        let (since, bar) = live.entry(p.id).or_insert_with(|| (Instant::now(), None));
        if bar.is_none() && since.elapsed() >= self.delay {
            // Started when the work did, so rates and estimates are right.
            *bar = Some(self.multi.add(new_bar(p).with_elapsed(since.elapsed())));
        }
        if let Some(bar) = bar {
            if p.total > 0 {
                bar.set_length(p.total);
            }
            bar.set_position(p.done);
        }
    }
}

fn new_bar(p: &Progress) -> ProgressBar {
    let what = match p.task {
        ProgressTask::Hashing => "hashing",
        ProgressTask::Uploading => "uploading",
        ProgressTask::Downloading => "downloading",
        ProgressTask::Exporting => "writing",
        ProgressTask::Verifying => "verifying",
        ProgressTask::Importing => "importing",
    };
    let (count, total, rate) = match p.unit {
        ProgressUnit::Bytes => ("{bytes}", "{total_bytes}", "{bytes_per_sec}"),
        ProgressUnit::Files => ("{human_pos}", "{human_len} files", "{per_sec}"),
        ProgressUnit::Rows => ("{human_pos}", "{human_len} rows", "{per_sec}"),
    };
    let template = if p.total > 0 {
        format!("{what} {{bar:30}} {count}/{total} [{{elapsed}}, {rate}, eta {{eta}}]")
    } else {
        let unit = match p.unit {
            ProgressUnit::Bytes => "",
            ProgressUnit::Files => " files",
            ProgressUnit::Rows => " rows",
        };
        format!("{{spinner}} {what} {count}{unit} [{{elapsed}}, {rate}]")
    };
    let bar = if p.total > 0 {
        ProgressBar::new(p.total)
    } else {
        ProgressBar::new_spinner()
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
