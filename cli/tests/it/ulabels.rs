//! `lamella ulabel …`

use serde_json::Value;

use crate::{Env, assert_error, cli_test};

/// The names of a JSON array of records.
fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|r| {
            r.get("record").unwrap_or(r)["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn list(env: &Env, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["ulabel", "list", "--json"];
    for f in filters {
        args.extend(["--filter", f]);
    }
    names(&env.run(&args).ok().json())
}

cli_test!(create_and_list, |env| {
    env.init("data");
    let created = env
        .run(&[
            "ulabel",
            "create",
            "Study 0: initial plant gathering",
            "--description",
            "My initial study",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        created["record"]["name"],
        "Study 0: initial plant gathering"
    );
    assert_eq!(created["record"]["description"], "My initial study");
    assert_eq!(created["outcome"], "created");
    assert_eq!(created["similar"], serde_json::json!([]));
    assert_eq!(created["record"]["uid"].as_str().unwrap().len(), 8);

    let human = env.run(&["ulabel", "create", "setosa"]).ok();
    assert!(
        human.stdout.starts_with("ULabel(uid='") && human.stdout.contains("name='setosa'"),
        "{}",
        human.stdout
    );
    assert!(human.stderr.is_empty(), "{}", human.stderr);
    env.run(&["ulabel", "create", "versicolor"]).ok();

    let listed = env.run(&["ulabel", "list", "--json"]).ok().json();
    let first = &listed[0];
    let mut keys: Vec<&str> = first
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
            "id",
            "name",
            "reference",
            "reference_type",
            "run_id",
            "synonyms",
            "uid",
            "updated_at"
        ]
    );
    assert_eq!(first["uid"], created["record"]["uid"]);
    assert_eq!(
        names(&listed),
        ["Study 0: initial plant gathering", "setosa", "versicolor"]
    );

    assert_eq!(list(&env, &["name__startswith=s"]), ["setosa"]);
    assert_eq!(
        list(&env, &["name__in=setosa,versicolor"]),
        ["setosa", "versicolor"]
    );
    assert_eq!(
        list(&env, &["name__contains=o", "name__startswith=v"]),
        ["versicolor"]
    );
    let ordered = env
        .run(&[
            "ulabel", "list", "--order", "-name", "--limit", "2", "--json",
        ])
        .ok()
        .json();
    assert_eq!(names(&ordered), ["versicolor", "setosa"]);

    let table = env.run(&["ulabel", "list"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(
        lines[0].starts_with("id") && lines[0].contains("name"),
        "{table}"
    );
    let col = lines[0].find("name").unwrap();
    assert_eq!(&lines[3][col..col + 6], "setosa", "{table}");
});

cli_test!(duplicate_returns_existing, |env| {
    env.init("data");
    let first = env
        .run(&["ulabel", "create", "project1", "--json"])
        .ok()
        .json();
    let again = env.run(&["ulabel", "create", "project1", "--json"]).ok();
    assert!(
        again
            .stderr
            .contains("loaded ULabel record with same name: 'project1'"),
        "{}",
        again.stderr
    );
    let again = again.json();
    assert_eq!(again["record"]["uid"], first["record"]["uid"]);
    assert_eq!(again["outcome"], "existing");
    let human = env.run(&["ulabel", "create", "project1"]).ok();
    assert!(
        human
            .stdout
            .contains(first["record"]["uid"].as_str().unwrap())
    );
    assert_eq!(list(&env, &[]), ["project1"]);
});

cli_test!(similar_name_warning, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "project1"]).ok();
    let run = env.run(&["ulabel", "create", "project 1"]).ok();
    assert!(
        run.stderr
            .contains("'project 1' is similar to existing: 'project1'"),
        "{}",
        run.stderr
    );
    let json = env
        .run(&["ulabel", "create", "Project-1", "--json"])
        .ok()
        .json();
    assert_eq!(json["outcome"], "created");
    let mut similar: Vec<&str> = json["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    similar.sort_unstable();
    assert_eq!(similar, ["project 1", "project1"]);
});

cli_test!(bulk_create_from_file, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "is_species"]).ok();
    env.run(&["ulabel", "create", "setosa"]).ok();
    std::fs::write(
        env.path("species.txt"),
        "setosa\n\nversicolor\n  virginica  \n\nversicolor\n",
    )
    .unwrap();
    let run = env
        .run(&[
            "ulabel",
            "create",
            "--from-file",
            "species.txt",
            "--parent",
            "is_species",
            "--json",
        ])
        .ok();
    assert!(
        run.stderr
            .contains("loaded 1 ULabel record with same name: 'setosa'"),
        "{}",
        run.stderr
    );
    let json = run.json();
    assert_eq!(json["counts"]["created"], 2);
    assert_eq!(json["existing"], serde_json::json!(["setosa"]));
    assert_eq!(
        names(&json["records"]),
        ["setosa", "versicolor", "virginica", "versicolor"]
    );
    assert_eq!(
        list(&env, &["parents__name=is_species"]),
        ["setosa", "versicolor", "virginica"]
    );
    // Human output: a summary and the records.
    std::fs::write(env.path("more.txt"), "a1\nb1\n").unwrap();
    let human = env
        .run(&["ulabel", "create", "--from-file", "more.txt"])
        .ok();
    assert!(
        human.stdout.contains("saved 2 new ULabel records"),
        "{}",
        human.stdout
    );
    // No progress bar when stderr is not a terminal.
    assert!(human.stderr.is_empty(), "{}", human.stderr);

    std::fs::write(env.path("empty.txt"), "\n \n").unwrap();
    assert_error(
        &env.run(&["ulabel", "create", "--from-file", "empty.txt"]),
        "no label names",
    );
    assert_error(
        &env.run(&["ulabel", "create", "--from-file", "missing.txt"]),
        "missing.txt",
    );
});

cli_test!(bulk_create_refuses_cycles_before_saving, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "top"]).ok();
    env.run(&["ulabel", "create", "mid", "--parent", "top"])
        .ok();
    std::fs::write(env.path("names.txt"), "fresh\ntop\n").unwrap();
    let run = env.run(&[
        "ulabel",
        "create",
        "--from-file",
        "names.txt",
        "--parent",
        "mid",
    ]);
    assert_error(&run, "cycle");
    assert_eq!(list(&env, &[]), ["top", "mid"], "nothing was saved");
});

cli_test!(parents_and_cycles, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "a"]).ok();
    let b = env
        .run(&["ulabel", "create", "b", "--parent", "a", "--json"])
        .ok()
        .json();
    assert_eq!(b["record"]["name"], "b");
    env.run(&["ulabel", "create", "c", "--parent", "b"]).ok();
    assert_eq!(list(&env, &["parents__name=a"]), ["b"]);
    assert_eq!(list(&env, &["children__name=c"]), ["b"]);

    // A parent must exist; nothing is created otherwise.
    let run = env.run(&["ulabel", "create", "d", "--parent", "nope"]);
    assert_error(&run, "'nope'");
    assert!(
        run.stderr.contains("lamella ulabel create nope"),
        "{}",
        run.stderr
    );
    assert!(!list(&env, &[]).contains(&"d".to_string()));

    // a → b → c: making c a parent of a closes a cycle.
    let run = env.run(&["ulabel", "add-parent", "a", "c"]);
    assert_error(&run, "cycle");
    assert!(
        list(&env, &["parents__name=c"]).is_empty(),
        "database unchanged"
    );
    assert!(
        list(&env, &["children__name=a"]).is_empty(),
        "database unchanged"
    );
    assert_error(&env.run(&["ulabel", "add-parent", "a", "a"]), "cycle");

    let added = env.run(&["ulabel", "add-parent", "c", "a"]).ok();
    assert!(
        added.stdout.contains("'a' is now a parent of 'c'"),
        "{}",
        added.stdout
    );
    assert_eq!(list(&env, &["children__name=c"]), ["a", "b"]);
    let again = env.run(&["ulabel", "add-parent", "c", "a"]).ok();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    env.run(&["ulabel", "remove-parent", "c", "a"]).ok();
    assert_eq!(list(&env, &["children__name=c"]), ["b"]);

    // Human view of the hierarchy: a tree.
    let tree = env
        .run(&["ulabel", "parents", "b", "--children"])
        .ok()
        .stdout;
    assert_eq!(
        tree.lines().collect::<Vec<_>>(),
        ["a", "└── b *", "    └── c"]
    );
    let json = env
        .run(&["ulabel", "parents", "b", "--children", "--json"])
        .ok()
        .json();
    assert_eq!(names(&json["parents"]), ["a"]);
    assert_eq!(names(&json["children"]), ["c"]);
});

cli_test!(parents_writes_graph_files, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "is_species"]).ok();
    for s in ["setosa", "versicolor", "virginica"] {
        env.run(&["ulabel", "create", s, "--parent", "is_species"])
            .ok();
    }
    let run = env
        .run(&[
            "ulabel",
            "parents",
            "is_species",
            "--children",
            "--out",
            "graphs/is_species.svg",
            "--out",
            "graphs/is_species.dot",
            "-o",
            "graphs/is_species.mmd",
        ])
        .ok();
    assert!(
        run.stdout.contains("wrote graphs/is_species.svg"),
        "{}",
        run.stdout
    );
    let svg = std::fs::read_to_string(env.path("graphs/is_species.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("virginica"), "{svg}");
    let dot = std::fs::read_to_string(env.path("graphs/is_species.dot")).unwrap();
    assert!(
        dot.starts_with("digraph") && dot.contains("setosa"),
        "{dot}"
    );
    let mmd = std::fs::read_to_string(env.path("graphs/is_species.mmd")).unwrap();
    assert!(
        mmd.starts_with("graph") && mmd.contains("versicolor"),
        "{mmd}"
    );

    // Without --children only the ancestors are drawn.
    env.run(&["ulabel", "parents", "setosa", "--out", "setosa.dot"])
        .ok();
    let dot = std::fs::read_to_string(env.path("setosa.dot")).unwrap();
    assert!(
        dot.contains("is_species") && !dot.contains("virginica"),
        "{dot}"
    );

    let bad = env.run(&["ulabel", "parents", "setosa", "--out", "x.png"]);
    assert_error(&bad, ".svg, .dot or .mmd");
    assert!(!env.path("x.png").exists());
});

cli_test!(update_search_delete, |env| {
    env.init("data");
    env.run(&["ulabel", "create", "project1"]).ok();
    env.run(&["ulabel", "create", "setosa"]).ok();
    let renamed = env
        .run(&[
            "ulabel",
            "update",
            "project1",
            "--name",
            "project1a",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(renamed["record"]["name"], "project1a");
    assert_error(
        &env.run(&["ulabel", "update", "project1a", "--name", "setosa"]),
        "is taken by another ULabel",
    );

    let hits = env.run(&["ulabel", "search", "proj", "--json"]).ok().json();
    assert_eq!(names(&hits), ["project1a"]);
    assert_eq!(hits[0]["match"], "prefix");
    let human = env.run(&["ulabel", "search", "setsoa"]).ok().stdout;
    assert!(
        human.contains("close spelling") && human.contains("'setosa'"),
        "{human}"
    );

    let deleted = env.run(&["ulabel", "delete", "project1a"]).ok();
    assert!(
        deleted.stdout.contains("deleted ULabel 'project1a'"),
        "{}",
        deleted.stdout
    );
    assert_eq!(list(&env, &[]), ["setosa"]);
    let missing = env.run(&["ulabel", "delete", "project1a"]);
    assert_error(&missing, "no ULabel matches 'project1a'");
    // Deleting by uid works too.
    let uid = env.run(&["ulabel", "list", "--json"]).ok().json()[0]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    env.run(&["ulabel", "delete", &uid]).ok();
    assert!(list(&env, &[]).is_empty());
});
