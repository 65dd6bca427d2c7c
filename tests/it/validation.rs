//! Labels through features, queries by label and feature, registry validation and the curator
//! (SPEC §5, §5.1, §8).

use std::collections::HashMap;
use std::sync::Arc;

use lamella_core::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use lamella_core::arrow::datatypes::{DataType, Field, Schema};
use lamella_core::{Artifact, Error, Feature, RecordBatch, ULabel};
use lamella_core::{Code, Stage, SuggestionKind};
use lamella_tests::db_test;

fn table(cols: Vec<(Field, ArrayRef)>) -> RecordBatch {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = cols.into_iter().unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

fn text(name: &str, values: &[&str]) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Utf8, true),
        Arc::new(StringArray::from(values.to_vec())),
    )
}

fn floats(name: &str, values: &[f64], unit: Option<&str>) -> (Field, ArrayRef) {
    let mut f = Field::new(name, DataType::Float64, true);
    if let Some(u) = unit {
        f = f.with_metadata(HashMap::from([("unit".to_string(), u.to_string())]));
    }
    (f, Arc::new(Float64Array::from(values.to_vec())))
}

fn a_file(t: &lamella_tests::TestInstance, name: &str) -> anyhow::Result<Artifact> {
    let p = t.file(name, name.as_bytes());
    Ok(t.artifacts().from_path(&p).save()?.record)
}

db_test!(labels_add_through_features_like_lamindb, |t| {
    let study0 = t.ulabels().create(ULabel::new("study0")).save()?.record;
    let species = t
        .ulabels()
        .save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?
        .records;
    let study_name = t
        .features()
        .create(Feature::new("study_name", "cat".parse()?))
        .save()?
        .record;
    let iris = t
        .features()
        .create(Feature::new("iris_species_name", "cat".parse()?))
        .save()?
        .record;
    let a = a_file(&t, "raw.txt")?;
    // Without a feature: plain links.
    let plain = t
        .artifacts()
        .labels(&a)?
        .add(std::slice::from_ref(&study0), None)?;
    assert_eq!(plain.linked, 1);
    assert!(plain.external.is_none());
    // With a feature: cat widens to cat[ULabel], the feature joins the external set.
    let added = t
        .artifacts()
        .labels(&a)?
        .add(std::slice::from_ref(&study0), Some(&study_name))?;
    assert_eq!(added.feature.as_ref().unwrap().dtype, "cat[ULabel]");
    assert!(added.notes[0].contains("linked feature 'study_name' to registry 'ULabel'"));
    let first = added.external.clone().expect("external set");
    assert_eq!(first.n, 1);
    assert_eq!(
        t.features().get_by_name("study_name")?.dtype,
        "cat[ULabel]",
        "the widened dtype is stored"
    );
    // A second feature rebuilds the external set; the old set, unused now, is gone.
    let added = t.artifacts().labels(&a)?.add(&species, Some(&iris))?;
    assert_eq!(added.linked, 3);
    let second = added.external.expect("rebuilt external set");
    assert_eq!(second.n, 2);
    assert!(
        t.query::<lamella_core::FeatureSet>()
            .filter("uid", first.uid.as_str())
            .one_or_none()?
            .is_none(),
        "the old external set is deleted when nothing uses it"
    );
    // The same pair of features on another artifact reuses the set (dedup by members).
    let b = a_file(&t, "other.txt")?;
    t.artifacts().labels(&b)?.add(&species, Some(&iris))?;
    let again = t
        .artifacts()
        .labels(&b)?
        .add(std::slice::from_ref(&study0), Some(&study_name))?;
    assert_eq!(again.external.unwrap().uid, second.uid);
    assert!(
        again
            .notes
            .iter()
            .any(|n| n.starts_with("loaded: FeatureSet"))
    );
    // Repeating a link adds nothing; describe() shows labels per feature.
    let same = t.artifacts().labels(&a)?.add(&species, Some(&iris))?;
    assert_eq!(same.linked, 0);
    assert!(same.external.is_none());
    let d = t.artifacts().describe(&a)?;
    let ext = &d.features["external"];
    let names: Vec<(&str, usize)> = ext
        .features
        .iter()
        .map(|f| (f.feature.name.as_str(), f.labels.len()))
        .collect();
    assert_eq!(names, [("study_name", 1), ("iris_species_name", 3)]);
    assert_eq!(d.labels["ulabels"].len(), 4);
    let text = d.to_string();
    assert!(
        text.contains("🔗 iris_species_name (3, cat[ULabel]): 'setosa', 'versicolor', 'virginica'"),
        "{text}"
    );
    assert_eq!(
        t.artifacts().labels(&a)?.all(Some(&iris))?.len(),
        3,
        "labels through one feature"
    );
    // Labels go with categorical features only.
    let length = t
        .features()
        .create(Feature::new("sepal_length", "float".parse()?))
        .save()?
        .record;
    let e = t
        .artifacts()
        .labels(&a)?
        .add(std::slice::from_ref(&study0), Some(&length))
        .unwrap_err();
    assert!(e.to_string().contains("categorical"), "{e}");
    Ok(())
});

db_test!(a_feature_in_the_columns_set_stays_out_of_external, |t| {
    let batch = table(vec![text(
        "species",
        &["setosa", "setosa", "virginica", "virginica"],
    )]);
    let a = t
        .artifacts()
        .from_table(&batch)
        .key("t/species.parquet")
        .save()?
        .record;
    t.features().from_table(&batch)?;
    let set = t.artifacts().annotate_columns(&a)?.record;
    let species = t.features().get_by_name("species")?;
    let labels = t
        .ulabels()
        .save_all(["setosa", "virginica"].map(ULabel::new))?
        .records;
    let added = t.artifacts().labels(&a)?.add(&labels, Some(&species))?;
    assert!(added.external.is_none());
    let f = t.artifacts().features(&a)?.slots()?;
    assert_eq!(f.keys().collect::<Vec<_>>(), ["columns"]);
    assert_eq!(f["columns"].feature_set.uid, set.uid);
    assert_eq!(f["columns"].features[0].labels.len(), 2);
    Ok(())
});

db_test!(adding_a_thousand_labels_is_one_batch, |t| {
    let labels = t
        .ulabels()
        .save_all((0..1000).map(|i| ULabel::new(format!("cell {i:04}"))))?
        .records;
    let f = t
        .features()
        .create(Feature::new("cell", "cat".parse()?))
        .save()?
        .record;
    let a = a_file(&t, "cells.txt")?;
    let added = t.artifacts().labels(&a)?.add(&labels, Some(&f))?;
    assert_eq!(added.linked, 1000);
    assert_eq!(t.artifacts().describe(&a)?.labels["ulabels"].len(), 1000);
    Ok(())
});

db_test!(branch_restricted_features_take_only_descendants, |t| {
    let is_species = t.ulabels().create(ULabel::new("is_species")).save()?.record;
    let setosa = t
        .ulabels()
        .create(ULabel::new("setosa"))
        .parents(std::slice::from_ref(&is_species))
        .save()?
        .record;
    // Any depth: a grandchild is under the branch too.
    let sub = t
        .ulabels()
        .create(ULabel::new("setosa var. alba"))
        .parents(std::slice::from_ref(&setosa))
        .save()?
        .record;
    let study = t.ulabels().create(ULabel::new("study0")).save()?.record;
    let f = t
        .features()
        .create(Feature::new("species", "cat[ULabel[is_species]]".parse()?))
        .save()?
        .record;
    let a = a_file(&t, "x.txt")?;
    t.artifacts().labels(&a)?.add(&[setosa, sub], Some(&f))?;
    let e = t
        .artifacts()
        .labels(&a)?
        .add(std::slice::from_ref(&study), Some(&f))
        .unwrap_err();
    assert!(e.to_string().contains("'study0' is not"), "{e}");
    assert_eq!(t.artifacts().labels(&a)?.all(Some(&f))?.len(), 2);
    Ok(())
});

db_test!(artifacts_are_found_by_label_and_feature, |t| {
    let tcell = t.ulabels().create(ULabel::new("T cell")).save()?.record;
    let cell_type = t
        .features()
        .create(Feature::new("cell_type", "cat".parse()?))
        .save()?
        .record;
    let control = t
        .features()
        .create(Feature::new("control_type", "cat".parse()?))
        .save()?
        .record;
    let a = a_file(&t, "a.txt")?;
    let b = a_file(&t, "b.txt")?;
    let c = a_file(&t, "c.txt")?;
    t.artifacts()
        .labels(&a)?
        .add(std::slice::from_ref(&tcell), Some(&cell_type))?;
    t.artifacts()
        .labels(&b)?
        .add(std::slice::from_ref(&tcell), Some(&control))?;
    let _ = c;
    let by_label = t.query::<Artifact>().labelled("T cell", None).all()?;
    assert_eq!(by_label.len(), 2);
    let through = t
        .query::<Artifact>()
        .labelled("T cell", Some("cell_type"))
        .all()?;
    assert_eq!(through.iter().map(|x| &x.uid).collect::<Vec<_>>(), [&a.uid]);
    assert_eq!(
        t.query::<Artifact>()
            .filter("ulabels__name", "T cell")
            .count()?,
        2
    );
    // By measured feature, through the feature sets.
    assert_eq!(
        t.query::<Artifact>()
            .filter("feature_sets__features__name", "cell_type")
            .count()?,
        1
    );
    let e = t
        .query::<lamella_core::Feature>()
        .labelled("T cell", None)
        .all()
        .unwrap_err();
    assert!(e.to_string().contains("carry no labels"), "{e}");
    Ok(())
});

db_test!(validate_inspect_standardize_and_synonyms, |t| {
    let mut setosa = t.ulabels().create(ULabel::new("setosa")).save()?.record;
    t.ulabels().create(ULabel::new("versicolor")).save()?;
    t.ulabels().add_synonym(&mut setosa, "Iris setosa")?;
    assert_eq!(setosa.synonyms.as_deref(), Some("Iris setosa"));
    let values = [
        "setosa",
        "Iris setosa",
        "versicolr",
        "setosa",
        "unknown thing",
    ];
    assert_eq!(
        t.ulabels().validate(&values)?,
        [true, false, false, true, false]
    );
    let i = t.ulabels().inspect(&values)?;
    assert_eq!(i.validated, ["setosa"]);
    let by: HashMap<&str, &lamella_core::Unmatched> = i
        .not_validated
        .iter()
        .map(|u| (u.value.as_str(), u))
        .collect();
    assert_eq!(by["Iris setosa"].synonym_of.as_deref(), Some("setosa"));
    assert_eq!(by["versicolr"].suggestions, ["versicolor"]);
    assert!(by["unknown thing"].suggestions.is_empty());
    let s = t.ulabels().standardize(&values)?;
    assert_eq!(
        s.values,
        ["setosa", "setosa", "versicolr", "setosa", "unknown thing"]
    );
    assert_eq!(
        s.mapping.get("Iris setosa").map(String::as_str),
        Some("setosa")
    );
    // A synonym may not be another record's name or synonym.
    let mut versicolor = t.ulabels().get_by_name("versicolor")?;
    assert!(t.ulabels().add_synonym(&mut versicolor, "setosa").is_err());
    assert!(
        t.ulabels()
            .add_synonym(&mut versicolor, "Iris setosa")
            .is_err()
    );
    assert!(t.ulabels().add_synonym(&mut versicolor, "a|b").is_err());
    // Features too.
    let mut f = t
        .features()
        .create(Feature::new("sepal_length", "float".parse()?))
        .save()?
        .record;
    t.features().add_synonym(&mut f, "sepal length")?;
    assert_eq!(
        t.features().standardize(&["sepal length"])?.values,
        ["sepal_length"]
    );
    // Over an Arrow column: nulls stay null.
    let col = StringArray::from(vec![Some("setosa"), None, Some("x")]);
    let v = t.ulabels().validate_array(&col)?;
    assert_eq!(
        v.iter().collect::<Vec<_>>(),
        [Some(true), None, Some(false)]
    );
    Ok(())
});

/// A registry for the curator: features with units, a constraint, a branch.
fn iris_registry(t: &lamella_tests::TestInstance) -> anyhow::Result<()> {
    let is_species = t.ulabels().create(ULabel::new("is_species")).save()?.record;
    t.ulabels().save_all_with_parents(
        ["setosa", "versicolor", "virginica"].map(ULabel::new),
        std::slice::from_ref(&is_species),
    )?;
    t.ulabels()
        .save_all(["study0", "study1"].map(ULabel::new))?;
    let mut features = vec![
        Feature::new("sepal_length", "float".parse()?).unit("m"),
        Feature::new("sepal_width", "float".parse()?)
            .unit("m")
            .range(Some(0.0), Some(1.0)),
        Feature::new("petal_count", "int".parse()?),
        Feature::new("iris_species_name", "cat[ULabel[is_species]]".parse()?),
        Feature::new("study_name", "cat[ULabel]".parse()?),
        Feature::new("sample_code", "str".parse()?).pattern("S[0-9]{3}"),
    ];
    features[0] = features[0].clone().synonyms(["sepal length"]);
    t.features().save_all(features)?;
    Ok(())
}

db_test!(the_curator_reports_every_problem_at_once, |t| {
    iris_registry(&t)?;
    let bad = table(vec![
        floats("sepal_lenght", &[0.05, 0.049, 0.047, 0.046], Some("m")),
        floats("sepal_width", &[35.0, 30.0, 3200.0, 31.0], Some("mm")),
        text("petal_count", &["4", "4", "5", "4"]),
        text("species", &["setosa", "setsa", "study0", "virginica"]),
        text("study_name", &["study0", "studyy1", "studyy1", "study0"]),
        text("sample_code", &["S001", "S002", "X3", "S004"]),
    ]);
    let c = t
        .curator(bad.clone())
        .categorical("species", "iris_species_name")
        .require("sepal_length");
    let r = c.validate()?;
    assert!(!r.valid);
    let codes: Vec<(Option<&str>, Code)> = r
        .issues
        .iter()
        .map(|i| (i.column.as_deref(), i.code))
        .collect();
    for want in [
        (Some("sepal_lenght"), Code::UnexpectedColumn),
        (None, Code::MissingColumn),
        (Some("sepal_width"), Code::UnitMismatch),
        (Some("sepal_width"), Code::OutOfRange),
        (Some("petal_count"), Code::WrongDtype),
        (Some("species"), Code::UnknownLabel),
        (Some("species"), Code::LabelOutsideBranch),
        (Some("study_name"), Code::UnknownLabel),
        (Some("sample_code"), Code::PatternMismatch),
    ] {
        assert!(codes.contains(&want), "missing {want:?} in {codes:?}\n{r}");
    }
    // Suggestions a program can apply.
    let col = r
        .issues
        .iter()
        .find(|i| i.code == Code::UnexpectedColumn)
        .unwrap();
    assert_eq!(col.suggestion.as_ref().unwrap().value, "sepal_length");
    let unit = r
        .issues
        .iter()
        .find(|i| i.code == Code::UnitMismatch)
        .unwrap();
    let s = unit.suggestion.as_ref().unwrap();
    assert_eq!((s.kind, s.factor), (SuggestionKind::Convert, Some(0.001)));
    let species = r
        .issues
        .iter()
        .find(|i| i.code == Code::UnknownLabel && i.column.as_deref() == Some("species"))
        .unwrap();
    assert_eq!(species.values[0].value, "setsa");
    assert_eq!(species.values[0].rows, [1]);
    assert_eq!(
        species.values[0].suggestion.as_ref().unwrap().value,
        "setosa"
    );
    let studies = r
        .issues
        .iter()
        .find(|i| i.column.as_deref() == Some("study_name"))
        .unwrap();
    assert_eq!((studies.values[0].count, studies.count), (2, 2));
    assert_eq!(studies.values[0].rows, [1, 2]);
    // The range is checked in the feature's unit: 3200 mm = 3.2 m is out, 35 mm is in.
    let range = r
        .issues
        .iter()
        .find(|i| i.code == Code::OutOfRange)
        .unwrap();
    assert_eq!(range.count, 1);
    assert_eq!(range.values[0].rows, [2]);
    assert_eq!(range.values[0].value, "3200", "the table's own value");
    assert_eq!(r.stages[&Stage::Labels], 3);
    let text = r.to_string();
    assert!(text.ends_with(&r.summary()), "{text}");
    assert!(
        r.summary()
            .starts_with(&format!("{} problems in", r.issues.len()))
    );
    // JSON is the same value.
    let json = serde_json::to_value(&r)?;
    assert_eq!(json["valid"], false);
    assert_eq!(json["issues"][0]["stage"], "columns");
    // Nothing is saved from an invalid table.
    let before = t.artifacts().query().include_trash().count()?;
    let e = c.save_artifact(Some("iris/bad.parquet"), None).unwrap_err();
    let Error::Curation(report) = &e else {
        panic!("expected the report, got {e}")
    };
    assert_eq!(report.issues.len(), r.issues.len());
    assert!(e.to_string().contains("nothing saved"), "{e}");
    assert_eq!(t.artifacts().query().include_trash().count()?, before);
    Ok(())
});

db_test!(a_valid_table_is_saved_with_its_annotations, |t| {
    iris_registry(&t)?;
    let good = table(vec![
        floats("sepal_length", &[51.0, 49.0, 47.0], Some("mm")),
        (
            Field::new("petal_count", DataType::Int64, false),
            Arc::new(Int64Array::from(vec![4, 4, 5])),
        ),
        text("species", &["setosa", "setosa", "virginica"]),
        text("study_name", &["study0", "study9", "study0"]),
    ]);
    let c = t
        .curator(good)
        .categorical("species", "iris_species_name")
        .convert_units();
    let r = c.validate()?;
    // study9 is new: one problem, fixed by registering it.
    assert_eq!(r.issues.len(), 1, "{r}");
    assert!(
        r.notes[0].contains("converted from mm to m"),
        "{:?}",
        r.notes
    );
    let added = c.add_new_from("study_name")?;
    assert_eq!(added.created, 1);
    let r = c.validate()?;
    assert!(r.valid, "{r}");
    let saved = c.save_artifact(Some("iris/good.parquet"), None)?.record;
    let d = t.artifacts().describe(&saved)?;
    let cols = &d.features["columns"];
    let names: Vec<&str> = cols
        .features
        .iter()
        .map(|f| f.feature.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "sepal_length",
            "petal_count",
            "iris_species_name",
            "study_name"
        ]
    );
    let species = cols
        .features
        .iter()
        .find(|f| f.feature.name == "iris_species_name")
        .unwrap();
    let mut names: Vec<&str> = species.labels.iter().map(|l| l.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["setosa", "virginica"]);
    // The saved table holds metres.
    let loaded = t.artifacts().load(&saved)?;
    let lamella_core::Loaded::Table(batch) = loaded else {
        panic!("a table")
    };
    let col = batch
        .column(0)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .value(0);
    assert!((col - 0.051).abs() < 1e-12, "{col}");
    assert_eq!(
        t.query::<Artifact>()
            .labelled("setosa", Some("iris_species_name"))
            .count()?,
        1
    );
    Ok(())
});

db_test!(curator_column_options, |t| {
    iris_registry(&t)?;
    let batch = table(vec![
        text("study_name", &["study0"]),
        floats("sepal_length", &[0.05], None),
        text("notes", &["fine"]),
    ]);
    // By default an unregistered column is a problem; --allow-extra lets it through.
    let r = t.curator(batch.clone()).validate()?;
    assert_eq!(r.issues[0].code, Code::UnexpectedColumn);
    assert_eq!(r.issues.len(), 1, "{r}");
    let r = t.curator(batch.clone()).allow_extra().validate()?;
    assert!(r.valid, "{r}");
    // Required features in order.
    let r = t
        .curator(batch.clone())
        .allow_extra()
        .require("sepal_length")
        .require("study_name")
        .ordered()
        .validate()?;
    assert_eq!(r.issues.len(), 1, "{r}");
    assert_eq!(r.issues[0].code, Code::ColumnOrder);
    // A synonym as a column name is named as such.
    let syn = table(vec![floats("sepal length", &[0.05], None)]);
    let r = t.curator(syn).validate()?;
    let s = r.issues[0].suggestion.as_ref().unwrap();
    assert_eq!(
        (s.kind, s.value.as_str()),
        (SuggestionKind::Synonym, "sepal_length")
    );
    // A branch label that does not exist (a feature saved outside Lamella's checks, e.g.
    // imported) is reported, not an error.
    let mut organ = t
        .features()
        .create(Feature::new("organ", "cat[ULabel]".parse()?))
        .save()?
        .record;
    organ.dtype = "cat[ULabel[is_organ]]".parse()?;
    t.raw_db()?
        .transaction(|c| <Feature as lamella_schema::Store>::update(c, &organ))?;
    let organ = table(vec![text("organ", &["liver"])]);
    let r = t.curator(organ).validate()?;
    let codes: Vec<Code> = r.issues.iter().map(|i| i.code).collect();
    assert_eq!(codes, [Code::MissingBranch, Code::UnknownLabel], "{r}");
    // Non-nullable features report their nulls.
    t.features()
        .create(Feature::new("donor", "str".parse()?).nullable(false))
        .save()?;
    let nulls = table(vec![(
        Field::new("donor", DataType::Utf8, true),
        Arc::new(StringArray::from(vec![Some("d1"), None, None])) as ArrayRef,
    )]);
    let r = t.curator(nulls).validate()?;
    assert_eq!(r.issues[0].code, Code::UnexpectedNulls);
    assert_eq!(r.issues[0].values[0].rows, [1, 2]);
    Ok(())
});

db_test!(feature_constraints_are_checked_when_saved, |t| {
    let e = t
        .features()
        .create(Feature::new("x", "str".parse()?).range(Some(1.0), None))
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("numeric"), "{e}");
    let e = t
        .features()
        .create(Feature::new("y", "float".parse()?).range(Some(2.0), Some(1.0)))
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("above the maximum"), "{e}");
    let e = t
        .features()
        .create(Feature::new("z", "str".parse()?).pattern("(unclosed"))
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("not a regular expression"), "{e}");
    let f = t
        .features()
        .create(Feature::new("w", "float".parse()?).range(Some(0.0), Some(1.5)))
        .save()?
        .record;
    let back = t.features().get_by_name("w")?;
    assert_eq!((back.min_value, back.max_value), (Some(0.0), Some(1.5)));
    assert_eq!(f.uid, back.uid);
    Ok(())
});

db_test!(collections_take_labels_through_features_too, |t| {
    use lamella_core::{Collection, Visibility};
    use lamella_schema::Store as _;
    let now = lamella_schema::now();
    let user = t.user().id.unwrap();
    let mut rows = vec![Collection {
        id: None,
        uid: lamella_schema::base62_uid(20),
        name: "Iris collection".into(),
        description: None,
        hash: None,
        version: None,
        is_latest: true,
        visibility: Visibility::Default,
        reference: None,
        reference_type: None,
        transform_id: None,
        run_id: None,
        created_at: now,
        updated_at: now,
        created_by_id: user,
    }];
    t.raw_db()?
        .transaction(|c| lamella_schema::Collection::insert_all(c, &mut rows))?;
    let c = &rows[0];
    let k562 = t.ulabels().create(ULabel::new("K562")).save()?.record;
    let line = t
        .features()
        .create(Feature::new("cell_line", "cat".parse()?))
        .save()?
        .record;
    let added = t
        .collections()
        .labels(c)?
        .add(std::slice::from_ref(&k562), Some(&line))?;
    assert_eq!(added.linked, 1);
    assert_eq!(added.external.unwrap().n, 1);
    assert_eq!(t.collections().labels(c)?.all(None)?.len(), 1);
    // Which collections are labelled K562 (through cell_line)?
    let found = t
        .query::<Collection>()
        .labelled("K562", Some("cell_line"))
        .all()?;
    assert_eq!(found.len(), 1);
    assert_eq!(
        t.query::<Collection>()
            .filter("feature_sets__features__name", "cell_line")
            .count()?,
        1
    );
    Ok(())
});

db_test!(hostile_tables_are_reported_not_mishandled, |t| {
    use lamella_core::arrow::array::{Array as _, DictionaryArray, Int64Array as I64};
    use lamella_core::arrow::datatypes::Int32Type;
    t.ulabels().create(ULabel::new("a")).save()?;
    t.features().save_all([
        Feature::new("x", "float".parse()?)
            .range(Some(0.0), Some(1.0))
            .nullable(false),
        Feature::new("n", "int".parse()?).unit("m"),
        Feature::new("code", "str".parse()?).pattern("S[0-9]+"),
        Feature::new("kind", "cat".parse()?).nullable(false),
    ])?;
    // Zero rows: valid.
    let empty = table(vec![floats("x", &[], None)]);
    assert!(t.curator(empty).validate()?.valid);
    // NaN is missing (the nulls stage), not out of range.
    let nan = table(vec![floats("x", &[0.5, f64::NAN, 2.0], None)]);
    let r = t.curator(nan).validate()?;
    let codes: Vec<Code> = r.issues.iter().map(|i| i.code).collect();
    assert_eq!(codes, [Code::UnexpectedNulls, Code::OutOfRange], "{r}");
    assert_eq!(r.issues[0].values[0].rows, [1]);
    assert_eq!(r.issues[1].count, 1);
    // An int feature is not converted (it would stop holding ints): the mismatch stays.
    let ints = table(vec![(
        Field::new("n", DataType::Int64, false)
            .with_metadata(HashMap::from([("unit".to_string(), "mm".to_string())])),
        Arc::new(I64::from(vec![1000, 2000])) as ArrayRef,
    )]);
    let r = t.curator(ints).convert_units().validate()?;
    assert_eq!(r.issues.len(), 1, "{r}");
    assert_eq!(r.issues[0].code, Code::UnitMismatch);
    // Nulls inside a dictionary's values are nulls.
    let dict: DictionaryArray<Int32Type> = DictionaryArray::try_new(
        lamella_core::arrow::array::Int32Array::from(vec![0, 1, 1]),
        Arc::new(StringArray::from(vec![Some("a"), None])),
    )?;
    let kinds = table(vec![(
        Field::new("kind", dict.data_type().clone(), true),
        Arc::new(dict) as ArrayRef,
    )]);
    let r = t.curator(kinds).validate()?;
    assert_eq!(r.issues.len(), 1, "{r}");
    assert_eq!(
        (r.issues[0].code, r.issues[0].count),
        (Code::UnexpectedNulls, 2)
    );
    // A text column of unique values: the pattern check keeps a bounded sample.
    let codes: Vec<String> = (0..5000).map(|i| format!("X{i}")).collect();
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let r = t
        .curator(table(vec![text("code", &refs)]))
        .examples(3)
        .validate()?;
    assert_eq!(r.issues[0].code, Code::PatternMismatch);
    assert_eq!(r.issues[0].count, 5000);
    assert_eq!(r.issues[0].values.len(), 3);
    assert!(r.truncated);
    // NUL bytes and control characters are unknown values, on every database.
    let odd = table(vec![text("kind", &["a", "b\0c", "d\u{1b}"])]);
    let r = t.curator(odd).validate()?;
    assert_eq!(r.issues[0].code, Code::UnknownLabel);
    assert_eq!(r.issues[0].values.len(), 2);
    // A column named twice by --unit or --categorical that does not exist is a usage error.
    let e = t
        .curator(table(vec![floats("x", &[0.5], None)]))
        .unit("y", "m")
        .validate()
        .unwrap_err();
    assert!(
        matches!(&e, lamella_core::Error::UnknownColumn { column, .. } if column == "y"),
        "{e}"
    );
    assert!(e.to_string().contains("no column 'y'"), "{e}");
    Ok(())
});

db_test!(short_words_are_not_taken_for_uid_prefixes, |t| {
    let l = t.ulabels().create(ULabel::new("setosa")).save()?.record;
    let prefix = &l.uid[..1];
    assert!(
        t.ulabels().resolve(prefix).is_err(),
        "one character is no uid prefix"
    );
    assert_eq!(t.ulabels().resolve(&l.uid[..6])?.uid, l.uid);
    Ok(())
});

db_test!(list_of_labels_columns_are_checked_element_by_element, |t| {
    use lamella_core::arrow::array::{ListBuilder, StringBuilder};
    let is_marker = t.ulabels().create(ULabel::new("is_marker")).save()?.record;
    let markers = t
        .ulabels()
        .save_all_with_parents(["CD14", "CD4", "CD8"].map(ULabel::new), &[is_marker])?;
    t.ulabels().create(ULabel::new("elsewhere")).save()?;
    t.features()
        .create(Feature::new(
            "markers",
            "list[cat[ULabel[is_marker]]]".parse()?,
        ))
        .save()?;
    let mut b = ListBuilder::new(StringBuilder::new());
    for row in [
        vec!["CD14", "CD4"],
        vec!["CD8", "CD41", "CD41"],
        vec!["elsewhere"],
        vec![],
    ] {
        for v in row {
            b.values().append_value(v);
        }
        b.append(true);
    }
    let batch = RecordBatch::try_from_iter([("markers", Arc::new(b.finish()) as ArrayRef)])?;
    let r = t.curator(batch.clone()).validate()?;
    let codes: Vec<Code> = r.issues.iter().map(|i| i.code).collect();
    assert_eq!(codes, [Code::UnknownLabel, Code::LabelOutsideBranch], "{r}");
    let unknown = &r.issues[0];
    assert_eq!(unknown.values[0].value, "CD41");
    assert_eq!(unknown.values[0].count, 1, "one list row holds it (twice)");
    assert_eq!(unknown.values[0].rows, [1]);
    assert_eq!(r.issues[1].values[0].value, "elsewhere");
    // Nothing is saved while invalid; a valid list column is curated with its labels.
    assert!(
        t.curator(batch)
            .save_artifact(Some("m/bad.parquet"), None)
            .is_err()
    );
    assert_eq!(t.artifacts().query().count()?, 0);
    let mut b = ListBuilder::new(StringBuilder::new());
    for row in [vec!["CD14", "CD4"], vec!["CD8"]] {
        for v in row {
            b.values().append_value(v);
        }
        b.append(true);
    }
    let good = RecordBatch::try_from_iter([("markers", Arc::new(b.finish()) as ArrayRef)])?;
    let a = t
        .curator(good)
        .save_artifact(Some("m/good.parquet"), None)?
        .record;
    let linked = t
        .artifacts()
        .query()
        .labelled("CD8", Some("markers"))
        .all()?;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].uid, a.uid);
    assert_eq!(markers.records.len(), 3);
    Ok(())
});

db_test!(
    huge_values_are_reported_cut_and_cost_no_more_than_their_size,
    |t| {
        let is_species = t.ulabels().create(ULabel::new("is_species")).save()?.record;
        t.ulabels()
            .create(ULabel::new("setosa"))
            .parents(&[is_species])
            .save()?;
        t.features()
            .create(Feature::new("species", "cat[ULabel[is_species]]".parse()?))
            .save()?;
        let huge = "x".repeat(5_000_000);
        let r = t
            .curator(table(vec![text("species", &["setosa", &huge])]))
            .validate()?;
        assert_eq!(r.issues.len(), 1, "{r:?}");
        let v = &r.issues[0].values[0];
        assert!(v.value.chars().count() <= 1_001, "{}", v.value.len());
        assert!(v.value.ends_with('…'));
        assert!(v.suggestion.is_none());
        let text = r.to_string();
        assert!(
            text.len() < 2_000,
            "the text report stays small: {} bytes",
            text.len()
        );
        assert!(text.contains("(5000000 characters)"), "{text}");
        Ok(())
    }
);

db_test!(edges_of_names_numbers_and_columns, |t| {
    // A name that is another label's synonym would shadow it.
    t.ulabels()
        .create(ULabel::new("setosa").synonyms(["Iris setosa"]))
        .save()?;
    let e = t
        .ulabels()
        .create(ULabel::new("Iris setosa"))
        .save()
        .unwrap_err();
    assert!(matches!(e, Error::Taken { .. }), "{e}");
    assert!(e.to_string().contains("as a synonym"), "{e}");
    // Synonyms follow the rules of names: length, spaces, hidden characters.
    let long = "y".repeat(1_001);
    for bad in [long.as_str(), "x\u{200b}y"] {
        let e = t
            .ulabels()
            .create(ULabel::new("versicolor").synonyms([bad]))
            .save()
            .unwrap_err();
        assert_eq!(e.kind(), "invalid_value", "{e}");
        let mut l = t.ulabels().get_by_name("setosa")?;
        assert!(t.ulabels().add_synonym(&mut l, bad).is_err());
    }
    // Integers beyond 2^53 are listed exactly, not through a float.
    t.features()
        .create(Feature::new("n", "int".parse()?).range(None, Some(5.0)))
        .save()?;
    let big = RecordBatch::try_from_iter([(
        "n",
        Arc::new(Int64Array::from(vec![i64::MAX, 1])) as ArrayRef,
    )])?;
    let r = t.curator(big).validate()?;
    assert_eq!(r.issues[0].values[0].value, "9223372036854775807");
    // Two columns with one name are named.
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("dup.csv");
    std::fs::write(&csv, "n,n\n1,2\n")?;
    let r = t.curator(lamella_core::read_table(&csv)?).validate()?;
    assert!(
        r.issues.iter().any(|i| i.code == Code::DuplicateColumn),
        "{r}"
    );
    Ok(())
});

db_test!(standardize_applies_synonyms_to_columns_and_values, |t| {
    t.ulabels()
        .save_all(["setosa", "versicolor"].map(ULabel::new))?;
    let mut setosa = t.ulabels().get_by_name("setosa")?;
    t.ulabels().add_synonym(&mut setosa, "Iris setosa")?;
    t.features()
        .create(Feature::new("species", "cat".parse()?))
        .save()?;
    let mut f = t
        .features()
        .create(Feature::new("sepal_length", "float".parse()?))
        .save()?
        .record;
    t.features().add_synonym(&mut f, "sepal length")?;
    let table = RecordBatch::try_from_iter(vec![
        (
            "sepal length",
            Arc::new(Float64Array::from(vec![5.1, 4.9, 6.0])) as ArrayRef,
        ),
        (
            "species",
            Arc::new(StringArray::from(vec![
                Some("Iris setosa"),
                None,
                Some("setsoa"),
            ])) as ArrayRef,
        ),
    ])?;
    let before = t.curator(table.clone()).validate()?;
    assert!(!before.valid);
    let (fixed, fixes) = t.curator(table).standardize()?;
    assert_eq!(
        fixes.columns,
        [("sepal length".to_string(), "sepal_length".to_string())].into()
    );
    assert_eq!(
        fixes.values["species"],
        [("Iris setosa".to_string(), "setosa".to_string())].into()
    );
    assert_eq!(fixes.rows["species"], 1);
    let names: Vec<String> = fixed
        .table()
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["sepal_length", "species"]);
    // A close spelling is left to the report: a guess is not a synonym.
    let report = fixed.validate()?;
    assert!(!report.valid);
    assert_eq!(report.issues.len(), 1);
    assert_eq!(report.issues[0].values[0].value, "setsoa");
    // Nothing to apply: nothing changes.
    let clean = RecordBatch::try_from_iter(vec![(
        "species",
        Arc::new(StringArray::from(vec!["setosa"])) as ArrayRef,
    )])?;
    let (_, none) = t.curator(clean).standardize()?;
    assert!(none.is_empty());
    Ok(())
});

db_test!(
    validate_agrees_whether_names_are_scanned_or_looked_up,
    |t| {
        // 2,500 labels: 2,400 of them plus 100 unknown values (with nulls) are most of the
        // registry and matched against one read of it; after 5,000 more labels, the same values
        // are looked up by name.
        let labels: Vec<String> = (0..2_500).map(|i| format!("type {i:05}")).collect();
        t.ulabels().save_all(labels.iter().map(ULabel::new))?;
        let mut values: Vec<Option<String>> = labels[50..2_450].iter().cloned().map(Some).collect();
        values.extend((0..100).map(|i| Some(format!("unknown {i}"))));
        values.push(None);
        values.extend(labels[..3].iter().cloned().map(Some));
        // What validate must answer: every label of the first 2,500, nothing else.
        let expected = |values: &[Option<String>]| -> Vec<Option<bool>> {
            values
                .iter()
                .map(|v| {
                    v.as_ref()
                        .map(|v| !v.starts_with("unknown") && labels.contains(v))
                })
                .collect()
        };
        let validated = |column: &StringArray| -> anyhow::Result<Vec<Option<bool>>> {
            Ok(t.ulabels().validate_array(column)?.iter().collect())
        };
        let column = StringArray::from(values.clone());
        let expect = expected(&values);
        assert_eq!(validated(&column)?, expect);
        let more: Vec<String> = (0..5_000).map(|i| format!("other {i:05}")).collect();
        t.ulabels().save_all(more.iter().map(ULabel::new))?;
        assert_eq!(validated(&column)?, expect);
        // A long column: with a registry small beside it, every name is read while the column
        // is scanned; with a larger one, the distinct values are looked up after. A synonym
        // validates in neither.
        let mut first = t.ulabels().get_by_name(&labels[0])?;
        t.ulabels().add_synonym(&mut first, "alias of the first")?;
        let mut long_values = values.clone();
        long_values.push(Some("alias of the first".into()));
        let long_values: Vec<Option<String>> =
            long_values.iter().cycle().take(300_000).cloned().collect();
        let long = StringArray::from(long_values.clone());
        let long_expect = expected(&long_values);
        assert_eq!(validated(&long)?, long_expect);
        let many: Vec<String> = (0..10_000).map(|i| format!("many {i:05}")).collect();
        t.ulabels().save_all(many.iter().map(ULabel::new))?;
        assert_eq!(validated(&long)?, long_expect);
        Ok(())
    }
);
