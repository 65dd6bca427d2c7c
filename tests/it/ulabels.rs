use lamella_core::{Error, ULabel};
use lamella_tests::db_test;

db_test!(create_returns_existing_for_same_name, |t| {
    let a = t.ulabels().create(ULabel::new("project1")).save()?;
    assert!(!a.existed);
    assert!(a.id.is_some());
    assert_eq!(a.created_by_id, t.user().id.unwrap());
    let b = t
        .ulabels()
        .create(ULabel::new("project1").description("other"))
        .save()?;
    assert!(b.existed);
    assert_eq!(a.uid, b.uid);
    assert_eq!(
        b.description, None,
        "the stored record is returned unchanged"
    );
    assert_eq!(t.ulabels().query().count()?, 1);
    Ok(())
});

db_test!(similar_names_warn_but_create, |t| {
    t.ulabels().create(ULabel::new("project1")).save()?;
    assert_eq!(
        t.ulabels().similar("project 1")?,
        vec!["project1".to_string()]
    );
    assert!(
        t.ulabels().similar("project1")?.is_empty(),
        "an exact name is not 'similar'"
    );
    assert_eq!(t.ulabels().query().count()?, 1, "similar() saves nothing");
    let s = t.ulabels().create(ULabel::new("project 1")).save()?;
    assert!(!s.existed);
    assert_eq!(s.similar, vec!["project1".to_string()]);
    let s = t.ulabels().create(ULabel::new("Project-1")).save()?;
    assert_eq!(s.similar.len(), 2, "{:?}", s.similar);
    // Numbered series are not near-duplicates.
    let s = t.ulabels().create(ULabel::new("project2")).save()?;
    assert!(s.similar.is_empty(), "{:?}", s.similar);
    Ok(())
});

db_test!(bulk_save_dedupes_and_reports, |t| {
    t.ulabels().create(ULabel::new("setosa")).save()?;
    let out = t.ulabels().save_all(
        [
            "setosa",
            "versicolor",
            "virginica",
            "versicolor",
            "virginika",
        ]
        .map(ULabel::new),
    )?;
    assert_eq!(out.created, 3);
    assert_eq!(out.existing, vec!["setosa".to_string()]);
    assert_eq!(out.records.len(), 5);
    assert_eq!(out.records[1].uid, out.records[3].uid);
    assert!(out.records.iter().all(|r| r.id.is_some()));
    let similar: Vec<&str> = out.similar.iter().map(|(n, _)| n.as_str()).collect();
    assert!(similar.contains(&"virginika"), "{similar:?}");
    assert_eq!(t.ulabels().query().count()?, 4);
    Ok(())
});

db_test!(bulk_save_of_ten_thousand, |t| {
    let labels: Vec<ULabel> = (0..10_000)
        .map(|i| ULabel::new(format!("label_{i:05}")))
        .collect();
    let out = t.ulabels().save_all(labels)?;
    assert_eq!(out.created, 10_000);
    assert!(out.similar.is_empty());
    assert_eq!(
        t.ulabels().filter("name__startswith", "label_01").count()?,
        1000
    );
    Ok(())
});

db_test!(invalid_names_are_refused, |t| {
    for bad in ["", "   ", " padded"] {
        let e = t.ulabels().create(ULabel::new(bad)).save().unwrap_err();
        assert!(matches!(e, Error::InvalidName { .. }), "{e}");
    }
    // A failing bulk save writes nothing.
    let e = t
        .ulabels()
        .save_all(["ok1", "ok2", ""].map(ULabel::new))
        .unwrap_err();
    assert!(e.to_string().contains("non-empty name"), "{e}");
    assert_eq!(t.ulabels().query().count()?, 0);
    Ok(())
});

db_test!(get_by_uid_and_prefix, |t| {
    let a = t.ulabels().create(ULabel::new("alpha")).save()?;
    assert_eq!(t.ulabels().get(&a.uid)?.name, "alpha");
    assert_eq!(t.ulabels().get(&a.uid[..5])?.name, "alpha");
    assert_eq!(t.ulabels().resolve("alpha")?.uid, a.uid);
    let e = t.ulabels().get("zzzzzzzz").unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = t.ulabels().get("not a uid").unwrap_err();
    assert!(e.to_string().contains("not a uid"), "{e}");
    let e = t.ulabels().resolve("alpah").unwrap_err();
    assert!(e.to_string().contains("did you mean 'alpha'"), "{e}");
    Ok(())
});

db_test!(many_names_and_uids_resolve_in_their_order, |t| {
    let saved = t
        .ulabels()
        .save_all(["alpha", "beta", "gamma"].map(ULabel::new))?;
    let [a, b, g] = [0, 1, 2].map(|i| saved.records[i].clone());
    let asked = [
        "gamma".to_string(),
        a.uid.clone(),
        "beta".into(),
        b.uid[..6].to_string(),
        "gamma".into(),
    ];
    let got: Vec<String> = t
        .ulabels()
        .resolve_all(&asked)?
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(got, ["gamma", "alpha", "beta", "beta", "gamma"]);
    let e = t.ulabels().resolve_all(&["alpha", "gama"]).unwrap_err();
    assert!(e.to_string().contains("did you mean 'gamma'"), "{e}");
    assert!(t.ulabels().resolve_all::<&str>(&[])?.is_empty());
    assert_eq!(g.name, "gamma");
    Ok(())
});

db_test!(update_renames_and_guards_uniqueness, |t| {
    let mut l = t.ulabels().create(ULabel::new("project1")).save()?.record;
    t.ulabels().create(ULabel::new("taken")).save()?;
    let before = l.updated_at;
    l.name = "project1a".into();
    t.ulabels().update(&mut l)?;
    assert!(l.updated_at >= before);
    assert_eq!(t.ulabels().get(&l.uid)?.name, "project1a");
    assert!(t.ulabels().filter("name", "project1").first()?.is_none());
    l.name = "taken".into();
    let e = t.ulabels().update(&mut l).unwrap_err();
    assert!(e.to_string().contains("is taken by another ULabel"), "{e}");
    assert_eq!(t.ulabels().get(&l.uid)?.name, "project1a");
    Ok(())
});

db_test!(delete_and_refuse_linked, |t| {
    let l = t.ulabels().create(ULabel::new("gone")).save()?;
    t.ulabels().delete(&l)?;
    assert!(t.ulabels().filter("name", "gone").one_or_none()?.is_none());
    let e = t.ulabels().delete(&l).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");

    // A label linked to an artifact cannot be deleted.
    let linked = t.ulabels().create(ULabel::new("linked")).save()?;
    lamella_tests::link_label_to_new_artifact(&t, &linked)?;
    let e = t.ulabels().delete(&linked).unwrap_err();
    assert!(matches!(e, Error::Linked { .. }), "{e}");
    assert!(e.to_string().contains("1 artifact"), "{e}");
    assert!(t.ulabels().get_by_name("linked").is_ok());
    Ok(())
});

db_test!(search_ranks_and_lookup_keys, |t| {
    t.ulabels()
        .save_all(["setosa", "Setosa var", "iris setosa", "versicolor"].map(ULabel::new))?;
    let hits = t.ulabels().search("setosa")?;
    let names: Vec<&str> = hits.iter().map(|h| h.record.name.as_str()).collect();
    assert_eq!(names, vec!["setosa", "Setosa var", "iris setosa"]);
    let hits = t.ulabels().search("versicolr")?;
    assert_eq!(hits[0].record.name, "versicolor");
    let lookup = t.ulabels().lookup()?;
    assert_eq!(lookup.get("iris_setosa").unwrap().name, "iris setosa");
    assert_eq!(lookup.get("setosa_var").unwrap().name, "Setosa var");
    Ok(())
});

db_test!(name_checks_follow_renames_and_deletes, |t| {
    // The near-duplicate check keeps a cache of names in the process: it must see records
    // created, renamed and deleted since it was filled, also by another connection.
    let mut a = t.ulabels().create(ULabel::new("alpha-one")).save()?.record;
    assert_eq!(
        t.ulabels().similar("alpha one")?,
        vec!["alpha-one".to_string()]
    );
    a.name = "beta-two".into();
    t.ulabels().update(&mut a)?;
    assert!(t.ulabels().similar("alpha one")?.is_empty(), "renamed away");
    assert_eq!(
        t.ulabels().similar("beta two")?,
        vec!["beta-two".to_string()]
    );
    t.ulabels().delete(&a)?;
    assert!(t.ulabels().similar("beta two")?.is_empty(), "deleted");
    // another process (here: another Instance on the same database) adds a name
    let other = lamella_core::Instance::connect(t.root())?;
    other.ulabels().create(ULabel::new("gamma-three")).save()?;
    assert_eq!(
        t.ulabels().similar("gamma three")?,
        vec!["gamma-three".to_string()]
    );
    Ok(())
});

db_test!(control_characters_are_refused_on_every_backend, |t| {
    for bad in ["nul\u{0}byte", "esc\u{1b}[31m", "line\nbreak"] {
        let e = t.ulabels().create(ULabel::new(bad)).save().unwrap_err();
        assert!(matches!(e, Error::InvalidName { .. }), "{bad:?}: {e}");
        assert!(e.to_string().contains("control character"), "{e}");
        assert!(!e.to_string().contains('\u{0}') && !e.to_string().contains('\u{1b}'));
    }
    let e = t
        .ulabels()
        .create(ULabel::new("fine").description("a\u{0}b"))
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("control character"), "{e}");
    // a multi-line description is fine
    t.ulabels()
        .create(ULabel::new("fine").description("line 1\nline 2"))
        .save()?;
    assert_eq!(t.ulabels().query().count()?, 1);
    Ok(())
});

db_test!(
    the_name_index_follows_renames_deletes_and_old_instances,
    |t| {
        let reg = t.ulabels();
        reg.save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?;
        assert_eq!(reg.similar("setosaa")?, ["setosa"]);
        // A rename files the label under its new name only.
        let mut l = reg.get_by_name("setosa")?;
        l.name = "iris_setosa".into();
        reg.update(&mut l)?;
        assert!(reg.similar("setosaa")?.is_empty());
        assert_eq!(reg.similar("iris_setosaa")?, ["iris_setosa"]);
        // A deleted label is gone from it.
        reg.delete(&reg.get_by_name("virginica")?)?;
        assert!(reg.similar("virginicaa")?.is_empty());
        // An instance from before the index (no rows, no state) is indexed on its first check.
        let db = t.raw_db()?;
        db.transaction(|c| lamella_schema::name_index_clear(c, 1))?;
        assert_eq!(reg.similar("versicolr")?, ["versicolor"]);
        let created = reg.create(ULabel::new("versicolour")).save()?;
        assert_eq!(created.similar, ["versicolor"]);
        // A large batch (read in one pass, not probed) finds the same names as a single create.
        let mut batch: Vec<ULabel> = (0..2_500)
            .map(|i| ULabel::new(format!("bulk_{i:05}")))
            .collect();
        batch.push(ULabel::new("versicolr"));
        // ... and, in the same pass, names already there and pairs within the batch.
        for n in ["versicolor", "sepal_length", "sepal_lenght", "bulk_00007"] {
            batch.push(ULabel::new(n));
        }
        let bulk = reg.save_all(batch)?;
        assert_eq!(bulk.created, 2_503);
        assert_eq!(bulk.existing, ["versicolor"]);
        assert_eq!(bulk.records.len(), 2_505);
        assert_eq!(bulk.records[2_504].uid, bulk.records[7].uid);
        let versicolor = reg.get_by_name("versicolor")?;
        assert_eq!(bulk.records[2_501].uid, versicolor.uid);
        let found = |name: &str| -> Vec<String> {
            bulk.similar
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
                .unwrap_or_default()
        };
        assert_eq!(found("versicolr"), ["versicolor"]);
        assert_eq!(found("sepal_length"), ["sepal_lenght"]);
        assert_eq!(found("sepal_lenght"), ["sepal_length"]);
        assert_eq!(
            bulk.similar.len(),
            3,
            "numbered names are a series, not typos: {:?}",
            bulk.similar
        );
        assert_eq!(reg.similar("versicolorr")?, ["versicolor", "versicolour"]);
        Ok(())
    }
);
