//! Lamella's storage layer: object stores keyed by URL scheme, LaminDB-exact content
//! hashing, and Arrow/Parquet tables on local disk.
//!
//! It knows nothing of records or SQL. Three parts:
//!
//! - [`Store`]: a local folder (`/abs/path`, `file:///abs/path`), an S3 prefix
//!   (`s3://bucket/prefix`) or an in-process store (`memory://name`), with a synchronous API
//!   (`put_file`, `get_to_file`, `stat`, `list`, …) over opendal.
//! - Hashing bit-exact with LaminDB: [`hash_file`], [`hash_folder`], [`hash_set`],
//!   [`hash_from_etag`], …, over one folder walker with one symlink policy
//!   ([`walk_folder`], [`hash_walk`]).
//! - Tables: [`write_parquet`], [`read_parquet`], [`ParquetBatches`], [`read_csv`],
//!   [`CsvBatches`], [`write_csv`], [`convert_table`], [`read_table_head`], [`check_table`],
//!   [`n_rows`].
//!
//! ```
//! use lamella_storage::{hash_bytes, hash_set, Store};
//!
//! let store = Store::open("memory://crate-doc")?;
//! store.put_bytes("raw/a.txt", b"a")?;
//! let meta = store.stat("raw/a.txt")?;
//! assert_eq!(meta.size, 1);
//! assert_eq!(store.list("raw")?[0].key, "raw/a.txt");
//!
//! assert_eq!(hash_bytes(b"a").hash, "DMF1ucDxtqgxw5niaXcmYQ");
//! assert_eq!(hash_set(["a", "b"]), "2BYMmz3CDU6TGutPRSYh");
//! # Ok::<(), lamella_storage::Error>(())
//! ```
//!
//! Cargo features `fs`, `memory` and `s3` (all on by default) select the backends; a URL
//! whose backend is disabled is an [`Error::UnsupportedScheme`].

mod anndata;
mod anndata_write;
mod compound_field;
mod error;
mod hash;
mod location;
mod store;
mod table;
mod table_csv;
mod table_splice;
mod tmp;
mod walk;
mod zarr;

pub use anndata::{
    AnnData, AnnDataSummary, Axis, MatrixEncoding, MatrixInfo, is_anndata_file, is_anndata_store,
    is_h5ad_file,
};
pub use anndata_write::{
    VarJoin, joined_var_names, rewrite_anndata, write_anndata, write_concatenated_anndata,
};
pub use error::{Error, Result};
pub use hash::{
    FileHash, FolderHash, HASH_CHUNK_SIZE, HashType, hash_and_copy_file, hash_bytes, hash_file,
    hash_file_with_chunk_size, hash_files_parallel, hash_folder, hash_from_etag, hash_from_hashes,
    hash_set, hash_walk, hash_walk_with,
};
pub use location::{Location, bucket_root};
pub use store::{ObjectMeta, S3Options, Store, StoreKind, UploadGate};
pub use table::{
    ParquetBatches, TableHead, TextFormat, check_table, column_int_bounds, convert_table, csv_rows,
    is_table_file, n_rows, read_csv, read_parquet, read_table_head, write_batches, write_csv,
    write_parquet, write_parquet_parts,
};
pub use table_csv::{CsvBatches, CsvOptions, PANDAS_NA};
pub use table_splice::{
    ParquetParts, SPLICE_MAX_ROWS, SPLICE_MIN_ROWS, Splice, TablePart, splice_schema,
};
pub use tmp::{TMP_PREFIX, dir_in as temp_dir_in, sweep as sweep_temp_leftovers};
pub use walk::{FolderWalk, WalkedFile, walk_folder};
