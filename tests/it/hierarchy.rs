use lamella_core::{Error, Format, ULabel};
use lamella_tests::db_test;

fn names(v: &[ULabel]) -> Vec<&str> {
    v.iter().map(|l| l.name.as_str()).collect()
}

db_test!(children_set_and_query_by_relation, |t| {
    let species = t
        .ulabels()
        .save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?;
    let is_species = t.ulabels().create(ULabel::new("is_species")).save()?;
    assert_eq!(t.ulabels().children(&is_species)?.set(&species.records)?, 3);
    assert_eq!(
        names(&t.ulabels().filter("parents__name", "is_species").all()?),
        ["setosa", "versicolor", "virginica"]
    );
    assert_eq!(
        names(&t.ulabels().filter("children__name", "setosa").all()?),
        ["is_species"]
    );
    assert_eq!(
        names(&t.ulabels().parents(&species.records[0])?.all()?),
        ["is_species"]
    );
    // set replaces
    t.ulabels()
        .children(&is_species)?
        .set(&species.records[..1])?;
    assert_eq!(
        names(&t.ulabels().children(&is_species)?.all()?),
        ["setosa"]
    );
    assert_eq!(
        t.ulabels()
            .children(&is_species)?
            .remove(&species.records[..1])?,
        1
    );
    assert!(t.ulabels().children(&is_species)?.all()?.is_empty());
    assert_eq!(t.ulabels().filter("parents__isnull", true).count()?, 4);
    Ok(())
});

db_test!(cycles_are_refused_and_change_nothing, |t| {
    let out = t.ulabels().save_all(["a", "b", "c"].map(ULabel::new))?;
    let [a, b, c] = [&out.records[0], &out.records[1], &out.records[2]];
    t.ulabels().children(a)?.add(std::slice::from_ref(b))?; // a -> b
    t.ulabels().children(b)?.add(std::slice::from_ref(c))?; // b -> c
    // c -> a would close a -> b -> c -> a
    let e = t
        .ulabels()
        .children(c)?
        .add(std::slice::from_ref(a))
        .unwrap_err();
    assert!(matches!(e, Error::Cycle { .. }), "{e}");
    assert!(
        e.to_string().contains("cannot make 'c' a parent of 'a'"),
        "{e}"
    );
    let e = t
        .ulabels()
        .parents(a)?
        .add(std::slice::from_ref(c))
        .unwrap_err();
    assert!(matches!(e, Error::Cycle { .. }), "{e}");
    let e = t
        .ulabels()
        .parents(a)?
        .add(std::slice::from_ref(a))
        .unwrap_err();
    assert!(matches!(e, Error::Cycle { .. }), "{e}");
    // set() that fails keeps the old links (one transaction)
    let e = t
        .ulabels()
        .children(c)?
        .set(std::slice::from_ref(a))
        .unwrap_err();
    assert!(matches!(e, Error::Cycle { .. }), "{e}");
    assert_eq!(
        names(&t.ulabels().filter("parents__name", "b").all()?),
        ["c"]
    );
    assert_eq!(t.ulabels().filter("parents__isnull", false).count()?, 2);
    Ok(())
});

db_test!(attach_ten_thousand_children, |t| {
    let kids = t
        .ulabels()
        .save_all((0..10_000).map(|i| ULabel::new(format!("kid{i}"))))?;
    let parent = t.ulabels().create(ULabel::new("parent")).save()?;
    assert_eq!(t.ulabels().children(&parent)?.add(&kids.records)?, 10_000);
    assert_eq!(
        t.ulabels().filter("parents__name", "parent").count()?,
        10_000
    );
    // adding again is a no-op
    assert_eq!(t.ulabels().children(&parent)?.add(&kids.records[..10])?, 0);
    Ok(())
});

db_test!(view_parents_builds_the_hierarchy, |t| {
    let species = t
        .ulabels()
        .save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?;
    let is_species = t.ulabels().create(ULabel::new("is_species")).save()?;
    let top = t.ulabels().create(ULabel::new("taxonomy")).save()?;
    t.ulabels().children(&is_species)?.set(&species.records)?;
    t.ulabels()
        .parents(&is_species)?
        .add(std::slice::from_ref(&top.record))?;
    let g = t
        .ulabels()
        .view_parents(&is_species, lamella_core::ViewParents::WithChildren, 5)?;
    let mut nodes: Vec<&str> = g.nodes().map(|n| n.label.as_str()).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        [
            "is_species",
            "setosa",
            "taxonomy",
            "versicolor",
            "virginica"
        ]
    );
    assert_eq!(g.edge_count(), 4);
    let dot = lamella_core::render(&g, Format::Dot)?;
    assert!(
        dot.contains("is_species") && dot.starts_with("digraph"),
        "{dot}"
    );
    let svg = lamella_core::render(&g, Format::Svg)?;
    assert!(svg.contains("<svg") && svg.contains("virginica"));
    let mmd = lamella_core::render(&g, Format::Mermaid)?;
    assert!(
        mmd.starts_with("graph TD") || mmd.starts_with("flowchart"),
        "{mmd}"
    );
    // without children: only the ancestors
    let g = t
        .ulabels()
        .view_parents(&is_species, lamella_core::ViewParents::Parents, 5)?;
    assert_eq!(g.len(), 2);
    Ok(())
});

db_test!(labels_and_their_parent_links_are_saved_together, |t| {
    let reg = t.ulabels();
    let root = reg.create(ULabel::new("root")).save()?.record;
    let child = reg
        .create(ULabel::new("child"))
        .parents(std::slice::from_ref(&root))
        .save()?
        .record;
    assert_eq!(reg.parents(&child)?.all()?[0].name, "root");
    // Making `root` a child of its own child closes a cycle: the whole save is refused, and
    // the new label of the same batch is not saved either.
    let e = reg
        .save_all_with_parents(
            [ULabel::new("brand new"), ULabel::new("root")],
            std::slice::from_ref(&child),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Cycle { .. }), "{e}");
    assert!(reg.filter("name", "brand new").one_or_none()?.is_none());
    assert!(reg.parents(&root)?.all()?.is_empty());
    Ok(())
});

db_test!(
    save_names_writes_more_than_a_batch_in_one_transaction,
    |t| {
        let reg = t.ulabels();
        let root = reg.create(ULabel::new("root")).save()?.record;
        let old = reg.create(ULabel::new("existing label")).save()?.record;
        // More names than one write batch (50,000), with a stored name, a name given twice and a
        // near-duplicate of a stored name.
        let mut owned: Vec<String> = (0..50_100).map(|i| format!("cell_{i:06}")).collect();
        owned.extend(["existing label", "cell_000007", "existing labl"].map(String::from));
        let names: Vec<&str> = owned.iter().map(String::as_str).collect();
        let saved = reg.save_names(&names, std::slice::from_ref(&root))?;
        assert_eq!(saved.ids.len(), names.len());
        assert_eq!(saved.created, 50_101);
        assert_eq!(saved.existing, ["existing label"]);
        assert_eq!(Some(saved.ids[50_100]), old.id);
        assert_eq!(saved.ids[50_101], saved.ids[7]);
        assert!(
            saved
                .similar
                .iter()
                .any(|(n, s)| n == "existing labl" && s == &["existing label"]),
            "{:?}",
            saved.similar
        );
        // Each id names its label, in both write batches.
        for i in [0, 49_999, 50_000, 50_099, 50_102] {
            assert_eq!(reg.filter("id", saved.ids[i]).one()?.name, names[i]);
        }
        assert_eq!(reg.filter("parents__name", "root").count()?, 50_102);
        assert_eq!(reg.query().count()?, 50_103);
        // The name index holds the new names: a later create hears of its near-duplicate.
        let later = reg.create(ULabel::new("cel_000007")).save()?;
        assert_eq!(later.similar, ["cell_000007"]);

        // Anything wrong saves nothing: a bad name (checked before any write), a cycle.
        let e = reg.save_names(&["fine", "bad\u{1}name"], &[]).unwrap_err();
        assert!(matches!(e, Error::InvalidName { .. }), "{e}");
        let child = reg.filter("name", "cell_000001").one()?;
        let e = reg
            .save_names(&["brand new", "root"], std::slice::from_ref(&child))
            .unwrap_err();
        assert!(matches!(e, Error::Cycle { .. }), "{e}");
        assert_eq!(reg.query().count()?, 50_104);
        Ok(())
    }
);
