//! Annotation: features from a table's columns, feature sets per slot (SPEC §5). Labels on
//! artifacts through features come next (issue 8).

mod feature_sets;
mod features;

pub use feature_sets::FeatureSets;
pub use features::infer_dtype;
