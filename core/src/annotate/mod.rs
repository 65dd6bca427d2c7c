//! Annotation: features from a table's columns, feature sets per slot and labels linked
//! through features (SPEC §5).

mod feature_sets;
mod features;
mod labels;

pub use feature_sets::FeatureSets;
pub(crate) use feature_sets::save_set;
pub use features::infer_dtype;
pub use labels::{Labels, LabelsAdded};
pub(crate) use labels::{add_in, branch_members, lock_owner};
