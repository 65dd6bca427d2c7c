//! The three descriptions of the database — the migrations (as applied), the diesel tables
//! (`schema/src/tables.rs`) and the registries (`schema/src/registry.rs`) — agree about every
//! table's columns, their types and whether they accept NULL.

use std::collections::{BTreeMap, BTreeSet};

use lamella_schema::registry::{ALL, ALL_TABLES, FieldType};
use lamella_tests::db_test;

/// A column as `tables.rs` declares it: (SQL name, normalised type, nullable).
type Declared = (String, String, bool);

/// Parses the `diesel::table!` blocks of `tables.rs`.
fn declared_tables() -> BTreeMap<String, Vec<Declared>> {
    let src = include_str!("../../schema/src/tables.rs");
    let mut tables = BTreeMap::new();
    for block in src.split("diesel::table! {").skip(1) {
        let body = &block[..block.find("\n}").expect("a closed table! block")];
        let mut lines = body.lines().map(str::trim).filter(|l| !l.is_empty());
        let head = lines.next().expect("a table name");
        let name = head.split_whitespace().next().unwrap().to_string();
        let mut columns = Vec::new();
        let mut sql_name: Option<String> = None;
        for line in lines {
            if let Some(rest) = line.strip_prefix("#[sql_name = \"") {
                sql_name = Some(rest.trim_end_matches("\"]").to_string());
                continue;
            }
            let Some((col, ty)) = line.split_once("->") else {
                continue;
            };
            let ty = ty.trim().trim_end_matches(',');
            let (nullable, ty) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (true, inner.trim_end_matches('>')),
                None => (false, ty),
            };
            let ty = match ty {
                "BigInt" => "bigint",
                "Integer" => "integer",
                "SmallInt" => "smallint",
                "Text" => "text",
                "Bool" => "boolean",
                "Timestamp" => "timestamp",
                "Double" => "double precision",
                other => panic!("tables.rs: unexpected diesel type {other} in {name}"),
            };
            let col = sql_name.take().unwrap_or_else(|| col.trim().to_string());
            columns.push((col, ty.to_string(), nullable));
        }
        tables.insert(name, columns);
    }
    tables
}

fn field_type(t: FieldType) -> &'static str {
    match t {
        FieldType::BigInt => "bigint",
        FieldType::Int => "integer",
        FieldType::SmallInt => "smallint",
        FieldType::Text => "text",
        FieldType::Bool => "boolean",
        FieldType::Timestamp => "timestamp",
        FieldType::Double => "double precision",
    }
}

db_test!(migrations_tables_and_registries_agree, |t| {
    let declared = declared_tables();
    let listed: BTreeSet<String> = ALL_TABLES.iter().map(|s| s.to_string()).collect();
    let in_tables_rs: BTreeSet<String> = declared.keys().cloned().collect();
    assert_eq!(
        listed, in_tables_rs,
        "registry::ALL_TABLES and the table! blocks of tables.rs list different tables"
    );
    let db = t.raw_db()?;
    let mut problems = Vec::new();
    for (table, columns) in &declared {
        let actual = db.with_conn(|c| lamella_schema::table_columns(c, table))?;
        if actual.is_empty() {
            problems.push(format!(
                "{table}: in tables.rs but not created by the migrations"
            ));
            continue;
        }
        let actual: Vec<Declared> = actual
            .into_iter()
            .map(|c| (c.name, c.sql_type, c.nullable))
            .collect();
        let want: BTreeSet<&Declared> = columns.iter().collect();
        let have: BTreeSet<&Declared> = actual.iter().collect();
        for c in want.difference(&have) {
            problems.push(format!(
                "{table}: tables.rs has {c:?}, the migrated database not"
            ));
        }
        for c in have.difference(&want) {
            problems.push(format!(
                "{table}: the migrated database has {c:?}, tables.rs not"
            ));
        }
    }
    for reg in ALL.iter() {
        let Some(columns) = declared.get(reg.table) else {
            problems.push(format!(
                "registry {}: no table {} in tables.rs",
                reg.name, reg.table
            ));
            continue;
        };
        let cols: BTreeMap<&str, &str> = columns
            .iter()
            .map(|(n, t, _)| (n.as_str(), t.as_str()))
            .collect();
        let fields: BTreeMap<&str, &str> = reg
            .fields
            .iter()
            .map(|f| (f.name, field_type(f.ty)))
            .collect();
        if cols != fields {
            problems.push(format!(
                "registry {} and table {} differ:\n  registry: {fields:?}\n  table:    {cols:?}",
                reg.name, reg.table
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
});

db_test!(a_label_annotates_an_artifact_once_per_feature, |t| {
    let label = t
        .ulabels()
        .create(lamella_core::ULabel::new("setosa"))
        .save()?
        .record;
    let f1 = t
        .features()
        .create(lamella_core::Feature::new("species", "cat".parse()?))
        .save()?
        .record;
    let f2 = t
        .features()
        .create(lamella_core::Feature::new("organism", "cat".parse()?))
        .save()?
        .record;
    let p = t.file("a.txt", b"a");
    let a = t.artifacts().from_path(&p).save()?.record;
    let (a_id, l, u) = (a.id.unwrap(), label.id.unwrap(), t.user().id.unwrap());
    let (f1, f2) = (f1.id.unwrap(), f2.id.unwrap());
    let db = t.raw_db()?;
    let added = db.transaction(|c| {
        lamella_schema::links::link_ulabels(
            c,
            lamella_schema::links::Owner::Artifact(a_id),
            &[(l, None), (l, Some(f1)), (l, Some(f2)), (l, Some(f1))],
            u,
            true,
        )
    })?;
    assert_eq!(
        added, 3,
        "one label under two features and without one (a repeated row once)"
    );
    // Repeating any of them adds nothing, on both databases, either way of finding new links.
    for locked in [true, false] {
        let again = db.transaction(|c| {
            lamella_schema::links::link_ulabels(
                c,
                lamella_schema::links::Owner::Artifact(a_id),
                &[(l, None), (l, Some(f1)), (l, None)],
                u,
                locked,
            )
        })?;
        assert_eq!(again, 0);
    }
    let links = db.with_conn(|c| {
        lamella_schema::links::label_links(c, lamella_schema::links::Owner::Artifact(a_id))
    })?;
    assert_eq!(links, vec![(l, None), (l, Some(f1)), (l, Some(f2))]);
    // describe() lists the label once, and per feature where a slot holds the feature.
    let d = t.artifacts().describe(&a)?;
    assert_eq!(d.labels["ulabels"].len(), 1);
    Ok(())
});

/// Inserts `rows` with `Store::insert_all` and asserts that reading them back by id gives
/// them field for field.
fn saved_rows_read_back<T>(t: &lamella_tests::TestInstance, mut rows: Vec<T>) -> anyhow::Result<()>
where
    T: lamella_schema::Store + PartialEq,
{
    let db = t.raw_db()?;
    db.transaction(|c| T::insert_all(c, &mut rows))?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id().unwrap()).collect();
    let mut back: Vec<T> = db.with_conn(|c| lamella_schema::load_by_ids(c, &ids))?;
    back.sort_by_key(|r| r.id());
    rows.sort_by_key(|r| r.id());
    assert_eq!(back, rows, "{} rows", rows.len());
    Ok(())
}

db_test!(artifacts_inserted_in_bulk_read_back_field_for_field, |t| {
    use lamella_schema::{Artifact, HashType, Visibility};
    // 40 rows (PostgreSQL: the column-array insert) and 3 (VALUES), every field set or unset.
    let (user, storage) = (t.user().id.unwrap(), t.storage()?.id.unwrap());
    let now = lamella_schema::now();
    let make = |round: usize, i: i64| Artifact {
        id: None,
        uid: lamella_schema::base62_uid(20),
        storage_id: storage,
        key: (i % 2 == 0).then(|| format!("bulk{round}/{i}.txt")),
        suffix: if i % 3 == 0 {
            String::new()
        } else {
            ".txt".into()
        },
        accessor: (i % 5 == 0).then(|| "DataFrame".to_string()),
        description: (i % 4 == 0).then(|| format!("row {i} — ünïcode")),
        size: (i % 7 != 0).then_some(i * 1000),
        hash: (i % 7 != 0).then(|| format!("hash{i}")),
        hash_type: [None, Some(HashType::Md5), Some(HashType::Sha1Fl)][(i % 3) as usize],
        n_objects: (i % 6 == 0).then_some(i),
        n_observations: (i % 8 == 0).then_some(i * 10),
        version: (i % 9 == 0).then(|| format!("v{i}")),
        is_latest: i % 2 == 0,
        visibility: [Visibility::Default, Visibility::Hidden, Visibility::Trash][(i % 3) as usize],
        key_is_virtual: i % 3 != 1,
        transform_id: None,
        run_id: None,
        created_at: now,
        updated_at: now + chrono::Duration::microseconds(i),
        created_by_id: user,
    };
    for (round, n) in [40, 3].into_iter().enumerate() {
        let rows: Vec<Artifact> = (0..n).map(|i| make(round, i)).collect();
        saved_rows_read_back(&t, rows)?;
    }
    Ok(())
});

db_test!(labels_inserted_in_bulk_read_back_field_for_field, |t| {
    use lamella_schema::ULabel;
    // 40 rows (PostgreSQL: the column-array insert) and 3 (VALUES), every field set or unset.
    let user = t.user().id.unwrap();
    let now = lamella_schema::now();
    for (round, n) in [40, 3].into_iter().enumerate() {
        let rows: Vec<ULabel> = (0..n)
            .map(|i: i64| ULabel {
                id: None,
                uid: lamella_schema::base62_uid(8),
                name: format!("bulk label {round}-{i} ✓"),
                description: (i % 2 == 0).then(|| format!("described {i}")),
                reference: (i % 3 == 0).then(|| format!("CL:{i:07}")),
                reference_type: (i % 3 == 0).then(|| "Cell Ontology".to_string()),
                created_at: now,
                updated_at: now + chrono::Duration::microseconds(i),
                created_by_id: user,
                run_id: None,
                synonyms: (i % 4 == 0).then(|| format!("alias{round}-{i}|other{round}-{i}")),
            })
            .collect();
        saved_rows_read_back(&t, rows)?;
    }
    Ok(())
});
