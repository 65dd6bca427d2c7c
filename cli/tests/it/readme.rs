//! The README's "Use it" block runs as written, and its Rust example is `core/examples/readme.rs`.

use std::path::Path;
use std::process::Command;

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(&path).expect("read README.md")
}

/// The first fenced block of `lang` after `heading`.
fn block(text: &str, heading: &str, lang: &str) -> String {
    let from = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"));
    let fence = format!("```{lang}\n");
    let start = text[from..].find(&fence).expect("a fenced block") + from + fence.len();
    let end = text[start..].find("```").expect("closing fence") + start;
    text[start..end].to_string()
}

#[test]
fn use_it_block_runs_as_written() {
    let script = block(&readme(), "## Use it", "sh");
    assert!(
        !script.contains("UID") && !script.contains("cargo "),
        "the block is runnable as is:\n{script}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_lamella"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Each line runs on its own, so a failure names it.
    let mut lines_run = 0;
    for line in script.lines().filter(|l| !l.trim().is_empty()) {
        let out = Command::new("sh")
            .args(["-c", line])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("LAMELLA_HOME", dir.path().join(".home"))
            .env("LAMELLA_USER", "readme")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README line failed: {line}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        lines_run += 1;
    }
    assert!(lines_run > 15);
    // What the block says happened did happen.
    assert!(dir.path().join("is_species.svg").is_file());
    assert!(dir.path().join("study0.parquet").is_file());
    let events: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("lineage.json")).unwrap())
            .unwrap();
    assert_eq!(events[0]["job"]["name"], "Petal & sepal regressor");
    let n = events.as_array().unwrap().len();
    if let Some(checked) = lamella_tests::check_openlineage(&dir.path().join("lineage.json")) {
        assert_eq!(checked, n);
    }
    assert_eq!(events[0]["inputs"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(
        events[0]["outputs"].as_array().unwrap().len(),
        1,
        "{events}"
    );
    let versions = Command::new(bin)
        .args(["versions", "--key", "iris/study0.csv", "--json"])
        .current_dir(dir.path())
        .env("LAMELLA_HOME", dir.path().join(".home"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&versions.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
}

#[test]
fn rust_example_is_the_readme_s() {
    let code = block(&readme(), "From Rust, embed", "rust");
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/examples/readme.rs"),
    )
    .unwrap();
    assert!(
        example.ends_with(&code),
        "core/examples/readme.rs must end with the README's Rust block:\n{code}"
    );
}

/// The README's Rust example, with the README's `[dependencies]` line, builds and runs as a
/// new crate outside this workspace (as a reader would paste it).
#[test]
fn rust_example_builds_as_a_new_crate() {
    let text = readme();
    let code = block(&text, "From Rust, embed", "rust");
    let deps = block(&text, "From Rust, embed", "toml");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The README names the path as seen from a sibling folder of the repository; here the
    // crate lives elsewhere, so only the path is replaced — everything else is the README's.
    let dependency = deps.replace(
        "\"../lamella/core\"",
        &format!("{:?}", root.join("core").display().to_string()),
    );
    assert_ne!(
        dependency, deps,
        "the README's dependency names ../lamella/core"
    );
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"readme-example\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{dependency}\n[workspace]\n"
        ),
    )
    .unwrap();
    // The workspace's lock file pins the same versions (and lets the build run offline).
    std::fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), &code).unwrap();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--offline"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", root.join("target").join("readme-crate"))
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        // built once per target folder: incremental caches would only take disk
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's Rust example does not build or run as a new crate:\n{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("study0")
            && stdout.contains(": 3 species; feature iris_species_name (cat)"),
        "{stdout}"
    );
}
