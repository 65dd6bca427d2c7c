//! Tables on local disk: Parquet and CSV through arrow-rs.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::csv;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::error::{Error, Result};

/// Rows per Parquet row group (pyarrow's default is 1 Mi rows; smaller groups keep
/// writer memory bounded for wide tables and still compress well).
const ROW_GROUP_ROWS: usize = 256 * 1024;

/// Rows per record batch when reading.
const READ_BATCH_ROWS: usize = 64 * 1024;

/// Writes record batches to a Parquet file (zstd level 3) and returns the file's size.
///
/// All batches must share one schema; at least one batch is needed (a batch with zero rows
/// is fine and writes an empty table). The file appears atomically: it is written next to
/// `path` under a temporary name and renamed when complete, replacing any existing file.
///
/// Accepts `&[RecordBatch]`, `&Vec<RecordBatch>` or `[&batch]`.
pub fn write_parquet<I, B>(batches: I, path: &Path) -> Result<u64>
where
    I: IntoIterator<Item = B>,
    B: std::borrow::Borrow<RecordBatch>,
{
    let mut batches = batches.into_iter().peekable();
    let schema = match batches.peek() {
        Some(b) => b.borrow().schema(),
        None => {
            return Err(Error::InvalidInput {
                what: format!("writing `{}`", path.display()),
                reason: "no record batches given; pass at least one (it may have zero rows)".into(),
            });
        }
    };
    let parent = parent_dir(path);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create folder", &parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".lamella-tmp-")
        .tempfile_in(&parent)
        .map_err(|e| Error::io("create a temporary file in", &parent, e))?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("open", tmp.path(), e))?;
    let pq = |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(pq)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(pq)?;
    for (i, batch) in batches.enumerate() {
        let batch = batch.borrow();
        if batch.schema() != schema {
            return Err(Error::InvalidInput {
                what: format!("writing `{}`", path.display()),
                reason: format!(
                    "record batch {i} has schema {:?}, the first batch has {:?}",
                    batch.schema(),
                    schema
                ),
            });
        }
        writer.write(batch).map_err(pq)?;
    }
    writer.close().map_err(pq)?;
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

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Reads a whole Parquet file into record batches.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    ParquetBatches::open(path)?.collect()
}

/// Number of rows of a Parquet file, from its footer; no data is read.
pub fn n_rows(path: &Path) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    })?;
    let n = reader.metadata().file_metadata().num_rows();
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A streaming Parquet reader: an iterator of record batches (64 Ki rows each) that holds
/// one row group's worth of data at a time.
pub struct ParquetBatches {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
    schema: SchemaRef,
    n_rows: u64,
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
        let inner = builder
            .with_batch_size(READ_BATCH_ROWS)
            .build()
            .map_err(pq)?;
        Ok(Self {
            path: path.to_path_buf(),
            inner,
            schema,
            n_rows,
        })
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

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|r| {
            r.map_err(|source| Error::Arrow {
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

/// The number of data rows of a CSV file with a header row, counted in one streaming pass.
pub fn csv_rows(path: &Path) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let (_, n) = csv::reader::Format::default()
        .with_header(true)
        .infer_schema(BufReader::new(file), None)
        .map_err(|source| Error::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(n as u64)
}

/// Reads a CSV file with a header row into record batches, inferring column types from the
/// whole file (integers, floats, booleans, dates/timestamps, else strings; empty fields are
/// nulls).
pub fn read_csv(path: &Path) -> Result<Vec<RecordBatch>> {
    let arrow_err = |source| Error::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let format = csv::reader::Format::default().with_header(true);
    let (schema, _) = format
        .infer_schema(BufReader::new(&mut file), None)
        .map_err(arrow_err)?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("seek in", path, e))?;
    let reader = csv::ReaderBuilder::new(Arc::new(schema))
        .with_format(format)
        .with_batch_size(READ_BATCH_ROWS)
        .build(BufReader::new(file))
        .map_err(arrow_err)?;
    reader.map(|r| r.map_err(arrow_err)).collect()
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
