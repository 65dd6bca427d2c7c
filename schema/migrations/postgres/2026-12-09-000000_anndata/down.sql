DROP TABLE lamella_artifact_anndata;
