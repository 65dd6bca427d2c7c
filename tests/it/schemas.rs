//! Saved schemas: versions by rules, validation and curation with a schema, the version an
//! artifact passed, `from_df`, deletion.

use std::sync::Arc;

use lamella_core::arrow::array::{ArrayRef, Float64Array, StringArray};
use lamella_core::{Error, Feature, RecordBatch, ULabel};
use lamella_tests::{TestInstance, artifact_test, db_test};

fn setup(t: &TestInstance) -> anyhow::Result<()> {
    t.ulabels().save_all(["is_species"].map(ULabel::new))?;
    let branch = t.ulabels().get_by_name("is_species")?;
    let species = t
        .ulabels()
        .save_all(["setosa", "versicolor"].map(ULabel::new))?
        .records;
    t.ulabels().children(&branch)?.add(&species)?;
    for (name, dtype) in [
        ("sepal_length", "float"),
        ("petal_width", "float"),
        ("species", "cat[ULabel[is_species]]"),
    ] {
        t.features()
            .create(Feature::new(name, dtype.parse()?))
            .save()?;
    }
    Ok(())
}

fn table(cols: Vec<(&str, ArrayRef)>) -> anyhow::Result<RecordBatch> {
    Ok(RecordBatch::try_from_iter(cols)?)
}

fn floats(v: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

fn texts(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

db_test!(schemas_are_versioned_by_their_rules, |t| {
    setup(&t)?;
    let v1 = t
        .schemas()
        .create("iris")
        .feature("sepal_length")
        .require("species")
        .save()?;
    assert!(!v1.existed);
    assert_eq!((v1.record.version, v1.record.features.len()), (1, 2));
    assert!(v1.record.features[1].required && !v1.record.features[0].required);
    // The same rules: the same version.
    let again = t
        .schemas()
        .create("iris")
        .feature("sepal_length")
        .require("species")
        .save()?;
    assert!(again.existed);
    assert_eq!(again.record.uid, v1.record.uid);
    // Other rules: the next version, same stem; the first is no longer the latest.
    let v2 = t
        .schemas()
        .create("iris")
        .feature("sepal_length")
        .require("species")
        .ordered()
        .save()?;
    assert!(!v2.existed);
    assert_eq!(v2.record.version, 2);
    assert_eq!(&v2.record.uid[..16], &v1.record.uid[..16]);
    assert_ne!(v2.record.hash, v1.record.hash);
    assert_eq!(t.schemas().get("iris")?.uid, v2.record.uid);
    assert_eq!(t.schemas().get(&v1.record.uid)?.version, 1);
    let versions = t.schemas().versions("iris")?;
    assert_eq!(versions.len(), 2);
    assert!(!versions[0].is_latest && versions[1].is_latest);
    assert_eq!(t.schemas().list()?.len(), 1);
    // Unknown features and names are errors with close names.
    let e = t
        .schemas()
        .create("bad")
        .feature("sepal_lenght")
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("did you mean 'sepal_length'"), "{e}");
    let e = t.schemas().get("irs").unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("iris"), "{e}");
    let e = t.schemas().create("empty").save().unwrap_err();
    assert!(e.to_string().contains("no feature"), "{e}");
    Ok(())
});

db_test!(a_schema_decides_which_columns_a_table_may_have, |t| {
    setup(&t)?;
    let s = t
        .schemas()
        .create("iris")
        .feature("sepal_length")
        .require("species")
        .categorical("name", "species")
        .save()?
        .record;
    // petal_width is a registered feature, but not one of the schema's.
    let extra = table(vec![
        ("sepal_length", floats(&[5.1])),
        ("name", texts(&["setosa"])),
        ("petal_width", floats(&[0.2])),
    ])?;
    let r = t.curator(extra.clone()).schema(&s).validate()?;
    assert!(!r.valid);
    assert_eq!(r.issues.len(), 1, "{r}");
    assert_eq!(r.issues[0].column.as_deref(), Some("petal_width"));
    assert!(r.issues[0].message.contains("schema 'iris'"), "{r}");
    // Without a schema the same table is valid (every column is a feature)… once the
    // mapped column is named as the feature.
    let plain = table(vec![
        ("sepal_length", floats(&[5.1])),
        ("species", texts(&["setosa"])),
        ("petal_width", floats(&[0.2])),
    ])?;
    assert!(t.curator(plain).validate()?.valid);
    // The mapping applies: 'name' is checked against species.
    let ok = table(vec![
        ("sepal_length", floats(&[5.1])),
        ("name", texts(&["setsoa"])),
    ])?;
    let r = t.curator(ok).schema(&s).validate()?;
    assert_eq!(r.issues.len(), 1, "{r}");
    assert_eq!(r.issues[0].feature.as_deref(), Some("species"));
    // A required feature without its column.
    let missing = table(vec![("sepal_length", floats(&[5.1]))])?;
    let r = t.curator(missing).schema(&s).validate()?;
    assert!(
        r.issues
            .iter()
            .any(|i| i.feature.as_deref() == Some("species")),
        "{r}"
    );
    // Extra columns allowed by the next version.
    let lax = t
        .schemas()
        .create("iris")
        .feature("sepal_length")
        .require("species")
        .categorical("name", "species")
        .allow_extra()
        .save()?
        .record;
    assert!(t.curator(extra).schema(&lax).validate()?.valid);
    Ok(())
});

artifact_test!(a_curated_artifact_keeps_the_schema_version_it_passed, |t| {
    setup(&t)?;
    let v1 = t
        .schemas()
        .create("iris")
        .feature("sepal_length")
        .require("species")
        .save()?
        .record;
    let good = table(vec![
        ("sepal_length", floats(&[5.1, 4.9])),
        ("species", texts(&["setosa", "versicolor"])),
    ])?;
    let a = t
        .artifacts()
        .from_df(good, &v1, Some("iris.parquet"), None)?
        .record;
    let s = t.schemas().of_artifact(&a)?.expect("linked");
    assert_eq!((s.uid.as_str(), s.version), (v1.uid.as_str(), 1));
    let d = t.artifacts().describe(&a)?;
    assert_eq!(
        d.schema.as_ref().map(|s| s.uid.as_str()),
        Some(v1.uid.as_str())
    );
    assert!(d.to_string().contains("Schema: 'iris' (version 1"), "{d}");
    assert_eq!(
        t.artifacts()
            .filter("ulabels__name", "versicolor")
            .count()?,
        1,
        "labels linked as curate links them"
    );
    // A new version does not move the artifact.
    let v2 = t
        .schemas()
        .create("iris")
        .feature("sepal_length")
        .feature("petal_width")
        .require("species")
        .save()?
        .record;
    assert_eq!(v2.version, 2);
    assert_eq!(t.schemas().of_artifact(&a)?.expect("linked").uid, v1.uid);
    // An invalid table is not saved: the report comes back.
    let bad = table(vec![("sepal_length", floats(&[1.0]))])?;
    let before = t.artifacts().query().count()?;
    match t.artifacts().from_df(bad, &v2, Some("bad.parquet"), None) {
        Err(Error::Curation(report)) => assert!(!report.valid),
        other => panic!("expected a curation error, got {other:?}"),
    }
    assert_eq!(t.artifacts().query().count()?, before);
    // Kept by an artifact: the schema is not deleted.
    let e = t.schemas().delete("iris").unwrap_err();
    assert!(e.to_string().contains("1 artifact"), "{e}");
    t.artifacts()
        .delete(&a, lamella_core::Deletion::Permanent)?;
    assert_eq!(t.schemas().delete("iris")?, 2);
    assert!(t.schemas().list()?.is_empty());
    Ok(())
});
