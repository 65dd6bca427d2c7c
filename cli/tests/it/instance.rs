//! `init`, `info`, `connect`, `delete`.

use crate::{assert_error, cli_test};

cli_test!(init_info_connect_delete_round_trip, |env| {
    let out = env.init("data");
    assert!(
        out.stdout.contains("initialized instance"),
        "{}",
        out.stdout
    );
    let root = env.path("data").canonicalize().unwrap();
    let root = root.to_str().unwrap();

    let info = env.run(&["info"]).ok();
    assert!(info.stdout.contains(root), "{}", info.stdout);
    assert!(info.stdout.contains("testuser"), "{}", info.stdout);

    let json = env.run(&["info", "--json"]).ok().json();
    let uid = json["uid"].as_str().unwrap().to_string();
    assert_eq!(json["root"], root);
    assert_eq!(json["user"], "testuser");
    assert_eq!(json["counts"]["User"], 1);
    assert_eq!(json["counts"]["Storage"], 1);
    assert_eq!(json["counts"]["ULabel"], 0);
    let backend = if env.db_is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    assert_eq!(json["backend"], backend);

    // A second instance becomes current; connect switches back.
    env.init("other");
    let other = env.run(&["info", "--json"]).ok().json();
    assert_ne!(other["uid"], uid.as_str());
    let connected = env.run(&["connect", "data", "--json"]).ok().json();
    assert_eq!(connected["uid"], uid.as_str());
    assert_eq!(
        env.run(&["info", "--json"]).ok().json()["uid"],
        uid.as_str()
    );
    let human = env.run(&["connect", "data"]).ok();
    assert!(
        human.stdout.contains("connected to instance"),
        "{}",
        human.stdout
    );

    // From a script, an instance is only deleted when confirmed.
    let refused = env.run(&["delete"]);
    assert_error(&refused, "without confirmation");
    env.run(&["info"]).ok();
    let deleted = env.run(&["delete", "--yes", "--json"]).ok().json();
    assert_eq!(deleted["instance"]["uid"], uid.as_str());
    assert_eq!(deleted["outcome"], "deleted");
    assert_error(&env.run(&["info"]), "no current instance");
    assert_error(&env.run(&["connect", "data"]), "no Lamella instance");
    if !env.db_is_postgres() {
        assert!(!env.path("data/.lamella/lamella.db").exists());
    }
});

cli_test!(init_twice_is_refused, |env| {
    let db = env.db_args();
    env.init_with("data", &db).ok();
    env.run(&["ulabel", "create", "kept"]).ok();
    assert_error(&env.init_with("data", &db), "lamella connect");
    // The refused init changed nothing.
    let labels = env.run(&["ulabel", "list", "--json"]).ok().json();
    assert_eq!(labels.as_array().unwrap().len(), 1);
});
