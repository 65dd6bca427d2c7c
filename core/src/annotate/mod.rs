//! Annotation: features from a table's columns (SPEC §5). Feature sets per slot and labels on
//! artifacts come next (issue 8).

mod features;

pub use features::infer_dtype;
