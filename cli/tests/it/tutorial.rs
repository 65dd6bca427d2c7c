//! `lamella tutorial DIR`

use crate::{Env, assert_error, cli_test};

cli_test!(replays_the_tutorial, |env| {
    let db = env.db_args();
    let mut args = vec!["tutorial", "tut"];
    args.extend(db.iter().map(String::as_str));
    let run = env.run(&args).ok();
    let out = &run.stdout;
    let key_steps = [
        "## 1. Re-cap: create a label",
        "name='Study 0: initial plant gathering', description='My initial study'",
        "name='study_name', dtype='cat'",
        "## 3. Register labels",
        "saved 3 new ULabel records",
        "is_species *\n├── setosa\n├── versicolor\n└── virginica",
        "is_study *\n├── study0\n├── study1\n└── study2",
        "name='iris_species_name', dtype='cat'",
        "features.get(\"iris_species_name\")",
        "## 7. Run an ML model",
        "sepal_length  sepal_width  petal_length  petal_width  iris_organism_name",
        "       0.050        0.036         0.014        0.002  setosa",
        "7 rows × 5 columns",
        "## 8. Register the output data",
        "✅ saved artifact ",
        "suffix='.parquet', accessor='DataFrame', description='Iris study 1 - after measuring \
         sepal & petal metrics'",
        "n_observations=7",
        "$ lamella describe ",
        "Provenance:\n  📎 storage: Storage(",
        "📎 created_by: User(",
        "ULabel (7 most recent of 9)",
        "description='Iris study 2 - transformed'",
        "rust> let artifact2 = ln.artifacts().filter(\"description\", \"Iris study 2 - transformed\")",
        "description='Iris study 2 - transformed'",
        "6 rows × 5 columns",
        "Artifact (2)",
        "❗ loaded ULabel record with same name: 'project1'",
        "❗ 'project 1' is similar to existing: 'project1'",
        "name='project1a'",
        "deleted ULabel 'project1a'",
        "Storage (1)",
        "This is it!",
    ];
    let mut at = 0;
    for step in key_steps {
        let found = out[at..]
            .find(step)
            .unwrap_or_else(|| panic!("{step:?} missing (in order) from:\n{out}"));
        at += found + step.len();
    }
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    // The same uid when project1 is created again.
    let uids: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("name='project1'"))
        .map(|l| &l[l.find("uid='").unwrap()..][..15])
        .collect();
    assert!(
        uids.len() >= 3 && uids.iter().all(|u| *u == uids[0]),
        "{uids:?}"
    );
    for f in [
        "is_species.svg",
        "is_species.dot",
        "is_species.mmd",
        "is_study.svg",
    ] {
        assert!(env.path("tut/graphs").join(f).is_file(), "{f} missing");
    }
    // The tutorial's instance is current and holds its records.
    let labels = env
        .run(&[
            "ulabel",
            "list",
            "--filter",
            "parents__name=is_species",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(labels.as_array().unwrap().len(), 3);
    // …and its two artifacts, which load as tables.
    let artifacts = env.run(&["ls", "--json"]).ok().json();
    let artifacts = artifacts.as_array().unwrap();
    assert_eq!(artifacts.len(), 2);
    assert!(artifacts.iter().all(|a| a["accessor"] == "DataFrame"));
    let study2 = env
        .run(&[
            "ls",
            "--filter",
            "description=Iris study 2 - transformed",
            "--json",
        ])
        .ok()
        .json();
    let uid = study2[0]["uid"].as_str().unwrap();
    let loaded = env.run(&["load", uid, "--json"]).ok().json();
    assert_eq!(loaded["n_rows"], 6);
    assert_eq!(loaded["n_columns"], 5);
});

#[test]
fn refuses_a_non_empty_folder() {
    let env = Env::sqlite();
    std::fs::create_dir(env.path("full")).unwrap();
    std::fs::write(env.path("full/keep.txt"), "mine").unwrap();
    assert_error(&env.run(&["tutorial", "full"]), "is not empty");
    assert!(!env.path("full/.lamella").exists());
    std::fs::write(env.path("file"), "x").unwrap();
    assert_error(&env.run(&["tutorial", "file"]), "is a file");
    assert_error(&env.run(&["tutorial", "t2", "--json"]), "no JSON output");
}

#[test]
fn runs_in_an_empty_folder() {
    let env = Env::sqlite();
    std::fs::create_dir(env.path("empty")).unwrap();
    let run = env.run(&["tutorial", "empty"]).ok();
    assert!(run.stdout.contains("This is it!"));
}
