//! `lamella`: the command-line front-end of Lamella, a LaminDB-like data manager.
//!
//! A thin shell over `lamella-core`: it parses arguments (clap), calls the library, and prints
//! human tables or `--json`. It is the only crate in the workspace that prints.

mod cli;
mod commands;
mod errors;
mod output;
mod progress;
mod redact;
mod tutorial;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::output::Out;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    install_panic_hook(args.iter().any(|a| a == "--json"));
    redact::init(&args);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && args.iter().any(|a| a == "--json") => {
            // A usage error of a script that asked for JSON: the same object as any error.
            let message = e.kind().as_str().map_or_else(
                || one_line(&e.to_string()),
                |kind| one_line(&e.to_string().replace("error: ", "")) + &format!(" ({kind})"),
            );
            print_failure(
                &errors::Failure {
                    kind: "usage".into(),
                    message,
                    hint: Some("see `lamella --help`".into()),
                    code: 2,
                },
                true,
            );
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose);
    let json = cli.json;
    progress::enable(json);
    let mut out = Out::stdout(json);
    let result = commands::run(cli.command, &mut out).and_then(|()| out.flush());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<commands::ExitCode>().is_some() => {
            let _ = out.flush();
            ExitCode::from(e.downcast_ref::<commands::ExitCode>().map_or(1, |c| c.0))
        }
        Err(e) => {
            let _ = out.flush();
            let failure = errors::Failure::of(&e);
            print_failure(&failure, json);
            ExitCode::from(failure.code)
        }
    }
}

/// Prints a failure on stderr: `error: …` (and `hint: …`) lines with control characters
/// escaped, or under `--json` one object `{"error": {"kind", "message", "hint"}}`; secrets are
/// scrubbed either way.
fn print_failure(f: &errors::Failure, json: bool) {
    let scrub = |s: &str| redact::scrub(&output::printable(s, false));
    if json {
        let value = serde_json::json!({
            "error": {
                "kind": f.kind,
                "message": redact::scrub(&f.message),
                "hint": f.hint.as_deref().map(redact::scrub),
            }
        });
        eprintln!("{value}");
        return;
    }
    eprintln!("error: {}", scrub(&f.message));
    if let Some(hint) = &f.hint {
        eprintln!("hint: {}", scrub(hint));
    }
}

/// The error and its causes on one line, leaving out causes the message already quotes
/// (library errors often include their source's text).
pub(crate) fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = one_line(&cause.to_string());
        if c.is_empty() || text.contains(&c) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&c);
    }
    text
}

/// Errors are printed on one line, whatever the library's message holds.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `lamella … | head` closes stdout early: that is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Logs go to stderr; the level comes from `RUST_LOG`, else `-v` (info, debug, trace for the
/// lamella crates), else only errors of the lamella crates — their warnings (e.g. similar
/// names) are what this binary prints itself. The object store's retry warnings (with
/// backtraces) show from `-vv` on: a failure that outlasts the retries is the error printed.
///
/// Secrets: the request signer's logs (`reqsign`, which prints credentials at debug level) are
/// always off, and every line that is written is scrubbed of the known secret values.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn,opendal=error,lamella=error",
        1 => "warn,opendal=error,lamella=info",
        2 => "warn,lamella=debug",
        _ => "warn,lamella=trace",
    };
    let chosen = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() && EnvFilter::try_new(&v).is_ok() => v,
        _ => default.to_string(),
    };
    // Later directives win for the same target: the signer stays silent at any verbosity.
    let filter = EnvFilter::new(format!("{chosen},reqsign=off,reqsign_core=off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(redact::ScrubbedStderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .without_time()
        .with_target(verbose > 1)
        .try_init();
}

/// A panic is a bug: say so in one line instead of a backtrace dump.
fn install_panic_hook(json: bool) {
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        print_failure(
            &errors::Failure {
                kind: "internal".into(),
                message: format!(
                    "internal error ({}{place}): this is a bug in lamella, please report it",
                    one_line(&msg)
                ),
                hint: None,
                code: 101,
            },
            json,
        );
    }));
}
