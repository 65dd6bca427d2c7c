//! `lamella import lamindb`: interrupted imports, the report for people and for scripts,
//! missing objects, a LaminDB that holds its database locked.

use crate::cli_test;

cli_test!(an_interrupted_import_completes_on_rerun, |env| {
    env.init("data");
    let (_src, root, _) = lamella_tests::lamindb_fixture("2.12").expect("fixture");
    let source = root.display().to_string();
    // killed after the artifacts, before their links and collections
    let crash = env.run_env(
        &["import", "lamindb", &source],
        &[("LAMELLA_FAILPOINT", "abort-import-after-artifacts")],
    );
    assert_ne!(crash.code, 0, "the import was killed");
    let partial = env.run(&["ls", "--json"]).ok().json();
    assert_eq!(
        partial.as_array().map(Vec::len),
        Some(5),
        "the artifacts are in"
    );
    // a rerun completes it
    let done = env.run(&["import", "lamindb", &source]).ok();
    assert!(done.stdout.contains("Imported"), "{}", done.stdout);
    let study0 = env.run(&["ls", "--label", "study0", "--json"]).ok().json();
    assert_eq!(study0.as_array().map(Vec::len), Some(3));
    let members = env
        .run(&[
            "collection",
            "describe",
            "Iris flower study 1 & 2 - transformed",
        ])
        .ok();
    assert!(
        members.stdout.contains("Artifacts (2)"),
        "{}",
        members.stdout
    );
    env.run(&["doctor"]).ok();
    // and a third changes nothing
    let again = env.run(&["import", "lamindb", &source]).ok();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
});

cli_test!(the_report_is_a_table_or_json, |env| {
    env.init("data");
    let (_src, root, _) = lamella_tests::lamindb_fixture("0.72").expect("fixture");
    let source = root.display().to_string();
    let dry = env
        .run(&["import", "lamindb", &source, "--dry-run", "--json"])
        .ok()
        .json();
    assert_eq!(dry["dry_run"], true);
    assert!(
        dry["layout"]
            .as_str()
            .unwrap_or_default()
            .contains("lnschema_core")
    );
    let artifacts = dry["registries"]
        .as_array()
        .expect("registries")
        .iter()
        .find(|c| c["registry"] == "Artifact")
        .expect("artifact counts")
        .clone();
    assert_eq!(artifacts["imported"], 6);
    assert_eq!(
        env.run(&["ls", "--json"]).ok().json(),
        serde_json::json!([])
    );
    let table = env.run(&["import", "lamindb", &source]).ok();
    for line in ["registry", "Artifact", "ULabel", "objects: 6 hard-linked"] {
        assert!(table.stdout.contains(line), "{line}:\n{}", table.stdout);
    }
    assert!(table.stdout.contains("rebased to"), "{}", table.stdout);
});

cli_test!(a_missing_object_is_named_and_the_exit_code_says_so, |env| {
    env.init("data");
    let (_src, root, _) = lamella_tests::lamindb_fixture("2.12").expect("fixture");
    std::fs::remove_file(root.join(".lamindb/zJYsfZgvJBs4G1Go0000.txt")).expect("remove");
    let run = env.run(&["import", "lamindb", &root.display().to_string()]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("zJYsfZgvJBs4G1Go0000"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("missing"), "{}", run.stdout);
    assert!(
        run.stdout.contains("IOt4Dbz1E5geOeqGafFomw"),
        "expected hash: {}",
        run.stdout
    );
});

cli_test!(a_database_locked_by_lamindb_is_a_clear_error, |env| {
    env.init("data");
    let (_src, root, _) = lamella_tests::lamindb_fixture("2.12").expect("fixture");
    let db = root.join(".lamindb/lamin.db");
    // a writer holding the lock, as a running LaminDB mid-save
    let mut holder = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); \
             c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)",
        )
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().expect("stdout")),
        &mut line,
    )
    .expect("the lock");
    assert_eq!(line.trim(), "locked");
    let started = std::time::Instant::now();
    let run = env.run(&["import", "lamindb", &root.display().to_string()]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("locked"), "{}", run.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "no hang"
    );
    assert_eq!(
        env.run(&["ls", "--json"]).ok().json(),
        serde_json::json!([])
    );
});
