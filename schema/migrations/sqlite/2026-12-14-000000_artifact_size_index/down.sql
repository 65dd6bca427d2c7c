DROP INDEX ix_artifacts_size;
