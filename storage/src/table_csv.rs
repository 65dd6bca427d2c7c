//! CSV tables: one streaming pass checks the file (and infers column types), then arrow's
//! reader decodes it in batches whose size follows the column count.
//!
//! Type inference follows arrow-csv's rules (booleans, integers, floats, dates, timestamps of
//! second to nanosecond precision by their fraction digits, else strings; empty fields are
//! nulls), with three differences that only turn read errors into readable columns:
//!
//! - a value is typed only if arrow can parse it (`2024-13-45` is a string, not a date, and
//!   digits outside ASCII are strings);
//! - timestamps with a UTC offset or zone (`2024-01-01T10:00:00+01:00`, `…Z`) give a
//!   zone-aware column holding the instants (UTC-normalised): its zone is the values' common
//!   offset, or `+00:00` when they differ; timestamps without one stay naive;
//! - a column mixing values with and without an offset stays a string column, and so does a
//!   nanosecond column with a value outside the nanosecond range (years 1677–2262);
//! - missing values are what pandas' `read_csv` takes as missing by default (`NA`, `NaN`,
//!   `null`, `N/A`, `None`, an empty field, … — [`PANDAS_NA`]), so R's and pandas' exports
//!   keep their numeric columns numeric; [`CsvOptions`] replaces the list.
//!
//! The same reader reads tab-separated files (`.tsv`, `.tab`) and gzip-compressed ones
//! (`.csv.gz`, `.tsv.gz`), streaming the decompression; the writer writes them too.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::kernels::cast_utils::{Parser, string_to_datetime};
use arrow::datatypes::{DataType, Date32Type, Field, Schema, SchemaRef, TimeUnit};
use chrono::Utc;
use csv::StringRecord;

use crate::error::{Error, Result};
use crate::table::{
    TextFormat, batch_rows, check_batch_schema, text_format, write_file_atomically,
};
use crate::walk::regular_file_meta;

/// Read buffer of the checking / inference pass.
const SCAN_BUF: usize = 256 * 1024;

/// What one streaming pass over a CSV file found.
pub(crate) struct CsvScan {
    /// The header row's field names.
    pub header: Vec<String>,
    /// Number of data rows.
    pub n_rows: u64,
}

/// The values pandas' `read_csv` takes as missing by default (`na_values`), besides the
/// empty field.
pub const PANDAS_NA: [&str; 18] = [
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
    "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// How text tables are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The values read as missing besides the empty field; `None` means [`PANDAS_NA`].
    pub na_values: Option<Vec<String>>,
}

impl CsvOptions {
    /// Reads exactly `values` (and the empty field) as missing.
    pub fn na_values<S: Into<String>>(values: impl IntoIterator<Item = S>) -> CsvOptions {
        CsvOptions {
            na_values: Some(values.into_iter().map(Into::into).collect()),
        }
    }

    fn tokens(&self) -> Vec<&str> {
        match &self.na_values {
            Some(v) => v.iter().map(String::as_str).collect(),
            None => PANDAS_NA.to_vec(),
        }
    }

    /// The set of missing-value tokens, for the inference pass.
    fn token_set(&self) -> std::collections::HashSet<String> {
        self.tokens().into_iter().map(str::to_string).collect()
    }

    /// The same tokens as an anchored regular expression, for arrow's reader.
    fn null_regex(&self) -> std::result::Result<regex::Regex, regex::Error> {
        let mut alternatives = vec![String::new()];
        alternatives.extend(self.tokens().into_iter().map(regex::escape));
        regex::Regex::new(&format!("^(?:{})$", alternatives.join("|")))
    }
}

/// The bytes of a text table, decompressed as they are read when it is gzipped.
pub(crate) fn open_text(path: &Path, format: TextFormat) -> Result<Box<dyn Read + Send>> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    Ok(if format.gzip {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            SCAN_BUF, file,
        )))
    } else {
        Box::new(file)
    })
}

/// One pass over `path`: checks that there is a header row, that every row has the header's
/// number of fields and that the text is UTF-8; calls `each` with every data row.
pub(crate) fn scan_csv(
    path: &Path,
    format: TextFormat,
    mut each: impl FnMut(&StringRecord),
) -> Result<CsvScan> {
    regular_file_meta(path, "a folder is not a CSV file")?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(format.delimiter)
        .buffer_capacity(SCAN_BUF)
        .from_reader(open_text(path, format)?);
    let mut record = StringRecord::new();
    if !read_record(&mut reader, &mut record, path)? {
        return Err(invalid(
            path,
            "has no header row: a CSV file needs a first line of column names; add one or \
             save the file under another suffix"
                .into(),
        ));
    }
    let header: Vec<String> = record.iter().map(str::to_string).collect();
    let mut n_rows = 0u64;
    while read_record(&mut reader, &mut record, path)? {
        if record.len() != header.len() {
            let line = record.position().map_or(0, |p| p.line());
            return Err(invalid(
                path,
                format!(
                    "line {line} has {}, the header has {}: fix the row or save the file under \
                     another suffix",
                    fields(record.len()),
                    header.len()
                ),
            ));
        }
        each(&record);
        n_rows += 1;
    }
    Ok(CsvScan { header, n_rows })
}

fn fields(n: usize) -> String {
    if n == 1 {
        "1 field".into()
    } else {
        format!("{n} fields")
    }
}

fn invalid(path: &Path, reason: String) -> Error {
    Error::InvalidTable {
        path: path.to_path_buf(),
        reason,
    }
}

fn read_record(
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
    record: &mut StringRecord,
    path: &Path,
) -> Result<bool> {
    reader.read_record(record).map_err(|e| {
        let line = e.position().map_or(0, |p| p.line());
        match e.into_kind() {
            csv::ErrorKind::Io(e)
                if e.kind() == std::io::ErrorKind::InvalidInput
                    || e.kind() == std::io::ErrorKind::InvalidData
                    || e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                invalid(
                    path,
                    format!("is not readable as gzip-compressed text ({e}): check the file"),
                )
            }
            csv::ErrorKind::Io(e) => Error::io("read", path, e),
            csv::ErrorKind::Utf8 { .. } => invalid(
                path,
                format!(
                    "line {line} is not valid UTF-8: save the file as UTF-8 or under another \
                     suffix"
                ),
            ),
            other => invalid(
                path,
                format!("line {line} cannot be parsed as CSV: {other:?}"),
            ),
        }
    })
}

/// Checks a CSV file in one streaming pass and returns its number of data rows.
pub(crate) fn check_csv(path: &Path, format: TextFormat) -> Result<u64> {
    Ok(scan_csv(path, format, |_| {})?.n_rows)
}

/// Infers the schema of a CSV file in one streaming pass; returns it with the row count.
pub(crate) fn infer_csv_schema(
    path: &Path,
    format: TextFormat,
    options: &CsvOptions,
) -> Result<(Schema, u64)> {
    let na = options.token_set();
    let mut columns: Vec<ColumnType> = Vec::new();
    let scan = scan_csv(path, format, |record| {
        if columns.is_empty() {
            columns = vec![ColumnType::default(); record.len()];
        }
        for (value, column) in record.iter().zip(columns.iter_mut()) {
            if !value.is_empty() && !na.contains(value) {
                column.update(value);
            }
        }
    })?;
    if columns.is_empty() {
        columns = vec![ColumnType::default(); scan.header.len()];
    }
    let fields: Vec<Field> = scan
        .header
        .iter()
        .zip(&columns)
        .map(|(name, c)| Field::new(name, c.data_type(), true))
        .collect();
    Ok((Schema::new(fields), scan.n_rows))
}

/// The type evidence of one column, as arrow-csv's `InferredDataType` plus time zones.
#[derive(Debug, Clone, Default)]
struct ColumnType {
    /// Bits as in arrow-csv: 0 bool, 1 int, 2 float, 3 date, 4–7 timestamp s/ms/µs/ns,
    /// 8 string.
    packed: u16,
    zone: Zone,
    /// A timestamp outside the nanosecond range was seen.
    beyond_nanos: bool,
}

/// The zones of a column's dates and timestamps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Zone {
    #[default]
    Unseen,
    /// Only values without an offset.
    Naive,
    /// Only values with this (normalised) offset or zone name.
    Aware(String),
    /// Only values with an offset, not all the same.
    AwareMixed,
    /// Values with and without an offset.
    Conflict,
}

const BOOL: u16 = 0;
const INT: u16 = 1;
const FLOAT: u16 = 2;
const DATE: u16 = 3;
const TS_SECOND: u16 = 4;
const UTF8: u16 = 8;

impl ColumnType {
    fn update(&mut self, s: &str) {
        let bit = match classify(s) {
            Cell::Bit(bit) => bit,
            Cell::Date => {
                self.see_naive();
                DATE
            }
            Cell::Timestamp {
                bit,
                zone,
                in_nanos_range,
            } => {
                match zone {
                    None => self.see_naive(),
                    Some(z) => self.see_aware(z),
                }
                self.beyond_nanos |= !in_nanos_range;
                bit
            }
        };
        self.packed |= 1 << bit;
    }

    fn see_naive(&mut self) {
        self.zone = match self.zone {
            Zone::Unseen | Zone::Naive => Zone::Naive,
            _ => Zone::Conflict,
        };
    }

    fn see_aware(&mut self, zone: String) {
        self.zone = match std::mem::take(&mut self.zone) {
            Zone::Unseen => Zone::Aware(zone),
            Zone::Aware(z) if z == zone => Zone::Aware(z),
            Zone::Aware(_) | Zone::AwareMixed => Zone::AwareMixed,
            Zone::Naive | Zone::Conflict => Zone::Conflict,
        };
    }

    fn data_type(&self) -> DataType {
        // arrow-csv's `InferredDataType::get`
        let base = match self.packed {
            0 => DataType::Null,
            1 => DataType::Boolean,
            2 => DataType::Int64,
            4 | 6 => DataType::Float64,
            b if b != 0 && (b & !0b1111_1000) == 0 => match b.leading_zeros() {
                8 => DataType::Timestamp(TimeUnit::Nanosecond, None),
                9 => DataType::Timestamp(TimeUnit::Microsecond, None),
                10 => DataType::Timestamp(TimeUnit::Millisecond, None),
                11 => DataType::Timestamp(TimeUnit::Second, None),
                _ => DataType::Date32,
            },
            _ => DataType::Utf8,
        };
        match base {
            DataType::Timestamp(unit, _) => {
                if unit == TimeUnit::Nanosecond && self.beyond_nanos {
                    return DataType::Utf8;
                }
                match &self.zone {
                    Zone::Conflict => DataType::Utf8,
                    Zone::Aware(z) => DataType::Timestamp(unit, Some(z.as_str().into())),
                    Zone::AwareMixed => DataType::Timestamp(unit, Some("+00:00".into())),
                    Zone::Unseen | Zone::Naive => DataType::Timestamp(unit, None),
                }
            }
            // dates next to offsets cannot be placed in time
            DataType::Date32 if self.zone == Zone::Conflict => DataType::Utf8,
            other => other,
        }
    }
}

/// How one non-empty value counts for inference.
enum Cell {
    /// Evidence for one of the bits (not dates and timestamps).
    Bit(u16),
    /// A date (`2024-01-31`).
    Date,
    /// A timestamp with its precision bit and its normalised zone, if it has one.
    Timestamp {
        bit: u16,
        zone: Option<String>,
        in_nanos_range: bool,
    },
}

/// arrow-csv's `InferredDataType::update` without regular expressions, checking that the
/// value parses as the type it looks like.
fn classify(s: &str) -> Cell {
    let b = s.as_bytes();
    if b.first() == Some(&b'"') {
        return Cell::Bit(UTF8);
    }
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
        return Cell::Bit(BOOL);
    }
    if is_integer(b) {
        // an integer that overflows i64 is a string
        return Cell::Bit(if b.len() >= 19 && s.parse::<i64>().is_err() {
            UTF8
        } else {
            INT
        });
    }
    if is_decimal(b) {
        return Cell::Bit(FLOAT);
    }
    if let Some(cell) = classify_temporal(s) {
        return cell;
    }
    if matches!(s, "NaN" | "nan" | "inf" | "-inf") {
        return Cell::Bit(FLOAT);
    }
    Cell::Bit(UTF8)
}

fn digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// `^[+-]?\d+$`
fn is_integer(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"+").or(b.strip_prefix(b"-")).unwrap_or(b);
    !b.is_empty() && digits(b) == b.len()
}

/// `^[+-]?((\d*\.\d+|\d+\.\d*)([eE][-+]?\d+)?|\d+([eE][-+]?\d+))$`
fn is_decimal(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"+").or(b.strip_prefix(b"-")).unwrap_or(b);
    let int = digits(b);
    let mut rest = &b[int..];
    let dot = rest.first() == Some(&b'.');
    if dot {
        let frac = digits(&rest[1..]);
        rest = &rest[1 + frac..];
        if int == 0 && frac == 0 {
            return false;
        }
    } else if int == 0 {
        return false;
    }
    if rest.is_empty() {
        return dot;
    }
    let Some(exp) = rest.strip_prefix(b"e").or(rest.strip_prefix(b"E")) else {
        return false;
    };
    let exp = exp
        .strip_prefix(b"+")
        .or(exp.strip_prefix(b"-"))
        .unwrap_or(exp);
    !exp.is_empty() && digits(exp) == exp.len()
}

/// Dates (`^\d{4}-\d\d-\d\d$`) and timestamps
/// (`^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,9})?` followed by nothing or by a
/// non-digit and anything without a newline), kept only if arrow parses them.
fn classify_temporal(s: &str) -> Option<Cell> {
    let b = s.as_bytes();
    let shape = |b: &[u8], pattern: &[u8]| {
        b.len() == pattern.len()
            && b.iter().zip(pattern).all(|(c, p)| match p {
                b'd' => c.is_ascii_digit(),
                p => c == p,
            })
    };
    if b.len() < 10 || !shape(&b[..10], b"dddd-dd-dd") {
        return None;
    }
    if b.len() == 10 {
        return Date32Type::parse(s).map(|_| Cell::Date);
    }
    if b.len() < 19 || !matches!(b[10], b'T' | b' ') || !shape(&b[11..19], b"dd:dd:dd") {
        return None;
    }
    // bytes 0..19 are ASCII, so 19 is a char boundary
    let rest = &s[19..];
    let (bit, suffix) = if let Some(fraction) = rest.strip_prefix('.') {
        let k = digits(fraction.as_bytes());
        let bit = match k {
            1..=3 => 5,
            4..=6 => 6,
            7..=9 => 7,
            _ => return None,
        };
        (bit, &fraction[k..])
    } else if rest.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    } else {
        (TS_SECOND, rest)
    };
    // the regexes' `[^\d].*`: any first character, then no newline
    if let Some(first) = suffix.chars().next()
        && suffix[first.len_utf8()..].contains('\n')
    {
        return None;
    }
    let instant = string_to_datetime(&Utc, s).ok()?;
    let zone = match suffix {
        "" => None,
        "Z" | "z" => Some("+00:00".to_string()),
        other => Some(normalise_zone(other.trim_start())),
    };
    Some(Cell::Timestamp {
        bit,
        zone,
        in_nanos_range: instant.timestamp_nanos_opt().is_some(),
    })
}

/// `+01`, `+0100` and `+01:00` become `+01:00` (`-00:00` becomes `+00:00`); zone names are
/// kept as written.
fn normalise_zone(z: &str) -> String {
    let b = z.as_bytes();
    let sign = match b.first() {
        Some(b'+') => '+',
        Some(b'-') => '-',
        _ => return z.to_string(),
    };
    let d = &b[1..];
    let (h, m) = match d.len() {
        2 if digits(d) == 2 => (&z[1..3], "00"),
        4 if digits(d) == 4 => (&z[1..3], &z[3..5]),
        5 if d[2] == b':' && digits(&d[..2]) == 2 && digits(&d[3..]) == 2 => (&z[1..3], &z[4..6]),
        _ => return z.to_string(),
    };
    let sign = if h == "00" && m == "00" { '+' } else { sign };
    format!("{sign}{h}:{m}")
}

/// A streaming CSV reader: an iterator of record batches. Opening reads the file once to
/// check it and infer its schema ([`crate::read_csv`]'s rules); batches hold at most about
/// 2 Mi cells (64 Ki rows for narrow tables, fewer rows for wide ones).
pub struct CsvBatches {
    path: PathBuf,
    inner: arrow::csv::Reader<Box<dyn Read + Send>>,
    schema: SchemaRef,
    n_rows: u64,
}

impl CsvBatches {
    /// Checks and scans `path` (a CSV or TSV file with a header row, maybe gzipped; the
    /// format by its suffix), then opens it for reading.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, &CsvOptions::default())
    }

    /// [`CsvBatches::open`] with other missing-value tokens.
    pub fn open_with(path: &Path, options: &CsvOptions) -> Result<Self> {
        Self::open_with_max_rows(path, usize::MAX, options)
    }

    /// Like [`CsvBatches::open_with`] with at most `max_rows` (at least 1) rows per batch.
    pub(crate) fn open_with_max_rows(
        path: &Path,
        max_rows: usize,
        options: &CsvOptions,
    ) -> Result<Self> {
        let format = text_format(path);
        let (schema, n_rows) = infer_csv_schema(path, format, options)?;
        let schema = Arc::new(schema);
        let rows = batch_rows(schema.fields().len()).min(max_rows.max(1));
        let null_regex = options.null_regex().map_err(|e| Error::InvalidInput {
            what: "the missing-value tokens".into(),
            reason: e.to_string(),
        })?;
        let inner = arrow::csv::ReaderBuilder::new(schema.clone())
            .with_header(true)
            .with_delimiter(format.delimiter)
            .with_null_regex(null_regex)
            .with_batch_size(rows)
            .build(open_text(path, format)?)
            .map_err(|source| Error::Arrow {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            inner,
            schema,
            n_rows,
        })
    }

    /// The inferred Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The number of data rows (counted when opening).
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }
}

impl Iterator for CsvBatches {
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

impl std::fmt::Debug for CsvBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvBatches")
            .field("path", &self.path)
            .field("n_rows", &self.n_rows)
            .finish_non_exhaustive()
    }
}

/// Writes batches that share `schema` to a CSV file with a header row, atomically; returns
/// the file's size. No batches write the header alone.
pub(crate) fn write_csv_stream(
    schema: &SchemaRef,
    batches: impl Iterator<Item = Result<RecordBatch>>,
    path: &Path,
    format: TextFormat,
) -> Result<u64> {
    write_file_atomically(path, |file| {
        let buffered = BufWriter::with_capacity(1 << 20, file);
        let io = |e| Error::io("write", path, e);
        if format.gzip {
            let gz = flate2::write::GzEncoder::new(buffered, flate2::Compression::default());
            write_delimited(schema, batches, path, format, gz)?
                .finish()
                .and_then(|mut w| w.flush())
                .map_err(io)
        } else {
            write_delimited(schema, batches, path, format, buffered)?
                .flush()
                .map_err(io)
        }
    })
}

/// Writes the header and every batch to `sink`; returns the sink to be finished.
fn write_delimited<W: Write>(
    schema: &SchemaRef,
    batches: impl Iterator<Item = Result<RecordBatch>>,
    path: &Path,
    format: TextFormat,
    sink: W,
) -> Result<W> {
    let arrow_err = |source| Error::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = arrow::csv::WriterBuilder::new()
        .with_header(true)
        .with_delimiter(format.delimiter)
        .build(sink);
    let mut wrote = false;
    for (i, batch) in batches.enumerate() {
        let batch = batch?;
        check_batch_schema(path, i, schema, &batch)?;
        writer.write(&batch).map_err(arrow_err)?;
        wrote = true;
    }
    if !wrote {
        writer
            .write(&RecordBatch::new_empty(schema.clone()))
            .map_err(arrow_err)?;
    }
    Ok(writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_of(columns: &[&[&str]]) -> Vec<u8> {
        let n_rows = columns.iter().map(|c| c.len()).max().unwrap_or(0);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record((0..columns.len()).map(|i| format!("c{i}")))
            .unwrap();
        for r in 0..n_rows {
            w.write_record(columns.iter().map(|c| c.get(r).copied().unwrap_or("")))
                .unwrap();
        }
        w.into_inner().unwrap()
    }

    /// Our inference without pandas' missing-value tokens (arrow-csv has none).
    fn ours(path: &Path) -> Vec<DataType> {
        let no_tokens = CsvOptions::na_values(Vec::<String>::new());
        let (schema, _) = infer_csv_schema(path, text_format(path), &no_tokens).unwrap();
        schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect()
    }

    fn arrows(path: &Path) -> Vec<DataType> {
        let (schema, _) = arrow::csv::reader::Format::default()
            .with_header(true)
            .infer_schema(File::open(path).unwrap(), None)
            .unwrap();
        schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect()
    }

    /// The inference equals arrow-csv's wherever arrow can read what it infers.
    #[test]
    fn same_types_as_arrow_csv() {
        let single: &[&str] = &[
            "1",
            "-1",
            "+1",
            "007",
            "1.5",
            ".5",
            "5.",
            "-.5e3",
            "1e5",
            "1E-5",
            "+1.5e+3",
            "e5",
            ".",
            "+",
            "-",
            "1e",
            "1.2.3",
            "1e5.5",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "Inf",
            "true",
            "FALSE",
            "True",
            "yes",
            "0x10",
            "1_000",
            " 1",
            "1 ",
            "abc",
            "\"q\"",
            "12345678901234567890",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "2024-01-31",
            "2024-1-31",
            "2024-01-31T10:00:00",
            "2024-01-31 10:00:00",
            "2024-01-31t10:00:00",
            "2024-01-31T10:00",
            "2024-01-31T10:00:00.1",
            "2024-01-31T10:00:00.123",
            "2024-01-31T10:00:00.1234",
            "2024-01-31T10:00:00.123456",
            "2024-01-31T10:00:00.1234567",
            "2024-01-31T10:00:00.123456789",
            "2024-01-31T10:00:00.1234567891",
            "2024-01-31T10:00:00.",
            "2024-01-31T10:00:001",
            "x,y",
            "line\nbreak",
            "ü",
        ];
        let mixes: &[&[&str]] = &[
            &["1", "1.5"],
            &["1", "true"],
            &["1", ""],
            &["", ""],
            &["2024-01-31", "2024-01-31T10:00:00"],
            &["2024-01-31T10:00:00", "2024-01-31T10:00:00.5"],
            &["2024-01-31T10:00:00.5", "2024-01-31T10:00:00.123456789"],
            &["1", "2024-01-31"],
            &["true", "false", ""],
            &["NaN", "1"],
        ];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let mut columns: Vec<&[&str]> = single.iter().map(std::slice::from_ref).collect();
        columns.extend_from_slice(mixes);
        std::fs::write(&p, csv_of(&columns)).unwrap();
        let (a, o) = (arrows(&p), ours(&p));
        for (i, column) in columns.iter().enumerate() {
            assert_eq!(o[i], a[i], "column {i}: {column:?}");
        }
        // and arrow reads every column with our types
        let batches =
            CsvBatches::open_with(&p, &CsvOptions::na_values(Vec::<String>::new())).unwrap();
        for b in batches {
            b.unwrap();
        }
    }

    #[test]
    fn values_arrow_cannot_parse_are_strings() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let columns: &[&[&str]] = &[
            &["2024-13-45"],
            &["2024-02-30T10:00:00"],
            &["2024-01-31T25:00:00"],
            &["2024-01-31T10:00:00 nowhere"],
            &["٣"],
            &["2024-01-31T10:00:00.123456789", "2500-01-01T00:00:00"],
            &["2500-01-01T00:00:00"],
        ];
        std::fs::write(&p, csv_of(columns)).unwrap();
        let o = ours(&p);
        let mut expected = vec![DataType::Utf8; 6];
        expected.push(DataType::Timestamp(TimeUnit::Second, None));
        assert_eq!(o, expected);
        // arrow-csv's own inference types some of these and then fails to read them
        let a = arrows(&p);
        assert_eq!(a[0], DataType::Date32);
        assert_eq!(a[5], DataType::Timestamp(TimeUnit::Nanosecond, None));
        for b in CsvBatches::open(&p).unwrap() {
            b.unwrap();
        }
    }

    #[test]
    fn offsets_give_zone_aware_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let columns: &[&[&str]] = &[
            &["2024-01-01T10:00:00+01:00", "2024-07-01 10:00:00+0100", ""],
            &["2024-01-01T10:00:00Z", "2024-01-01T10:00:00.5-00:00"],
            &["2024-01-01T10:00:00+01:00", "2024-07-01T10:00:00+02:00"],
            &["2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00"],
            &["2024-01-01", "2024-01-01T10:00:00Z"],
            &["2024-01-01T10:00:00 Europe/Berlin"],
            &["2024-01-01T10:00:00", "2024-01-02"],
        ];
        std::fs::write(&p, csv_of(columns)).unwrap();
        let ts = |unit, tz: Option<&str>| DataType::Timestamp(unit, tz.map(Into::into));
        assert_eq!(
            ours(&p),
            vec![
                ts(TimeUnit::Second, Some("+01:00")),
                ts(TimeUnit::Millisecond, Some("+00:00")),
                ts(TimeUnit::Second, Some("+00:00")),
                DataType::Utf8,
                DataType::Utf8,
                ts(TimeUnit::Second, Some("Europe/Berlin")),
                ts(TimeUnit::Second, None),
            ]
        );
        let batches: Vec<RecordBatch> = CsvBatches::open(&p)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        use arrow::array::{Array, AsArray};
        use arrow::datatypes::{TimestampMillisecondType, TimestampSecondType};
        let b = &batches[0];
        let c0 = b.column(0).as_primitive::<TimestampSecondType>();
        // the instants: 09:00 and 09:00 UTC
        assert_eq!(c0.value(0), 1_704_099_600);
        assert_eq!(c0.value(1), 1_719_824_400);
        assert!(c0.is_null(2));
        let c1 = b.column(1).as_primitive::<TimestampMillisecondType>();
        assert_eq!(c1.value(0), 1_704_103_200_000);
        assert_eq!(c1.value(1), 1_704_103_200_500);
        let c5 = b.column(5).as_primitive::<TimestampSecondType>();
        assert_eq!(c5.value(0), 1_704_099_600);
    }

    #[test]
    fn zones_are_normalised() {
        assert_eq!(normalise_zone("+01"), "+01:00");
        assert_eq!(normalise_zone("-0530"), "-05:30");
        assert_eq!(normalise_zone("+05:30"), "+05:30");
        assert_eq!(normalise_zone("-00:00"), "+00:00");
        assert_eq!(normalise_zone("UTC"), "UTC");
        assert_eq!(normalise_zone("+1"), "+1");
    }

    #[test]
    fn scan_reports_the_first_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        // quoted fields hold commas and newlines; the bad row starts on line 4
        std::fs::write(&p, "a,b\n1,\"x,\ny\"\n3\n4,5\n").unwrap();
        let err = check_csv(&p, text_format(&p)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` line 4 has 1 field, the header has 2: fix the row or save the file under \
                 another suffix",
                p.display()
            )
        );
        std::fs::write(&p, "a,b\n1,2,3\n").unwrap();
        let err = check_csv(&p, text_format(&p)).unwrap_err();
        assert!(err.to_string().contains("line 2 has 3 fields"), "{err}");
        std::fs::write(&p, "").unwrap();
        let err = check_csv(&p, text_format(&p)).unwrap_err();
        assert!(err.to_string().contains("has no header row"), "{err}");
        std::fs::write(&p, b"a,b\n1,2\n\xff,3\n").unwrap();
        let err = check_csv(&p, text_format(&p)).unwrap_err();
        assert!(
            err.to_string().contains("line 3 is not valid UTF-8"),
            "{err}"
        );
        // header only; blank lines are not rows (as in arrow's reader)
        std::fs::write(&p, "a,b\n").unwrap();
        assert_eq!(check_csv(&p, text_format(&p)).unwrap(), 0);
        std::fs::write(&p, "a,b\n1,2\n\n3,4\r\n").unwrap();
        assert_eq!(check_csv(&p, text_format(&p)).unwrap(), 2);
        let rows: usize = CsvBatches::open(&p)
            .unwrap()
            .map(|b| b.unwrap().num_rows())
            .sum();
        assert_eq!(rows, 2);
    }
}
