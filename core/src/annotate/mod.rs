//! Annotation: features from a table's columns, feature sets per slot and labels linked
//! through features (SPEC §5).

mod feature_sets;
mod features;
mod labels;
mod values;

pub use feature_sets::FeatureSets;
pub(crate) use feature_sets::{save_set, save_set_of_keys};
pub use features::infer_dtype;
pub(crate) use features::infer_from_type;
pub use labels::{Labels, LabelsAdded};
pub(crate) use labels::{add_in, branch_members, lock_owner};
pub use values::{FeatureValue, FeaturesOf, ValueMap, ValuesAdded};
pub(crate) use values::{collect_values, decode, join_external_many, unknown_feature};
