//! `lamella view`

use crate::{assert_error, cli_test};

cli_test!(recent_records_of_every_registry, |env| {
    env.init("data");
    for i in 0..9 {
        env.run(&["ulabel", "create", &format!("label{i}")]).ok();
    }
    env.run(&["feature", "create", "study_name", "--dtype", "cat"])
        .ok();
    let out = env.run(&["view"]).ok().stdout;
    for heading in [
        "Feature (1)",
        "Storage (1)",
        "ULabel (7 most recent of 9)",
        "User (1)",
    ] {
        assert!(out.contains(heading), "{heading} missing:\n{out}");
    }
    assert!(
        !out.contains("Artifact"),
        "empty registries are left out:\n{out}"
    );
    // Newest first.
    let label8 = out.find("label8").unwrap();
    let label2 = out.find("label2").unwrap();
    assert!(label8 < label2, "{out}");
    assert!(!out.contains("label1 ") && !out.contains("label0"), "{out}");

    let only = env
        .run(&["view", "--registry", "ulabel", "-n", "2"])
        .ok()
        .stdout;
    assert!(only.starts_with("ULabel (2 most recent of 9)"), "{only}");
    assert_eq!(only.lines().count(), 5, "{only}");

    let json = env.run(&["view", "--json"]).ok().json();
    assert_eq!(json["ULabel"]["total"], 9);
    let records = json["ULabel"]["records"].as_array().unwrap();
    assert_eq!(records.len(), 7);
    assert_eq!(records[0]["name"], "label8");
    assert!(records[0]["id"].is_i64());
    assert!(records[0]["description"].is_null());
    assert_eq!(json["User"]["records"][0]["handle"], "testuser");

    assert_error(
        &env.run(&["view", "--registry", "labels"]),
        "unknown registry 'labels'",
    );
});
