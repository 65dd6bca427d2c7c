//! `lamella tutorial DIR`

use crate::{Env, assert_error, assert_json_error, cli_test};

cli_test!(replays_the_tutorial, |env| {
    let db = env.db_args();
    let mut args = vec!["tutorial", "tut"];
    args.extend(db.iter().map(String::as_str));
    let run = env.run(&args).ok();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let out = &run.stdout;
    // The same uid when project1 is created again.
    let uids: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("name='project1'"))
        .map(|l| &l[l.find("uid='").unwrap()..][..15])
        .collect();
    assert!(
        uids.len() >= 2 && uids.iter().all(|u| *u == uids[0]),
        "{uids:?}"
    );
    for f in [
        "is_species.svg",
        "is_species.dot",
        "is_species.mmd",
        "is_study.svg",
        "transforms.svg",
        "regressor.svg",
        "collection-lineage.svg",
    ] {
        assert!(env.path("tut/graphs").join(f).is_file(), "{f} missing");
    }
    // The transform hierarchy: the analysis read the model's output.
    let h = env
        .run(&["lineage", "--transform", "tutorial2", "--json"])
        .ok()
        .json();
    // The regressor read version 1 of the earlier tutorial's "Iris collection".
    let edges: Vec<(&str, &str)> = h["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["parent"].as_str().unwrap(), e["child"].as_str().unwrap()))
        .collect();
    assert_eq!(
        edges,
        [
            ("Tutorial: Artifacts (v0)", "Petal & sepal regressor"),
            (
                "Petal & sepal regressor",
                "Tutorial: Features & labels (v1)"
            )
        ],
        "{h}"
    );
    assert_error(
        &env.run(&["lineage", "--transform", "tutorial2", "--out", "t.json"]),
        "OpenLineage events describe runs",
    );
    assert_error(
        &env.run(&["lineage", "--transform", "no such"]),
        "no Transform matches 'no such'",
    );
    // Every `$ lamella …` step printed what that command prints on its own.
    let info = env.run(&["info"]).ok().stdout;
    assert!(out.contains(&format!("$ lamella info\n{info}")), "{out}");
    let view = env.run(&["view", "--registry", "Storage"]).ok().stdout;
    assert!(out.contains(&view), "{out}");
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
    let artifacts = env.run(&["ls", "--json"]).ok().json();
    let artifacts = artifacts.as_array().unwrap();
    assert_eq!(
        artifacts.len(),
        7,
        "three raw-image folders, two studies, two single-cell files"
    );
    let count = |accessor: &str| {
        artifacts
            .iter()
            .filter(|a| a["accessor"] == accessor)
            .count()
    };
    assert_eq!((count("DataFrame"), count("AnnData")), (2, 2));
    // The single-cell questions: which datasets measured CD14, which characterized K562.
    let cd14 = env.run(&["ls", "--feature", "CD14", "--json"]).ok().json();
    assert_eq!(cd14[0]["key"], "scrna/pbmc.h5ad", "{cd14}");
    assert_eq!(cd14.as_array().unwrap().len(), 1);
    let k562 = env
        .run(&["ls", "--label", "K562", "--feature", "cell_line", "--json"])
        .ok()
        .json();
    assert_eq!(k562[0]["key"], "scrna/cell_lines.h5ad", "{k562}");
    assert_eq!(k562[0]["n_observations"], 6);
    // Study 1 is annotated: found by feature and by label through a feature.
    let found = env
        .run(&[
            "ls",
            "--label",
            "setosa",
            "--feature",
            "iris_species_name",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["n_observations"], 75, "half of the 150 iris rows");
    // The joint collection holds both studies; its load is the 150 iris rows.
    let collections = env.run(&["collection", "ls", "--json"]).ok().json();
    let collections = collections.as_array().unwrap();
    assert_eq!(
        collections.len(),
        5,
        "3 versions of the Iris collection, the joint one, the single-cell one"
    );
    let versions: Vec<&str> = collections
        .iter()
        .filter(|c| c["name"] == "Iris collection")
        .filter_map(|c| c["version"].as_str())
        .collect();
    assert_eq!(versions, ["1", "2", "3"]);
    let v1 = env
        .run(&[
            "collection",
            "describe",
            "Iris collection",
            "--version",
            "1",
        ])
        .ok()
        .stdout;
    assert!(v1.contains("iris_studies/study0_raw_images"), "{v1}");
    let name = "Iris flower study 1 & 2 - transformed";
    let loaded = env.run(&["collection", "load", name]).ok().stdout;
    assert!(loaded.contains("150 rows × 5 columns"), "{loaded}");
    assert!(
        out.contains("0.059        0.030         0.051        0.018  virginica"),
        "{out}"
    );
    // The whole transcript, with what differs between runs masked.
    let masked = mask(&env, out, &db);
    insta::assert_snapshot!("tutorial_transcript", masked);
});

/// The transcript with uids, times, folders, the database and the user masked, so that every
/// run (SQLite or PostgreSQL) gives the same text.
fn mask(env: &Env, out: &str, db: &[String]) -> String {
    let view = env.run(&["view", "-n", "100000", "--json"]).ok().json();
    let mut uids: Vec<String> = Vec::new();
    for (_, registry) in view.as_object().unwrap() {
        for r in registry["records"].as_array().unwrap() {
            if let Some(u) = r["uid"].as_str() {
                uids.push(u.to_string());
            }
        }
    }
    let info = env.run(&["info", "--json"]).ok().json();
    uids.push(info["uid"].as_str().unwrap().to_string());
    // Records deleted on the way are named in the transcript only.
    for piece in out.split("uid='").skip(1) {
        if let Some(end) = piece.find('\'') {
            uids.push(piece[..end].to_string());
        }
    }
    uids.sort();
    uids.dedup();
    // Longest first, so that no uid is masked inside a longer one; numbered by first
    // appearance in the transcript, so the numbers do not depend on the random uids.
    uids.sort_by_key(|u| (std::cmp::Reverse(u.len()), out.find(u.as_str())));
    let mut text = out.to_string();
    for (i, u) in uids.iter().enumerate() {
        text = text.replace(u.as_str(), &format!("<uid{i:02}:{}>", u.len()));
    }
    // Lineage graphs name runs by their uid's first 8 characters.
    for (i, u) in uids.iter().enumerate() {
        if u.len() == 20 {
            text = text.replace(&format!("run {}", &u[..8]), &format!("run <uid{i:02}:8>"));
        }
    }
    // Feature-set hashes hash their members' (random) uids; artifact hashes hash content and
    // stay.
    let mut set_hashes: Vec<String> = view["FeatureSet"]["records"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["hash"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for piece in out.split("FeatureSet(").skip(1) {
        let record = &piece[..piece.find(')').unwrap_or(piece.len())];
        if let Some(h) = record
            .split("hash='")
            .nth(1)
            .and_then(|h| h.split('\'').next())
        {
            set_hashes.push(h.to_string());
        }
    }
    set_hashes.sort();
    set_hashes.dedup();
    set_hashes.sort_by_key(|h| text.find(h.as_str()));
    for (i, h) in set_hashes.iter().enumerate() {
        text = text.replace(h.as_str(), &format!("<set-hash{i:02}>"));
    }
    let dir = env.path("");
    let dir = dir.canonicalize().unwrap_or(dir);
    text = text.replace(dir.to_str().unwrap().trim_end_matches('/'), "<dir>");
    if let Some(url) = db.get(1) {
        text = text.replace(url.as_str(), "<db>");
    }
    text = text
        .replace("sqlite://<dir>/tut/.lamella/lamella.db", "<db>")
        .replace("PostgreSQL", "<backend>")
        .replace("SQLite", "<backend>");
    mask_times(&text)
}

/// Replaces `YYYY-MM-DD HH:MM:SS[.ffffff]` by `<time>`.
fn mask_times(text: &str) -> String {
    let b = text.as_bytes();
    let shape = b"dddd-dd-dd dd:dd:dd";
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let fits = b.len() - i >= shape.len()
            && shape.iter().zip(&b[i..]).all(|(s, c)| match s {
                b'd' => c.is_ascii_digit(),
                s => s == c,
            });
        if fits {
            let mut end = i + shape.len();
            if b.get(end) == Some(&b'.') {
                end += 1;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
            }
            out.push_str("<time>");
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn refuses_a_non_empty_folder() {
    let env = Env::sqlite();
    std::fs::create_dir(env.path("full")).unwrap();
    std::fs::write(env.path("full/keep.txt"), "mine").unwrap();
    assert_error(&env.run(&["tutorial", "full"]), "is not empty");
    assert!(!env.path("full/.lamella").exists());
    std::fs::write(env.path("file"), "x").unwrap();
    assert_error(&env.run(&["tutorial", "file"]), "is a file");
    assert_json_error(
        &env.run(&["tutorial", "t2", "--json"]),
        1,
        "error",
        "no JSON output",
    );
}

#[test]
fn runs_in_an_empty_folder() {
    let env = Env::sqlite();
    std::fs::create_dir(env.path("empty")).unwrap();
    let run = env.run(&["tutorial", "empty"]).ok();
    assert!(run.stdout.contains("This is it!"));
}
