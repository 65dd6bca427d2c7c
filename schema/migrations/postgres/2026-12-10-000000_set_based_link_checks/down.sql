DROP TRIGGER lamella_artifact_ulabels_parents_ins ON lamella_artifact_ulabels;
DROP TRIGGER lamella_artifact_ulabels_parents_upd ON lamella_artifact_ulabels;
DROP TRIGGER lamella_collection_ulabels_parents_ins ON lamella_collection_ulabels;
DROP TRIGGER lamella_collection_ulabels_parents_upd ON lamella_collection_ulabels;
DROP TRIGGER lamella_artifact_feature_values_parents_ins ON lamella_artifact_feature_values;
DROP TRIGGER lamella_artifact_feature_values_parents_upd ON lamella_artifact_feature_values;
DROP TRIGGER lamella_collection_feature_values_parents_ins ON lamella_collection_feature_values;
DROP TRIGGER lamella_collection_feature_values_parents_upd ON lamella_collection_feature_values;
DROP TRIGGER lamella_artifacts_del_ulabels ON lamella_artifacts;
DROP TRIGGER lamella_artifacts_del_values ON lamella_artifacts;
DROP TRIGGER lamella_collections_del_ulabels ON lamella_collections;
DROP TRIGGER lamella_collections_del_values ON lamella_collections;
DROP TRIGGER lamella_ulabels_del_artifact_links ON lamella_ulabels;
DROP TRIGGER lamella_ulabels_del_collection_links ON lamella_ulabels;
DROP TRIGGER lamella_features_del_artifact_links ON lamella_features;
DROP TRIGGER lamella_features_del_collection_links ON lamella_features;
DROP TRIGGER lamella_feature_values_del_artifact_links ON lamella_feature_values;
DROP TRIGGER lamella_feature_values_del_collection_links ON lamella_feature_values;
DROP FUNCTION lamella_check_link_parents();
DROP FUNCTION lamella_delete_link_children();

ALTER TABLE lamella_artifact_ulabels
    ADD FOREIGN KEY (artifact_id) REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (ulabel_id) REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    ADD FOREIGN KEY (feature_id) REFERENCES lamella_features (id) ON DELETE RESTRICT,
    ADD FOREIGN KEY (created_by_id) REFERENCES lamella_users (id) ON DELETE RESTRICT;
ALTER TABLE lamella_collection_ulabels
    ADD FOREIGN KEY (collection_id) REFERENCES lamella_collections (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (ulabel_id) REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    ADD FOREIGN KEY (feature_id) REFERENCES lamella_features (id) ON DELETE RESTRICT;
ALTER TABLE lamella_artifact_feature_values
    ADD FOREIGN KEY (artifact_id) REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (feature_value_id) REFERENCES lamella_feature_values (id) ON DELETE RESTRICT;
ALTER TABLE lamella_collection_feature_values
    ADD FOREIGN KEY (collection_id) REFERENCES lamella_collections (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (feature_value_id) REFERENCES lamella_feature_values (id) ON DELETE RESTRICT;
