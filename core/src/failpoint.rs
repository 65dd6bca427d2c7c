//! Fault points for crash tests: `LAMELLA_FAILPOINT=<name>` makes a save fail at `<name>`,
//! `abort-<name>` kills the process there. Compiled only with the `failpoints` feature (the
//! test crates enable it); without it every point is a no-op the optimiser removes, so no
//! release build reads the variable.

use crate::error::Result;

/// Fails (or aborts) at `name` when `LAMELLA_FAILPOINT` asks for it.
#[cfg(feature = "failpoints")]
pub(crate) fn failpoint(name: &'static str) -> Result<()> {
    match std::env::var("LAMELLA_FAILPOINT") {
        Ok(v) if v == name => Err(crate::error::Error::Failpoint { name }),
        Ok(v) if v.strip_prefix("abort-") == Some(name) => std::process::abort(),
        _ => Ok(()),
    }
}

/// Without the `failpoints` feature: never fails.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn failpoint(_name: &'static str) -> Result<()> {
    Ok(())
}
