//! Integration tests of `lamella-storage`: one binary, one module per area.

mod backends;
mod hashing;
mod table_files;
mod tables;
mod util;
