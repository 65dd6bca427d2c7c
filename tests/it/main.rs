//! End-to-end tests of lamella-core; each `db_test!` body runs on SQLite and PostgreSQL.

mod anndata;
mod annotate;
mod api;
mod artifacts;
mod collections;
mod concat_rules;
mod features;
mod hierarchy;
mod import;
mod instance;
mod integrity;
mod layering;
mod queries;
mod schema_agreement;
mod schemas;
mod track;
mod ulabels;
mod update;
mod validation;
mod values;
