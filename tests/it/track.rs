//! Provenance (SPEC §6): tracked runs, their records, inputs and transform parents.

use lamella_core::{Artifact, Run, Transform, ULabel};
use lamella_tests::{StorageKind, artifact_test, db_test};

db_test!(track_reuses_transforms_and_versions_keep_the_stem, |t| {
    let first = t.track(Transform::new("Petal & sepal regressor"))?;
    assert!(first.new_transform);
    assert_eq!(first.transform.kind, "pipeline");
    assert!(first.run.finished_at.is_none());
    let env: serde_json::Value = serde_json::from_str(first.run.environment.as_deref().unwrap())?;
    assert_eq!(env["lamella"], env!("CARGO_PKG_VERSION"));
    assert!(env["command_line"].is_array());
    // The same name without a version reuses the transform, with a new run.
    let again = t.track(Transform::new("Petal & sepal regressor"))?;
    assert!(!again.new_transform);
    assert_eq!(again.transform.uid, first.transform.uid);
    assert_ne!(again.run.uid, first.run.uid);
    // Another version: same stem, next suffix; the old one is no longer the latest.
    let v2 = t.track(Transform::new("Petal & sepal regressor").version("2"))?;
    assert!(v2.new_transform);
    assert_eq!(&v2.transform.uid[..12], &first.transform.uid[..12]);
    assert_eq!(&v2.transform.uid[12..], "0001");
    let old = t
        .query::<Transform>()
        .filter("uid", first.transform.uid.as_str())
        .one()?;
    assert!(!old.is_latest);
    // Transforms with a key are found by it.
    let keyed = t.track(
        Transform::new("Other name")
            .key("scripts/run.py")
            .kind("script"),
    )?;
    let renamed = t.track(
        Transform::new("Renamed")
            .key("scripts/run.py")
            .kind("script"),
    )?;
    assert_eq!(keyed.transform.uid, renamed.transform.uid);
    let e = t.track(Transform::new("x").kind("job")).unwrap_err();
    assert!(e.to_string().contains("not a transform type"), "{e}");
    let finished = t.finish()?.expect("a run was tracked");
    assert!(finished.finished_at.is_some());
    assert!(t.current_run().is_none());
    assert!(t.finish()?.is_none());
    Ok(())
});

db_test!(
    records_saved_in_a_run_carry_it_and_loads_become_inputs,
    |t| {
        let p = t.file("raw.txt", b"raw images");
        let upload = t.track(Transform::new("Upload raw data").kind("upload"))?;
        let raw = t
            .artifacts()
            .from_path(&p)
            .key("raw/raw.txt")
            .save()?
            .record;
        assert_eq!(raw.run_id, upload.run.id);
        assert_eq!(raw.transform_id, upload.transform.id);
        t.finish()?;
        let model = t.track(Transform::new("Petal & sepal regressor"))?;
        // Loading makes the artifact an input of the run; its producer becomes a parent.
        t.artifacts().load(&raw)?;
        t.artifacts().load(&raw)?;
        let label = t
            .ulabels()
            .create(ULabel::new("made in a run"))
            .save()?
            .record;
        assert_eq!(label.run_id, model.run.id);
        let out = t.file("out.txt", b"model output");
        let produced = t
            .artifacts()
            .from_path(&out)
            .key("out/out.txt")
            .save()?
            .record;
        // Loading what the run itself produced is not an input.
        t.artifacts().load(&produced)?;
        let inputs = t
            .query::<Artifact>()
            .filter("input_of_runs__uid", model.run.uid.as_str())
            .all()?;
        assert_eq!(
            inputs.iter().map(|a| &a.uid).collect::<Vec<_>>(),
            [&raw.uid]
        );
        let parents = t
            .query::<Transform>()
            .filter("children__uid", model.transform.uid.as_str())
            .all()?;
        assert_eq!(parents.len(), 1);
        assert_eq!(parents[0].uid, upload.transform.uid);
        // The transform hierarchy: the upload feeds the model (highlighted).
        let g =
            t.transforms()
                .view_parents(&model.transform, lamella_core::ViewParents::Parents, 5)?;
        let edges: Vec<(String, String)> = g
            .edges()
            .map(|(p, c)| (p.label.clone(), c.label.clone()))
            .collect();
        assert_eq!(
            edges,
            [(upload.transform.name.clone(), model.transform.name.clone())]
        );
        let down = t.transforms().view_parents(
            &upload.transform,
            lamella_core::ViewParents::WithChildren,
            5,
        )?;
        assert_eq!(down.edge_count(), 1);
        assert_eq!(
            t.transforms()
                .view_parents(&upload.transform, lamella_core::ViewParents::Parents, 5)?
                .edge_count(),
            0
        );
        let d = t.artifacts().describe(&produced)?;
        assert_eq!(
            d.provenance.run.as_ref().map(|r| &r.uid),
            Some(&model.run.uid)
        );
        assert_eq!(d.provenance.inputs.len(), 1);
        assert!(
            d.to_string()
                .contains("📎 inputs (1, Artifact): 'raw/raw.txt'")
        );
        let run = t
            .query::<Run>()
            .filter("uid", model.run.uid.as_str())
            .one()?;
        assert!(run.finished_at.is_none());
        Ok(())
    }
);

artifact_test!(lineage_walks_runs_inputs_and_collections, |t| {
    use lamella_core::LineageOf;
    t.track(Transform::new("Upload").kind("upload"))?;
    let raws: Vec<Artifact> = (0..12)
        .map(|i| {
            let p = t.file(&format!("raw{i}.txt"), format!("raw {i}").as_bytes());
            Ok(t.artifacts()
                .from_path(&p)
                .key(format!("raw/{i}.txt"))
                .save()?
                .record)
        })
        .collect::<anyhow::Result<_>>()?;
    t.finish()?;
    let model = t.track(Transform::new("Model"))?;
    for r in &raws {
        t.artifacts().cache(r)?;
    }
    let out = t.file("out.txt", b"model output");
    let out = t.artifacts().from_path(&out).key("out.txt").save()?.record;
    t.finish()?;
    t.track(Transform::new("Joint analysis"))?;
    // A table annotated with its columns: its dataset carries a schema facet.
    let table = lamella_core::RecordBatch::try_from_iter([
        (
            "cell_type",
            std::sync::Arc::new(lamella_core::arrow::array::StringArray::from(vec![
                "T cell",
            ])) as lamella_core::arrow::array::ArrayRef,
        ),
        (
            "CD14",
            std::sync::Arc::new(lamella_core::arrow::array::Float64Array::from(vec![0.5])),
        ),
    ])?;
    t.features().from_table(&table)?;
    let other = t
        .artifacts()
        .from_table(&table)
        .key("other.parquet")
        .save()?
        .record;
    t.artifacts().annotate_columns(&other)?;
    let c = t
        .collections()
        .create(&[out.clone(), other.clone()], "joint")
        .save()?
        .record;
    t.finish()?;
    // Upstream of the collection: its run, its members, their runs, the model's 12 inputs.
    let l = t.lineage(
        LineageOf::Collection(&c),
        10,
        lamella_core::Direction::Upstream,
    )?;
    assert_eq!(l.runs.len(), 3);
    assert_eq!(l.artifacts.len(), 14);
    assert_eq!(l.collections.len(), 1);
    // Depth 1: the collection's direct parents only.
    let near = t.lineage(
        LineageOf::Collection(&c),
        1,
        lamella_core::Direction::Upstream,
    )?;
    assert_eq!(near.artifacts.len(), 2);
    assert_eq!(near.runs.len(), 1);
    // The 12 inputs of the model run are drawn as one node.
    let g = l.graph(5);
    assert!(
        g.nodes().any(|n| n.label == "12 artifacts"),
        "{:?}",
        g.nodes().map(|n| &n.label).collect::<Vec<_>>()
    );
    assert!(l.graph(20).len() > g.len());
    // Downstream of one raw file: the model run, its output, the collection.
    let down = t.lineage(
        LineageOf::Artifact(&raws[0]),
        10,
        lamella_core::Direction::Downstream,
    )?;
    assert!(down.collections.iter().any(|x| x.uid == c.uid));
    assert!(down.runs.iter().any(|r| r.uid == model.run.uid));
    // OpenLineage: one RunEvent per run, run ids as UUIDv5 of the run uid.
    let events = l.openlineage(&t.ln)?;
    assert_eq!(events.len(), 3);
    for e in &events {
        assert_eq!(
            e["schemaURL"],
            "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        );
        assert_eq!(e["eventType"], "COMPLETE");
        assert!(e["eventTime"].as_str().unwrap().ends_with('Z'));
        let id = uuid::Uuid::parse_str(e["run"]["runId"].as_str().unwrap())?;
        assert_eq!(id.get_version_num(), 5);
        assert!(
            e["job"]["namespace"]
                .as_str()
                .unwrap()
                .starts_with("lamella://")
        );
    }
    let joint = events
        .iter()
        .find(|e| e["job"]["name"] == "Joint analysis")
        .unwrap();
    let table_out = joint["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"].as_str().is_some_and(|n| n.ends_with(".parquet")))
        .unwrap();
    assert_eq!(
        table_out["facets"]["schema"]["fields"],
        serde_json::json!([{"name": "cell_type", "type": "str"}, {"name": "CD14", "type": "float"}])
    );
    let model_event = events.iter().find(|e| e["job"]["name"] == "Model").unwrap();
    assert_eq!(model_event["inputs"].as_array().unwrap().len(), 12);
    assert_eq!(model_event["outputs"].as_array().unwrap().len(), 1);
    let ns = model_event["outputs"][0]["namespace"].as_str().unwrap();
    match t.storage {
        StorageKind::Local => assert_eq!(ns, "file"),
        StorageKind::S3 => assert!(ns.starts_with("s3://") && !ns[5..].contains('/'), "{ns}"),
    }
    // The official client (openlineage-python) rebuilds every event from its models and
    // serialises it back unchanged.
    let file = t.dir.path().join("events.json");
    std::fs::write(&file, serde_json::to_vec(&events)?)?;
    if let Some(n) = lamella_tests::check_openlineage(&file) {
        assert_eq!(n, 3);
    }
    Ok(())
});

db_test!(a_failed_read_is_not_a_run_input, |t| {
    use lamella_core::arrow::array::{Array, Int64Array, ListArray};
    use lamella_core::arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use std::sync::Arc;
    // A list column, which CSV cannot hold: exporting it to .csv fails after reading.
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1)])]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, false),
        Field::new("l", list.data_type().clone(), true),
    ]));
    let batch = lamella_core::RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from(vec![1])), Arc::new(list)],
    )?;
    let a = t
        .artifacts()
        .from_table(&batch)
        .key("nested.parquet")
        .save()?
        .record;
    let run = t.track(Transform::new("Reader"))?;
    let inputs = || {
        t.query::<Artifact>()
            .filter("input_of_runs__uid", run.run.uid.as_str())
            .count()
    };
    let failed = t.artifacts().export(
        &a,
        &t.scratch().join("out.csv"),
        lamella_core::Existing::Refuse,
    );
    assert!(failed.is_err(), "{failed:?}");
    assert!(!t.scratch().join("out.csv").exists());
    assert_eq!(inputs()?, 0, "a failed export recorded an input");
    t.artifacts().export(
        &a,
        &t.scratch().join("out.parquet"),
        lamella_core::Existing::Refuse,
    )?;
    assert_eq!(inputs()?, 1);
    Ok(())
});

db_test!(the_transform_registry_finds_by_key_name_and_uid, |t| {
    let v1 = t.track(Transform::new("Regressor").version("1"))?.transform;
    t.finish()?;
    let v2 = t.track(Transform::new("Regressor").version("2"))?.transform;
    t.finish()?;
    let keyed = t
        .track(Transform::new("Pipeline").key("pipelines/main.py"))?
        .transform;
    t.finish()?;
    let ts = t.transforms();
    assert_eq!(ts.resolve("Regressor")?.uid, v2.uid, "the latest version");
    assert_eq!(ts.resolve("pipelines/main.py")?.uid, keyed.uid);
    assert_eq!(ts.resolve(&v1.uid)?.uid, v1.uid);
    assert!(matches!(
        ts.resolve(&v1.uid[..10]),
        Err(lamella_core::Error::Ambiguous { .. })
    ));
    assert_eq!(ts.get(&v1.uid)?.uid, v1.uid);
    let versions: Vec<String> = ts.versions(&v1)?.into_iter().map(|t| t.uid).collect();
    assert_eq!(versions, [v1.uid.clone(), v2.uid.clone()]);
    let e = ts.resolve("Regresor").unwrap_err();
    assert!(e.to_string().contains("did you mean 'Regressor'"), "{e}");
    assert!(matches!(
        ts.get("not a uid!"),
        Err(lamella_core::Error::NotAUid { .. })
    ));
    assert_eq!(ts.filter("name", "Regressor").count()?, 2);
    Ok(())
});
