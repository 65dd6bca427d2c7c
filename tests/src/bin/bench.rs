//! `lamella-bench`: Lamella's benchmarks, run by `cargo xtask bench` (release build). Prints
//! one aligned table of figures per backend next to LaminDB 2.12's on the same machine.
//!
//! Options: `--quick` (smaller sizes), `--peers` (polars and DuckDB side by side, and LaminDB
//! on SQLite when its Python environment is found, with the ratios and their targets), `--explain` (the plans of the queries by value), `--only sqlite|postgres|s3`, `--group labels|artifacts|
//! features|validation|collections|values|hashing|anndata|import|s3` (repeatable; `s3` needs the test S3
//! server; `anndata` generates its files once with Python's anndata). PostgreSQL figures need
//! `LAMELLA_TEST_POSTGRES_URL` (xtask sets it).

#[path = "bench/anndata.rs"]
mod anndata;
#[path = "bench/import.rs"]
mod import;

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
        let (_, t) = time(|| Ok(ln.ulabels().create(ULabel::new(name)).save()?))?;
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
    // A read-only command, whole process: the fixed cost of every command (connect, check
    // the schema, read the settings) plus one query by label.
    let mut times = Vec::new();
    for _ in 0..11 {
        let (out, t) = time(|| {
            Ok(std::process::Command::new(&bin)
                .env("LAMELLA_HOME", home)
                .args(["ls", "--label", "cli label one", "--json"])
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
        what: "`lamella ls --label L` (whole process, read-only)".into(),
        time: times[5],
        per: None,
        lamindb: if backend == "PostgreSQL" {
            "3.3 ms (query)"
        } else {
            ""
        },
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
    // LaminDB takes about a minute for these: not in --quick runs
    if backend == "SQLite" && big >= 1_000_000 {
        add_lamindb_rows(
            backend,
            &["--labels".as_ref(), "10000".as_ref()],
            &[(
                "labels",
                "ln.save([ln.ULabel(name=…) for 10,000 names])",
                t,
                Some(300.0),
                None,
            )],
            rows,
        );
    }
    // 2. attach 10,000 children to one parent
    let parent = ln.ulabels().create(ULabel::new("parent")).save()?;
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

/// `lamella ulabel create --from-file` of `n` new names in one call, whole process, on a
/// fresh instance (database `db_url`, else SQLite), which becomes the current one: time and
/// peak resident memory.
fn labels_from_file(
    backend: &'static str,
    n: u64,
    db_url: Option<&str>,
    home: &std::path::Path,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    Instance::init(dir.path().join("from-file"), db_url)?;
    let file = dir.path().join("names.txt");
    let mut text = String::with_capacity(n as usize * 16);
    for i in 0..n {
        use std::fmt::Write;
        writeln!(text, "cell_type_{i:07}")?;
    }
    std::fs::write(&file, text)?;
    let Some((t, peak)) = cli_run(
        home,
        &["ulabel", "create", "--from-file", &file.to_string_lossy()],
        1,
    )?
    else {
        return Ok(());
    };
    rows.push(Row {
        backend,
        what: format!(
            "`ulabel create --from-file` of {} new names, one call (whole process, peak {} MB)",
            group(n),
            peak / 1_000_000
        ),
        time: t,
        per: None,
        lamindb: "≤ 20 s, 300 MB",
    });
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
    if backend == "SQLite" {
        // 100 of the same files, one ln.Artifact(path).save() each
        let some = tempfile::tempdir()?;
        for p in &paths[..100] {
            if let Some(name) = p.file_name() {
                std::fs::copy(p, some.path().join(name))?;
            }
        }
        add_lamindb_rows(
            backend,
            &["--small".as_ref(), some.path().as_os_str()],
            &[(
                "register_small_per_file",
                "ln.Artifact(path).save() of 100 of these files, one call each",
                d / 1000,
                None,
                Some((1, "file")),
            )],
            rows,
        );
    }
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

/// A 1M x 5 Parquet file of random numbers written by Lamella (≈ 40 MB), for registering.
fn parquet_file(dir: &std::path::Path, name: &str) -> Result<std::path::PathBuf> {
    use lamella_core::arrow::array::{ArrayRef, Float64Array, Int64Array};
    use rand::Rng as _;
    let mut rng = rand::rng();
    let n = 1_000_000;
    let mut cols: Vec<(String, ArrayRef)> = Vec::new();
    for c in 0..5 {
        let col: ArrayRef = if c % 2 == 0 {
            std::sync::Arc::new(Float64Array::from_iter_values((0..n).map(|_| rng.random())))
        } else {
            std::sync::Arc::new(Int64Array::from_iter_values(
                (0..n).map(|_| rng.random_range(0..1i64 << 40)),
            ))
        };
        cols.push((format!("c{c}"), col));
    }
    let batch = lamella_core::RecordBatch::try_from_iter(cols)?;
    let path = dir.join(name);
    lamella_core::write_parquet([&batch], &path)?;
    Ok(path)
}

/// `md5sum` of `path` as a whole process, the best of three.
fn md5sum_time(path: &std::path::Path) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let ok = std::process::Command::new("md5sum")
            .arg(path)
            .output()?
            .status
            .success();
        anyhow::ensure!(ok, "md5sum failed");
        best = best.min(t.elapsed());
    }
    Ok(best)
}

/// Registering a Parquet file of 1M x 5 (≈ 40 MB) next to `md5sum` of the same file: one
/// read of the file hashes and copies it, so the save should cost little more than the hash.
fn register_file(ln: &Instance, backend: &'static str, rows: &mut Vec<Row>) -> Result<()> {
    let dir = tempfile::tempdir_in(std::env::current_dir()?)?;
    let path = parquet_file(dir.path(), "register.parquet")?;
    let floor = md5sum_time(&path)?;
    let mut best = Duration::MAX;
    for i in 0..3 {
        let (_, d) = time(|| {
            Ok(ln
                .artifacts()
                .from_path(&path)
                .on_duplicate(lamella_core::DuplicatePolicy::CreateNew)
                .description(format!("register {i}"))
                .save()?)
        })?;
        best = best.min(d);
    }
    rows.push(Row {
        backend,
        what: format!(
            "register a 1M x 5 Parquet file ({} MB; md5sum alone {}, ratio {:.2})",
            std::fs::metadata(&path)?.len() / 1_000_000,
            fmt_duration(floor),
            best.as_secs_f64() / floor.as_secs_f64()
        ),
        time: best,
        per: None,
        lamindb: "96 ms",
    });
    if backend == "SQLite" {
        add_lamindb_rows(
            backend,
            &["--parquet".as_ref(), path.as_os_str()],
            &[(
                "register_parquet",
                "ln.Artifact(path).save(), the same file (best of 3)",
                best,
                None,
                None,
            )],
            rows,
        );
    }
    Ok(())
}

/// Saving into S3-compatible storage (the local test server): 1,000 files of 1 KB in one
/// batch, one 200 MB file, a 1M x 5 Parquet file. Skipped without `LAMELLA_TEST_S3_ENDPOINT`.
fn s3(rows: &mut Vec<Row>) -> Result<()> {
    let Some(root) = lamella_tests::s3_root() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("s3.db").display());
    let ln = Instance::init(&root, Some(&url))?;
    let files = tempfile::tempdir_in(std::env::current_dir()?)?;
    let paths: Vec<std::path::PathBuf> = (0..1000)
        .map(|i| {
            let p = files.path().join(format!("f{i:04}.txt"));
            let mut body = format!("s3 file {i} ").into_bytes();
            body.resize(1024, b'x');
            std::fs::write(&p, body).map(|_| p)
        })
        .collect::<std::io::Result<_>>()?;
    let (_, d) = time(|| Ok(ln.artifacts().save_paths(&paths, Some("batch"))?))?;
    rows.push(Row {
        backend: "S3",
        what: "register 1,000 x 1 KB files as one batch".into(),
        time: d,
        per: None,
        lamindb: "28.6 s",
    });
    // One object store request costs milliseconds of server time that varies from run to
    // run: each single-file row is the best of three saves of new content.
    let big = files.path().join("big.bin");
    let mut best = Duration::MAX;
    for run in 0..3u32 {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big)?);
        let mut block = vec![0u8; 1 << 20];
        for i in 0..200u32 {
            for (j, b) in block.iter_mut().enumerate() {
                *b = (j as u32)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(i)
                    .wrapping_add(run * 7) as u8;
            }
            f.write_all(&block)?;
        }
        f.flush()?;
        drop(f);
        let (_, d) = time(|| {
            Ok(ln
                .artifacts()
                .from_path(&big)
                .description(format!("200 MB {run}"))
                .save()?)
        })?;
        best = best.min(d);
    }
    rows.push(Row {
        backend: "S3",
        what: "register one 200 MB file (best of 3)".into(),
        time: best,
        per: None,
        lamindb: "2.71 s",
    });
    let mut best = Duration::MAX;
    for run in 0..3 {
        let pq = parquet_file(files.path(), &format!("s3-{run}.parquet"))?;
        let (_, d) = time(|| {
            Ok(ln
                .artifacts()
                .from_path(&pq)
                .description(format!("1M x 5 {run}"))
                .save()?)
        })?;
        best = best.min(d);
    }
    rows.push(Row {
        backend: "S3",
        what: "register a 1M x 5 Parquet file (best of 3)".into(),
        time: best,
        per: None,
        lamindb: "405 ms",
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

/// The median of `runs` timings of `f`.
fn median<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(time(&mut f)?.1);
    }
    times.sort();
    Ok(times[runs / 2])
}

/// A table of `rows` rows: `floats` float columns (`x_00`, …, in range) and `cats`
/// categorical columns (`c_0`, …) drawing from `labels`.
fn curated_table(
    rows: usize,
    floats: usize,
    cats: usize,
    labels: &[String],
) -> lamella_core::RecordBatch {
    use lamella_core::arrow::array::{ArrayRef, Float64Array, StringArray};
    use std::sync::Arc;
    let mut cols: Vec<(String, ArrayRef)> = Vec::new();
    for c in 0..floats {
        cols.push((
            format!("x_{c:02}"),
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| ((i * 7 + c) % 1000) as f64 * 0.001),
            )),
        ));
    }
    for c in 0..cats {
        cols.push((
            format!("c_{c}"),
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| labels[(i * 31 + c * 17) % labels.len()].as_str()),
            )),
        ));
    }
    lamella_core::RecordBatch::try_from_iter(cols).expect("bench table")
}

/// Validation and annotation: registry validation, the curator at several sizes, labels on
/// one artifact, describe(), and queries by label through a feature.
fn validation(
    ln: &Instance,
    backend: &'static str,
    quick: bool,
    rows: &mut Vec<Row>,
) -> Result<()> {
    use lamella_core::arrow::array::StringArray;
    use lamella_core::{Artifact, Feature};
    let names: Vec<String> = (0..10_000).map(|i| format!("cell type {i:05}")).collect();
    let labels = ln
        .ulabels()
        .save_all(names.iter().map(ULabel::new))?
        .records;
    let mut features: Vec<Feature> = (0..20)
        .map(|c| {
            Feature::new(format!("x_{c:02}"), lamella_core::Dtype::Float)
                .range(Some(0.0), Some(1.0))
        })
        .collect();
    features.extend(
        (0..5).map(|c| Feature::new(format!("c_{c}"), "cat[ULabel]".parse().expect("dtype"))),
    );
    ln.features().save_all(features)?;
    // validate(): 1M values, 10k distinct.
    let values = StringArray::from_iter_values(
        (0..1_000_000).map(|i| names[(i * 31) % names.len()].as_str()),
    );
    let d = median(3, || Ok(ln.ulabels().validate_array(&values)?))?;
    rows.push(Row {
        backend,
        what: "ULabel validate() of 1,000,000 values, 10,000 distinct".into(),
        time: d,
        per: None,
        lamindb: "0.19 s",
    });
    if backend == "SQLite" {
        add_lamindb_rows(
            backend,
            &["--validate".as_ref()],
            &[(
                "validate",
                "ln.ULabel.validate() of the same 1,000,000 values (median of 3)",
                d,
                Some(10.0),
                None,
            )],
            rows,
        );
    }
    // The curator.
    let three: Vec<String> = names[..3].to_vec();
    let t = curated_table(1_000_000, 4, 1, &three);
    let d = median(3, || {
        let r = ln.curator(t.clone()).validate()?;
        anyhow::ensure!(r.valid, "{r}");
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: "curator validate() of 1,000,000 x 5 (4 float with ranges, 1 categorical)".into(),
        time: d,
        per: None,
        lamindb: "0.24 s",
    });
    let small = curated_table(100, 4, 1, &three);
    let d = median(51, || {
        let r = ln.curator(small.clone()).validate()?;
        anyhow::ensure!(r.valid, "{r}");
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: "curator validate() of a 100-row table (per call)".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    if !quick {
        let big = curated_table(10_000_000, 15, 5, &names);
        let d = median(1, || {
            let r = ln.curator(big.clone()).validate()?;
            anyhow::ensure!(r.valid, "{r}");
            Ok(())
        })?;
        rows.push(Row {
            backend,
            what: "curator validate() of 10,000,000 x 20 (5 categorical, 10k labels)".into(),
            time: d,
            per: None,
            lamindb: "",
        });
    }
    // Labels on one artifact, and describe().
    let dir = tempfile::tempdir()?;
    let paths: Vec<std::path::PathBuf> = (0..1005)
        .map(|i| {
            let p = dir.path().join(format!("a{i:04}.txt"));
            std::fs::write(&p, format!("annotated {i}")).map(|_| p)
        })
        .collect::<std::io::Result<_>>()?;
    let saved = ln.artifacts().save_paths(&paths, Some("annotated"))?;
    let arts: Vec<Artifact> = saved.into_iter().map(|s| s.record).collect();
    let cell = ln.features().get_by_name("c_0")?;
    let mut next = 0;
    let d = median(5, || {
        let a = &arts[next];
        next += 1;
        let added = ln
            .artifacts()
            .labels(a)?
            .add(&labels[..1000], Some(&cell))?;
        anyhow::ensure!(added.linked == 1000);
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: "labels().add of 1,000 labels through a feature to one artifact".into(),
        time: d,
        per: None,
        lamindb: "64 ms",
    });
    let d = median(5, || Ok(ln.artifacts().describe(&arts[0])?))?;
    rows.push(Row {
        backend,
        what: "describe() of an artifact with 1,000 labels".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    // 1,000 more artifacts with 3 labels each, then queries by label through the feature.
    for (i, a) in arts[5..].iter().enumerate() {
        let three = [
            labels[i % 10_000].clone(),
            labels[(i * 7) % 10_000].clone(),
            labels[(i * 13) % 10_000].clone(),
        ];
        ln.artifacts().labels(a)?.add(&three, Some(&cell))?;
    }
    let n = 1000;
    let (_, d) = time(|| {
        for i in 0..n {
            let q = ln
                .query::<Artifact>()
                .labelled(&names[(i * 7) % 10_000], Some("c_0"))
                .count()?;
            anyhow::ensure!(q >= 1);
        }
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: "artifacts labelled L through feature F (1,005 annotated artifacts)".into(),
        time: d / n as u32,
        per: Some((1, "query")),
        lamindb: "5.0 ms",
    });
    Ok(())
}

/// The peak resident memory since the last reset (Linux `VmHWM`), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak resident memory (Linux: `echo 5 > /proc/self/clear_refs`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A member of the drifting collection: `rows` rows whose schema depends on `i` (int32 or
/// int64, float32 or float64, dictionary or string, a column missing or extra).
fn drifting_member(i: usize, rows: usize) -> lamella_core::RecordBatch {
    use lamella_core::arrow::array::{
        ArrayRef, DictionaryArray, Float32Array, Float64Array, Int32Array, Int64Array, StringArray,
    };
    use lamella_core::arrow::datatypes::Int32Type;
    use std::sync::Arc;
    let names = ["setosa", "versicolor", "virginica"];
    let mut cols: Vec<(&str, ArrayRef)> = Vec::new();
    cols.push(if i.is_multiple_of(2) {
        (
            "n",
            Arc::new(Int32Array::from_iter_values(
                (0..rows).map(|r| (i * rows + r) as i32),
            )),
        )
    } else {
        (
            "n",
            Arc::new(Int64Array::from_iter_values(
                (0..rows).map(|r| (i * rows + r) as i64),
            )),
        )
    });
    cols.push(if i.is_multiple_of(3) {
        (
            "x",
            Arc::new(Float32Array::from_iter_values(
                (0..rows).map(|r| (r % 100) as f32 * 0.5),
            )),
        )
    } else {
        (
            "x",
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|r| (r % 100) as f64 * 0.5),
            )),
        )
    });
    cols.push(if i.is_multiple_of(2) {
        let d: DictionaryArray<Int32Type> = (0..rows).map(|r| names[r % 3]).collect();
        ("species", Arc::new(d))
    } else {
        (
            "species",
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|r| names[r % 3]),
            )),
        )
    });
    if !i.is_multiple_of(5) {
        cols.push((
            "y",
            Arc::new(Float64Array::from_iter_values((0..rows).map(|r| r as f64))),
        ));
    }
    if i.is_multiple_of(7) {
        cols.push((
            "extra",
            Arc::new(Int64Array::from_iter_values((0..rows).map(|r| r as i64))),
        ));
    }
    lamella_core::RecordBatch::try_from_iter(cols).expect("bench member")
}

/// polars on the same member files (`scan_parquet` → `concat(how="diagonal_relaxed")` →
/// `sink_parquet`), timed inside Python from the first scan to the written file: `None`
/// when `python3` cannot import polars. Returns the time and the process's peak RSS.
fn polars_export(
    paths: &[std::path::PathBuf],
    out: &std::path::Path,
) -> Result<Option<(Duration, u64)>> {
    peer_export(
        "polars",
        "import polars as pl\n\
         pl.concat([pl.scan_parquet(p) for p in paths], how='diagonal_relaxed').sink_parquet(out)\n",
        paths,
        out,
    )
}

/// DuckDB on the same member files (`read_parquet(…, union_by_name=true)` → `COPY … TO`),
/// timed inside Python; `None` when `python3` cannot import duckdb. Time and peak RSS.
fn duckdb_export(
    paths: &[std::path::PathBuf],
    out: &std::path::Path,
) -> Result<Option<(Duration, u64)>> {
    peer_export(
        "duckdb",
        "import duckdb\n\
         duckdb.sql('SET enable_progress_bar = false')\n\
         duckdb.sql(f\"COPY (SELECT * FROM read_parquet({paths!r}, union_by_name=true)) TO '{out}' (FORMAT parquet)\")\n",
        paths,
        out,
    )
}

/// Runs `work` (Python with `out` and `paths` bound) in `python3` when it can import
/// `module`, timing it inside the process; returns the time and the process's peak RSS
/// (VmHWM: `ru_maxrss` would carry this forking bench's own peak).
fn peer_export(
    module: &str,
    work: &str,
    paths: &[std::path::PathBuf],
    out: &std::path::Path,
) -> Result<Option<(Duration, u64)>> {
    if !lamella_tests::python_has(&[module]) {
        return Ok(None);
    }
    let script = format!(
        "import sys, time\n\
         out, paths = sys.argv[1], sys.argv[2:]\n\
         t = time.perf_counter()\n\
         {work}\
         d = time.perf_counter() - t\n\
         hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n\
         print(d, int(hwm) * 1024)\n"
    );
    let run = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out)
        .args(paths)
        .output()?;
    if !run.status.success() {
        anyhow::bail!("{}", String::from_utf8_lossy(&run.stderr));
    }
    let text = String::from_utf8_lossy(&run.stdout);
    let mut parts = text.lines().last().unwrap_or("").split_whitespace();
    let secs: f64 = parts
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}: {module} printed {text:?}"))?;
    let peak: u64 = parts.next().unwrap_or("").parse()?;
    Ok(Some((Duration::from_secs_f64(secs), peak)))
}

/// `ours` against a peer's time: "1.23x polars (target >= 1.25x)", leaked for the table.
/// LaminDB's Python environment (the `bin` folder holding `lamin` and a `python` that imports
/// lamindb), set by `--peers` when one is found: `LAMELLA_TEST_LAMINDB_BIN`, else the one
/// `cargo xtask ci` makes in `target/lamindb-venv`.
static LAMINDB: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

fn find_lamindb() -> Option<std::path::PathBuf> {
    std::env::var_os("LAMELLA_TEST_LAMINDB_BIN")
        .filter(|b| !b.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lamindb-venv/bin")
        })
        .canonicalize()
        .ok()
        .filter(|b| b.join("lamin").is_file() && b.join("python").is_file())
}

/// The workloads `args` asks `tests/python/bench_lamindb.py` for, run by LaminDB in a fresh
/// offline instance (`lamin init`), as seconds by name; `None` without `--peers` or LaminDB.
fn lamindb_peer(args: &[&std::ffi::OsStr]) -> Result<Option<serde_json::Value>> {
    let Some(bin) = LAMINDB.get().cloned().flatten() else {
        return Ok(None);
    };
    let dir = tempfile::tempdir()?;
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run)?;
    let lamin = |program: std::path::PathBuf, args: &[&std::ffi::OsStr]| -> Result<String> {
        let out = std::process::Command::new(&program)
            .args(args)
            .env("LAMIN_SETTINGS_DIR", dir.path().join("settings"))
            .env("LAMIN_CACHE_DIR", dir.path().join("cache"))
            .current_dir(&run)
            .stdin(std::process::Stdio::null())
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let data = dir.path().join("data");
    lamin(
        bin.join("lamin"),
        &["init".as_ref(), "--storage".as_ref(), data.as_os_str()],
    )?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/bench_lamindb.py");
    let mut all: Vec<&std::ffi::OsStr> = vec![script.as_os_str()];
    all.extend_from_slice(args);
    let out = lamin(bin.join("python"), &all)?;
    Ok(Some(serde_json::from_str(
        out.lines().last().unwrap_or_default(),
    )?))
}

/// A LaminDB peer's row: its figure `name` (seconds) from [`lamindb_peer`], and our time's
/// ratio to it (with the target when it sets one).
fn lamindb_row(
    backend: &'static str,
    what: &str,
    figures: &serde_json::Value,
    name: &str,
    ours: Duration,
    target: Option<f64>,
    per: Option<(u64, &'static str)>,
) -> Option<Row> {
    let secs = figures.get(name)?.as_f64()?;
    let peer = Duration::from_secs_f64(secs);
    let shown = match target {
        Some(t) => ratio(ours, peer, "LaminDB", t),
        None => Box::leak(format!("{:.2}x LaminDB", times(ours, peer)).into_boxed_str()),
    };
    Some(Row {
        backend,
        what: format!("  peer: LaminDB 2.12 {what}"),
        time: peer,
        per,
        lamindb: shown,
    })
}

/// One figure of [`lamindb_peer`]'s as a row: its name, what it measures, our time for the
/// same work, the target ratio (if any), and the unit when it is per item.
type Wanted<'a> = (
    &'a str,
    &'a str,
    Duration,
    Option<f64>,
    Option<(u64, &'static str)>,
);

/// Runs [`lamindb_peer`] and adds the rows `wanted`; a LaminDB that fails is reported, never
/// fatal.
fn add_lamindb_rows(
    backend: &'static str,
    args: &[&std::ffi::OsStr],
    wanted: &[Wanted<'_>],
    rows: &mut Vec<Row>,
) {
    match lamindb_peer(args) {
        Ok(Some(figures)) => {
            for (name, what, ours, target, per) in wanted {
                match lamindb_row(backend, what, &figures, name, *ours, *target, *per) {
                    Some(row) => rows.push(row),
                    None => eprintln!("peer LaminDB gave no `{name}`: {figures}"),
                }
            }
        }
        Ok(None) => {}
        Err(e) => eprintln!("peer LaminDB failed: {e:#}"),
    }
}

/// How many times faster than the peer we are.
fn times(ours: Duration, peer: Duration) -> f64 {
    peer.as_secs_f64() / ours.as_secs_f64().max(1e-9)
}

fn ratio(ours: Duration, peer: Duration, name: &str, target: f64) -> &'static str {
    let r = times(ours, peer);
    let verdict = if r >= target { "met" } else { "not met" };
    Box::leak(format!("{r:.2}x {name} (target {target}x: {verdict})").into_boxed_str())
}

/// Collections: load() of 10 x 100k rows, export() and check() of a drifting collection,
/// lineage of a long chain and of a run with many inputs, tracking overhead.
fn collections(
    ln: &Instance,
    backend: &'static str,
    quick: bool,
    peers: bool,
    rows: &mut Vec<Row>,
) -> Result<()> {
    use lamella_core::{Join, LineageOf, Transform};
    let ten: Vec<lamella_core::Artifact> = (0..10)
        .map(|i| {
            let b = table(100_000);
            // distinct contents: shift one column by the member's index
            let b = lamella_core::RecordBatch::try_new(
                b.schema(),
                b.columns()
                    .iter()
                    .enumerate()
                    .map(|(c, a)| {
                        if c == 3 {
                            std::sync::Arc::new(
                                lamella_core::arrow::array::Int64Array::from_iter_values(
                                    (0..100_000i64).map(|r| r + i as i64 * 1_000_000),
                                ),
                            ) as lamella_core::arrow::array::ArrayRef
                        } else {
                            a.clone()
                        }
                    })
                    .collect(),
            )?;
            Ok(ln
                .artifacts()
                .from_table(&b)
                .key(format!("bench/ten/{i}.parquet"))
                .save()?
                .record)
        })
        .collect::<Result<_>>()?;
    let c = ln.collections().create(&ten, "ten x 100k").save()?.record;
    let d = median(5, || {
        Ok(ln.collections().concat(&c).join(Join::Outer).load()?)
    })?;
    rows.push(Row {
        backend,
        what: "collection load() of 10 x 100,000 rows".into(),
        time: d,
        per: None,
        lamindb: "0.39 s",
    });
    // The drifting collection.
    let (members, member_rows) = if quick {
        (10, 1_000_000)
    } else {
        (100, 1_000_000)
    };
    let drift: Vec<lamella_core::Artifact> = (0..members)
        .map(|i| {
            Ok(ln
                .artifacts()
                .from_table(&drifting_member(i, member_rows))
                .key(format!("bench/drift/{i:03}.parquet"))
                .save()?
                .record)
        })
        .collect::<Result<_>>()?;
    let dc = ln.collections().create(&drift, "drifting").save()?.record;
    let d = median(3, || {
        Ok(ln.collections().concat(&dc).join(Join::Outer).check()?)
    })?;
    rows.push(Row {
        backend,
        what: format!("collection check() of {members} x 1M drifting members"),
        time: d,
        per: None,
        lamindb: "",
    });
    let out = tempfile::tempdir()?;
    reset_peak_rss();
    let before = peak_rss();
    let (res, d) = time(|| {
        Ok(ln.collections().concat(&dc).join(Join::Outer).export(
            &out.path().join("all.parquet"),
            lamella_core::Existing::Refuse,
        )?)
    })?;
    let peak = peak_rss();
    rows.push(Row {
        backend,
        what: format!(
            "export() of {members} x 1M drifting members to one Parquet ({} rows; peak RSS {} MB{})",
            res.0,
            peak.map_or("?".to_string(), |p| (p / 1_000_000).to_string()),
            before.map_or(String::new(), |b| format!(", {} MB before", b / 1_000_000))
        ),
        time: d,
        per: None,
        lamindb: "",
    });
    // The same files through polars, when this machine's Python has it.
    let paths: Vec<std::path::PathBuf> = drift
        .iter()
        .map(|a| Ok(ln.artifacts().cache(a)?))
        .collect::<Result<_>>()?;
    if peers {
        let ours = d;
        match polars_export(&paths, &out.path().join("polars.parquet")) {
            Ok(Some((d, peak))) => rows.push(Row {
                backend,
                what: format!(
                    "  peer: polars scan_parquet → concat(diagonal_relaxed) → sink_parquet, same files (peak RSS {} MB)",
                    peak / 1_000_000
                ),
                time: d,
                per: None,
                lamindb: ratio(ours, d, "polars", 1.25),
            }),
            Ok(None) => eprintln!("peer polars not found: python3 cannot import polars"),
            Err(e) => eprintln!("peer polars failed: {e:#}"),
        }
        match duckdb_export(&paths, &out.path().join("duckdb.parquet")) {
            Ok(Some((d, peak))) => rows.push(Row {
                backend,
                what: format!(
                    "  peer: DuckDB read_parquet(union_by_name) → COPY TO parquet, same files (peak RSS {} MB)",
                    peak / 1_000_000
                ),
                time: d,
                per: None,
                lamindb: ratio(ours, d, "DuckDB", 1.0),
            }),
            Ok(None) => eprintln!("peer DuckDB not found: python3 cannot import duckdb"),
            Err(e) => eprintln!("peer DuckDB failed: {e:#}"),
        }
    }
    // Lineage: a 50-step chain, and a run with 10,000 inputs.
    let mut prev: Option<lamella_core::Artifact> = None;
    let dir = tempfile::tempdir()?;
    for step in 0..50 {
        ln.track(Transform::new(format!("chain step {step}")))?;
        if let Some(p) = &prev {
            ln.artifacts().cache(p)?;
        }
        let f = dir.path().join(format!("chain{step}.txt"));
        std::fs::write(&f, format!("step {step}"))?;
        prev = Some(
            ln.artifacts()
                .from_path(&f)
                .key(format!("bench/chain/{step}.txt"))
                .save()?
                .record,
        );
        ln.finish()?;
    }
    let last = prev.expect("chain");
    let d = median(5, || {
        Ok(ln.lineage(
            LineageOf::Artifact(&last),
            200,
            lamella_core::Direction::Upstream,
        )?)
    })?;
    rows.push(Row {
        backend,
        what: "lineage() of the end of a 50-step chain".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    let inputs = if quick { 1_000 } else { 10_000 };
    let paths: Vec<std::path::PathBuf> = (0..inputs)
        .map(|i| {
            let p = dir.path().join(format!("in{i:05}.txt"));
            std::fs::write(&p, format!("input {i}")).map(|_| p)
        })
        .collect::<std::io::Result<_>>()?;
    let saved = ln.artifacts().save_paths(&paths, Some("bench/inputs"))?;
    ln.track(Transform::new("many inputs"))?;
    for s in &saved {
        ln.artifacts().cache(&s.record)?;
    }
    let f = dir.path().join("fan-in.txt");
    std::fs::write(&f, "fan in")?;
    let fan = ln
        .artifacts()
        .from_path(&f)
        .key("bench/fan-in.txt")
        .save()?
        .record;
    ln.finish()?;
    let (l, d) = time(|| {
        Ok(ln.lineage(
            LineageOf::Artifact(&fan),
            5,
            lamella_core::Direction::Upstream,
        )?)
    })?;
    let (g, dg) = time(|| Ok(l.graph(5)))?;
    rows.push(Row {
        backend,
        what: format!(
            "lineage() + graph of a run with {inputs} inputs ({} nodes drawn)",
            g.len()
        ),
        time: d + dg,
        per: None,
        lamindb: "",
    });
    // Tracking overhead: track + one save + finish.
    let n = 20;
    let (_, d) = time(|| {
        for i in 0..n {
            ln.track(Transform::new("overhead"))?;
            let f = dir.path().join(format!("o{i}.txt"));
            std::fs::write(&f, format!("overhead {i}"))?;
            ln.artifacts()
                .from_path(&f)
                .key(format!("bench/overhead/{i}.txt"))
                .save()?;
            ln.finish()?;
        }
        Ok(())
    })?;
    rows.push(Row {
        backend,
        what: "track() + save of a small file + finish(), per run".into(),
        time: d / n,
        per: Some((1, "run")),
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
    // `--peers`: the same workloads through polars and DuckDB where python3 has them, each
    // ratio next to its target (LaminDB's figures, measured on this kind of machine, are in
    // the last column).
    let peers = args.iter().any(|a| a == "--peers");
    if peers {
        let mut found: Vec<String> = ["polars", "duckdb"]
            .into_iter()
            .filter(|m| lamella_tests::python_has(&[m]))
            .map(String::from)
            .collect();
        let lamindb = find_lamindb();
        if let Some(bin) = &lamindb {
            found.push(format!("LaminDB ({})", bin.display()));
        }
        let _ = LAMINDB.set(lamindb);
        eprintln!(
            "peers found: {} (LaminDB's column: the issue's figures, measured on this kind of \
             machine; the peer rows are measured now, SQLite only)",
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            }
        );
    }
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let big: u64 = if quick { 100_000 } else { 1_000_000 };
    // `--group NAME` (repeatable) runs only those groups: labels, artifacts, features,
    // validation, collections, values, hashing, anndata, import, s3.
    let groups: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "--group")
        .map(|w| w[1].clone())
        .collect();
    let wanted = |g: &str| groups.is_empty() || groups.iter().any(|x| x == g);
    let home = tempfile::tempdir()?;
    lamella_core::set_settings_home(home.path());
    let mut rows = Vec::new();

    if only.as_deref().is_none_or(|o| o == "sqlite") {
        let dir = tempfile::tempdir()?;
        let ln = Instance::init(dir.path().join("bench"), None)?;
        if wanted("labels") {
            labels(&ln, "SQLite", big, home.path(), &mut rows)?;
            labels_from_file("SQLite", big, None, home.path(), &mut rows)?;
        }
        if wanted("artifacts") {
            artifacts(&ln, "SQLite", &mut rows)?;
            register_file(&ln, "SQLite", &mut rows)?;
        }
        if wanted("features") {
            features(&ln, "SQLite", &mut rows)?;
        }
        if wanted("validation") {
            let dir = tempfile::tempdir()?;
            let fresh = Instance::init(dir.path().join("validation"), None)?;
            validation(&fresh, "SQLite", quick, &mut rows)?;
        }
        if wanted("collections") {
            let dir = tempfile::tempdir()?;
            let fresh = Instance::init(dir.path().join("collections"), None)?;
            collections(&fresh, "SQLite", quick, peers, &mut rows)?;
        }
        if wanted("values") {
            let dir = tempfile::tempdir()?;
            let fresh = Instance::init(dir.path().join("values"), None)?;
            values(&fresh, "SQLite", quick, home.path(), &mut rows)?;
            if std::env::var_os("LAMELLA_BENCH_KEEP").is_some() {
                // For profiling: the instance stays, current in this settings home.
                eprintln!(
                    "kept: LAMELLA_HOME={} (instance {})",
                    home.path().display(),
                    dir.keep().display()
                );
                std::mem::forget(home);
                return Ok(());
            }
        }
        if wanted("hashing") {
            hashing(&mut rows)?;
        }
        if wanted("anndata") {
            let dir = tempfile::tempdir()?;
            let fresh = Instance::init(dir.path().join("anndata"), None)?;
            anndata::anndata(&fresh, "SQLite", quick, peers, &mut rows)?;
        }
        if wanted("import") {
            let dir = tempfile::tempdir()?;
            let fresh = Instance::init(dir.path().join("import"), None)?;
            import::import(&fresh, "SQLite", quick, &mut rows)?;
        }
    }
    if wanted("s3") && only.as_deref().is_none_or(|o| o == "s3") {
        s3(&mut rows)?;
    }
    if only.as_deref().is_none_or(|o| o == "postgres") {
        match std::env::var("LAMELLA_TEST_POSTGRES_URL") {
            Ok(url) => {
                let pg = PgDatabase::create(&url)?;
                let dir = tempfile::tempdir()?;
                let ln = Instance::init(dir.path().join("bench"), Some(&pg.url))?;
                if wanted("labels") {
                    labels(&ln, "PostgreSQL", big, home.path(), &mut rows)?;
                    let pg7 = PgDatabase::create(&url)?;
                    labels_from_file("PostgreSQL", big, Some(&pg7.url), home.path(), &mut rows)?;
                }
                if wanted("artifacts") {
                    artifacts(&ln, "PostgreSQL", &mut rows)?;
                }
                if wanted("features") {
                    features(&ln, "PostgreSQL", &mut rows)?;
                }
                if wanted("validation") {
                    let pg2 = PgDatabase::create(&url)?;
                    let dir = tempfile::tempdir()?;
                    let fresh = Instance::init(dir.path().join("validation"), Some(&pg2.url))?;
                    validation(&fresh, "PostgreSQL", quick, &mut rows)?;
                }
                if wanted("collections") {
                    let pg3 = PgDatabase::create(&url)?;
                    let dir = tempfile::tempdir()?;
                    let fresh = Instance::init(dir.path().join("collections"), Some(&pg3.url))?;
                    collections(&fresh, "PostgreSQL", quick, peers, &mut rows)?;
                }
                if wanted("anndata") {
                    let pg5 = PgDatabase::create(&url)?;
                    let dir = tempfile::tempdir()?;
                    let fresh = Instance::init(dir.path().join("anndata"), Some(&pg5.url))?;
                    anndata::anndata(&fresh, "PostgreSQL", quick, false, &mut rows)?;
                }
                if wanted("import") {
                    let pg6 = PgDatabase::create(&url)?;
                    let dir = tempfile::tempdir()?;
                    let fresh = Instance::init(dir.path().join("import"), Some(&pg6.url))?;
                    import::import(&fresh, "PostgreSQL", quick, &mut rows)?;
                }
                if wanted("values") {
                    let pg4 = PgDatabase::create(&url)?;
                    let dir = tempfile::tempdir()?;
                    let fresh = Instance::init(dir.path().join("values"), Some(&pg4.url))?;
                    values(&fresh, "PostgreSQL", quick, home.path(), &mut rows)?;
                }
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

/// Runs the `lamella` CLI on the current instance (`LAMELLA_HOME`), median of `runs`; with
/// the process's peak resident memory (the largest `VmHWM` seen while it ran, sampled every
/// millisecond). `None` when `LAMELLA_BIN` is not set.
fn cli_run(home: &std::path::Path, args: &[&str], runs: usize) -> Result<Option<(Duration, u64)>> {
    let Some(bin) = std::env::var_os("LAMELLA_BIN") else {
        return Ok(None);
    };
    let mut times = Vec::new();
    let mut peak = 0u64;
    for _ in 0..runs {
        let t = Instant::now();
        let mut child = std::process::Command::new(&bin)
            .env("LAMELLA_HOME", home)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let status_file = format!("/proc/{}/status", child.id());
        let status = loop {
            if let Ok(s) = std::fs::read_to_string(&status_file)
                && let Some(kb) = s
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
            if let Some(status) = child.try_wait()? {
                break status;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let elapsed = t.elapsed();
        if !status.success() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                e.read_to_string(&mut err)?;
            }
            anyhow::bail!("lamella {}: {err}", args.join(" "));
        }
        times.push(elapsed);
    }
    times.sort();
    Ok(Some((times[runs / 2], peak)))
}

/// Feature values (issue 17): `n` artifacts with 5 values each (2 categorical, 3 typed),
/// written in one bulk call, then queried by value and read as a table of features.
fn values(
    ln: &Instance,
    backend: &'static str,
    quick: bool,
    home: &std::path::Path,
    rows: &mut Vec<Row>,
) -> Result<()> {
    use lamella_core::{Artifact, Feature, Value, ValueMap};
    let n: usize = if quick { 10_000 } else { 100_000 };
    let splits = ["train", "test", "validation"];
    let tissues = [
        "liver", "lung", "heart", "brain", "kidney", "skin", "blood", "bone",
    ];
    ln.ulabels()
        .save_all(splits.iter().chain(&tissues).map(|s| ULabel::new(*s)))?;
    for (name, dtype) in [
        ("split", "cat"),
        ("tissue", "cat"),
        ("temperature", "float"),
        ("donors", "int"),
        ("measured_on", "date"),
    ] {
        ln.features()
            .create(Feature::new(name, dtype.parse()?))
            .save()?;
    }
    let dir = tempfile::tempdir()?;
    let paths: Vec<std::path::PathBuf> = (0..n)
        .map(|i| {
            let p = dir.path().join(format!("v{i:06}.txt"));
            std::fs::write(&p, format!("values {i}")).map(|_| p)
        })
        .collect::<std::io::Result<_>>()?;
    let (arts, d) = time(|| {
        let mut arts: Vec<Artifact> = Vec::with_capacity(n);
        for chunk in paths.chunks(10_000) {
            arts.extend(
                ln.artifacts()
                    .save_paths(chunk, None)?
                    .into_iter()
                    .map(|s| s.record),
            );
        }
        Ok(arts)
    })?;
    rows.push(Row {
        backend,
        what: format!(
            "(set-up) register {} small files as artifacts",
            group(n as u64)
        ),
        time: d,
        per: None,
        lamindb: "",
    });
    let maps: Vec<ValueMap> = (0..n)
        .map(|i| {
            vec![
                ("split".to_string(), Value::from(splits[i % 3])),
                ("tissue".to_string(), Value::from(tissues[i % 8])),
                (
                    "temperature".to_string(),
                    Value::from((i % 500) as f64 / 10.0),
                ),
                ("donors".to_string(), Value::from((i % 997) as i64)),
                (
                    "measured_on".to_string(),
                    Value::from(format!("2025-{:02}-{:02}", 1 + i % 12, 1 + i % 28).as_str()),
                ),
            ]
        })
        .collect();
    let items: Vec<(&Artifact, ValueMap)> = arts.iter().zip(maps).collect();
    let (added, d) = time(|| Ok(ln.artifacts().add_values_many(&items)?))?;
    anyhow::ensure!(added.values == 3 * n, "{} values added", added.values);
    rows.push(Row {
        backend,
        what: format!(
            "add_values of {} maps x 5 values, one call",
            group(n as u64)
        ),
        time: d,
        per: None,
        lamindb: "",
    });
    let q = 200;
    let d = median(q, || {
        let found = ln.artifacts().filter("donors", 123).all()?;
        anyhow::ensure!(!found.is_empty());
        Ok(found)
    })?;
    rows.push(Row {
        backend,
        what: format!("query by one value (donors=123) among {}", group(n as u64)),
        time: d,
        per: None,
        lamindb: "",
    });
    let d = median(q, || {
        let found = ln
            .artifacts()
            .filter("temperature__gte", 30)
            .filter("measured_on__gte", "2025-06-01")
            .labelled("liver", None)
            .all()?;
        anyhow::ensure!(!found.is_empty());
        Ok(found)
    })?;
    if std::env::args().any(|a| a == "--explain") {
        let q1 = ln.artifacts().filter("donors", 123);
        let q2 = ln
            .artifacts()
            .filter("temperature__gte", 30)
            .filter("measured_on__gte", "2025-06-01")
            .labelled("liver", None);
        for (what, q) in [("donors=123", q1), ("two values and a label", q2)] {
            eprintln!("{backend}: plan of the query by {what}:");
            for line in q.explain()? {
                eprintln!("    {line}");
            }
        }
    }
    let d_selective = median(q, || {
        let found = ln
            .artifacts()
            .filter("donors", 123)
            .filter("measured_on__gte", "2025-06-01")
            .labelled("liver", None)
            .all()?;
        Ok(found)
    })?;
    rows.push(Row {
        backend,
        what: "query by two values and a label (donors=123, a date range, a label)".into(),
        time: d_selective,
        per: None,
        lamindb: "",
    });
    rows.push(Row {
        backend,
        what: "query by two values and a label, each matching 12-58% (1,667 hits)".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    reset_peak_rss();
    let before = peak_rss().unwrap_or(0);
    let (t, d) = time(|| Ok(ln.artifacts().query().df_with_features(&[])?))?;
    anyhow::ensure!(t.num_rows() == n, "{} rows", t.num_rows());
    let grew = peak_rss().unwrap_or(0).saturating_sub(before);
    rows.push(Row {
        backend,
        what: format!(
            "df_with_features of {} x 5 (in process, +{} MB)",
            group(n as u64),
            grew >> 20
        ),
        time: d,
        per: None,
        lamindb: "",
    });
    if let Some((d, peak)) = cli_run(home, &["ls", "--features", "--json"], 3)? {
        rows.push(Row {
            backend,
            what: format!(
                "`lamella ls --features --json` of {} x 5 (whole process, peak {} MB)",
                group(n as u64),
                peak >> 20
            ),
            time: d,
            per: None,
            lamindb: "",
        });
    }
    if let Some((d, peak)) = cli_run(home, &["ls", "--features"], 3)? {
        rows.push(Row {
            backend,
            what: format!(
                "`lamella ls --features` (table) of {} x 5 (whole process, peak {} MB)",
                group(n as u64),
                peak >> 20
            ),
            time: d,
            per: None,
            lamindb: "",
        });
    }
    // describe of an artifact with 50 values
    let many: Vec<Feature> = (0..50)
        .map(|i| Feature::new(format!("reading_{i:02}"), "float".parse().expect("dtype")))
        .collect();
    for f in many {
        ln.features().create(f).save()?;
    }
    let fifty: ValueMap = (0..50)
        .map(|i| (format!("reading_{i:02}"), Value::from(i as f64 * 1.5)))
        .collect();
    ln.artifacts().features(&arts[0])?.add_values(fifty)?;
    let d = median(51, || {
        let desc = ln.artifacts().describe(&arts[0])?;
        anyhow::ensure!(!desc.features.is_empty());
        Ok(desc)
    })?;
    rows.push(Row {
        backend,
        what: "describe() of an artifact with 55 values".into(),
        time: d,
        per: None,
        lamindb: "",
    });
    Ok(())
}
