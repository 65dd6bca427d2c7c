//! Collections (SPEC §7, §7.1): identity, versions, feature sets, concatenation rules.

use std::sync::Arc;

use lamella_core::arrow::array::{
    Array, ArrayRef, DictionaryArray, Float32Array, Float64Array, Int32Array, Int64Array,
    StringArray, TimestampMicrosecondArray,
};
use lamella_core::arrow::datatypes::{DataType, Int32Type};
use lamella_core::{Artifact, Join, RecordBatch, Transform};
use lamella_tests::{artifact_test, db_test};

fn save(
    t: &lamella_tests::TestInstance,
    key: &str,
    cols: Vec<(&str, ArrayRef)>,
) -> anyhow::Result<Artifact> {
    let batch = RecordBatch::try_from_iter(cols)?;
    Ok(t.artifacts().from_table(&batch).key(key).save()?.record)
}

db_test!(
    collections_are_identified_by_their_members_and_versioned_by_name,
    |t| {
        let a = save(
            &t,
            "a.parquet",
            vec![("x", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)],
        )?;
        let b = save(
            &t,
            "b.parquet",
            vec![("x", Arc::new(Int64Array::from(vec![3])) as ArrayRef)],
        )?;
        let c = t
            .collections()
            .create(&[a.clone(), b.clone()], "Iris collection")
            .save()?;
        assert!(!c.existed);
        assert_eq!(c.uid.len(), 20);
        // The same members in another order: the same collection.
        let again = t
            .collections()
            .create(&[b.clone(), a.clone()], "Other name")
            .save()?;
        assert!(again.existed);
        assert_eq!(again.uid, c.uid);
        // Same name, other members: the next version of the family.
        let d = save(
            &t,
            "d.parquet",
            vec![("x", Arc::new(Int64Array::from(vec![4])) as ArrayRef)],
        )?;
        let v2 = t
            .collections()
            .create(&[a.clone(), b.clone(), d.clone()], "Iris collection")
            .save()?;
        assert_eq!(&v2.uid[..16], &c.uid[..16]);
        assert_eq!(&v2.uid[16..], "0001");
        assert_eq!(t.collections().get("Iris collection")?.uid, v2.uid);
        assert_eq!(t.collections().versions(&v2)?.len(), 2);
        // Members in order, as records and as a table.
        let members = t.collections().artifacts(&v2)?;
        assert_eq!(
            members
                .iter()
                .map(|m| m.key.clone().unwrap())
                .collect::<Vec<_>>(),
            ["a.parquet", "b.parquet", "d.parquet"]
        );
        assert_eq!(t.collections().artifacts_df(&v2)?.num_rows(), 3);
        // Duplicated content and empty collections are refused.
        let e = t
            .collections()
            .create(&[a.clone(), a.clone()], "dup")
            .save()
            .unwrap_err();
        assert!(e.to_string().contains("same content"), "{e}");
        assert!(t.collections().create(&[], "empty").save().is_err());
        Ok(())
    }
);

db_test!(loads_concatenate_drifting_schemas_by_the_rules, |t| {
    let dict: DictionaryArray<Int32Type> = vec!["setosa", "virginica"].into_iter().collect();
    let dict2: DictionaryArray<Int32Type> = vec!["versicolor", "setosa"].into_iter().collect();
    let a = save(
        &t,
        "s1.parquet",
        vec![
            ("n", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
            (
                "f",
                Arc::new(Float32Array::from(vec![0.5, 1.5])) as ArrayRef,
            ),
            ("species", Arc::new(dict) as ArrayRef),
            ("only_a", Arc::new(Int64Array::from(vec![7, 8])) as ArrayRef),
        ],
    )?;
    let b = save(
        &t,
        "s2.parquet",
        vec![
            ("f", Arc::new(Float64Array::from(vec![2.25])) as ArrayRef),
            ("n", Arc::new(Int64Array::from(vec![3])) as ArrayRef),
            ("species", Arc::new(dict2.slice(0, 1)) as ArrayRef),
            ("only_b", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
        ],
    )?;
    let c = t.collections().create(&[a, b], "drift").save()?.record;
    let plan = t.collections().concat(&c).join(Join::Outer).check()?;
    let cols: Vec<(&str, &str, usize)> = plan
        .columns
        .iter()
        .map(|p| (p.name.as_str(), p.data_type.as_str(), p.nulls_filled))
        .collect();
    assert_eq!(
        cols,
        [
            ("n", "Int64", 0),
            ("f", "Float64", 0),
            ("species", "Dictionary(Int32, Utf8)", 0),
            ("only_a", "Int64", 1),
            ("only_b", "Utf8", 2),
        ]
    );
    let out = t.collections().concat(&c).join(Join::Outer).load()?;
    assert_eq!(out.num_rows(), 3);
    let n = out.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(n.values(), &[1, 2, 3]);
    let f = out
        .column(1)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(f.values(), &[0.5, 1.5, 2.25]);
    // An int column a member lacks stays int, with nulls (pandas would make it float64).
    assert_eq!(out.column(3).data_type(), &DataType::Int64);
    assert_eq!(out.column(3).null_count(), 1);
    // One dictionary, the union of the values in first-seen order.
    let species = out
        .column(2)
        .as_any()
        .downcast_ref::<DictionaryArray<Int32Type>>()
        .unwrap();
    let values = species
        .values()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(
        values.iter().flatten().collect::<Vec<_>>(),
        ["setosa", "virginica", "versicolor"]
    );
    // Inner: only the shared columns.
    let inner = t.collections().concat(&c).join(Join::Inner).load()?;
    assert_eq!(inner.num_columns(), 3);
    assert_eq!(
        t.collections()
            .concat(&c)
            .join(Join::Inner)
            .check()?
            .dropped,
        ["only_a", "only_b"]
    );
    Ok(())
});

db_test!(lossy_promotions_are_errors_unless_allowed, |t| {
    let a = save(
        &t,
        "l1.parquet",
        vec![("v", Arc::new(Int64Array::from(vec![1])) as ArrayRef)],
    )?;
    let b = save(
        &t,
        "l2.parquet",
        vec![("v", Arc::new(StringArray::from(vec!["one"])) as ArrayRef)],
    )?;
    let c = t
        .collections()
        .create(&[a.clone(), b.clone()], "lossy")
        .save()?
        .record;
    let e = t
        .collections()
        .concat(&c)
        .join(Join::Outer)
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column 'v'") && e.contains(&a.uid) && e.contains(&b.uid),
        "{e}"
    );
    let out = t
        .collections()
        .concat(&c)
        .join(Join::Outer)
        .promotion(lamella_core::Promotion::Lossy)
        .load()?;
    assert_eq!(out.column(0).data_type(), &DataType::Utf8);
    assert!(
        t.collections()
            .concat(&c)
            .join(Join::Outer)
            .promotion(lamella_core::Promotion::Lossy)
            .check()?
            .columns[0]
            .lossy
    );
    // Zones differ: an error; allowed, UTC.
    let z1 = TimestampMicrosecondArray::from(vec![0]).with_timezone("+01:00");
    let z2 = TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC");
    let a = save(&t, "z1.parquet", vec![("at", Arc::new(z1) as ArrayRef)])?;
    let b = save(&t, "z2.parquet", vec![("at", Arc::new(z2) as ArrayRef)])?;
    let c = t.collections().create(&[a, b], "zones").save()?.record;
    let e = t
        .collections()
        .concat(&c)
        .join(Join::Outer)
        .load()
        .unwrap_err()
        .to_string();
    assert!(e.contains("time zones differ"), "{e}");
    Ok(())
});

db_test!(
    collections_in_runs_union_feature_sets_and_record_inputs,
    |t| {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "sepal_length",
                Arc::new(Float64Array::from(vec![0.05, 0.06])) as ArrayRef,
            ),
            (
                "species",
                Arc::new(StringArray::from(vec!["setosa", "setosa"])) as ArrayRef,
            ),
        ])?;
        t.features().from_table(&batch)?;
        let a = t
            .artifacts()
            .from_table(&batch)
            .key("u1.parquet")
            .save()?
            .record;
        let b = t
            .artifacts()
            .from_table(&batch.slice(0, 1))
            .key("u2.parquet")
            .save()?
            .record;
        t.artifacts().annotate_columns(&a)?;
        t.artifacts().annotate_columns(&b)?;
        let run = t.track(Transform::new("Joint analysis"))?;
        let c = t
            .collections()
            .create(&[a.clone(), b.clone()], "joint")
            .save()?
            .record;
        assert_eq!(c.run_id, run.run.id);
        let sets = t
            .query::<lamella_core::FeatureSet>()
            .filter("collections__uid", c.uid.as_str())
            .all()?;
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].n, 2);
        let inputs = t
            .query::<Artifact>()
            .filter("input_of_runs__uid", run.run.uid.as_str())
            .count()?;
        assert_eq!(inputs, 2);
        t.collections().concat(&c).join(Join::Outer).load()?;
        let used = t
            .query::<lamella_core::Collection>()
            .filter("input_of_runs__uid", run.run.uid.as_str())
            .count()?;
        assert_eq!(used, 1);
        Ok(())
    }
);

db_test!(export_streams_the_same_table_that_load_builds, |t| {
    let a = save(
        &t,
        "e1.parquet",
        vec![
            ("n", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef),
        ],
    )?;
    let b = save(
        &t,
        "e2.parquet",
        vec![
            ("n", Arc::new(Int64Array::from(vec![3])) as ArrayRef),
            ("extra", Arc::new(Float64Array::from(vec![0.5])) as ArrayRef),
        ],
    )?;
    let c = t.collections().create(&[a, b], "export").save()?.record;
    let loaded = t.collections().concat(&c).join(Join::Outer).load()?;
    for name in ["all.parquet", "all.csv"] {
        let path = t.scratch().join(name);
        let (rows, size) = t
            .collections()
            .concat(&c)
            .join(Join::Outer)
            .export(&path, lamella_core::Existing::Refuse)?;
        assert_eq!(rows, 3);
        assert!(size > 0);
        let back = lamella_core::read_table(&path)?;
        assert_eq!(back.num_rows(), 3);
        assert_eq!(back.schema().fields().len(), loaded.num_columns());
    }
    let back = lamella_core::read_table(&t.scratch().join("all.parquet"))?;
    assert_eq!(back.column(0).as_ref(), loaded.column(0).as_ref());
    // A type conflict fails before anything is written.
    let x = save(
        &t,
        "e3.parquet",
        vec![("n", Arc::new(StringArray::from(vec!["z"])) as ArrayRef)],
    )?;
    let bad = t.collections().create(&[x], "bad").save()?.record;
    let mixed = t
        .collections()
        .create(
            &[
                t.collections().artifacts(&c)?[0].clone(),
                t.collections().artifacts(&bad)?[0].clone(),
            ],
            "mixed",
        )
        .save()?
        .record;
    let out = t.scratch().join("mixed.parquet");
    assert!(
        t.collections()
            .concat(&mixed)
            .join(Join::Outer)
            .export(&out, lamella_core::Existing::Refuse)
            .is_err()
    );
    assert!(!out.exists());
    Ok(())
});

/// The values of a column as JSON (numbers as f64, text as strings, nulls as null).
fn json_values(col: &ArrayRef) -> Vec<serde_json::Value> {
    use lamella_core::arrow::array::AsArray;
    use lamella_core::arrow::datatypes::Float64Type;
    let numeric = col.data_type().is_numeric();
    let target = if numeric {
        DataType::Float64
    } else {
        DataType::Utf8
    };
    let cast = lamella_core::arrow::compute::cast(col, &target).unwrap();
    (0..cast.len())
        .map(|i| {
            if cast.is_null(i) {
                serde_json::Value::Null
            } else if numeric {
                serde_json::json!(cast.as_primitive::<Float64Type>().value(i))
            } else {
                serde_json::json!(cast.as_string::<i32>().value(i))
            }
        })
        .collect()
}

db_test!(loads_equal_pandas_concat_on_the_same_files, |t| {
    if !lamella_tests::python_has(&["pandas", "pyarrow"]) {
        return Ok(());
    }
    let dict: DictionaryArray<Int32Type> = vec!["setosa", "virginica"].into_iter().collect();
    let dict2: DictionaryArray<Int32Type> = vec!["versicolor"].into_iter().collect();
    let a = save(
        &t,
        "p1.parquet",
        vec![
            ("n", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
            (
                "f",
                Arc::new(Float32Array::from(vec![0.5, 1.25])) as ArrayRef,
            ),
            ("species", Arc::new(dict) as ArrayRef),
            ("only_a", Arc::new(Int64Array::from(vec![7, 8])) as ArrayRef),
        ],
    )?;
    let b = save(
        &t,
        "p2.parquet",
        vec![
            ("f", Arc::new(Float64Array::from(vec![2.75])) as ArrayRef),
            ("n", Arc::new(Int64Array::from(vec![3])) as ArrayRef),
            ("species", Arc::new(dict2) as ArrayRef),
            (
                "only_b",
                Arc::new(StringArray::from(vec![Some("x")])) as ArrayRef,
            ),
        ],
    )?;
    let paths: Vec<String> = [&a, &b]
        .iter()
        .map(|m| Ok(t.artifacts().cache(m)?.display().to_string()))
        .collect::<anyhow::Result<_>>()?;
    let c = t.collections().create(&[a, b], "pandas").save()?.record;
    // pyarrow's thread pools can abort the interpreter at shutdown
    // (apache/arrow#34314, "terminate called without an active exception"):
    // read single-threaded and leave with os._exit once the answer is out.
    let script = "import os, sys, json, pandas as pd\n\
        dfs = [pd.read_parquet(p, use_threads=False) for p in sys.argv[2:]]\n\
        df = pd.concat(dfs, join=sys.argv[1], ignore_index=True)\n\
        conv = lambda v: None if pd.isna(v) else (float(v) if isinstance(v, (int, float)) or hasattr(v, 'dtype') else str(v))\n\
        print(json.dumps({'columns': list(df.columns), 'values': {c: [conv(v) for v in df[c].tolist()] for c in df.columns}}))\n\
        sys.stdout.flush(); os._exit(0)\n";
    for (join, name) in [(Join::Outer, "outer"), (Join::Inner, "inner")] {
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(name)
            .args(&paths)
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pandas: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let ours = t.collections().concat(&c).join(join).load()?;
        let names: Vec<String> = ours
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            serde_json::json!(names),
            pandas["columns"],
            "{name}: column order"
        );
        for (i, n) in names.iter().enumerate() {
            assert_eq!(
                serde_json::json!(json_values(ours.column(i))),
                pandas["values"][n],
                "{name}: column {n}"
            );
        }
    }
    Ok(())
});

db_test!(collections_go_to_the_trash_and_back, |t| {
    let a = save(
        &t,
        "t1.parquet",
        vec![("x", Arc::new(Int64Array::from(vec![1])) as ArrayRef)],
    )?;
    let b = save(
        &t,
        "t2.parquet",
        vec![("x", Arc::new(Int64Array::from(vec![2])) as ArrayRef)],
    )?;
    let v1 = t
        .collections()
        .create(std::slice::from_ref(&a), "trashy")
        .save()?
        .record;
    let v2 = t
        .collections()
        .create(&[a.clone(), b.clone()], "trashy")
        .save()?
        .record;
    // Trashing the latest version promotes the previous one and hides it from queries.
    assert_eq!(
        t.collections().delete(&v2, lamella_core::Deletion::Trash)?,
        lamella_core::Deleted::Trashed
    );
    assert_eq!(t.collections().get("trashy")?.uid, v1.uid);
    assert!(t.collections().get("trashy")?.is_latest);
    assert_eq!(t.collections().query().count()?, 1);
    let restored = t
        .collections()
        .restore(&t.collections().in_trash("trashy")?)?;
    assert!(restored.changed);
    assert_eq!(restored.record.uid, v2.uid);
    assert!(restored.record.is_latest);
    assert!(
        !t.collections().restore(&v2)?.changed,
        "not in the trash: unchanged"
    );
    assert_eq!(t.collections().get("trashy")?.uid, v2.uid);
    // Deleting for good removes the collection and its member list; the artifacts stay.
    assert_eq!(
        t.collections()
            .delete(&v2, lamella_core::Deletion::Permanent)?,
        lamella_core::Deleted::Removed {
            object_removed: false
        }
    );
    assert_eq!(t.collections().query().include_trash().count()?, 1);
    assert_eq!(t.artifacts().query().count()?, 2);
    // A member of a collection cannot be deleted for good while the collection exists.
    assert!(
        t.artifacts()
            .delete(&a, lamella_core::Deletion::Permanent)
            .is_err()
    );
    t.collections()
        .delete(&v1, lamella_core::Deletion::Permanent)?;
    t.artifacts()
        .delete(&a, lamella_core::Deletion::Permanent)?;
    Ok(())
});

db_test!(check_reports_units_and_labels_from_the_registries, |t| {
    use lamella_core::arrow::datatypes::{Field, Schema};
    use lamella_core::{Feature, ULabel};
    t.features()
        .create(Feature::new("length", "float".parse()?).unit("m"))
        .save()?;
    let cell_type = t
        .features()
        .create(Feature::new("cell_type", "cat".parse()?))
        .save()?
        .record;
    // Two members declare their column's unit: one in the feature's, one in millimetres.
    let with_unit = |unit: &str, v: f64| -> anyhow::Result<RecordBatch> {
        let field = Field::new("length", DataType::Float64, false).with_metadata(
            std::collections::HashMap::from([("unit".to_string(), unit.to_string())]),
        );
        let cells: DictionaryArray<Int32Type> = vec!["T cell"].into_iter().collect();
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                field,
                Field::new("cell_type", cells.data_type().clone(), false),
            ])),
            vec![Arc::new(Float64Array::from(vec![v])), Arc::new(cells)],
        )?)
    };
    let a = t
        .artifacts()
        .from_table(&with_unit("m", 0.05)?)
        .key("u1.parquet")
        .save()?
        .record;
    let b = t
        .artifacts()
        .from_table(&with_unit("mm", 51.0)?)
        .key("u2.parquet")
        .save()?
        .record;
    let c3 = save(
        &t,
        "u3.parquet",
        vec![(
            "length",
            Arc::new(Float64Array::from(vec![0.06])) as ArrayRef,
        )],
    )?;
    // Labels through cell_type: T cell on both annotated members, B cell and NK cell on one.
    let labels = t
        .ulabels()
        .save_all(["T cell", "B cell", "NK cell"].map(ULabel::new))?
        .records;
    t.artifacts()
        .labels(&a)?
        .add(&labels[..1], Some(&cell_type))?;
    t.artifacts().labels(&b)?.add(&labels, Some(&cell_type))?;
    let c = t
        .collections()
        .create(&[a.clone(), b.clone(), c3.clone()], "units")
        .save()?
        .record;
    let plan = t.collections().concat(&c).join(Join::Outer).check()?;
    let length = plan.columns.iter().find(|p| p.name == "length").unwrap();
    assert_eq!(length.unit.as_deref(), Some("m"));
    assert_eq!(length.unit_disagreements.len(), 1, "{length:?}");
    let d = &length.unit_disagreements[0];
    assert_eq!(
        (d.artifact.as_str(), d.unit.as_str()),
        (b.uid.as_str(), "mm")
    );
    assert_eq!(d.expected, "m");
    assert!((d.factor.unwrap() - 0.001).abs() < 1e-12);
    let cells = plan.columns.iter().find(|p| p.name == "cell_type").unwrap();
    assert!(cells.unit.is_none() && cells.unit_disagreements.is_empty());
    let cat = cells.categories.as_ref().expect("categorical check");
    assert_eq!((cat.labels, cat.common, cat.annotated), (3, 1, 2));
    assert_eq!(cat.only_in.len(), 1);
    assert_eq!(cat.only_in[0].artifact, b.uid);
    assert_eq!(cat.only_in[0].labels, ["B cell", "NK cell"]);
    assert_eq!(cat.dtype, "cat[ULabel]");
    // Without a feature unit, the first declared unit is the yardstick.
    let d2 = save(
        &t,
        "u4.parquet",
        vec![("other", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)],
    )?;
    let c2 = t.collections().create(&[c3, d2], "no units").save()?.record;
    let plan = t.collections().concat(&c2).join(Join::Outer).check()?;
    assert!(
        plan.columns
            .iter()
            .all(|p| p.unit_disagreements.is_empty() && p.categories.is_none())
    );
    Ok(())
});

db_test!(
    statistics_flag_big_integers_and_times_that_do_not_fit,
    |t| {
        use lamella_core::arrow::array::{TimestampNanosecondArray, TimestampSecondArray};
        let big = save(
            &t,
            "big.parquet",
            vec![(
                "v",
                Arc::new(Int64Array::from(vec![1, (1 << 53) + 1])) as ArrayRef,
            )],
        )?;
        let small = save(
            &t,
            "small.parquet",
            vec![(
                "v",
                Arc::new(Int64Array::from(vec![1, 1 << 53])) as ArrayRef,
            )],
        )?;
        let float = save(
            &t,
            "float.parquet",
            vec![("v", Arc::new(Float64Array::from(vec![0.5])) as ArrayRef)],
        )?;
        // Up to 2^53 an int64 is exact in float64: no flag.
        let ok = t
            .collections()
            .create(&[small, float.clone()], "exact")
            .save()?
            .record;
        assert!(
            !t.collections()
                .concat(&ok)
                .join(Join::Outer)
                .check()?
                .columns[0]
                .lossy
        );
        let c = t
            .collections()
            .create(&[big.clone(), float], "beyond")
            .save()?
            .record;
        let e = t
            .collections()
            .concat(&c)
            .join(Join::Outer)
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column 'v'") && e.contains(&big.uid) && e.contains("2^53"),
            "{e}"
        );
        assert!(t.collections().concat(&c).join(Join::Outer).load().is_err());
        assert!(
            t.collections()
                .concat(&c)
                .join(Join::Outer)
                .promotion(lamella_core::Promotion::Lossy)
                .check()?
                .columns[0]
                .lossy
        );
        // Seconds in the year 3000 do not fit nanoseconds.
        let late = TimestampSecondArray::from(vec![32_503_680_000]).with_timezone("UTC");
        let fine = TimestampNanosecondArray::from(vec![0]).with_timezone("UTC");
        let a = save(&t, "late.parquet", vec![("at", Arc::new(late) as ArrayRef)])?;
        let b = save(&t, "ns.parquet", vec![("at", Arc::new(fine) as ArrayRef)])?;
        let c = t
            .collections()
            .create(&[a.clone(), b], "times")
            .save()?
            .record;
        let e = t
            .collections()
            .concat(&c)
            .join(Join::Outer)
            .promotion(lamella_core::Promotion::Lossy)
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column 'at'") && e.contains(&a.uid) && e.contains("do not fit"),
            "{e}"
        );
        Ok(())
    }
);

db_test!(
    cached_collections_are_inputs_and_exports_are_outputs_of_a_run,
    |t| {
        // An upload run saves raw folders and versions of a collection of them.
        let upload = t.track(Transform::new("Tutorial: Artifacts").kind("notebook"))?;
        let mut raw = Vec::new();
        for i in 0..3 {
            let dir = t.scratch().join(format!("study{i}"));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("img.jpg"), format!("image of study {i}"))?;
            raw.push(
                t.artifacts()
                    .from_path(&dir)
                    .key(format!("raw/study{i}"))
                    .save()?
                    .record,
            );
        }
        let v1 = t
            .collections()
            .create(&raw[..1], "Iris collection")
            .version("1")
            .save()?
            .record;
        assert_eq!(v1.version.as_deref(), Some("1"));
        let v2 = t
            .collections()
            .create(&raw[..2], "Iris collection")
            .save()?
            .record;
        assert_eq!(v2.version.as_deref(), Some("2"));
        // A label a family already holds is refused, naming the version.
        let e = t
            .collections()
            .create(&raw, "Iris collection")
            .version("2")
            .save()
            .unwrap_err();
        assert!(e.to_string().contains("version '2' is taken"), "{e}");
        t.finish()?;
        assert_eq!(
            t.collections().get_version("Iris collection", "1")?.uid,
            v1.uid
        );
        assert!(t.collections().get_version("Iris collection", "9").is_err());

        // The model caches version 1: the collection is its input, the upload its parent.
        let model = t.track(Transform::new("Petal & sepal regressor").kind("pipeline"))?;
        let paths = t.collections().cache(&v1)?;
        assert_eq!(paths.len(), 1);
        assert!(paths[0].join("img.jpg").is_file());
        let used = t
            .query::<lamella_core::Collection>()
            .filter("input_of_runs__uid", model.run.uid.as_str())
            .all()?;
        assert_eq!(used.iter().map(|c| &c.uid).collect::<Vec<_>>(), [&v1.uid]);
        let parents = t
            .query::<Transform>()
            .filter("children__uid", model.transform.uid.as_str())
            .all()?;
        assert_eq!(
            parents.iter().map(|p| &p.uid).collect::<Vec<_>>(),
            [&upload.transform.uid]
        );
        // Its table output, then an export of a table collection saved as the run's output.
        let a = save(
            &t,
            "x1.parquet",
            vec![("x", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)],
        )?;
        let b = save(
            &t,
            "x2.parquet",
            vec![("x", Arc::new(Int32Array::from(vec![3])) as ArrayRef)],
        )?;
        t.finish()?;
        let joint = t.collections().create(&[a, b], "xs").save()?.record;
        let analysis = t.track(Transform::new("Concatenate"))?;
        let path = t.scratch().join("xs.parquet");
        let (rows, saved) = t
            .collections()
            .concat(&joint)
            .join(Join::Outer)
            .export_artifact(&path, lamella_core::Existing::Refuse, "xs/all.parquet")?;
        assert_eq!(rows, 3);
        assert_eq!(saved.record.run_id, analysis.run.id);
        assert_eq!(saved.record.key.as_deref(), Some("xs/all.parquet"));
        let lamella_core::Loaded::Table(back) = t.artifacts().load(&saved.record)? else {
            anyhow::bail!("the export loads as a table");
        };
        assert_eq!(back.num_rows(), 3);
        let d = t.artifacts().describe(&saved.record)?;
        assert_eq!(d.provenance.input_collections.len(), 1);
        assert!(
            d.to_string().contains("📎 inputs (1, Collection): 'xs'"),
            "{d}"
        );
        // The lineage of the export reaches the members through the collection.
        let l = t.lineage(
            lamella_core::LineageOf::Artifact(&saved.record),
            10,
            lamella_core::Direction::Upstream,
        )?;
        assert!(l.collections.iter().any(|c| c.uid == joint.uid));
        let keys: Vec<_> = l
            .artifacts
            .iter()
            .filter_map(|a| a.key.as_deref())
            .collect();
        assert!(
            keys.contains(&"x1.parquet") && keys.contains(&"x2.parquet"),
            "{keys:?}"
        );
        Ok(())
    }
);

db_test!(version_labels_stay_unique_after_a_version_is_deleted, |t| {
    let files: Vec<_> = (0..4)
        .map(|i| {
            t.artifacts()
                .from_path(t.file(&format!("m{i}.txt"), format!("member {i}").as_bytes()))
                .key(format!("m/{i}.txt"))
                .save()
                .map(|s| s.record)
        })
        .collect::<Result<_, _>>()?;
    let v1 = t.collections().create(&files[..1], "labels").save()?.record;
    let v2 = t.collections().create(&files[..2], "labels").save()?.record;
    let v3 = t.collections().create(&files[..3], "labels").save()?.record;
    assert_eq!(
        [&v1.version, &v2.version, &v3.version].map(|v| v.as_deref()),
        [None, Some("2"), Some("3")]
    );
    t.collections()
        .delete(&v2, lamella_core::Deletion::Permanent)?;
    let v4 = t.collections().create(&files, "labels").save()?.record;
    assert_eq!(v4.version.as_deref(), Some("4"), "never a second '3'");
    assert_eq!(&v4.uid[..16], &v1.uid[..16], "one family, one stem");
    assert_eq!(t.collections().get_version("labels", "3")?.uid, v3.uid);
    Ok(())
});

db_test!(check_and_load_agree_on_what_is_lossy_or_impossible, |t| {
    use lamella_core::arrow::array::{ListArray, StructArray};
    use lamella_core::arrow::datatypes::{Field, Int64Type};
    let agree = |c: &lamella_core::Collection, lossy: bool| {
        let check = t
            .collections()
            .concat(c)
            .join(Join::Outer)
            .promotion(if lossy {
                lamella_core::Promotion::Lossy
            } else {
                lamella_core::Promotion::Exact
            })
            .check();
        let load = t
            .collections()
            .concat(c)
            .join(Join::Outer)
            .promotion(if lossy {
                lamella_core::Promotion::Lossy
            } else {
                lamella_core::Promotion::Exact
            })
            .load();
        assert_eq!(
            check.is_ok(),
            load.is_ok(),
            "check and load disagree: {:?} vs {:?}",
            check.as_ref().map(|p| p.columns.len()),
            load.as_ref().map(|b| b.num_rows())
        );
        check
    };
    // Integers beyond 2^53 in a CSV member (no statistics): the plan reads the values.
    let big = t.file("big.csv", b"n\n9007199254740993\n1\n");
    let big = t.artifacts().from_path(&big).key("big.csv").save()?.record;
    let half = t.file("half.csv", b"n\n1.5\n");
    let half = t
        .artifacts()
        .from_path(&half)
        .key("half.csv")
        .save()?
        .record;
    let c = t
        .collections()
        .create(&[big, half], "beyond 2^53")
        .save()?
        .record;
    let e = agree(&c, false).unwrap_err();
    assert!(e.to_string().contains("beyond 2^53"), "{e}");
    let plan = agree(&c, true)?;
    assert!(plan.columns[0].lossy, "allowed, and said to be lossy");
    // A Parquet member written without statistics: the same.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nostats.parquet");
    {
        let batch = RecordBatch::try_from_iter([(
            "n",
            Arc::new(Int64Array::from(vec![i64::MAX - 1])) as ArrayRef,
        )])?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path)?,
            batch.schema(),
            Some(props),
        )?;
        w.write(&batch)?;
        w.close()?;
    }
    let nostats = t
        .artifacts()
        .from_path(&path)
        .key("nostats.parquet")
        .save()?
        .record;
    let floats = save(
        &t,
        "floats.parquet",
        vec![("n", Arc::new(Float64Array::from(vec![0.5])) as ArrayRef)],
    )?;
    let c = t
        .collections()
        .create(&[nostats, floats], "no statistics")
        .save()?
        .record;
    let e = agree(&c, false).unwrap_err();
    assert!(e.to_string().contains("beyond 2^53"), "{e}");
    assert!(agree(&c, true)?.columns[0].lossy);
    // A struct and a list have no common form, even lossy: check refuses as load would.
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1)])]);
    let strukt = StructArray::from(vec![(
        Arc::new(Field::new("a", DataType::Int64, true)),
        Arc::new(Int64Array::from(vec![1])) as ArrayRef,
    )]);
    let a = save(&t, "list.parquet", vec![("v", Arc::new(list) as ArrayRef)])?;
    let b = save(
        &t,
        "struct.parquet",
        vec![("v", Arc::new(strukt) as ArrayRef)],
    )?;
    let c = t.collections().create(&[a, b], "nested").save()?.record;
    assert!(agree(&c, false).is_err());
    let e = agree(&c, true).unwrap_err();
    assert!(e.to_string().contains("does not convert"), "{e}");
    // A year-3000 time in seconds next to nanoseconds: the finer unit cannot hold it.
    let secs = t.file("secs.csv", b"at\n3000-01-01T00:00:00+00:00\n");
    let secs = t
        .artifacts()
        .from_path(&secs)
        .key("secs.csv")
        .save()?
        .record;
    let nanos = t.file("nanos.csv", b"at\n2020-01-01T00:00:00.123456789+01:00\n");
    let nanos = t
        .artifacts()
        .from_path(&nanos)
        .key("nanos.csv")
        .save()?
        .record;
    let c = t
        .collections()
        .create(&[secs, nanos], "far future")
        .save()?
        .record;
    assert!(agree(&c, false).is_err(), "the zones differ");
    let e = agree(&c, true).unwrap_err();
    assert!(e.to_string().contains("do not fit"), "{e}");
    Ok(())
});

artifact_test!(
    exports_never_overwrite_by_accident_nor_write_into_storage,
    |t| {
        use lamella_core::Existing;
        let a = save(
            &t,
            "e1.parquet",
            vec![("x", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)],
        )?;
        let b = save(
            &t,
            "e2.parquet",
            vec![("x", Arc::new(Int64Array::from(vec![3])) as ArrayRef)],
        )?;
        let c = t
            .collections()
            .create(&[a.clone(), b], "exports")
            .save()?
            .record;
        let concat = t.collections().concat(&c);
        // An existing user file is kept unless replacing is asked for.
        let mine = t.file("mine.parquet", b"my own bytes");
        let e = concat.export(&mine, Existing::Refuse).unwrap_err();
        assert!(matches!(e, lamella_core::Error::PathExists { .. }), "{e}");
        assert_eq!(std::fs::read(&mine)?, b"my own bytes");
        assert_eq!(concat.export(&mine, Existing::Replace)?.0, 3);
        // Nothing is ever written inside a local storage location: not over an artifact's
        // object, not next to it, replace or not.
        if t.storage == lamella_tests::StorageKind::Local {
            let object = std::path::PathBuf::from(t.artifacts().location(&a)?);
            let before = std::fs::read(&object)?;
            for existing in [Existing::Refuse, Existing::Replace] {
                let e = concat.export(&object, existing).unwrap_err();
                assert_eq!(e.kind(), "reserved", "{e}");
                let e = concat
                    .export(&t.root().join("new/all.parquet"), existing)
                    .unwrap_err();
                assert_eq!(e.kind(), "reserved", "{e}");
                let e = t.artifacts().export(&a, &object, existing).unwrap_err();
                assert_eq!(e.kind(), "reserved", "{e}");
            }
            assert_eq!(std::fs::read(&object)?, before, "the object is untouched");
            assert!(!t.root().join("new").exists());
            assert!(
                t.artifacts()
                    .doctor(&lamella_core::DoctorOptions::default())?
                    .missing
                    .is_empty()
            );
        }
        Ok(())
    }
);

db_test!(collections_describe_and_label_like_artifacts, |t| {
    use lamella_core::{Feature, ULabel};
    let a = save(
        &t,
        "d1.parquet",
        vec![("x", Arc::new(Int64Array::from(vec![1])) as ArrayRef)],
    )?;
    let b = save(
        &t,
        "d2.parquet",
        vec![("x", Arc::new(Int64Array::from(vec![2])) as ArrayRef)],
    )?;
    t.features()
        .create(Feature::new("x", "int".parse()?))
        .save()?;
    t.artifacts().annotate_columns(&a)?;
    let c = t.collections().create(&[a, b], "described").save()?.record;
    let split = t
        .features()
        .create(Feature::new("split", "cat".parse()?))
        .save()?
        .record;
    let train = t.ulabels().create(ULabel::new("train")).save()?.record;
    t.collections().labels(&c)?.add(&[train], Some(&split))?;
    let d = t.collections().describe(&c)?;
    assert_eq!(d.artifacts.len(), 2);
    assert_eq!(d.labels["ulabels"][0].name, "train");
    assert!(d.features.contains_key("columns") && d.features.contains_key("external"));
    let text = d.to_string();
    assert!(text.starts_with("Collection(uid="), "{text}");
    assert!(
        text.contains("Artifacts (2):") && text.contains("'d1.parquet'"),
        "{text}"
    );
    assert!(
        text.contains("🔗 split (1, cat[ULabel]): 'train'"),
        "{text}"
    );
    let json = serde_json::to_value(&d)?;
    assert_eq!(json["record"]["uid"], c.uid.as_str());
    assert!(json["provenance"]["storage"].is_null());
    Ok(())
});

db_test!(an_export_reports_its_rows, |t| {
    use lamella_core::{ProgressTask, ProgressUnit};
    let seen: Arc<std::sync::Mutex<Vec<lamella_core::Progress>>> = Arc::default();
    let s = seen.clone();
    t.on_progress(move |p| s.lock().unwrap().push(p.clone()));
    let part = |n: i64| -> lamella_core::Result<Artifact> {
        let batch = RecordBatch::try_from_iter([(
            "n",
            Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
        )])?;
        Ok(t.artifacts()
            .from_table(&batch)
            .key(format!("part{n}.parquet"))
            .save()?
            .record)
    };
    let c = t
        .collections()
        .create(&[part(3)?, part(4)?], "parts")
        .save()?
        .record;
    let out = t.scratch().join("all.parquet");
    let (rows, _) = t
        .collections()
        .concat(&c)
        .export(&out, lamella_core::Existing::Refuse)?;
    assert_eq!(rows, 7);
    let seen = seen.lock().unwrap();
    let export: Vec<_> = seen
        .iter()
        .filter(|p| p.task == ProgressTask::Exporting)
        .collect();
    let last = export.last().expect("export progress");
    assert!(last.finished);
    assert_eq!(
        (last.unit, last.done, last.total),
        (ProgressUnit::Rows, 7, 7)
    );
    Ok(())
});

artifact_test!(
    exports_of_large_members_splice_their_row_groups_and_equal_loads,
    |t| {
        // Members of more than 64 Ki rows: their row groups are spliced into the export, the
        // columns that keep their type copied as encoded, the others (widened, missing)
        // encoded; the result is the table `load()` builds, column for column.
        let rows = 70_000usize;
        let words = ["alpha", "beta", "gamma"];
        let a = save(
            &t,
            "big/a.parquet",
            vec![
                (
                    "n",
                    Arc::new(Int32Array::from_iter_values(0..rows as i32)) as ArrayRef,
                ),
                (
                    "s",
                    Arc::new(StringArray::from_iter_values(
                        (0..rows).map(|i| words[i % 3]),
                    )),
                ),
                (
                    "x",
                    Arc::new(Float64Array::from_iter_values((0..rows).map(|i| i as f64))),
                ),
            ],
        )?;
        let b = save(
            &t,
            "big/b.parquet",
            vec![
                (
                    "n",
                    Arc::new(Int64Array::from_iter_values(0..rows as i64)) as ArrayRef,
                ),
                (
                    "s",
                    Arc::new(
                        (0..rows)
                            .map(|i| words[(i + 1) % 3])
                            .collect::<DictionaryArray<Int32Type>>(),
                    ),
                ),
                (
                    "extra",
                    Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                ),
            ],
        )?;
        let c = t.collections().create(&[a, b], "big").save()?.record;
        let concat = t.collections().concat(&c).join(Join::Outer);
        let loaded = concat.load()?;
        let path = t.scratch().join("big.parquet");
        let (n, _) = concat.export(&path, lamella_core::Existing::Refuse)?;
        assert_eq!(n, 2 * rows as u64);
        let back = lamella_core::read_table(&path)?;
        assert_eq!(back.schema().fields(), loaded.schema().fields());
        for i in 0..loaded.num_columns() {
            assert_eq!(
                back.column(i).as_ref(),
                loaded.column(i).as_ref(),
                "column {i}"
            );
        }
        // The members' row groups are kept: one per member.
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(std::fs::File::open(&path)?)?;
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, [rows as i64, rows as i64]);
        Ok(())
    }
);
