use lamella_core::Feature;
use lamella_tests::db_test;

db_test!(create_with_dtype_unit_synonyms, |t| {
    let f = t.features().create(
        Feature::new("sepal_length", "number".parse()?)
            .unit("m")
            .synonyms(["sepal length", "SL"]),
    )?;
    assert_eq!(f.dtype, "num", "dtype stored in canonical spelling");
    assert_eq!(f.unit.as_deref(), Some("m"));
    assert_eq!(f.synonyms.as_deref(), Some("sepal length|SL"));
    assert_eq!(f.uid.len(), 12);
    let hits = t.features().search("sl")?;
    assert_eq!(hits[0].record.name, "sepal_length");
    assert_eq!(hits[0].kind, lamella_core::names::MatchKind::Synonym);
    let again = t
        .features()
        .create(Feature::new("sepal_length", "float".parse()?))?;
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
        .create(Feature::new("species", "cat".parse()?))?
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
