//! Parquet files interoperate with pyarrow (skipped without pyarrow, except under CI=true).

use std::sync::Arc;

use arrow::array::{BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use lamella_storage::{n_rows, read_parquet, write_parquet};

use crate::util::python;

fn have_pyarrow() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but pyarrow is missing: pip install pyarrow pandas"
        );
        eprintln!("pyarrow interop tests skipped: pip install pyarrow to run them");
    }
    ok
}

#[test]
fn pyarrow_reads_what_we_write() {
    if !have_pyarrow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
        Field::new("ok", DataType::Boolean, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec![Some("a"), None, Some("ü")])),
            Arc::new(Float64Array::from(vec![Some(0.5), Some(1.5), None])),
            Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
        ],
    )
    .unwrap();
    write_parquet([&batch, &batch], &path).unwrap();
    let out = python(
        "import json, sys, pyarrow.parquet as pq\n\
         t = pq.read_table(sys.argv[1])\n\
         md = pq.ParquetFile(sys.argv[1]).metadata\n\
         print(json.dumps({'rows': t.to_pylist()[:3], 'n': t.num_rows,\n\
           'types': [str(f.type) for f in t.schema],\n\
           'codec': md.row_group(0).column(0).compression}, ensure_ascii=False))",
        &[path.to_str().unwrap()],
    )
    .unwrap();
    assert_eq!(
        out,
        r#"{"rows": [{"id": 1, "name": "a", "x": 0.5, "ok": true}, {"id": 2, "name": null, "x": 1.5, "ok": null}, {"id": 3, "name": "ü", "x": null, "ok": false}], "n": 6, "types": ["int64", "string", "double", "bool"], "codec": "ZSTD"}"#
    );
}

#[test]
fn we_read_what_pandas_writes() {
    if !have_pyarrow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.parquet");
    python(
        "import sys, pyarrow as pa, pyarrow.parquet as pq\n\
         t = pa.table({'a': list(range(1000)), 'b': ['x%d' % i for i in range(1000)]})\n\
         pq.write_table(t, sys.argv[1], row_group_size=300)",
        &[path.to_str().unwrap()],
    )
    .unwrap();
    assert_eq!(n_rows(&path).unwrap(), 1000);
    let batches = read_parquet(&path).unwrap();
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(total, 1000);
    let b = batches[0]
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(b.value(7), "x7");
}

#[test]
fn csv_timestamps_reach_pyarrow_as_timestamps() {
    if !have_pyarrow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(
        &csv,
        "naive,offset,offsets,millis,day\n\
         2024-01-01 10:00:00,2024-01-01T10:00:00+01:00,2024-01-01T10:00:00+01:00,2024-01-01T10:00:00.250,2024-01-01\n\
         2024-07-01T12:30:00,2024-07-01T12:30:00+01:00,2024-07-01T12:30:00+02:00,,2024-07-01\n",
    )
    .unwrap();
    let pq_path = dir.path().join("t.parquet");
    lamella_storage::convert_table(&csv, &pq_path).unwrap();
    let out = python(
        "import json, sys, pyarrow.parquet as pq\n\
         f = pq.ParquetFile(sys.argv[1])\n\
         t = f.read()\n\
         print(json.dumps({\n\
           'arrow': [str(x.type) for x in pq.read_schema(sys.argv[1])],\n\
           'parquet': [str(f.schema.column(i).logical_type) for i in range(5)],\n\
           'values': [[None if v is None else v.isoformat() for v in c.to_pylist()] for c in t.columns]}))",
        &[pq_path.to_str().unwrap()],
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["arrow"],
        serde_json::json!([
            "timestamp[us]",
            "timestamp[us, tz=+01:00]",
            "timestamp[us, tz=+00:00]",
            "timestamp[ms]",
            "date32[day]"
        ]),
        "{out}"
    );
    // the Parquet logical types themselves (what DuckDB and Spark read, ignoring Arrow's schema)
    let logical: Vec<String> = v["parquet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert!(
        logical[0].starts_with("Timestamp(isAdjustedToUTC=false, timeUnit=microseconds"),
        "{out}"
    );
    assert!(
        logical[1].starts_with("Timestamp(isAdjustedToUTC=true, timeUnit=microseconds"),
        "{out}"
    );
    assert!(
        logical[3].starts_with("Timestamp(isAdjustedToUTC=false, timeUnit=milliseconds"),
        "{out}"
    );
    // the instants are kept; naive values stay naive
    assert_eq!(
        v["values"],
        serde_json::json!([
            ["2024-01-01T10:00:00", "2024-07-01T12:30:00"],
            ["2024-01-01T10:00:00+01:00", "2024-07-01T12:30:00+01:00"],
            ["2024-01-01T09:00:00+00:00", "2024-07-01T10:30:00+00:00"],
            ["2024-01-01T10:00:00.250000", null],
            ["2024-01-01", "2024-07-01"]
        ]),
        "{out}"
    );
}

#[test]
fn we_read_pyarrow_time_zones_and_write_them_to_csv() {
    if !have_pyarrow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berlin.parquet");
    python(
        "import sys, datetime, pyarrow as pa, pyarrow.parquet as pq\n\
         utc = datetime.timezone.utc\n\
         t = pa.table({'t': pa.array([datetime.datetime(2024, 1, 1, 9, tzinfo=utc), None,\n\
                                      datetime.datetime(2024, 7, 1, 9, tzinfo=utc)],\n\
                                     type=pa.timestamp('us', tz='Europe/Berlin'))})\n\
         pq.write_table(t, sys.argv[1])",
        &[path.to_str().unwrap()],
    )
    .unwrap();
    let batches = read_parquet(&path).unwrap();
    assert_eq!(
        batches[0].schema().field(0).data_type(),
        &DataType::Timestamp(
            arrow::datatypes::TimeUnit::Microsecond,
            Some("Europe/Berlin".into())
        )
    );
    let csv = dir.path().join("berlin.csv");
    lamella_storage::convert_table(&path, &csv).unwrap();
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "t\n2024-01-01T10:00:00+01:00\n\"\"\n2024-07-01T11:00:00+02:00\n"
    );
}

/// `batch` in `target`'s schema: columns by name, cast; missing ones null.
fn to_target(batch: &RecordBatch, target: &arrow::datatypes::SchemaRef) -> RecordBatch {
    let columns = target
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) => arrow::compute::cast(c, f.data_type()).unwrap(),
            None => arrow::array::new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    let options =
        arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(target.clone(), columns, &options).unwrap()
}

/// A concatenation that splices members' row groups (copying the chunks of columns whose
/// type does not change) holds exactly the rows of one that decodes and re-encodes
/// everything; large row groups keep their rows, small ones are joined; pyarrow reads it.
#[test]
fn spliced_concatenations_equal_decoded_ones() {
    use arrow::array::{ArrayRef, DictionaryArray, Int32Array};
    use arrow::datatypes::Int32Type;
    use lamella_storage::{ParquetParts, TablePart, write_parquet_parts};
    let dir = tempfile::tempdir().unwrap();
    let member = |name: &str, rows: usize, columns: Vec<(&str, ArrayRef)>| {
        // Declared nullable (OPTIONAL in Parquet) as the target's columns are, but for `k`:
        // REQUIRED in every member and in the target.
        let k: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows as i64));
        let batch = RecordBatch::try_from_iter_with_nullable(
            columns
                .into_iter()
                .map(|(n, a)| (n, a, true))
                .chain([("k", k, false)]),
        )
        .unwrap();
        assert_eq!(batch.num_rows(), rows);
        let path = dir.path().join(name);
        write_parquet([&batch], &path).unwrap();
        path
    };
    let words = ["alpha", "beta", "gamma", "delta"];
    // Two row groups (256 Ki and 37,856 rows): the first spliced, the second re-encoded.
    let a = member(
        "a.parquet",
        300_000,
        vec![
            ("n", Arc::new(Int64Array::from_iter_values(0..300_000))),
            (
                "s",
                Arc::new(StringArray::from_iter(
                    (0..300_000).map(|i| (i % 7 != 0).then(|| words[i % 4])),
                )),
            ),
            (
                "x",
                Arc::new(Float64Array::from_iter(
                    (0..300_000).map(|i| (i % 5 != 0).then_some(i as f64 * 0.25)),
                )),
            ),
        ],
    );
    // Spliced, with `n` widened, `s` a dictionary (copied) and an extra column.
    let b = member(
        "b.parquet",
        100_000,
        vec![
            ("n", Arc::new(Int32Array::from_iter_values(0..100_000))),
            (
                "s",
                Arc::new(
                    (0..100_000)
                        .map(|i| words[(i * 3) % 4])
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            (
                "x",
                Arc::new(Float64Array::from_iter_values((0..100_000).map(f64::from))),
            ),
            ("extra", Arc::new(Int64Array::from_iter_values(0..100_000))),
        ],
    );
    // Small: re-encoded; `x` missing.
    let c = member(
        "c.parquet",
        1000,
        vec![
            ("n", Arc::new(Int64Array::from_iter_values(0..1000))),
            (
                "s",
                Arc::new(StringArray::from_iter_values(
                    (0..1000).map(|i| words[i % 4]),
                )),
            ),
        ],
    );
    // Spliceable by its size, but written without an offset index (as pyarrow writes by
    // default): re-encoded, so that the result's page index stays complete.
    let d = dir.path().join("d.parquet");
    {
        let n: ArrayRef = Arc::new(Int64Array::from_iter_values(0..70_000));
        let k: ArrayRef = Arc::new(Int64Array::from_iter_values(0..70_000));
        let batch =
            RecordBatch::try_from_iter_with_nullable([("n", n, true), ("k", k, false)]).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_offset_index_disabled(true)
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
            .build();
        let file = std::fs::File::create(&d).unwrap();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    // Five small row groups: read in one pass, joined with the previous members' rows.
    let e = dir.path().join("e.parquet");
    {
        let n: ArrayRef = Arc::new(Int64Array::from_iter_values(0..5000));
        let k: ArrayRef = Arc::new(Int64Array::from_iter_values(0..5000));
        let batch =
            RecordBatch::try_from_iter_with_nullable([("n", n, true), ("k", k, false)]).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .build();
        let file = std::fs::File::create(&e).unwrap();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let target = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
        Field::new("extra", DataType::Int64, true),
        Field::new("k", DataType::Int64, false),
    ]));
    let members = [&a, &b, &c, &d, &e];
    let splice_target = lamella_storage::splice_schema(&target);

    let spliced = dir.path().join("spliced.parquet");
    let parts = members
        .iter()
        .flat_map(|p| ParquetParts::open(p, &target).unwrap());
    let parts =
        parts.map(|part| {
            Ok(match part? {
                TablePart::Batch(b) => TablePart::Batch(to_target(&b, &target)),
                TablePart::Splice(s) => TablePart::Splice(s.map_batches(|b| {
                    Ok::<_, lamella_storage::Error>(to_target(&b, &splice_target))
                })?),
            })
        });
    write_parquet_parts(&target, parts, &spliced).unwrap();

    let decoded = dir.path().join("decoded.parquet");
    let batches: Vec<RecordBatch> = members
        .iter()
        .flat_map(|p| read_parquet(p).unwrap())
        .map(|b| to_target(&b, &target))
        .collect();
    write_parquet(&batches, &decoded).unwrap();

    let all = |p: &std::path::Path| {
        let batches = read_parquet(p).unwrap();
        arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
    };
    assert_eq!(all(&spliced), all(&decoded));
    assert_eq!(all(&spliced).num_rows(), 476_000);
    let groups = |p: &std::path::Path| {
        let f = std::fs::File::open(p).unwrap();
        let r = parquet::file::reader::SerializedFileReader::new(f).unwrap();
        use parquet::file::reader::FileReader;
        (0..r.metadata().num_row_groups())
            .map(|g| r.metadata().row_group(g).num_rows())
            .collect::<Vec<_>>()
    };
    assert_eq!(groups(&spliced), [262_144, 37_856, 100_000, 76_000]);
    assert_eq!(groups(&decoded), [262_144, 213_856]);
    // Its page index is complete: a reader that requires one opens it.
    let required = parquet::file::metadata::ParquetMetaDataReader::new()
        .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required)
        .parse_and_finish(&std::fs::File::open(&spliced).unwrap());
    assert!(required.is_ok(), "{:?}", required.err());

    if have_pyarrow() {
        let out = python(
            "import sys, pyarrow.parquet as pq, pyarrow.compute as pc\n\
             t = pq.read_table(sys.argv[1])\n\
             print(t.num_rows, pc.sum(t['n']).as_py(), pc.sum(t['x']).as_py(),\n\
                   t['s'].null_count, pc.count_distinct(t['s']).as_py(), t['extra'].null_count,\n\
                   t.schema.field('k').nullable)",
            &[spliced.to_str().unwrap()],
        )
        .unwrap();
        let n: i64 = [300_000i64, 100_000, 1000, 70_000, 5000]
            .iter()
            .map(|&m| (0..m).sum::<i64>())
            .sum::<i64>();
        let x: f64 = (0..300_000)
            .filter(|i| i % 5 != 0)
            .map(|i| i as f64 * 0.25)
            .sum::<f64>()
            + (0..100_000).map(f64::from).sum::<f64>();
        let s_nulls = (0..300_000).filter(|i| i % 7 == 0).count() + 75_000;
        assert_eq!(out, format!("476000 {n} {x:?} {s_nulls} 4 376000 False"));
    }
}
