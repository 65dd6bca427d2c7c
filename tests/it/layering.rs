//! Tidy check: the crates keep their layering (DEVELOPERS.md). `schema`, `storage` and
//! `lineage` do not depend on each other; `core` composes them; `cli` depends on `core` only.

use std::path::Path;

fn lamella_deps(krate: &str) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read manifest");
    let mut section = String::new();
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        // normal and build dependencies count; dev-dependencies may use the harness
        if (section == "[dependencies]" || section == "[build-dependencies]")
            && let Some(name) = line.split(['=', '.', ' ']).next()
            && name.starts_with("lamella-")
        {
            deps.push(name.to_string());
        }
    }
    deps.sort();
    deps
}

#[test]
fn crates_depend_only_downwards() {
    let allowed: &[(&str, &[&str])] = &[
        ("schema", &[]),
        ("storage", &[]),
        ("lineage", &[]),
        (
            "core",
            &["lamella-lineage", "lamella-schema", "lamella-storage"],
        ),
        ("cli", &["lamella-core"]),
    ];
    for (krate, ok) in allowed {
        let deps = lamella_deps(krate);
        for d in &deps {
            assert!(
                ok.contains(&d.as_str()),
                "lamella-{krate} must not depend on {d}: allowed {ok:?}"
            );
        }
    }
}

fn manifest(krate: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(krate)
            .join("Cargo.toml"),
    )
    .expect("read manifest")
}

#[test]
fn only_schema_names_diesel_and_only_storage_names_opendal() {
    for (dependency, owner) in [("diesel", "schema"), ("opendal", "storage")] {
        for krate in ["core", "lineage", "schema", "storage", "cli"] {
            if krate != owner {
                assert!(
                    !manifest(krate).contains(dependency),
                    "lamella-{krate} must not use {dependency}"
                );
            }
        }
    }
}

/// Library messages never name a command-line command or flag: the CLI adds its hints by
/// error kind, and an embedding program has no `lamella` command.
#[test]
fn library_messages_name_no_cli_command_or_flag() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut offenders = Vec::new();
    for krate in ["core", "schema", "storage", "lineage"] {
        let mut stack = vec![root.join(krate).join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read source");
                for (i, line) in text.lines().enumerate() {
                    let code = line.trim_start();
                    if code.starts_with("//") {
                        continue;
                    }
                    let flag = code.char_indices().any(|(j, c)| {
                        c == '-'
                            && code[j..].starts_with("--")
                            && code[j + 2..].starts_with(|c: char| c.is_ascii_lowercase())
                            && (j == 0 || code[..j].ends_with([' ', '(', '`', '"']))
                    });
                    if code.contains("`lamella ") || code.contains("\"lamella ") || flag {
                        offenders.push(format!("{}:{}: {}", path.display(), i + 1, code));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "library code names CLI commands or flags:\n{}",
        offenders.join("\n")
    );
}
