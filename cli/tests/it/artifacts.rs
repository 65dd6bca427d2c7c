//! `save`, `ls`, `load`, `describe`, `versions`, `delete UID`, `restore`, `storage`, `doctor`.

use std::path::PathBuf;

use serde_json::Value;

use crate::{Env, assert_error, assert_json_error, cli_test};

/// Writes a file in the working folder (creating its folder) and returns its path.
fn write(env: &Env, rel: &str, content: &str) -> PathBuf {
    let p = env.path(rel);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&p, content).unwrap();
    p
}

/// `lamella ls --json [ARGS…]` as records.
fn ls(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["ls", "--json"];
    all.extend(args);
    env.run(&all)
        .ok()
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("ls --json is not an array"))
        .clone()
}

/// The uid of a record, or of the record of a result (`{"record": …, "outcome": …}`).
fn uid(v: &Value) -> String {
    v.get("record").unwrap_or(v)["uid"]
        .as_str()
        .unwrap_or_else(|| panic!("no uid in {v}"))
        .to_string()
}

/// The objects under `ROOT/.lamella/` (artifacts and staging), without Lamella's own files.
fn objects(env: &Env, root: &str) -> Vec<String> {
    let dir = env.path(root).join(".lamella");
    let mut found = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
                // the database and the storage marker are Lamella's own files
                if !rel.starts_with("lamella.db") && rel != "storage.json" {
                    found.push(rel);
                }
            }
        }
    }
    found.sort();
    found
}

const CSV: &str = "sepal_length,iris_organism_name\n0.051,setosa\n0.049,setosa\n0.07,versicolor\n";

cli_test!(save_file_and_deduplicate, |env| {
    env.init("data");
    write(&env, "iris.csv", CSV);
    let human = env
        .run(&["save", "iris.csv", "--key", "iris/study0.csv"])
        .ok();
    assert!(
        human.stdout.starts_with("✅ saved artifact "),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("/.lamella/"), "{}", human.stdout);
    assert!(human.stdout.contains("Artifact(uid='"), "{}", human.stdout);
    assert!(human.stderr.is_empty(), "{}", human.stderr);

    let listed = ls(&env, &[]);
    assert_eq!(listed.len(), 1);
    let a = &listed[0];
    let first = uid(a);
    assert_eq!(first.len(), 20);
    assert!(first.ends_with("0000"), "{first}");
    assert_eq!(a["key"], "iris/study0.csv");
    assert_eq!(a["suffix"], ".csv");
    assert_eq!(a["size"], CSV.len());
    assert_eq!(a["hash_type"], "md5");
    assert_eq!(a["hash"].as_str().unwrap().len(), 22);
    assert_eq!(a["is_latest"], true);
    assert_eq!(a["visibility"], 1);
    assert_eq!(a["key_is_virtual"], true);
    assert_eq!(
        objects(&env, "data"),
        [format!("{first}.csv")],
        "the object lives at .lamella/<uid><suffix>"
    );

    // The same content again: the existing artifact comes back, nothing new is stored; the
    // key it has is named, with the command that changes it.
    write(&env, "copy.csv", CSV);
    let again = env.run(&["save", "copy.csv", "--key", "other.csv"]).ok();
    assert!(
        again.stderr.contains(&format!(
            "❗ this content is already artifact {first} under key 'iris/study0.csv': returned \
             it, not saved under 'other.csv' (to change its key: lamella update {first} --key \
             other.csv)"
        )),
        "{}",
        again.stderr
    );
    assert!(again.stdout.contains(&first), "{}", again.stdout);
    let json = env.run(&["save", "copy.csv", "--json"]).ok().json();
    assert_eq!(json["outcome"], "existing");
    assert_eq!(json["record"]["uid"], first.as_str());

    // --duplicate error refuses, --duplicate new registers it again.
    let refused = env.run(&["save", "copy.csv", "--duplicate", "error"]);
    assert_error(&refused, "already registered as artifact");
    assert!(
        refused.stderr.contains("--duplicate new"),
        "{}",
        refused.stderr
    );
    assert_eq!(ls(&env, &[]).len(), 1);
    let new = env
        .run(&[
            "save",
            "copy.csv",
            "--description",
            "a copy",
            "--duplicate",
            "new",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(new["outcome"], "created");
    assert_ne!(new["record"]["uid"], first.as_str());
    assert_eq!(new["record"]["description"], "a copy");
    assert_eq!(ls(&env, &[]).len(), 2);

    // Filters and the human table.
    assert_eq!(ls(&env, &["--filter", "key__startswith=iris/"]).len(), 1);
    assert_eq!(ls(&env, &["--filter", "suffix=.csv"]).len(), 2);
    assert_eq!(
        ls(
            &env,
            &["--filter", &format!("hash={}", a["hash"].as_str().unwrap())]
        )
        .len(),
        2
    );
    assert_eq!(ls(&env, &["--filter", "size__gt=1000"]).len(), 0);
    assert_eq!(
        ls(&env, &["--filter", "created_by__handle=testuser"]).len(),
        2
    );
    assert_eq!(ls(&env, &["--limit", "1"]).len(), 1);
    let table = env.run(&["ls"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    for col in [
        "uid",
        "key",
        "description",
        "suffix",
        "size",
        "hash",
        "is_latest",
    ] {
        assert!(lines[0].contains(col), "{col} missing: {table}");
    }
    let col = lines[0].find("key").unwrap();
    assert_eq!(&lines[2][col..col + 15], "iris/study0.csv", "{table}");
});

cli_test!(empty_files_never_deduplicate, |env| {
    env.init("data");
    write(&env, "a.txt", "");
    write(&env, "b.txt", "");
    let a = env.run(&["save", "a.txt", "--json"]).ok().json();
    let b = env.run(&["save", "b.txt", "--json"]).ok().json();
    assert_eq!(a["outcome"], "created");
    assert_eq!(b["outcome"], "created");
    assert_ne!(a["record"]["uid"], b["record"]["uid"]);
    assert_eq!(
        a["record"]["description"], "a.txt",
        "the file name is the default description"
    );
});

cli_test!(save_folder, |env| {
    env.init("data");
    for (name, text) in [("a.txt", "1"), ("b.txt", "22"), ("sub/c.txt", "333")] {
        write(&env, &format!("images/{name}"), text);
    }
    let saved = env
        .run(&["save", "images", "--key", "iris/images", "--json"])
        .ok()
        .json();
    assert_eq!(saved["record"]["hash_type"], "md5-d");
    assert_eq!(saved["record"]["n_objects"], 3);
    assert_eq!(saved["record"]["size"], 6);
    assert_eq!(saved["record"]["suffix"], "");
    let u = uid(&saved);
    assert_eq!(
        objects(&env, "data"),
        [
            format!("{u}/a.txt"),
            format!("{u}/b.txt"),
            format!("{u}/sub/c.txt")
        ]
    );
    // Loading a folder gives its local path.
    let path = env.run(&["load", &u]).ok().stdout;
    let path = PathBuf::from(path.trim());
    assert!(path.join("sub/c.txt").is_file(), "{}", path.display());
    env.run(&["load", &u, "--out", "copy"]).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("copy/sub/c.txt")).unwrap(),
        "333"
    );
});

cli_test!(save_each_file_of_a_folder, |env| {
    env.init("data");
    for i in 1..=5 {
        write(&env, &format!("batch/f{i}.txt"), &format!("file {i}"));
    }
    let saved = env.run(&["save", "--each", "batch", "--json"]).ok().json();
    assert_eq!(saved["counts"]["created"], 5);
    assert_eq!(saved["records"].as_array().unwrap().len(), 5);
    let listed = ls(&env, &[]);
    let keys: Vec<&str> = listed.iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "batch/f1.txt",
            "batch/f2.txt",
            "batch/f3.txt",
            "batch/f4.txt",
            "batch/f5.txt"
        ]
    );
    assert!(listed.iter().all(|a| a["hash_type"] == "md5"));
    // Again: every file exists already.
    let again = env.run(&["save", "--each", "batch", "--json"]).ok();
    let json = again.json();
    assert_eq!(json["counts"]["created"], 0);
    assert_eq!(json["existing"].as_array().unwrap().len(), 5);
    assert!(
        again.stderr.contains("returning 5 existing"),
        "{}",
        again.stderr
    );
    // Several paths with a key prefix; human output summarises.
    write(&env, "x.txt", "x");
    write(&env, "y.txt", "y");
    let human = env
        .run(&["save", "x.txt", "y.txt", "--key-prefix", "more"])
        .ok();
    assert!(
        human.stdout.contains("✅ saved 2 new artifacts"),
        "{}",
        human.stdout
    );
    assert_eq!(ls(&env, &["--filter", "key__startswith=more/"]).len(), 2);
    // A key names one artifact.
    assert_error(
        &env.run(&["save", "x.txt", "y.txt", "--key", "k.txt"]),
        "--key names one artifact",
    );
    assert_eq!(ls(&env, &[]).len(), 7);
});

cli_test!(versions_by_revises_and_by_key, |env| {
    env.init("data");
    write(&env, "v1.csv", "a\n1\n");
    write(&env, "v2.csv", "a\n2\n");
    write(&env, "v3.csv", "a\n3\n");
    let v1 = env
        .run(&["save", "v1.csv", "--key", "study.csv", "--json"])
        .ok()
        .json();
    let u1 = uid(&v1);
    let v2 = env
        .run(&["save", "v2.csv", "--revises", &u1, "--json"])
        .ok()
        .json();
    let u2 = uid(&v2);
    assert_eq!(&u2[..16], &u1[..16], "versions share the uid stem");
    assert!(u1.ends_with("0000") && u2.ends_with("0001"), "{u1} {u2}");
    assert_eq!(
        v2["record"]["key"], "study.csv",
        "a new version keeps the key"
    );
    // Saving to the same key makes the next version.
    let v3 = env
        .run(&["save", "v3.csv", "--key", "study.csv", "--json"])
        .ok()
        .json();
    let u3 = uid(&v3);
    assert_eq!(&u3[..16], &u1[..16]);
    assert!(u3.ends_with("0002"), "{u3}");

    let family = env.run(&["versions", &u1, "--json"]).ok().json();
    let family = family.as_array().unwrap();
    let uids: Vec<String> = family.iter().map(uid).collect();
    assert_eq!(uids, [u1.clone(), u2.clone(), u3.clone()]);
    let latest: Vec<bool> = family
        .iter()
        .map(|a| a["is_latest"].as_bool().unwrap())
        .collect();
    assert_eq!(latest, [false, false, true]);
    // The stem names the family too.
    let by_stem = env.run(&["versions", &u1[..16], "--json"]).ok().json();
    assert_eq!(by_stem.as_array().unwrap().len(), 3);
    let table = env.run(&["versions", &u3]).ok().stdout;
    assert_eq!(table.lines().count(), 5, "{table}");
    // `load --key` gives the latest version.
    let loaded = env.run(&["load", "--key", "study.csv"]).ok().stdout;
    assert!(loaded.contains('3') && !loaded.contains('2'), "{loaded}");

    // Deleting the latest promotes the previous one.
    env.run(&["delete", &u3]).ok();
    let family = env.run(&["versions", &u1, "--json"]).ok().json();
    let latest: Vec<bool> = family
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["is_latest"].as_bool().unwrap())
        .collect();
    assert_eq!(latest, [false, true, false]);
});

cli_test!(trash_restore_and_permanent_delete, |env| {
    env.init("data");
    write(&env, "a.csv", CSV);
    let a = env
        .run(&["save", "a.csv", "--key", "a.csv", "--json"])
        .ok()
        .json();
    let u = uid(&a);
    assert_eq!(objects(&env, "data"), [format!("{u}.csv")]);

    let trashed = env.run(&["delete", &u]).ok();
    assert!(trashed.stdout.contains("trash"), "{}", trashed.stdout);
    assert!(ls(&env, &[]).is_empty(), "trashed artifacts are hidden");
    assert!(
        env.run(&["ls"]).ok().stdout.contains("--trash"),
        "the empty listing points to --trash"
    );
    let in_trash = ls(&env, &["--trash"]);
    assert_eq!(in_trash.len(), 1);
    assert_eq!(in_trash[0]["visibility"], -1);
    assert_eq!(ls(&env, &["--filter", "visibility=-1"]).len(), 1);
    assert_eq!(objects(&env, "data").len(), 1, "the trash keeps the object");

    let restored = env.run(&["restore", &u, "--json"]).ok().json();
    assert_eq!(restored["outcome"], "restored");
    assert_eq!(restored["record"]["visibility"], 1);
    assert_eq!(ls(&env, &[]).len(), 1);
    let again = env.run(&["restore", &u]).ok();
    assert!(
        again.stdout.contains("not in the trash"),
        "{}",
        again.stdout
    );

    let gone = env
        .run(&["delete", &u, "--permanent", "--json"])
        .ok()
        .json();
    assert_eq!(gone["outcome"], "removed");
    assert_eq!(gone["object_removed"], true);
    assert!(ls(&env, &["--trash"]).is_empty(), "the row is gone");
    assert!(objects(&env, "data").is_empty(), "the object is gone");
    assert_error(&env.run(&["describe", &u]), "no Artifact matches uid '");

    // A second delete of a trashed artifact removes it for good.
    write(&env, "b.csv", "b\n1\n");
    let b = uid(&env.run(&["save", "b.csv", "--json"]).ok().json());
    env.run(&["delete", &b]).ok();
    // From a script (no terminal to ask), only when said so.
    assert_error(&env.run(&["delete", &b]), "pass --permanent (or --yes)");
    assert_eq!(ls(&env, &["--trash"]).len(), 1, "still in the trash");
    let second = env.run(&["delete", &b, "--yes"]).ok();
    assert!(
        second.stdout.contains("permanently deleted"),
        "{}",
        second.stdout
    );
    assert!(ls(&env, &["--trash"]).is_empty());
    assert!(objects(&env, "data").is_empty());
});

cli_test!(load_tables_and_files, |env| {
    env.init("data");
    write(&env, "iris.csv", CSV);
    let u = uid(&env
        .run(&["save", "iris.csv", "--key", "iris.csv", "--json"])
        .ok()
        .json());
    let head = env.run(&["load", &u]).ok().stdout;
    let lines: Vec<&str> = head.lines().collect();
    assert!(
        lines[0].starts_with("sepal_length") && lines[0].contains("iris_organism_name"),
        "{head}"
    );
    assert!(
        lines[2].contains("0.051") && lines[2].contains("setosa"),
        "{head}"
    );
    assert!(lines[4].contains("0.070"), "floats share decimals: {head}");
    assert_eq!(*lines.last().unwrap(), "3 rows × 2 columns", "{head}");
    let json = env.run(&["load", &u, "--json"]).ok().json();
    assert_eq!(json["n_rows"], 3);
    assert_eq!(
        json["columns"],
        serde_json::json!(["sepal_length", "iris_organism_name"])
    );
    assert_eq!(json["head"][2]["iris_organism_name"], "versicolor");

    // Written as Parquet, saved again, it loads as a table (accessor DataFrame).
    env.run(&["load", &u, "--out", "out/iris.parquet"]).ok();
    let pq = env
        .run(&[
            "save",
            "out/iris.parquet",
            "--key",
            "iris.parquet",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(pq["record"]["accessor"], "DataFrame");
    assert_eq!(pq["record"]["n_observations"], 3);
    let table = env.run(&["load", "--key", "iris.parquet"]).ok().stdout;
    assert!(table.contains("versicolor"), "{table}");
    assert!(table.ends_with("3 rows × 2 columns\n"), "{table}");
    // …and back to CSV.
    env.run(&["load", &uid(&pq), "--out", "out/back.csv"]).ok();
    let back = std::fs::read_to_string(env.path("out/back.csv")).unwrap();
    assert!(
        back.starts_with("sepal_length,iris_organism_name\n"),
        "{back}"
    );
    assert!(back.contains("versicolor"), "{back}");
    assert_error(
        &env.run(&["load", &u, "--out", "out/back.csv"]),
        "already exists",
    );
    assert_error(
        &env.run(&["load", &u, "--out", "out/x.json"]),
        "give a path ending in .parquet, .csv or .tsv",
    );

    // Other files load as their local path.
    write(&env, "notes.txt", "hello");
    let t = uid(&env.run(&["save", "notes.txt", "--json"]).ok().json());
    let path = env.run(&["load", &t]).ok().stdout;
    assert_eq!(
        std::fs::read_to_string(path.trim()).unwrap(),
        "hello",
        "{path}"
    );
    env.run(&["load", &t, "--out", "out/notes.txt"]).ok();
    assert_eq!(
        std::fs::read_to_string(env.path("out/notes.txt")).unwrap(),
        "hello"
    );
});

cli_test!(describe_shows_provenance, |env| {
    env.init("data");
    write(&env, "iris.csv", CSV);
    let u = uid(&env
        .run(&[
            "save",
            "iris.csv",
            "--key",
            "iris.csv",
            "--description",
            "Iris study 0",
            "--json",
        ])
        .ok()
        .json());
    let root = env.path("data").canonicalize().unwrap();
    let root = root.to_str().unwrap();
    for args in [
        vec!["describe", u.as_str()],
        vec!["describe", "--key", "iris.csv"],
    ] {
        let out = env.run(&args).ok().stdout;
        assert!(
            out.starts_with(&format!("Artifact(uid='{u}', key='iris.csv'")),
            "{out}"
        );
        assert!(out.contains("description='Iris study 0'"), "{out}");
        assert!(out.contains("\nProvenance:\n"), "{out}");
        assert!(
            out.contains("📎 storage: Storage(uid='") && out.contains(root),
            "{out}"
        );
        assert!(
            out.contains("📎 created_by: User(") && out.contains("handle='testuser'"),
            "{out}"
        );
    }
    let json = env.run(&["describe", &u, "--json"]).ok().json();
    assert_eq!(json["record"]["uid"], u.as_str());
    assert_eq!(json["provenance"]["storage"]["root"], root);
    assert_eq!(json["provenance"]["created_by"]["handle"], "testuser");
    // One shape for every artifact: nothing linked yet is empty, not missing.
    assert_eq!(json["features"], serde_json::json!({}), "{json}");
    assert_eq!(json["labels"], serde_json::json!({}), "{json}");
    assert!(json["provenance"]["transform"].is_null());
    assert!(json["path"].as_str().unwrap().ends_with(".csv"), "{json}");
});

cli_test!(bad_input_changes_nothing, |env| {
    env.init("data");
    write(&env, "a.csv", CSV);
    assert_error(
        &env.run(&["save", "missing.csv"]),
        "missing.csv does not exist",
    );
    assert_error(
        &env.run(&["save", "--each", "a.csv", "missing.txt"]),
        "missing.txt does not exist",
    );
    for (key, why) in [
        ("../x.csv", "must not contain '..'"),
        ("/abs.csv", "must be relative"),
        (".lamella/x.csv", "reserved"),
    ] {
        let run = env.run(&["save", "a.csv", "--key", key]);
        assert_error(&run, "invalid key");
        assert!(run.stderr.contains(why), "{key}: {}", run.stderr);
    }
    assert_error(
        &env.run(&["save", "a.csv", "--key", "a.parquet"]),
        "give a key ending in '.csv'",
    );
    assert_error(
        &env.run(&["save", "a.csv", "--key-prefix", "p"]),
        "--key-prefix is for several artifacts",
    );
    assert_error(
        &env.run(&["save", "a.csv", "--revises", "Zz00000000000000000"]),
        "no Artifact matches uid '",
    );
    assert!(ls(&env, &["--trash"]).is_empty());
    assert!(objects(&env, "data").is_empty(), "no object may be left");

    for args in [
        &["load", "Zz0000000000"][..],
        &["describe", "Zz0000000000"],
        &["versions", "Zz0000000000"],
        &["delete", "Zz0000000000"],
        &["restore", "Zz0000000000"],
    ] {
        let run = env.run(args);
        assert_error(&run, "no Artifact matches uid 'Zz0000000000'");
        assert!(run.stderr.contains("lamella ls"), "{}", run.stderr);
    }
    assert_error(&env.run(&["load", "iris/a.csv"]), "use --key");
    assert_error(
        &env.run(&["describe", "--key", "nope.csv"]),
        "no Artifact matches key 'nope.csv'",
    );
    // Usage errors: clap's exit code 2.
    assert_eq!(env.run(&["load"]).code, 2);
    assert_eq!(env.run(&["load", "abc", "--key", "k"]).code, 2);
    assert_eq!(env.run(&["delete", "--permanent"]).code, 2);
    assert_eq!(env.run(&["save", "a.csv", "--duplicate", "maybe"]).code, 2);
    assert!(ls(&env, &["--trash"]).is_empty());
});

cli_test!(failed_saves_leave_nothing, |env| {
    env.init("data");
    write(&env, "a.txt", "precious");
    for point in ["after-upload", "before-promote", "after-promote"] {
        let run = env.run_env(
            &["save", "a.txt", "--key", "a.txt"],
            &[("LAMELLA_FAILPOINT", point)],
        );
        assert_error(&run, &format!("failpoint '{point}'"));
        assert!(ls(&env, &["--trash"]).is_empty(), "{point}: no row");
        assert!(objects(&env, "data").is_empty(), "{point}: no object");
        let doctor = env.run(&["doctor", "--json"]).ok().json();
        assert_eq!(doctor["orphans"], serde_json::json!([]), "{point}");
        assert_eq!(doctor["staging"], serde_json::json!([]), "{point}");
    }
    // A crash between promotion and commit: no row, one orphan that doctor finds and cleans.
    let crash = env.run_env(
        &["save", "a.txt", "--key", "a.txt"],
        &[("LAMELLA_FAILPOINT", "abort-after-promote")],
    );
    assert_ne!(crash.code, 0, "the process must die");
    assert!(ls(&env, &["--trash"]).is_empty(), "no row after a crash");
    // Young leftovers may belong to a save still running: reported, never removed.
    let young = env.run(&["doctor", "--clean", "--json"]).ok().json();
    assert_eq!(young["recent"].as_array().unwrap().len(), 1, "{young}");
    assert_eq!(young["orphans"], serde_json::json!([]), "{young}");
    assert_eq!(objects(&env, "data").len(), 1, "kept while young");
    // Found and not cleaned: like fsck, doctor exits 1 (with its report).
    let found = env.run(&["doctor", "--json", "--min-age", "0"]);
    assert_eq!(found.code, 1, "{found:?}");
    let report = found.json();
    assert_eq!(report["orphans"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["missing"], serde_json::json!([]));
    let human = env.run(&["doctor", "--min-age", "0"]);
    assert_eq!(human.code, 1, "{human:?}");
    assert!(human.stderr.is_empty(), "no error line: {}", human.stderr);
    let human = human.stdout;
    assert!(human.contains("1 orphaned object"), "{human}");
    assert!(human.contains("lamella doctor --clean"), "{human}");
    let cleaned = env
        .run(&["doctor", "--clean", "--min-age", "0"])
        .ok()
        .stdout;
    assert!(cleaned.contains("removed 1 orphaned object"), "{cleaned}");
    assert!(objects(&env, "data").is_empty());
    let after = env.run(&["doctor", "--min-age", "0"]).ok().stdout;
    assert!(after.contains("nothing to clean"), "{after}");
    // The file saves fine afterwards.
    env.run(&["save", "a.txt", "--key", "a.txt"]).ok();
    assert_eq!(ls(&env, &[]).len(), 1);
});

cli_test!(storage_add_and_list, |env| {
    env.init("data");
    let listed = env.run(&["storage", "list", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let added = env.run(&["storage", "add", "more", "--json"]).ok().json();
    assert_eq!(added["record"]["type"], "local");
    assert_eq!(added["outcome"], "created");
    let again = env.run(&["storage", "add", "more", "--json"]).ok().json();
    assert_eq!(again["outcome"], "existing");
    assert_eq!(again["record"]["uid"], added["record"]["uid"]);
    let table = env.run(&["storage", "list"]).ok().stdout;
    assert_eq!(table.lines().count(), 4, "{table}");
    // An unreachable server: a clear error, nothing registered.
    let run = env.run_env(
        &["storage", "add", "s3://lamella-nowhere/x"],
        &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    assert_error(&run, "lamella-nowhere");
    assert_eq!(
        env.run(&["storage", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
});

#[test]
fn unreachable_s3_instance_is_not_created() {
    let env = Env::sqlite();
    let run = env.run_env(
        &["init", "--storage", "s3://lamella-nowhere/x"],
        &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    assert_error(&run, "lamella-nowhere");
    assert_error(&env.run(&["info"]), "no current instance");
}

cli_test!(s3_round_trip, |env| {
    let Some(root) = lamella_tests::s3_root() else {
        return;
    };
    let endpoint = std::env::var("LAMELLA_TEST_S3_ENDPOINT").unwrap();
    let vars = [("AWS_ENDPOINT_URL", endpoint.as_str())];
    let db = env.db_args();
    let mut init = vec!["init", "--storage", root.as_str()];
    init.extend(db.iter().map(String::as_str));
    let info = env.run_env(&init, &vars).ok().stdout;
    assert!(info.contains(&root), "{info}");
    let s3 = |args: &[&str]| env.run_env(args, &vars);

    write(&env, "iris.csv", CSV);
    let saved = s3(&["save", "iris.csv", "--key", "iris/study0.csv", "--json"])
        .ok()
        .json();
    let u = uid(&saved);
    assert_eq!(
        saved["path"],
        format!("{root}/.lamella/{u}.csv").as_str(),
        "{saved}"
    );
    assert_eq!(saved["record"]["hash_type"], "md5");
    let again = s3(&["save", "iris.csv", "--json"]).ok().json();
    assert_eq!(again["outcome"], "existing");
    assert_eq!(again["record"]["uid"], u.as_str());

    let head = s3(&["load", &u]).ok().stdout;
    assert!(
        head.contains("versicolor") && head.ends_with("3 rows × 2 columns\n"),
        "{head}"
    );
    s3(&["load", "--key", "iris/study0.csv", "--out", "back.csv"]).ok();
    assert_eq!(std::fs::read_to_string(env.path("back.csv")).unwrap(), CSV);

    let described = s3(&["describe", &u]).ok().stdout;
    assert!(described.contains("Provenance:"), "{described}");
    assert!(
        described.contains(&format!("root='{root}', type='s3'")),
        "{described}"
    );
    assert!(described.contains("handle='testuser'"), "{described}");

    write(
        &env,
        "v2.csv",
        "sepal_length,iris_organism_name\n0.063,virginica\n",
    );
    let v2 = s3(&["save", "v2.csv", "--key", "iris/study0.csv", "--json"])
        .ok()
        .json();
    let u2 = uid(&v2);
    assert_eq!(&u2[..16], &u[..16]);
    let family = s3(&["versions", &u, "--json"]).ok().json();
    assert_eq!(family.as_array().unwrap().len(), 2);
    assert_eq!(family[1]["is_latest"], true);

    // A folder on S3.
    write(&env, "images/a.txt", "1");
    write(&env, "images/sub/b.txt", "22");
    let folder = s3(&["save", "images", "--key", "images", "--json"])
        .ok()
        .json();
    assert_eq!(folder["record"]["hash_type"], "md5-d");
    assert_eq!(folder["record"]["n_objects"], 2);
    let local = s3(&["load", &uid(&folder)]).ok().stdout;
    assert!(
        PathBuf::from(local.trim()).join("sub/b.txt").is_file(),
        "{local}"
    );

    s3(&["delete", &u2]).ok();
    assert_eq!(
        s3(&["ls", "--json"]).ok().json().as_array().unwrap().len(),
        2
    );
    s3(&["delete", &u2, "--permanent"]).ok();
    s3(&["delete", &u, "--permanent"]).ok();
    s3(&["delete", &uid(&folder), "--permanent"]).ok();
    assert!(
        s3(&["ls", "--trash", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let doctor = s3(&["doctor", "--json"]).ok().json();
    assert_eq!(doctor["orphans"], serde_json::json!([]), "{doctor}");
    assert_eq!(doctor["missing"], serde_json::json!([]), "{doctor}");
});

cli_test!(save_each_keeps_subfolders_and_policy, |env| {
    env.init("data");
    write(&env, "nested/a/f.txt", "one");
    write(&env, "nested/b/f.txt", "two");
    let saved = env.run(&["save", "--each", "nested", "--json"]).ok().json();
    assert_eq!(saved["counts"]["created"], 2);
    let mut keys: Vec<String> = ls(&env, &[])
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, ["nested/a/f.txt", "nested/b/f.txt"]);
    // --duplicate applies to batches too
    assert_error(
        &env.run(&["save", "--each", "nested", "--duplicate", "error"]),
        "already registered",
    );
    let again = env
        .run(&[
            "save",
            "--each",
            "nested",
            "--duplicate",
            "new",
            "--key-prefix",
            "copy",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(again["counts"]["created"], 2);
    assert_eq!(ls(&env, &[]).len(), 4);
});

/// Against a server that checks signatures: wrong credentials are a clear error that names
/// what to check, and create nothing; the right ones work.
#[test]
fn wrong_s3_credentials_are_a_clear_error() {
    let Ok(endpoint) = std::env::var("LAMELLA_TEST_S3_AUTH_ENDPOINT") else {
        assert!(
            !lamella_tests::in_ci(),
            "LAMELLA_TEST_S3_AUTH_ENDPOINT is not set but CI=true: install s3s-fs and run \
             `cargo xtask services up`"
        );
        eprintln!("skipping: no signature-checking S3 server (cargo xtask services up)");
        return;
    };
    let key = std::env::var("LAMELLA_TEST_S3_AUTH_KEY").unwrap();
    let secret = std::env::var("LAMELLA_TEST_S3_AUTH_SECRET").unwrap();
    let bucket = std::env::var("LAMELLA_TEST_S3_BUCKET").unwrap_or_else(|_| "lamella-test".into());
    let root = format!("s3://{bucket}/auth-{}", std::process::id());
    let env = Env::sqlite();
    let wrong = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret"),
    ];
    let run = env.run_env(&["init", "--storage", &root], &wrong);
    assert_error(&run, "AWS_SECRET_ACCESS_KEY");
    assert!(
        !run.stderr.contains("not-the-secret"),
        "secrets are never printed"
    );
    assert_error(&env.run(&["info"]), "no current instance");
    let right = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];
    env.run_env(&["init", "--storage", &root], &right).ok();
    write(&env, "a.txt", "a");
    let saved = env
        .run_env(&["save", "a.txt", "--key", "a.txt", "--json"], &right)
        .ok()
        .json();
    assert_eq!(saved["record"]["hash"], "DMF1ucDxtqgxw5niaXcmYQ");
    // Later calls with wrong keys fail clearly and change nothing.
    write(&env, "b.txt", "b");
    let run = env.run_env(&["save", "b.txt", "--key", "b.txt"], &wrong);
    assert_error(&run, "AWS_SECRET_ACCESS_KEY");
    let listed = env.run_env(&["ls", "--json"], &right).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

cli_test!(
    annotate_resolves_many_labels_and_names_the_one_missing,
    |env| {
        env.init("data");
        env.run(&["ulabel", "create", "CD14 Monocytes"]).ok();
        env.run(&["ulabel", "create", "B cells"]).ok();
        write(&env, "a.txt", "a");
        let a = env
            .run(&["save", "a.txt", "--key", "a.txt", "--json"])
            .ok()
            .json();
        let uid = a["record"]["uid"].as_str().unwrap().to_string();
        let run = env.run(&["annotate", &uid, "-l", "B cells", "-l", "CD14 Monocyte"]);
        assert_error(&run, "did you mean 'CD14 Monocytes'");
        assert_error(&run, "lamella ulabel list");
        let described = env.run(&["describe", &uid, "--json"]).ok().json();
        assert!(
            !described.to_string().contains("B cells"),
            "nothing is linked when a name is missing"
        );
        env.run(&["annotate", &uid, "-l", "B cells", "-l", "CD14 Monocytes"])
            .ok();
        let listed = env
            .run(&["ls", "--label", "CD14 Monocytes", "--json"])
            .ok()
            .json();
        assert_eq!(listed[0]["uid"], uid);
    }
);

cli_test!(ls_by_an_unknown_label_or_feature_is_an_error, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "CD14 Monocytes"]).ok();
    env.run(&["feature", "create", "n_genes", "--dtype", "int"])
        .ok();
    let run = env.run(&["ls", "--label", "CD14 Monocyte"]);
    assert_error(&run, "did you mean 'CD14 Monocytes'");
    let run = env.run(&["ls", "--feature", "n_gene"]);
    assert_error(&run, "no Feature matches 'n_gene': did you mean 'n_genes'");
    let json = env.run(&["ls", "--label", "CD14 Monocyte", "--json"]);
    assert_json_error(&json, 1, "not_found", "did you mean 'CD14 Monocytes'");
    // Known names that nothing carries are a true "none".
    let none = env.run(&["ls", "--label", "CD14 Monocytes", "--json"]).ok();
    assert_eq!(none.json(), serde_json::json!([]));
});

cli_test!(
    killed_exports_leave_nothing_behind_and_outputs_are_not_overwritten,
    |env| {
        env.init("data");
        std::fs::write(env.path("a.csv"), "x\n1\n2\n").unwrap();
        std::fs::write(env.path("b.csv"), "x\n3\n").unwrap();
        env.run(&["save", "a.csv", "--key", "a.csv"]).ok();
        env.run(&["save", "b.csv", "--key", "b.csv"]).ok();
        env.run(&[
            "collection",
            "create",
            "pair",
            "--key",
            "a.csv",
            "--key",
            "b.csv",
        ])
        .ok();
        // A writer killed mid-export leaves its temporary file; it names a process that is gone.
        let gone = std::process::Command::new("true").spawn().unwrap();
        let pid = gone.id();
        let mut gone = gone;
        gone.wait().unwrap();
        let out = env.path("out");
        std::fs::create_dir_all(&out).unwrap();
        let leftover = out.join(format!(".lamella-tmp-{pid}-AbCdEf"));
        std::fs::write(&leftover, vec![0u8; 4096]).unwrap();
        env.run(&["collection", "load", "pair", "--out", "out/all.parquet"])
            .ok();
        assert!(
            !leftover.exists(),
            "the next write removes a dead writer's leftovers"
        );
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["all.parquet"]);
        // An existing output is refused unless --force; never inside the storage.
        std::fs::write(env.path("mine.csv"), "precious").unwrap();
        let run = env.run(&["collection", "load", "pair", "--out", "mine.csv"]);
        assert_error(&run, "already exists");
        assert_eq!(
            std::fs::read_to_string(env.path("mine.csv")).unwrap(),
            "precious"
        );
        env.run(&["collection", "load", "pair", "--out", "mine.csv", "--force"])
            .ok();
        assert_eq!(
            std::fs::read_to_string(env.path("mine.csv")).unwrap(),
            "x\n1\n2\n3\n"
        );
        let run = env.run(&[
            "collection",
            "load",
            "pair",
            "--out",
            "data/a.csv",
            "--force",
        ]);
        assert_error(&run, "inside the storage location");
        let run = env.run(&["load", "--key", "a.csv", "--out", "data/.lamella/x.csv"]);
        assert_error(&run, "inside the storage location");
        let run = env.run(&["load", "--key", "a.csv", "--out", "mine.csv"]);
        assert_error(&run, "already exists");
        env.run(&["load", "--key", "a.csv", "--out", "mine.csv", "--force"])
            .ok();
        assert_eq!(
            std::fs::read_to_string(env.path("mine.csv")).unwrap(),
            "x\n1\n2\n"
        );
        env.run(&["doctor"]).ok();
    }
);

cli_test!(
    objects_already_in_a_bucket_are_registered_where_they_are,
    |env| {
        let Some(prefix) = lamella_tests::s3_root() else {
            return;
        };
        let endpoint = std::env::var("LAMELLA_TEST_S3_ENDPOINT").unwrap();
        let vars = [("AWS_ENDPOINT_URL", endpoint.as_str())];
        // Someone else's object, uploaded outside Lamella.
        let store = lamella_tests::store(&prefix);
        store.put_bytes("shared/data.csv", b"a,b\n1,2\n").unwrap();
        env.init("data");
        let url = format!("{prefix}/shared/data.csv");
        let saved = env
            .run_env(
                &["save", &url, "--description", "shared data", "--json"],
                &vars,
            )
            .ok()
            .json();
        assert_eq!(saved["record"]["key_is_virtual"], false, "{saved}");
        assert_eq!(saved["record"]["n_observations"], serde_json::Value::Null);
        let bucket = prefix.split('/').take(3).collect::<Vec<_>>().join("/");
        let storages = env.run(&["storage", "list", "--json"]).ok().json();
        let registered = storages
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["root"] == bucket.as_str())
            .unwrap_or_else(|| panic!("{bucket} registered: {storages}"));
        assert!(
            registered["instance_uid"].is_null(),
            "read only: {registered}"
        );
        let head = env
            .run_env(
                &["load", saved["record"]["uid"].as_str().unwrap(), "--json"],
                &vars,
            )
            .ok()
            .json();
        assert_eq!(head["n_rows"], 1, "{head}");
        // Deleting the record never touches someone else's object.
        env.run_env(
            &[
                "delete",
                saved["record"]["uid"].as_str().unwrap(),
                "--permanent",
            ],
            &vars,
        )
        .ok();
        assert_eq!(store.read_bytes("shared/data.csv").unwrap(), b"a,b\n1,2\n");
        // A missing object is a clear error, not a local "does not exist".
        let run = env.run_env(&["save", &format!("{prefix}/shared/nope.csv")], &vars);
        assert_error(&run, "does not exist");
        assert!(run.stderr.contains("s3://"), "{}", run.stderr);
    }
);

cli_test!(doctor_verify_finds_rewritten_bytes, |env| {
    env.init("data");
    std::fs::write(env.path("a.csv"), "x\n1\n").unwrap();
    let saved = env
        .run(&["save", "a.csv", "--key", "a.csv", "--json"])
        .ok()
        .json();
    let object = saved["path"].as_str().unwrap().to_string();
    std::fs::write(&object, "x\n2\n").unwrap();
    env.run(&["doctor"]).ok();
    let r = env.run(&["doctor", "--verify"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(saved["record"]["uid"].as_str().unwrap()),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("key a.csv"), "{}", r.stdout);
    assert!(
        r.stdout.contains(saved["record"]["hash"].as_str().unwrap()),
        "{}",
        r.stdout
    );
    let json = env.run(&["doctor", "--verify", "--json"]);
    assert_eq!(json.code, 1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["changed"][0]["uid"], saved["record"]["uid"]);
    assert_eq!(report["changed"][0]["recorded"], saved["record"]["hash"]);
});

/// In a terminal, a save draws an upload bar on stderr; under `--json`, or without a
/// terminal, nothing but the result is printed.
#[test]
fn progress_bars_only_in_a_terminal_and_never_under_json() {
    let mut env = Env::sqlite();
    env.init("data");
    std::fs::write(env.path("big.bin"), vec![1u8; 8 << 20]).unwrap();
    std::fs::write(env.path("big2.bin"), vec![2u8; 8 << 20]).unwrap();
    let plain = env
        .run_env(&["save", "big.bin"], &[("LAMELLA_PROGRESS_DELAY_MS", "0")])
        .ok();
    assert!(!plain.stderr.contains("uploading"), "{}", plain.stderr);
    // `script` gives the command a terminal (util-linux, on every Debian machine).
    let in_terminal = |args: &str| -> Option<String> {
        let line = format!("{} {args}", env!("CARGO_BIN_EXE_lamella"));
        let out = std::process::Command::new("script")
            .env("LAMELLA_HOME", env.path(".home"))
            .env("LAMELLA_USER", "testuser")
            .env("LAMELLA_PROGRESS_DELAY_MS", "0")
            .env_remove("RUST_LOG")
            .current_dir(env.path(""))
            .args(["-qec", &line, "/dev/null"])
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let Some(drawn) = in_terminal("save big2.bin") else {
        assert!(!lamella_tests::in_ci(), "CI machines have `script`");
        return;
    };
    assert!(drawn.contains("uploading"), "{drawn}");
    assert!(drawn.contains("MiB"), "{drawn}");
    std::fs::write(env.path("big3.bin"), vec![3u8; 8 << 20]).unwrap();
    let json = in_terminal("save big3.bin --json").unwrap_or_default();
    assert!(!json.contains("uploading"), "{json}");
    assert!(json.contains("\"outcome\""), "{json}");
}
