DROP TABLE lamella_artifact_schemas;
DROP TABLE lamella_schema_features;
DROP TABLE lamella_schemas;
