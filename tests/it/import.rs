//! `import lamindb`: the two instances LaminDB wrote (`tests/fixtures/lamindb/`: lamindb 2.12.1
//! and 0.72.0, with what LaminDB itself reads from them in `expected-*.json`) imported into
//! every database × storage pair, then checked against LaminDB's answers: every uid, hash,
//! version, link and object, the queries, the collection's load, a second import that
//! changes nothing, and a source left byte for byte as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lamella_core::arrow::array::AsArray;
use lamella_core::arrow::datatypes::Float64Type;
use lamella_core::{DoctorOptions, ImportOptions, OnMissing, Visibility};
use lamella_tests::artifact_test;
use serde_json::Value;

use lamella_tests::{lamindb_fixture as fixture, run_sqlite as run_sql};

/// Every file below `dir` with its bytes, by relative path.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read a source folder") {
            let p = entry.expect("an entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("below").to_path_buf();
                out.insert(rel, std::fs::read(&p).expect("read a source file"));
            }
        }
    }
    out
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Everything LaminDB recorded (`expected`) holds in `ln` after the import.
fn prove(ln: &lamella_core::Instance, expected: &Value, modern: bool) -> anyhow::Result<()> {
    let reg = ln.artifacts();
    // artifacts: uid, key, suffix, size, hash, hash type, versions, trash, counts
    for e in expected["artifacts"].as_array().expect("artifacts") {
        let uid = e["uid"].as_str().expect("uid");
        let a = reg.query().include_trash().filter("uid", uid).one()?;
        assert_eq!(a.key, s(&e["key"]), "{uid}: key");
        assert_eq!(Some(a.suffix.clone()), s(&e["suffix"]), "{uid}: suffix");
        assert_eq!(a.size, e["size"].as_i64(), "{uid}: size");
        assert_eq!(a.hash, s(&e["hash"]), "{uid}: hash");
        assert_eq!(
            a.hash_type.map(|h| h.to_string()),
            s(&e["hash_type"]),
            "{uid}: hash type"
        );
        assert_eq!(a.description, s(&e["description"]), "{uid}: description");
        let n_objects = if modern {
            &e["n_files"]
        } else {
            &e["n_objects"]
        };
        assert_eq!(a.n_objects, n_objects.as_i64(), "{uid}: n_objects");
        assert_eq!(
            a.n_observations,
            e["n_observations"].as_i64(),
            "{uid}: n_obs"
        );
        let trash = if modern {
            e["branch_id"].as_i64() == Some(-1)
        } else {
            e["visibility"].as_i64() == Some(-1)
        };
        assert_eq!(a.visibility == Visibility::Trash, trash, "{uid}: trash");
        if modern {
            assert_eq!(a.is_latest, e["is_latest"] == 1, "{uid}: is_latest");
        }
        assert_eq!(
            a.key_is_virtual,
            e["key_is_virtual"] == 1 || a.key.is_none(),
            "{uid}: virtual key"
        );
    }
    // labels through features, as LaminDB linked them
    let mut links: BTreeMap<String, BTreeSet<(String, Option<String>)>> = BTreeMap::new();
    for l in expected["artifact_ulabel_links"].as_array().expect("links") {
        links
            .entry(s(&l["artifact_uid"]).expect("uid"))
            .or_default()
            .insert((s(&l["ulabel"]).expect("label"), s(&l["feature"])));
    }
    for (uid, want) in &links {
        let a = reg
            .query()
            .include_trash()
            .filter("uid", uid.as_str())
            .one()?;
        let labels = reg.labels(&a)?;
        let mut got = BTreeSet::new();
        let plain: BTreeSet<String> = labels.all(None)?.into_iter().map(|l| l.name).collect();
        for (label, feature) in want {
            match feature {
                Some(f) => {
                    let feature = ln.features().get_by_name(f)?;
                    let names: BTreeSet<String> = labels
                        .all(Some(&feature))?
                        .into_iter()
                        .map(|l| l.name)
                        .collect();
                    if names.contains(label) {
                        got.insert((label.clone(), Some(f.clone())));
                    }
                }
                None if plain.contains(label) => {
                    got.insert((label.clone(), None));
                }
                None => {}
            }
        }
        assert_eq!(&got, want, "{uid}: labels through features");
    }
    // the hierarchy (2.x types come over as parents too)
    for p in expected["ulabel_parents"].as_array().expect("parents") {
        let child = ln
            .ulabels()
            .get_by_name(p["child"].as_str().expect("child"))?;
        let parents: Vec<String> = ln
            .ulabels()
            .parents(&child)?
            .all()?
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert!(
            parents.contains(&s(&p["parent"]).expect("parent")),
            "{}: parents {parents:?}",
            child.name
        );
    }
    let species: BTreeSet<String> = ln
        .ulabels()
        .filter("parents__name", "is_species")
        .all()?
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(
        species,
        ["setosa", "versicolor", "virginica"]
            .map(String::from)
            .into()
    );
    // LaminDB's label queries
    assert_eq!(reg.query().labelled("study0", None).count()?, 3, "study0");
    let virginica = if modern { 2 } else { 1 };
    assert_eq!(reg.query().labelled("virginica", None).count()?, virginica);
    let through = reg
        .query()
        .labelled("virginica", Some("iris_species_name"))
        .all()?;
    assert_eq!(
        through
            .iter()
            .map(|a| a.description.clone())
            .collect::<Vec<_>>(),
        vec![Some(
            "Iris study 1 - after measuring sepal & petal metrics".to_string()
        )]
    );
    // features with their dtypes and units
    for f in expected["features"].as_array().expect("features") {
        let feature = ln.features().get(f["uid"].as_str().expect("uid"))?;
        let dtype = f["dtype"].as_str().expect("dtype");
        assert_eq!(feature.dtype.to_string(), dtype, "{}", feature.name);
        assert_eq!(feature.unit, s(&f["unit"]), "{}: unit", feature.name);
    }
    // versions in order, the latest marked
    let metas = reg.versions_of(
        &expected["artifacts"][0]["uid"]
            .as_str()
            .expect("uid")
            .chars()
            .take(16)
            .collect::<String>(),
    )?;
    let described: Vec<String> = metas
        .iter()
        .map(|a| a.description.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        described,
        [
            "Metadata of the study 0 raw images",
            "Metadata of the study 0 raw images (one more image)"
        ]
    );
    assert!(!metas[0].is_latest && metas[1].is_latest);
    // the collection: members in order, and its load equals LaminDB's
    let c = &expected["collections"][0];
    let collection = ln
        .collections()
        .query()
        .filter("uid", c["uid"].as_str().expect("uid"))
        .one()?;
    assert_eq!(collection.hash, s(&c["hash"]));
    let members: Vec<String> = ln
        .collections()
        .artifacts(&collection)?
        .into_iter()
        .map(|a| a.uid)
        .collect();
    let want: Vec<String> = c["members_in_order"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(s)
        .collect();
    assert_eq!(members, want);
    let load = &expected["collection_load"];
    let table = ln.collections().concat(&collection).load()?;
    assert_eq!(
        table.num_rows() as u64,
        load["rows"].as_u64().expect("rows")
    );
    let names: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let want: Vec<String> = load["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(s)
        .collect();
    assert_eq!(names, want);
    for (column, sum) in load["column_sums"].as_object().expect("sums") {
        let values = table
            .column_by_name(column)
            .expect("column")
            .as_primitive::<Float64Type>();
        let got: f64 = values.iter().flatten().sum();
        assert!(
            (got - sum.as_f64().expect("sum")).abs() < 1e-9,
            "{column}: {got} vs {sum}"
        );
        // (serde_json parses decimals to within an ulp, not always to the nearest double)
        let same = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs());
        let first = values.value(0);
        let want = load["first_row"][column].as_f64().expect("first");
        assert!(same(first, want), "{column}: first {first} vs {want}");
        let last = values.value(values.len() - 1);
        let want = load["last_row"][column].as_f64().expect("last");
        assert!(same(last, want), "{column}: last {last} vs {want}");
    }
    // storage and database agree
    let doctor = reg.doctor(&DoctorOptions::default())?;
    assert!(!doctor.needs_attention(), "doctor: {doctor:?}");
    // provenance: the run, its transform and inputs
    let run = &expected["runs"][0];
    let study1 = reg
        .query()
        .labelled("virginica", Some("iris_species_name"))
        .one()?;
    let lineage = reg.view_lineage(&study1, 2, lamella_core::Direction::Upstream)?;
    assert!(
        lineage
            .runs
            .iter()
            .any(|r| Some(r.uid.clone()) == s(&run["uid"])),
        "the run"
    );
    assert_eq!(
        lineage.artifacts.len(),
        3,
        "study 1 and the run's two inputs"
    );
    Ok(())
}

/// The folder holding the whole extracted fixture (`inst/`, `settings/`, …).
fn dir_of(root: &Path) -> &Path {
    root.parent().and_then(Path::parent).unwrap_or(root)
}

fn import_and_prove(
    t: &lamella_tests::TestInstance,
    name: &str,
    modern: bool,
) -> anyhow::Result<()> {
    let (_dir, root, expected) = fixture(name)?;
    let before = contents(dir_of(&root));
    let report = t.import_lamindb(&root.display().to_string(), &ImportOptions::default())?;
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    let counts: BTreeMap<&str, usize> = report
        .registries
        .iter()
        .map(|c| (c.registry, c.imported))
        .collect();
    assert_eq!(
        counts["Artifact"],
        expected["artifacts"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(
        counts["ULabel"],
        expected["ulabels"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(counts["Feature"], 7);
    assert_eq!(counts["Collection"], 1);
    prove(t, &expected, modern)?;
    // a second import changes nothing and says so
    let again = t.import_lamindb(&root.display().to_string(), &ImportOptions::default())?;
    assert!(again.nothing_new(), "{:?}", again.registries);
    assert!(again.notes.iter().any(|n| n.contains("nothing changed")));
    prove(t, &expected, modern)?;
    // the source is as it was, byte for byte
    assert!(contents(dir_of(&root)) == before, "the source changed");
    Ok(())
}

artifact_test!(the_lamindb_2_instance_imports_whole, |t| {
    import_and_prove(&t, "2.12", true)
});

artifact_test!(the_lamindb_0_72_instance_imports_whole, |t| {
    import_and_prove(&t, "0.72", false)
});

lamella_tests::db_test!(a_dry_run_writes_nothing, |t| {
    let (_dir, root, _) = fixture("2.12")?;
    let options = ImportOptions {
        dry_run: true,
        ..Default::default()
    };
    let report = t.import_lamindb(&root.display().to_string(), &options)?;
    assert!(report.dry_run);
    let artifacts = report
        .registries
        .iter()
        .find(|c| c.registry == "Artifact")
        .expect("artifacts");
    assert_eq!(artifacts.imported, 6);
    assert_eq!(t.artifacts().query().include_trash().count()?, 0);
    assert_eq!(t.ulabels().query().count()?, 0);
    Ok(())
});

lamella_tests::db_test!(missing_and_changed_objects_are_reported, |t| {
    let (_dir, root, _) = fixture("0.72")?;
    // one object gone, one changed
    std::fs::remove_file(root.join(".lamindb/fptQdKiRo7pdfVCV7yvt.txt"))?;
    std::fs::write(root.join(".lamindb/EHIx5tcxfTjAcuSgHUOo.csv"), "changed\n")?;
    let report = t.import_lamindb(&root.display().to_string(), &ImportOptions::default())?;
    let mut missing: Vec<(String, bool)> = report
        .missing
        .iter()
        .map(|m| (m.uid.clone(), m.found.is_some()))
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        vec![
            ("EHIx5tcxfTjAcuSgHUOo".to_string(), true),
            ("fptQdKiRo7pdfVCV7yvt".to_string(), false)
        ]
    );
    assert!(report.missing.iter().all(|m| m.expected.is_some()));
    let artifacts = report
        .registries
        .iter()
        .find(|c| c.registry == "Artifact")
        .expect("artifacts");
    assert_eq!((artifacts.imported, artifacts.failed), (4, 2));
    assert!(
        t.artifacts()
            .query()
            .include_trash()
            .filter("uid", "EHIx5tcxfTjAcuSgHUOo")
            .one_or_none()?
            .is_none()
    );
    // imported as missing when asked: doctor then names them
    let options = ImportOptions {
        on_missing: OnMissing::Record,
        ..Default::default()
    };
    let report = t.import_lamindb(&root.display().to_string(), &options)?;
    assert_eq!(report.missing.len(), 2);
    let doctor = t.artifacts().doctor(&DoctorOptions::default())?;
    assert!(doctor.needs_attention());
    Ok(())
});

lamella_tests::db_test!(
    a_uid_with_other_content_stops_the_import_before_it_writes,
    |t| {
        let (_dir, root, _) = fixture("2.12")?;
        t.import_lamindb(&root.display().to_string(), &ImportOptions::default())?;
        // the same instance, but one artifact's content changed under the same uid, and a new label
        run_sql(
            &root.join(".lamindb/lamin.db"),
            "update lamindb_artifact set hash = 'AAAAAAAAAAAAAAAAAAAAAA' where uid = \
         'zJYsfZgvJBs4G1Go0000'; update lamindb_ulabel set uid = 'newlabel' where name = 'study2';",
        )?;
        let labels = t.ulabels().query().count()?;
        let err = t
            .import_lamindb(&root.display().to_string(), &ImportOptions::default())
            .expect_err("a clash");
        let message = err.to_string();
        assert!(message.contains("zJYsfZgvJBs4G1Go0000"), "{message}");
        assert!(message.contains("nothing was imported"), "{message}");
        assert_eq!(t.ulabels().query().count()?, labels, "nothing written");
        Ok(())
    }
);

lamella_tests::db_test!(bad_sources_are_clear_errors, |t| {
    let dir = tempfile::tempdir()?;
    let check = |source: &str, want: &str| {
        let err = t
            .import_lamindb(source, &ImportOptions::default())
            .expect_err(source);
        let m = err.to_string();
        assert!(m.contains(want), "{source}: {m}");
        assert_eq!(err.kind(), "invalid_source", "{source}: {m}");
    };
    // a folder without .lamindb/
    check(
        &dir.path().display().to_string(),
        "holds no LaminDB database",
    );
    check(
        &dir.path().join("nope").display().to_string(),
        "does not exist",
    );
    // not SQLite at all
    let junk = dir.path().join("lamin.db");
    std::fs::write(&junk, vec![7u8; 4096])?;
    check(&junk.display().to_string(), "not a SQLite database");
    // SQLite, but not LaminDB
    let (_d, root, _) = fixture("2.12")?;
    let other = dir.path().join("other.db");
    run_sql(&other, "create table t(x);")?;
    check(&other.display().to_string(), "not a LaminDB database");
    // a newer layout than this Lamella knows
    let newer = dir.path().join("newer");
    std::fs::create_dir_all(newer.join(".lamindb"))?;
    std::fs::copy(
        root.join(".lamindb/lamin.db"),
        newer.join(".lamindb/lamin.db"),
    )?;
    run_sql(
        &newer.join(".lamindb/lamin.db"),
        "insert into django_migrations(app, name, applied) values ('lamindb', '0250_v3', \
         '2027-01-01');",
    )?;
    check(&newer.display().to_string(), "0250_v3");
    // a PostgreSQL source without its storage root
    check("postgresql://u@127.0.0.1:1/x", "storage root");
    Ok(())
});

/// Adds a temperature and a date to study 1 of fixture `name`, as LaminDB stores values (JSON
/// under a feature), imports it, and checks the values come over typed.
fn values_come_over(t: &lamella_tests::TestInstance, name: &str) -> anyhow::Result<()> {
    let (_dir, root, _) = fixture(name)?;
    let (db, prefix, dtype_col, value_table, link_table, value_id, extra, extra_values) =
        if name == "2.12" {
            (
                ".lamindb/lamin.db",
                "lamindb_",
                "_dtype_str",
                "lamindb_jsonvalue",
                "lamindb_artifactjsonvalue",
                "jsonvalue_id",
                ", is_type, array_rank, array_size, is_locked, branch_id, created_on_id, space_id",
                ", 0, 0, 0, 0, 1, 1, 1",
            )
        } else {
            (
                "e137f67e636b5afd9c29bb210c687952.lndb",
                "lnschema_core_",
                "dtype",
                "lnschema_core_featurevalue",
                "lnschema_core_artifactfeaturevalue",
                "featurevalue_id",
                "",
                "",
            )
        };
    let at = "'2026-12-04 14:12:13'";
    run_sql(
        &root.join(db),
        &format!(
            "insert into {prefix}feature (uid, name, {dtype_col}, created_at, updated_at, \
             created_by_id{extra}) values ('tempFeature1', 'temperature', 'float', {at}, {at}, \
             1{extra_values}), ('dateFeature1', 'measured_on', 'date', {at}, {at}, 1{extra_values});
             insert into {value_table} (value, feature_id, created_at, created_by_id) select \
             '37.5', id, {at}, 1 from {prefix}feature where uid = 'tempFeature1';
             insert into {value_table} (value, feature_id, created_at, created_by_id) select \
             '\"2025-03-01\"', id, {at}, 1 from {prefix}feature where uid = 'dateFeature1';
             insert into {link_table} (artifact_id, {value_id}, created_at, created_by_id) select \
             a.id, v.id, {at}, 1 from {prefix}artifact a, {value_table} v where a.description \
             like 'Iris study 1%';"
        ),
    )?;
    t.import_lamindb(&root.display().to_string(), &ImportOptions::default())?;
    let study1 = t.artifacts().query().filter("temperature__gt", 30).one()?;
    assert_eq!(
        study1.description.as_deref(),
        Some("Iris study 1 - after measuring sepal & petal metrics")
    );
    assert_eq!(
        t.artifacts()
            .query()
            .filter("temperature__lt", 30)
            .count()?,
        0
    );
    assert_eq!(
        t.artifacts()
            .query()
            .filter("measured_on__gte", "2025-01-01")
            .count()?,
        1
    );
    // the values' features join study 1's external feature set
    let described = t.artifacts().describe(&study1)?.to_string();
    assert!(
        described.contains("temperature (float): 37.5"),
        "{name}: {described}"
    );
    assert!(
        described.contains("measured_on (date): 2025-03-01"),
        "{name}: {described}"
    );
    Ok(())
}

lamella_tests::db_test!(feature_values_of_lamindb_2_come_over_typed, |t| {
    values_come_over(&t, "2.12")
});

lamella_tests::db_test!(feature_values_of_lamindb_0_72_come_over_typed, |t| {
    values_come_over(&t, "0.72")
});

lamella_tests::db_test!(labels_and_features_of_an_existing_name_are_shared, |t| {
    // this instance already has a label and a feature the LaminDB instance has by name
    let setosa = t
        .ulabels()
        .create(lamella_core::ULabel::new("setosa"))
        .save()?
        .record;
    let length = t
        .features()
        .create(lamella_core::Feature::new("sepal_length", "float".parse()?))
        .save()?
        .record;
    let (_dir, root, _) = fixture("2.12")?;
    let report = t.import_lamindb(&root.display().to_string(), &ImportOptions::default())?;
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("'setosa'") && n.contains(&setosa.uid)),
        "{:?}",
        report.notes
    );
    assert!(report.notes.iter().any(|n| n.contains("sepal_length")));
    assert_eq!(t.ulabels().filter("name", "setosa").count()?, 1);
    // the LaminDB links use this instance's records
    let species: Vec<String> = t
        .ulabels()
        .filter("parents__name", "is_species")
        .all()?
        .into_iter()
        .map(|l| l.uid)
        .collect();
    assert!(species.contains(&setosa.uid));
    let study1 = t
        .artifacts()
        .query()
        .labelled("setosa", Some("iris_species_name"))
        .all()?;
    assert_eq!(study1.len(), 2, "the folder and study 1");
    let columns = t
        .feature_sets()
        .members(&t.artifacts().features(&study1[1])?.slots()?["columns"].feature_set)?;
    assert!(columns.iter().any(|f| f.uid == length.uid));
    Ok(())
});

lamella_tests::artifact_test!(objects_are_read_from_s3_too, |t| {
    let Some(prefix) = lamella_tests::s3_root() else {
        return Ok(());
    };
    let (_dir, root, expected) = fixture("2.12")?;
    // the instance's objects on S3, its database here (`--storage` names where they are)
    let store = lamella_tests::store(&prefix);
    for entry in walk(&root) {
        let rel = entry
            .strip_prefix(&root)?
            .to_string_lossy()
            .replace('\\', "/");
        if !rel.ends_with("lamin.db") {
            store.put_file(&rel, &entry)?;
        }
    }
    let options = ImportOptions {
        storage: Some(prefix.clone()),
        ..Default::default()
    };
    let db = root.join(".lamindb/lamin.db").display().to_string();
    // one object changed on S3: reported with the hash found, its record left out
    let notes = ".lamindb/zJYsfZgvJBs4G1Go0000.txt"; // iris_studies/scratch_notes.txt
    let original = store.read_bytes(notes)?;
    store.put_bytes(notes, b"changed after LaminDB saved it")?;
    let report = t.import_lamindb(&db, &options)?;
    assert_eq!(report.missing.len(), 1, "{:?}", report.missing);
    assert_eq!(
        report.missing[0].key.as_deref(),
        Some("iris_studies/scratch_notes.txt")
    );
    assert_eq!(
        report.missing[0].found.as_deref(),
        Some(
            lamella_storage::hash_bytes(b"changed after LaminDB saved it")
                .hash
                .as_str()
        )
    );
    let n = expected["artifacts"].as_array().map_or(0, Vec::len);
    let brought = report.linked + report.copied + report.copied_on_server;
    assert_eq!(brought, n - 1);
    // S3 to S3 in one bucket: copied by the server; anything else through this process
    let target = t.storage()?.root;
    let bucket = |root: &str| root.split('/').nth(2).map(str::to_string);
    let in_bucket = target.starts_with("s3://") && bucket(&target) == bucket(&prefix);
    if in_bucket {
        assert_eq!(report.copied_on_server, n - 1, "{report:?}");
    } else {
        assert_eq!(report.copied_on_server, 0, "{report:?}");
    }
    // put back, the rerun completes the import
    store.put_bytes(notes, &original)?;
    let report = t.import_lamindb(&db, &options)?;
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert_eq!(report.root, prefix);
    assert_eq!(report.linked + report.copied + report.copied_on_server, 1);
    prove(&t, &expected, true)?;
    // a third run: objects already there (copied on the server or not) are found, not copied
    let again = t.import_lamindb(&db, &options)?;
    assert!(again.nothing_new(), "{:?}", again.registries);
    assert_eq!(again.copied + again.copied_on_server, 0);
    Ok(())
});

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    contents(dir).into_keys().map(|rel| dir.join(rel)).collect()
}

/// Fixture `name` with its metadata moved to PostgreSQL, imported from its URL.
fn from_postgres(t: &lamella_tests::TestInstance, name: &str, db: &str) -> anyhow::Result<()> {
    let Some(admin) = lamella_tests::postgres_url() else {
        return Ok(());
    };
    let (_dir, root, expected) = fixture(name)?;
    // the same instance with its metadata in PostgreSQL (booleans, timestamptz, bigint)
    let source = lamella_tests::PgDatabase::create(&admin)?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/lamindb_to_postgres.py");
    let sql = std::process::Command::new("python3")
        .arg(script)
        .arg(root.join(db))
        .output()?;
    anyhow::ensure!(
        sql.status.success(),
        "{}",
        String::from_utf8_lossy(&sql.stderr)
    );
    let mut psql = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", &source.url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    std::io::Write::write_all(psql.stdin.as_mut().expect("stdin"), &sql.stdout)?;
    drop(psql.stdin.take());
    anyhow::ensure!(psql.wait()?.success(), "psql failed");
    let options = ImportOptions {
        storage: Some(root.display().to_string()),
        ..Default::default()
    };
    let report = t.import_lamindb(&source.url, &options)?;
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert!(!report.source.contains("password"), "{}", report.source);
    prove(t, &expected, name == "2.12")?;
    assert!(t.import_lamindb(&source.url, &options)?.nothing_new());
    Ok(())
}

lamella_tests::db_test!(a_lamindb_2_instance_on_postgres_imports_whole, |t| {
    from_postgres(&t, "2.12", ".lamindb/lamin.db")
});

lamella_tests::db_test!(a_lamindb_0_72_instance_on_postgres_imports_whole, |t| {
    from_postgres(&t, "0.72", "e137f67e636b5afd9c29bb210c687952.lndb")
});

/// The `bin` folder of a Python environment with the `lamindb` package
/// (`LAMELLA_TEST_LAMINDB_BIN`, set by `cargo xtask ci`); `None` (skip) outside CI.
fn lamindb_bin() -> Option<PathBuf> {
    match std::env::var("LAMELLA_TEST_LAMINDB_BIN") {
        Ok(bin) if !bin.is_empty() => Some(PathBuf::from(bin)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("CI must make LaminDB instances with lamindb: set LAMELLA_TEST_LAMINDB_BIN")
        }
        _ => {
            eprintln!("skipping: LAMELLA_TEST_LAMINDB_BIN is not set (cargo xtask ci sets it)");
            None
        }
    }
}

lamella_tests::db_test!(an_instance_lamindb_makes_now_imports_whole, |t| {
    let Some(bin) = lamindb_bin() else {
        return Ok(());
    };
    // a fresh offline LaminDB instance, then what the fixtures lack, written by lamindb
    let dir = tempfile::tempdir()?;
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run)?;
    let data = dir.path().join("data");
    let lamin = |cmd: &mut std::process::Command| -> anyhow::Result<String> {
        let out = cmd
            .env("LAMIN_SETTINGS_DIR", dir.path().join("settings"))
            .env("LAMIN_CACHE_DIR", dir.path().join("cache"))
            .current_dir(&run)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    lamin(
        std::process::Command::new(bin.join("lamin"))
            .arg("init")
            .arg("--storage")
            .arg(&data),
    )?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/make_lamindb_values.py");
    let made = lamin(std::process::Command::new(bin.join("python")).arg(script))?;
    let made: Value = serde_json::from_str(made.lines().last().unwrap_or_default())?;

    let report = t.import_lamindb(&data.display().to_string(), &ImportOptions::default())?;
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    // a ULabel type as a dtype: 2.x writes the type's uid, it comes over by name
    let cell_type = t.features().get_by_name("cell_type")?;
    assert_eq!(cell_type.dtype.to_string(), "cat[ULabel[CellType]]");
    assert_eq!(made["cell_type_dtype"], "cat[ULabel[CellType]]");
    let t_cell = t.ulabels().get_by_name("T cell")?;
    let parents: Vec<String> = t
        .ulabels()
        .parents(&t_cell)?
        .all()?
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(parents, ["CellType"]);
    // versions in order, the latest marked
    let v2 = made["v2"].as_str().expect("v2");
    let versions = t.artifacts().versions_of(&v2[..16])?;
    let uids: Vec<&str> = versions.iter().map(|a| a.uid.as_str()).collect();
    assert_eq!(uids, [made["v1"].as_str().expect("v1"), v2]);
    assert!(versions[1].is_latest && !versions[0].is_latest);
    // typed values, queried by value as LaminDB answers them
    let q = |lookup: &str, value: lamella_core::Value| -> anyhow::Result<Vec<String>> {
        Ok(t.artifacts()
            .query()
            .filter(lookup, value)
            .all()?
            .into_iter()
            .map(|a| a.uid)
            .collect())
    };
    assert_eq!(q("temperature__gt", 30.into())?, [v2]);
    assert_eq!(q("donors", 3.into())?, [v2]);
    assert_eq!(q("flagged", true.into())?, [v2]);
    assert_eq!(q("measured_on__gte", "2025-01-01".into())?, [v2]);
    assert_eq!(q("cell_type", "T cell".into())?, [v2]);
    let values = t.artifacts().features(&versions[1])?.get_values()?;
    let mut names: Vec<&String> = values.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cell_type",
            "donors",
            "flagged",
            "measured_on",
            "temperature"
        ]
    );
    // an AnnData Zarr store: a folder whose suffix is .zarr, read as AnnData once imported
    let zarr = t.artifacts().get(made["zarr"].as_str().expect("zarr"))?;
    assert_eq!(
        (zarr.suffix.as_str(), zarr.accessor.as_deref()),
        (".zarr", Some("AnnData"))
    );
    assert!(zarr.n_objects.is_some_and(|n| n > 1));
    let obs = t.artifacts().axis(&zarr, lamella_core::Axis::Obs)?;
    assert_eq!(obs.num_rows(), 3);
    assert!(
        t.import_lamindb(&data.display().to_string(), &ImportOptions::default())?
            .nothing_new()
    );
    Ok(())
});
