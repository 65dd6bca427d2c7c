-- Which feature set a list of names resolves to (issue: single-cell data — the same gene
-- panel annotated in file after file). The key is the set hash of the names (LaminDB's
-- `hash_set`, over names instead of uids); the row says "the features named these are
-- exactly the members of this set". That stays true while no member is renamed: members
-- cannot be deleted while in a set, names are unique, so no other feature can take a
-- member's name first. A rename forgets every row of the sets the feature is in (trigger);
-- deleting a set deletes its rows.
CREATE TABLE lamella_feature_set_names (
    names_hash TEXT NOT NULL PRIMARY KEY,
    feature_set_id BIGINT NOT NULL REFERENCES lamella_feature_sets (id) ON DELETE CASCADE
);
CREATE INDEX ix_feature_set_names_set ON lamella_feature_set_names (feature_set_id);

CREATE FUNCTION lamella_feature_renamed_forget_sets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM lamella_feature_set_names WHERE feature_set_id IN
        (SELECT feature_set_id FROM lamella_feature_set_features WHERE feature_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER lamella_feature_renamed_forget_sets
    AFTER UPDATE OF name ON lamella_features
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION lamella_feature_renamed_forget_sets();
