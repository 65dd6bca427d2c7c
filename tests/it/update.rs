//! Editing what was saved: keys (for a whole version family), descriptions, collection
//! names; content saved again under another key says where it already is.

use lamella_core::{Edit, Error};
use lamella_tests::{TestInstance, artifact_test, db_test};

fn versions(t: &TestInstance, key: &str) -> anyhow::Result<Vec<lamella_core::Artifact>> {
    let p1 = t.file("v1.csv", b"a,b\n1,2\n");
    let p2 = t.file("v2.csv", b"a,b\n1,2\n3,4\n");
    let v1 = t.artifacts().from_path(&p1).key(key).save()?.record;
    let v2 = t.artifacts().from_path(&p2).key(key).save()?.record;
    Ok(vec![v1, v2])
}

artifact_test!(
    a_key_change_renames_every_version_and_moves_no_object,
    |t| {
        let vs = versions(&t, "raw/data.csv")?;
        let before: Vec<Vec<u8>> = vs
            .iter()
            .map(|a| Ok(std::fs::read(t.artifacts().cache(a)?)?))
            .collect::<anyhow::Result<_>>()?;
        let done = t.artifacts().update(
            &vs[0],
            &Edit {
                key: Some("clean/data.csv".into()),
                ..Edit::default()
            },
        )?;
        assert_eq!(done.versions_renamed, 2);
        assert_eq!(done.record.key.as_deref(), Some("clean/data.csv"));
        assert_eq!(done.changes, ["key 'raw/data.csv' → 'clean/data.csv'"]);
        let family = t.artifacts().versions_by_key("clean/data.csv")?;
        assert_eq!(
            family.iter().map(|a| a.uid.as_str()).collect::<Vec<_>>(),
            [vs[0].uid.as_str(), vs[1].uid.as_str()]
        );
        assert!(family[1].is_latest && !family[0].is_latest);
        assert!(matches!(
            t.artifacts().versions_by_key("raw/data.csv"),
            Err(Error::NotFound { .. })
        ));
        // The objects are where they were, with the same bytes.
        for (a, bytes) in family.iter().zip(&before) {
            assert_eq!(&std::fs::read(t.artifacts().cache(a)?)?, bytes);
        }
        // A new save under the new key is the family's next version.
        let p3 = t.file("v3.csv", b"a,b\n5,6\n");
        let v3 = t
            .artifacts()
            .from_path(&p3)
            .key("clean/data.csv")
            .save()?
            .record;
        assert_eq!(&v3.uid[..16], &vs[0].uid[..16]);
        assert_eq!(&v3.uid[16..], "0002");
        Ok(())
    }
);

db_test!(a_description_changes_on_one_version_only, |t| {
    let vs = versions(&t, "d.csv")?;
    let done = t.artifacts().update(
        &vs[1],
        &Edit {
            description: Some(Some("second run".into())),
            ..Edit::default()
        },
    )?;
    assert_eq!(done.versions_renamed, 0);
    assert_eq!(done.record.description.as_deref(), Some("second run"));
    assert_eq!(
        t.artifacts().get(&vs[1].uid)?.description.as_deref(),
        Some("second run")
    );
    assert_ne!(
        t.artifacts().get(&vs[0].uid)?.description.as_deref(),
        Some("second run")
    );
    // The same again changes nothing.
    let again = t.artifacts().update(
        &vs[1],
        &Edit {
            description: Some(Some("second run".into())),
            ..Edit::default()
        },
    )?;
    assert!(again.changes.is_empty());
    // Cleared.
    let cleared = t.artifacts().update(
        &vs[1],
        &Edit {
            description: Some(None),
            ..Edit::default()
        },
    )?;
    assert_eq!(cleared.record.description, None);
    Ok(())
});

db_test!(bad_new_keys_are_refused_and_nothing_changes, |t| {
    let vs = versions(&t, "a.csv")?;
    let other = t
        .artifacts()
        .from_path(t.file("o.csv", b"x\n1\n"))
        .key("b.csv")
        .save()?
        .record;
    let edit = |k: &str| Edit {
        key: Some(k.into()),
        ..Edit::default()
    };
    let e = t.artifacts().update(&vs[0], &edit("b.csv")).unwrap_err();
    assert!(matches!(&e, Error::Taken { .. }), "{e}");
    assert!(e.to_string().contains(&other.uid), "{e}");
    let e = t
        .artifacts()
        .update(&vs[0], &edit("a.parquet"))
        .unwrap_err();
    assert!(e.to_string().contains("suffix '.parquet'"), "{e}");
    let e = t.artifacts().update(&vs[0], &edit("../a.csv")).unwrap_err();
    assert!(matches!(e, Error::InvalidKey { .. }), "{e}");
    assert_eq!(t.artifacts().versions_by_key("a.csv")?.len(), 2);
    assert_eq!(t.artifacts().get(&other.uid)?.key.as_deref(), Some("b.csv"));
    Ok(())
});

db_test!(
    content_saved_under_another_key_names_the_existing_key,
    |t| {
        let p = t.file("same.csv", b"x\n1\n");
        let first = t.artifacts().from_path(&p).key("first.csv").save()?;
        let second = t.artifacts().from_path(&p).key("second.csv").save()?;
        assert!(second.existed);
        assert_eq!(second.record.uid, first.record.uid);
        assert_eq!(second.record.key.as_deref(), Some("first.csv"));
        let note = second.notes.join("\n");
        assert!(note.contains("under key 'first.csv'"), "{note}");
        assert!(note.contains("not saved under 'second.csv'"), "{note}");
        Ok(())
    }
);

db_test!(a_collection_is_renamed_with_its_versions, |t| {
    let vs = versions(&t, "c.csv")?;
    let extra = t
        .artifacts()
        .from_path(t.file("e.csv", b"e\n1\n"))
        .key("e.csv")
        .save()?
        .record;
    let c1 = t.collections().create(&vs[..1], "study").save()?;
    let c2 = t
        .collections()
        .create(&[vs[0].clone(), extra.clone()], "study")
        .save()?;
    let other = t
        .collections()
        .create(std::slice::from_ref(&extra), "other")
        .save()?;
    let e = t
        .collections()
        .update(
            &c2,
            &Edit {
                key: Some("other".into()),
                ..Edit::default()
            },
        )
        .unwrap_err();
    assert!(matches!(&e, Error::Taken { .. }), "{e}");
    assert!(e.to_string().contains(&other.uid), "{e}");
    let done = t.collections().update(
        &c2,
        &Edit {
            key: Some("study 2025".into()),
            description: Some(Some("renamed".into())),
        },
    )?;
    assert_eq!(done.versions_renamed, 2);
    assert_eq!(t.collections().get("study 2025")?.uid, c2.uid);
    let family = t.collections().versions(&c1)?;
    assert!(family.iter().all(|c| c.name == "study 2025"));
    assert!(t.collections().get("study").is_err());
    Ok(())
});
