//! Tables on local disk: Parquet and CSV through arrow-rs.
//!
//! Readers are streaming and hold one batch at a time; batches are bounded by a cell budget,
//! so a table with 100k columns reads in batches of a few rows. Writers write to a temporary
//! file next to the destination and rename it into place, so a failure leaves no partial
//! file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::{CastOptions, cast_with_options, concat_batches};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::ParquetMetaDataReader;
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};
use crate::table_csv::{CsvBatches, CsvOptions, check_csv, write_csv_stream};
use crate::table_splice::{Splice, TablePart, splice_schema};
use crate::walk::regular_file_meta;

/// Rows per Parquet row group (pyarrow's default is 1 Mi rows; smaller groups keep
/// writer memory bounded for wide tables and still compress well).
const ROW_GROUP_ROWS: usize = 256 * 1024;

/// The zstd level Parquet files are written with. Measured on 20 tables of 1M rows × 5
/// columns (ids, floats, categories): level 1 encodes in 0.85× the time of level 3 and its
/// files are no larger (38.0 MB against 39.9 MB; plain-encoded numbers compress as well at
/// level 1); negative ("fast") levels were slower overall, their larger pages costing more
/// to write than they save in compression.
const ZSTD_LEVEL: i32 = 1;
/// Rows a column writer takes at a time (statistics, levels, page-size checks).
const WRITE_BATCH_ROWS: usize = 8192;

/// Tables with more columns than this are written with Snappy instead of zstd.
const WIDE_TABLE_COLUMNS: usize = 2000;

/// Most rows per record batch when reading.
const READ_BATCH_ROWS: usize = 64 * 1024;

/// Cells (rows × columns) per record batch when reading: batches of wide tables get fewer
/// rows, so memory follows the data, not a fixed row count times the column count.
const READ_BATCH_CELLS: usize = 2 * 1024 * 1024;

/// Rows per read batch for a table with `n_columns` columns: 64 Ki rows, fewer when that
/// would exceed [`READ_BATCH_CELLS`], at least 1.
pub(crate) fn batch_rows(n_columns: usize) -> usize {
    (READ_BATCH_CELLS / n_columns.max(1)).clamp(1, READ_BATCH_ROWS)
}

/// The table formats known by their file suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableKind {
    Parquet,
    /// Delimited text (CSV, TSV), maybe gzip-compressed.
    Text(TextFormat),
}

/// How a delimited text table is written: its field delimiter and whether it is gzipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextFormat {
    /// The field delimiter: `,` for `.csv`, a tab for `.tsv` and `.tab`.
    pub delimiter: u8,
    /// Whether the file is gzip-compressed (`.csv.gz`, `.tsv.gz`).
    pub gzip: bool,
}

impl TextFormat {
    /// The text format of a file name by its suffix (case-insensitive): `.csv`, `.tsv`,
    /// `.tab`, each optionally followed by `.gz`; `None` for anything else.
    ///
    /// ```
    /// use lamella_storage::TextFormat;
    /// assert_eq!(TextFormat::of("x.TSV.gz"), Some(TextFormat { delimiter: b'\t', gzip: true }));
    /// assert_eq!(TextFormat::of("x.parquet"), None);
    /// ```
    pub fn of(name: &str) -> Option<TextFormat> {
        let lower = name.to_ascii_lowercase();
        let (rest, gzip) = match lower.strip_suffix(".gz") {
            Some(r) => (r, true),
            None => (lower.as_str(), false),
        };
        let delimiter = if rest.ends_with(".csv") {
            b','
        } else if rest.ends_with(".tsv") || rest.ends_with(".tab") {
            b'\t'
        } else {
            return None;
        };
        Some(TextFormat { delimiter, gzip })
    }
}

/// Whether `name` is a table file Lamella reads, by its suffix: `.parquet`, `.csv`, `.tsv`,
/// `.tab`, the text ones optionally gzipped (`.csv.gz`).
pub fn is_table_file(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".parquet") || TextFormat::of(name).is_some()
}

/// The table kind of `path` by its suffix, case-insensitive.
pub(crate) fn table_kind(path: &Path) -> Option<TableKind> {
    let name = path.file_name()?.to_str()?;
    if name.to_ascii_lowercase().ends_with(".parquet") {
        return Some(TableKind::Parquet);
    }
    TextFormat::of(name).map(TableKind::Text)
}

fn require_table_kind(path: &Path, doing: &str) -> Result<TableKind> {
    table_kind(path).ok_or_else(|| Error::InvalidInput {
        what: format!("{doing} `{}`", path.display()),
        reason: "only .parquet, .csv and .tsv files (also .csv.gz and .tsv.gz) are tables; \
                 rename the file to its real suffix"
            .into(),
    })
}

/// Writes a file through a temporary sibling: `fill` writes into the temporary file, which
/// is flushed and renamed to `path` (replacing any file there) only if `fill` succeeds.
/// Returns the final size.
pub(crate) fn write_file_atomically(
    path: &Path,
    fill: impl FnOnce(File) -> Result<()>,
) -> Result<u64> {
    let parent = parent_dir(path);
    let tmp = crate::tmp::file_in(&parent)?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("open", tmp.path(), e))?;
    fill(file)?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("flush", tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("rename a temporary file to", path, e.error))?;
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io("stat", path, e))?
        .len();
    Ok(size)
}

pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Errors unless batch `i` has the writer's `schema`; the message names the first difference.
pub(crate) fn check_batch_schema(
    path: &Path,
    i: usize,
    schema: &SchemaRef,
    batch: &RecordBatch,
) -> Result<()> {
    let got = batch.schema();
    // Schema-level metadata (pandas' index description, say) is not data: the file gets the
    // first batch's.
    if got.fields() == schema.fields() {
        return Ok(());
    }
    let describe = |f: &Field| format!("`{}` ({})", f.name(), f.data_type());
    let difference = if got.fields().len() != schema.fields().len() {
        format!(
            "has {} columns, the first batch has {}",
            got.fields().len(),
            schema.fields().len()
        )
    } else {
        match got
            .fields()
            .iter()
            .zip(schema.fields())
            .position(|(a, b)| a != b)
        {
            Some(c) => format!(
                "has column {} {}, the first batch has {}",
                c + 1,
                describe(&got.fields()[c]),
                describe(&schema.fields()[c])
            ),
            None => "has other column metadata than the first batch".into(),
        }
    };
    Err(Error::InvalidInput {
        what: format!("writing `{}`", path.display()),
        reason: format!("record batch {i} {difference}; give all batches one schema"),
    })
}

/// Writes record batches to a Parquet file (zstd level 1, dictionaries for strings only,
/// encoded on all cores; Snappy without dictionaries for
/// tables of over 2000 columns, whose per-column state would cost ~175 KB a column) and
/// returns the file's size.
///
/// All batches must share one schema; at least one batch is needed (a batch with zero rows
/// is fine and writes an empty table). The file appears atomically: it is written next to
/// `path` under a temporary name and renamed when complete, replacing any existing file.
///
/// Timestamps in seconds, which Parquet cannot type, are written as microseconds (same zone),
/// so pyarrow, pandas and DuckDB read timestamps rather than bare integers.
///
/// Accepts `&[RecordBatch]`, `&Vec<RecordBatch>` or `[&batch]`.
pub fn write_parquet<I, B>(batches: I, path: &Path) -> Result<u64>
where
    I: IntoIterator<Item = B>,
    B: std::borrow::Borrow<RecordBatch>,
{
    let (schema, batches) = first_schema(batches, path)?;
    write_parquet_stream(&schema, batches.map(|b| Ok(b.borrow().clone())), path)
}

/// Writes record batches to a CSV file with a header row and returns the file's size.
///
/// Like [`write_parquet`]: one schema, at least one batch (zero rows write the header
/// alone), written to a temporary file next to `path` and renamed, so a failure leaves no
/// partial file. Nested columns (lists, structs) cannot be written to CSV.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{Int64Array, RecordBatch};
/// use arrow::datatypes::{DataType, Field, Schema};
///
/// let dir = tempfile::tempdir()?;
/// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
/// let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2]))])?;
/// let path = dir.path().join("t.csv");
/// lamella_storage::write_csv([&batch], &path)?;
/// assert_eq!(std::fs::read_to_string(&path)?, "x\n1\n2\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_csv<I, B>(batches: I, path: &Path) -> Result<u64>
where
    I: IntoIterator<Item = B>,
    B: std::borrow::Borrow<RecordBatch>,
{
    let (schema, batches) = first_schema(batches, path)?;
    let format = text_format(path);
    write_csv_stream(
        &schema,
        batches.map(|b| Ok(b.borrow().clone())),
        path,
        format,
    )
}

/// Writes batches of `schema`, produced one at a time by `batches`, to `path` — Parquet or
/// CSV by its suffix — so memory stays bounded by a batch whatever the table's size. Atomic
/// like [`write_parquet`]; the first error from `batches` ends the write and leaves no file.
pub fn write_batches(
    schema: &SchemaRef,
    batches: impl Iterator<Item = Result<RecordBatch>>,
    path: &Path,
) -> Result<u64> {
    match table_kind(path) {
        Some(TableKind::Parquet) => write_parquet_stream(schema, batches, path),
        Some(TableKind::Text(f)) => write_csv_stream(schema, batches, path, f),
        None => Err(Error::InvalidInput {
            what: format!("writing `{}`", path.display()),
            reason: "give a .parquet, .csv or .tsv file (.csv.gz and .tsv.gz compress)".into(),
        }),
    }
}

type Peekable<I> = std::iter::Peekable<<I as IntoIterator>::IntoIter>;

fn first_schema<I, B>(batches: I, path: &Path) -> Result<(SchemaRef, Peekable<I>)>
where
    I: IntoIterator<Item = B>,
    B: std::borrow::Borrow<RecordBatch>,
{
    let mut batches = batches.into_iter().peekable();
    match batches.peek() {
        Some(b) => Ok((b.borrow().schema(), batches)),
        None => Err(Error::InvalidInput {
            what: format!("writing `{}`", path.display()),
            reason: "no record batches given; pass at least one (it may have zero rows)".into(),
        }),
    }
}

/// Writes batches that share `schema` to a Parquet file, atomically, casting what Parquet
/// cannot type (see [`parquet_type`]).
fn write_parquet_stream(
    schema: &SchemaRef,
    batches: impl Iterator<Item = Result<RecordBatch>>,
    path: &Path,
) -> Result<u64> {
    write_parquet_parts(schema, batches.map(|b| b.map(TablePart::Batch)), path)
}

/// Writes a Parquet file of `schema` from `parts` — batches in that schema, and row groups
/// of other Parquet files spliced in ([`ParquetParts`](crate::ParquetParts)), whose copied
/// column chunks are not decoded — atomically, like [`write_batches`]. Batches are gathered
/// into row groups of the writer's size; a spliced row group keeps its own rows.
pub fn write_parquet_parts(
    schema: &SchemaRef,
    parts: impl Iterator<Item = Result<TablePart>>,
    path: &Path,
) -> Result<u64> {
    let pq = |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let target = parquet_schema(schema);
    // parquet 60 gives every column writer its own zstd contexts (~100 KB) and dictionary
    // table (~75 KB): wide tables use Snappy, which keeps no per-column state, and plain
    // encoding, so writing and reading them stays small.
    let wide = schema.fields().len() > WIDE_TABLE_COLUMNS;
    let compression = if wide {
        Compression::SNAPPY
    } else {
        Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL).map_err(pq)?)
    };
    let mut props = WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(!wide)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_write_batch_size(WRITE_BATCH_ROWS);
    // Dictionaries pay for strings (few distinct values, long to repeat); for numbers, dates
    // and booleans they cost a hash per value and most often fall back to plain encoding
    // anyway — plain pages compress better with zstd (a 1M-row id column: half the size)
    // and encode several times faster. polars and DuckDB choose the same.
    if !wide {
        for field in target.fields() {
            if !dictionary_pays(field.data_type()) {
                props = props.set_column_dictionary_enabled(
                    parquet::schema::types::ColumnPath::from(field.name().as_str()),
                    false,
                );
            }
        }
    }
    let props = props.build();
    write_file_atomically(path, |file| {
        let writer = ArrowWriter::try_new(file, target.clone(), Some(props)).map_err(pq)?;
        let (file_writer, factory) = writer.into_serialized_writer().map_err(pq)?;
        // A spliced row group's batches hold placeholders for its copied columns: they are
        // checked against the schema with every column nullable.
        let (splice_in, splice_out) = (splice_schema(schema), splice_schema(&target));
        let whole = target.clone();
        let mut i = 0;
        let mut conform = |batch: RecordBatch, from: &SchemaRef, to: &SchemaRef| {
            check_batch_schema(path, i, from, &batch)?;
            i += 1;
            cast_batch(&batch, to).map_err(|source| Error::Arrow {
                path: path.to_path_buf(),
                source,
            })
        };
        let cast = parts.map(move |part| match part? {
            TablePart::Batch(b) => conform(b, schema, &whole).map(TablePart::Batch),
            TablePart::Splice(s) => s
                .map_batches(|b| conform(b, &splice_in, &splice_out))
                .map(TablePart::Splice),
        });
        encode_parallel(cast, file_writer, &factory, &target, pq)
    })
}

/// Whether a top-level column of `t` is written with a dictionary: strings, binaries and
/// categoricals, and nested columns (whose leaves keep the writer's default).
fn dictionary_pays(t: &DataType) -> bool {
    !(t.is_primitive() || matches!(t, DataType::Boolean | DataType::Null))
}

/// Tables with more columns than this encode one row group at a time (in parallel by column).
const PARALLEL_GROUPS_MAX_COLUMNS: usize = 64;

type Chunks = Vec<parquet::arrow::arrow_writer::ArrowColumnChunk>;

/// A row group to encode: batches gathered to [`ROW_GROUP_ROWS`] rows, or a spliced one.
enum Job {
    Rows(Vec<RecordBatch>),
    Splice(Splice),
}

/// A column chunk of an encoded row group: encoded here, or copied from a member file.
enum Piece {
    Encoded(parquet::arrow::arrow_writer::ArrowColumnChunk),
    Copied(Arc<File>, parquet::column::writer::ColumnCloseResult),
}

/// Encodes `parts` into Parquet row groups on all cores and writes them, in order, through
/// `file`: batches gathered into groups of [`ROW_GROUP_ROWS`] rows, spliced row groups as
/// they are (their copied chunks are appended as they are, their other columns encoded).
///
/// The calling thread reads the parts and gathers batches into whole row groups, which go
/// to one queue shared by an encoder thread per core: whichever encoder is free takes the
/// next group — a slow group holds up no other — and encodes its batches with their columns
/// in parallel on the rayon pool. A writer thread appends finished groups in order. Memory:
/// at most `2n + 1` groups are read and not yet written (`n` encoders), whatever the
/// table's size.
fn encode_parallel<W: std::io::Write + Send>(
    parts: impl Iterator<Item = Result<TablePart>>,
    mut file: parquet::file::writer::SerializedFileWriter<W>,
    factory: &parquet::arrow::arrow_writer::ArrowRowGroupWriterFactory,
    schema: &SchemaRef,
    pq: impl Fn(parquet::errors::ParquetError) -> Error,
) -> Result<()> {
    use std::sync::Mutex;
    use std::sync::mpsc::{channel, sync_channel};
    let descr = file.schema_descr();
    let mut leaves_per_field = vec![0usize; schema.fields().len()];
    for leaf in 0..descr.num_columns() {
        leaves_per_field[descr.get_column_root_idx(leaf)] += 1;
    }
    // Every group in flight holds a writer per column (with its compression context), so
    // wide tables, whose columns alone keep the cores busy, encode one group at a time.
    let n_encoders = if schema.fields().len() > PARALLEL_GROUPS_MAX_COLUMNS {
        1
    } else {
        std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8))
    };
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = channel::<parquet::errors::Result<(usize, Vec<Piece>)>>();
        let (work_tx, work_rx) = sync_channel::<(usize, Job)>(n_encoders);
        // Shared by the encoders: when the last one stops (on an error), the queue closes and
        // the reader stops too instead of waiting.
        let work_rx = std::sync::Arc::new(Mutex::new(work_rx));
        // Groups read and not yet written: a token each, taken by the reader, given back
        // by the writer.
        let (slot_tx, slot_rx) = sync_channel::<()>(2 * n_encoders + 1);
        for _ in 0..n_encoders {
            let done = done_tx.clone();
            let (leaves, work) = (&leaves_per_field, work_rx.clone());
            scope.spawn(move || {
                loop {
                    let next = work
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .recv();
                    let Ok((g, job)) = next else { return };
                    let encoded =
                        group_writers(factory, g, leaves).and_then(|w| encode_job(w, schema, job));
                    let failed = encoded.is_err();
                    if done.send(encoded.map(|pieces| (g, pieces))).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop((done_tx, work_rx));
        // The writer: appends groups in order as they finish (a later one may finish first).
        let writer = scope.spawn(move || -> parquet::errors::Result<()> {
            let mut waiting = std::collections::BTreeMap::new();
            let mut next = 0;
            for finished in done_rx {
                let (g, pieces) = finished?;
                waiting.insert(g, pieces);
                while let Some(pieces) = waiting.remove(&next) {
                    let mut row_group = file.next_row_group()?;
                    for piece in pieces {
                        match piece {
                            Piece::Encoded(chunk) => chunk.append_to_row_group(&mut row_group)?,
                            Piece::Copied(source, close) => {
                                row_group.append_column(&*source, close)?
                            }
                        }
                    }
                    row_group.close()?;
                    let _ = slot_rx.recv();
                    next += 1;
                }
            }
            if !waiting.is_empty() {
                return Err(parquet::errors::ParquetError::General(
                    "a row group encoder stopped early".into(),
                ));
            }
            file.close()?;
            Ok(())
        });
        // Reading: split batches at row-group boundaries and queue whole groups.
        let produced = (|| -> Result<()> {
            let (mut g, mut rows) = (0usize, 0usize);
            let mut group: Vec<RecordBatch> = Vec::new();
            // A closed queue means an encoder or the writer failed: the writer reports why.
            let send =
                |g: usize, job: Job| slot_tx.send(()).is_ok() && work_tx.send((g, job)).is_ok();
            for part in parts {
                let batch = match part? {
                    TablePart::Batch(b) => b,
                    TablePart::Splice(splice) => {
                        // The rows gathered so far make a (short) group of their own.
                        if rows > 0 {
                            if !send(g, Job::Rows(std::mem::take(&mut group))) {
                                return Ok(());
                            }
                            g += 1;
                            rows = 0;
                        }
                        if !send(g, Job::Splice(splice)) {
                            return Ok(());
                        }
                        g += 1;
                        continue;
                    }
                };
                let mut offset = 0;
                while offset < batch.num_rows() {
                    let take = (ROW_GROUP_ROWS - rows).min(batch.num_rows() - offset);
                    group.push(batch.slice(offset, take));
                    offset += take;
                    rows += take;
                    if rows == ROW_GROUP_ROWS {
                        if !send(g, Job::Rows(std::mem::take(&mut group))) {
                            return Ok(());
                        }
                        g += 1;
                        rows = 0;
                    }
                }
            }
            // A table of zero rows has no row group, as `ArrowWriter` writes it.
            if rows > 0 {
                send(g, Job::Rows(group));
            }
            Ok(())
        })();
        drop(work_tx);
        drop(slot_tx);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        produced?;
        written.map_err(pq)
    })
}

type ColumnWriters = Vec<Vec<parquet::arrow::arrow_writer::ArrowColumnWriter>>;

/// Column writers for row group `index`, grouped by top-level column.
fn group_writers(
    factory: &parquet::arrow::arrow_writer::ArrowRowGroupWriterFactory,
    index: usize,
    leaves_per_field: &[usize],
) -> parquet::errors::Result<ColumnWriters> {
    let mut flat = factory.create_column_writers(index)?.into_iter();
    Ok(leaves_per_field
        .iter()
        .map(|&n| flat.by_ref().take(n).collect())
        .collect())
}

/// A job's column chunks in column order: all encoded for gathered rows; for a spliced row
/// group, the copied ones taken from the member file and the others encoded.
fn encode_job(
    writers: ColumnWriters,
    schema: &SchemaRef,
    job: Job,
) -> parquet::errors::Result<Vec<Piece>> {
    let (batches, splice) = match &job {
        Job::Rows(batches) => (batches.as_slice(), None),
        Job::Splice(s) => (s.batches(), Some(s)),
    };
    let copied = |i: usize| splice.and_then(|s| Some((s, s.copied(i)?)));
    let columns = encode_group(writers, schema, batches, &|i| copied(i).is_some())?;
    let mut pieces = Vec::new();
    for (i, chunks) in columns.into_iter().enumerate() {
        match copied(i) {
            Some((s, leaf)) => pieces.push(Piece::Copied(s.source.clone(), s.chunk(leaf))),
            None => pieces.extend(chunks.into_iter().map(Piece::Encoded)),
        }
    }
    Ok(pieces)
}

/// Encodes a row group — its batches, column by column, the columns in parallel — and closes
/// its writers (closing compresses the last pages and the dictionaries) into its column
/// chunks, by top-level column; columns `skip` names are left empty. One task per column
/// and group: no wait between batches.
fn encode_group(
    writers: ColumnWriters,
    schema: &SchemaRef,
    group: &[RecordBatch],
    skip: &(dyn Fn(usize) -> bool + Sync),
) -> parquet::errors::Result<Vec<Chunks>> {
    use rayon::prelude::*;
    writers
        .into_par_iter()
        .zip(schema.fields().par_iter())
        .enumerate()
        .map(|(i, (mut writers, field))| {
            if skip(i) {
                return Ok(Vec::new());
            }
            for batch in group {
                let leaves = parquet::arrow::arrow_writer::compute_leaves(field, batch.column(i))?;
                for (writer, leaf) in writers.iter_mut().zip(&leaves) {
                    writer.write(leaf)?;
                }
            }
            writers.into_iter().map(|w| w.close()).collect()
        })
        .collect()
}

/// `schema` with every column type replaced by its [`parquet_type`].
pub(crate) fn parquet_schema(schema: &SchemaRef) -> SchemaRef {
    let fields = coerce_fields(schema.fields());
    match fields {
        None => schema.clone(),
        Some(fields) => Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
    }
}

fn coerce_fields(fields: &Fields) -> Option<Fields> {
    let coerced: Vec<Option<DataType>> =
        fields.iter().map(|f| parquet_type(f.data_type())).collect();
    if coerced.iter().all(Option::is_none) {
        return None;
    }
    Some(
        fields
            .iter()
            .zip(coerced)
            .map(|(f, t)| match t {
                Some(t) => Arc::new(f.as_ref().clone().with_data_type(t)),
                None => f.clone(),
            })
            .collect(),
    )
}

fn coerce_field(f: &FieldRef) -> Option<FieldRef> {
    parquet_type(f.data_type()).map(|t| Arc::new(f.as_ref().clone().with_data_type(t)))
}

/// The type a column is written to Parquet as, if not its own: `Timestamp(Second, tz)` has no
/// Parquet logical type (arrow-rs writes a bare INT64 that other readers take for integers),
/// so it becomes `Timestamp(Microsecond, tz)`, also inside lists and structs.
fn parquet_type(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Timestamp(TimeUnit::Second, tz) => {
            Some(DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))
        }
        DataType::List(f) => coerce_field(f).map(DataType::List),
        DataType::LargeList(f) => coerce_field(f).map(DataType::LargeList),
        DataType::FixedSizeList(f, n) => coerce_field(f).map(|f| DataType::FixedSizeList(f, *n)),
        DataType::Struct(fields) => coerce_fields(fields).map(DataType::Struct),
        _ => None,
    }
}

/// Casts the columns of `batch` whose type differs from `target`'s; errors instead of
/// writing nulls when a value does not fit.
fn cast_batch(
    batch: &RecordBatch,
    target: &SchemaRef,
) -> std::result::Result<RecordBatch, arrow::error::ArrowError> {
    if batch.schema() == *target {
        return Ok(batch.clone());
    }
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                cast_with_options(c, f.data_type(), &opts)
            }
        })
        .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
    RecordBatch::try_new(target.clone(), columns)
}

/// The smallest and largest value of the integer or timestamp column `column` of a table
/// file (timestamps in their unit), read from the values themselves — for files whose footer
/// has no statistics, and for text tables. Only that column is decoded from Parquet; memory
/// is bounded by a batch. `None` when the column has no values or is of another type.
pub fn column_int_bounds(path: &Path, column: &str) -> Result<Option<(i64, i64)>> {
    let batches: Box<dyn Iterator<Item = Result<RecordBatch>>> =
        match require_table_kind(path, "reading")? {
            TableKind::Parquet => {
                let pq = |source| Error::Parquet {
                    path: path.to_path_buf(),
                    source,
                };
                let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
                let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
                let Some(index) = builder
                    .schema()
                    .fields()
                    .iter()
                    .position(|f| f.name() == column)
                else {
                    return Ok(None);
                };
                let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), [index]);
                let reader = builder
                    .with_projection(mask)
                    .with_batch_size(READ_BATCH_ROWS)
                    .build()
                    .map_err(pq)?;
                let path = path.to_path_buf();
                Box::new(reader.map(move |r| {
                    r.map_err(|source| Error::Arrow {
                        path: path.clone(),
                        source,
                    })
                }))
            }
            TableKind::Text(_) => Box::new(CsvBatches::open(path)?),
        };
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut bounds: Option<(i64, i64)> = None;
    for batch in batches {
        let batch = batch?;
        let Some(col) = batch.column_by_name(column) else {
            return Ok(None);
        };
        if !(col.data_type().is_integer() || matches!(col.data_type(), DataType::Timestamp(_, _))) {
            return Ok(None);
        }
        let as_i64 = match cast_with_options(col, &DataType::Int64, &strict) {
            Ok(a) => a,
            // a uint64 beyond i64: the widest bound there is
            Err(_) => return Ok(Some((i64::MIN, i64::MAX))),
        };
        let a = as_i64
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .ok_or_else(|| Error::InvalidInput {
                what: format!("column `{column}` of `{}`", path.display()),
                reason: "not an integer column".into(),
            })?;
        if let (Some(lo), Some(hi)) = (arrow::compute::min(a), arrow::compute::max(a)) {
            bounds = Some(match bounds {
                None => (lo, hi),
                Some((l, h)) => (l.min(lo), h.max(hi)),
            });
        }
    }
    Ok(bounds)
}

/// Reads a whole Parquet file into record batches.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    ParquetBatches::open(path)?.collect()
}

/// Number of rows of a Parquet file, from its footer; no data is read.
///
/// A file that is not Parquet is an [`Error::InvalidTable`].
pub fn n_rows(path: &Path) -> Result<u64> {
    check_parquet(path)
}

/// Reads the footer of a Parquet file (no data pages) and returns its row count.
fn check_parquet(path: &Path) -> Result<u64> {
    let meta = regular_file_meta(path, "a folder is not a Parquet file")?;
    let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let not_parquet = |why: &str| Error::InvalidTable {
        path: path.to_path_buf(),
        reason: format!("is not a Parquet file ({why}): save it under its real suffix or fix it"),
    };
    let len = meta.len();
    if len < 12 {
        return Err(not_parquet("invalid footer"));
    }
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    file.read_exact(&mut head)
        .and_then(|()| file.seek(SeekFrom::End(-4)))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| Error::io("read", path, e))?;
    if &tail == b"PARE" {
        return Err(not_parquet("it is encrypted, which Lamella cannot read"));
    }
    if &tail != b"PAR1" {
        return Err(not_parquet("invalid footer"));
    }
    if &head != b"PAR1" {
        return Err(not_parquet("invalid header"));
    }
    let md = ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .map_err(|e| not_parquet(&format!("invalid footer: {e}").replace('\n', " ")))?;
    Ok(u64::try_from(md.file_metadata().num_rows()).unwrap_or(0))
}

/// Checks a table file by its suffix (case-insensitive) when it is saved, and returns its
/// number of data rows:
///
/// - `.parquet`: reads the footer only (no data pages);
/// - `.csv`: one streaming pass (memory bounded by one row) checking that there is a header
///   row, that every row has the header's number of fields (quoted fields may hold commas
///   and newlines) and that the text is UTF-8;
/// - other suffixes: `Ok(None)`, nothing is read.
///
/// A file that fails is an [`Error::InvalidTable`] naming the file, the first bad line and
/// what to do.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let csv = dir.path().join("t.CSV");
/// std::fs::write(&csv, "a,b\n1,\"x,\ny\"\n3,4\n")?;
/// assert_eq!(lamella_storage::check_table(&csv)?, Some(2));
/// std::fs::write(&csv, "a,b\n1,2\n3\n")?;
/// let err = lamella_storage::check_table(&csv).unwrap_err();
/// assert!(err.to_string().contains("line 3 has 1 field, the header has 2"));
/// assert_eq!(lamella_storage::check_table(&dir.path().join("notes.txt"))?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_table(path: &Path) -> Result<Option<u64>> {
    match table_kind(path) {
        Some(TableKind::Parquet) => check_parquet(path).map(Some),
        Some(TableKind::Text(f)) => check_csv(path, f).map(Some),
        None => Ok(None),
    }
}

/// A streaming Parquet reader: an iterator of record batches that holds one row group's
/// worth of data at a time. Batches have 64 Ki rows, fewer for wide tables (about 2 Mi
/// cells a batch).
pub struct ParquetBatches {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
    schema: SchemaRef,
    n_rows: u64,
    metadata: Arc<parquet::file::metadata::ParquetMetaData>,
}

impl ParquetBatches {
    /// Opens `path` and reads its footer.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let pq = |source| Error::Parquet {
            path: path.to_path_buf(),
            source,
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
        let n_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let schema = builder.schema().clone();
        let metadata = builder.metadata().clone();
        let inner = builder
            .with_batch_size(batch_rows(schema.fields().len()))
            .build()
            .map_err(pq)?;
        Ok(Self {
            path: path.to_path_buf(),
            inner,
            schema,
            n_rows,
            metadata,
        })
    }

    /// Per top-level integer or timestamp column, the smallest and largest value (as `i64`,
    /// timestamps in their unit) from the row groups' statistics in the footer — no data
    /// pages are read. A column is left out when some row group has no statistics for it or
    /// a value does not fit an `i64`.
    pub fn int_bounds(&self) -> std::collections::HashMap<String, (i64, i64)> {
        use arrow::array::Array;
        use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
        let mut out = std::collections::HashMap::new();
        let groups = self.metadata.row_groups();
        if groups.is_empty() {
            return out;
        }
        let strict = CastOptions {
            safe: false,
            ..Default::default()
        };
        for field in self.schema.fields() {
            if !(field.data_type().is_integer()
                || matches!(field.data_type(), DataType::Timestamp(_, _)))
            {
                continue;
            }
            let Ok(conv) = StatisticsConverter::try_new(
                field.name(),
                &self.schema,
                self.metadata.file_metadata().schema_descr(),
            ) else {
                continue;
            };
            let bound = |a: std::result::Result<ArrayRef, _>, min: bool| -> Option<i64> {
                let a = cast_with_options(&a.ok()?, &DataType::Int64, &strict).ok()?;
                let a = a.as_any().downcast_ref::<arrow::array::Int64Array>()?;
                if a.null_count() > 0 || a.is_empty() {
                    return None;
                }
                if min {
                    arrow::compute::min(a)
                } else {
                    arrow::compute::max(a)
                }
            };
            if let (Some(lo), Some(hi)) = (
                bound(conv.row_group_mins(groups.iter()), true),
                bound(conv.row_group_maxes(groups.iter()), false),
            ) {
                out.insert(field.name().clone(), (lo, hi));
            }
        }
        out
    }

    /// The table's Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The table's row count (from the footer).
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }
}

impl Iterator for ParquetBatches {
    type Item = Result<RecordBatch>;

    /// Each batch carries [`schema`](Self::schema) — with the file's schema metadata (pandas
    /// writes some) — so every batch of a file has the same schema as the reader announces.
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|r| {
            r.and_then(|b| b.with_schema(self.schema.clone()))
                .map_err(|source| Error::Arrow {
                    path: self.path.clone(),
                    source,
                })
        })
    }
}

impl std::fmt::Debug for ParquetBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetBatches")
            .field("path", &self.path)
            .field("n_rows", &self.n_rows)
            .finish_non_exhaustive()
    }
}

/// The number of data rows of a CSV file with a header row, counted in one streaming pass
/// that also checks the file like [`check_table`].
pub fn csv_rows(path: &Path) -> Result<u64> {
    check_csv(path, text_format(path))
}

/// The text format of `path` (a comma-separated file when the suffix says nothing).
pub(crate) fn text_format(path: &Path) -> TextFormat {
    TextFormat::of(&path.to_string_lossy()).unwrap_or(TextFormat {
        delimiter: b',',
        gzip: false,
    })
}

/// Reads a CSV file with a header row into record batches, inferring column types from the
/// whole file in a first streaming pass (integers, floats, booleans, dates/timestamps, else
/// strings; empty fields are nulls; see [`CsvBatches`]). Timestamps with UTC offsets give a
/// zone-aware column of their instants; naive ones stay naive.
///
/// Batches are bounded by a cell budget, so very wide files read with modest memory.
pub fn read_csv(path: &Path) -> Result<Vec<RecordBatch>> {
    CsvBatches::open(path)?.collect()
}

/// Converts a table between Parquet and CSV (either way, or re-encoding one format) by the
/// suffixes of `src` and `dest`, streaming batch by batch (memory bounded by a batch), and
/// returns the size of `dest`. `dest` appears atomically; `src` may be `dest`.
///
/// CSV sources are typed like [`read_csv`]; Parquet destinations are written like
/// [`write_parquet`].
pub fn convert_table(src: &Path, dest: &Path) -> Result<u64> {
    let src_kind = require_table_kind(src, "converting")?;
    let dest_kind = require_table_kind(dest, "converting to")?;
    let (schema, batches): (SchemaRef, Box<dyn Iterator<Item = Result<RecordBatch>>>) =
        match src_kind {
            TableKind::Parquet => {
                let r = ParquetBatches::open(src)?;
                (r.schema(), Box::new(r))
            }
            TableKind::Text(_) => {
                let r = CsvBatches::open(src)?;
                (r.schema(), Box::new(r))
            }
        };
    match dest_kind {
        TableKind::Parquet => write_parquet_stream(&schema, batches, dest),
        TableKind::Text(f) => write_csv_stream(&schema, batches, dest, f),
    }
}

/// The first rows of a table and its size; see [`read_table_head`].
#[derive(Debug, Clone, PartialEq)]
pub struct TableHead {
    /// The first rows (fewer if the table is shorter), with the table's full schema.
    pub batch: RecordBatch,
    /// The table's number of data rows.
    pub n_rows: u64,
    /// The table's number of columns.
    pub n_columns: usize,
}

/// Reads the first `n` rows of a `.parquet` or `.csv` table without reading everything:
///
/// - Parquet: the row count comes from the footer and only the row groups and pages that
///   hold the first `n` rows are decoded;
/// - CSV: one streaming pass infers the types exactly as [`read_csv`] does and counts the
///   rows, then only `n` rows are parsed.
pub fn read_table_head(path: &Path, n: usize) -> Result<TableHead> {
    match require_table_kind(path, "reading the head of")? {
        TableKind::Parquet => parquet_head(path, n),
        TableKind::Text(_) => {
            let reader = CsvBatches::open_with_max_rows(path, n, &CsvOptions::default())?;
            let (schema, n_rows) = (reader.schema(), reader.n_rows());
            let batches = take_rows(reader, n)?;
            head(path, schema, batches, n_rows)
        }
    }
}

fn parquet_head(path: &Path, n: usize) -> Result<TableHead> {
    let pq = |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let n_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let schema = builder.schema().clone();
    if n == 0 {
        return head(path, schema, Vec::new(), n_rows);
    }
    // only the row groups that hold the first n rows
    let mut groups = Vec::new();
    let mut covered = 0u64;
    for (i, rg) in builder.metadata().row_groups().iter().enumerate() {
        if covered >= n as u64 {
            break;
        }
        groups.push(i);
        covered += u64::try_from(rg.num_rows()).unwrap_or(0);
    }
    let rows = batch_rows(schema.fields().len()).min(n);
    let reader = builder
        .with_row_groups(groups)
        .with_limit(n)
        .with_batch_size(rows)
        .build()
        .map_err(pq)?;
    let batches = take_rows(
        reader.map(|r| {
            r.map_err(|source| Error::Arrow {
                path: path.to_path_buf(),
                source,
            })
        }),
        n,
    )?;
    head(path, schema, batches, n_rows)
}

/// Collects batches until they hold `n` rows; the last one is sliced.
fn take_rows(
    batches: impl Iterator<Item = Result<RecordBatch>>,
    n: usize,
) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    let mut have = 0;
    if n == 0 {
        return Ok(out);
    }
    for batch in batches {
        let batch = batch?;
        let take = batch.num_rows().min(n - have);
        out.push(batch.slice(0, take));
        have += take;
        if have == n {
            break;
        }
    }
    Ok(out)
}

fn head(
    path: &Path,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    n_rows: u64,
) -> Result<TableHead> {
    let n_columns = schema.fields().len();
    let batch = concat_batches(&schema, &batches).map_err(|source| Error::Arrow {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(TableHead {
        batch,
        n_rows,
        n_columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch(offset: i64, n: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]));
        let ids: Vec<i64> = (0..n as i64).map(|i| i + offset).collect();
        let names: Vec<Option<String>> = ids
            .iter()
            .map(|i| (i % 3 != 0).then(|| format!("n{i}")))
            .collect();
        let xs: Vec<f64> = ids.iter().map(|i| *i as f64 / 2.0).collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
                Arc::new(Float64Array::from(xs)),
            ],
        )
        .unwrap()
    }

    /// The parallel encoder splits batches at row-group boundaries, keeps column order
    /// (a nested column has several leaves), and writes what `ArrowWriter` writes: the same
    /// rows, the Arrow schema in the footer, no row group for an empty table.
    #[test]
    fn parallel_encoder_row_groups_and_nested_columns() {
        use arrow::array::{ListArray, TimestampSecondArray};
        use arrow::datatypes::Int64Type;
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new_list("tags", Field::new_list_field(DataType::Int64, true), true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Second, Some("+02:00".into())),
                true,
            ),
            Field::new("name", DataType::Utf8, true),
        ]));
        let make = |offset: i64, n: usize| {
            let ids: Vec<i64> = (offset..offset + n as i64).collect();
            let tags = ListArray::from_iter_primitive::<Int64Type, _, _>(
                ids.iter()
                    .map(|i| (i % 5 != 0).then(|| vec![Some(*i), None, Some(i * 2)])),
            );
            let at = TimestampSecondArray::from(ids.clone()).with_timezone("+02:00");
            let names: Vec<Option<String>> = ids
                .iter()
                .map(|i| (i % 7 != 0).then(|| format!("n{i}")))
                .collect();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(tags),
                    Arc::new(at),
                    Arc::new(StringArray::from(names)),
                ],
            )
            .unwrap()
        };
        // 600,010 rows in uneven batches: three row groups, one batch split across two
        let sizes = [100_000, 200_000, 10, 300_000];
        let mut offset = 0;
        let batches: Vec<RecordBatch> = sizes
            .iter()
            .map(|&n| {
                let b = make(offset, n);
                offset += n as i64;
                b
            })
            .collect();
        let p = dir.path().join("t.parquet");
        write_parquet(&batches, &p).unwrap();
        let file = File::open(&p).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let groups: Vec<i64> = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, vec![262_144, 262_144, 75_722]);
        // seconds are written as microseconds in the same zone; everything else as given
        let at = builder
            .schema()
            .field_with_name("at")
            .unwrap()
            .data_type()
            .clone();
        assert_eq!(
            at,
            DataType::Timestamp(TimeUnit::Microsecond, Some("+02:00".into()))
        );
        let back = concat_batches(builder.schema(), &read_parquet(&p).unwrap()).unwrap();
        let given = concat_batches(&schema, &batches).unwrap();
        assert_eq!(back.num_rows(), 600_010);
        for name in ["id", "tags", "name"] {
            assert_eq!(
                back.column_by_name(name).unwrap().as_ref(),
                given.column_by_name(name).unwrap().as_ref(),
                "column {name}"
            );
        }
        let micros = cast_with_options(given.column(2), &at, &CastOptions::default()).unwrap();
        assert_eq!(back.column(2).as_ref(), micros.as_ref());
        // an empty table: the schema, no row group
        let e = dir.path().join("empty.parquet");
        write_parquet([&make(0, 0)], &e).unwrap();
        let file = File::open(&e).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(builder.metadata().num_row_groups(), 0);
        assert_eq!(builder.schema().fields().len(), 4);
        assert_eq!(n_rows(&e).unwrap(), 0);
    }

    #[test]
    fn parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/t.parquet");
        let b = batch(0, 1000);
        let size = write_parquet([&b], &p).unwrap();
        assert_eq!(size, std::fs::metadata(&p).unwrap().len());
        assert_eq!(n_rows(&p).unwrap(), 1000);
        let back = read_parquet(&p).unwrap();
        assert_eq!(back, vec![b.clone()]);
        // several batches, streaming
        let bs = vec![batch(0, 70_000), batch(70_000, 10)];
        write_parquet(&bs, &p).unwrap();
        let mut it = ParquetBatches::open(&p).unwrap();
        assert_eq!(it.n_rows(), 70_010);
        assert_eq!(it.schema(), b.schema());
        let first = it.next().unwrap().unwrap();
        assert_eq!(first.num_rows(), READ_BATCH_ROWS);
        let total: usize = first.num_rows() + it.map(|b| b.unwrap().num_rows()).sum::<usize>();
        assert_eq!(total, 70_010);
        // no temporary files left behind
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn table_files_are_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // what an ordinary file gets under this process's umask, without execute bits
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let expected = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o644;
        let p = dir.path().join("t.parquet");
        write_parquet([&batch(0, 3)], &p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "{mode:o}");
        let c = dir.path().join("t.csv");
        write_csv([&batch(0, 3)], &c).unwrap();
        let mode = std::fs::metadata(&c).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "{mode:o}");
    }

    #[test]
    fn parquet_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        let none: [&RecordBatch; 0] = [];
        let err = write_parquet(none, &p).unwrap_err();
        assert!(err.to_string().contains("no record batches"), "{err}");
        let other = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("y", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from(vec![1]))],
        )
        .unwrap();
        let err = write_parquet([&batch(0, 1), &other], &p).unwrap_err();
        assert!(err.to_string().contains("record batch 1"), "{err}");
        assert!(!p.exists());
        std::fs::write(&p, b"not parquet").unwrap();
        let err = read_parquet(&p).unwrap_err();
        assert!(err.to_string().contains("t.parquet"), "{err}");
        assert!(n_rows(&p).is_err());
        let err = read_parquet(&dir.path().join("missing.parquet")).unwrap_err();
        assert!(err.is_not_found());
    }

    #[test]
    fn csv_inference() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "a,b,c,d\n1,x,1.5,true\n2,,2,false\n3,z,,true\n").unwrap();
        assert_eq!(csv_rows(&p).unwrap(), 3);
        let batches = read_csv(&p).unwrap();
        let b = &batches[0];
        let s = b.schema();
        let types: Vec<_> = s.fields().iter().map(|f| f.data_type().clone()).collect();
        assert_eq!(
            types,
            vec![
                DataType::Int64,
                DataType::Utf8,
                DataType::Float64,
                DataType::Boolean
            ]
        );
        assert_eq!(b.num_rows(), 3);
        assert_eq!(b.column(1).null_count(), 1);
        assert_eq!(b.column(2).null_count(), 1);
        std::fs::write(&p, "a,b\n1,2\n3\n").unwrap();
        let err = read_csv(&p).unwrap_err();
        assert!(err.to_string().contains("t.csv"), "{err}");
    }
}
