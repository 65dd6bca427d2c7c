//! Hostile or odd input gets a clear error or succeeds — never an abort, a hang, unbounded
//! memory, or bytes that reach the terminal unescaped.

use std::time::{Duration, Instant};

use crate::{assert_error, cli_test};

cli_test!(control_characters_in_names_are_refused, |env| {
    env.init("data");
    // (a NUL cannot pass through a command line; the library test covers it)
    for bad in ["\u{1b}[31mred\u{1b}[0m", "bell\u{7}", "new\nline"] {
        let run = env.run(&["ulabel", "create", bad]);
        assert_error(&run, "control character");
        assert!(!run.stderr.contains('\u{1b}'), "escaped in the error too");
        let run = env.run(&["feature", "create", bad, "--dtype", "int"]);
        assert_error(&run, "control character");
    }
    let run = env.run(&["ulabel", "create", "ok", "--description", "a\u{1b}b"]);
    assert_error(&run, "control character");
    assert_eq!(
        env.run(&["ulabel", "list", "--json"]).ok().json(),
        serde_json::json!([])
    );
    // Data shown from a table is escaped, not sent to the terminal.
    std::fs::write(env.path("t.csv"), "name,n\n\u{1b}[2Jwiped,1\n").unwrap();
    let saved = env.run(&["save", "t.csv", "--key", "t.csv"]).ok();
    assert!(!saved.stdout.contains('\u{1b}'));
    let head = env.run(&["load", "--key", "t.csv"]).ok();
    assert!(!head.stdout.contains('\u{1b}'), "{:?}", head.stdout);
    assert!(head.stdout.contains("\\u{1b}[2Jwiped"), "{}", head.stdout);
});

cli_test!(searches_answer_fast_whatever_the_query, |env| {
    env.init("data");
    let names: Vec<String> = (0..20_000).map(|i| format!("label {i} of many")).collect();
    std::fs::write(env.path("names.txt"), names.join("\n")).unwrap();
    env.run(&["ulabel", "create", "--from-file", "names.txt"])
        .ok();
    let long = "q".repeat(5_000);
    let t = Instant::now();
    let run = env.run(&["ulabel", "search", &long, "--json"]).ok();
    assert_eq!(run.json(), serde_json::json!([]));
    let huge = "z".repeat(20_000);
    let run = env.run(&["ulabel", "parents", &huge]);
    assert_error(&run, "no ULabel");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "two searches took {:?}",
        t.elapsed()
    );
    // A name over the length limit is refused with the limit named.
    let run = env.run(&["ulabel", "create", &huge]);
    assert_error(&run, "at most 1000");
    // Close spellings still match.
    let hits = env
        .run(&["ulabel", "search", "lable 7 of many", "--json"])
        .ok()
        .json();
    assert_eq!(hits[0]["record"]["name"], "label 7 of many", "{hits}");
});

#[cfg(unix)]
cli_test!(folders_follow_file_links_and_never_loop, |env| {
    use std::os::unix::fs::symlink;
    env.init("data");
    let d = env.path("images");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(d.join("a.txt"), "a\n").unwrap();
    std::fs::write(d.join("sub/b.txt"), "b\n").unwrap();
    std::fs::write(env.path("outside.txt"), "linked file\n").unwrap();
    symlink(env.path("outside.txt"), d.join("link.txt")).unwrap();
    symlink("..", d.join("sub/loop")).unwrap(); // a loop back to images/
    symlink("/etc", d.join("etc")).unwrap(); // a link out of the folder
    // `save DIR` and `save --each DIR` take the same three files.
    let folder = env
        .run(&["save", "images", "--key", "images", "--json"])
        .ok()
        .json();
    assert_eq!(folder["record"]["n_objects"], 3, "{folder}");
    let notes = folder["notes"].to_string();
    assert!(
        notes.contains("links to folders are not followed"),
        "{notes}"
    );
    let each = env.run(&["save", "images", "--each", "--json"]).ok();
    assert!(
        each.stderr.contains("etc"),
        "the skipped links are named: {}",
        each.stderr
    );
    let each = each.json();
    let keys: Vec<&str> = each["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["images/a.txt", "images/link.txt", "images/sub/b.txt"]
    );
    // A dangling link is an error naming it; nothing is saved.
    symlink(env.path("gone.txt"), d.join("dangling.txt")).unwrap();
    assert_error(
        &env.run(&["save", "images", "--key", "images2"]),
        "dangling.txt",
    );
    assert_error(&env.run(&["save", "images", "--each"]), "dangling.txt");
});

cli_test!(a_folder_holding_the_instance_is_refused, |env| {
    std::fs::create_dir_all(env.path("work")).unwrap();
    env.init("work/data");
    std::fs::write(env.path("work/notes.txt"), "n\n").unwrap();
    for args in [
        &["save", "work", "--key", "work"][..],
        &["save", "work", "--each"],
        &["save", ".", "--key", "all"],
    ] {
        assert_error(&env.run(args), "Lamella's own database and objects");
    }
    assert_eq!(
        env.run(&["ls", "--json"]).ok().json(),
        serde_json::json!([])
    );
});

cli_test!(tables_are_checked_when_saved, |env| {
    env.init("data");
    std::fs::write(env.path("fake.parquet"), "this is not parquet at all").unwrap();
    let run = env.run(&["save", "fake.parquet", "--key", "fake.parquet"]);
    assert_error(&run, "fake.parquet");
    assert!(run.stderr.contains("not a Parquet file"), "{}", run.stderr);
    std::fs::write(env.path("ragged.csv"), "a,b\n1,2\n3\n4,5\n").unwrap();
    let run = env.run(&["save", "ragged.csv", "--key", "ragged.csv"]);
    assert_error(&run, "line 3 has 1 field, the header has 2");
    // --each checks every table before anything is saved
    std::fs::create_dir_all(env.path("batch")).unwrap();
    std::fs::write(env.path("batch/good.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(env.path("batch/bad.csv"), "a,b\n1,2,3\n").unwrap();
    assert_error(&env.run(&["save", "batch", "--each"]), "bad.csv");
    assert_eq!(
        env.run(&["ls", "--json"]).ok().json(),
        serde_json::json!([])
    );
    // a good CSV counts its rows
    let ok = env
        .run(&["save", "batch/good.csv", "--key", "good.csv", "--json"])
        .ok()
        .json();
    assert_eq!(ok["record"]["n_observations"], 1, "{ok}");
});

cli_test!(zoned_timestamps_load_and_convert, |env| {
    env.init("data");
    std::fs::write(
        env.path("times.csv"),
        "at,n\n2024-01-01T10:00:00+01:00,1\n2024-06-01T10:00:00+02:00,2\n",
    )
    .unwrap();
    let saved = env
        .run(&["save", "times.csv", "--key", "times.csv", "--json"])
        .ok()
        .json();
    let uid = saved["record"]["uid"].as_str().unwrap().to_string();
    let pq = env.path("times.parquet");
    env.run(&["load", &uid, "--out", pq.to_str().unwrap()]).ok();
    // the Parquet file holds timestamps (instants), not bare integers
    let pq_saved = env
        .run(&["save", "times.parquet", "--key", "times.parquet", "--json"])
        .ok()
        .json();
    let head = env
        .run(&[
            "load",
            pq_saved["record"]["uid"].as_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    let first = head["head"][0]["at"].to_string();
    assert!(
        first.contains("2024-01-01T09:00:00"),
        "UTC instant kept: {head}"
    );
    let csv = env.path("back.csv");
    env.run(&[
        "load",
        pq_saved["record"]["uid"].as_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ])
    .ok();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("2024-01-01T09:00:00"), "{text}");
    // an existing --out is refused and left alone
    assert_error(
        &env.run(&["load", &uid, "--out", csv.to_str().unwrap()]),
        "already exists",
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), text);
});

cli_test!(zarr_stores_are_anndata_on_the_command_line, |env| {
    env.init("data");
    let Some(dir) = lamella_tests::anndata_fixtures() else {
        return;
    };
    for store in ["dense.zarr", "typos.zarr"] {
        let copied = std::process::Command::new("cp")
            .arg("-r")
            .arg(dir.join(store))
            .arg(env.path(store))
            .status()
            .unwrap();
        assert!(copied.success());
    }
    let saved = env
        .run(&["save", "dense.zarr", "--key", "sc/dense.zarr", "--json"])
        .ok()
        .json();
    assert_eq!(saved["record"]["accessor"], "AnnData", "{saved}");
    assert_eq!(saved["record"]["n_observations"], 6, "{saved}");
    let uid = saved["record"]["uid"].as_str().unwrap().to_string();
    let shown = env.run(&["load", &uid]).ok().stdout;
    assert!(
        shown.contains("AnnData: 6 obs × 4 vars") && shown.contains("cell0"),
        "{shown}"
    );
    let out = env.path("obs.parquet");
    env.run(&["load", &uid, "--obs", "--out", out.to_str().unwrap()])
        .ok();
    assert!(out.exists());
    env.run(&["feature", "from-file", "dense.zarr", "--var", "--save"])
        .ok();
    let run = env.run(&["validate", "typos.zarr"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("cd14") && run.stdout.contains("CD14"),
        "{}",
        run.stdout
    );
});

cli_test!(broken_anndata_files_are_one_line_errors, |env| {
    env.init("data");
    let Some(dir) = lamella_tests::anndata_fixtures() else {
        return;
    };
    for f in ["truncated.h5ad", "bad_codes.h5ad", "not_anndata.h5"] {
        std::fs::copy(dir.join(f), env.path(f)).unwrap();
    }
    std::fs::rename(env.path("not_anndata.h5"), env.path("plain.h5ad")).unwrap();
    let run = env.run(&["save", "truncated.h5ad"]);
    assert_error(&run, "truncated or corrupt");
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    let run = env.run(&["feature", "from-file", "plain.h5ad"]);
    assert_error(&run, "not AnnData");
    // A code outside the categories: saved (the summary reads types), its obs refused.
    env.run(&["save", "bad_codes.h5ad", "--key", "bad.h5ad"])
        .ok();
    let run = env.run(&["load", "--key", "bad.h5ad", "--obs"]);
    assert_error(&run, "obs/cell_type/codes");
    let run = env.run(&["validate", "bad_codes.h5ad"]);
    assert_error(&run, "outside the 3 categories");
    // A folder named .zarr that is no Zarr store, and a Zarr store that is not AnnData.
    std::fs::create_dir_all(env.path("cells.zarr")).unwrap();
    let run = env.run(&["validate", "cells.zarr"]);
    assert_error(&run, "not a Zarr store");
    std::fs::create_dir_all(env.path("image.zarr/0")).unwrap();
    std::fs::write(env.path("image.zarr/.zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    std::fs::write(env.path("image.zarr/0/.zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    let run = env.run(&["validate", "image.zarr"]);
    assert_error(&run, "not AnnData: it has no `obs`");
    // Corrupt metadata: one line naming the store and the element.
    std::fs::create_dir_all(env.path("broken.zarr/obs")).unwrap();
    std::fs::create_dir_all(env.path("broken.zarr/var")).unwrap();
    std::fs::write(env.path("broken.zarr/.zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    std::fs::write(env.path("broken.zarr/obs/.zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    std::fs::write(env.path("broken.zarr/obs/.zattrs"), "{not json").unwrap();
    std::fs::write(env.path("broken.zarr/var/.zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    let run = env.run(&["validate", "broken.zarr"]);
    assert_error(&run, "broken.zarr");
    // A folder that is no AnnData is saved as a folder.
    let saved = env.run(&["save", "image.zarr", "--json"]).ok().json();
    assert_eq!(
        saved["record"]["accessor"],
        serde_json::Value::Null,
        "{saved}"
    );
    assert_eq!(saved["record"]["n_objects"], 2, "{saved}");
    assert_eq!(
        env.run(&["ls", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        2,
        "only the readable file and the folder were saved"
    );
});
