//! Feature values from the command line: `annotate --value`, `ls --filter` by value,
//! `ls --features`, collections, and the errors of bad values (exit 2).

use crate::{Env, assert_json_error, cli_test};

fn setup(env: &mut Env) {
    env.init("data");
    for (name, dtype) in [
        ("temperature", "float"),
        ("measured_on", "date"),
        ("split", "cat"),
        ("tags", "list[str]"),
    ] {
        env.run(&["feature", "create", name, "--dtype", dtype]).ok();
    }
    env.run(&["ulabel", "create", "train"]).ok();
    env.run(&["ulabel", "create", "test"]).ok();
    for name in ["a.csv", "b.csv"] {
        std::fs::write(env.path(name), format!("x\n{name}\n")).unwrap();
        env.run(&["save", name, "--key", name]).ok();
    }
}

fn keys(run: lamella_tests::Run) -> Vec<String> {
    run.ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_string())
        .collect()
}

cli_test!(values_are_recorded_and_found, |env| {
    setup(&mut env);
    let run = env
        .run(&[
            "annotate",
            "--key",
            "a.csv",
            "--value",
            "temperature=37",
            "--value",
            "measured_on=2025-02-01",
            "--value",
            "split=train",
            "--value",
            "tags=[x, y]",
        ])
        .ok();
    assert!(
        run.stdout.contains("recorded 4 values on artifact")
            && run
                .stdout
                .contains("temperature=37, measured_on=2025-02-01"),
        "{}",
        run.stdout
    );
    std::fs::write(
        env.path("b.json"),
        r#"{"temperature": 21.5, "measured_on": "2024-12-01", "split": ["test", "train"]}"#,
    )
    .unwrap();
    let j = env
        .run(&[
            "annotate",
            "--key",
            "b.csv",
            "--from-json",
            "b.json",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(j["values"]["temperature"], 21.5, "{j}");
    assert_eq!(
        j["values"]["split"],
        serde_json::json!(["test", "train"]),
        "{j}"
    );
    let ls = |f: &[&str]| {
        let mut a = vec!["ls", "--json"];
        for x in f {
            a.push("--filter");
            a.push(x);
        }
        keys(env.run(&a))
    };
    assert_eq!(ls(&["temperature__gt=30"]), ["a.csv"]);
    assert_eq!(ls(&["temperature__lte=37"]), ["a.csv", "b.csv"]);
    assert_eq!(ls(&["measured_on__gte=2025-01-01"]), ["a.csv"]);
    assert_eq!(ls(&["split=test"]), ["b.csv"]);
    assert_eq!(ls(&["split=train", "temperature__lt=30"]), ["b.csv"]);
    assert_eq!(ls(&["tags=y"]), ["a.csv"]);
    assert_eq!(ls(&["tags__isnull=true"]), ["b.csv"]);
    // One row per artifact, one column per feature.
    let table = env
        .run(&["ls", "--features", "temperature", "split"])
        .ok()
        .stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].contains("key") && lines[0].contains("temperature") && lines[0].contains("split"),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("b.csv") && l.contains("21.5") && l.contains("test|train")),
        "{table}"
    );
    let rows = env.run(&["ls", "--features", "--json"]).ok().json();
    assert_eq!(rows[0]["features"]["measured_on"], "2025-02-01", "{rows}");
    assert_eq!(
        rows[0]["features"]["tags"],
        serde_json::json!(["x", "y"]),
        "{rows}"
    );
    // describe shows the values under their features.
    let d = env.run(&["describe", "--key", "a.csv"]).ok().stdout;
    assert!(d.contains("    temperature (float): 37\n"), "{d}");
    // --replace, --remove-value, --remove-label.
    env.run(&[
        "annotate",
        "--key",
        "a.csv",
        "--value",
        "temperature=38",
        "--replace",
    ])
    .ok();
    assert_eq!(ls(&["temperature=38"]), ["a.csv"]);
    assert!(ls(&["temperature=37"]).is_empty());
    env.run(&["annotate", "--key", "a.csv", "--remove-value", "tags=x"])
        .ok();
    assert!(ls(&["tags=x"]).is_empty());
    assert_eq!(ls(&["tags=y"]), ["a.csv"]);
    env.run(&[
        "annotate",
        "--key",
        "b.csv",
        "--remove-label",
        "test",
        "--feature",
        "split",
    ])
    .ok();
    assert!(ls(&["split=test"]).is_empty());
});

cli_test!(
    collections_answer_which_have_a_train_and_test_split,
    |env| {
        setup(&mut env);
        let uids: Vec<String> = env
            .run(&["ls", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["uid"].as_str().unwrap().to_string())
            .collect();
        env.run(&[
            "collection",
            "create",
            "both",
            "--artifact",
            &uids[0],
            "--artifact",
            &uids[1],
        ])
        .ok();
        env.run(&["collection", "create", "one", "--artifact", &uids[0]])
            .ok();
        env.run(&[
            "annotate",
            "--collection",
            "both",
            "--value",
            "split=train",
            "--value",
            "split=test",
        ])
        .ok();
        env.run(&["annotate", "--collection", "one", "--value", "split=train"])
            .ok();
        let found = env
            .run(&[
                "collection",
                "ls",
                "--filter",
                "split=test",
                "--filter",
                "split=train",
                "--json",
            ])
            .ok()
            .json();
        let names: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["both"]);
        let table = env.run(&["collection", "ls", "--features"]).ok().stdout;
        assert!(table.contains("train|test"), "{table}");
    }
);

cli_test!(bad_values_exit_2_naming_feature_and_value, |env| {
    setup(&mut env);
    let cases: [(&[&str], &str); 5] = [
        (
            &["annotate", "--key", "a.csv", "--value", "temperature=warm"],
            "'warm'",
        ),
        (
            &["annotate", "--key", "a.csv", "--value", "tempreature=3"],
            "did you mean 'temperature'",
        ),
        (
            &[
                "annotate",
                "--key",
                "a.csv",
                "--value",
                "measured_on=yesterday",
            ],
            "a date such as",
        ),
        (&["ls", "--filter", "temperature__gt=warm"], "'warm'"),
        (&["ls", "--filter", "measured_on__gte=soon"], "measured_on"),
    ];
    for (args, needle) in cases {
        let mut a = args.to_vec();
        a.push("--json");
        assert_json_error(&env.run(&a), 2, "invalid_feature_value", needle);
    }
    // Nothing was recorded by the failed calls.
    let rows = env.run(&["ls", "--features", "--json"]).ok().json();
    assert_eq!(rows[0]["features"], serde_json::json!({}), "{rows}");
});

cli_test!(keys_and_descriptions_are_edited_with_update, |env| {
    setup(&mut env);
    std::fs::write(env.path("a.csv"), "x\nsecond\n").unwrap();
    env.run(&["save", "a.csv", "--key", "a.csv"]).ok();
    let run = env
        .run(&["update", "--key", "a.csv", "--key", "raw/a.csv"])
        .ok();
    assert!(
        run.stdout
            .contains("key 'a.csv' → 'raw/a.csv' (2 versions)"),
        "{}",
        run.stdout
    );
    let family = env.run(&["versions", "--key", "raw/a.csv", "--json"]).ok();
    let b = env
        .run(&["ls", "--filter", "key=b.csv", "--json"])
        .ok()
        .json()[0]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(family.json().as_array().unwrap().len(), 2);
    let uid = family.json()[1]["uid"].as_str().unwrap().to_string();
    let run = env
        .run(&["update", &uid, "-d", "second run", "--json"])
        .ok();
    assert_eq!(run.json()["outcome"], "updated");
    assert_eq!(run.json()["record"]["description"], "second run");
    // Refused: another artifact's key, another suffix; nothing to change.
    let run = env.run(&["update", &uid, "--key", "b.csv"]).fails();
    assert!(run.stderr.contains("taken"), "{}", run.stderr);
    let run = env.run(&["update", &uid, "--key", "raw/a.parquet"]).fails();
    assert!(run.stderr.contains("suffix '.parquet'"), "{}", run.stderr);
    let run = env.run(&["update", &uid]).fails();
    assert!(run.stderr.contains("nothing to change"), "{}", run.stderr);
    // The same content saved under another key: one line naming the key it has.
    std::fs::write(env.path("copy.csv"), "x\nb.csv\n").unwrap();
    let run = env.run(&["save", "copy.csv", "--key", "copy.csv"]).ok();
    assert!(
        run.stderr.contains("under key 'b.csv'") && run.stderr.contains("lamella update"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // Collections: renamed with every version.
    env.run(&["collection", "create", "study", "--artifact", &b])
        .ok();
    let run = env
        .run(&["update", "--collection", "study", "--name", "study 2025"])
        .ok();
    assert!(
        run.stdout.contains("name 'study' → 'study 2025'"),
        "{}",
        run.stdout
    );
    env.run(&["collection", "describe", "study 2025"]).ok();
});
