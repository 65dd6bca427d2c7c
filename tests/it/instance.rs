use lamella_core::{Error, Instance};
use lamella_tests::{TestInstance, db_test, isolate_home};

db_test!(init_registers_storage_and_user, |t| {
    let info = t.info()?;
    assert_eq!(info.root, t.root().canonicalize()?.to_str().unwrap());
    assert_eq!(t.storage()?.root, info.root);
    assert_eq!(t.storage()?.kind, "local");
    assert_eq!(t.storage()?.uid.len(), 12);
    assert_eq!(t.user().uid.len(), 8);
    assert_eq!(info.user, lamella_core::current_handle());
    let counts: std::collections::HashMap<_, _> = info.counts.into_iter().collect();
    assert_eq!(counts["User"], 1);
    assert_eq!(counts["Storage"], 1);
    assert_eq!(counts["ULabel"], 0);
    assert!(t.root().join(".lamella").is_dir());
    Ok(())
});

db_test!(
    opening_reads_instance_and_user_in_one_go_and_the_storage_at_need,
    |t| {
        let url = t.raw_url()?;
        let handle = lamella_core::current_handle();
        let (_, opening) = lamella_schema::Db::open_instance(&url, &handle)?;
        let opening = opening.expect("the instance row");
        assert_eq!(opening.instance.uid, t.uid());
        assert_eq!(opening.user.map(|u| u.uid), Some(t.user().uid.clone()));
        // The default storage's record is read when first needed, and is the instance's own.
        let again = Instance::connect(t.root())?;
        assert_eq!(again.home_storage()?.uid, t.home_storage()?.uid);
        assert_eq!(again.storage()?.root, again.root());
        let (_, stranger) = lamella_schema::Db::open_instance(&url, "not-registered-yet")?;
        assert!(stranger.expect("the instance row").user.is_none());
        // A database a newer release migrated further (and stamped) still opens, through the
        // full check.
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let newer = "INSERT INTO __diesel_schema_migrations (version) VALUES ('99990101000000'); \
                 UPDATE lamella_instance SET migrations = 'newer release'";
        match &url {
            lamella_schema::DbUrl::Postgres(u) => {
                diesel::PgConnection::establish(u)?.batch_execute(newer)?
            }
            lamella_schema::DbUrl::Sqlite(p) => {
                diesel::SqliteConnection::establish(&p.to_string_lossy())?.batch_execute(newer)?
            }
        }
        let again = Instance::connect(t.root())?;
        assert_eq!(again.uid(), t.uid());
        assert_eq!(again.user().id, t.user().id);
        Ok(())
    }
);

db_test!(connect_reopens_the_same_instance, |t| {
    t.ulabels()
        .create(lamella_core::ULabel::new("kept"))
        .save()?;
    let again = Instance::connect(t.root())?;
    assert_eq!(again.uid(), t.uid());
    assert_eq!(again.ulabels().get_by_name("kept")?.name, "kept");
    // The settings now point at it, so a plain reconnect works too.
    let current = Instance::connect_current()?;
    assert_eq!(current.uid(), t.uid());
    Ok(())
});

db_test!(init_twice_is_refused, |t| {
    let url = match t.db {
        lamella_tests::Db::Sqlite => None,
        lamella_tests::Db::Postgres => Some(t.info()?.db),
    };
    let e = Instance::init(t.root(), url.as_deref()).unwrap_err();
    assert!(matches!(e, Error::InstanceExists { .. }), "{e}");
    assert!(
        matches!(&e, Error::InstanceExists { connect_to: Some(to), .. } if *to == t.root().canonicalize()?.display().to_string() || t.db == lamella_tests::Db::Postgres),
        "{e:?}"
    );
    // Still usable, and still one storage.
    assert_eq!(t.query::<lamella_core::Storage>().count()?, 1);
    Ok(())
});

db_test!(delete_removes_metadata, |t| {
    let root = t.root();
    let uid = t.uid().to_string();
    let TestInstance { ln, .. } = t;
    ln.delete(lamella_core::InstanceDeletion::RefuseWithArtifacts)?;
    assert!(!root.join(".lamella").join("lamella.db").exists());
    let settings = lamella_core::Settings::load()?;
    assert!(settings.instances.iter().all(|e| e.uid != uid));
    Ok(())
});

#[test]
fn bad_postgres_url_creates_nothing() {
    isolate_home();
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "postgress://x@127.0.0.1/db",
        "mysql://a@b/c",
        "postgres:oops",
    ] {
        let e = Instance::init(dir.path().join("d"), Some(url)).unwrap_err();
        assert!(e.to_string().contains("unsupported database URL"), "{e}");
    }
    let e = Instance::init(
        dir.path().join("d"),
        Some("postgresql://nobody@127.0.0.1:1/x"),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("cannot connect to PostgreSQL"),
        "{e}"
    );
    assert!(!dir.path().join("d").exists(), "nothing may be left behind");
}

#[test]
fn missing_instance_is_a_clear_error() {
    isolate_home();
    let dir = tempfile::tempdir().unwrap();
    let e = Instance::connect(dir.path()).unwrap_err();
    assert!(e.to_string().contains("no Lamella instance at"), "{e}");
    assert!(
        matches!(
            e,
            Error::NoInstance {
                reason: lamella_core::NoInstanceReason::NothingHere,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.kind(), "no_instance");
}

#[test]
fn init_on_a_file_is_refused() {
    isolate_home();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("file.txt");
    std::fs::write(&f, "x").unwrap();
    let e = Instance::init(&f, None).unwrap_err();
    assert!(e.to_string().contains("is a file"), "{e}");
}

#[test]
fn connecting_to_a_database_without_an_instance_changes_nothing() {
    use diesel::{Connection, RunQueryDsl};
    isolate_home();
    let Some(admin) = lamella_tests::postgres_url() else {
        return;
    };
    let pg = lamella_tests::PgDatabase::create(&admin).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    lamella_core::Settings::update(|settings| {
        settings.remember(lamella_core::InstanceEntry {
            uid: "noinstance01".into(),
            root: root.display().to_string(),
            db: pg.url.clone(),
        })
    })
    .unwrap();
    let e = Instance::connect(&root).unwrap_err();
    assert!(e.to_string().contains("holds no Lamella instance"), "{e}");
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = diesel::pg::PgConnection::establish(&pg.url).unwrap();
    let n: Vec<N> = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name LIKE 'lamella%'",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(n[0].n, 0, "no tables may be created in a foreign database");
}

#[test]
fn an_embedded_instance_leaves_the_settings_alone() -> anyhow::Result<()> {
    isolate_home();
    let dir = tempfile::tempdir()?;
    let ln = Instance::builder(dir.path().join("data")).create()?;
    ln.ulabels().create(lamella_core::ULabel::new("x")).save()?;
    let again = Instance::builder(dir.path().join("data")).open()?;
    assert_eq!(again.uid(), ln.uid());
    let after = lamella_core::Settings::load()?;
    assert!(
        after.instances.iter().all(|e| e.uid != ln.uid()),
        "the builder wrote the settings"
    );
    // Asked to, it remembers the instance like `lamella init`.
    let kept = Instance::builder(dir.path().join("kept"))
        .remember()
        .create()?;
    assert!(
        lamella_core::Settings::load()?
            .instances
            .iter()
            .any(|e| e.uid == kept.uid())
    );
    Ok(())
}

lamella_tests::artifact_test!(new_artifacts_go_to_the_chosen_default_storage, |t| {
    let home = t.home_storage()?.clone();
    assert_eq!(t.storage()?.uid, home.uid);
    let before = t.file("before.txt", b"saved at home");
    let before = t
        .artifacts()
        .from_path(&before)
        .key("before.txt")
        .save()?
        .record;
    // The other kind of storage than the instance's own: S3 for a local instance and back.
    let other_root = match t.storage {
        lamella_tests::StorageKind::Local => match lamella_tests::s3_root() {
            Some(r) => r,
            None => return Ok(()),
        },
        lamella_tests::StorageKind::S3 => t.dir.path().join("second").display().to_string(),
    };
    let chosen = t.set_default_storage(&other_root)?;
    assert_ne!(chosen.uid, home.uid);
    assert_eq!(t.storage()?.uid, chosen.uid);
    let after = t.file("after.txt", b"saved in the second storage");
    let after = t
        .artifacts()
        .from_path(&after)
        .key("after.txt")
        .save()?
        .record;
    assert_eq!(Some(after.storage_id), chosen.id);
    assert_eq!(Some(before.storage_id), home.id, "saved artifacts stay");
    let copy = t.artifacts().cache(&after)?;
    assert_eq!(std::fs::read(copy)?, b"saved in the second storage");
    assert_eq!(
        std::fs::read(t.artifacts().cache(&before)?)?,
        b"saved at home"
    );
    // Deleting it from the second storage works.
    t.artifacts()
        .delete(&after, lamella_core::Deletion::Permanent)?;
    assert!(t.artifacts().get(&after.uid).is_err());
    // Back home.
    t.set_default_storage(&home.root)?;
    assert_eq!(t.storage()?.uid, home.uid);
    let last = t.file("last.txt", b"home again");
    let last = t
        .artifacts()
        .from_path(&last)
        .key("last.txt")
        .save()?
        .record;
    assert_eq!(Some(last.storage_id), home.id);
    Ok(())
});

#[test]
fn concurrent_settings_updates_lose_nothing() {
    isolate_home();
    std::thread::scope(|s| {
        for t in 0..8 {
            s.spawn(move || {
                for i in 0..10 {
                    lamella_core::Settings::update(|settings| {
                        settings
                            .storages
                            .insert(format!("concurrent-{t}-{i}"), "/tmp".into());
                    })
                    .unwrap();
                }
            });
        }
    });
    let settings = lamella_core::Settings::load().unwrap();
    let n = settings
        .storages
        .keys()
        .filter(|k| k.starts_with("concurrent-"))
        .count();
    assert_eq!(n, 80, "every update survives the others");
}

db_test!(a_missing_storage_record_is_named_when_first_needed, |t| {
    // A database whose default storage record was removed by hand still opens for reading;
    // what needs the record says which root has none.
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let gone = "DELETE FROM lamella_storages";
    match &t.raw_url()? {
        lamella_schema::DbUrl::Postgres(u) => {
            diesel::PgConnection::establish(u)?.batch_execute(gone)?
        }
        lamella_schema::DbUrl::Sqlite(p) => {
            diesel::SqliteConnection::establish(&p.to_string_lossy())?.batch_execute(gone)?
        }
    }
    let again = Instance::connect(t.root())?;
    assert_eq!(again.query::<lamella_core::ULabel>().count()?, 0);
    let err = again.home_storage().unwrap_err().to_string();
    assert!(
        err.contains("Storage") && err.contains(again.root()),
        "{err}"
    );
    let file = t.file("a.txt", b"a");
    let err = again
        .artifacts()
        .from_path(&file)
        .save()
        .unwrap_err()
        .to_string();
    assert!(err.contains(again.root()), "{err}");
    Ok(())
});
