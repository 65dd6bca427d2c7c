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

// Every lookup on every field of every registry runs — on records whose nullable fields are
// null (no description, unit, reference, finished_at, …): it matches or not, never fails.
// Text lookups on other fields are refused by name.
db_test!(every_lookup_on_every_field_runs_over_nulls, |t| {
    use lamella_core::{
        Artifact, Collection, Feature, FeatureSet, Record, Run, Storage, Transform, Value,
    };
    use lamella_schema::registry::FieldType;
    t.track(Transform::new("Nulls"))?;
    let label = t.ulabels().create(ULabel::new("plain")).save()?.record;
    let feature = t
        .features()
        .create(Feature::new("plain_feature", "cat".parse()?))
        .save()?
        .record;
    t.feature_sets().from_features(&[feature])?;
    let a = t
        .artifacts()
        .from_path(t.file("a.txt", b"a"))
        .key("a.txt")
        .save()?
        .record;
    let b = t
        .artifacts()
        .from_path(t.file("b.txt", b"b"))
        .key("b.txt")
        .save()?
        .record;
    t.artifacts().labels(&a)?.add(&[label], None)?;
    t.collections().create(&[a, b], "pair").save()?;
    let ops = [
        "",
        "__iexact",
        "__in",
        "__startswith",
        "__endswith",
        "__contains",
        "__icontains",
        "__gt",
        "__gte",
        "__lt",
        "__lte",
        "__isnull",
    ];
    fn check<T: Record + serde::Serialize>(
        t: &lamella_tests::TestInstance,
        ops: &[&str],
    ) -> anyhow::Result<usize> {
        let mut ran = 0;
        assert!(
            t.query::<T>().count()? > 0,
            "{} has no records",
            T::REGISTRY.name
        );
        for field in T::REGISTRY.fields {
            for op in ops {
                let text_op = matches!(
                    *op,
                    "__iexact" | "__startswith" | "__endswith" | "__contains" | "__icontains"
                );
                let value: Value = match (*op, field.ty) {
                    ("__isnull", _) => true.into(),
                    (_, FieldType::Text) => "x".into(),
                    (_, FieldType::Bool) => true.into(),
                    (_, FieldType::Timestamp) => "2020-01-01".into(),
                    (_, FieldType::Double) => 1.5.into(),
                    _ if text_op => "x".into(),
                    _ => 1i64.into(),
                };
                let lookup = format!("{}{op}", field.name);
                let got = t
                    .query::<T>()
                    .include_trash()
                    .filter(&lookup, value)
                    .count();
                match got {
                    Ok(_) => ran += 1,
                    Err(e) if text_op && field.ty != FieldType::Text => {
                        assert!(
                            e.to_string().contains("needs a text field"),
                            "{lookup}: {e}"
                        )
                    }
                    Err(e) => panic!("{}.filter({lookup}) failed: {e}", T::REGISTRY.name),
                }
            }
        }
        Ok(ran)
    }
    let mut ran = 0;
    ran += check::<User>(&t, &ops)?;
    ran += check::<Storage>(&t, &ops)?;
    ran += check::<Transform>(&t, &ops)?;
    ran += check::<Run>(&t, &ops)?;
    ran += check::<ULabel>(&t, &ops)?;
    ran += check::<Feature>(&t, &ops)?;
    ran += check::<FeatureSet>(&t, &ops)?;
    ran += check::<Artifact>(&t, &ops)?;
    ran += check::<Collection>(&t, &ops)?;
    assert!(ran > 500, "{ran} lookups ran");
    // The reported case: one artifact without a description.
    assert_eq!(
        t.artifacts()
            .filter("description__icontains", "x")
            .count()?,
        0
    );
    Ok(())
});

db_test!(unknown_names_in_a_query_are_errors_with_suggestions, |t| {
    use lamella_core::{Artifact, Feature};
    t.ulabels().create(ULabel::new("CD14 Monocytes")).save()?;
    t.ulabels().create(ULabel::new("is_species")).save()?;
    t.features()
        .create(Feature::new("n_genes", "int".parse()?))
        .save()?;
    // Known names that nothing carries: an empty answer.
    assert_eq!(
        t.artifacts()
            .query()
            .labelled("CD14 Monocytes", None)
            .count()?,
        0
    );
    assert_eq!(
        t.artifacts()
            .filter("feature_sets__features__name", "n_genes")
            .count()?,
        0
    );
    // A typo is not "none": it is an error naming the closest names.
    let e = t
        .artifacts()
        .query()
        .labelled("CD14 Monocyte", None)
        .all()
        .unwrap_err();
    match &e {
        Error::NotFound {
            registry,
            suggestions,
            ..
        } => {
            assert_eq!(*registry, "ULabel");
            assert_eq!(suggestions, &["CD14 Monocytes"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains("did you mean 'CD14 Monocytes'"),
        "{e}"
    );
    let e = t
        .query::<Artifact>()
        .filter("feature_sets__features__name", "n_gene")
        .count()
        .unwrap_err();
    assert!(e.to_string().contains("no Feature matches 'n_gene'"), "{e}");
    assert!(e.to_string().contains("did you mean 'n_genes'"), "{e}");
    let e = t
        .artifacts()
        .query()
        .labelled("CD14 Monocytes", Some("cell_typ"))
        .first()
        .unwrap_err();
    assert!(
        e.to_string().contains("no Feature matches 'cell_typ'"),
        "{e}"
    );
    let e = t
        .ulabels()
        .filter("parents__name", "is_specis")
        .all()
        .unwrap_err();
    assert!(e.to_string().contains("did you mean 'is_species'"), "{e}");
    let e = t
        .ulabels()
        .filter("parents__name__in", vec!["is_species", "nope"])
        .count()
        .unwrap_err();
    assert!(e.to_string().contains("'nope'"), "{e}");
    // Pattern lookups are searches, not names: no check.
    assert_eq!(
        t.ulabels()
            .filter("parents__name__startswith", "zzz")
            .count()?,
        0
    );
    Ok(())
});

db_test!(pages_read_every_record_once_in_order, |t| {
    let names: Vec<String> = (0..25).map(|i| format!("label{i:02}")).collect();
    t.ulabels()
        .save_all(names.iter().map(|n| ULabel::new(n.as_str())))?;
    let collect = |q: lamella_core::Query<ULabel>, size| -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for page in q.pages(size) {
            let page = page?;
            assert!(page.len() <= size);
            out.extend(page.into_iter().map(|l| l.name));
        }
        Ok(out)
    };
    assert_eq!(collect(t.ulabels().query(), 7)?, names);
    assert_eq!(collect(t.ulabels().query().order_by("-name"), 4)?, {
        let mut r = names.clone();
        r.reverse();
        r
    });
    assert_eq!(
        collect(t.ulabels().query().offset(3).limit(10), 4)?,
        names[3..13].to_vec()
    );
    assert_eq!(
        collect(t.ulabels().filter("name__startswith", "label1"), 3)?,
        names[10..20].to_vec()
    );
    assert!(collect(t.ulabels().filter("name", "none"), 3)?.is_empty());
    Ok(())
});

db_test!(a_bulk_save_refreshes_the_planner_statistics, |t| {
    // PostgreSQL plans from statistics: a table analysed empty (or never) makes a query by
    // label probe every artifact. A bulk save of 1,000 or more new records refreshes them.
    let paths: Vec<std::path::PathBuf> = (0..1_200)
        .map(|i| t.file(&format!("bulk/f{i:04}.txt"), format!("file {i}").as_bytes()))
        .collect();
    t.artifacts().save_paths(&paths, Some("bulk"))?;
    if t.backend() != lamella_core::Backend::Postgres {
        return Ok(());
    }
    #[derive(diesel::QueryableByName)]
    struct Rows {
        #[diesel(sql_type = diesel::sql_types::Float)]
        n: f32,
    }
    use diesel::{Connection, RunQueryDsl};
    let lamella_schema::DbUrl::Postgres(url) = t.raw_db()?.url().clone() else {
        anyhow::bail!("a PostgreSQL instance without a PostgreSQL URL");
    };
    let rows: Vec<Rows> = diesel::sql_query(
        "SELECT reltuples AS n FROM pg_class WHERE relname = 'lamella_artifacts' \
         AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
    )
    .load(&mut diesel::PgConnection::establish(&url)?)?;
    assert!(
        rows[0].n >= 1_200.0,
        "statistics see {} artifacts",
        rows[0].n
    );
    Ok(())
});

db_test!(a_statement_run_again_answers_for_its_own_values, |t| {
    // A statement run more than once is prepared and then reused: each run binds its own
    // values, whatever ran before, alternating shapes and values, reads and writes.
    let names: Vec<String> = (0..6).map(|i| format!("batch {i}")).collect();
    t.ulabels()
        .save_all(names.iter().map(|n| ULabel::new(n.as_str())))?;
    for round in 0..4 {
        for (i, name) in names.iter().enumerate() {
            let q = || t.ulabels().query();
            assert_eq!(q().filter("name", name.as_str()).one()?.name, *name);
            assert_eq!(
                q().filter("name__startswith", "batch")
                    .filter("id__gt", i as i64)
                    .count()?,
                (6 - i) as i64,
                "round {round}"
            );
            let mut l = q().filter("name", name.as_str()).one()?;
            l.description = Some(format!("round {round}"));
            t.ulabels().update(&mut l)?;
            assert_eq!(
                q().filter("description", format!("round {round}"))
                    .count()?,
                (i + 1) as i64
            );
        }
    }
    Ok(())
});
