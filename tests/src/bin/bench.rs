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

/// The median time of one `create` with the name check (5 creates of new names).
fn one_create(ln: &Instance, tag: &str) -> Result<Duration> {
    let mut times = Vec::new();
    for i in 0..5 {
        let name = format!(
            "probe {tag} {}",
            ["alpha", "beta", "gamma", "delta", "omega"][i]
        );
        let (_, t) = time(|| Ok(ln.ulabels().create(ULabel::new(name))?))?;
        times.push(t);
    }
    times.sort();
    Ok(times[2])
}

fn create_row(ln: &Instance, backend: &'static str, n: u64, lamindb: &'static str) -> Result<Row> {
    Ok(Row {
        backend,
        what: format!("create 1 ULabel with the name check among {}", group(n)),
        time: one_create(ln, &group(n))?,
        per: None,
        lamindb,
    })
}

/// `lamella ulabel create NAME` as a whole process (median of 5), on the current instance.
fn cli_create(
    backend: &'static str,
    n: u64,
    home: &std::path::Path,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let Some(bin) = std::env::var_os("LAMELLA_BIN") else {
        eprintln!("CLI figures skipped: LAMELLA_BIN is not set (use cargo xtask bench)");
        return Ok(());
    };
    let mut times = Vec::new();
    for i in 0..5 {
        let (out, t) = time(|| {
            Ok(std::process::Command::new(&bin)
                .env("LAMELLA_HOME", home)
                .args([
                    "ulabel",
                    "create",
                    &format!("cli label {}", ["one", "two", "six", "ten", "red"][i]),
                ])
                .output()?)
        })?;
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        times.push(t);
    }
    times.sort();
    rows.push(Row {
        backend,
        what: format!("`lamella ulabel create` (whole process) among {}", group(n)),
        time: times[2],
        per: None,
        lamindb: "",
    });
    Ok(())
}

fn labels(
    ln: &Instance,
    backend: &'static str,
    big: u64,
    home: &std::path::Path,
    rows: &mut Vec<Row>,
) -> Result<()> {
    // 0. one create among 1,000 labels
    let seed: Vec<ULabel> = (0..1_000)
        .map(|i| ULabel::new(format!("seed_{i:04}")))
        .collect();
    ln.ulabels().save_all(seed)?;
    rows.push(create_row(ln, backend, 1_000, "")?);
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
    let extra = big.saturating_sub(11_006);
    let mut bulk_time = Duration::ZERO;
    let mut at_100k = None;
    let chunk = 100_000u64;
    let mut done = 0;
    while done < extra {
        let k = chunk.min(extra - done);
        let batch: Vec<ULabel> = (done..done + k)
            .map(|i| ULabel::new(format!("bulk_{i:07}")))
            .collect();
        let (_, t) = time(|| Ok(ln.ulabels().save_all(batch)?))?;
        bulk_time += t;
        done += k;
        if at_100k.is_none() && done + 11_006 >= 100_000 {
            at_100k = Some(create_row(ln, backend, done + 11_006, "")?);
        }
    }
    rows.extend(at_100k);
    let t = bulk_time;
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
                .filter("name__startswith", format!("bulk_000{}", i % 9).as_str())
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
    let n = ln.ulabels().query().count()? as u64;
    rows.push(create_row(ln, backend, n, "")?);
    cli_create(backend, n, home, rows)?;
    Ok(())
}

/// `Feature::from_table` on a 200-column table (100 float, 100 categorical string columns).
fn features(ln: &Instance, backend: &'static str, rows: &mut Vec<Row>) -> Result<()> {
    use lamella_core::arrow::array::{ArrayRef, Float64Array, StringArray};
    use lamella_core::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let n = 1_000;
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for c in 0..200 {
        if c % 2 == 0 {
            fields.push(Field::new(
                format!("measure_{c:03}"),
                DataType::Float64,
                false,
            ));
            cols.push(Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| i as f64 * 0.5),
            )));
        } else {
            fields.push(Field::new(format!("group_{c:03}"), DataType::Utf8, false));
            cols.push(Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("g{}", i % 7)),
            )));
        }
    }
    let batch = lamella_core::RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?;
    let (saved, t) = time(|| Ok(ln.features().from_table(&batch)?))?;
    anyhow::ensure!(saved.records.len() == 200);
    rows.push(Row {
        backend,
        what: "Feature::from_table on 200 columns x 1,000 rows (infer + bulk save)".into(),
        time: t,
        per: None,
        lamindb: "0.84 s",
    });
    Ok(())
}

fn table(rows: usize) -> lamella_core::RecordBatch {
    use lamella_core::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use std::sync::Arc;
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "sepal_length",
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| (i % 97) as f64 * 0.001),
            )),
        ),
        (
            "sepal_width",
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| (i % 89) as f64 * 0.001),
            )),
        ),
        (
            "petal_length",
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| (i % 83) as f64 * 0.001),
            )),
        ),
        (
            "n",
            Arc::new(Int64Array::from_iter_values((0..rows).map(|i| i as i64))),
        ),
        (
            "iris_organism_name",
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| ["setosa", "versicolor", "virginica"][i % 3]),
            )),
        ),
    ];
    lamella_core::RecordBatch::try_from_iter(cols).expect("bench table")
}

fn artifacts(ln: &Instance, backend: &'static str, rows: &mut Vec<Row>) -> Result<()> {
    let t = table(1_000_000);
    let (a, d) = time(|| Ok(ln.artifacts().from_table(&t).description("1M x 5").save()?))?;
    rows.push(Row {
        backend,
        what: "1,000,000 x 5 table -> artifact (Parquet + hash + save)".into(),
        time: d,
        per: None,
        lamindb: "~0.6 s",
    });
    let (_, d) = time(|| Ok(ln.artifacts().load(&a)?))?;
    rows.push(Row {
        backend,
        what: "load() of the 1,000,000-row artifact".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    let dir = tempfile::tempdir()?;
    let paths: Vec<std::path::PathBuf> = (0..2000)
        .map(|i| {
            let p = dir.path().join(format!("f{i:04}.txt"));
            let mut body = format!("file {i} ").into_bytes();
            body.resize(1024, b'x');
            std::fs::write(&p, body).map(|_| p)
        })
        .collect::<std::io::Result<_>>()?;
    let (_, d) = time(|| {
        for p in &paths[..1000] {
            ln.artifacts()
                .from_path(p)
                .description("one by one")
                .save()?;
        }
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: "register 1 KB files, one call each".into(),
        time: d / 1000,
        per: Some((1, "file")),
        lamindb: "30 ms",
    });
    let (_, d) = time(|| Ok(ln.artifacts().save_paths(&paths[1000..], Some("batch"))?))?;
    rows.push(Row {
        backend,
        what: "register 1,000 x 1 KB files as one batch".into(),
        time: d,
        per: None,
        lamindb: "30-41 s",
    });
    Ok(())
}

fn hashing(rows: &mut Vec<Row>) -> Result<()> {
    let dir = tempfile::tempdir_in(std::env::current_dir()?)?;
    let big = dir.path().join("big.bin");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big)?);
        let mut block = vec![0u8; 1 << 20];
        for i in 0..1024u32 {
            for (j, b) in block.iter_mut().enumerate() {
                *b = (j as u32).wrapping_mul(2654435761).wrapping_add(i) as u8;
            }
            f.write_all(&block)?;
        }
    }
    let mb = 1024.0;
    let md5sum = |args: &[&std::path::Path]| -> Result<Duration> {
        let t = Instant::now();
        let ok = std::process::Command::new("md5sum")
            .args(args)
            .output()?
            .status
            .success();
        anyhow::ensure!(ok, "md5sum failed");
        Ok(t.elapsed())
    };
    let (_, d) = time(|| Ok(lamella_storage::hash_file_with_chunk_size(&big, u64::MAX)?))?;
    let ref_d = md5sum(&[big.as_path()])?;
    rows.push(Row {
        backend: "-",
        what: format!(
            "md5 of a 1 GiB file: {:.0} MB/s (md5sum {:.0} MB/s)",
            mb / d.as_secs_f64(),
            mb / ref_d.as_secs_f64()
        ),
        time: d,
        per: None,
        lamindb: "",
    });
    let (_, d) = time(|| Ok(lamella_storage::hash_file(&big)?))?;
    rows.push(Row {
        backend: "-",
        what: "hash_file of a 1 GiB file (sha1-fl: first + last 50 MiB)".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder)?;
    let mut files = Vec::new();
    for i in 0..10_000 {
        let p = folder.join(format!("f{i:05}"));
        std::fs::write(&p, vec![(i % 251) as u8; 4096])?;
        files.push(p);
    }
    let (_, d) = time(|| Ok(lamella_storage::hash_folder(&folder)?))?;
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let ref_d = md5sum(&paths)?;
    rows.push(Row {
        backend: "-",
        what: format!(
            "hash a folder of 10,000 x 4 KiB files: {:.0} MB/s (md5sum {:.0} MB/s)",
            40.96 / d.as_secs_f64(),
            40.96 / ref_d.as_secs_f64()
        ),
        time: d,
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
        labels(&ln, "SQLite", big, home.path(), &mut rows)?;
        artifacts(&ln, "SQLite", &mut rows)?;
        features(&ln, "SQLite", &mut rows)?;
        hashing(&mut rows)?;
    }
    if only.as_deref().is_none_or(|o| o == "postgres") {
        match std::env::var("LAMELLA_TEST_POSTGRES_URL") {
            Ok(url) => {
                let pg = PgDatabase::create(&url)?;
                let dir = tempfile::tempdir()?;
                let ln = Instance::init(dir.path().join("bench"), Some(&pg.url))?;
                labels(&ln, "PostgreSQL", big, home.path(), &mut rows)?;
                artifacts(&ln, "PostgreSQL", &mut rows)?;
                features(&ln, "PostgreSQL", &mut rows)?;
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
