//! Features from a table's columns (SPEC §5).

use std::collections::HashMap;
use std::sync::Arc;

use lamella_core::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float64Array, Int64Array, ListArray,
    StringArray, TimestampMicrosecondArray,
};
use lamella_core::arrow::datatypes::{DataType, Field, Int32Type, Schema};
use lamella_core::{Feature, RecordBatch};
use lamella_tests::db_test;

fn table() -> RecordBatch {
    let n = 6;
    let species = [
        "setosa",
        "setosa",
        "versicolor",
        "versicolor",
        "virginica",
        "virginica",
    ];
    let cols: Vec<(Field, ArrayRef)> = vec![
        (
            Field::new("sepal_length", DataType::Float64, false)
                .with_metadata(HashMap::from([("unit".to_string(), "cm".to_string())])),
            Arc::new(Float64Array::from(vec![5.1, 4.9, 7.0, 6.4, 6.3, 5.8])),
        ),
        (
            Field::new("species", DataType::Utf8, false),
            Arc::new(StringArray::from(species.to_vec())),
        ),
        (
            Field::new("sample_id", DataType::Utf8, false),
            Arc::new(StringArray::from(
                (0..n).map(|i| format!("s{i}")).collect::<Vec<_>>(),
            )),
        ),
        (
            Field::new("count", DataType::Int64, true),
            Arc::new(Int64Array::from(vec![
                Some(1),
                None,
                Some(3),
                Some(4),
                Some(5),
                Some(6),
            ])),
        ),
        (
            Field::new("ok", DataType::Boolean, false),
            Arc::new(BooleanArray::from(vec![
                true, false, true, true, false, true,
            ])),
        ),
        (
            Field::new("day", DataType::Date32, false),
            Arc::new(Date32Array::from(vec![19_000; n])),
        ),
        (
            Field::new(
                "at",
                DataType::Timestamp(lamella_core::arrow::datatypes::TimeUnit::Microsecond, None),
                false,
            ),
            Arc::new(TimestampMicrosecondArray::from(vec![
                1_700_000_000_000_000;
                n
            ])),
        ),
        (
            Field::new(
                "site",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                false,
            ),
            Arc::new(
                ["a", "b", "c", "d", "e", "f"]
                    .into_iter()
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ),
        (
            Field::new(
                "tags",
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                true,
            ),
            Arc::new(ListArray::from_iter_primitive::<
                lamella_core::arrow::datatypes::Int64Type,
                _,
                _,
            >((0..n).map(|i| Some(vec![Some(i as i64)])))),
        ),
    ];
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = cols.into_iter().unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

db_test!(features_from_a_table_infer_dtypes_and_reuse_existing, |t| {
    let inferred = t.features().infer(&table())?;
    let dtypes: Vec<(String, String)> = inferred
        .iter()
        .map(|f| (f.name.clone(), f.dtype.to_string()))
        .collect();
    let want = [
        ("sepal_length", "float"),
        ("species", "cat"),
        ("sample_id", "str"),
        ("count", "int"),
        ("ok", "bool"),
        ("day", "date"),
        ("at", "datetime"),
        ("site", "cat"),
        ("tags", "list[int]"),
    ];
    assert_eq!(
        dtypes,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );
    assert_eq!(inferred[0].unit.as_deref(), Some("cm"));
    assert_eq!(t.features().query().count()?, 0, "infer saves nothing");
    // An existing feature is reused; a dtype that does not accept the column is named, a
    // stricter one that does (a category branch for text) is not.
    t.features()
        .create(Feature::new("species", "int".parse()?))
        .save()?;
    t.ulabels()
        .create(lamella_core::ULabel::new("is_site"))
        .save()?;
    t.features()
        .create(Feature::new("site", "cat[ULabel[is_site]]".parse()?))
        .save()?;
    let saved = t.features().from_table(&table())?;
    assert_eq!(saved.records.len(), 9);
    assert_eq!(saved.created, 7);
    assert_eq!(saved.existing, ["site", "species"]);
    assert_eq!(
        saved.notes,
        [
            "feature 'species' exists with dtype 'int', not 'cat': kept as it is; update the \
          feature's dtype if 'cat' is right"
        ],
    );
    assert_eq!(t.features().query().count()?, 9);
    Ok(())
});

db_test!(columns_without_a_feature_dtype_are_named, |t| {
    use lamella_core::arrow::array::BinaryArray;
    let schema = Schema::new(vec![Field::new("blob", DataType::Binary, false)]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![Arc::new(BinaryArray::from(vec![b"x".as_ref()])) as ArrayRef],
    )?;
    let e = t.features().infer(&batch).unwrap_err();
    assert!(e.to_string().contains("column 'blob'"), "{e}");
    Ok(())
});

db_test!(feature_sets_are_deduplicated_by_their_members, |t| {
    let saved = t.features().from_table(&table())?;
    let (a, b) = (saved.records[0].clone(), saved.records[1].clone());
    let s1 = t.feature_sets().from_features(&[a.clone(), b.clone()])?;
    assert!(!s1.existed);
    assert_eq!(s1.n, 2);
    let s2 = t
        .feature_sets()
        .from_features(&[b.clone(), a.clone(), a.clone()])?;
    assert!(s2.existed, "same members, another order: the same set");
    assert_eq!(s2.uid, s1.uid);
    let s3 = t.feature_sets().from_features(std::slice::from_ref(&a))?;
    assert_ne!(s3.uid, s1.uid);
    assert_eq!(
        s3.dtype.as_ref().map(ToString::to_string).as_deref(),
        Some("float")
    );
    assert!(s1.dtype.is_none(), "mixed dtypes have no common dtype");
    let members: Vec<String> = t
        .feature_sets()
        .members(&s1)?
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(members, ["sepal_length", "species"]);
    assert!(t.feature_sets().from_features(&[]).is_err());
    Ok(())
});

lamella_tests::artifact_test!(a_table_artifact_is_annotated_with_its_columns, |t| {
    let a = t
        .artifacts()
        .from_table(&table().project(&[0, 1, 3])?)
        .key("iris/cols.parquet")
        .save()?;
    // Columns need registered features; the error names every column without one.
    let e = t.artifacts().annotate_columns(&a).unwrap_err().to_string();
    assert!(
        e.contains("3 columns") && e.contains("'sepal_length'") && e.contains("'count'"),
        "{e}"
    );
    t.features().from_table(&table().project(&[0, 1, 3])?)?;
    let set = t.artifacts().annotate_columns(&a)?;
    assert_eq!(set.n, 3);
    let features = t.artifacts().features(&a)?.slots()?;
    let columns = &features["columns"];
    let names: Vec<(&str, String)> = columns
        .features
        .iter()
        .map(|d| (d.feature.name.as_str(), d.feature.dtype.to_string()))
        .collect();
    assert_eq!(
        names,
        [
            ("sepal_length", "float".to_string()),
            ("species", "cat".to_string()),
            ("count", "int".to_string())
        ]
    );
    // Annotating again (or another table with the same columns) reuses the same set.
    let again = t.artifacts().annotate_columns(&a)?;
    assert!(again.existed);
    assert_eq!(again.uid, set.uid);
    let text = t.artifacts().describe(&a)?.to_string();
    assert!(
        text.contains("Features:\n  columns: FeatureSet(uid='")
            && text.contains("    sepal_length (float)\n    species (cat)\n    count (int)"),
        "{text}"
    );
    // An artifact whose features are in a set cannot take them away: the set is in use.
    let sepal = t.features().get_by_name("sepal_length")?;
    assert!(t.features().delete(&sepal).is_err());
    assert!(
        t.artifacts()
            .add_feature_set(&a, "bad slot!", &set)
            .is_err()
    );
    Ok(())
});

lamella_tests::artifact_test!(
    a_long_list_of_names_resolves_once_and_is_forgotten_on_rename,
    |t| {
        // 1,200 columns: a list this long is looked up whole among the lists resolved before.
        let names: Vec<String> = (0..1_200).map(|i| format!("g{i:04}")).collect();
        let csv = |file: &str, order: &[String], value: u32| {
            let header = order.join(",");
            let row = vec![value.to_string(); order.len()].join(",");
            t.file(file, format!("{header}\n{row}\n").as_bytes())
        };
        t.features().save_all(
            names
                .iter()
                .map(|n| Feature::new(n, lamella_core::Dtype::Int)),
        )?;
        let save = |path: std::path::PathBuf| t.artifacts().from_path(&path).save();
        let a = save(csv("a.csv", &names, 1))?;
        let first = t.artifacts().annotate_columns(&a)?;
        assert!(!first.existed);
        assert_eq!(first.n, 1_200);
        // The same names in another order, in another file: the same set, found whole.
        let mut reversed = names.clone();
        reversed.reverse();
        let b = save(csv("b.csv", &reversed, 2))?;
        let again = t.artifacts().annotate_columns(&b)?;
        assert!(again.existed);
        assert_eq!(again.uid, first.uid);
        assert_eq!(
            t.artifacts().features(&b)?.slots()?["columns"]
                .features
                .len(),
            1_200
        );
        // A repeated name is still refused.
        let mut twice = names.clone();
        twice[5] = twice[6].clone();
        let d = save(csv("d.csv", &twice, 4))?;
        let e = t.artifacts().annotate_columns(&d).unwrap_err().to_string();
        assert!(e.contains("more than one column named 'g0006'"), "{e}");
        // A member renamed: the old list no longer resolves (its name has no feature) …
        let mut g = t.features().get_by_name("g0007")?;
        g.name = "g0007_renamed".into();
        t.features().update(&mut g)?;
        let c = save(csv("c.csv", &names, 3))?;
        let e = t.artifacts().annotate_columns(&c).unwrap_err().to_string();
        assert!(e.contains("'g0007'"), "{e}");
        // … and the new names are the same features, so the same set.
        let mut renamed = names.clone();
        renamed[7] = "g0007_renamed".into();
        let c2 = save(csv("c2.csv", &renamed, 5))?;
        let same = t.artifacts().annotate_columns(&c2)?;
        assert!(same.existed);
        assert_eq!(same.uid, first.uid);
        // A set that is no longer used goes, and what was remembered with it: the names make a
        // new set again.
        let other = t
            .feature_sets()
            .from_features(&[t.features().get_by_name("g0001")?])?;
        for x in [&a, &b, &c2] {
            t.artifacts().add_feature_set(x, "columns", &other)?;
        }
        let gone = t
            .query::<lamella_core::FeatureSet>()
            .filter("uid", first.uid.as_str())
            .count()?;
        assert_eq!(gone, 0, "the unused set is deleted");
        let e2 = save(csv("e.csv", &renamed, 6))?;
        let fresh = t.artifacts().annotate_columns(&e2)?;
        assert!(!fresh.existed);
        assert_eq!(fresh.hash, first.hash, "the same members hash the same");
        Ok(())
    }
);
