//! Every command's `--json` output validates against `docs/json/lamella.schema.json`: one
//! scenario runs each command of the CLI (found by walking `--help`, so a new command without
//! a documented shape fails here) and checks its output against the shapes the schema's
//! `x-commands` lists for it; every shape listed must be seen at least once.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;

/// The schema file, parsed.
fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/json/lamella.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("read docs/json/lamella.schema.json");
    serde_json::from_str(&text).expect("the schema file is JSON")
}

/// Validators for each shape (`$defs` entry) of the schema.
pub struct Shapes {
    validators: BTreeMap<String, jsonschema::Validator>,
    /// Command path (`ulabel create`) → the shapes it may print.
    commands: BTreeMap<String, Vec<String>>,
    /// Commands without JSON output.
    no_json: BTreeSet<String>,
}

impl Shapes {
    pub fn load() -> Shapes {
        let schema = schema();
        jsonschema::meta::validate(&schema).expect("the schema is a valid JSON Schema");
        let defs = schema["$defs"].as_object().expect("$defs");
        let validators = defs
            .keys()
            .map(|name| {
                let mut root = schema.clone();
                root["$ref"] = Value::from(format!("#/$defs/{name}"));
                let v = jsonschema::validator_for(&root)
                    .unwrap_or_else(|e| panic!("shape {name} does not compile: {e}"));
                (name.clone(), v)
            })
            .collect();
        let commands = schema["x-commands"]
            .as_object()
            .expect("x-commands")
            .iter()
            .map(|(cmd, shapes)| {
                let shapes = shapes.as_str().expect("shapes are text");
                (
                    cmd.clone(),
                    shapes.split('|').map(|s| s.trim().to_string()).collect(),
                )
            })
            .collect();
        let no_json = schema["x-no-json"]
            .as_array()
            .expect("x-no-json")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        Shapes {
            validators,
            commands,
            no_json,
        }
    }

    /// The errors of `value` against shape `name` (empty when it validates).
    pub fn errors(&self, name: &str, value: &Value) -> Vec<String> {
        let v = self
            .validators
            .get(name)
            .unwrap_or_else(|| panic!("no shape {name} in the schema"));
        v.iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }
}

/// Runs commands with `--json` and checks each output against its documented shapes.
struct Checker<'a> {
    env: &'a Env,
    shapes: Shapes,
    /// Commands run, and the shapes seen.
    seen_commands: BTreeSet<String>,
    seen_shapes: BTreeSet<String>,
}

impl Checker<'_> {
    /// `lamella COMMAND ARGS… --json`, expecting exit code `code`; returns the output.
    fn run_code(&mut self, command: &str, args: &[&str], code: i32) -> Value {
        let mut all: Vec<&str> = command.split(' ').collect();
        all.extend_from_slice(args);
        all.push("--json");
        let r = self.env.run(&all);
        assert_eq!(
            r.code,
            code,
            "lamella {}\nstdout:\n{}\nstderr:\n{}",
            all.join(" "),
            r.stdout,
            r.stderr
        );
        let value: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
            panic!(
                "lamella {}: stdout is not JSON ({e}):\n{}",
                all.join(" "),
                r.stdout
            )
        });
        let shapes = self
            .shapes
            .commands
            .get(command)
            .unwrap_or_else(|| panic!("the schema's x-commands does not list `{command}`"));
        let mut why = Vec::new();
        let matched: Vec<&String> = shapes
            .iter()
            .filter(|s| {
                let errors = self.shapes.errors(s, &value);
                why.push(format!("{s}: {}", errors.join("; ")));
                errors.is_empty()
            })
            .collect();
        assert!(
            !matched.is_empty(),
            "lamella {} printed JSON that fits none of {shapes:?}:\n{}\n{value:#}",
            all.join(" "),
            why.join("\n")
        );
        self.seen_shapes.extend(matched.into_iter().cloned());
        self.seen_commands.insert(command.to_string());
        value
    }

    fn run(&mut self, command: &str, args: &[&str]) -> Value {
        self.run_code(command, args, 0)
    }
}

/// The leaf commands of the CLI (`ulabel synonym add`, …), from `--help`.
fn leaf_commands(env: &Env) -> BTreeSet<String> {
    fn walk(env: &Env, path: &[String], out: &mut BTreeSet<String>) {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = env.run(&args).ok().stdout;
        let subcommands: Vec<String> = help
            .lines()
            .skip_while(|l| l.trim() != "Commands:")
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|c| c != "help")
            .collect();
        if subcommands.is_empty() {
            out.insert(path.join(" "));
        }
        for c in subcommands {
            let mut p = path.to_vec();
            p.push(c);
            walk(env, &p, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(env, &[], &mut out);
    out
}

fn uid(v: &Value) -> String {
    v["record"]["uid"]
        .as_str()
        .expect("a record uid")
        .to_string()
}

cli_test!(every_command_prints_its_documented_shape, |env| {
    let db = env.db_args();
    std::fs::write(
        env.path("iris.csv"),
        include_str!("../../../core/data/iris.csv"),
    )
    .unwrap();
    std::fs::write(env.path("labels.txt"), "versicolor\nvirginica\n").unwrap();
    std::fs::write(env.path("a.csv"), "a,b\n1,x\n2,y\n").unwrap();
    std::fs::write(env.path("b.csv"), "a,c\n3,1.5\n").unwrap();
    std::fs::write(env.path("notes.txt"), "not a table").unwrap();
    std::fs::write(env.path("bad.csv"), "species\nsetosaa\n").unwrap();
    std::fs::create_dir_all(env.path("second")).unwrap();
    let mut c = Checker {
        env: &env,
        shapes: Shapes::load(),
        seen_commands: BTreeSet::new(),
        seen_shapes: BTreeSet::new(),
    };
    let mut init = vec!["--storage", "data"];
    init.extend(db.iter().map(String::as_str));
    c.run("init", &init);
    c.run("info", &[]);
    c.run("connect", &["data"]);

    // Labels.
    c.run("ulabel create", &["setosa"]);
    c.run("ulabel create", &["is_species"]);
    c.run("ulabel create", &["--from-file", "labels.txt"]);
    c.run("ulabel list", &[]);
    c.run("ulabel add-parent", &["setosa", "is_species"]);
    c.run("ulabel parents", &["is_species", "--children"]);
    c.run("ulabel remove-parent", &["setosa", "is_species"]);
    c.run("ulabel update", &["setosa", "--description", "a species"]);
    c.run("ulabel search", &["seto"]);
    c.run("ulabel synonym add", &["setosa", "Iris setosa"]);
    c.run("ulabel synonym remove", &["setosa", "Iris setosa"]);
    c.run_code("ulabel inspect", &["setosa", "setosaa"], 1);
    c.run("ulabel standardize", &["setosa", "setosaa"]);
    c.run("ulabel create", &["obsolete"]);
    c.run("ulabel delete", &["obsolete"]);

    // Features.
    c.run("feature create", &["species", "--dtype", "cat[ULabel]"]);
    c.run("feature from-file", &["iris.csv"]);
    c.run("feature from-file", &["iris.csv", "--save"]);
    c.run("feature update", &["sepal_length_cm", "--unit", "cm"]);
    c.run("feature synonym add", &["sepal_length_cm", "sepal length"]);
    c.run(
        "feature synonym remove",
        &["sepal_length_cm", "sepal length"],
    );
    c.run("feature list", &[]);
    c.run("feature search", &["sepal"]);
    c.run("feature create", &["unused", "--dtype", "int"]);
    c.run("feature delete", &["unused"]);

    // Artifacts, inside a tracked run.
    c.run("track", &["prepare.py"]);
    let iris = uid(&c.run("save", &["iris.csv", "--key", "iris.csv"]));
    let many = c.run("save", &["a.csv", "b.csv"]);
    let members: Vec<String> = many["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|a| a["uid"].as_str().expect("uid").to_string())
        .collect();
    let notes = uid(&c.run("save", &["notes.txt", "--key", "notes.txt"]));
    c.run("ls", &[]);
    c.run("versions", &[&iris]);
    c.run("update", &[&iris, "--description", "the iris table"]);
    c.run(
        "update",
        &["--key", "notes.txt", "--key", "notes/notes.txt"],
    );
    c.run("load", &[&iris]);
    c.run("load", &[&iris, "--out", "out.csv"]);
    c.run("load", &[&notes]);
    c.run("annotate", &[&iris, "--columns"]);
    c.run(
        "annotate",
        &[&iris, "--label", "setosa", "--feature", "species"],
    );
    c.run("feature create", &["temperature", "--dtype", "float"]);
    c.run("annotate", &[&iris, "--value", "temperature=21.5"]);
    c.run("annotate", &[&iris, "--remove-value", "temperature"]);
    c.run("annotate", &[&iris, "--value", "species=setosa"]);
    c.run("ls", &["--features"]);
    c.run(
        "ls",
        &["--filter", "species=setosa", "--features", "species"],
    );
    c.run("describe", &[&iris]);
    c.run("validate", &["iris.csv"]);
    c.run("validate", &["iris.csv", "--standardize"]);
    c.run_code("curate", &["bad.csv", "--key", "bad.csv"], 1);
    c.run(
        "curate",
        &["iris.csv", "--key", "curated/iris.parquet", "--standardize"],
    );
    // Saved schemas.
    c.run(
        "schema create",
        &[
            "iris",
            "--feature",
            "sepal_length_cm",
            "--require",
            "species",
        ],
    );
    c.run("schema ls", &[]);
    c.run("schema describe", &["iris"]);
    c.run("schema describe", &["iris", "--versions"]);
    c.run(
        "validate",
        &["iris.csv", "--schema", "iris", "--allow-extra"],
    );
    c.run(
        "curate",
        &[
            "iris.csv",
            "--key",
            "curated/schema.parquet",
            "--schema",
            "iris",
            "--allow-extra",
        ],
    );
    c.run("describe", &["--key", "curated/iris.parquet"]);
    c.run("schema create", &["unused", "--feature", "sepal_length_cm"]);
    c.run("schema delete", &["unused"]);

    // Collections.
    c.run(
        "collection create",
        &["ab", "--artifact", &members[0], "--artifact", &members[1]],
    );
    c.run(
        "annotate",
        &["--collection", "ab", "--value", "temperature=3"],
    );
    c.run("collection ls", &[]);
    c.run(
        "collection ls",
        &["--filter", "temperature__lt=4", "--features"],
    );
    c.run("collection describe", &["ab"]);
    c.run("collection check", &["ab"]);
    c.run("collection load", &["ab"]);
    c.run("collection load", &["ab", "--out", "ab.parquet"]);
    c.run(
        "collection load",
        &["ab", "--out", "ab2.parquet", "--save", "ab.parquet"],
    );
    c.run("collection cache", &["ab"]);

    // AnnData (files written by the anndata package; CI has it).
    if let Some(dir) = lamella_tests::anndata_fixtures() {
        for f in ["csr.h5ad", "panel_b.h5ad"] {
            std::fs::copy(dir.join(f), env.path(f)).unwrap();
        }
        c.run("feature from-file", &["csr.h5ad"]);
        c.run("feature from-file", &["csr.h5ad", "--save"]);
        c.run("feature from-file", &["csr.h5ad", "--var", "--save"]);
        let sc = uid(&c.run("save", &["csr.h5ad", "--key", "sc/csr.h5ad"]));
        c.run("load", &[&sc]);
        c.run("load", &[&sc, "--obs"]);
        c.run("load", &[&sc, "--var", "--out", "var.parquet"]);
        c.run("annotate", &[&sc, "--columns"]);
        c.run("describe", &[&sc]);
        c.run_code("validate", &["panel_b.h5ad", "--allow-extra"], 1);
        c.run("feature from-file", &["panel_b.h5ad", "--var", "--save"]);
        let b = c.run(
            "curate",
            &[
                "panel_b.h5ad",
                "--key",
                "sc/b.h5ad",
                "--add-new",
                "cell_type",
            ],
        );
        let b = uid(&b);
        c.run(
            "collection create",
            &["cells", "--artifact", &sc, "--artifact", &b],
        );
        c.run("collection check", &["cells"]);
        c.run("collection load", &["cells", "--out", "cells.h5ad"]);
        c.run(
            "collection load",
            &["cells", "--obs", "--out", "obs.parquet"],
        );
    }

    // Lineage and the end of the run.
    c.run("lineage", &[&iris]);
    c.run("lineage", &["--collection", "ab", "--out", "ab.svg"]);
    c.run("lineage", &["--transform", "prepare.py"]);
    c.run("finish", &[]);
    c.run("finish", &[]);

    // Storage, checks, views.
    c.run("storage list", &[]);
    c.run("storage add", &["second"]);
    c.run("storage default", &[]);
    c.run("doctor", &[]);
    c.run("doctor", &["--verify"]);
    c.run("view", &[]);
    let (_lamindb, lamindb_root, _) = lamella_tests::lamindb_fixture("0.72").expect("fixture");
    let lamindb_root = lamindb_root.display().to_string();
    c.run("import lamindb", &[&lamindb_root, "--dry-run"]);
    c.run("import lamindb", &[&lamindb_root]);

    // Deletes and restores; the instance last.
    c.run("delete", &[&notes]);
    c.run("restore", &[&notes]);
    c.run("collection delete", &["ab"]);
    c.run("collection restore", &["ab"]);
    c.run("delete", &["--force"]);

    let leaves = leaf_commands(&env);
    let documented: BTreeSet<String> = c.shapes.commands.keys().cloned().collect();
    let expected: BTreeSet<String> = leaves.difference(&c.shapes.no_json).cloned().collect();
    assert_eq!(
        documented, expected,
        "x-commands must list exactly the commands with JSON output"
    );
    let unrun: Vec<_> = expected.difference(&c.seen_commands).collect();
    assert!(unrun.is_empty(), "commands not checked: {unrun:?}");
    let listed: BTreeSet<String> = c.shapes.commands.values().flatten().cloned().collect();
    let unseen: Vec<_> = listed.difference(&c.seen_shapes).collect();
    assert!(unseen.is_empty(), "shapes never printed: {unseen:?}");
    // Commands without JSON output say so under --json, as a JSON error.
    for cmd in &c.shapes.no_json {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.extend(["x", "--json"]);
        let r = env.run(&args);
        let e: Value = serde_json::from_str(r.stderr.trim())
            .unwrap_or_else(|e| panic!("{cmd} --json: stderr is not JSON ({e}): {}", r.stderr));
        assert!(c.shapes.errors("error", &e).is_empty(), "{cmd}: {e}");
    }
});

#[test]
fn the_error_shape_is_what_failures_print() {
    let env = Env::sqlite();
    let shapes = Shapes::load();
    let r = env.run(&["describe", "nosuchuid", "--json"]);
    assert_ne!(r.code, 0);
    let e: Value = serde_json::from_str(r.stderr.trim()).expect("a JSON error");
    assert!(shapes.errors("error", &e).is_empty(), "{e}");
    // A record with a field the schema does not know fails: the records are closed.
    let mut bogus = serde_json::json!({"error": {"kind": "x", "message": "m", "hint": null}});
    bogus["error"]["extra"] = Value::from(1);
    assert!(!shapes.errors("error", &bogus).is_empty());
}
