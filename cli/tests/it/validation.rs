//! `validate`, `curate`, `annotate --label --feature`, `ls --label/--feature`, synonyms and
//! feature constraints from the command line.

use crate::{assert_error, cli_test};

fn registry(env: &crate::Env) {
    for args in [
        vec!["ulabel", "create", "is_species"],
        vec!["ulabel", "create", "study0"],
        vec![
            "feature",
            "create",
            "sepal_length",
            "--dtype",
            "float",
            "--unit",
            "m",
            "--max",
            "1",
        ],
        vec![
            "feature",
            "create",
            "species",
            "--dtype",
            "cat[ULabel[is_species]]",
        ],
        vec!["feature", "create", "study", "--dtype", "cat"],
        vec!["feature", "create", "petal_count", "--dtype", "int"],
    ] {
        env.run(&args).ok();
    }
    std::fs::write(env.path("species.txt"), "setosa\nversicolor\nvirginica\n").unwrap();
    env.run(&[
        "ulabel",
        "create",
        "--from-file",
        "species.txt",
        "--parent",
        "is_species",
    ])
    .ok();
}

cli_test!(
    validate_reports_every_problem_and_curate_saves_nothing,
    |env| {
        env.init("data");
        registry(&env);
        std::fs::write(
            env.path("bad.csv"),
            "sepal_lenght,sepal_length,species,study,petal_count\n\
         1,51,setosa,study0,4\n2,4900,setsa,studdy0,x\n3,47,study0,study0,5\n",
        )
        .unwrap();
        let r = env.run(&["validate", "bad.csv", "--unit", "sepal_length=mm"]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        for needle in [
            "[columns/unexpected_column]",
            "did you mean 'sepal_length'?",
            "[units/unit_mismatch]",
            "multiply by 0.001",
            "[constraints/out_of_range]",
            "'4900': 1 row (row 1)",
            "'setsa': 1 row (row 1) → did you mean 'setosa'?",
            "[labels/label_outside_branch]",
            "'studdy0'",
            "[dtype/wrong_dtype]",
        ] {
            assert!(r.stdout.contains(needle), "{needle}:\n{}", r.stdout);
        }
        assert!(
            r.stdout.trim_end().ends_with("7 problems in 5 columns"),
            "{}",
            r.stdout
        );
        let json = env
            .run(&["validate", "bad.csv", "--unit", "sepal_length=mm", "--json"])
            .json();
        assert_eq!(json["valid"], false);
        assert_eq!(json["issues"].as_array().unwrap().len(), 7);
        let r = env.run(&["curate", "bad.csv", "--key", "bad.csv"]);
        assert_eq!(r.code, 1);
        assert!(r.stdout.contains("; nothing saved"), "{}", r.stdout);
        let listed = env.run(&["ls", "--trash", "--json"]).ok().json();
        assert_eq!(listed.as_array().unwrap().len(), 0, "nothing was saved");
        // A usage error is exit code 2.
        assert_eq!(
            env.run(&["validate", "bad.csv", "--categorical", "x"]).code,
            2
        );
    }
);

cli_test!(curate_saves_a_valid_table_with_its_annotations, |env| {
    env.init("data");
    registry(&env);
    std::fs::write(
        env.path("good.csv"),
        "sepal_length,iris,study,petal_count\n51,setosa,study0,4\n49,virginica,study1,5\n",
    )
    .unwrap();
    let args = [
        "curate",
        "good.csv",
        "--key",
        "iris/good.parquet",
        "--categorical",
        "iris=species",
        "--unit",
        "sepal_length=mm",
        "--convert-units",
    ];
    // study1 is unknown until --add-new registers it.
    let r = env.run(&args);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("'study1'"), "{}", r.stdout);
    let mut with_new = args.to_vec();
    with_new.extend(["--add-new", "study"]);
    // The curated table is Parquet whatever the input: a key with another suffix is refused
    // before anything is registered.
    let mut csv_key = with_new.clone();
    csv_key[3] = "iris/good.csv";
    assert_error(&env.run(&csv_key), "saved as Parquet");
    let r = env.run(&with_new).ok();
    assert!(r.stdout.contains("Features:"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("🔗 species (2, cat[ULabel[is_species]]): 'setosa', 'virginica'"),
        "{}",
        r.stdout
    );
    // Findable by label through the feature, and by feature.
    let found = env
        .run(&["ls", "--label", "setosa", "--feature", "species", "--json"])
        .ok()
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let none = env
        .run(&["ls", "--label", "setosa", "--feature", "study", "--json"])
        .ok()
        .json();
    assert_eq!(none.as_array().unwrap().len(), 0);
    let by_feature = env
        .run(&["ls", "--feature", "petal_count", "--json"])
        .ok()
        .json();
    assert_eq!(by_feature.as_array().unwrap().len(), 1);
    // The saved table holds metres.
    let head = env.run(&["load", "--key", "iris/good.parquet"]).ok();
    assert!(head.stdout.contains("0.051"), "{}", head.stdout);
});

cli_test!(annotate_links_labels_through_a_feature, |env| {
    env.init("data");
    std::fs::write(env.path("a.txt"), "a").unwrap();
    env.run(&["save", "a.txt", "--key", "raw/a.txt"]).ok();
    env.run(&["ulabel", "create", "study0"]).ok();
    env.run(&["feature", "create", "study_name", "--dtype", "cat"])
        .ok();
    let r = env
        .run(&[
            "annotate",
            "--key",
            "raw/a.txt",
            "--label",
            "study0",
            "--feature",
            "study_name",
        ])
        .ok();
    assert!(
        r.stdout
            .contains("linked feature 'study_name' to registry 'ULabel'"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("new feature set"), "{}", r.stdout);
    let d = env.run(&["describe", "--key", "raw/a.txt"]).ok();
    assert!(d.stdout.contains("  external: FeatureSet("), "{}", d.stdout);
    assert!(
        d.stdout
            .contains("🔗 study_name (1, cat[ULabel]): 'study0'"),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout.contains("📎 ulabels (1, ULabel): 'study0'"),
        "{}",
        d.stdout
    );
    env.run(&["feature", "create", "size", "--dtype", "float"])
        .ok();
    assert_error(
        &env.run(&[
            "annotate",
            "--key",
            "raw/a.txt",
            "--label",
            "study0",
            "--feature",
            "size",
        ]),
        "categorical",
    );
});

cli_test!(synonyms_inspect_and_constraints, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "setosa"]).ok();
    env.run(&["ulabel", "synonym", "add", "setosa", "Iris setosa"])
        .ok();
    let r = env.run(&["ulabel", "inspect", "setosa", "Iris setosa", "setosaa"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("1 of 3 distinct values validated"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("synonym of 'setosa'"), "{}", r.stdout);
    assert!(r.stdout.contains("did you mean 'setosa'?"), "{}", r.stdout);
    env.run(&["ulabel", "inspect", "setosa"]).ok();
    env.run(&["ulabel", "create", "virginica"]).ok();
    assert_error(
        &env.run(&["ulabel", "synonym", "add", "virginica", "Iris setosa"]),
        "is taken by ULabel",
    );
    // Removed, the synonym no longer maps to setosa and is free for another label.
    let removed = env
        .run(&[
            "ulabel",
            "synonym",
            "remove",
            "setosa",
            "Iris setosa",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(removed["outcome"], "updated");
    assert_eq!(removed["record"]["synonyms"], serde_json::Value::Null);
    let again = env
        .run(&["ulabel", "synonym", "remove", "setosa", "Iris setosa"])
        .ok();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    env.run(&["ulabel", "synonym", "add", "virginica", "Iris setosa"])
        .ok();
    env.run(&[
        "feature",
        "create",
        "code",
        "--dtype",
        "str",
        "--pattern",
        "S[0-9]+",
    ])
    .ok();
    env.run(&["feature", "update", "code", "--nullable", "false"])
        .ok();
    let f = env
        .run(&["feature", "list", "--filter", "name=code", "--json"])
        .ok()
        .json();
    assert_eq!(f[0]["pattern"], "S[0-9]+");
    assert_eq!(f[0]["nullable"], false);
    assert_error(
        &env.run(&[
            "feature", "create", "w", "--dtype", "float", "--min", "3", "--max", "2",
        ]),
        "above the maximum",
    );
    assert_error(
        &env.run(&["feature", "update", "code", "--min", "abc"]),
        "takes a number",
    );
});

cli_test!(
    usage_errors_exit_2_and_add_new_waits_for_a_clean_report,
    |env| {
        env.init("data");
        registry(&env);
        std::fs::write(
            env.path("t.csv"),
            "species,petal_count\nsetosa,4\nnewone,x\n",
        )
        .unwrap();
        for args in [
            vec!["validate", "t.csv", "--unit", "nope=mm"],
            vec!["validate", "missing.csv"],
            vec!["validate", "notes.txt"],
            vec!["curate", "t.csv", "--key", "k.parquet", "--add-new", "nope"],
        ] {
            let r = env.run(&args);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        }
        // petal_count has a wrong dtype: --add-new adds nothing while other problems remain.
        let r = env.run(&[
            "curate",
            "t.csv",
            "--key",
            "k.parquet",
            "--add-new",
            "species",
        ]);
        assert_eq!(r.code, 1);
        assert!(r.stdout.contains("nothing saved"), "{}", r.stdout);
        assert!(
            r.stdout.contains("1 new label from column 'species'"),
            "{}",
            r.stdout
        );
        let found = env
            .run(&["ulabel", "list", "--filter", "name=newone", "--json"])
            .ok()
            .json();
        assert_eq!(found.as_array().unwrap().len(), 0);
    }
);

cli_test!(tables_from_r_and_pandas_read_as_pandas_reads_them, |env| {
    env.init("data");
    env.run(&["feature", "create", "bill_length_mm", "--dtype", "float"])
        .ok();
    env.run(&["feature", "create", "year", "--dtype", "int"])
        .ok();
    env.run(&["feature", "create", "sex", "--dtype", "str"])
        .ok();
    // R's write.csv: NA for missing; a TSV; a gzipped CSV.
    let csv = "bill_length_mm,year,sex\n39.1,2007,male\nNA,2007,NA\n40.3,2008,female\n";
    std::fs::write(env.path("penguins.csv"), csv).unwrap();
    std::fs::write(env.path("penguins.tsv"), csv.replace(',', "\t")).unwrap();
    let gz = {
        use std::io::Write as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(csv.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    std::fs::write(env.path("penguins.csv.gz"), gz).unwrap();
    for file in ["penguins.csv", "penguins.tsv", "penguins.csv.gz"] {
        let r = env.run(&["validate", file, "--json"]);
        assert_eq!(r.code, 0, "{file}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.json()["valid"], true, "{file}");
    }
    let saved = env
        .run(&["save", "penguins.tsv", "--key", "penguins/p.tsv", "--json"])
        .ok()
        .json();
    assert_eq!(saved["record"]["n_observations"], 3);
    let head = env
        .run(&["load", "--key", "penguins/p.tsv", "--json"])
        .ok()
        .json();
    assert_eq!(head["n_rows"], 3);
    // A token that is not pandas' missing value makes the column text: the report shows it.
    std::fs::write(
        env.path("odd.csv"),
        "bill_length_mm,year,sex\n39.1,2007,male\nn.a.,2007,male\n-,2008,female\n",
    )
    .unwrap();
    let r = env.run(&["validate", "odd.csv", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = r.json();
    let issue = &report["issues"][0];
    assert_eq!(issue["code"], "wrong_dtype");
    let values: Vec<&str> = issue["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["n.a.", "-"]);
    let text = env.run(&["validate", "odd.csv"]);
    assert!(text.stdout.contains("'n.a.'"), "{}", text.stdout);
    // --na names the tokens: then the file is valid.
    let r = env.run(&["validate", "odd.csv", "--na", "n.a.,-", "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
});

cli_test!(a_failed_curation_registers_no_labels_and_says_why, |env| {
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
    // Two new values, one with a trailing space: it cannot become a label.
    std::fs::write(
        env.path("t.csv"),
        "species\nnewone\n\"virginica \"\nnewone\n",
    )
    .unwrap();
    let r = env.run(&[
        "curate",
        "t.csv",
        "--key",
        "t.parquet",
        "--add-new",
        "species",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("not_a_name"), "{}", r.stdout);
    assert!(
        r.stdout.contains("leading or trailing spaces"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("--add-new") && !r.stderr.contains("--add-new"),
        "no advice to pass what was passed:\n{}{}",
        r.stdout,
        r.stderr
    );
    let labels = env.run(&["ulabel", "list", "--json"]).ok().json();
    assert_eq!(
        labels.as_array().unwrap().len(),
        1,
        "nothing registered: {labels}"
    );
    assert!(
        env.run(&["ls", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Without --add-new the report says how to register them.
    let r = env.run(&["validate", "t.csv"]);
    assert!(r.stderr.contains("--add-new species"), "{}", r.stderr);
    // Fixed: the new label and the artifact land together, with the label under the branch.
    std::fs::write(env.path("t.csv"), "species\nnewone\nvirginica\n").unwrap();
    let r = env
        .run(&[
            "curate",
            "t.csv",
            "--key",
            "t.parquet",
            "--add-new",
            "species",
            "--json",
        ])
        .ok();
    assert!(r.stdout.contains("newone"), "{}", r.stdout);
    let under = env
        .run(&[
            "ulabel",
            "list",
            "--filter",
            "parents__name=is_species",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(under.as_array().unwrap().len(), 2);
});

cli_test!(
    text_that_looks_right_but_differs_is_shown_and_never_registered,
    |env| {
        env.init("data");
        env.run(&["ulabel", "create", "is_species"]).ok();
        env.run(&["ulabel", "create", "café", "--parent", "is_species"])
            .ok();
        env.run(&["ulabel", "create", "setosa", "--parent", "is_species"])
            .ok();
        env.run(&[
            "feature",
            "create",
            "species",
            "--dtype",
            "cat[ULabel[is_species]]",
        ])
        .ok();
        // NFD café, a Cyrillic е, a zero-width space, a bidi override, a newline.
        let values = [
            "cafe\u{301}",
            "s\u{435}tosa",
            "set\u{200b}osa",
            "\u{202e}asotes",
            "two\nlines",
        ];
        let mut csv = String::from("species\n");
        for v in values {
            csv.push_str(&format!("\"{v}\"\n"));
        }
        std::fs::write(env.path("t.csv"), csv).unwrap();
        let r = env.run(&["validate", "t.csv"]);
        assert_eq!(r.code, 1);
        for shown in [
            "cafe\\u{301}",
            "s\\u{435}tosa",
            "set\\u{200b}osa",
            "\\u{202e}asotes",
            "two\\nlines",
        ] {
            assert!(r.stdout.contains(shown), "{shown} not in:\n{}", r.stdout);
        }
        assert!(
            !r.stdout.contains('\u{202e}') && !r.stdout.contains('\u{200b}'),
            "{}",
            r.stdout
        );
        // --add-new registers none of them, and says why.
        let r = env.run(&[
            "curate",
            "t.csv",
            "--key",
            "t.parquet",
            "--add-new",
            "species",
        ]);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(r.stdout.contains("not_a_name"), "{}", r.stdout);
        assert!(r.stdout.contains("NFC"), "{}", r.stdout);
        let labels = env.run(&["ulabel", "list", "--json"]).ok().json();
        assert_eq!(labels.as_array().unwrap().len(), 3, "{labels}");
        // Such names are refused when created directly, too.
        for bad in ["s\u{435}tosa", "x\u{202e}y", "set\u{200b}osa"] {
            let r = env.run(&["ulabel", "create", bad]);
            assert_eq!(r.code, 1, "{bad:?}: {}", r.stderr);
            assert!(!r.stderr.contains('\u{202e}'), "{}", r.stderr);
        }
    }
);

cli_test!(synonyms_are_applied_with_standardize, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "is_species"]).ok();
    for name in ["setosa", "versicolor"] {
        env.run(&["ulabel", "create", name, "--parent", "is_species"])
            .ok();
    }
    env.run(&["ulabel", "synonym", "add", "setosa", "Iris setosa"])
        .ok();
    env.run(&["ulabel", "synonym", "add", "setosa", "SETOSA"])
        .ok();
    env.run(&[
        "feature",
        "create",
        "sepal_length",
        "--dtype",
        "float",
        "--synonyms",
        "sepal length",
    ])
    .ok();
    env.run(&[
        "feature",
        "create",
        "species",
        "--dtype",
        "cat[ULabel[is_species]]",
    ])
    .ok();
    // The mapping of loose values.
    let m = env
        .run(&[
            "ulabel",
            "standardize",
            "SETOSA",
            "versicolor",
            "x",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        m["values"],
        serde_json::json!(["setosa", "versicolor", "x"])
    );
    assert_eq!(m["mapping"], serde_json::json!({"SETOSA": "setosa"}));
    std::fs::write(
        env.path("field.csv"),
        "sepal length,species\n5.1,Iris setosa\n4.9,SETOSA\n7.0,versicolor\n6.1,Iris setosa\n",
    )
    .unwrap();
    // Without --standardize: invalid; with it: valid, and the fixed table is written.
    assert_eq!(env.run(&["validate", "field.csv"]).code, 1);
    let r = env
        .run(&[
            "validate",
            "field.csv",
            "--standardize",
            "--out",
            "fixed.csv",
        ])
        .ok();
    assert!(
        r.stdout.contains("column 'sepal length' → 'sepal_length'")
            && r.stdout.contains("species: 'Iris setosa' → 'setosa'")
            && r.stdout.contains("species: 3 rows changed"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(env.path("fixed.csv")).unwrap(),
        "sepal_length,species\n5.1,setosa\n4.9,setosa\n7.0,versicolor\n6.1,setosa\n"
    );
    env.run(&["validate", "fixed.csv"]).ok();
    // An existing --out is never written over.
    assert_error(
        &env.run(&[
            "validate",
            "field.csv",
            "--standardize",
            "--out",
            "fixed.csv",
        ]),
        "exists",
    );
    // The fix map for programs.
    let j = env
        .run(&["validate", "field.csv", "--standardize", "--json"])
        .ok()
        .json();
    assert_eq!(j["valid"], true);
    assert_eq!(j["fixes"]["columns"]["sepal length"], "sepal_length");
    assert_eq!(j["fixes"]["values"]["species"]["SETOSA"], "setosa");
    assert_eq!(j["fixes"]["rows"]["species"], 3);
    // Curate saves the standardized table.
    env.run(&[
        "curate",
        "field.csv",
        "--standardize",
        "--key",
        "field.parquet",
    ])
    .ok();
    let found = env
        .run(&["ls", "--label", "setosa", "--feature", "species", "--json"])
        .ok()
        .json();
    assert_eq!(found[0]["key"], "field.parquet");
    let head = env.run(&["load", "--key", "field.parquet"]).ok();
    assert!(
        head.stdout.contains("sepal_length") && !head.stdout.contains("SETOSA"),
        "{}",
        head.stdout
    );
});

cli_test!(saved_schemas_validate_and_curate, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "setosa"]).ok();
    env.run(&["feature", "create", "sepal_length", "--dtype", "float"])
        .ok();
    env.run(&["feature", "create", "species", "--dtype", "cat"])
        .ok();
    env.run(&["feature", "create", "petal_width", "--dtype", "float"])
        .ok();
    let r = env
        .run(&[
            "schema",
            "create",
            "iris",
            "--feature",
            "sepal_length",
            "--require",
            "species",
            "--categorical",
            "name=species",
        ])
        .ok();
    assert!(
        r.stdout.contains("saved schema 'iris' version 1"),
        "{}",
        r.stdout
    );
    std::fs::write(
        env.path("t.csv"),
        "sepal_length,name,petal_width\n5.1,setosa,0.2\n",
    )
    .unwrap();
    // petal_width is a feature, but not the schema's: invalid with the schema only.
    env.run(&["validate", "t.csv", "--categorical", "name=species"])
        .ok();
    let r = env.run(&["validate", "t.csv", "--schema", "iris"]).fails();
    assert!(
        r.stdout.contains("which schema 'iris' does not list"),
        "{}",
        r.stdout
    );
    let r = env.run(&["validate", "t.csv", "--schema", "irsi"]).fails();
    assert!(r.stderr.contains("did you mean 'iris'"), "{}", r.stderr);
    // Version 2 allows extra columns; curate links the artifact to it.
    env.run(&[
        "schema",
        "create",
        "iris",
        "--feature",
        "sepal_length",
        "--require",
        "species",
        "--categorical",
        "name=species",
        "--allow-extra",
    ])
    .ok();
    env.run(&["curate", "t.csv", "--schema", "iris", "--key", "t.parquet"])
        .ok();
    let d = env
        .run(&["describe", "--key", "t.parquet", "--json"])
        .ok()
        .json();
    assert_eq!(d["schema"]["name"], "iris");
    assert_eq!(d["schema"]["version"], 2);
    let versions = env
        .run(&["schema", "describe", "iris", "--versions", "--json"])
        .ok()
        .json();
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_error(
        &env.run(&["schema", "delete", "iris"]),
        "kept by 1 artifact",
    );
});
