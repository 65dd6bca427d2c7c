//! Snapshots of `--help`: the CLI's documented surface.

use crate::Env;

#[test]
fn top_level_help() {
    let run = Env::sqlite().run(&["--help"]).ok();
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn ulabel_help() {
    let run = Env::sqlite().run(&["ulabel", "--help"]).ok();
    insta::assert_snapshot!(run.stdout);
}

/// The bash completion script loads in bash and completes subcommands and their options.
#[test]
fn bash_completion_completes_commands() {
    let env = Env::sqlite();
    let script = env.run(&["completions", "bash"]).ok().stdout;
    let file = env.path("lamella.bash");
    std::fs::write(&file, script).unwrap();
    let complete = |words: &str| {
        let n = words.split(' ').count() - 1;
        let probe = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={n}; COMP_LINE='{words}'; \
             COMP_POINT=${{#COMP_LINE}}; _lamella lamella \"${{COMP_WORDS[$COMP_CWORD]}}\" \
             \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; echo \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &probe])
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("lamella ul"), "ulabel");
    let ulabel = complete("lamella ulabel ");
    for sub in ["create", "add-parent", "synonym", "inspect"] {
        assert!(ulabel.split(' ').any(|w| w == sub), "{ulabel}");
    }
    assert!(complete("lamella collection load --f").contains("--force"));
}

#[test]
fn completion_scripts_for_every_shell() {
    let env = Env::sqlite();
    for (shell, marker) in [
        ("bash", "complete -F _lamella"),
        ("zsh", "#compdef lamella"),
        ("fish", "complete -c lamella"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[lamella]"),
    ] {
        let out = env.run(&["completions", shell]).ok().stdout;
        assert!(
            out.contains(marker),
            "{shell}: {}",
            &out[..out.len().min(300)]
        );
        assert!(out.contains("ulabel"), "{shell}");
    }
    let bad = env.run(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("possible values"), "{}", bad.stderr);
}

/// `man` prints the top page; `man --out DIR` writes one page per command.
#[test]
fn manual_pages() {
    let env = Env::sqlite();
    let page = env.run(&["man"]).ok().stdout;
    assert!(
        page.starts_with(".ie") || page.contains(".TH lamella 1"),
        "{page}"
    );
    for cmd in ["init", "save", "ulabel", "collection", "lineage"] {
        assert!(page.contains(cmd), "{cmd} missing from the page");
    }
    let dir = env.path("man");
    let r = env.run(&["man", "--out", dir.to_str().unwrap()]).ok();
    assert!(r.stdout.contains("manual pages"), "{}", r.stdout);
    let create = std::fs::read_to_string(dir.join("lamella-ulabel-create.1")).unwrap();
    assert!(create.contains(r"\-\-from\-file"), "{create}");
    assert!(dir.join("lamella-collection-load.1").exists());
}
