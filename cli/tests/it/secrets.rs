//! Secrets never appear in output, logs (at any verbosity), errors or files others can read.

use crate::{Env, assert_error, cli_test};

const S3_SECRET: &str = "lamella-test-secret-key-0123456789";
const PG_PASSWORD: &str = "pg-hunter2-password";

fn assert_no_secret(run: &lamella_tests::Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the secret leaked:\nstdout:\n{}\nstderr (last 2000 bytes):\n{}",
        run.stdout,
        &run.stderr[run.stderr.len().saturating_sub(2000)..]
    );
}

#[test]
fn s3_keys_never_reach_the_logs() {
    let Some(root) = lamella_tests::s3_root() else {
        return;
    };
    let env = Env::sqlite();
    let endpoint = std::env::var("LAMELLA_TEST_S3_ENDPOINT").unwrap();
    std::fs::write(env.path("a.txt"), "some data\n").unwrap();
    for (i, level) in ["trace", "reqsign=trace,debug", "debug"].iter().enumerate() {
        let vars = [
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_SECRET_ACCESS_KEY", S3_SECRET),
            ("RUST_LOG", *level),
        ];
        let dir = format!("{root}-{i}");
        let init = env.run_env(&["init", "--storage", &dir], &vars).ok();
        assert_no_secret(&init, S3_SECRET);
        assert!(!init.stderr.is_empty(), "{level}: logs were expected");
        let save = env.run_env(&["save", "a.txt", "--key", "a.txt", "-vvv"], &vars);
        assert_no_secret(&save, S3_SECRET);
        let info = env.run_env(&["info", "--json"], &vars).ok();
        assert_no_secret(&info, S3_SECRET);
    }
}

cli_test!(database_passwords_stay_private, |env| {
    if !env.db_is_postgres() {
        // A keyword connection string or a bare path is refused, never a SQLite file.
        let run = env.run(&[
            "init",
            "--storage",
            "data",
            "--db",
            &format!("host=localhost password={PG_PASSWORD} dbname=x"),
        ]);
        assert_error(&run, "keyword connection string");
        assert_no_secret(&run, PG_PASSWORD);
        assert!(!env.path("data").exists());
        assert!(
            std::fs::read_dir(env.path(""))
                .unwrap()
                .all(|e| { !e.unwrap().file_name().to_string_lossy().contains("dbname") })
        );
        let run = env.run(&["init", "--storage", "data", "--db", "plain.db"]);
        assert_error(&run, "has no scheme");
        // A malformed URL is not echoed with its password.
        let run = env.run(&[
            "init",
            "--storage",
            "data",
            "--db",
            &format!("postgresql://u:{PG_PASSWORD}@[bad/x"),
        ]);
        assert_eq!(run.code, 1, "{run:?}");
        assert_no_secret(&run, PG_PASSWORD);
        return;
    }
    // The harness's server trusts local connections, so any password is accepted: the point is
    // where it ends up.
    let url = env.db_args().pop().unwrap();
    let with_pw = url.replacen("postgres@", &format!("postgres:{PG_PASSWORD}@"), 1);
    assert_ne!(url, with_pw, "{url}");
    let init = env.run_env(
        &["init", "--storage", "data", "--db", &with_pw],
        &[("RUST_LOG", "trace")],
    );
    assert_eq!(init.code, 0, "{init:?}");
    assert_no_secret(&init, PG_PASSWORD);
    for args in [
        &["info"][..],
        &["info", "--json"],
        &["ulabel", "create", "x", "-vvv"],
    ] {
        let run = env.run_env(args, &[("RUST_LOG", "trace")]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_no_secret(&run, PG_PASSWORD);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let home = env.path(".home");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode(&home),
            0o700,
            "the settings folder is the user's alone"
        );
        assert_eq!(mode(&home.join("settings.json")), 0o600);
    }
    // The password can also come from PGPASSWORD instead of being stored.
    let bare = env.db_args().pop().unwrap();
    let init = env.run_env(
        &["init", "--storage", "other", "--db", &bare],
        &[("PGPASSWORD", PG_PASSWORD)],
    );
    assert_eq!(init.code, 0, "{init:?}");
    let settings = std::fs::read_to_string(env.path(".home/settings.json")).unwrap();
    assert_eq!(
        settings.matches(PG_PASSWORD).count(),
        1,
        "only the URL given with it"
    );
});
