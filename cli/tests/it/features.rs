//! `lamella feature …`

use crate::{assert_error, cli_test};

cli_test!(create_list_search_delete, |env| {
    env.init("data");
    let created = env
        .run(&[
            "feature",
            "create",
            "sepal_length",
            "--dtype",
            "float",
            "--unit",
            "m",
            "--synonyms",
            "sepal length|SL",
            "--description",
            "length of the sepal",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(created["record"]["dtype"], "float");
    assert_eq!(created["record"]["unit"], "m");
    assert_eq!(created["record"]["synonyms"], "sepal length|SL");
    assert_eq!(created["outcome"], "created");
    assert_eq!(created["record"]["uid"].as_str().unwrap().len(), 12);
    env.run(&["feature", "create", "iris_species_name", "--dtype", "cat"])
        .ok();

    let list = env.run(&["feature", "list", "--json"]).ok().json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let mut keys: Vec<&str> = list[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "created_by_id",
            "description",
            "dtype",
            "id",
            "max_value",
            "min_value",
            "name",
            "nullable",
            "pattern",
            "run_id",
            "synonyms",
            "uid",
            "unit",
            "updated_at"
        ]
    );
    assert_eq!(list[1]["name"], "iris_species_name");
    assert_eq!(list[1]["dtype"], "cat");
    let filtered = env
        .run(&["feature", "list", "--filter", "dtype=cat", "--json"])
        .ok()
        .json();
    assert_eq!(filtered.as_array().unwrap().len(), 1);

    let again = env
        .run(&["feature", "create", "iris_species_name", "--dtype", "cat"])
        .ok();
    assert!(
        again
            .stderr
            .contains("loaded Feature record with same name: 'iris_species_name'"),
        "{}",
        again.stderr
    );

    let hits = env.run(&["feature", "search", "sl", "--json"]).ok().json();
    assert_eq!(hits[0]["record"]["name"], "sepal_length");
    assert_eq!(hits[0]["match"], "synonym");

    env.run(&["feature", "delete", "sepal_length"]).ok();
    let list = env.run(&["feature", "list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 1);
});

cli_test!(bad_dtype_is_a_clear_error, |env| {
    env.init("data");
    let run = env.run(&["feature", "create", "sepal_width", "--dtype", "flaot"]);
    assert_error(&run, "invalid dtype 'flaot'");
    assert!(
        run.stderr.contains("did you mean 'float'"),
        "{}",
        run.stderr
    );
    assert_error(
        &env.run(&["feature", "create", "x", "--dtype", "cat[Not A Registry]"]),
        "cat[Not A Registry]",
    );
    let list = env.run(&["feature", "list", "--json"]).ok().json();
    assert_eq!(list, serde_json::json!([]), "nothing was created");
    // The dtype is required: a usage error.
    assert_eq!(env.run(&["feature", "create", "x"]).code, 2);
});

cli_test!(
    a_second_create_names_what_differs_and_update_changes_it,
    |env| {
        env.init("data");
        env.run(&[
            "feature", "create", "length", "--dtype", "float", "--unit", "mm",
        ])
        .ok();
        let again = env
            .run(&[
                "feature", "create", "length", "--dtype", "int", "--unit", "m",
            ])
            .ok();
        assert!(
            again
                .stderr
                .contains("exists with dtype 'float', not 'int'")
                && again.stderr.contains("exists with unit 'mm', not 'm'")
                && again
                    .stderr
                    .contains("update the feature's dtype if 'int' is right"),
            "{}",
            again.stderr
        );
        let updated = env
            .run(&[
                "feature", "update", "length", "--dtype", "num", "--unit", "m", "--json",
            ])
            .ok()
            .json();
        assert_eq!(updated["record"]["dtype"], "num");
        assert_eq!(updated["record"]["unit"], "m");
        let cleared = env
            .run(&["feature", "update", "length", "--unit", "", "--json"])
            .ok()
            .json();
        assert!(cleared["record"]["unit"].is_null(), "{cleared}");
        assert_error(
            &env.run(&["feature", "update", "length", "--dtype", "flaot"]),
            "did you mean 'float'",
        );
        assert_error(
            &env.run(&["feature", "update", "length"]),
            "nothing to update",
        );
        // The same create now matches: no remark.
        let same = env
            .run(&["feature", "create", "length", "--dtype", "num"])
            .ok();
        assert!(!same.stderr.contains("exists with"), "{}", same.stderr);
    }
);

cli_test!(features_from_a_file, |env| {
    env.init("data");
    std::fs::write(
        env.path("iris.csv"),
        "sepal_length,species\n5.1,setosa\n4.9,setosa\n7.0,versicolor\n6.4,versicolor\n",
    )
    .unwrap();
    let shown = env.run(&["feature", "from-file", "iris.csv"]).ok();
    assert!(
        shown.stdout.contains("sepal_length (float)") && shown.stdout.contains("species (cat)"),
        "{}",
        shown.stdout
    );
    let listed = env.run(&["feature", "list", "--json"]).ok().json();
    assert_eq!(
        listed.as_array().unwrap().len(),
        0,
        "nothing saved without --save"
    );
    env.run(&["feature", "from-file", "iris.csv", "--save"])
        .ok();
    let listed = env.run(&["feature", "list", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_error(
        &env.run(&["feature", "from-file", "notes.txt"]),
        "not a table",
    );
});

cli_test!(annotate_links_a_tables_columns, |env| {
    env.init("data");
    std::fs::write(
        env.path("iris.csv"),
        "sepal_length,species\n5.1,setosa\n4.9,setosa\n7.0,versicolor\n6.4,versicolor\n",
    )
    .unwrap();
    env.run(&["save", "iris.csv", "--key", "iris.csv"]).ok();
    assert_error(
        &env.run(&["annotate", "--key", "iris.csv", "--columns"]),
        "2 columns of artifact",
    );
    env.run(&["feature", "from-file", "iris.csv", "--save"])
        .ok();
    let out = env
        .run(&["annotate", "--key", "iris.csv", "--columns", "--json"])
        .ok()
        .json();
    assert_eq!(out["slot"], "columns");
    assert_eq!(out["features"].as_array().unwrap().len(), 2);
    let described = env
        .run(&["describe", "--key", "iris.csv", "--json"])
        .ok()
        .json();
    let cols = &described["features"]["columns"]["features"];
    assert_eq!(cols[0]["feature"]["name"], "sepal_length");
    assert_eq!(cols[1]["feature"]["dtype"], "cat");
    assert_error(
        &env.run(&["annotate", "--key", "iris.csv"]),
        "nothing to annotate",
    );
});

cli_test!(track_lasts_across_commands_until_finish, |env| {
    env.init("data");
    std::fs::write(env.path("in.csv"), "a,b\n1,x\n").unwrap();
    env.run(&["save", "in.csv", "--key", "raw/in.csv"]).ok();
    let tracked = env
        .run(&[
            "track",
            "Petal & sepal regressor",
            "--version",
            "1",
            "--json",
        ])
        .ok()
        .json();
    let run = tracked["record"]["uid"].as_str().unwrap().to_string();
    env.run(&["load", "--key", "raw/in.csv"]).ok();
    std::fs::write(env.path("out.csv"), "a,b\n2,y\n").unwrap();
    let saved = env
        .run(&["save", "out.csv", "--key", "out/out.csv", "--json"])
        .ok()
        .json();
    assert_eq!(saved["record"]["run_id"], tracked["record"]["id"]);
    let d = env
        .run(&["describe", "--key", "out/out.csv", "--json"])
        .ok()
        .json();
    assert_eq!(d["provenance"]["run"]["uid"], run.as_str());
    assert_eq!(d["provenance"]["inputs"][0]["key"], "raw/in.csv");
    let text = env.run(&["describe", "--key", "out/out.csv"]).ok().stdout;
    assert!(
        text.contains("📎 inputs (1, Artifact): 'raw/in.csv'"),
        "{text}"
    );
    let done = env.run(&["finish", "--json"]).ok().json();
    assert_eq!(done["record"]["uid"], run.as_str());
    assert!(done["record"]["finished_at"].is_string());
    // After finish, saves belong to no run.
    std::fs::write(env.path("late.csv"), "a\n3\n").unwrap();
    let late = env
        .run(&["save", "late.csv", "--key", "late.csv", "--json"])
        .ok()
        .json();
    assert!(late["record"]["run_id"].is_null());
    assert!(
        env.run(&["finish"])
            .ok()
            .stdout
            .contains("no run is being tracked")
    );
    assert_error(
        &env.run(&["track", "x", "--type", "job"]),
        "not a transform type",
    );
});

cli_test!(collections_from_the_command_line, |env| {
    env.init("data");
    std::fs::write(env.path("s1.csv"), "n,species\n1,setosa\n2,setosa\n").unwrap();
    std::fs::write(env.path("s2.csv"), "n,species,extra\n3,virginica,x\n").unwrap();
    env.run(&["save", "s1.csv", "--key", "s/s1.csv"]).ok();
    env.run(&["save", "s2.csv", "--key", "s/s2.csv"]).ok();
    let c = env
        .run(&[
            "collection",
            "create",
            "Studies",
            "--key",
            "s/s1.csv",
            "--key",
            "s/s2.csv",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(c["outcome"], "created");
    let again = env
        .run(&[
            "collection",
            "create",
            "Other",
            "--key",
            "s/s2.csv",
            "--key",
            "s/s1.csv",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(again["outcome"], "existing");
    assert_eq!(again["record"]["uid"], c["record"]["uid"]);
    let plan = env
        .run(&["collection", "check", "Studies", "--json"])
        .ok()
        .json();
    assert_eq!(plan["rows"], 3);
    assert_eq!(plan["columns"][2]["name"], "extra");
    assert_eq!(plan["columns"][2]["nulls_filled"], 2);
    let text = env
        .run(&["collection", "check", "Studies", "--join", "inner"])
        .ok()
        .stdout;
    assert!(text.contains("left out by the inner join: extra"), "{text}");
    // Labels through a categorical feature that not every member has are named.
    env.run(&["feature", "create", "species", "--dtype", "cat"])
        .ok();
    env.run(&["ulabel", "create", "setosa"]).ok();
    env.run(&["ulabel", "create", "virginica"]).ok();
    for (key, label) in [("s/s1.csv", "setosa"), ("s/s2.csv", "virginica")] {
        env.run(&[
            "annotate",
            "--key",
            key,
            "--label",
            label,
            "--feature",
            "species",
        ])
        .ok();
    }
    let text = env.run(&["collection", "check", "Studies"]).ok().stdout;
    assert!(
        text.contains(
            "column 'species' (cat[ULabel]): 2 of 2 labels are not on every annotated member"
        ),
        "{text}"
    );
    assert!(
        text.contains("only in artifact ") && text.contains(": 'virginica'"),
        "{text}"
    );
    let plan = env
        .run(&["collection", "check", "Studies", "--json"])
        .ok()
        .json();
    assert_eq!(plan["columns"][1]["categories"]["common"], 0, "{plan}");
    env.run(&["collection", "load", "Studies", "--out", "all.csv"])
        .ok();
    let csv = std::fs::read_to_string(env.path("all.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("n,species,extra"), "{csv}");
    let listed = env.run(&["collection", "ls", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let d = env.run(&["collection", "describe", "Studies"]).ok().stdout;
    assert!(d.contains("Artifacts (2):"), "{d}");
    assert_error(
        &env.run(&["collection", "load", "Nope"]),
        "no Collection matches",
    );
    assert_error(&env.run(&["collection", "create", "x"]), "--artifact");
    // In a run: the cached collection is an input, the saved export an output.
    env.run(&["track", "Concatenate"]).ok();
    let cached = env
        .run(&["collection", "cache", "Studies", "--json"])
        .ok()
        .json();
    assert_eq!(cached["paths"].as_array().unwrap().len(), 2, "{cached}");
    let saved = env
        .run(&[
            "collection",
            "load",
            "Studies",
            "--out",
            "joint.parquet",
            "--save",
            "joint/all.parquet",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(saved["rows"], 3, "{saved}");
    assert_eq!(saved["record"]["key"], "joint/all.parquet", "{saved}");
    env.run(&["finish"]).ok();
    let d = env
        .run(&["describe", "--key", "joint/all.parquet"])
        .ok()
        .stdout;
    assert!(d.contains("📎 inputs (1, Collection): 'Studies'"), "{d}");
    let usage = env.run(&["collection", "load", "Studies", "--save", "k.parquet"]);
    assert_eq!(usage.code, 2, "a usage error: {}", usage.stderr);
    assert!(usage.stderr.contains("--out <FILE>"), "{}", usage.stderr);
    assert_error(
        &env.run(&["collection", "describe", "Studies", "--version", "7"]),
        "version 7",
    );
});

cli_test!(lineage_from_the_command_line, |env| {
    env.init("data");
    std::fs::write(env.path("in.csv"), "a\n1\n").unwrap();
    env.run(&["save", "in.csv", "--key", "raw/in.csv"]).ok();
    env.run(&["track", "Model"]).ok();
    env.run(&["load", "--key", "raw/in.csv"]).ok();
    std::fs::write(env.path("out.csv"), "a\n2\n").unwrap();
    env.run(&["save", "out.csv", "--key", "out.csv"]).ok();
    env.run(&["finish"]).ok();
    let text = env.run(&["lineage", "--key", "out.csv"]).ok().stdout;
    assert!(text.contains("raw/in.csv → Model run"), "{text}");
    assert!(text.contains("→ out.csv"), "{text}");
    env.run(&[
        "lineage", "--key", "out.csv", "--out", "l.svg", "--out", "l.dot", "--out", "l.mmd",
        "--out", "l.json",
    ])
    .ok();
    let svg = std::fs::read_to_string(env.path("l.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    assert!(
        std::fs::read_to_string(env.path("l.dot"))
            .unwrap()
            .contains("digraph")
    );
    let events: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("l.json")).unwrap()).unwrap();
    assert_eq!(events[0]["eventType"], "COMPLETE");
    assert_eq!(events[0]["inputs"].as_array().unwrap().len(), 1);
    // Downstream of the input: the run and its output.
    let down = env
        .run(&["lineage", "--key", "raw/in.csv", "--downstream"])
        .ok()
        .stdout;
    assert!(down.contains("→ out.csv"), "{down}");
    let none = env.run(&["lineage", "--key", "raw/in.csv"]).ok().stdout;
    assert!(none.contains("no lineage"), "{none}");
    assert_eq!(env.run(&["lineage"]).code, 2);
    assert_error(
        &env.run(&["lineage", "--key", "out.csv", "--out", "l.png"]),
        ".svg",
    );
});

cli_test!(collection_trash_from_the_command_line, |env| {
    env.init("data");
    std::fs::write(env.path("s1.csv"), "n\n1\n").unwrap();
    env.run(&["save", "s1.csv", "--key", "s1.csv"]).ok();
    env.run(&["collection", "create", "Bin", "--key", "s1.csv"])
        .ok();
    let r = env.run(&["collection", "delete", "Bin"]).ok().stdout;
    assert!(r.contains("to the trash"), "{r}");
    assert_eq!(
        env.run(&["collection", "ls", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        env.run(&["collection", "ls", "--trash", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.run(&["collection", "restore", "Bin"]).ok();
    assert_eq!(
        env.run(&["collection", "ls", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let gone = env
        .run(&["collection", "delete", "Bin", "--permanent"])
        .ok()
        .stdout;
    assert!(gone.contains("for good"), "{gone}");
    assert_eq!(
        env.run(&["collection", "ls", "--trash", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
});

cli_test!(storage_default_is_remembered_across_commands, |env| {
    env.init("data");
    let shown = env.run(&["storage", "default"]).ok().stdout;
    assert!(
        shown.contains("new artifacts go to") && shown.contains("data"),
        "{shown}"
    );
    let chosen = env
        .run(&["storage", "default", "second", "--json"])
        .ok()
        .json();
    assert!(
        chosen["record"]["root"]
            .as_str()
            .unwrap()
            .ends_with("second"),
        "{chosen}"
    );
    std::fs::write(env.path("f.txt"), "x").unwrap();
    let a = env
        .run(&["save", "f.txt", "--key", "f.txt", "--json"])
        .ok()
        .json();
    assert_eq!(a["record"]["storage_id"], chosen["record"]["id"]);
    assert!(env.path("second/.lamella").is_dir());
    let now = env.run(&["storage", "default", "--json"]).ok().json();
    assert_eq!(now["record"]["uid"], chosen["record"]["uid"]);
    assert_eq!(
        env.run(&["storage", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .map(Vec::len),
        Some(2)
    );
});

cli_test!(
    features_from_a_table_never_advise_undoing_a_stricter_dtype,
    |env| {
        env.init("data");
        env.run(&["ulabel", "create", "is_species"]).ok();
        env.run(&[
            "feature",
            "create",
            "species",
            "--dtype",
            "cat[ULabel[is_species]]",
        ])
        .ok();
        env.run(&["feature", "create", "sepal_length", "--dtype", "int"])
            .ok();
        std::fs::write(
            env.path("iris.csv"),
            "sepal_length,species\n5.1,setosa\n4.9,setosa\n",
        )
        .unwrap();
        let run = env
            .run(&["feature", "from-file", "iris.csv", "--save"])
            .ok();
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("feature 'species' exists"), "{all}");
        assert!(!all.contains("--dtype str"), "{all}");
        // An int feature does not accept a float column: that one is named.
        assert!(
            all.contains("feature 'sepal_length' exists with dtype 'int', not 'float'"),
            "{all}"
        );
        let species = env
            .run(&["feature", "list", "--filter", "name=species", "--json"])
            .ok()
            .json();
        assert_eq!(species[0]["dtype"], "cat[ULabel[is_species]]");
    }
);

cli_test!(
    categories_must_name_existing_registries_and_branches,
    |env| {
        env.init("data");
        let run = env.run(&[
            "feature",
            "create",
            "species",
            "--dtype",
            "cat[ULabel[no_such_label]]",
        ]);
        assert_error(&run, "there is no label 'no_such_label'");
        assert!(
        run.stderr.contains("hint: create it with `lamella ulabel create no_such_label`, or pass --create-branch"),
        "{}",
        run.stderr
    );
        let run = env.run(&[
            "feature",
            "create",
            "cell_type",
            "--dtype",
            "cat[bionty.CellType]",
        ]);
        assert_error(&run, "Lamella has no registry 'bionty.CellType'");
        let list = env.run(&["feature", "list", "--json"]).ok().json();
        assert_eq!(list, serde_json::json!([]), "nothing was created");
        // The branch can be created first, or on the way.
        let made = env
            .run(&[
                "feature",
                "create",
                "species",
                "--dtype",
                "cat[ULabel[is_species]]",
                "--create-branch",
            ])
            .ok();
        assert!(
            made.stderr
                .contains("created the branch label 'is_species'"),
            "{}",
            made.stderr
        );
        env.run(&["ulabel", "list", "--filter", "name=is_species", "--json"])
            .ok();
        // Updates are checked the same way.
        let run = env.run(&[
            "feature",
            "update",
            "species",
            "--dtype",
            "cat[ULabel[gone]]",
        ]);
        assert_error(&run, "there is no label 'gone'");
        env.run(&[
            "feature",
            "update",
            "species",
            "--dtype",
            "cat[ULabel[gone]]",
            "--create-branch",
        ])
        .ok();
        let f = env
            .run(&["feature", "list", "--filter", "name=species", "--json"])
            .ok()
            .json();
        assert_eq!(f[0]["dtype"], "cat[ULabel[gone]]");
    }
);
