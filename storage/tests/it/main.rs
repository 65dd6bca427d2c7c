//! Integration tests of `lamella-storage`: one binary, one module per area.

mod backends;
mod hashing;
mod tables;
mod util;
