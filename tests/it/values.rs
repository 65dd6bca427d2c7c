//! Feature values on artifacts and collections, and queries by value (SPEC §5.2).

use lamella_core::{Artifact, Error, Feature, FeatureValue, ULabel, Value};
use lamella_tests::{TestInstance, artifact_test, db_test};

/// Features of every value type, and the labels of a `split`.
fn features(t: &TestInstance) -> anyhow::Result<()> {
    t.ulabels()
        .save_all(["train", "test", "is_tissue", "liver", "granite"].map(ULabel::new))?;
    let tissue = t.ulabels().get_by_name("is_tissue")?;
    let liver = t.ulabels().get_by_name("liver")?;
    t.ulabels().children(&tissue)?.add(&[liver])?;
    for (name, dtype) in [
        ("temperature", "float"),
        ("donors", "int"),
        ("measured_on", "date"),
        ("measured_at", "datetime"),
        ("paired", "bool"),
        ("protocol", "str"),
        ("doses", "list[float]"),
        ("split", "cat"),
        ("tissue", "cat[ULabel[is_tissue]]"),
    ] {
        t.features()
            .create(Feature::new(name, dtype.parse()?))
            .save()?;
    }
    t.features()
        .create(Feature::new("ph", "float".parse()?).nullable(false))
        .save()?;
    Ok(())
}

fn artifact(t: &TestInstance, name: &str) -> anyhow::Result<Artifact> {
    let p = t.file(name, name.as_bytes());
    Ok(t.artifacts().from_path(&p).key(name).save()?.record)
}

fn keys(found: &[Artifact]) -> Vec<String> {
    found.iter().filter_map(|a| a.key.clone()).collect()
}

artifact_test!(typed_values_are_recorded_read_and_found, |t| {
    features(&t)?;
    let a = artifact(&t, "a.txt")?;
    let b = artifact(&t, "b.txt")?;
    let added = t.artifacts().features(&a)?.add_values([
        ("temperature", Value::from(37)),
        ("donors", 12.into()),
        ("measured_on", "2025-02-01".into()),
        ("measured_at", "2025-02-01T10:30:00+02:00".into()),
        ("paired", true.into()),
        ("protocol", "10x v3".into()),
        ("doses", vec![0.5, 1.0].into()),
        ("split", "train".into()),
    ])?;
    assert_eq!((added.values, added.labels), (8, 1));
    assert_eq!(added.external.len(), 1);
    assert_eq!(added.external[0].n, 8);
    t.artifacts().features(&b)?.add_values([
        ("temperature", Value::from(21.5)),
        ("donors", 3.into()),
        ("measured_on", "2024-12-01".into()),
        ("split", vec!["test", "train"].into()),
    ])?;
    // Read back, typed.
    let values = t.artifacts().features(&a)?.get_values()?;
    assert_eq!(values["temperature"], FeatureValue::Float(37.0));
    assert_eq!(values["donors"], FeatureValue::Int(12));
    assert_eq!(values["measured_on"].to_string(), "2025-02-01");
    assert_eq!(values["measured_at"].to_string(), "2025-02-01T08:30:00Z");
    assert_eq!(values["paired"], FeatureValue::Bool(true));
    assert_eq!(values["protocol"], FeatureValue::Str("10x v3".into()));
    assert_eq!(
        values["doses"],
        FeatureValue::List(vec![FeatureValue::Float(0.5), FeatureValue::Float(1.0)])
    );
    assert_eq!(values["split"], FeatureValue::Str("train".into()));
    let json = serde_json::to_value(&values)?;
    assert_eq!(json["measured_on"], "2025-02-01");
    assert_eq!(json["doses"], serde_json::json!([0.5, 1.0]));
    // A value is stored once however many artifacts carry it.
    t.artifacts()
        .features(&b)?
        .add_values([("protocol", "10x v3")])?;
    let protocol = t.features().get_by_name("protocol")?;
    let stored = t
        .raw_db()?
        .with_conn(|c| lamella_schema::values::stored_values(c, protocol.id.expect("saved")))?;
    assert_eq!(stored.len(), 1, "{stored:?}");
    // describe() shows each value under its feature.
    let text = t.artifacts().describe(&a)?.to_string();
    assert!(
        text.contains("    temperature (float): 37\n")
            && text.contains("    measured_on (date): 2025-02-01\n")
            && text.contains("    doses (list[float]): [0.5, 1]\n")
            && text.contains("🔗 split (1, cat[ULabel]): 'train'"),
        "{text}"
    );
    // Queries compare by type: numbers as numbers, dates as dates.
    let q = |lookups: &[(&str, Value)]| -> anyhow::Result<Vec<String>> {
        let mut q = t.artifacts().query();
        for (k, v) in lookups {
            q = q.filter(k, v.clone());
        }
        Ok(keys(&q.all()?))
    };
    assert_eq!(q(&[("temperature", 37.into())])?, ["a.txt"]);
    assert_eq!(q(&[("temperature__gt", "20".into())])?, ["a.txt", "b.txt"]);
    assert_eq!(q(&[("temperature__lt", 30.into())])?, ["b.txt"]);
    // 9 < 12 as numbers, "9" > "12" as text.
    assert_eq!(q(&[("donors__lt", 9.into())])?, ["b.txt"]);
    assert_eq!(q(&[("measured_on__gte", "2025-01-01".into())])?, ["a.txt"]);
    assert_eq!(
        q(&[("measured_at__lt", "2025-02-01T09:00:00Z".into())])?,
        ["a.txt"]
    );
    assert_eq!(q(&[("split", "test".into())])?, ["b.txt"]);
    assert_eq!(
        q(&[("split", "train".into()), ("temperature__gt", 30.into())])?,
        ["a.txt"]
    );
    assert_eq!(q(&[("donors__in", vec![3, 4].into())])?, ["b.txt"]);
    assert_eq!(q(&[("doses", 0.5.into())])?, ["a.txt"]);
    assert_eq!(q(&[("paired__isnull", true.into())])?, ["b.txt"]);
    assert_eq!(
        q(&[("protocol__startswith", "10x".into())])?,
        ["a.txt", "b.txt"]
    );
    assert_eq!(
        q(&[("split", "train".into()), ("key__startswith", "b".into())])?,
        ["b.txt"]
    );
    assert_eq!(t.artifacts().query().filter("split", "test").count()?, 1);
    // set_values replaces; remove_values unlinks.
    let fa = t.artifacts().features(&a)?;
    fa.set_values([("temperature", 38.5)])?;
    assert_eq!(fa.get_values()?["temperature"], FeatureValue::Float(38.5));
    assert_eq!(q(&[("temperature", 37.into())])?, Vec::<String>::new());
    fa.add_values([("temperature", 39)])?;
    assert_eq!(
        fa.get_values()?["temperature"],
        FeatureValue::List(vec![FeatureValue::Float(38.5), FeatureValue::Float(39.0)])
    );
    assert_eq!(fa.remove_values("temperature", Some(39.into()))?, 1);
    assert_eq!(fa.remove_values("split", None)?, 1);
    assert!(!fa.get_values()?.contains_key("split"));
    let e = fa.remove_values("split", None).unwrap_err();
    assert!(
        e.to_string().contains("has no value for feature 'split'"),
        "{e}"
    );
    // A feature with nothing left leaves the external set.
    let slots = fa.slots()?;
    assert!(
        !slots["external"]
            .features
            .iter()
            .any(|d| d.feature.name == "split")
    );
    Ok(())
});

db_test!(bad_values_are_refused_naming_feature_value_and_dtype, |t| {
    features(&t)?;
    let a = artifact(&t, "a.txt")?;
    let fa = t.artifacts().features(&a)?;
    let check = |r: lamella_core::Result<lamella_core::ValuesAdded>, needles: &[&str]| {
        let e = r.unwrap_err();
        assert!(matches!(e, Error::FeatureValue { .. }), "{e:?}");
        let s = e.to_string();
        for n in needles {
            assert!(s.contains(n), "{s} lacks {n}");
        }
    };
    check(
        fa.add_values([("temperature", "warm")]),
        &["temperature", "'warm'", "float"],
    );
    check(
        fa.add_values([("tempreature", 3)]),
        &[
            "no Feature named 'tempreature'",
            "did you mean 'temperature'",
        ],
    );
    check(fa.add_values([("donors", 2.5)]), &["donors", "2.5", "int"]);
    check(
        fa.add_values([("measured_on", "31/01/2025")]),
        &["measured_on", "'31/01/2025'", "date"],
    );
    check(fa.add_values([("ph", f64::NAN)]), &["ph", "missing values"]);
    check(
        fa.add_values([("protocol", "x".repeat(10 << 20))]),
        &["protocol", "at most 1024 bytes"],
    );
    check(
        fa.add_values([("split", "tset")]),
        &["split", "'tset'", "did you mean 'test'"],
    );
    check(
        fa.add_values([("temperature", vec![1, 2])]),
        &["takes one value", "list[float]"],
    );
    // The branch rule holds for categorical features.
    let e = fa.add_values([("tissue", "granite")]).unwrap_err();
    assert!(e.to_string().contains("'granite'"), "{e}");
    // Nothing was written by any of them.
    assert!(fa.get_values()?.is_empty());
    assert!(fa.slots()?.is_empty());
    // NaN for a nullable feature is recorded as no value, and said.
    let added = fa.add_values([("temperature", f64::NAN)])?;
    assert!(
        added.notes.iter().any(|n| n.contains("missing value")),
        "{added:?}"
    );
    assert!(fa.get_values()?.is_empty());
    // Filters: unknown features and values of another type are errors, never empty answers.
    let e = t
        .artifacts()
        .query()
        .filter("tempreature__gt", 3)
        .all()
        .unwrap_err();
    assert!(e.to_string().contains("did you mean 'temperature'"), "{e}");
    let e = t
        .artifacts()
        .query()
        .filter("measured_on__gt", "soon")
        .all()
        .unwrap_err();
    assert!(matches!(e, Error::FeatureValue { .. }), "{e:?}");
    let e = t
        .artifacts()
        .query()
        .filter("temperature__startswith", "3")
        .all()
        .unwrap_err();
    assert!(e.to_string().contains("compare it with"), "{e}");
    let e = t
        .artifacts()
        .query()
        .filter("split", "tset")
        .all()
        .unwrap_err();
    assert!(e.to_string().contains("did you mean 'test'"), "{e}");
    // A typo of a field still names the field.
    let e = t.artifacts().query().filter("kye", "a").all().unwrap_err();
    assert!(e.to_string().contains("did you mean 'key'"), "{e}");
    Ok(())
});

db_test!(
    collections_carry_values_and_answer_the_split_question,
    |t| {
        features(&t)?;
        let a = artifact(&t, "a.txt")?;
        let b = artifact(&t, "b.txt")?;
        let both = t
            .collections()
            .create(&[a.clone(), b.clone()], "both")
            .save()?
            .record;
        let one = t.collections().create(&[a], "one").save()?.record;
        t.collections()
            .features(&both)?
            .add_values([("split", "train"), ("split", "test")])?;
        t.collections()
            .features(&one)?
            .add_values([("split", Value::from("train")), ("donors", 4.into())])?;
        // "Which collections have a test & train split?"
        let found = t
            .collections()
            .query()
            .filter("split", "test")
            .filter("split", "train")
            .all()?;
        assert_eq!(
            found.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["both"]
        );
        let found = t.collections().query().filter("donors__gte", 4).all()?;
        assert_eq!(found.len(), 1);
        let d = t.collections().describe(&one)?.to_string();
        assert!(d.contains("    donors (int): 4"), "{d}");
        assert_eq!(
            t.collections().features(&both)?.get_values()?["split"],
            FeatureValue::List(vec![
                FeatureValue::Str("train".into()),
                FeatureValue::Str("test".into())
            ])
        );
        Ok(())
    }
);

db_test!(values_for_many_artifacts_are_written_in_bulk, |t| {
    features(&t)?;
    let arts: Vec<Artifact> = (0..50)
        .map(|i| artifact(&t, &format!("f{i}.txt")))
        .collect::<anyhow::Result<_>>()?;
    let items: Vec<(&Artifact, lamella_core::ValueMap)> = arts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            (
                a,
                vec![
                    ("donors".to_string(), Value::from(i as i64)),
                    (
                        "split".to_string(),
                        Value::from(if i % 2 == 0 { "train" } else { "test" }),
                    ),
                ],
            )
        })
        .collect();
    let added = t.artifacts().add_values_many(&items)?;
    assert_eq!((added.values, added.labels), (50, 50));
    // Every artifact ends up with the same external set: one record.
    assert_eq!(added.external.len(), 1);
    assert_eq!(t.artifacts().query().filter("donors__gte", 40).count()?, 10);
    assert_eq!(t.artifacts().query().filter("split", "test").count()?, 25);
    Ok(())
});
