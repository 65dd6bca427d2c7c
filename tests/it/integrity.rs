//! Referential integrity of the link tables, enforced by the database itself (SQLite foreign
//! keys; PostgreSQL per-statement checks, see the `set_based_link_checks` migration): links
//! to missing records are refused, linked labels, features and values cannot be deleted, and
//! deleting an artifact or collection deletes its links (labels, values, feature sets) — also
//! with two writers at once.

use std::time::Duration;

use lamella_core::{Feature, ULabel, Value};
use lamella_schema::links::{self, Owner};
use lamella_schema::registry::{ARTIFACT, FEATURE, FEATURE_SET, ULABEL};
use lamella_schema::{Conn, delete_by_id, values};
use lamella_tests::{TestInstance, db_test};

const MISSING: i64 = 987_654_321;

/// An artifact with label `liver` through feature `tissue` and value `temperature=37`.
fn annotated(t: &TestInstance) -> anyhow::Result<(i64, i64, i64, i64)> {
    t.ulabels().save_all(["liver", "lung"].map(ULabel::new))?;
    t.features()
        .create(Feature::new("tissue", "cat[ULabel]".parse()?))
        .save()?;
    t.features()
        .create(Feature::new("temperature", "float".parse()?))
        .save()?;
    let p = t.file("a.txt", b"a");
    let a = t.artifacts().from_path(&p).key("a.txt").save()?.record;
    t.artifacts()
        .features(&a)?
        .add_values([("tissue", Value::from("liver")), ("temperature", 37.into())])?;
    let label = t.ulabels().get_by_name("liver")?.id.unwrap();
    let feature = t.features().get_by_name("tissue")?.id.unwrap();
    let db = t.raw_db()?;
    let value = db.with_conn(|c| values::owner_values(c, Owner::Artifact(0), &[a.id.unwrap()]))?;
    assert_eq!(value.len(), 1);
    Ok((a.id.unwrap(), label, feature, value[0].1))
}

/// The id of the instance's user (who saved the artifacts).
fn user(t: &TestInstance) -> anyhow::Result<i64> {
    let p = t.file("u.txt", b"u");
    Ok(t.artifacts().from_path(&p).save()?.record.created_by_id)
}

fn refused(r: lamella_schema::Result<impl std::fmt::Debug>, what: &str) {
    let err = r.expect_err(what).to_string().to_lowercase();
    assert!(err.contains("foreign key"), "{what}: {err}");
}

/// Runs `first` in a transaction on one connection and, once it ran (its transaction kept
/// open 400 ms more), `second` in a transaction on another: the second writer meets the
/// first's uncommitted change. Both results.
fn race<A: Send, B>(
    t: &TestInstance,
    first: impl FnOnce(&mut Conn<'_>) -> lamella_schema::Result<A> + Send,
    second: impl FnOnce(&mut Conn<'_>) -> lamella_schema::Result<B>,
) -> anyhow::Result<(lamella_schema::Result<A>, lamella_schema::Result<B>)> {
    let (one, two) = (t.raw_db()?, t.raw_db()?);
    Ok(std::thread::scope(|s| {
        let (ran, go) = std::sync::mpsc::channel();
        let first = s.spawn(move || {
            one.transaction(|c| {
                let out = first(c)?;
                ran.send(()).ok();
                std::thread::sleep(Duration::from_millis(400));
                Ok(out)
            })
        });
        go.recv().ok();
        let second = two.transaction(second);
        (first.join().expect("the first writer panicked"), second)
    }))
}

db_test!(links_to_missing_records_are_refused, |t| {
    let (a, label, feature, value) = annotated(&t)?;
    let db = t.raw_db()?;
    let me = user(&t)?;
    // Both ways of finding the new links (under the owner's lock, and with ON CONFLICT)
    // leave the parent check to the database.
    for locked in [true, false] {
        let link = |owner: i64, l: i64, f: Option<i64>| {
            db.transaction(|c| {
                links::link_ulabels(c, Owner::Artifact(owner), &[(l, f)], me, locked)
            })
        };
        refused(link(MISSING, label, Some(feature)), "a missing artifact");
        refused(link(a, MISSING, Some(feature)), "a missing label");
        refused(link(a, label, Some(MISSING)), "a missing feature");
        refused(
            db.transaction(|c| {
                links::link_ulabels(c, Owner::Collection(MISSING), &[(label, None)], me, locked)
            }),
            "a missing collection",
        );
    }
    refused(
        db.transaction(|c| values::link_values(c, Owner::Artifact(0), &[(a, MISSING)])),
        "a missing value",
    );
    refused(
        db.transaction(|c| values::link_values(c, Owner::Artifact(0), &[(MISSING, value)])),
        "a value for a missing artifact",
    );
    // feature-set links (checked per statement on PostgreSQL too)
    let (slot, set) = db.with_conn(|c| links::slots(c, Owner::Artifact(a)))?[0].clone();
    assert_eq!(slot, "external");
    refused(
        db.transaction(|c| links::set_slot(c, Owner::Artifact(MISSING), "obs", set)),
        "a feature set for a missing artifact",
    );
    refused(
        db.transaction(|c| links::set_slot(c, Owner::Artifact(a), "obs", MISSING)),
        "a missing feature set",
    );
    // linking the set a slot already has replaces nothing and leaves the slots as they were
    let before = db.with_conn(|c| links::slots(c, Owner::Artifact(a)))?;
    assert_eq!(
        db.transaction(|c| links::set_slot(c, Owner::Artifact(a), &slot, set))?,
        None
    );
    assert_eq!(
        db.with_conn(|c| links::slots(c, Owner::Artifact(a)))?,
        before
    );
    // one bad row among good ones: nothing is linked
    let lung = t.ulabels().get_by_name("lung")?.id.unwrap();
    refused(
        db.transaction(|c| {
            links::link_ulabels(
                c,
                Owner::Artifact(a),
                &[(lung, None), (MISSING, None)],
                me,
                true,
            )
        }),
        "a batch with one missing label",
    );
    let linked = db.with_conn(|c| links::label_links(c, Owner::Artifact(a)))?;
    assert_eq!(linked, vec![(label, Some(feature))]);
    Ok(())
});

db_test!(labels_and_features_of_a_missing_creator_are_refused, |t| {
    use lamella_schema::Store as _;
    let me = user(&t)?;
    let db = t.raw_db()?;
    let label = |name: &str, by: i64| ULabel {
        created_by_id: by,
        ..ULabel::new(name)
    };
    refused(
        db.transaction(|c| ULabel::insert_all(c, &mut [label("orphan", MISSING)])),
        "a label of a missing user",
    );
    // one bad row among good ones: nothing is inserted
    refused(
        db.transaction(|c| {
            ULabel::insert_all(c, &mut [label("kept?", me), label("orphan", MISSING)])
        }),
        "a batch with one label of a missing user",
    );
    assert!(t.ulabels().get_by_name("kept?").is_err());
    let feature = Feature {
        created_by_id: MISSING,
        ..Feature::new("orphan", "float".parse()?)
    };
    refused(
        db.transaction(|c| Feature::insert_all(c, &mut [feature.clone()])),
        "a feature of a missing user",
    );
    // a creator who made labels and features is not deleted
    db.transaction(|c| ULabel::insert_all(c, &mut [label("mine", me)]))?;
    refused(
        db.transaction(|c| delete_by_id(c, &lamella_schema::registry::USER, me)),
        "a user who made labels",
    );
    Ok(())
});

db_test!(
    linked_records_stay_and_deleted_owners_take_their_links,
    |t| {
        let (a, label, feature, _) = annotated(&t)?;
        let db = t.raw_db()?;
        // below the API's own checks: the database refuses too
        refused(
            db.transaction(|c| delete_by_id(c, &ULABEL, label)),
            "a linked label",
        );
        refused(
            db.transaction(|c| delete_by_id(c, &FEATURE, feature)),
            "a linked feature",
        );
        let (_, set) = db.with_conn(|c| links::slots(c, Owner::Artifact(a)))?[0].clone();
        refused(
            db.transaction(|c| delete_by_id(c, &FEATURE_SET, set)),
            "a linked feature set",
        );
        // an unlinked label goes
        let lung = t.ulabels().get_by_name("lung")?.id.unwrap();
        assert!(db.transaction(|c| delete_by_id(c, &ULABEL, lung))?);
        // deleting the artifact deletes its label and value links
        assert!(db.transaction(|c| delete_by_id(c, &ARTIFACT, a))?);
        assert!(
            db.with_conn(|c| links::label_links(c, Owner::Artifact(a)))?
                .is_empty()
        );
        assert!(
            db.with_conn(|c| values::owner_values(c, Owner::Artifact(0), &[a]))?
                .is_empty()
        );
        assert!(
            db.with_conn(|c| links::slots(c, Owner::Artifact(a)))?
                .is_empty()
        );
        // and the label and the feature set can go now
        assert!(db.transaction(|c| delete_by_id(c, &FEATURE_SET, set))?);
        assert!(db.transaction(|c| delete_by_id(c, &ULABEL, label))?);
        Ok(())
    }
);

db_test!(
    a_label_deleted_while_it_is_linked_elsewhere_never_leaves_a_dangling_link,
    |t| {
        let (a, _, _, _) = annotated(&t)?;
        let lung = t.ulabels().get_by_name("lung")?.id.unwrap();
        let me = user(&t)?;
        // deleter first: the linker waits, then finds the label gone
        let (deleted, linked) = race(
            &t,
            |c| delete_by_id(c, &ULABEL, lung),
            |c| links::link_ulabels(c, Owner::Artifact(a), &[(lung, None)], me, true),
        )?;
        assert!(deleted?, "the label was deleted");
        refused(linked, "a link to a label deleted meanwhile");
        // linker first: the deleter waits, then finds the label linked
        t.ulabels().save_all([ULabel::new("lung2")])?;
        let lung2 = t.ulabels().get_by_name("lung2")?.id.unwrap();
        let (linked, deleted) = race(
            &t,
            |c| links::link_ulabels(c, Owner::Artifact(a), &[(lung2, None)], me, true),
            |c| delete_by_id(c, &ULABEL, lung2),
        )?;
        assert_eq!(linked?, 1);
        refused(deleted, "deleting a label linked meanwhile");
        let db = t.raw_db()?;
        let linked = db.with_conn(|c| links::label_links(c, Owner::Artifact(a)))?;
        assert!(linked.iter().any(|(l, _)| *l == lung2));
        assert!(!linked.iter().any(|(l, _)| *l == lung));
        Ok(())
    }
);

db_test!(
    two_writers_of_the_same_links_under_the_owner_lock_add_them_once,
    |t| {
        let (a, _, _, _) = annotated(&t)?;
        let lung = t.ulabels().get_by_name("lung")?.id.unwrap();
        let me = user(&t)?;
        // Each writer takes the owner's lock and finds new links without ON CONFLICT: the
        // second waits for the first to commit, then sees its links and adds nothing (and
        // fails on no unique index).
        let add = |c: &mut Conn<'_>| {
            links::lock_owners(c, Owner::Artifact(0), &[a])?;
            links::link_ulabels(c, Owner::Artifact(a), &[(lung, None)], me, true)
        };
        let (first, second) = race(&t, add, add)?;
        assert_eq!(first?, 1);
        assert_eq!(second?, 0);
        let db = t.raw_db()?;
        let linked = db.with_conn(|c| links::label_links(c, Owner::Artifact(a)))?;
        assert_eq!(linked.iter().filter(|(l, _)| *l == lung).count(), 1);
        Ok(())
    }
);
