//! A storage root belongs to the instance that manages it (the marker
//! `.lamella/storage.json`); a moved instance folder is recognised.

use crate::{assert_error, cli_test};

fn uid(j: &serde_json::Value) -> String {
    j.get("record").unwrap_or(j)["uid"]
        .as_str()
        .expect("uid")
        .to_string()
}

cli_test!(another_instances_root_is_read_only, |env| {
    env.init("a");
    std::fs::write(env.path("x.txt"), "A's data\n").unwrap();
    let saved = env
        .run(&["save", "x.txt", "--key", "x.txt", "--json"])
        .ok()
        .json();
    let marker = std::fs::read_to_string(env.path("a/.lamella/storage.json")).unwrap();
    let a_uid = env.run(&["info", "--json"]).ok().json()["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(marker.contains(&a_uid), "{marker}");

    // A second instance on A's root is refused, whatever its database.
    let mut db = env.db_args();
    if db.is_empty() {
        db = vec![
            "--db".into(),
            format!("sqlite://{}", env.path("elsewhere.db").display()),
        ];
    }
    assert_error(
        &env.init_with("a", &db),
        "already managed by Lamella instance",
    );
    assert!(!env.path("elsewhere.db").exists());

    // Instance B registers A's root: read-only, never cleaned.
    env.init("b");
    env.run(&["storage", "add", "a"]).ok();
    let doctor = env
        .run(&["doctor", "--clean", "--min-age", "0", "--json"])
        .json();
    assert_eq!(doctor["orphans"], serde_json::json!([]), "{doctor}");
    let object = env.path(&format!("a/.lamella/{}.txt", uid(&saved)));
    assert!(object.is_file(), "B's doctor must not touch A's objects");

    // A still has everything.
    env.run(&["connect", "a"]).ok();
    let doctor = env.run(&["doctor", "--json"]).ok().json();
    assert_eq!(doctor["missing"], serde_json::json!([]), "{doctor}");
    env.run(&["load", &uid(&saved)]).ok();
});

cli_test!(a_moved_instance_loads_from_its_new_place, |env| {
    env.init("old");
    std::fs::write(env.path("t.csv"), "a,b\n1,2\n").unwrap();
    let saved = env
        .run(&["save", "t.csv", "--key", "t.csv", "--json"])
        .ok()
        .json();
    std::fs::rename(env.path("old"), env.path("new")).unwrap();
    let new_root = env.path("new").canonicalize().unwrap();
    let new_root = new_root.to_str().unwrap();
    let info = env.run(&["connect", "new", "--json"]).ok().json();
    assert_eq!(info["root"], new_root, "{info}");
    assert_eq!(env.run(&["info", "--json"]).ok().json()["root"], new_root);
    let head = env.run(&["load", &uid(&saved)]).ok().stdout;
    assert!(head.contains('1') && head.contains('b'), "{head}");
    let described = env.run(&["describe", "--key", "t.csv"]).ok().stdout;
    assert!(described.contains(new_root), "{described}");
    let doctor = env.run(&["doctor", "--json"]).ok().json();
    assert_eq!(doctor["missing"], serde_json::json!([]), "{doctor}");
    // New saves go to the new place.
    std::fs::write(env.path("u.txt"), "more\n").unwrap();
    let more = env
        .run(&["save", "u.txt", "--key", "u.txt", "--json"])
        .ok()
        .json();
    assert!(
        env.path(&format!("new/.lamella/{}.txt", uid(&more)))
            .is_file()
    );
});

cli_test!(an_s3_root_belongs_to_one_instance, |env| {
    let Some(root) = lamella_tests::s3_root() else {
        return;
    };
    let endpoint = std::env::var("LAMELLA_TEST_S3_ENDPOINT").unwrap();
    let vars = [("AWS_ENDPOINT_URL", endpoint.as_str())];
    let db = env.db_args();
    let mut init = vec!["init", "--storage", root.as_str()];
    init.extend(db.iter().map(String::as_str));
    env.run_env(&init, &vars).ok();
    std::fs::write(env.path("x.txt"), "A's data on S3\n").unwrap();
    let saved = env
        .run_env(&["save", "x.txt", "--key", "x.txt", "--json"], &vars)
        .ok()
        .json();
    // A second instance on the same root is refused, whatever its database.
    let other_db = format!("sqlite://{}", env.path("other.db").display());
    assert_error(
        &env.run_env(&["init", "--storage", &root, "--db", &other_db], &vars),
        "already managed by Lamella instance",
    );
    // B registers A's root read-only: its doctor never cleans A's objects.
    env.init("b");
    env.run_env(&["storage", "add", &root], &vars).ok();
    let doctor = env
        .run_env(&["doctor", "--clean", "--min-age", "0", "--json"], &vars)
        .json();
    assert_eq!(doctor["orphans"], serde_json::json!([]), "{doctor}");
    env.run_env(&["connect", &root], &vars).ok();
    let back = env.path("back.txt");
    env.run_env(
        &["load", &uid(&saved), "--out", back.to_str().unwrap()],
        &vars,
    )
    .ok();
    assert_eq!(std::fs::read_to_string(back).unwrap(), "A's data on S3\n");
});
