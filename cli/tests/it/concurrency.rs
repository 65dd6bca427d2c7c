//! Many writers at once: 8 processes of the real binary on one instance (SQLite file or
//! PostgreSQL database; local folder or S3). Nothing committed may be lost or duplicated.

use std::collections::{BTreeSet, HashSet};

use crate::Env;

/// Writer processes per test.
const WRITERS: usize = 8;

/// Runs one body on SQLite and PostgreSQL × a local folder and S3; the body sees the
/// environment, the storage root to init and the extra variables every call needs.
macro_rules! concurrency_test {
    ($name:ident, |$env:ident, $root:ident, $vars:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run(mut $env: Env, s3: bool) {
                let endpoint = std::env::var("LAMELLA_TEST_S3_ENDPOINT").unwrap_or_default();
                let ($root, $vars): (String, Vec<(&str, &str)>) = if s3 {
                    let Some(root) = lamella_tests::s3_root() else {
                        return;
                    };
                    (root, vec![("AWS_ENDPOINT_URL", endpoint.as_str())])
                } else {
                    ("data".to_string(), Vec::new())
                };
                let db = $env.db_args();
                let mut init = vec!["init", "--storage", $root.as_str()];
                init.extend(db.iter().map(String::as_str));
                $env.run_env(&init, &$vars).ok();
                $body
            }

            #[test]
            fn sqlite_local() {
                run(Env::sqlite(), false);
            }

            #[test]
            fn sqlite_s3() {
                run(Env::sqlite(), true);
            }

            #[test]
            fn postgres_local() {
                if let Some(env) = Env::postgres() {
                    run(env, false);
                }
            }

            #[test]
            fn postgres_s3() {
                if let Some(env) = Env::postgres() {
                    run(env, true);
                }
            }
        }
    };
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn assert_all_ok(runs: &[lamella_tests::Run]) {
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.code != 0)
        .map(|r| format!("exit {}: {}", r.code, r.stderr.trim()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} writers failed:\n{}",
        failed.len(),
        runs.len(),
        failed.join("\n")
    );
}

fn uid_of(j: &serde_json::Value) -> String {
    j.get("record").unwrap_or(j)["uid"]
        .as_str()
        .expect("uid")
        .to_string()
}

concurrency_test!(one_key_becomes_consecutive_versions, |env, root, vars| {
    for i in 0..WRITERS {
        std::fs::write(env.path(&format!("f{i}.bin")), format!("content {i}\n")).unwrap();
    }
    let calls: Vec<Vec<String>> = (0..WRITERS)
        .map(|i| args(&["save", &format!("f{i}.bin"), "--key", "same.bin", "--json"]))
        .collect();
    let runs = env.cli.run_parallel(&calls, &vars);
    assert_all_ok(&runs);
    let saved: Vec<String> = runs.iter().map(|r| uid_of(&r.json())).collect();
    // Every save got its own version of one family: stem + 0000 … 0007.
    let family = env
        .run_env(&["versions", "--key", "same.bin", "--json"], &vars)
        .ok()
        .json();
    let family = family.as_array().unwrap();
    assert_eq!(family.len(), WRITERS, "{family:?}");
    let uids: BTreeSet<String> = family.iter().map(uid_of).collect();
    assert_eq!(uids, saved.iter().cloned().collect::<BTreeSet<_>>());
    let stem = &saved[0][..16];
    for (i, u) in uids.iter().enumerate() {
        assert_eq!(&u[..16], stem, "one family: {uids:?}");
        // base62 versions 0000 … 0007 (fewer than ten writers)
        assert_eq!(
            &u[16..],
            format!("{i:04}"),
            "consecutive versions: {uids:?}"
        );
    }
    let latest: Vec<&serde_json::Value> = family
        .iter()
        .filter(|a| a["is_latest"].as_bool() == Some(true))
        .collect();
    assert_eq!(latest.len(), 1, "exactly one latest version: {family:?}");
    // Every version's object is there and holds what its writer saved.
    let contents: HashSet<String> = uids
        .iter()
        .map(|u| {
            let out = env.path(&format!("back-{u}.bin"));
            env.run_env(&["load", u, "--out", out.to_str().unwrap()], &vars)
                .ok();
            std::fs::read_to_string(out).unwrap()
        })
        .collect();
    assert_eq!(contents.len(), WRITERS, "{contents:?}");
    env.run_env(&["describe", "--key", "same.bin"], &vars).ok();
    let doctor = env.run_env(&["doctor", "--json"], &vars).ok().json();
    assert_eq!(doctor["missing"].as_array().unwrap().len(), 0, "{doctor}");
    assert_eq!(doctor["orphans"].as_array().unwrap().len(), 0, "{doctor}");
});

concurrency_test!(same_content_gives_one_artifact, |env, root, vars| {
    for i in 0..WRITERS {
        std::fs::write(env.path(&format!("copy{i}.txt")), "the same bytes\n").unwrap();
    }
    let calls: Vec<Vec<String>> = (0..WRITERS)
        .map(|i| {
            args(&[
                "save",
                &format!("copy{i}.txt"),
                "--description",
                &format!("copy {i}"),
                "--json",
            ])
        })
        .collect();
    let runs = env.cli.run_parallel(&calls, &vars);
    assert_all_ok(&runs);
    let uids: HashSet<String> = runs.iter().map(|r| uid_of(&r.json())).collect();
    assert_eq!(
        uids.len(),
        1,
        "every caller gets the one artifact: {uids:?}"
    );
    let all = env.run_env(&["ls", "--json"], &vars).ok().json();
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    let doctor = env.run_env(&["doctor", "--json"], &vars).ok().json();
    assert_eq!(doctor["orphans"].as_array().unwrap().len(), 0, "{doctor}");
});

concurrency_test!(shared_names_give_one_label_each, |env, root, vars| {
    let shared: Vec<String> = (0..10).map(|i| format!("shared label {i}")).collect();
    let calls: Vec<Vec<String>> = (0..WRITERS)
        .map(|w| {
            let file = format!("names{w}.txt");
            let mut names = shared.clone();
            names.push(format!("own label of writer {w}"));
            std::fs::write(env.path(&file), names.join("\n")).unwrap();
            args(&["ulabel", "create", "--from-file", &file, "--json"])
        })
        .collect();
    let runs = env.cli.run_parallel(&calls, &vars);
    assert_all_ok(&runs);
    let list = env
        .run_env(&["ulabel", "list", "--json"], &vars)
        .ok()
        .json();
    let names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), shared.len() + WRITERS, "{names:?}");
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "a name twice: {names:?}");
});

concurrency_test!(mixed_writers_never_fail, |env, root, vars| {
    // Each writer creates labels and saves files, several calls in a row.
    let mut calls = Vec::new();
    for w in 0..WRITERS {
        std::fs::write(env.path(&format!("w{w}.txt")), format!("writer {w}\n")).unwrap();
        calls.push(args(&["ulabel", "create", &format!("writer {w} label")]));
        calls.push(args(&[
            "save",
            &format!("w{w}.txt"),
            "--key",
            &format!("w/{w}.txt"),
        ]));
        calls.push(args(&["ulabel", "create", "common"]));
    }
    let runs = env.cli.run_parallel(&calls, &vars);
    assert_all_ok(&runs);
    let all = env.run_env(&["ls", "--json"], &vars).ok().json();
    assert_eq!(all.as_array().unwrap().len(), WRITERS, "{all}");
});

concurrency_test!(
    writers_annotating_one_artifact_lose_nothing,
    |env, root, vars| {
        let _ = &root;
        std::fs::write(env.path("a.txt"), "annotated by many\n").unwrap();
        env.run_env(&["save", "a.txt", "--key", "shared/a.txt"], &vars)
            .ok();
        for w in 0..WRITERS {
            env.run_env(&["ulabel", "create", &format!("label {w}")], &vars)
                .ok();
            env.run_env(
                &[
                    "feature",
                    "create",
                    &format!("feature_{w}"),
                    "--dtype",
                    "cat",
                ],
                &vars,
            )
            .ok();
        }
        // Every writer links its own label through its own feature, at once: each rebuilds the
        // artifact's external feature set.
        let calls: Vec<Vec<String>> = (0..WRITERS)
            .map(|w| {
                args(&[
                    "annotate",
                    "--key",
                    "shared/a.txt",
                    "--label",
                    &format!("label {w}"),
                    "--feature",
                    &format!("feature_{w}"),
                    "--json",
                ])
            })
            .collect();
        let runs = env.cli.run_parallel(&calls, &vars);
        assert_all_ok(&runs);
        let d = env
            .run_env(&["describe", "--key", "shared/a.txt", "--json"], &vars)
            .ok()
            .json();
        let external = &d["features"]["external"];
        assert_eq!(external["feature_set"]["n"], WRITERS, "{d}");
        assert_eq!(external["features"].as_array().unwrap().len(), WRITERS);
        assert_eq!(d["labels"]["ulabels"].as_array().unwrap().len(), WRITERS);
        // Only the final external set survives; the intermediate ones were deleted.
        let sets = env
            .run_env(&["view", "--registry", "FeatureSet", "--json"], &vars)
            .ok()
            .json();
        assert_eq!(sets["FeatureSet"]["total"], 1, "{sets}");
    }
);

/// Processes adding parents at once can never close a cycle between them: A→B and B→A (and
/// a three-cycle) race, exactly one edge of each would-be cycle is refused, and every label's
/// ancestry stays readable. (PostgreSQL is where this raced; SQLite serialises writers.)
#[test]
fn concurrent_parents_never_close_a_cycle() {
    let mut envs = vec![Env::sqlite()];
    envs.extend(Env::postgres());
    for mut env in envs {
        env.init("data");
        let rounds = 12;
        let mut names = Vec::new();
        for r in 0..rounds {
            names.extend([format!("a{r}"), format!("b{r}"), format!("c{r}")]);
        }
        std::fs::write(env.path("labels.txt"), names.join("\n") + "\n").unwrap();
        env.run(&["ulabel", "create", "--from-file", "labels.txt"])
            .ok();
        for r in 0..rounds {
            let (a, b, c) = (format!("a{r}"), format!("b{r}"), format!("c{r}"));
            let calls = if r % 2 == 0 {
                vec![
                    args(&["ulabel", "add-parent", &a, &b]),
                    args(&["ulabel", "add-parent", &b, &a]),
                ]
            } else {
                vec![
                    args(&["ulabel", "add-parent", &a, &b]),
                    args(&["ulabel", "add-parent", &b, &c]),
                    args(&["ulabel", "add-parent", &c, &a]),
                ]
            };
            let runs = env.cli.run_parallel(&calls, &[]);
            let refused: Vec<&lamella_tests::Run> = runs.iter().filter(|r| r.code != 0).collect();
            assert_eq!(
                refused.len(),
                1,
                "round {r}: exactly one edge of the cycle is refused: {runs:#?}"
            );
            assert!(
                refused[0].stderr.contains("cannot have cycles"),
                "{}",
                refused[0].stderr
            );
            for label in [&a, &b, &c] {
                env.run(&["ulabel", "parents", label, "--children"]).ok();
            }
        }
    }
}

/// Eight shells tracking at once: one run stays current, each of the others is finished by
/// the one that took its place, and every replacement is said exactly once.
#[test]
fn concurrent_tracks_leave_one_current_run() {
    let mut envs = vec![Env::sqlite()];
    envs.extend(Env::postgres());
    for mut env in envs {
        env.init("data");
        let calls: Vec<Vec<String>> = (0..WRITERS)
            .map(|i| args(&["track", &format!("Notebook {i}")]))
            .collect();
        let runs = env.cli.run_parallel(&calls, &[]);
        assert_all_ok(&runs);
        let said = runs
            .iter()
            .filter(|r| r.stderr.contains("it is finished now"))
            .count();
        assert_eq!(said, WRITERS - 1, "{runs:#?}");
        let view = env.run(&["view", "--json"]).ok().json();
        let records = view["Run"]["records"].as_array().unwrap().clone();
        let open = records
            .iter()
            .filter(|r| r["finished_at"].is_null())
            .count();
        assert_eq!(
            open, 1,
            "one run is current, the others finished: {records:#?}"
        );
        // The current one is what later commands continue, and `finish` ends it.
        env.run(&["finish"]).ok();
        let view = env.run(&["view", "--json"]).ok().json();
        let open = view["Run"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["finished_at"].is_null())
            .count();
        assert_eq!(open, 0);
    }
}

concurrency_test!(values_added_at_once_are_all_kept_once, |env, root, vars| {
    std::fs::write(env.path("a.txt"), "a").unwrap();
    env.run_env(&["save", "a.txt", "--key", "a.txt"], &vars)
        .ok();
    env.run_env(&["feature", "create", "donors", "--dtype", "int"], &vars)
        .ok();
    env.run_env(&["feature", "create", "split", "--dtype", "cat"], &vars)
        .ok();
    env.run_env(&["ulabel", "create", "train"], &vars).ok();
    // Every writer adds the same three values, one of its own, and the same label.
    let calls: Vec<Vec<String>> = (0..WRITERS)
        .map(|w| {
            let mut a = args(&["annotate", "--key", "a.txt", "--value", "split=train"]);
            for v in [1, 2, 3, 100 + w] {
                a.push("--value".into());
                a.push(format!("donors={v}"));
            }
            a.push("--json".into());
            a
        })
        .collect();
    let runs = env.cli.run_parallel(&calls, &vars);
    assert_all_ok(&runs);
    let ls = env
        .run_env(&["ls", "--features", "--json"], &vars)
        .ok()
        .json();
    let values = &ls[0]["features"];
    let mut donors: Vec<i64> = values["donors"]
        .as_array()
        .unwrap_or_else(|| panic!("{values}"))
        .iter()
        .filter_map(serde_json::Value::as_i64)
        .collect();
    donors.sort_unstable();
    let mut expected: Vec<i64> = vec![1, 2, 3];
    expected.extend((0..WRITERS as i64).map(|w| 100 + w));
    assert_eq!(donors, expected, "no value lost, none twice: {values}");
    assert_eq!(values["split"], "train", "{values}");
    // One external feature set for the artifact.
    let d = env
        .run_env(&["describe", "--key", "a.txt", "--json"], &vars)
        .ok()
        .json();
    assert_eq!(
        d["features"]["external"]["features"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{d}"
    );
});
