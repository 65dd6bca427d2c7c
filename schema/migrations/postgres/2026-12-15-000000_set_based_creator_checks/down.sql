DROP TRIGGER lamella_users_del_features ON lamella_users;
DROP TRIGGER lamella_users_del_ulabels ON lamella_users;
DROP TRIGGER lamella_features_creator_upd ON lamella_features;
DROP TRIGGER lamella_features_creator_ins ON lamella_features;
DROP TRIGGER lamella_ulabels_creator_upd ON lamella_ulabels;
DROP TRIGGER lamella_ulabels_creator_ins ON lamella_ulabels;
ALTER TABLE lamella_features ADD FOREIGN KEY (created_by_id) REFERENCES lamella_users (id) ON DELETE RESTRICT;
ALTER TABLE lamella_ulabels ADD FOREIGN KEY (created_by_id) REFERENCES lamella_users (id) ON DELETE RESTRICT;
