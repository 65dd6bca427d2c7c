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
