//! `lamella-bench`: Lamella's benchmarks, run by `cargo xtask bench` (release build). Prints
//! one aligned table of figures per backend next to LaminDB 2.12's on the same machine.
//!
//! Options: `--quick` (smaller sizes), `--only sqlite|postgres`. PostgreSQL figures need
//! `LAMELLA_TEST_POSTGRES_URL` (xtask sets it).

use std::time::{Duration, Instant};

use anyhow::Result;
use lamella_core::{Instance, ULabel};
use lamella_tests::PgDatabase;

struct Row {
    backend: &'static str,
    what: String,
    time: Duration,
    per: Option<(u64, &'static str)>,
    lamindb: &'static str,
}

fn time<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, Duration)> {
    let t = Instant::now();
    let v = f()?;
    Ok((v, t.elapsed()))
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

fn labels(ln: &Instance, backend: &'static str, big: u64, rows: &mut Vec<Row>) -> Result<()> {
    // 1. construct 10,000 labels with the name check, bulk save
    let names: Vec<ULabel> = (0..10_000)
        .map(|i| ULabel::new(format!("label_{i:05}")))
        .collect();
    let (out, t) = time(|| Ok(ln.ulabels().save_all(names)?))?;
    assert_eq!(out.created, 10_000);
    rows.push(Row {
        backend,
        what: "create 10,000 ULabels (name check + bulk save)".into(),
        time: t,
        per: None,
        lamindb: "~45 s",
    });
    // 2. attach 10,000 children to one parent
    let parent = ln.ulabels().create(ULabel::new("parent"))?;
    let (_, t) = time(|| Ok(ln.ulabels().children(&parent)?.add(&out.records)?))?;
    rows.push(Row {
        backend,
        what: "attach 10,000 children to one parent".into(),
        time: t,
        per: None,
        lamindb: "0.3 s",
    });
    // 3. filter(name__startswith).count() on 10,000 labels
    let n = 200u64;
    let (_, t) = time(|| {
        for i in 0..n {
            let c = ln
                .ulabels()
                .filter("name__startswith", format!("label_0{}", i % 10).as_str())
                .count()?;
            assert_eq!(c, 1000);
        }
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: "filter(name__startswith).count() on 10,000 labels".into(),
        time: t / n as u32,
        per: Some((1, "query")),
        lamindb: "2.3 ms",
    });
    // 4. the same at scale
    let extra = big.saturating_sub(10_001);
    let (_, t) = time(|| {
        let chunk = 100_000u64;
        let mut done = 0;
        while done < extra {
            let k = chunk.min(extra - done);
            let batch: Vec<ULabel> = (done..done + k)
                .map(|i| ULabel::new(format!("bulk_{i:07}")))
                .collect();
            ln.ulabels().save_all(batch)?;
            done += k;
        }
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: format!("create {} more ULabels in batches of 100,000", group(extra)),
        time: t,
        per: None,
        lamindb: "",
    });
    let (_, t) = time(|| {
        for i in 0..n {
            let c = ln
                .ulabels()
                .filter("name__startswith", format!("bulk_00{}", i % 10).as_str())
                .count()?;
            assert!(c > 0);
        }
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: format!("filter(name__startswith).count() on {} labels", group(big)),
        time: t / n as u32,
        per: Some((1, "query")),
        lamindb: "",
    });
    let (_, t) = time(|| Ok(ln.ulabels().create(ULabel::new("one more label"))?))?;
    rows.push(Row {
        backend,
        what: format!("create 1 ULabel with the name check among {}", group(big)),
        time: t,
        per: None,
        lamindb: "",
    });
    Ok(())
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let big: u64 = if quick { 100_000 } else { 1_000_000 };
    let home = tempfile::tempdir()?;
    lamella_core::set_settings_home(home.path());
    let mut rows = Vec::new();

    if only.as_deref().is_none_or(|o| o == "sqlite") {
        let dir = tempfile::tempdir()?;
        let ln = Instance::init(dir.path().join("bench"), None)?;
        labels(&ln, "SQLite", big, &mut rows)?;
    }
    if only.as_deref().is_none_or(|o| o == "postgres") {
        match std::env::var("LAMELLA_TEST_POSTGRES_URL") {
            Ok(url) => {
                let pg = PgDatabase::create(&url)?;
                let dir = tempfile::tempdir()?;
                let ln = Instance::init(dir.path().join("bench"), Some(&pg.url))?;
                labels(&ln, "PostgreSQL", big, &mut rows)?;
            }
            Err(_) => eprintln!(
                "PostgreSQL skipped: LAMELLA_TEST_POSTGRES_URL is not set (use cargo xtask bench)"
            ),
        }
    }

    let w_b = rows
        .iter()
        .map(|r| r.backend.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let w_w = rows.iter().map(|r| r.what.len()).max().unwrap_or(9).max(9);
    println!(
        "{:<w_b$}  {:<w_w$}  {:>12}  {:>10}",
        "backend", "benchmark", "Lamella", "LaminDB"
    );
    println!("{}", "-".repeat(w_b + w_w + 28));
    for r in &rows {
        let t = match r.per {
            Some((_, unit)) => format!("{}/{unit}", fmt_duration(r.time)),
            None => fmt_duration(r.time),
        };
        println!(
            "{:<w_b$}  {:<w_w$}  {:>12}  {:>10}",
            r.backend, r.what, t, r.lamindb
        );
    }
    Ok(())
}
