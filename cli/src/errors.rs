//! How errors reach the user: one `error:` line (a `hint:` line when there is something to do
//! on the command line), or under `--json` one object on stderr, with the exit code of its
//! kind. The library's messages name no command; the hints here add them, by error kind.

use lamella_core::{Error, NoInstanceReason};
use serde::Serialize;

use crate::commands::{ExitCode, Usage};
use crate::output::shell_word;

/// A library error with a command-line hint for this call.
#[derive(Debug)]
pub struct Hinted {
    /// The library's error.
    pub error: Error,
    /// What to run or pass.
    pub hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for Hinted {}

/// `error` with a command-line `hint`.
pub fn hinted(error: Error, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        error,
        hint: hint.into(),
    })
}

/// What is printed for a failed command.
#[derive(Debug, Serialize)]
pub struct Failure {
    /// A stable snake_case kind (`not_found`, `usage`, …).
    pub kind: String,
    /// The message, on one line.
    pub message: String,
    /// What to do on the command line, if anything.
    pub hint: Option<String>,
    /// The exit code.
    #[serde(skip)]
    pub code: u8,
}

impl Failure {
    /// Classifies `e`: its kind, message and hint, and the exit code (2 for usage errors,
    /// 1 otherwise).
    pub fn of(e: &anyhow::Error) -> Failure {
        let message = crate::message(e);
        if e.downcast_ref::<Usage>().is_some() {
            return Failure {
                kind: "usage".into(),
                message,
                hint: None,
                code: 2,
            };
        }
        if let Some(h) = e.downcast_ref::<Hinted>() {
            return Failure {
                kind: h.error.kind().into(),
                message,
                hint: Some(h.hint.clone()),
                code: 1,
            };
        }
        if let Some(core) = e.chain().find_map(|c| c.downcast_ref::<Error>()) {
            return Failure {
                kind: core.kind().into(),
                message,
                hint: hint_for(core),
                // A value its feature cannot take, or a feature that does not exist, is a
                // usage error of the command line.
                code: if matches!(core, Error::FeatureValue { .. }) {
                    2
                } else {
                    1
                },
            };
        }
        Failure {
            kind: "error".into(),
            message,
            hint: None,
            code: e.downcast_ref::<ExitCode>().map_or(1, |c| c.0),
        }
    }
}

/// The command-line hint for a library error, by its kind.
pub fn hint_for(e: &Error) -> Option<String> {
    Some(match e {
        Error::NoInstance { location, reason } => match reason {
            NoInstanceReason::NoCurrent => {
                "create one with `lamella init --storage DIR`, or connect with `lamella connect \
                 DIR`"
                    .into()
            }
            NoInstanceReason::NothingHere | NoInstanceReason::DatabaseMissing { .. } => {
                format!(
                    "create one with `lamella init --storage {}`",
                    shell_word(location)
                )
            }
            NoInstanceReason::UnknownStorage | NoInstanceReason::NeedsDatabase => format!(
                "give its database: `lamella init --storage {} --db URL`",
                shell_word(location)
            ),
            NoInstanceReason::EmptyDatabase { db } => format!(
                "create one with `lamella init --storage {} --db {}`",
                shell_word(location),
                shell_word(db)
            ),
            NoInstanceReason::ManagedElsewhere { .. } => return None,
            _ => return None,
        },
        Error::InstanceExists {
            connect_to: Some(to),
            ..
        } => format!("connect with `lamella connect {}`", shell_word(to)),
        Error::NotEmpty { .. } => {
            "delete its artifacts first, or pass --force to drop the metadata (stored files are \
             kept)"
                .into()
        }
        Error::MissingObject { .. } => "check the storage with `lamella doctor`".into(),
        Error::NotInStorage { location, .. } if location.starts_with("s3://") => {
            let bucket: String = location
                .splitn(4, '/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            format!(
                "register the bucket with `lamella storage add {}`",
                shell_word(&bucket)
            )
        }
        Error::Concat {
            lossy_would_resolve: true,
            ..
        } => "pass --allow-lossy to promote anyway (numbers to float64, zoned times to UTC, the \
              rest to strings)"
            .into(),
        Error::UnknownColumn { role, .. } => match *role {
            "named as categorical" => "check the column names given to --categorical".into(),
            "given a unit" => "check the column names given to --unit".into(),
            "named for new labels" => "check the column names given to --add-new".into(),
            _ => return None,
        },
        Error::NotAUid { registry, .. } if *registry == "Artifact" => {
            "to name an artifact by its key, use --key KEY".into()
        }
        Error::Duplicate { .. } => "register it again with --duplicate new".into(),
        Error::Annotation { feature: None, .. } => {
            "register the columns' features with `lamella feature from-file FILE --save`".into()
        }
        Error::Lineage(lamella_core::LineageError::TooLarge { .. }) => {
            "pass --depth N or --cluster N, or write a .dot or .mmd file".into()
        }
        Error::MissingBranch { branch, .. } => format!(
            "create it with `lamella ulabel create {}`, or pass --create-branch",
            shell_word(branch)
        ),
        Error::NotManaged { .. } => {
            "choose a storage of this instance with `lamella storage default URL`".into()
        }
        Error::NotFound { registry, .. } => match *registry {
            "Artifact" => "list artifacts with `lamella ls` (deleted ones with --trash)".into(),
            "Collection" => "list collections with `lamella collection ls`".into(),
            "Schema" => "list schemas with `lamella schema ls`".into(),
            "ULabel" => {
                "list labels with `lamella ulabel list`, or search with `lamella ulabel search \
                 TEXT`"
                    .into()
            }
            "Feature" => {
                "list features with `lamella feature list`, or search with `lamella feature \
                 search TEXT`"
                    .into()
            }
            "Run" => "start a new run with `lamella track NAME`".into(),
            "Transform" => "list transforms with `lamella view --registry Transform`".into(),
            _ => return None,
        },
        _ => return None,
    })
}
