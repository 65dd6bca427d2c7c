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
        let obs = a.frame(Axis::Obs).unwrap();
        let want_obs = want["obs"].as_object().unwrap();
        let mut sorted: Vec<String> = obs
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        sorted.sort();
        let mut want_cols: Vec<String> = want_obs.keys().cloned().collect();
        want_cols.sort();
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
        ("not_anndata.zarr", "is a Zarr store but not AnnData"),
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

// ---------------------------------------------------------------------------------------
// AnnData artifacts through lamella-core, on every database × storage.

use lamella_core::{Existing, Feature, ULabel};
use lamella_tests::{TestInstance, artifact_test, db_test};

/// The fixture `name` (a file, or a Zarr store's folder) copied into the instance's
/// scratch folder.
fn fixture(t: &TestInstance, name: &str) -> Option<std::path::PathBuf> {
    let dir = lamella_tests::anndata_fixtures()?;
    let to = t.scratch().join(name);
    copy_tree(&dir.join(name), &to);
    Some(to)
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("make folder");
        for entry in std::fs::read_dir(from).expect("read fixture folder") {
            let entry = entry.expect("fixture entry");
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).expect("copy fixture");
    }
}

/// Cell types under `is_cell_type` and the feature `cell_type` drawing from them.
fn cell_types(t: &TestInstance) -> anyhow::Result<()> {
    t.ulabels().save_all([ULabel::new("is_cell_type")])?;
    let branch = t.ulabels().get_by_name("is_cell_type")?;
    let types = t
        .ulabels()
        .save_all(["T cell", "B cell", "monocyte", "NK cell"].map(ULabel::new))?
        .records;
    t.ulabels().children(&branch)?.add(&types)?;
    t.features()
        .create(Feature::new(
            "cell_type",
            "cat[ULabel[is_cell_type]]".parse()?,
        ))
        .save()?;
    Ok(())
}

artifact_test!(anndata_artifacts_are_described_annotated_and_found, |t| {
    let Some(csr) = fixture(&t, "csr.h5ad") else {
        return Ok(());
    };
    let a = t.artifacts().from_path(&csr).key("sc/pbmc.h5ad").save()?;
    assert_eq!(a.accessor.as_deref(), Some("AnnData"));
    assert_eq!(a.n_observations, Some(6));
    let d = t.artifacts().describe(&a)?;
    let info = d.anndata.clone().expect("an AnnData summary");
    assert_eq!((info.n_obs, info.n_vars), (6, 4));
    assert_eq!(
        info.x.as_ref().map(|x| x.encoding.as_str()),
        Some("csr_matrix")
    );
    let obs: Vec<(&str, &str)> = info
        .obs
        .iter()
        .map(|c| (c.name.as_str(), c.dtype.as_str()))
        .collect();
    assert_eq!(obs, [("cell_type", "cat"), ("donor", "cat")]);
    assert_eq!(
        (info.layers.clone(), info.obsm.clone()),
        (vec!["counts".to_string()], vec!["X_pca".to_string()])
    );
    let text = d.to_string();
    assert!(text.contains("AnnData: 6 obs × 4 vars"), "{text}");
    // obs and var frames, read from the stored object (downloaded from S3 when there).
    let frame = t.artifacts().axis(&a, lamella_core::Axis::Obs)?;
    assert_eq!(frame.num_rows(), 6);
    assert_eq!(frame.schema().field(0).name(), "obs_names");
    let out = t.scratch().join("var.parquet");
    t.artifacts()
        .export_axis(&a, lamella_core::Axis::Var, &out, Existing::Refuse)?;
    let back = lamella_core::read_table(&out)?;
    assert_eq!((back.num_rows(), back.num_columns()), (4, 2));
    // Genes as features (one bulk save), obs columns as features, both slots linked.
    let genes = t.features().from_var(&csr)?;
    assert_eq!(genes.created, 4);
    assert!(
        genes
            .records
            .iter()
            .all(|f| f.dtype == lamella_core::Dtype::Float)
    );
    t.features().from_file(&csr, &Default::default())?;
    let slots = t.artifacts().annotate_slots(&a)?;
    let names: Vec<&str> = slots.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["obs", "var"]);
    // The same panel in another file is the same feature set.
    let dense = fixture(&t, "dense.h5ad").expect("fixture");
    t.features().from_file(&dense, &Default::default())?;
    let b = t
        .artifacts()
        .from_path(&dense)
        .key("sc/other.h5ad")
        .save()?;
    let slots_b = t.artifacts().annotate_slots(&b)?;
    assert_eq!(slots_b[1].1.record.uid, slots[1].1.record.uid);
    assert!(slots_b[1].1.existed);
    // "Which datasets measured CD14?"
    let found = t
        .artifacts()
        .filter("feature_sets__features__name", "CD14")
        .all()?;
    let mut uids: Vec<String> = found.into_iter().map(|x| x.uid).collect();
    uids.sort();
    let mut want = vec![a.uid.clone(), b.uid.clone()];
    want.sort();
    assert_eq!(uids, want);
    // A table cannot be read by axis.
    let csv = t.file("t.csv", b"a\n1\n");
    let c = t.artifacts().from_path(&csv).save()?;
    let e = t.artifacts().axis(&c, lamella_core::Axis::Obs).unwrap_err();
    assert!(e.to_string().contains("only AnnData"), "{e}");
    Ok(())
});

db_test!(
    anndata_curator_reports_both_axes_and_saves_when_valid,
    |t| {
        let Some(typos) = fixture(&t, "typos.h5ad") else {
            return Ok(());
        };
        cell_types(&t)?;
        let panel = fixture(&t, "panel_b.h5ad").expect("fixture");
        let dense = fixture(&t, "dense.h5ad").expect("fixture");
        t.features().from_var(&dense)?;
        let report = t.anndata_curator(&typos)?.validate()?;
        assert!(!report.valid);
        let by_axis = |axis: &str| -> Vec<String> {
            report
                .issues
                .iter()
                .filter(|i| i.axis.as_deref() == Some(axis))
                .map(|i| i.code.as_str().to_string())
                .collect()
        };
        assert_eq!(by_axis("obs"), ["unknown_label"]);
        assert_eq!(by_axis("var"), ["unexpected_column", "duplicate_column"]);
        let genes = report
            .issues
            .iter()
            .find(|i| i.code.as_str() == "unexpected_column")
            .unwrap();
        assert_eq!(genes.values[0].value, "cd14");
        assert_eq!(
            genes.values[0]
                .suggestion
                .as_ref()
                .map(|s| s.value.as_str()),
            Some("CD14")
        );
        let labels = &report.issues[0];
        assert_eq!(labels.values[0].value, "T-cell");
        let text = report.to_string();
        assert!(
            text.contains("var:") && text.contains("obs column 'cell_type'"),
            "{text}"
        );
        // Standardize: synonyms of genes and cell types are applied, on both axes.
        let mut cd14 = t.features().get_by_name("CD14")?;
        t.features().add_synonym(&mut cd14, "cd14")?;
        let mut tcell = t.ulabels().get_by_name("T cell")?;
        t.ulabels().add_synonym(&mut tcell, "T-cell")?;
        let (fixed, fixes) = t.anndata_curator(&typos)?.standardize()?;
        assert_eq!(fixes.genes.get("cd14").map(String::as_str), Some("CD14"));
        assert_eq!(
            fixes.values["cell_type"].get("T-cell").map(String::as_str),
            Some("T cell")
        );
        let left: Vec<&str> = fixed
            .validate()?
            .issues
            .iter()
            .map(|i| i.code.as_str())
            .collect();
        assert_eq!(
            left,
            ["unknown_label", "duplicate_column"],
            "NK and CD4 twice remain"
        );
        let out = t.scratch().join("fixed.h5ad");
        fixed.write(&out)?;
        let back = lamella_storage::AnnData::open(&out)?;
        assert_eq!(back.names(Axis::Var)?.value(0), "CD14");
        let obs = back.frame(Axis::Obs)?;
        assert_eq!(
            cell(obs.column_by_name("cell_type").unwrap().as_ref(), 2),
            json!("T cell")
        );
        let (before, after) = (AnnData::open(&typos)?.summary()?, back.summary()?);
        assert_eq!(before.x, after.x, "X is copied unchanged");
        assert_eq!(back.names(Axis::Obs)?.value(5), "t5");
        // Nothing is saved while invalid.
        let e = t
            .anndata_curator(&typos)?
            .save_artifact(Some("sc/typos.h5ad"), None)
            .unwrap_err();
        assert!(matches!(e, lamella_core::Error::Curation(_)), "{e}");
        assert_eq!(t.artifacts().query().count()?, 0);
        // A file whose genes and cell types are known saves with both slots and its labels.
        t.features().from_var(&panel)?;
        let saved = t
            .anndata_curator(&panel)?
            .save_artifact(Some("sc/b.h5ad"), Some("panel B"))?;
        let d = t.artifacts().describe(&saved.record)?;
        assert_eq!(d.features["obs"].features.len(), 1);
        assert_eq!(d.features["var"].features.len(), 3);
        let mut types: Vec<&str> = d.labels["ulabels"]
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        types.sort();
        assert_eq!(types, ["NK cell", "T cell"]);
        let nk = t.artifacts().filter("ulabels__name", "NK cell").all()?;
        assert_eq!(nk.len(), 1);
        // The key must say what is stored.
        let e = t
            .anndata_curator(&panel)?
            .save_artifact(Some("sc/b.parquet"), None)
            .unwrap_err();
        assert!(e.to_string().contains(".h5ad"), "{e}");
        Ok(())
    }
);

db_test!(broken_anndata_files_are_refused_and_nothing_is_saved, |t| {
    let Some(truncated) = fixture(&t, "truncated.h5ad") else {
        return Ok(());
    };
    let e = t.artifacts().from_path(&truncated).save().unwrap_err();
    assert_eq!(e.kind(), "invalid_anndata", "{e}");
    assert!(e.to_string().contains("truncated.h5ad"), "{e}");
    let not_anndata = t.file("cells.h5ad", b"sepal_length\n1\n");
    let e = t.artifacts().from_path(&not_anndata).save().unwrap_err();
    assert_eq!(e.kind(), "invalid_anndata", "{e}");
    assert_eq!(t.artifacts().query().count()?, 0);
    // The pre-0.7 layout (obs a compound dataset, categories in uns): read whole.
    let old = fixture(&t, "compound.h5ad").expect("fixture");
    let a = t.artifacts().from_path(&old).save()?;
    assert_eq!(a.n_observations, Some(6));
    let obs = t.artifacts().axis(&a, lamella_core::Axis::Obs)?;
    let names: Vec<String> = obs
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["obs_names", "cell_type", "n_genes", "score"]);
    assert_eq!(
        cell(obs.column_by_name("cell_type").unwrap().as_ref(), 4),
        json!("monocyte")
    );
    assert_eq!(
        cell(obs.column_by_name("cell_type").unwrap().as_ref(), 3),
        Value::Null
    );
    Ok(())
});

/// Checks `result` against `anndata.concat(members, join=join)` with the anndata package.
fn check_against_anndata(join: &str, result: &std::path::Path, members: &[std::path::PathBuf]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/check_concat.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(join)
        .arg(result)
        .args(members)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{join}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

artifact_test!(anndata_collections_concatenate_like_anndata, |t| {
    let Some(csr) = fixture(&t, "csr.h5ad") else {
        return Ok(());
    };
    let panel = fixture(&t, "panel_b.h5ad").expect("fixture");
    let dense = fixture(&t, "dense.h5ad").expect("fixture");
    let csc = fixture(&t, "csc.h5ad").expect("fixture");
    let members: Vec<lamella_core::Artifact> = [&csr, &panel, &dense, &csc]
        .iter()
        .map(|p| Ok(t.artifacts().from_path(p).save()?.record))
        .collect::<anyhow::Result<_>>()?;
    let c = t.collections().create(&members, "cells").save()?.record;
    // The plan compares the panels.
    let plan = t.collections().concat(&c).check()?;
    let var = plan.var.expect("a gene comparison");
    assert!(!var.identical);
    assert_eq!((var.n_vars, var.shared), (5, 2));
    assert_eq!(var.members[1].missing, ["CD4", "MS4A1"]);
    assert_eq!(plan.columns[0].name, "obs_names");
    let paths = [csr, panel, dense, csc];
    for (join, j) in [
        ("outer", lamella_core::Join::Outer),
        ("inner", lamella_core::Join::Inner),
    ] {
        let out = t.scratch().join(format!("all_{join}.h5ad"));
        let (cells, size) = t
            .collections()
            .concat(&c)
            .join(j)
            .export(&out, Existing::Refuse)?;
        assert_eq!(cells, 6 + 3 + 6 + 6);
        assert!(size > 0);
        // Lamella reads it back; anndata agrees with its own concatenation.
        let back = lamella_storage::AnnData::open(&out)?.summary()?;
        assert_eq!(back.n_obs, 21);
        assert_eq!(back.n_vars, if join == "outer" { 5 } else { 2 });
        check_against_anndata(join, &out, &paths);
    }
    // The obs alone, as a table.
    let obs = t.scratch().join("obs.parquet");
    let (rows, _) = t.collections().concat(&c).export(&obs, Existing::Refuse)?;
    assert_eq!(rows, 21);
    // A collection with a table member cannot become AnnData.
    let csv = t.file("t.csv", b"a\n1\n");
    let table = t.artifacts().from_path(&csv).save()?.record;
    let mixed = t
        .collections()
        .create(&[members[0].clone(), table], "mixed")
        .save()?
        .record;
    let e = t
        .collections()
        .concat(&mixed)
        .export(&t.scratch().join("m.h5ad"), Existing::Refuse)
        .unwrap_err();
    assert!(e.to_string().contains("AnnData"), "{e}");
    Ok(())
});

#[test]
fn hostile_files_give_clear_errors_or_correct_results() {
    let Some(dir) = lamella_tests::anndata_fixtures() else {
        return;
    };
    // A code beyond the categories: an error naming the element and the row.
    let a = AnnData::open(&dir.join("bad_codes.h5ad")).unwrap();
    let e = a.frame(Axis::Obs).unwrap_err().to_string();
    assert!(
        e.contains("obs/cell_type/codes") && e.contains("row 1") && e.contains("code 7"),
        "{e}"
    );
    // The summary reads types only: it does not trip over the values.
    assert_eq!(a.summary().unwrap().n_obs, 6);
    // 1,000 obs columns: read in full.
    let wide = AnnData::open(&dir.join("wide_obs.h5ad")).unwrap();
    let frame = wide.frame(Axis::Obs).unwrap();
    assert_eq!((frame.num_rows(), frame.num_columns()), (3, 1000));
    assert_eq!(wide.summary().unwrap().obs.fields().len(), 1000);
}

artifact_test!(
    anndata_concatenation_keeps_layers_and_obsm_as_anndata_does,
    |t| {
        let Some(csr) = fixture(&t, "csr.h5ad") else {
            return Ok(());
        };
        let other = fixture(&t, "panel_c.h5ad").expect("fixture");
        let members: Vec<lamella_core::Artifact> = [&csr, &other]
            .iter()
            .map(|p| Ok(t.artifacts().from_path(p).save()?.record))
            .collect::<anyhow::Result<_>>()?;
        let c = t
            .collections()
            .create(&members, "with layers")
            .save()?
            .record;
        for (join, j) in [
            ("inner", lamella_core::Join::Inner),
            ("outer", lamella_core::Join::Outer),
        ] {
            let out = t.scratch().join(format!("layers_{join}.h5ad"));
            t.collections()
                .concat(&c)
                .join(j)
                .export(&out, Existing::Refuse)?;
            let s = lamella_storage::AnnData::open(&out)?.summary()?;
            // inner: the layer both have; outer: every layer (zeros where a member lacks it).
            let want: &[&str] = if join == "inner" {
                &["counts"]
            } else {
                &["counts", "spliced"]
            };
            assert_eq!(s.layers, want);
            assert_eq!(s.obsm, ["X_pca"]);
            check_against_anndata(join, &out, &[csr.clone(), other.clone()]);
        }
        Ok(())
    }
);

artifact_test!(
    zarr_anndata_is_saved_annotated_found_curated_and_concatenated,
    |t| {
        let Some(zarr) = fixture(&t, "dense.zarr") else {
            return Ok(());
        };
        // A Zarr store is an AnnData artifact: summary, obs, the same panel as the .h5ad.
        let a = t.artifacts().from_path(&zarr).save()?.record;
        assert_eq!(a.accessor.as_deref(), Some("AnnData"));
        assert_eq!(a.n_observations, Some(6));
        assert!(a.n_objects.is_some_and(|n| n > 10), "a folder of objects");
        let info = t
            .artifacts()
            .describe(&a)?
            .anndata
            .expect("an AnnData summary");
        assert_eq!((info.n_obs, info.n_vars), (6, 4));
        assert_eq!(info.x.as_ref().map(|x| x.encoding.as_str()), Some("dense"));
        let obs = t.artifacts().axis(&a, lamella_core::Axis::Obs)?;
        assert_eq!(obs.num_rows(), 6);
        assert_eq!(
            cell(obs.column_by_name("batch_size").unwrap().as_ref(), 1),
            Value::Null
        );
        t.features().from_var(&zarr)?;
        t.features().from_file(&zarr, &Default::default())?;
        let slots = t.artifacts().annotate_slots(&a)?;
        assert_eq!(slots[1].0, "var");
        let h5ad = fixture(&t, "dense.h5ad").expect("fixture");
        let b = t.artifacts().from_path(&h5ad).save()?.record;
        let slots_b = t.artifacts().annotate_slots(&b)?;
        assert_eq!(slots_b[1].1.record.uid, slots[1].1.record.uid, "one panel");
        let found = t
            .artifacts()
            .filter("feature_sets__features__name", "CD14")
            .all()?;
        assert_eq!(found.len(), 2);
        // The curator reads a Zarr store as it reads an .h5ad.
        let typos = fixture(&t, "typos.zarr").expect("fixture");
        let report = t.anndata_curator(&typos)?.validate()?;
        let codes: Vec<&str> = report
            .issues
            .iter()
            .filter(|i| i.axis.as_deref() == Some("var"))
            .map(|i| i.code.as_str())
            .collect();
        assert_eq!(codes, ["unexpected_column", "duplicate_column"]);
        // Members of either format concatenate into an .h5ad equal to anndata's concat.
        let csr = fixture(&t, "csr.zarr").expect("fixture");
        let csc = fixture(&t, "csc_v3.zarr").expect("fixture");
        let members: Vec<lamella_core::Artifact> = vec![
            t.artifacts().from_path(&csr).save()?.record,
            b.clone(),
            t.artifacts().from_path(&csc).save()?.record,
        ];
        let c = t
            .collections()
            .create(&members, "mixed formats")
            .save()?
            .record;
        let out = t.scratch().join("all.h5ad");
        let (cells, _) = t
            .collections()
            .concat(&c)
            .join(lamella_core::Join::Outer)
            .export(&out, Existing::Refuse)?;
        assert_eq!(cells, 18);
        check_against_anndata("outer", &out, &[csr, h5ad, csc]);
        // A dense X in a Zarr format 3 store, read in row blocks.
        let dense = fixture(&t, "dense_v3.zarr").expect("fixture");
        let member = t.artifacts().from_path(&dense).save()?.record;
        let c = t
            .collections()
            .create(&[member], "dense zarr")
            .save()?
            .record;
        let out = t.scratch().join("dense_from_zarr.h5ad");
        t.collections().concat(&c).export(&out, Existing::Refuse)?;
        check_against_anndata("outer", &out, &[dense]);
        // Lamella writes AnnData as .h5ad only, and says so.
        let e = t
            .collections()
            .concat(&c)
            .export(&t.scratch().join("all.zarr"), Existing::Refuse)
            .unwrap_err();
        assert!(e.to_string().contains(".h5ad"), "{e}");
        Ok(())
    }
);
