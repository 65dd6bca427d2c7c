-- The creator of labels and features, checked per statement instead of per row, as the link
-- tables' parents are (2026-12-10-000000_set_based_link_checks, same function and the same
-- guarantees: each statement locks the distinct users it names `FOR KEY SHARE` and counts
-- them). A foreign key costs one trigger call with a lookup per inserted row: 10,000 new
-- labels spent 67 of their 146 ms of inserting there. Users are never deleted by Lamella;
-- deleting one that labels or features name is refused, once per statement.

DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.conrelid::regclass AS tbl, c.conname FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f' AND a.attname = 'created_by_id'
          AND c.conrelid IN ('lamella_ulabels'::regclass, 'lamella_features'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
END $$;

CREATE TRIGGER lamella_ulabels_creator_ins AFTER INSERT ON lamella_ulabels
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION lamella_check_link_parents('created_by_id', 'lamella_users');
CREATE TRIGGER lamella_ulabels_creator_upd AFTER UPDATE ON lamella_ulabels
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION lamella_check_link_parents('created_by_id', 'lamella_users');
CREATE TRIGGER lamella_features_creator_ins AFTER INSERT ON lamella_features
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION lamella_check_link_parents('created_by_id', 'lamella_users');
CREATE TRIGGER lamella_features_creator_upd AFTER UPDATE ON lamella_features
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION lamella_check_link_parents('created_by_id', 'lamella_users');
CREATE TRIGGER lamella_users_del_ulabels AFTER DELETE ON lamella_users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION lamella_delete_link_children('lamella_ulabels', 'created_by_id', 'restrict');
CREATE TRIGGER lamella_users_del_features AFTER DELETE ON lamella_users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION lamella_delete_link_children('lamella_features', 'created_by_id', 'restrict');
