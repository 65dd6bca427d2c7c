//! `lamella-stress`: many writer processes of the real `lamella` binary on one instance, round
//! after round, on SQLite and PostgreSQL; optionally kills writers with SIGKILL mid-flight.
//! Then checks that nothing any writer was told is saved got lost, that nothing was
//! duplicated, and prints operations, failures and losses. Run it with `cargo xtask stress`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lamella_tests::{Cli, PgDatabase, Run};
use rand::Rng;

const USAGE: &str = "\
Usage: lamella-stress [--rounds N] [--writers W] [--kill] [--backend sqlite|postgres|both]

Each round starts W writer processes at once; each either saves its own content to the shared
key `shared.bin` (a new version), saves content every writer of the round shares (one
artifact), or creates shared and own labels. With --kill, a third of the writers are killed
with SIGKILL after a random delay. Needs LAMELLA_BIN (the lamella binary) and, for
PostgreSQL, LAMELLA_TEST_POSTGRES_URL.";

struct Opts {
    rounds: usize,
    writers: usize,
    kill: bool,
    backends: Vec<&'static str>,
}

fn parse() -> Result<Opts> {
    let mut o = Opts {
        rounds: 20,
        writers: 8,
        kill: false,
        backends: vec!["sqlite", "postgres"],
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match a.as_str() {
            "--rounds" => o.rounds = value("--rounds")?.parse()?,
            "--writers" => o.writers = value("--writers")?.parse()?,
            "--kill" => o.kill = true,
            "--backend" => {
                o.backends = match value("--backend")?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    "both" => vec!["sqlite", "postgres"],
                    other => bail!("unknown backend {other}\n\n{USAGE}"),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n\n{USAGE}"),
        }
    }
    Ok(o)
}

/// What one writer was asked to do.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Op {
    Version,
    SharedContent,
    Labels,
}

#[derive(Default)]
struct Tally {
    ops: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
    killed: usize,
    /// Saves reported as done: uid → content written.
    saved: HashMap<String, String>,
    /// Shared-content saves per round: the uids their callers got.
    shared: HashMap<usize, HashSet<String>>,
    labels_wanted: HashSet<String>,
}

fn main() -> Result<()> {
    let opts = parse()?;
    let bin = PathBuf::from(
        std::env::var("LAMELLA_BIN").context("set LAMELLA_BIN to the lamella binary")?,
    );
    let bin = bin
        .canonicalize()
        .with_context(|| format!("no lamella binary at {}", bin.display()))?;
    println!(
        "lamella-stress: {} rounds × {} writers{}",
        opts.rounds,
        opts.writers,
        if opts.kill {
            ", SIGKILL on a third"
        } else {
            ""
        }
    );
    let mut bad = false;
    for backend in &opts.backends {
        let pg = match *backend {
            "postgres" => match std::env::var("LAMELLA_TEST_POSTGRES_URL") {
                Ok(admin) => Some(PgDatabase::create(&admin)?),
                Err(_) => {
                    println!("{backend}: skipped (LAMELLA_TEST_POSTGRES_URL is not set)");
                    continue;
                }
            },
            _ => None,
        };
        bad |= !stress(&bin, backend, pg.as_ref().map(|p| p.url.as_str()), &opts)?;
    }
    if bad {
        bail!("data was lost or duplicated");
    }
    Ok(())
}

fn stress(bin: &PathBuf, backend: &str, db: Option<&str>, opts: &Opts) -> Result<bool> {
    let cli = Cli::new(bin);
    let mut init = vec!["init", "--storage", "data"];
    if let Some(db) = db {
        init.extend(["--db", db]);
    }
    check(cli.run(&init))?;
    let mut tally = Tally::default();
    let mut rng = rand::rng();
    let started = Instant::now();
    for round in 0..opts.rounds {
        let shared_file = format!("same-{round}.txt");
        std::fs::write(cli.path(&shared_file), format!("shared by round {round}\n"))?;
        let mut children: Vec<(Op, Option<String>, Child, bool)> = Vec::new();
        for w in 0..opts.writers {
            let op = match rng.random_range(0..3) {
                0 => Op::Version,
                1 => Op::SharedContent,
                _ => Op::Labels,
            };
            let (args, content) = match op {
                Op::Version => {
                    let content = format!("round {round} writer {w} {}\n", rng.random::<u64>());
                    let file = format!("v-{round}-{w}.bin");
                    std::fs::write(cli.path(&file), &content)?;
                    (
                        vec!["save".into(), file, "--key".into(), "shared.bin".into()],
                        Some(content),
                    )
                }
                Op::SharedContent => (
                    vec![
                        "save".into(),
                        shared_file.clone(),
                        "--description".into(),
                        format!("round {round} writer {w}"),
                    ],
                    Some(format!("shared by round {round}\n")),
                ),
                Op::Labels => {
                    let names = [
                        format!("shared label {}", round % 5),
                        format!("label of round {round} writer {w}"),
                    ];
                    tally.labels_wanted.extend(names.iter().cloned());
                    let file = format!("labels-{round}-{w}.txt");
                    std::fs::write(cli.path(&file), names.join("\n"))?;
                    (
                        vec!["ulabel".into(), "create".into(), "--from-file".into(), file],
                        None,
                    )
                }
            };
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.push("--json");
            let child = cli
                .command(&args, &[])
                .stdout(Stdio::piped())
                .spawn()
                .context("start lamella")?;
            let kill = opts.kill && rng.random_range(0..3) == 0;
            children.push((op, content, child, kill));
        }
        for (_, _, child, kill) in &mut children {
            if *kill {
                std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
                let _ = Command::new("kill")
                    .args(["-9", &child.id().to_string()])
                    .status();
            }
        }
        for (op, content, child, _) in children {
            let name = match op {
                Op::Version => "save to one key",
                Op::SharedContent => "save shared content",
                Op::Labels => "create labels",
            };
            *tally.ops.entry(name).or_default() += 1;
            let out = child.wait_with_output()?;
            if out.status.code().is_none() {
                tally.killed += 1;
                continue;
            }
            let run = Run::from(out);
            if run.code != 0 {
                tally
                    .failures
                    .push(format!("{name}: {}", run.stderr.trim()));
                continue;
            }
            if op != Op::Labels {
                let uid = run.json()["record"]["uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if op == Op::SharedContent {
                    tally.shared.entry(round).or_default().insert(uid.clone());
                }
                tally.saved.insert(uid, content.unwrap_or_default());
            }
        }
    }
    let elapsed = started.elapsed();
    report(&cli, backend, &tally, elapsed)
}

/// Checks the instance against what the writers were told; prints the figures.
fn report(cli: &Cli, backend: &str, t: &Tally, elapsed: Duration) -> Result<bool> {
    let all = check(cli.run(&["ls", "--trash", "--json"]))?.json();
    let all = all.as_array().cloned().unwrap_or_default();
    let by_uid: HashMap<&str, &serde_json::Value> = all
        .iter()
        .filter_map(|a| Some((a["uid"].as_str()?, a)))
        .collect();
    // Losses: a save that reported success whose row or content is gone.
    let mut lost = Vec::new();
    for (uid, content) in &t.saved {
        if !by_uid.contains_key(uid.as_str()) {
            lost.push(format!("{uid}: no row"));
            continue;
        }
        let out = cli.path(&format!("check-{uid}"));
        let load = cli.run(&["load", uid, "--out", out.to_str().unwrap_or_default()]);
        match std::fs::read_to_string(&out) {
            Ok(c) if c == *content => {}
            _ => lost.push(format!(
                "{uid}: content differs or missing ({})",
                load.stderr.trim()
            )),
        }
    }
    // Duplicates: one artifact per content hash (the default policy), one latest per key.
    let mut hashes: HashMap<&str, usize> = HashMap::new();
    for a in &all {
        *hashes
            .entry(a["hash"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    let duplicated = hashes.values().filter(|n| **n > 1).count();
    let split_shared = t.shared.values().filter(|u| u.len() > 1).count();
    let latest = all
        .iter()
        .filter(|a| a["key"] == "shared.bin" && a["is_latest"] == true)
        .count();
    let versions: Vec<&str> = all
        .iter()
        .filter(|a| a["key"] == "shared.bin")
        .filter_map(|a| a["uid"].as_str())
        .collect();
    let stems: HashSet<&str> = versions.iter().map(|u| &u[..16]).collect();
    let labels = check(cli.run(&["ulabel", "list", "--json"]))?.json();
    let names: Vec<&str> = labels
        .as_array()
        .map(|a| a.iter().filter_map(|l| l["name"].as_str()).collect())
        .unwrap_or_default();
    let unique_names: HashSet<&str> = names.iter().copied().collect();
    let doctor = cli.run(&["doctor", "--json", "--min-age", "0"]).json();
    let missing = doctor["missing"].as_array().map_or(0, Vec::len);
    let leftovers = doctor["orphans"].as_array().map_or(0, Vec::len)
        + doctor["staging"].as_array().map_or(0, Vec::len);
    let ops: usize = t.ops.values().sum();
    println!(
        "\n{backend}: {ops} operations in {:.1} s",
        elapsed.as_secs_f64()
    );
    for (name, n) in &t.ops {
        println!("  {name:<20} {n:>6}");
    }
    println!("  failures             {:>6}", t.failures.len());
    println!("  killed (SIGKILL)     {:>6}", t.killed);
    println!("  artifacts reported   {:>6}", t.saved.len());
    println!("  lost                 {:>6}", lost.len());
    println!("  missing objects      {:>6}", missing);
    println!("  duplicate contents   {:>6}", duplicated);
    println!("  split shared saves   {:>6}", split_shared);
    println!(
        "  shared.bin: {} versions in {} famil{}, {} latest",
        versions.len(),
        stems.len(),
        if stems.len() == 1 { "y" } else { "ies" },
        latest
    );
    println!(
        "  labels: {} rows, {} distinct names, {} of {} wanted",
        names.len(),
        unique_names.len(),
        t.labels_wanted
            .iter()
            .filter(|n| unique_names.contains(n.as_str()))
            .count(),
        t.labels_wanted.len()
    );
    println!("  leftovers of killed saves (doctor --clean removes them): {leftovers}");
    for f in t.failures.iter().take(5) {
        println!("  failure: {f}");
    }
    for l in lost.iter().take(5) {
        println!("  lost: {l}");
    }
    let labels_ok = names.len() == unique_names.len();
    // Killed label writers may not have created their names; surviving ones must have.
    Ok(t.failures.is_empty()
        && lost.is_empty()
        && missing == 0
        && duplicated == 0
        && split_shared == 0
        && stems.len() <= 1
        && (versions.is_empty() || latest == 1)
        && labels_ok)
}

fn check(run: Run) -> Result<Run> {
    if run.code != 0 {
        bail!("lamella failed: {}", run.stderr.trim());
    }
    Ok(run)
}
