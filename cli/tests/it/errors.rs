//! Bad input gives one clear line on stderr and exit code 1 (usage errors: clap's 2).

use crate::{Env, assert_error, assert_json_error, cli_test};

#[test]
fn missing_instance() {
    let env = Env::sqlite();
    for args in [
        &["info"][..],
        &["ulabel", "list"],
        &["ulabel", "create", "x"],
        &["feature", "list"],
        &["view"],
        &["delete", "--force"],
    ] {
        let run = env.run(args);
        assert_error(&run, "no current instance");
        assert!(
            run.stderr.contains("lamella init --storage"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    assert_error(
        &env.run(&["connect", "nowhere"]),
        "no Lamella instance at nowhere",
    );
}

#[test]
fn bad_database_url_creates_nothing() {
    let env = Env::sqlite();
    let run = env.run(&[
        "init",
        "--storage",
        "data",
        "--db",
        "postgress://postgres@127.0.0.1:55432/lamella_test",
    ]);
    assert_error(&run, "unsupported database URL");
    assert!(!env.path("data").exists(), "no folder may be created");
    assert!(
        !env.path("postgress:").exists()
            && std::fs::read_dir(env.cli.dir.path())
                .unwrap()
                .filter_map(Result::ok)
                .all(|e| e.file_name() == ".home"),
        "no file may be created"
    );
    assert_error(&env.run(&["info"]), "no current instance");
}

#[test]
fn usage_errors_keep_clap_exit_code() {
    let env = Env::sqlite();
    let run = env.run(&["ulabel", "list", "--filter", "name"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("field=value"), "{}", run.stderr);
    assert_eq!(env.run(&["frobnicate"]).code, 2);
    assert_eq!(env.run(&["ulabel", "create"]).code, 2);
    assert_eq!(env.run(&["--help"]).code, 0);
    let version = env.run(&["--version"]).ok();
    assert!(version.stdout.starts_with("lamella "), "{}", version.stdout);
}

cli_test!(bad_filter_field_suggests, |env| {
    env.init("data");
    let run = env.run(&["ulabel", "list", "--filter", "nme=setosa"]);
    assert_error(&run, "did you mean 'name'");
    let run = env.run(&["ulabel", "list", "--filter", "parents__nme=x"]);
    assert_error(&run, "did you mean 'name'");
    let run = env.run(&["ulabel", "list", "--order", "nmae"]);
    assert_error(&run, "nmae");
    let run = env.run(&["feature", "list", "--filter", "dtpye=cat"]);
    assert_error(&run, "did you mean 'dtype'");
});

cli_test!(json_errors_stay_on_stderr, |env| {
    env.init("data");
    let run = env.run(&["ulabel", "delete", "ghost", "--json"]);
    let err = assert_json_error(&run, 1, "not_found", "no ULabel matches 'ghost'");
    assert!(
        err["hint"]
            .as_str()
            .is_some_and(|h| h.contains("lamella ulabel search ghost")),
        "{err}"
    );
    // A usage error under --json is the same object, with clap's exit code.
    let usage = env.run(&["ulabel", "list", "--filter", "name", "--json"]);
    assert_json_error(&usage, 2, "usage", "field=value");
    // Without --json the same error is an `error:` line and a `hint:` line.
    let human = env.run(&["ulabel", "delete", "ghost"]);
    assert_error(&human, "no ULabel matches 'ghost'");
    assert!(
        human
            .stderr
            .contains("hint: list them with `lamella ulabel list`"),
        "{}",
        human.stderr
    );
});
