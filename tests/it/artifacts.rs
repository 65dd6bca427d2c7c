//! Artifact behaviour; every body runs on SQLite and PostgreSQL, local folder and S3.

use std::sync::Arc;

use lamella_core::arrow::array::{Float64Array, Int64Array, StringArray};
use lamella_core::arrow::datatypes::{DataType, Field, Schema};
use lamella_core::{DuplicatePolicy, Error, Loaded, RecordBatch};
use lamella_tests::{artifact_test, db_test};

fn iris(n: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("sepal_length", DataType::Float64, false),
        Field::new("n", DataType::Int64, false),
        Field::new("iris_organism_name", DataType::Utf8, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| i as f64 / 1000.0),
            )),
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| ["setosa", "versicolor", "virginica"][i % 3]),
            )),
        ],
    )
    .unwrap()
}

artifact_test!(file_hash_matches_lamindb_and_dedupes, |t| {
    let p = t.file("a.txt", b"a");
    let a = t
        .artifacts()
        .from_path(&p)
        .description("the letter a")
        .save()?;
    assert!(!a.existed);
    assert_eq!(a.hash.as_deref(), Some("DMF1ucDxtqgxw5niaXcmYQ"));
    assert_eq!(a.hash_type.map(|h| h.as_str()), Some("md5"));
    assert_eq!(a.size, Some(1));
    assert_eq!(a.suffix, ".txt");
    assert!(a.key_is_virtual);
    assert_eq!(a.uid.len(), 20);
    assert!(a.uid.ends_with("0000"));
    // same content again → the existing artifact
    let p2 = t.file("copy.txt", b"a");
    let b = t.artifacts().from_path(&p2).description("again").save()?;
    assert!(b.existed);
    assert_eq!(b.uid, a.uid);
    let e = t
        .artifacts()
        .from_path(&p2)
        .description("again")
        .on_duplicate(DuplicatePolicy::Error)
        .save()
        .unwrap_err();
    assert!(matches!(e, Error::Duplicate { .. }), "{e}");
    let c = t
        .artifacts()
        .from_path(&p2)
        .description("again")
        .on_duplicate(DuplicatePolicy::CreateNew)
        .save()?;
    assert_ne!(c.uid, a.uid);
    // empty files never dedupe
    let e1 = t
        .artifacts()
        .from_path(t.file("e1", b""))
        .description("e1")
        .save()?;
    let e2 = t
        .artifacts()
        .from_path(t.file("e2", b""))
        .description("e2")
        .save()?;
    assert_ne!(e1.uid, e2.uid);
    assert_eq!(t.artifacts().query().count()?, 4);
    // the content is in storage
    let Loaded::Path(local) = t.artifacts().load(&a)? else {
        panic!("a .txt file loads as a path")
    };
    assert_eq!(std::fs::read(local)?, b"a");
    Ok(())
});

artifact_test!(folder_hash_and_load, |t| {
    t.file("folder/a", b"a");
    t.file("folder/b", b"b");
    let a = t
        .artifacts()
        .from_path(t.scratch().join("folder"))
        .key("iris/raw_images")
        .save()?;
    assert_eq!(a.hash.as_deref(), Some("YNCwyFw7rBegqZLBVEckCg"));
    assert_eq!(a.hash_type.map(|h| h.as_str()), Some("md5-d"));
    assert_eq!(a.n_objects, Some(2));
    assert_eq!(a.size, Some(2));
    assert_eq!(a.suffix, "");
    let Loaded::Path(dir) = t.artifacts().load(&a)? else {
        panic!("folders load as paths")
    };
    assert_eq!(std::fs::read(dir.join("b"))?, b"b");
    // deleting for good removes the stored objects and any downloaded copy
    t.artifacts()
        .delete(&a, lamella_core::Deletion::Permanent)?;
    assert!(!dir.exists(), "{} should be gone", dir.display());
    Ok(())
});

artifact_test!(tables_round_trip_as_parquet, |t| {
    let table = iris(150);
    let a = t
        .artifacts()
        .from_table(&table)
        .description("Iris study 1 - after measuring sepal & petal metrics")
        .save()?;
    assert_eq!(a.suffix, ".parquet");
    assert_eq!(a.accessor.as_deref(), Some("DataFrame"));
    assert_eq!(a.n_observations, Some(150));
    let Loaded::Table(back) = t.artifacts().load(&a)? else {
        panic!("parquet loads as a table")
    };
    assert_eq!(back, table);
    let found = t
        .artifacts()
        .filter(
            "description",
            "Iris study 1 - after measuring sepal & petal metrics",
        )
        .one()?;
    assert_eq!(found.uid, a.uid);
    let d = t.artifacts().describe(&a)?.to_string();
    assert!(d.starts_with("Artifact(uid='"), "{d}");
    assert!(
        d.contains("accessor='DataFrame'") && d.contains("n_observations=150"),
        "{d}"
    );
    assert!(
        d.contains("Provenance:")
            && d.contains("📎 storage: Storage(")
            && d.contains("📎 created_by: User("),
        "{d}"
    );
    Ok(())
});

artifact_test!(versions_by_key_and_revises, |t| {
    let v1 = t
        .artifacts()
        .from_path(t.file("s.csv", b"x,y\n1,2\n"))
        .key("iris/s.csv")
        .save()?;
    let v2 = t
        .artifacts()
        .from_path(t.file("s2.csv", b"x,y\n1,3\n"))
        .key("iris/s.csv")
        .save()?;
    assert_eq!(v1.n_observations, Some(1), "CSV rows are counted");
    assert_eq!(&v2.uid[..16], &v1.uid[..16]);
    assert!(v2.uid.ends_with("0001"));
    let v3 = t
        .artifacts()
        .from_path(t.file("s3.csv", b"x,y\n1,4\n"))
        .revises(&v2)
        .save()?;
    assert!(v3.uid.ends_with("0002"));
    assert_eq!(v3.key.as_deref(), Some("iris/s.csv"));
    let versions = t.artifacts().versions(&v1)?;
    let latest: Vec<bool> = versions.iter().map(|a| a.is_latest).collect();
    assert_eq!(latest, [false, false, true]);
    assert_eq!(t.artifacts().get_by_key("iris/s.csv")?.uid, v3.uid);
    // trashing the latest promotes the previous one; restoring brings it back
    t.artifacts().delete(&v3, lamella_core::Deletion::Trash)?;
    assert_eq!(t.artifacts().get_by_key("iris/s.csv")?.uid, v2.uid);
    assert_eq!(t.artifacts().query().count()?, 2);
    assert_eq!(t.artifacts().query().include_trash().count()?, 3);
    assert_eq!(t.artifacts().filter("visibility", -1).count()?, 1);
    let restored = t.artifacts().restore(&v3)?;
    assert!(restored.changed && restored.record.is_latest);
    assert_eq!(t.artifacts().get_by_key("iris/s.csv")?.uid, v3.uid);
    // permanent delete removes row then object
    let cached = t.artifacts().cache(&v3)?;
    t.artifacts()
        .delete(&v3, lamella_core::Deletion::Permanent)?;
    assert!(t.artifacts().get(&v3.uid).is_err());
    assert_eq!(t.artifacts().get_by_key("iris/s.csv")?.uid, v2.uid);
    if t.storage == lamella_tests::StorageKind::Local {
        assert!(!cached.exists(), "the object is gone");
    }
    let report = t
        .artifacts()
        .doctor(&lamella_core::DoctorOptions::default())?;
    assert!(
        report.orphans.is_empty() && report.missing.is_empty(),
        "{report:?}"
    );
    Ok(())
});

artifact_test!(queries_on_artifacts, |t| {
    let big = t.file("big.bin", &vec![7u8; 5000]);
    t.artifacts().from_path(&big).key("data/big.bin").save()?;
    t.artifacts()
        .from_path(t.file("small.csv", b"a\n1\n"))
        .key("data/small.csv")
        .save()?;
    t.artifacts()
        .from_path(t.file("other.txt", b"o"))
        .key("other/o.txt")
        .save()?;
    let q = || t.artifacts().query();
    assert_eq!(q().filter("key__startswith", "data/").count()?, 2);
    assert_eq!(q().filter("suffix", ".csv").count()?, 1);
    assert_eq!(q().filter("size__gt", 100).count()?, 1);
    assert_eq!(
        q().filter("created_by__handle", t.user().handle.as_str())
            .count()?,
        3
    );
    assert_eq!(
        q().filter("storage__root", t.storage()?.root.as_str())
            .count()?,
        3
    );
    let h = q().filter("key", "other/o.txt").one()?.hash.unwrap();
    assert_eq!(q().filter("hash", h.as_str()).count()?, 1);
    Ok(())
});

artifact_test!(bad_input_changes_nothing, |t| {
    let p = t.file("x.csv", b"x\n1\n");
    for key in ["../x.csv", "/abs/x.csv", ".lamella/x.csv", "a//x.csv"] {
        let e = t.artifacts().from_path(&p).key(key).save().unwrap_err();
        assert!(e.to_string().contains("invalid key"), "{key}: {e}");
    }
    let e = t
        .artifacts()
        .from_path(&p)
        .key("x.parquet")
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("suffix"), "{e}");
    let e = t
        .artifacts()
        .from_path(t.scratch().join("missing.csv"))
        .key("m.csv")
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let e = t.artifacts().from_table(&iris(3)).save().unwrap_err();
    assert!(
        e.to_string().contains("needs a key or a description"),
        "{e}"
    );
    let e = t.artifacts().get("zzzzzzzzzzzz").unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert_eq!(t.artifacts().query().include_trash().count()?, 0);
    Ok(())
});

artifact_test!(a_file_without_key_is_described_by_its_name, |t| {
    let p = t.file("named.csv", b"x\n1\n");
    let a = t.artifacts().from_path(&p).save()?;
    assert_eq!(a.description.as_deref(), Some("named.csv"));
    assert_eq!(a.key, None);
    Ok(())
});

artifact_test!(many_files_in_one_batch, |t| {
    let paths: Vec<_> = (0..50)
        .map(|i| {
            t.file(
                &format!("many/f{i:03}.txt"),
                format!("content {i}").as_bytes(),
            )
        })
        .collect();
    let saved = t.artifacts().save_paths(&paths, Some("batch"))?;
    assert_eq!(saved.len(), 50);
    assert!(saved.iter().all(|s| !s.existed));
    assert_eq!(
        t.artifacts().filter("key__startswith", "batch/").count()?,
        50
    );
    // again: all exist
    let again = t.artifacts().save_paths(&paths, Some("batch"))?;
    assert!(again.iter().all(|s| s.existed));
    assert_eq!(t.artifacts().query().count()?, 50);
    Ok(())
});

artifact_test!(register_in_place, |t| {
    // An object already inside the default storage is registered where it is: nothing is
    // copied, the key is its path, and on S3 the hash comes from the ETag.
    let (file_ref, folder_ref) = match t.storage {
        lamella_tests::StorageKind::Local => {
            let root = t.root();
            std::fs::create_dir_all(root.join("raw/images"))?;
            std::fs::write(root.join("raw/a.txt"), b"a")?;
            std::fs::write(root.join("raw/images/a"), b"a")?;
            std::fs::write(root.join("raw/images/b"), b"b")?;
            (
                root.join("raw/a.txt").display().to_string(),
                root.join("raw/images").display().to_string(),
            )
        }
        lamella_tests::StorageKind::S3 => {
            let store = lamella_storage::Store::open(&t.storage()?.root)?;
            store.put_bytes("raw/a.txt", b"a")?;
            store.put_bytes("raw/images/a", b"a")?;
            store.put_bytes("raw/images/b", b"b")?;
            (
                format!("{}/raw/a.txt", t.storage()?.root),
                format!("{}/raw/images", t.storage()?.root),
            )
        }
    };
    let a = t.artifacts().from_path(&file_ref).save()?;
    assert!(!a.key_is_virtual);
    assert_eq!(a.key.as_deref(), Some("raw/a.txt"));
    assert_eq!(
        a.hash.as_deref(),
        Some("DMF1ucDxtqgxw5niaXcmYQ"),
        "same hash as a local file"
    );
    let f = t.artifacts().from_path(&folder_ref).save()?;
    assert_eq!(f.key.as_deref(), Some("raw/images"));
    assert_eq!(f.n_objects, Some(2));
    assert_eq!(f.hash_type.map(|h| h.as_str()), Some("md5-d"));
    let e = t
        .artifacts()
        .from_path(&file_ref)
        .key("elsewhere.txt")
        .on_duplicate(DuplicatePolicy::CreateNew)
        .save()
        .unwrap_err();
    assert!(e.to_string().contains("registered in place"), "{e}");
    // deleting for good keeps the user's own file
    t.artifacts()
        .delete(&a, lamella_core::Deletion::Permanent)?;
    if t.storage == lamella_tests::StorageKind::Local {
        assert!(std::path::Path::new(&file_ref).exists());
    }
    assert!(
        t.artifacts()
            .doctor(&lamella_core::DoctorOptions::default())?
            .missing
            .is_empty()
    );
    Ok(())
});

/// `describe()` layout, with the values that change between runs replaced.
#[test]
fn describe_snapshot() -> anyhow::Result<()> {
    let t = lamella_tests::TestInstance::new(lamella_tests::Db::Sqlite).expect("instance");
    let a = t
        .artifacts()
        .from_table(&iris(150))
        .description("Iris study 1 - after measuring sepal & petal metrics")
        .save()?;
    let text = t
        .artifacts()
        .describe(&a)?
        .to_string()
        .replace(&a.uid, "<artifact uid>")
        .replace(&t.storage()?.uid, "<storage uid>")
        .replace(&t.storage()?.root, "<root>")
        .replace(&t.user().uid, "<user uid>")
        .replace(&t.user().handle, "<handle>")
        .replace(a.hash.as_deref().unwrap(), "<hash>")
        .replace(
            &a.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            "<time>",
        )
        .replace(&format!("size={}", a.size.unwrap()), "size=<size>");
    insta::assert_snapshot!(text);
    Ok(())
}

artifact_test!(csv_loads_as_a_table_whatever_the_suffix_case, |t| {
    let a = t
        .artifacts()
        .from_path(t.file("DATA.CSV", b"name,n\nsetosa,1\nvirginica,2\n"))
        .description("upper-case suffix")
        .save()?;
    assert_eq!(a.suffix, ".CSV");
    assert_eq!(a.n_observations, Some(2));
    let Loaded::Table(table) = t.artifacts().load(&a)? else {
        panic!("a CSV loads as a table")
    };
    assert_eq!(table.num_rows(), 2);
    assert_eq!(table.schema().field(0).name(), "name");
    Ok(())
});

lamella_tests::db_test!(a_batch_of_thousands_of_files_fits_the_lock_table, |t| {
    // Each file takes a content and a key lock; PostgreSQL's lock table holds about 6,400 by default.
    let dir = t.scratch().join("many");
    std::fs::create_dir_all(&dir)?;
    let paths: Vec<std::path::PathBuf> = (0..10_000)
        .map(|i| {
            let p = dir.join(format!("f{i:05}.txt"));
            std::fs::write(&p, format!("file {i}")).map(|_| p)
        })
        .collect::<std::io::Result<_>>()?;
    let saved = t.artifacts().save_paths(&paths, Some("many"))?;
    assert_eq!(saved.len(), 10_000);
    assert!(saved.iter().all(|s| !s.existed));
    Ok(())
});

db_test!(a_delete_says_what_it_did, |t| {
    use lamella_core::{Deleted, Deletion};
    let copied = t
        .artifacts()
        .from_path(t.file("copied.txt", b"copied"))
        .key("copied.txt")
        .save()?
        .record;
    assert!(t.artifacts().deletes_object(&copied)?);
    assert_eq!(
        t.artifacts().delete(&copied, Deletion::Trash)?,
        Deleted::Trashed
    );
    let object = std::path::PathBuf::from(t.artifacts().location(&copied)?);
    assert!(object.exists(), "the trash keeps the object");
    // A second delete of a trashed artifact is for good, with its object.
    assert_eq!(
        t.artifacts().delete(&copied, Deletion::Trash)?,
        Deleted::Removed {
            object_removed: true
        }
    );
    assert!(!object.exists());
    // A file registered in place (inside the storage root) is not Lamella's to remove.
    let in_place = t.root().join("raw/in_place.txt");
    std::fs::create_dir_all(in_place.parent().unwrap())?;
    std::fs::write(&in_place, b"in place")?;
    let a = t.artifacts().from_path(&in_place).save()?.record;
    assert!(!a.key_is_virtual);
    assert!(!t.artifacts().deletes_object(&a)?);
    assert_eq!(
        t.artifacts().delete(&a, Deletion::Permanent)?,
        Deleted::Removed {
            object_removed: false
        }
    );
    assert!(in_place.exists());
    Ok(())
});

artifact_test!(doctor_verify_names_objects_whose_bytes_changed, |t| {
    use lamella_core::{DoctorOptions, Verify};
    let a = t
        .artifacts()
        .from_path(t.file("a.txt", b"original bytes"))
        .key("a.txt")
        .save()?
        .record;
    let b = t
        .artifacts()
        .from_path(t.file("b.txt", b"untouched"))
        .key("b.txt")
        .save()?
        .record;
    let folder = t.scratch().join("folder");
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join("x.txt"), b"x")?;
    std::fs::write(folder.join("y.txt"), b"y")?;
    let f = t
        .artifacts()
        .from_path(&folder)
        .key("folder")
        .save()?
        .record;
    let verify = DoctorOptions {
        verify: Verify::Content,
        ..DoctorOptions::default()
    };
    let clean = t.artifacts().doctor(&verify)?;
    assert!(clean.changed.is_empty(), "{:?}", clean.changed);
    assert_eq!(clean.verified.map(|v| v.objects), Some(3));
    assert!(!clean.needs_attention());
    // Someone rewrites a's bytes behind Lamella's back (same size, so presence alone and
    // the size agree).
    let location = t.artifacts().location(&a)?;
    match t.storage {
        lamella_tests::StorageKind::Local => std::fs::write(&location, b"ORIGINAL BYTES")?,
        lamella_tests::StorageKind::S3 => {
            let root = t.storage()?.root;
            let key = location.strip_prefix(&format!("{root}/")).unwrap();
            lamella_tests::store(&root).put_bytes(key, b"ORIGINAL BYTES")?;
        }
    }
    let presence = t.artifacts().doctor(&DoctorOptions::default())?;
    assert!(presence.missing.is_empty() && presence.changed.is_empty());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let s = seen.clone();
    t.on_progress(move |p| {
        if p.task == lamella_core::ProgressTask::Verifying {
            s.fetch_max(p.done, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let report = t.artifacts().doctor(&DoctorOptions {
        verify: Verify::Content,
        ..DoctorOptions::default()
    })?;
    assert_eq!(report.changed.len(), 1, "{:?}", report.changed);
    let c = &report.changed[0];
    assert_eq!(c.uid, a.uid);
    assert_eq!(c.key.as_deref(), Some("a.txt"));
    assert_eq!(Some(c.recorded.as_str()), a.hash.as_deref());
    assert_ne!(c.found, c.recorded);
    assert!(report.needs_attention());
    assert!(seen.load(std::sync::atomic::Ordering::Relaxed) > 0);
    let _ = (b, f);
    Ok(())
});

artifact_test!(long_operations_report_progress, |t| {
    use lamella_core::{Progress, ProgressTask as T, ProgressUnit as U};
    let seen: Arc<std::sync::Mutex<Vec<Progress>>> = Arc::default();
    let s = seen.clone();
    t.on_progress(move |p| s.lock().unwrap().push(p.clone()));
    // The end of each operation: what it counted, how far it got, of what total.
    let ends = |task: T| -> Vec<(U, u64, u64)> {
        let seen = seen.lock().unwrap();
        seen.iter()
            .filter(|p| p.task == task && p.finished)
            .map(|p| (p.unit, p.done, p.total))
            .collect()
    };
    let big = vec![7u8; 3 << 20];
    t.file("big.bin", &big);
    let a = t
        .artifacts()
        .from_path(t.scratch().join("big.bin"))
        .save()?;
    assert_eq!(ends(T::Uploading), [(U::Bytes, 3 << 20, 3 << 20)]);
    // Steps in between, never past the total, from one operation.
    {
        let seen = seen.lock().unwrap();
        let up: Vec<&Progress> = seen.iter().filter(|p| p.task == T::Uploading).collect();
        assert!(up.len() >= 3, "{up:?}");
        assert!(
            up.windows(2)
                .all(|w| w[0].done <= w[1].done && w[0].id == w[1].id)
        );
    }
    t.file("dir/x", b"xx");
    t.file("dir/y", b"yyy");
    t.artifacts().from_path(t.scratch().join("dir")).save()?;
    assert_eq!(ends(T::Hashing), [(U::Bytes, 5, 5)]);
    let many = [t.file("m1", b"1"), t.file("m2", b"2")];
    t.artifacts().save_paths(&many, None)?;
    assert_eq!(ends(T::Hashing)[1], (U::Files, 2, 2));
    // A cloud object is downloaded into the cache with progress; a local one is not copied.
    t.artifacts().cache(&a)?;
    match t.storage {
        lamella_tests::StorageKind::S3 => {
            assert_eq!(ends(T::Downloading), [(U::Bytes, 3 << 20, 3 << 20)]);
        }
        lamella_tests::StorageKind::Local => assert!(ends(T::Downloading).is_empty()),
    }
    Ok(())
});

artifact_test!(
    large_files_keep_one_object_each_and_duplicates_leave_none,
    |t| {
        // Larger than a multipart chunk on S3.
        let mut body = vec![0u8; 17 << 20];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for b in body.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let root = t.storage()?.root;
        let objects = || -> anyhow::Result<Vec<String>> {
            let mut keys: Vec<String> = lamella_tests::store(&root)
                .list(".lamella")?
                .into_iter()
                .map(|o| o.key)
                .filter(|k| !k.contains(".staging") && k.ends_with(".bin"))
                .collect();
            keys.sort();
            Ok(keys)
        };
        let p = t.file("big.bin", &body);
        let a = t.artifacts().from_path(&p).description("big").save()?;
        assert!(!a.existed);
        assert_eq!(objects()?, [format!(".lamella/{}.bin", a.uid)]);
        let Loaded::Path(local) = t.artifacts().load(&a)? else {
            panic!("a .bin file loads as a path")
        };
        assert!(std::fs::read(local)? == body, "the stored bytes differ");
        // The same bytes again: the existing artifact, and nothing uploaded for it.
        let again = t.artifacts().from_path(t.file("again.bin", &body)).save()?;
        assert!(again.existed);
        assert_eq!(again.uid, a.uid);
        assert_eq!(objects()?.len(), 1);
        // A new version and a deliberate duplicate each keep their own object.
        body[0] ^= 1;
        let v2 = t
            .artifacts()
            .from_path(t.file("v2.bin", &body))
            .revises(&a)
            .save()?;
        assert_eq!(&v2.uid[..16], &a.uid[..16]);
        let copy = t
            .artifacts()
            .from_path(t.file("copy.bin", &body))
            .on_duplicate(DuplicatePolicy::CreateNew)
            .save()?;
        // New content of a size already registered: its upload waits for the dedup check
        // (on object stores), then completes.
        body[1] ^= 1;
        let same_size = t
            .artifacts()
            .from_path(t.file("same-size.bin", &body))
            .save()?;
        assert!(!same_size.existed);
        let Loaded::Path(local) = t.artifacts().load(&same_size)? else {
            panic!("a .bin file loads as a path")
        };
        assert!(
            std::fs::read(local)? == body,
            "the same-size file's bytes differ"
        );
        body[1] ^= 1;
        let mut want = vec![
            format!(".lamella/{}.bin", a.uid),
            format!(".lamella/{}.bin", v2.uid),
            format!(".lamella/{}.bin", copy.uid),
            format!(".lamella/{}.bin", same_size.uid),
        ];
        want.sort();
        assert_eq!(objects()?, want);
        let Loaded::Path(local) = t.artifacts().load(&copy)? else {
            panic!("a .bin file loads as a path")
        };
        assert!(std::fs::read(local)? == body, "the copy's bytes differ");
        Ok(())
    }
);
