//! Checking, converting and peeking at table files; wide CSVs; time zones.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, Int64Array, ListArray, RecordBatch, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use lamella_storage::{
    CsvBatches, Error, ParquetBatches, check_table, convert_table, csv_rows, read_csv,
    read_parquet, read_table_head, write_csv, write_parquet,
};

fn int_batch(name: &str, values: Vec<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, false)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values))]).unwrap()
}

fn only_file_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn show(a: &dyn Array, i: usize) -> String {
    ArrayFormatter::try_new(a, &FormatOptions::default())
        .unwrap()
        .value(i)
        .to_string()
}

#[test]
fn check_table_by_suffix() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("t.Parquet");
    write_parquet([&int_batch("x", (0..1234).collect())], &pq).unwrap();
    assert_eq!(check_table(&pq).unwrap(), Some(1234));

    let fake = dir.path().join("x.parquet");
    std::fs::write(&fake, "a,b\n1,2\n").unwrap();
    let err = check_table(&fake).unwrap_err();
    assert!(matches!(err, Error::InvalidTable { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` is not a Parquet file (invalid footer): save it under its real suffix or fix it",
            fake.display()
        )
    );
    // a valid-looking end and start but garbage metadata
    let mut bytes = b"PAR1".to_vec();
    bytes.extend_from_slice(&[0xAB; 64]);
    bytes.extend_from_slice(&40u32.to_le_bytes());
    bytes.extend_from_slice(b"PAR1");
    std::fs::write(&fake, bytes).unwrap();
    let err = check_table(&fake).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("is not a Parquet file (invalid footer") && !msg.contains('\n'));

    let csv = dir.path().join("t.CSV");
    std::fs::write(&csv, "id,text\n1,\"a, b\"\n2,\"two\nlines\"\n3,\n").unwrap();
    assert_eq!(check_table(&csv).unwrap(), Some(3));
    assert_eq!(csv_rows(&csv).unwrap(), 3);
    std::fs::write(&csv, "a,b\n1,2\n3\n").unwrap();
    let err = check_table(&csv).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` line 3 has 1 field, the header has 2: fix the row or save the file under \
             another suffix",
            csv.display()
        )
    );
    // a Parquet file saved as .csv
    std::fs::copy(&pq, &csv).unwrap();
    assert!(check_table(&csv).is_err());

    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "a,b\n1\n").unwrap();
    assert_eq!(check_table(&other).unwrap(), None);
    assert_eq!(check_table(&dir.path().join("no-suffix")).unwrap(), None);
    assert!(
        check_table(&dir.path().join("missing.csv"))
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn csv_check_streams_large_files() {
    // 60 MB, with quoted newlines: counted correctly in one pass
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    writeln!(f, "id,name,note").unwrap();
    for i in 0..1_000_000u32 {
        writeln!(
            f,
            "{i},name {i},\"a, \"\"quoted\"\"\nnote padded to make the file larger\""
        )
        .unwrap();
    }
    f.flush().unwrap();
    drop(f);
    assert_eq!(check_table(&p).unwrap(), Some(1_000_000));
}

#[test]
fn wide_csv_reads_with_memory_that_follows_the_data() {
    // 100k columns × 3 rows (~1 MB): arrow's reader used to preallocate 64 Ki rows × 100k
    // columns (52 GB) and abort.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("wide.csv");
    let n_cols = 100_000;
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let header: Vec<String> = (0..n_cols).map(|i| format!("c{i}")).collect();
    writeln!(f, "{}", header.join(",")).unwrap();
    for r in 0..3 {
        let row: Vec<String> = (0..n_cols).map(|i| ((i + r) % 10).to_string()).collect();
        writeln!(f, "{}", row.join(",")).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let t = Instant::now();
    let batches = read_csv(&p).unwrap();
    eprintln!("read 100k columns × 3 rows in {:?}", t.elapsed());
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!((b.num_rows(), b.num_columns()), (3, n_cols));
    assert_eq!(b.schema().field(99_999).name(), "c99999");
    assert_eq!(b.column(99_999).as_primitive::<Int64Type>().value(2), 1);
    let head = read_table_head(&p, 2).unwrap();
    assert_eq!(
        (head.batch.num_rows(), head.n_rows, head.n_columns),
        (2, 3, n_cols)
    );
}

#[test]
fn wide_tables_to_parquet_and_back() {
    // Over 2000 columns: Snappy and no dictionaries (zstd contexts and dictionary tables
    // would cost ~175 KB per column when writing and reading).
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("wide.csv");
    let n_cols = 5000;
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let header: Vec<String> = (0..n_cols).map(|i| format!("c{i}")).collect();
    writeln!(f, "{}", header.join(",")).unwrap();
    for r in 0..3 {
        let row: Vec<String> = (0..n_cols).map(|i| format!("v{}", (i + r) % 10)).collect();
        writeln!(f, "{}", row.join(",")).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let pq = dir.path().join("wide.parquet");
    convert_table(&p, &pq).unwrap();
    assert_eq!(read_parquet(&pq).unwrap(), read_csv(&p).unwrap());
    use parquet::file::reader::FileReader;
    let reader =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&pq).unwrap())
            .unwrap();
    let column = reader.metadata().row_group(0).column(4999);
    assert_eq!(column.compression(), parquet::basic::Compression::SNAPPY);
    assert!(column.dictionary_page_offset().is_none());
}

#[test]
fn wide_parquet_batches_follow_the_cell_budget() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.parquet");
    let n_cols = 1000;
    let fields: Vec<Field> = (0..n_cols)
        .map(|i| Field::new(format!("c{i}"), DataType::Int64, false))
        .collect();
    let col: Arc<dyn Array> = Arc::new(Int64Array::from(vec![7; 5000]));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), vec![col; n_cols]).unwrap();
    write_parquet([&batch], &p).unwrap();
    let sizes: Vec<usize> = ParquetBatches::open(&p)
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .collect();
    // 2 Mi cells / 1000 columns
    assert_eq!(sizes[0], 2097);
    assert_eq!(sizes.iter().sum::<usize>(), 5000);
}

fn berlin_batch() -> RecordBatch {
    // 2024-01-01T09:00:00Z and 2024-07-01T09:00:00Z
    let ts = TimestampMicrosecondArray::from(vec![
        Some(1_704_099_600_000_000),
        None,
        Some(1_719_824_400_000_000),
    ])
    .with_timezone("Europe/Berlin");
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", ts.data_type().clone(), true),
        Field::new("x", DataType::Int64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(ts), Arc::new(Int64Array::from(vec![1, 2, 3]))],
    )
    .unwrap()
}

#[test]
fn named_time_zones_read_and_write_to_csv() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("berlin.parquet");
    write_parquet([&berlin_batch()], &pq).unwrap();
    let back = read_parquet(&pq).unwrap();
    let t = back[0].column(0);
    assert_eq!(
        t.data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Berlin".into()))
    );
    assert_eq!(show(t, 0), "2024-01-01T10:00:00+01:00");
    assert_eq!(show(t, 2), "2024-07-01T11:00:00+02:00");

    let csv = dir.path().join("berlin.csv");
    write_csv(&back, &csv).unwrap();
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "t,x\n2024-01-01T10:00:00+01:00,1\n,2\n2024-07-01T11:00:00+02:00,3\n"
    );
    let csv2 = dir.path().join("converted.csv");
    convert_table(&pq, &csv2).unwrap();
    assert_eq!(std::fs::read(&csv).unwrap(), std::fs::read(&csv2).unwrap());
    // back from CSV: the offsets differ (DST), so the column is UTC; the instants stay
    let again = read_csv(&csv).unwrap();
    let t = again[0].column(0);
    assert_eq!(
        t.data_type(),
        &DataType::Timestamp(TimeUnit::Second, Some("+00:00".into()))
    );
    assert_eq!(show(t, 0), "2024-01-01T09:00:00Z");
}

#[test]
fn write_csv_is_atomic_and_writes_headers() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/t.csv");
    let b = int_batch("x", vec![1, 2, 3]);
    let size = write_csv([&b, &b.slice(0, 1)], &p).unwrap();
    assert_eq!(size, std::fs::metadata(&p).unwrap().len());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "x\n1\n2\n3\n1\n");
    write_csv([&b.slice(0, 0)], &p).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "x\n");
    assert_eq!(
        read_csv(&p)
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum::<usize>(),
        0
    );
    let none: [&RecordBatch; 0] = [];
    assert!(
        write_csv(none, &p)
            .unwrap_err()
            .to_string()
            .contains("no record batches")
    );
    let err = write_csv([&b, &int_batch("y", vec![1])], &p).unwrap_err();
    assert!(
        err.to_string().contains("record batch 1 has column 1 `y`"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "x\n");

    // a failure leaves neither a partial file nor a temporary one
    let lists = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1)])]);
    let schema = Arc::new(Schema::new(vec![Field::new(
        "l",
        lists.data_type().clone(),
        true,
    )]));
    let nested = RecordBatch::try_new(schema, vec![Arc::new(lists)]).unwrap();
    let q = dir.path().join("sub/nested.csv");
    let err = write_csv([&nested], &q).unwrap_err();
    assert!(err.to_string().contains("not supported in CSV"), "{err}");
    assert!(!q.exists());
    assert_eq!(only_file_in(&dir.path().join("sub")), ["t.csv"]);
}

#[test]
fn convert_table_streams_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(f, "id,name,x,when").unwrap();
    for i in 0..150_000 {
        let name = if i % 7 == 0 {
            String::new()
        } else {
            format!("\"n,{i}\"")
        };
        writeln!(
            f,
            "{i},{name},{},2024-01-01T00:00:{:02}",
            i as f64 / 4.0,
            i % 60
        )
        .unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let expected = read_csv(&csv).unwrap();
    assert!(expected.len() > 1, "several batches");

    let pq = dir.path().join("out.PARQUET");
    let size = convert_table(&csv, &pq).unwrap();
    assert_eq!(size, std::fs::metadata(&pq).unwrap().len());
    let back = read_parquet(&pq).unwrap();
    let rows = |bs: &[RecordBatch]| bs.iter().map(|b| b.num_rows()).sum::<usize>();
    assert_eq!(rows(&back), 150_000);
    // seconds are stored as microseconds; everything else is as read
    let s = back[0].schema();
    assert_eq!(
        s.field(3).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    assert_eq!(
        s.field(0).data_type(),
        expected[0].schema().field(0).data_type()
    );
    assert_eq!(show(back[0].column(3), 61), "2024-01-01T00:00:01");
    assert_eq!(back[0].column(1).as_string::<i32>().value(1), "n,1");

    let csv2 = dir.path().join("back.csv");
    convert_table(&pq, &csv2).unwrap();
    let again = read_csv(&csv2).unwrap();
    assert_eq!(rows(&again), 150_000);
    assert_eq!(again[0].schema().fields().len(), 4);
    assert_eq!(again[0].column(1).as_string::<i32>().value(1), "n,1");
    assert!(again[0].column(1).is_null(0));

    // in place, and refusals
    convert_table(&csv2, &csv2).unwrap();
    assert_eq!(csv_rows(&csv2).unwrap(), 150_000);
    let err = convert_table(&csv, &dir.path().join("out.json")).unwrap_err();
    assert!(
        err.to_string()
            .contains("only .parquet, .csv and .tsv files"),
        "{err}"
    );
    std::fs::write(&csv, "a,b\n1\n").unwrap();
    let bad_dest = dir.path().join("never.parquet");
    assert!(matches!(
        convert_table(&csv, &bad_dest).unwrap_err(),
        Error::InvalidTable { .. }
    ));
    assert!(!bad_dest.exists());
}

#[test]
fn csv_heads_have_the_full_read_types() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    writeln!(f, "a,b,c").unwrap();
    for i in 0..100_000 {
        // b is an integer until the last row; c is empty at first
        let b = if i == 99_999 {
            "1.5".to_string()
        } else {
            i.to_string()
        };
        let c = if i < 50 { "" } else { "x" };
        writeln!(f, "{i},{b},{c}").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let full = read_csv(&p).unwrap();
    let head = read_table_head(&p, 5).unwrap();
    assert_eq!(head.batch.schema(), full[0].schema());
    assert_eq!(head.batch.schema().field(1).data_type(), &DataType::Float64);
    assert_eq!(head.batch, full[0].slice(0, 5));
    assert_eq!((head.n_rows, head.n_columns), (100_000, 3));
    let all = read_table_head(&p, 1_000_000).unwrap();
    assert_eq!(all.batch.num_rows(), 100_000);
    let none = read_table_head(&p, 0).unwrap();
    assert_eq!((none.batch.num_rows(), none.batch.num_columns()), (0, 3));
    let err = read_table_head(&dir.path().join("x.json"), 5).unwrap_err();
    assert!(
        err.to_string()
            .contains("only .parquet, .csv and .tsv files"),
        "{err}"
    );
}

#[test]
fn parquet_heads_decode_only_the_first_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("zeros.parquet");
    // 20M zeros in 1 Mi-row batches (the writer makes 256 Ki-row groups)
    let zeros = int_batch("x", vec![0; 1 << 20]);
    let n_batches = 19;
    let mut batches = vec![zeros.clone(); n_batches];
    batches.push(int_batch("x", (0..1_048_576).collect()));
    let t = Instant::now();
    write_parquet(&batches, &p).unwrap();
    let write_time = t.elapsed();
    let total = (n_batches as u64 + 1) << 20;

    let t = Instant::now();
    let head = read_table_head(&p, 5).unwrap();
    let head_time = t.elapsed();
    eprintln!(
        "20 Mi rows: written in {write_time:?}, {} bytes; head of 5 in {head_time:?}",
        std::fs::metadata(&p).unwrap().len()
    );
    assert_eq!(
        (head.n_rows, head.n_columns, head.batch.num_rows()),
        (total, 1, 5)
    );
    assert_eq!(
        head.batch.column(0).as_primitive::<Int64Type>().values(),
        &[0; 5]
    );
    assert!(
        head_time < Duration::from_secs(2),
        "head took {head_time:?}"
    );

    // Heads span row groups when asked to, and stop there: damage the last row group, which
    // a full read must decode and a head must not touch.
    let (groups, per_group, start, len) = {
        use parquet::file::reader::FileReader;
        let file = std::fs::File::open(&p).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        let md = reader.metadata();
        let groups = md.num_row_groups();
        let (start, len) = md.row_group(groups - 1).column(0).byte_range();
        (
            groups,
            md.row_group(0).num_rows() as usize,
            start as usize,
            len as usize,
        )
    };
    assert!(groups > 2, "{groups} row groups");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[start..start + len].fill(0xEE);
    std::fs::write(&p, bytes).unwrap();
    let head = read_table_head(&p, per_group + 3).unwrap();
    assert_eq!(head.batch.num_rows(), per_group + 3);
    assert!(read_parquet(&p).is_err(), "the damage is real");
}

#[test]
fn csv_batches_report_schema_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    std::fs::write(&p, "a,b\n1,x\n2,y\n").unwrap();
    let r = CsvBatches::open(&p).unwrap();
    assert_eq!(r.n_rows(), 2);
    assert_eq!(r.schema().field(1).data_type(), &DataType::Utf8);
    let b: Vec<RecordBatch> = r.collect::<Result<_, _>>().unwrap();
    assert_eq!(b[0].column(1).as_string::<i32>().value(1), "y");
}

/// pandas writes its index description as schema metadata, and zoned timestamps carry their
/// zone: converting such a file reads batches whose schema must equal the reader's.
#[test]
fn converting_a_file_with_schema_metadata_and_a_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let mut meta = std::collections::HashMap::new();
    meta.insert(
        "pandas".to_string(),
        r#"{"index_columns": [{"kind": "range"}]}"#.to_string(),
    );
    let schema = Arc::new(Schema::new_with_metadata(
        vec![
            Field::new("a", DataType::LargeUtf8, true),
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Berlin".into())),
                true,
            ),
        ],
        meta,
    ));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(arrow::array::LargeStringArray::from(vec!["x", "y"])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![1_735_686_000_000_000, 1_738_364_400_000_000])
                    .with_timezone("Europe/Berlin"),
            ),
        ],
    )
    .unwrap();
    let pq = dir.path().join("pandas.parquet");
    write_parquet([&batch], &pq).unwrap();
    let reader = ParquetBatches::open(&pq).unwrap();
    let announced = reader.schema();
    assert!(announced.metadata().contains_key("pandas"));
    for b in reader {
        assert_eq!(b.unwrap().schema(), announced);
    }
    let csv = dir.path().join("out.csv");
    convert_table(&pq, &csv).unwrap();
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "a,t\nx,2025-01-01T00:00:00+01:00\ny,2025-02-01T00:00:00+01:00\n"
    );
}

/// What R and pandas write for missing values leaves numeric columns numeric, as pandas
/// reads them; other tokens are chosen with `CsvOptions`.
#[test]
fn missing_value_tokens_keep_columns_typed() {
    use lamella_storage::CsvOptions;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.csv");
    std::fs::write(
        &p,
        "n,x,s,b\n1,1.5,a,true\nNA,NaN,NA,NA\nnull,,N/A,null\n4,None,d,false\n",
    )
    .unwrap();
    let batches = read_csv(&p).unwrap();
    let b = &batches[0];
    let types: Vec<DataType> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        [
            DataType::Int64,
            DataType::Float64,
            DataType::Utf8,
            DataType::Boolean
        ]
    );
    assert_eq!(b.column(0).null_count(), 2);
    assert_eq!(b.column(1).null_count(), 3);
    assert_eq!(b.column(2).null_count(), 2);
    // Other tokens: "NA" is a value again, "-" is missing.
    let p = dir.path().join("dash.csv");
    std::fs::write(&p, "n,s\n1,NA\n-,x\n").unwrap();
    let r = CsvBatches::open_with(&p, &CsvOptions::na_values(["-"])).unwrap();
    assert_eq!(r.schema().field(0).data_type(), &DataType::Int64);
    assert_eq!(r.schema().field(1).data_type(), &DataType::Utf8);
    let b: Vec<RecordBatch> = r.map(Result::unwrap).collect();
    assert_eq!(b[0].column(0).null_count(), 1);
    assert_eq!(b[0].column(1).null_count(), 0);
}

/// Tab-separated and gzip-compressed tables read and write like CSV.
#[test]
fn tsv_and_gzip_tables() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("t.tsv");
    std::fs::write(&tsv, "a\tb\n1\tx,y\n2\tz\n").unwrap();
    assert_eq!(check_table(&tsv).unwrap(), Some(2));
    let b = read_table_head(&tsv, 10).unwrap();
    assert_eq!(b.n_columns, 2);
    assert_eq!(show(b.batch.column(1).as_ref(), 0), "x,y");
    let gz = dir.path().join("t.CSV.gz");
    let mut enc = flate2_encoder(std::fs::File::create(&gz).unwrap());
    enc.write_all(b"a,b\n1,NA\n3,4\n").unwrap();
    enc.finish().unwrap();
    assert_eq!(check_table(&gz).unwrap(), Some(2));
    let batches = read_csv(&gz).unwrap();
    assert_eq!(batches[0].column(1).data_type(), &DataType::Int64);
    assert_eq!(batches[0].column(1).null_count(), 1);
    // converted to a gzipped TSV and back
    let out = dir.path().join("out.tsv.gz");
    convert_table(&gz, &out).unwrap();
    let back = read_csv(&out).unwrap();
    assert_eq!(back[0].num_rows(), 2);
    assert_eq!(back[0].schema(), batches[0].schema());
    // a file that claims gzip but is not is a clear error
    let fake = dir.path().join("fake.csv.gz");
    std::fs::write(&fake, "a,b\n1,2\n").unwrap();
    let err = check_table(&fake).unwrap_err();
    assert!(err.to_string().contains("gzip"), "{err}");
}

fn flate2_encoder(f: std::fs::File) -> flate2::write::GzEncoder<std::fs::File> {
    flate2::write::GzEncoder::new(f, flate2::Compression::default())
}

/// A small deterministic generator (xorshift), so the test needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A string of 0..max_chars characters drawn from ASCII, two- and four-byte characters,
    /// the highest code point, the last of each width (whose successor is wider) and one
    /// whose successor is a surrogate.
    fn string(&mut self, max_chars: u64) -> String {
        const CHARS: [char; 11] = [
            'a',
            'z',
            '\0',
            '\u{7f}',
            'é',
            '\u{7ff}',
            '\u{d7ff}',
            '\u{ffff}',
            '🦀',
            '\u{10ffff}',
            'b',
        ];
        let n = self.below(max_chars + 1);
        (0..n)
            .map(|_| CHARS[self.below(CHARS.len() as u64) as usize])
            .collect()
    }
    fn bytes(&mut self, max_len: u64) -> Vec<u8> {
        let n = self.below(max_len + 1);
        (0..n)
            .map(|_| [0u8, 1, 0x7f, 0xfe, 0xff][self.below(5) as usize])
            .collect()
    }
}

/// Lamella's parallel writer gives string and binary columns the statistics a plain
/// arrow-rs writer gives them: every row group, every type (offsets, views, dictionaries
/// with unused and null values), nulls, all-null chunks, and values long enough to be
/// shortened.
#[test]
fn string_statistics_are_those_of_arrow_rs() {
    use arrow::array::{
        ArrayRef, BinaryArray, DictionaryArray, LargeStringArray, StringArray, StringViewArray,
    };
    use arrow::datatypes::Int16Type;

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let rows = 300_000; // two row groups of Lamella's 256 Ki rows
    let strings = |rng: &mut Rng, null_every: u64, long: bool| -> Vec<Option<String>> {
        (0..rows)
            .map(|_| {
                if null_every > 0 && rng.below(null_every) == 0 {
                    None
                } else if long && rng.below(50_000) == 0 {
                    Some(rng.string(200))
                } else {
                    Some(rng.string(12))
                }
            })
            .collect()
    };
    let short = strings(&mut rng, 0, false);
    let with_nulls = strings(&mut rng, 3, true);
    let large = strings(&mut rng, 10, true);
    let views = strings(&mut rng, 5, true);
    let binary: Vec<Option<Vec<u8>>> = (0..rows)
        .map(|_| {
            let max_len = if rng.below(1000) == 0 { 100 } else { 20 };
            (rng.below(4) > 0).then(|| rng.bytes(max_len))
        })
        .collect();
    // A dictionary whose smallest and largest values are never used, one value null.
    let dict_values = StringArray::from(vec![
        Some(""),
        Some("mid"),
        None,
        Some("alpha"),
        Some("zzzz-unused"),
        Some("omega"),
    ]);
    let keys: Vec<Option<i16>> = (0..rows)
        .map(|_| match rng.below(10) {
            0 => None,
            k => Some([1i16, 2, 3, 5][(k % 4) as usize]),
        })
        .collect();
    let dict = DictionaryArray::<Int16Type>::try_new(keys.into(), Arc::new(dict_values)).unwrap();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("short", Arc::new(StringArray::from(short))),
        ("with_nulls", Arc::new(StringArray::from(with_nulls))),
        ("large", Arc::new(LargeStringArray::from(large))),
        ("views", Arc::new(StringViewArray::from(views))),
        (
            "binary",
            Arc::new(BinaryArray::from(
                binary.iter().map(|b| b.as_deref()).collect::<Vec<_>>(),
            )),
        ),
        ("dict", Arc::new(dict)),
        (
            "all_null",
            Arc::new(StringArray::from(vec![None::<&str>; rows])),
        ),
        (
            "empty_dict",
            Arc::new(
                DictionaryArray::<Int16Type>::try_new(
                    vec![None::<i16>; rows].into(),
                    Arc::new(StringArray::from(Vec::<&str>::new())),
                )
                .unwrap(),
            ),
        ),
    ];
    let batch =
        RecordBatch::try_from_iter_with_nullable(columns.into_iter().map(|(n, a)| (n, a, true)))
            .unwrap();
    // In several batches, so the statistics are merged across writes.
    let batches: Vec<RecordBatch> = (0..rows)
        .step_by(70_000)
        .map(|o| batch.slice(o, 70_000.min(rows - o)))
        .collect();

    let (groups, shortened) = compare_statistics(&batches);
    assert_eq!(groups, 2);
    // The long values did take the shortening paths.
    assert!(shortened > 0);
}

/// Writes `batches` through Lamella and through a plain arrow-rs writer with the same row
/// groups, asserts that every column chunk has the same statistics in both files and that
/// Lamella's reads back whole; returns the number of row groups and of shortened extremes.
fn compare_statistics(batches: &[RecordBatch]) -> (usize, usize) {
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::statistics::Statistics;

    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.parquet");
    write_parquet(batches, &ours).unwrap();
    let theirs = dir.path().join("theirs.parquet");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(256 * 1024))
        .build();
    let file = std::fs::File::create(&theirs).unwrap();
    let mut w = ArrowWriter::try_new(file, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
    let back = read_parquet(&ours).unwrap();
    let rows = |b: &[RecordBatch]| b.iter().map(RecordBatch::num_rows).sum::<usize>();
    assert_eq!(rows(&back), rows(batches));

    let open = |p: &Path| SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
    let (ours, theirs) = (open(&ours), open(&theirs));
    let (ours, theirs) = (ours.metadata(), theirs.metadata());
    assert_eq!(ours.num_row_groups(), theirs.num_row_groups());
    let mut shortened = 0;
    for g in 0..ours.num_row_groups() {
        let (a, b) = (ours.row_group(g), theirs.row_group(g));
        for c in 0..a.num_columns() {
            let name = a.column(c).column_path().string();
            let (sa, sb) = (a.column(c).statistics(), b.column(c).statistics());
            assert!(sa.is_some(), "{name}: statistics written");
            assert_eq!(sa, sb, "row group {g}, column {name}");
            if let Some(Statistics::ByteArray(s)) = sa {
                shortened += usize::from(!s.max_is_exact()) + usize::from(!s.min_is_exact());
            }
        }
    }
    (ours.num_row_groups(), shortened)
}

/// Extremes longer than the statistics keep are shortened as arrow-rs shortens them, on
/// many small tables of long random strings and bytes (so that each is some chunk's
/// minimum or maximum).
#[test]
fn long_extremes_are_shortened_like_arrow_rs() {
    use arrow::array::{ArrayRef, BinaryArray, StringArray};
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut shortened = 0;
    for _ in 0..150 {
        let strings: Vec<String> = (0..4).map(|_| rng.string(40)).collect();
        let bytes: Vec<Vec<u8>> = (0..4).map(|_| rng.bytes(90)).collect();
        let batch = RecordBatch::try_from_iter([
            ("s", Arc::new(StringArray::from(strings)) as ArrayRef),
            (
                "b",
                Arc::new(BinaryArray::from_iter_values(bytes.iter())) as ArrayRef,
            ),
        ])
        .unwrap();
        shortened += compare_statistics(&[batch]).1;
    }
    assert!(shortened > 100, "{shortened} shortened extremes");
}
