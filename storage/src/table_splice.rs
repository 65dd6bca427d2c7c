//! Concatenating Parquet files without re-encoding what does not change.
//!
//! A concatenation converts each member to one schema; most of its columns usually arrive
//! in the target's type already. Such a column chunk is copied into the result as its
//! compressed pages, with its statistics and page index — no decompression, decoding,
//! encoding or compression — and only the other columns of that row group (cast,
//! widened, missing) are read and encoded. This is how `parquet-concat` joins files; the
//! result is a valid Parquet file whose chunks may carry different codecs.
//!
//! A column chunk is copied when its Parquet column (physical and logical type,
//! repetition, path) is the one the writer would produce for the target column *and* its
//! values are the target's values unchanged (same Arrow type, a dictionary of it, or a
//! string or binary of the other offset width) — a duration in another unit, say, has the
//! same Parquet column but other values. Row groups of fewer than [`SPLICE_MIN_ROWS`] rows
//! (which would leave the result with many small groups) or more than [`SPLICE_MAX_ROWS`]
//! (whose re-encoded columns would be held whole) are read and re-encoded as before.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::basic::{ColumnOrder, Compression};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};

use crate::error::{Error, Result};

/// Row groups with fewer rows are re-encoded (and joined with their neighbours).
pub const SPLICE_MIN_ROWS: usize = 64 * 1024;
/// Row groups with more rows are re-encoded (in groups of the writer's size, 256 Ki rows):
/// a spliced group's other columns are held decoded, as a group of the writer's is.
pub const SPLICE_MAX_ROWS: usize = 256 * 1024;

/// A piece of a concatenated Parquet file, as [`write_parquet_parts`](crate::write_parquet_parts)
/// takes them.
pub enum TablePart {
    /// Rows in the target schema, to encode.
    Batch(RecordBatch),
    /// One row group of a member file: some columns copied as encoded, the others encoded
    /// from [`Splice::batches`].
    Splice(Splice),
}

impl TablePart {
    /// The rows of this part.
    pub fn num_rows(&self) -> usize {
        match self {
            TablePart::Batch(b) => b.num_rows(),
            TablePart::Splice(s) => s.rows,
        }
    }

    /// The batch of a stream read without splicing; a spliced row group is an error there.
    pub fn into_batch(self) -> Result<RecordBatch> {
        match self {
            TablePart::Batch(b) => Ok(b),
            TablePart::Splice(_) => Err(Error::InvalidInput {
                what: "a stream of record batches".into(),
                reason: "it holds a spliced row group, which only a Parquet file takes".into(),
            }),
        }
    }
}

/// A row group of a member Parquet file spliced into the result (see the module doc).
pub struct Splice {
    /// The member file, on the handle the copies read (only the writer thread, in order):
    /// opened with the footer the offsets come from, and apart from the reader's handle,
    /// since handles cloned from one share their position.
    pub(crate) source: Arc<File>,
    pub(crate) metadata: Arc<ParquetMetaData>,
    pub(crate) row_group: usize,
    /// Per target column: the member's leaf column copied for it, if any.
    pub(crate) copy: Arc<Vec<Option<usize>>>,
    pub(crate) rows: usize,
    /// The row group's values of the columns not copied, as read from the member (its
    /// schema, the copied columns left out); the caller converts them to [`splice_schema`]
    /// with [`Splice::map_batches`] (the copied columns' values there are ignored).
    batches: Vec<RecordBatch>,
}

impl Splice {
    /// Replaces the batches by `f` of each (the conversion to the target schema).
    pub fn map_batches<E>(
        mut self,
        f: impl FnMut(RecordBatch) -> std::result::Result<RecordBatch, E>,
    ) -> std::result::Result<Self, E> {
        self.batches = std::mem::take(&mut self.batches)
            .into_iter()
            .map(f)
            .collect::<std::result::Result<_, _>>()?;
        Ok(self)
    }

    pub(crate) fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// The member's leaf column copied for target column `i`, if it is copied.
    pub(crate) fn copied(&self, i: usize) -> Option<usize> {
        self.copy.get(i).copied().flatten()
    }

    /// The close result that appends the member's chunk `leaf` of this row group as it is.
    pub(crate) fn chunk(&self, leaf: usize) -> ColumnCloseResult {
        let rg = self.metadata.row_group(self.row_group);
        let column = rg.column(leaf);
        let page_index = self.metadata.page_index();
        ColumnCloseResult {
            bytes_written: column.compressed_size() as u64,
            rows_written: rg.num_rows() as u64,
            metadata: column.clone(),
            bloom_filter: None,
            column_index: page_index
                .and_then(|p| p.column_index(self.row_group, leaf))
                .cloned(),
            offset_index: page_index
                .and_then(|p| p.offset_index(self.row_group, leaf))
                .cloned(),
        }
    }
}

/// The schema of a [`Splice`]'s batches once converted for a concatenation into `target`:
/// `target` with every column nullable, since the copied columns hold placeholders (nulls)
/// that are never written.
pub fn splice_schema(target: &SchemaRef) -> SchemaRef {
    let fields: Vec<_> = target
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, target.metadata().clone()))
}

/// Whether a column of Arrow type `from` holds the values of type `to` unchanged once cast
/// (the cast only changes how Arrow lays them out).
fn same_values(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    from == to
        || matches!(from, Dictionary(_, v) if v.as_ref() == to)
        || matches!((from, to), (Utf8 | LargeUtf8, Utf8 | LargeUtf8))
        || matches!((from, to), (Binary | LargeBinary, Binary | LargeBinary))
}

/// A member Parquet file read as [`TablePart`]s for a concatenation into `target`: row
/// groups that can be spliced (see the module doc) as [`TablePart::Splice`], the others as
/// batches of the member's schema.
pub struct ParquetParts {
    path: PathBuf,
    file: Arc<File>,
    /// The handle spliced chunks are copied from (see [`Splice`]).
    source: Arc<File>,
    reader_meta: ArrowReaderMetadata,
    copy: Arc<Vec<Option<usize>>>,
    /// Member root columns read for a spliced row group: those the target has and that are
    /// not copied.
    read_roots: Vec<usize>,
    next_group: usize,
    current: Option<ParquetRecordBatchReader>,
}

impl ParquetParts {
    /// Opens `path` (its footer and page index) for a concatenation into `target`, the
    /// schema given to [`write_parquet_parts`](crate::write_parquet_parts).
    pub fn open(path: &Path, target: &SchemaRef) -> Result<Self> {
        let pq = |source| Error::Parquet {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        // The page index travels with copied chunks; a file whose index does not parse is
        // read without it (and its chunks are not copied).
        let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
        let reader_meta = match ArrowReaderMetadata::load(&file, options) {
            Ok(m) => m,
            Err(_) => ArrowReaderMetadata::load(
                &file,
                ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Skip),
            )
            .map_err(pq)?,
        };
        let member = reader_meta.schema().clone();
        let member_descr = reader_meta.metadata().file_metadata().schema_descr();
        let target_descr = parquet::arrow::ArrowSchemaConverter::new()
            .convert(&crate::table::parquet_schema(target))
            .map_err(pq)?;
        let single_leaf = |d: &parquet::schema::types::SchemaDescriptor, root: usize| {
            let mut leaves = (0..d.num_columns()).filter(|&l| d.get_column_root_idx(l) == root);
            match (leaves.next(), leaves.next()) {
                (Some(l), None) => Some(l),
                _ => None,
            }
        };
        let copy: Vec<Option<usize>> = target
            .fields()
            .iter()
            .enumerate()
            .map(|(t, field)| {
                let (m, mfield) = member.column_with_name(field.name())?;
                if !same_values(mfield.data_type(), field.data_type()) {
                    return None;
                }
                let (ml, tl) = (
                    single_leaf(member_descr, m)?,
                    single_leaf(&target_descr, t)?,
                );
                let (mc, tc) = (member_descr.column(ml), target_descr.column(tl));
                // Statistics are copied too: they must mean what the result declares (old
                // writers' undefined order, say, does not).
                let order = ColumnOrder::column_order_for_type(
                    tc.logical_type_ref(),
                    tc.converted_type(),
                    tc.physical_type(),
                );
                let same_order = reader_meta.metadata().file_metadata().column_order(ml) == order;
                (mc == tc && same_order).then_some(ml)
            })
            .collect();
        let read_roots = member
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| target.index_of(f.name()).is_ok_and(|t| copy[t].is_none()))
            .map(|(m, _)| m)
            .collect();
        let source = File::open(path).map_err(|e| Error::io("open", path, e))?;
        Ok(ParquetParts {
            path: path.to_path_buf(),
            file: Arc::new(file),
            source: Arc::new(source),
            reader_meta,
            copy: Arc::new(copy),
            read_roots,
            next_group: 0,
            current: None,
        })
    }

    fn pq(&self, source: parquet::errors::ParquetError) -> Error {
        Error::Parquet {
            path: self.path.clone(),
            source,
        }
    }

    /// A reader of row groups `groups`, of the member's root columns `roots` (all when
    /// `None`).
    fn reader(
        &self,
        groups: Vec<usize>,
        roots: Option<&[usize]>,
    ) -> Result<ParquetRecordBatchReader> {
        let mut builder = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.file
                .try_clone()
                .map_err(|e| Error::io("open", &self.path, e))?,
            self.reader_meta.clone(),
        )
        .with_row_groups(groups)
        .with_batch_size(crate::table::batch_rows(
            self.reader_meta.schema().fields().len(),
        ));
        if let Some(roots) = roots {
            let mask = ProjectionMask::roots(
                self.reader_meta.metadata().file_metadata().schema_descr(),
                roots.iter().copied(),
            );
            builder = builder.with_projection(mask);
        }
        builder.build().map_err(|e| self.pq(e))
    }

    fn splice(&self, g: usize, rows: usize) -> Result<Splice> {
        let batches = if self.read_roots.is_empty() {
            // Nothing to read: the rows alone (the target's other columns are missing here).
            let empty = Arc::new(Schema::empty());
            let options = RecordBatchOptions::new().with_row_count(Some(rows));
            let batch =
                RecordBatch::try_new_with_options(empty, vec![], &options).map_err(|source| {
                    Error::Arrow {
                        path: self.path.clone(),
                        source,
                    }
                })?;
            vec![batch]
        } else {
            self.reader(vec![g], Some(&self.read_roots))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|source| Error::Arrow {
                    path: self.path.clone(),
                    source,
                })?
        };
        Ok(Splice {
            source: self.source.clone(),
            metadata: self.reader_meta.metadata().clone(),
            row_group: g,
            copy: self.copy.clone(),
            rows,
            batches,
        })
    }

    fn next_part(&mut self) -> Option<Result<TablePart>> {
        loop {
            if let Some(reader) = self.current.as_mut() {
                match reader.next() {
                    Some(Ok(b)) => return Some(Ok(TablePart::Batch(b))),
                    Some(Err(source)) => {
                        return Some(Err(Error::Arrow {
                            path: self.path.clone(),
                            source,
                        }));
                    }
                    None => self.current = None,
                }
            }
            let g = self.next_group;
            let rows = self.splice_rows(g)?;
            match rows {
                Some(rows) => {
                    self.next_group += 1;
                    return Some(self.splice(g, rows).map(TablePart::Splice));
                }
                // This row group and the next ones that are not spliced: one reader.
                None => {
                    let mut groups = vec![g];
                    while let Some(None) = self.splice_rows(g + groups.len()) {
                        groups.push(g + groups.len());
                    }
                    self.next_group += groups.len();
                    match self.reader(groups, None) {
                        Ok(r) => self.current = Some(r),
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        }
    }

    /// For row group `g`: `None` past the last one, else `Some(Some(rows))` when it is spliced
    /// and `Some(None)` when it is read.
    fn splice_rows(&self, g: usize) -> Option<Option<usize>> {
        let meta = self.reader_meta.metadata();
        let rg = meta.row_groups().get(g)?;
        let rows = usize::try_from(rg.num_rows()).unwrap_or(0);
        // Copied chunks must stay readable here: compressed with a codec this build reads
        // (else the row group is decoded, and an unknown codec is an error as before).
        let readable = self.copy.iter().flatten().all(|&leaf| {
            matches!(
                rg.column(leaf).compression(),
                Compression::UNCOMPRESSED | Compression::SNAPPY | Compression::ZSTD(_)
            )
        });
        // The result has a complete offset index (readers that require the page index
        // open it): a copied chunk brings its own.
        let indexed = self.copy.iter().flatten().all(|&leaf| {
            meta.page_index()
                .is_some_and(|p| p.offset_index(g, leaf).is_some())
        });
        let spliced = (SPLICE_MIN_ROWS..=SPLICE_MAX_ROWS).contains(&rows)
            && self.copy.iter().any(Option::is_some)
            && readable
            && indexed;
        Some(spliced.then_some(rows))
    }
}

impl Iterator for ParquetParts {
    type Item = Result<TablePart>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_part()
    }
}
