//! AnnData files read by lamella-storage against what the `anndata` package reads from them.

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use lamella_storage::{AnnData, Axis, Error, MatrixEncoding};
use serde_json::{Value, json};

/// One cell of an Arrow array as JSON (dictionary entries through their values).
fn cell(a: &dyn Array, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let key = d.normalized_keys()[i];
            cell(d.values().as_ref(), key)
        }
        DataType::Boolean => json!(a.as_boolean().value(i)),
        DataType::Utf8 => json!(a.as_string::<i32>().value(i)),
        DataType::Float32 | DataType::Float64 => {
            let f = arrow::compute::cast(a, &DataType::Float64).expect("cast");
            json!(f.as_primitive::<arrow::datatypes::Float64Type>().value(i))
        }
        t if t.is_integer() => {
            let f = arrow::compute::cast(a, &DataType::Int64).expect("cast");
            json!(f.as_primitive::<arrow::datatypes::Int64Type>().value(i))
        }
        other => panic!("unexpected type {other}"),
    }
}

fn column(a: &dyn Array) -> Vec<Value> {
    (0..a.len()).map(|i| cell(a, i)).collect()
}

#[test]
fn reads_what_anndata_reads() {
    let Some(dir) = lamella_tests::anndata_fixtures() else {
        return;
    };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    for (name, want) in expected.as_object().unwrap() {
        let a = AnnData::open(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = a.summary().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(json!(s.n_obs), want["n_obs"], "{name}");
        assert_eq!(json!(s.n_vars), want["n_vars"], "{name}");
        let obs_names: Vec<Value> = column(&a.names(Axis::Obs).unwrap());
        assert_eq!(Value::Array(obs_names), want["obs_names"], "{name}");
        let var_names: Vec<Value> = column(&a.names(Axis::Var).unwrap());
        assert_eq!(Value::Array(var_names), want["var_names"], "{name}");
        let x = s.x.as_ref().expect("X");
        assert_eq!(x.shape, (s.n_obs, s.n_vars), "{name}");
        if s.legacy {
            // Pre-0.7 frames: shape and index only; columns are a clear error.
            let err = a.frame(Axis::Obs).unwrap_err().to_string();
            assert!(err.contains("pre-0.7") && err.contains(name), "{err}");
            continue;
        }
        let obs = a.frame(Axis::Obs).unwrap();
        let want_obs = want["obs"].as_object().unwrap();
        let mut sorted: Vec<String> = obs
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        sorted.sort();
        let want_cols: Vec<String> = want_obs.keys().cloned().collect();
        assert_eq!(sorted, want_cols, "{name}: obs columns");
        for (col, values) in want_obs {
            let array = obs.column_by_name(col).unwrap();
            assert_eq!(
                &Value::Array(column(array.as_ref())),
                values,
                "{name}: obs/{col}"
            );
        }
        // The schema read from types agrees with the frame read from values.
        assert_eq!(s.obs.fields(), obs.schema().fields(), "{name}");
        let var = a.frame(Axis::Var).unwrap();
        for (col, values) in want["var"].as_object().unwrap() {
            let array = var.column_by_name(col).unwrap();
            assert_eq!(
                &Value::Array(column(array.as_ref())),
                values,
                "{name}: var/{col}"
            );
        }
        let keys = |k: &str| want[k].as_array().unwrap().clone();
        assert_eq!(json!(s.layers), Value::Array(keys("layers")), "{name}");
        assert_eq!(json!(s.obsm), Value::Array(keys("obsm")), "{name}");
        assert_eq!(json!(s.uns), Value::Array(keys("uns")), "{name}");
    }
}

#[test]
fn summary_names_the_layout() {
    let Some(dir) = lamella_tests::anndata_fixtures() else {
        return;
    };
    let s = AnnData::open(&dir.join("csr.h5ad"))
        .unwrap()
        .summary()
        .unwrap();
    let x = s.x.unwrap();
    assert_eq!(x.encoding, MatrixEncoding::Csr);
    assert_eq!(x.dtype, "float32");
    assert!(x.nnz.is_some());
    let s = AnnData::open(&dir.join("csc.h5ad"))
        .unwrap()
        .summary()
        .unwrap();
    assert_eq!(s.x.unwrap().encoding, MatrixEncoding::Csc);
    let s = AnnData::open(&dir.join("dense.h5ad"))
        .unwrap()
        .summary()
        .unwrap();
    assert_eq!(s.x.unwrap().encoding, MatrixEncoding::Dense);
    assert!(matches!(
        s.obs.field_with_name("cell_type").unwrap().data_type(),
        DataType::Dictionary(_, _)
    ));
    let with_index = AnnData::open(&dir.join("dense.h5ad"))
        .unwrap()
        .frame_with_index(Axis::Obs)
        .unwrap();
    assert_eq!(with_index.schema().field(0).name(), "obs_names");
}

#[test]
fn bad_files_are_clear_errors() {
    let Some(dir) = lamella_tests::anndata_fixtures() else {
        return;
    };
    for (file, words) in [
        ("truncated.h5ad", "truncated or corrupt"),
        ("not_anndata.h5", "not AnnData"),
    ] {
        let e = AnnData::open(&dir.join(file)).unwrap_err();
        assert!(matches!(e, Error::InvalidAnnData { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains(words) && text.contains(file), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
    }
    // A CSV renamed to .h5ad.
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("cells.h5ad");
    std::fs::write(&fake, "a,b\n1,2\n").unwrap();
    let text = AnnData::open(&fake).unwrap_err().to_string();
    assert!(text.contains("not a readable HDF5 file"), "{text}");
}
