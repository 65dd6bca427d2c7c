//! Diesel table definitions, one per registry and link table (SPEC §2).
//!
//! They mirror `migrations/{sqlite,postgres}/*/up.sql`; a test compares them against the
//! migrated database so the two cannot drift.
#![allow(missing_docs)]

diesel::table! {
    lamella_users (id) {
        id -> BigInt,
        uid -> Text,
        handle -> Text,
        name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    lamella_instance (id) {
        id -> BigInt,
        uid -> Text,
        storage_root -> Text,
        lamella_version -> Text,
        created_at -> Timestamp,
        migrations -> Nullable<Text>,
    }
}

diesel::table! {
    lamella_transforms (id) {
        id -> BigInt,
        uid -> Text,
        name -> Text,
        key -> Nullable<Text>,
        description -> Nullable<Text>,
        #[sql_name = "type"]
        type_ -> Text,
        version -> Nullable<Text>,
        is_latest -> Bool,
        reference -> Nullable<Text>,
        reference_type -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> BigInt,
    }
}

diesel::table! {
    lamella_transform_parents (child_id, parent_id) {
        child_id -> BigInt,
        parent_id -> BigInt,
    }
}

diesel::table! {
    lamella_runs (id) {
        id -> BigInt,
        uid -> Text,
        transform_id -> BigInt,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        is_consecutive -> Nullable<Bool>,
        reference -> Nullable<Text>,
        reference_type -> Nullable<Text>,
        created_at -> Timestamp,
        created_by_id -> BigInt,
        environment -> Nullable<Text>,
    }
}

diesel::table! {
    lamella_storages (id) {
        id -> BigInt,
        uid -> Text,
        root -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        region -> Nullable<Text>,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> BigInt,
        run_id -> Nullable<BigInt>,
        instance_uid -> Nullable<Text>,
    }
}

diesel::table! {
    lamella_ulabels (id) {
        id -> BigInt,
        uid -> Text,
        name -> Text,
        description -> Nullable<Text>,
        reference -> Nullable<Text>,
        reference_type -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> BigInt,
        run_id -> Nullable<BigInt>,
        synonyms -> Nullable<Text>,
    }
}

diesel::table! {
    lamella_ulabel_parents (child_id, parent_id) {
        child_id -> BigInt,
        parent_id -> BigInt,
    }
}

diesel::table! {
    lamella_features (id) {
        id -> BigInt,
        uid -> Text,
        name -> Text,
        dtype -> Text,
        unit -> Nullable<Text>,
        description -> Nullable<Text>,
        synonyms -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> BigInt,
        run_id -> Nullable<BigInt>,
        min_value -> Nullable<Double>,
        max_value -> Nullable<Double>,
        pattern -> Nullable<Text>,
        nullable -> Bool,
    }
}

diesel::table! {
    lamella_feature_sets (id) {
        id -> BigInt,
        uid -> Text,
        name -> Nullable<Text>,
        n -> Integer,
        dtype -> Nullable<Text>,
        registry -> Text,
        hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> BigInt,
        run_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    lamella_feature_set_features (feature_set_id, feature_id) {
        feature_set_id -> BigInt,
        feature_id -> BigInt,
    }
}

diesel::table! {
    lamella_artifacts (id) {
        id -> BigInt,
        uid -> Text,
        storage_id -> BigInt,
        key -> Nullable<Text>,
        suffix -> Text,
        accessor -> Nullable<Text>,
        description -> Nullable<Text>,
        size -> Nullable<BigInt>,
        hash -> Nullable<Text>,
        hash_type -> Nullable<Text>,
        n_objects -> Nullable<BigInt>,
        n_observations -> Nullable<BigInt>,
        version -> Nullable<Text>,
        is_latest -> Bool,
        visibility -> SmallInt,
        key_is_virtual -> Bool,
        transform_id -> Nullable<BigInt>,
        run_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> BigInt,
    }
}

diesel::table! {
    lamella_artifact_ulabels (id) {
        id -> BigInt,
        artifact_id -> BigInt,
        ulabel_id -> BigInt,
        feature_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        created_by_id -> BigInt,
    }
}

diesel::table! {
    lamella_artifact_feature_sets (artifact_id, slot) {
        artifact_id -> BigInt,
        feature_set_id -> BigInt,
        slot -> Text,
    }
}

diesel::table! {
    lamella_collections (id) {
        id -> BigInt,
        uid -> Text,
        name -> Text,
        description -> Nullable<Text>,
        hash -> Nullable<Text>,
        version -> Nullable<Text>,
        is_latest -> Bool,
        visibility -> SmallInt,
        reference -> Nullable<Text>,
        reference_type -> Nullable<Text>,
        transform_id -> Nullable<BigInt>,
        run_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> BigInt,
    }
}

diesel::table! {
    lamella_collection_artifacts (collection_id, artifact_id) {
        collection_id -> BigInt,
        artifact_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    lamella_collection_ulabels (id) {
        id -> BigInt,
        collection_id -> BigInt,
        ulabel_id -> BigInt,
        feature_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    lamella_collection_feature_sets (collection_id, slot) {
        collection_id -> BigInt,
        feature_set_id -> BigInt,
        slot -> Text,
    }
}

diesel::table! {
    lamella_run_input_artifacts (run_id, artifact_id) {
        run_id -> BigInt,
        artifact_id -> BigInt,
    }
}

diesel::table! {
    lamella_run_input_collections (run_id, collection_id) {
        run_id -> BigInt,
        collection_id -> BigInt,
    }
}

diesel::table! {
    lamella_feature_set_names (names_hash) {
        names_hash -> Text,
        feature_set_id -> BigInt,
    }
}

diesel::table! {
    lamella_name_keys (registry, fp, record_id) {
        registry -> SmallInt,
        fp -> BigInt,
        record_id -> BigInt,
    }
}

diesel::table! {
    lamella_name_index (registry) {
        registry -> SmallInt,
        version -> Integer,
    }
}

diesel::table! {
    lamella_feature_values (id) {
        id -> BigInt,
        feature_id -> BigInt,
        value -> Text,
        num -> Nullable<Double>,
        ts -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by_id -> BigInt,
    }
}

diesel::table! {
    lamella_artifact_feature_values (artifact_id, feature_value_id) {
        artifact_id -> BigInt,
        feature_value_id -> BigInt,
    }
}

diesel::table! {
    lamella_collection_feature_values (collection_id, feature_value_id) {
        collection_id -> BigInt,
        feature_value_id -> BigInt,
    }
}

diesel::table! {
    lamella_schemas (id) {
        id -> BigInt,
        uid -> Text,
        name -> Text,
        description -> Nullable<Text>,
        hash -> Text,
        ordered -> Bool,
        allow_extra -> Bool,
        is_latest -> Bool,
        created_at -> Timestamp,
        created_by_id -> BigInt,
    }
}

diesel::table! {
    lamella_schema_features (schema_id, feature_id) {
        schema_id -> BigInt,
        feature_id -> BigInt,
        position -> Integer,
        required -> Bool,
        column_name -> Nullable<Text>,
    }
}

diesel::table! {
    lamella_artifact_schemas (artifact_id) {
        artifact_id -> BigInt,
        schema_id -> BigInt,
    }
}

diesel::table! {
    lamella_artifact_anndata (artifact_id) {
        artifact_id -> BigInt,
        n_obs -> BigInt,
        n_vars -> BigInt,
        summary -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    lamella_users,
    lamella_instance,
    lamella_transforms,
    lamella_transform_parents,
    lamella_runs,
    lamella_storages,
    lamella_ulabels,
    lamella_ulabel_parents,
    lamella_features,
    lamella_feature_sets,
    lamella_feature_set_features,
    lamella_artifacts,
    lamella_artifact_ulabels,
    lamella_artifact_feature_sets,
    lamella_collections,
    lamella_collection_artifacts,
    lamella_collection_ulabels,
    lamella_collection_feature_sets,
    lamella_run_input_artifacts,
    lamella_run_input_collections,
    lamella_name_keys,
    lamella_name_index,
    lamella_feature_values,
    lamella_artifact_feature_values,
    lamella_collection_feature_values,
    lamella_schemas,
    lamella_schema_features,
    lamella_artifact_schemas,
    lamella_artifact_anndata,
    lamella_feature_set_names
);
