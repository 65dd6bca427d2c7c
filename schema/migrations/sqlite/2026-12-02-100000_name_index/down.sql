DROP TABLE lamella_name_index;
DROP TABLE lamella_name_keys;
