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
