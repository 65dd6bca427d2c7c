//! Lamella's automation, run as `cargo xtask <command>` (see `cargo xtask --help`).
//!
//! Everything CI does lives here, in Rust rather than shell: `ci` (format, lint, test),
//! `bench`, and `services` (a throwaway PostgreSQL and an S3-compatible moto server for the
//! tests). Dependencies stay at std + anyhow; external tools (cargo, pg_ctl, psql, python3)
//! are run as processes, and HTTP is spoken over a plain `TcpStream`.

mod ci;
mod http;
mod process;
mod services;

use std::process::ExitCode;

const USAGE: &str = "\
Lamella's automation.

Usage: cargo xtask <command> [args]

Commands:
  ci                  What CI runs, stopping at the first failure:
                        cargo fmt --all -- --check
                        cargo clippy --workspace --all-targets -- -D warnings
                        cargo xtask services up   (skipped when LAMELLA_TEST_POSTGRES_URL and
                                                   LAMELLA_TEST_S3_ENDPOINT are set and reachable)
                        cargo test --workspace    (with the test variables set; CI passed through)
                      then prints the wall time of each step.
  bench [-- <args>]   services up, then
                        cargo run --release -p lamella-tests --bin lamella-bench -- <args>
  stress [-- <args>]  services up, a release lamella, then many writer processes on one
                      instance (SQLite and PostgreSQL), round after round, optionally
                      SIGKILLed; prints operations, failures and losses:
                        cargo run --release -p lamella-tests --bin lamella-stress -- <args>
                      (--rounds N, --writers W, --kill, --backend sqlite|postgres|both)
  services <action>   Throwaway PostgreSQL and S3 (moto) servers for tests:
                        up | down | status | env   (see `cargo xtask services --help`)
  help                Print this help.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("ci") => ci::ci(&args[1..]),
        Some("bench") => ci::bench(&args[1..]),
        Some("stress") => ci::stress(&args[1..]),
        Some("services") => services::main(&args[1..]),
        Some(other) => {
            eprint!("error: unknown command `{other}`\n\n{USAGE}");
            Ok(ExitCode::from(2))
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("\nerror: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
