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
