use lamella_core::{Dtype, Error, Feature};
use lamella_tests::db_test;

db_test!(create_with_dtype_unit_synonyms, |t| {
    let f = t
        .features()
        .create(
            Feature::new("sepal_length", "number".parse()?)
                .unit("m")
                .synonyms(["sepal length", "SL"]),
        )
        .save()?;
    assert_eq!(f.dtype, "num", "dtype stored in canonical spelling");
    assert_eq!(f.unit.as_deref(), Some("m"));
    assert_eq!(f.synonyms.as_deref(), Some("sepal length|SL"));
    assert_eq!(f.uid.len(), 12);
    let hits = t.features().search("sl")?;
    assert_eq!(hits[0].record.name, "sepal_length");
    assert_eq!(hits[0].kind, lamella_core::MatchKind::Synonym);
    let again = t
        .features()
        .create(Feature::new("sepal_length", "float".parse()?))
        .save()?;
    assert!(again.existed);
    assert_eq!(again.dtype, "num");
    Ok(())
});

db_test!(bad_dtypes_are_clear_errors, |t| {
    for (dtype, needle) in [
        ("flaot", "did you mean 'float'"),
        ("cat[", "unbalanced"),
        ("list[]", "empty"),
        ("strings", "unknown dtype"),
    ] {
        let e = t.features().parse_dtype(dtype).unwrap_err();
        assert!(e.to_string().contains(needle), "{dtype}: {e}");
        assert!(e.to_string().contains(dtype), "{e}");
    }
    assert_eq!(t.features().query().count()?, 0);
    let mut f = t
        .features()
        .create(Feature::new("species", "cat".parse()?))
        .save()?
        .record;
    assert!("cat[ULabel|".parse::<lamella_core::Dtype>().is_err());
    assert_eq!(t.features().get(&f.uid)?.dtype, "cat");
    f.dtype = "cat[ULabel]".parse()?;
    t.features().update(&mut f)?;
    assert_eq!(t.features().get(&f.uid)?.dtype, "cat[ULabel]");
    Ok(())
});

db_test!(lookup_and_df, |t| {
    t.features().save_all([
        Feature::new("study_name", "cat".parse()?),
        Feature::new("iris_species_name", "cat".parse()?),
    ])?;
    let lookup = t.features().lookup()?;
    assert_eq!(lookup.get("iris_species_name").unwrap().dtype, "cat");
    let df = t.features().query().order_by("name").df()?;
    assert_eq!(df.num_rows(), 2);
    let cols: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for c in [
        "id",
        "uid",
        "name",
        "dtype",
        "unit",
        "description",
        "synonyms",
        "created_at",
    ] {
        assert!(cols.contains(&c.to_string()), "{cols:?}");
    }
    Ok(())
});

db_test!(categorical_dtypes_are_checked_when_saved, |t| {
    let e = t
        .features()
        .create(Feature::new("species", "cat[ULabel[is_species]]".parse()?))
        .save()
        .unwrap_err();
    assert!(
        matches!(&e, Error::MissingBranch { branch, .. } if branch == "is_species"),
        "{e:?}"
    );
    let e = t
        .features()
        .create(Feature::new("cell_type", "cat[bionty.CellType]".parse()?))
        .save()
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_value", "{e}");
    // A batch with one bad feature saves none.
    let e = t.features().save_all([
        Feature::new("fine", "int".parse()?),
        Feature::new("bad", "cat[ULabel[nope]]".parse()?),
    ]);
    assert!(e.is_err());
    assert_eq!(t.features().query().count()?, 0);
    let branches = t
        .features()
        .create_branches(&"cat[ULabel[is_species]|ULabel[is_site]]".parse()?)?;
    assert_eq!(branches.created, 2);
    t.features()
        .create(Feature::new("species", "cat[ULabel[is_species]]".parse()?))
        .save()?;
    let mut f = t.features().get_by_name("species")?;
    f.dtype = "cat[ULabel[missing]]".parse()?;
    assert!(matches!(
        t.features().update(&mut f),
        Err(Error::MissingBranch { .. })
    ));
    Ok(())
});

db_test!(feature_keys_by_name_agree_whether_probed_or_scanned, |t| {
    // 2,500 features: a panel of 2,400 of them (plus 100 unknown names) is most of the
    // registry and read by one scan; after 5,000 more, the same panel is probed by name.
    let save = |names: &[String]| {
        t.features()
            .save_all(names.iter().map(|n| Feature::new(n, Dtype::Num)))
    };
    let genes: Vec<String> = (0..2_500).map(|i| format!("GENE{i:05}")).collect();
    save(&genes)?;
    let mut panel: Vec<String> = genes[50..2_450].to_vec();
    panel.extend((0..100).map(|i| format!("UNKNOWN{i}")));
    // Not in the registry's order: answers follow the names.
    panel.reverse();
    let db = t.raw_db()?;
    let keys = |names: &[String]| -> anyhow::Result<Vec<String>> {
        let keys = db.with_conn(|c| lamella_schema::feature_keys(c, names))?;
        assert_eq!(keys.len(), names.len(), "one answer per name");
        let mut found = Vec::new();
        for (name, key) in names.iter().zip(keys) {
            // In the names' order: each answer is the name's own feature, or none.
            if let Some(k) = key {
                assert_eq!(&k.name, name);
                assert_eq!(k.dtype, "num");
                assert!(!k.uid.is_empty());
                found.push(k.name);
            } else {
                assert!(name.starts_with("UNKNOWN"), "{name} has a feature");
            }
        }
        found.sort();
        Ok(found)
    };
    let want: Vec<String> = genes[50..2_450].to_vec();
    assert_eq!(keys(&panel)?, want);
    let more: Vec<String> = (0..5_000).map(|i| format!("OTHER{i:05}")).collect();
    save(&more)?;
    assert_eq!(keys(&panel)?, want);
    assert_eq!(keys(&panel[100..110])?, want[want.len() - 10..].to_vec());
    // A name given twice is answered twice.
    let twice = [genes[7].clone(), genes[7].clone()];
    assert_eq!(keys(&twice)?, twice.to_vec());
    Ok(())
});
