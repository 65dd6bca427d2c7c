//! Validation (SPEC §5, §5.1): `validate`, `inspect`, `standardize` and synonyms on the named
//! registries, and the curator, whose one report lists every problem of a table.

mod anndata;
mod curator;
mod genes;
mod registry;
mod report;
mod stages;
mod standardize;
mod units;
mod values;

pub use anndata::AnnDataCurator;
pub use curator::{Curator, DEFAULT_EXAMPLES};
pub(crate) use registry::synonyms as synonyms_of;
pub use registry::{Inspection, Standardized, Unmatched};
pub use report::{Code, Issue, Offending, Report, Stage, Suggestion, SuggestionKind};
pub use standardize::Fixes;
pub use units::{conversion_factor, same_unit};

use crate::error::{Error, Result};

/// A feature's `pattern` as a regular expression that must match a whole value.
pub(crate) fn full_match(pattern: &str) -> Result<regex::Regex> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            Error::invalid(
                "the pattern",
                pattern,
                format!("it is not a regular expression ({e})"),
            )
        })
}
