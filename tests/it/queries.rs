use lamella_core::{Error, ULabel, User};
use lamella_tests::db_test;

db_test!(lookups_and_terminals, |t| {
    t.ulabels().save_all(
        [
            "study0",
            "study1",
            "study2",
            "Study 0: initial plant gathering",
            "is_study",
        ]
        .map(ULabel::new),
    )?;
    let q = || t.ulabels().query();
    assert_eq!(q().filter("name__startswith", "study").count()?, 3);
    assert_eq!(
        q().filter("name__startswith", "Study").count()?,
        1,
        "case-sensitive"
    );
    assert_eq!(q().filter("name__icontains", "STUDY").count()?, 5);
    assert_eq!(q().filter("name__contains", "_").count()?, 1);
    assert_eq!(q().filter("name__endswith", "1").count()?, 1);
    assert_eq!(
        q().filter("name__in", vec!["study0", "study2", "nope"])
            .count()?,
        2
    );
    assert_eq!(q().filter("name__in", "study0,study1").count()?, 2);
    assert_eq!(q().filter("description__isnull", true).count()?, 5);
    assert_eq!(
        q().filter("created_by__handle", t.user().handle.as_str())
            .count()?,
        5
    );
    assert_eq!(q().filter("created_by__handle", "someone-else").count()?, 0);
    assert_eq!(q().filter("id__gt", 0).filter("id__lte", 2).count()?, 2);
    let e = q().filter("name__startswith", "study").one().unwrap_err();
    assert!(matches!(e, Error::Ambiguous { count: 3, .. }), "{e}");
    let e = q().filter("name", "missing").one().unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("name='missing'"), "{e}");
    assert_eq!(q().filter("name", "study1").one()?.name, "study1");
    let ordered: Vec<String> = q()
        .filter("name__startswith", "study")
        .order_by("-name")
        .all()?
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(ordered, ["study2", "study1", "study0"]);
    let page = q().order_by("name").limit(2).offset(1).all()?;
    assert_eq!(page.len(), 2);
    assert_eq!(
        q().order_by("name").first()?.unwrap().name,
        "Study 0: initial plant gathering"
    );
    assert_eq!(t.query::<User>().count()?, 1);
    let like = q().filter("name__startswith", "stu%").count()?;
    assert_eq!(like, 0, "wildcards in values are literal");
    Ok(())
});

db_test!(bad_lookups_explain_themselves, |t| {
    let e = t.ulabels().filter("nmae", "x").count().unwrap_err();
    assert!(e.to_string().contains("did you mean 'name'"), "{e}");
    let e = t
        .ulabels()
        .filter("parents__nmae", "x")
        .count()
        .unwrap_err();
    assert!(e.to_string().contains("did you mean 'name'"), "{e}");
    let e = t.ulabels().filter("id__gt", "many").count().unwrap_err();
    assert!(e.to_string().contains("expects an integer"), "{e}");
    let e = t.ulabels().query().order_by("bogus").all().unwrap_err();
    assert!(e.to_string().contains("cannot order by 'bogus'"), "{e}");
    Ok(())
});

db_test!(view_lists_recent_records, |t| {
    t.ulabels()
        .save_all((0..30).map(|i| ULabel::new(format!("l{i}"))))?;
    let view = t.view(7, &[])?;
    let regs: Vec<&str> = view.iter().map(|v| v.registry).collect();
    assert_eq!(regs, ["Storage", "ULabel", "User"]);
    let ul = view.iter().find(|v| v.registry == "ULabel").unwrap();
    assert_eq!(ul.total, 30);
    assert_eq!(ul.table.num_rows(), 7);
    let only = t.view(3, &["ulabel"])?;
    assert_eq!(only.len(), 1);
    Ok(())
});

db_test!(case_insensitive_lookups_fold_unicode, |t| {
    t.ulabels()
        .save_all(["Ünïcode «label»", "ÉCOLE", "plain"].map(ULabel::new))?;
    let q = || t.ulabels().query();
    assert_eq!(q().filter("name__icontains", "ünï").count()?, 1);
    assert_eq!(q().filter("name__icontains", "ÜNÏCODE «LABEL»").count()?, 1);
    assert_eq!(q().filter("name__iexact", "école").count()?, 1);
    assert_eq!(q().filter("name__iexact", "PLAIN").count()?, 1);
    assert_eq!(
        q().filter("name__contains", "ünï").count()?,
        0,
        "contains is case-sensitive"
    );
    Ok(())
});
