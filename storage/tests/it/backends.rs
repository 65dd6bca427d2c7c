//! One test body run on every backend: memory, a local folder, and S3 when
//! `LAMELLA_TEST_S3_ENDPOINT` is set (bucket `LAMELLA_TEST_S3_BUCKET`, default
//! `lamella-test`; keys from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`). With `CI=true` and no
//! endpoint, the S3 tests fail instead of skipping.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use lamella_storage::{
    Error, HashType, S3Options, Store, StoreKind, UploadGate, hash_bytes, hash_file, hash_from_etag,
};
use md5::{Digest, Md5};

use crate::util::{pattern, write_pattern_file};

/// Part size of the store's multipart uploads (must match `TRANSFER_CHUNK` in `store.rs`).
const PART: usize = 16 * 1024 * 1024;
/// Files up to this size go up in one request (`SINGLE_PUT_MAX` in `store.rs`).
const SINGLE_PUT_MAX: usize = 4 * PART;

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("it-{}-{nanos}-{name}", std::process::id())
}

fn s3_options(endpoint: String) -> S3Options {
    S3Options {
        endpoint: Some(endpoint),
        ..S3Options::from_env()
    }
}

/// The S3 store for a test, `None` (skip) outside CI when no endpoint is configured.
fn s3_store(name: &str) -> Option<(Store, S3Options, String)> {
    match std::env::var("LAMELLA_TEST_S3_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let bucket =
                std::env::var("LAMELLA_TEST_S3_BUCKET").unwrap_or_else(|_| "lamella-test".into());
            let opts = s3_options(endpoint);
            let store = Store::open_with(&format!("s3://{bucket}/{}", unique(name)), &opts)
                .expect("open the S3 test store");
            Some((store, opts, bucket))
        }
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but LAMELLA_TEST_S3_ENDPOINT is not set: start an S3 server (e.g. \
                 `moto_server -H 127.0.0.1 -p 9000`, then `curl -X PUT \
                 http://127.0.0.1:9000/lamella-test`) and export \
                 LAMELLA_TEST_S3_ENDPOINT=http://127.0.0.1:9000"
            );
            eprintln!("S3 tests skipped: set LAMELLA_TEST_S3_ENDPOINT to run them");
            None
        }
    }
}

fn assert_not_found(err: Error, key: &str) {
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::NotFound { key: k, .. } if k == key),
        "expected NotFound for {key}, got {err:?}"
    );
    assert!(msg.contains(key), "{msg}");
}

fn keys(store: &Store, prefix: &str) -> Vec<String> {
    store
        .list(prefix)
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect()
}

/// The behaviour every backend must share.
fn exercise(store: &Store) {
    let dir = tempfile::tempdir().unwrap();

    // bytes
    store.put_bytes("a.txt", b"a").unwrap();
    assert_eq!(store.read_bytes("a.txt").unwrap(), b"a");
    assert!(store.exists("a.txt").unwrap());
    assert!(!store.exists("b.txt").unwrap());
    let meta = store.stat("a.txt").unwrap();
    assert_eq!((meta.key.as_str(), meta.size), ("a.txt", 1));
    store.put_bytes("a.txt", b"replaced").unwrap();
    assert_eq!(store.read_bytes("a.txt").unwrap(), b"replaced");
    store.put_bytes("empty", b"").unwrap();
    assert_eq!(store.stat("empty").unwrap().size, 0);
    assert_eq!(store.read_bytes("empty").unwrap(), b"");
    store.put_bytes("empty", b"not yet").unwrap();

    // files: a small one and one uploaded in parts
    let small = dir.path().join("small.bin");
    std::fs::write(&small, pattern(100_000, 1)).unwrap();
    let big = dir.path().join("big.bin");
    let big_len = SINGLE_PUT_MAX + PART / 2;
    write_pattern_file(&big, big_len, 2);
    store.put_file("dir/small.bin", &small).unwrap();
    store.put_file("dir/sub/big.bin", &big).unwrap();
    store.put_file("dir with space/ü.bin", &small).unwrap();
    let empty = dir.path().join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    store.put_file("empty", &empty).unwrap();
    store.put_bytes("dirx/c", b"c").unwrap();
    assert_eq!(store.stat("dir/sub/big.bin").unwrap().size, big_len as u64);
    assert_eq!(store.stat("empty").unwrap().size, 0);
    let empty_back = dir.path().join("empty-back.bin");
    store.get_to_file("empty", &empty_back).unwrap();
    assert_eq!(std::fs::read(&empty_back).unwrap(), b"");

    let back = dir.path().join("down/nested/big.bin");
    store.get_to_file("dir/sub/big.bin", &back).unwrap();
    assert_eq!(hash_file(&back).unwrap(), hash_file(&big).unwrap());
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&big).unwrap());
    let back_small = dir.path().join("small-back.bin");
    store
        .get_to_file("dir with space/ü.bin", &back_small)
        .unwrap();
    assert_eq!(
        std::fs::read(&back_small).unwrap(),
        std::fs::read(&small).unwrap()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("down/nested"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");

    // list: recursive, sorted, folder semantics
    assert_eq!(
        keys(store, ""),
        [
            "a.txt",
            "dir with space/ü.bin",
            "dir/small.bin",
            "dir/sub/big.bin",
            "dirx/c",
            "empty"
        ]
    );
    assert_eq!(keys(store, "dir"), ["dir/small.bin", "dir/sub/big.bin"]);
    assert_eq!(keys(store, "dir/"), ["dir/small.bin", "dir/sub/big.bin"]);
    assert_eq!(keys(store, "dir/sub"), ["dir/sub/big.bin"]);
    assert!(keys(store, "nothing/here").is_empty());
    let listed = store.list("dir/sub").unwrap();
    assert_eq!(listed[0].size, big_len as u64);

    // rename
    store.rename("dir/small.bin", "moved/small.bin").unwrap();
    assert!(!store.exists("dir/small.bin").unwrap());
    assert_eq!(
        store.read_bytes("moved/small.bin").unwrap(),
        std::fs::read(&small).unwrap()
    );
    assert_not_found(
        store.rename("dir/small.bin", "x").unwrap_err(),
        "dir/small.bin",
    );

    // missing objects
    assert_not_found(store.read_bytes("missing/k").unwrap_err(), "missing/k");
    assert_not_found(store.stat("missing/k").unwrap_err(), "missing/k");
    let target = dir.path().join("never.bin");
    assert_not_found(
        store.get_to_file("missing/k", &target).unwrap_err(),
        "missing/k",
    );
    assert!(!target.exists());
    let err = store
        .put_file("x", &dir.path().join("no-such-local"))
        .unwrap_err();
    assert!(
        err.is_not_found() && err.to_string().contains("no-such-local"),
        "{err}"
    );

    // bad keys
    for bad in ["", "/abs", "../up", "a//b", "dir/"] {
        assert!(
            matches!(store.put_bytes(bad, b"x"), Err(Error::InvalidKey { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(store.list("../x"), Err(Error::InvalidKey { .. })));

    // delete
    store.delete("a.txt").unwrap();
    assert!(!store.exists("a.txt").unwrap());
    store.delete("a.txt").unwrap();

    // local paths and etags per backend
    match store.kind() {
        StoreKind::Local => {
            let p = store.local_path("moved/small.bin").unwrap();
            assert_eq!(std::fs::read(p).unwrap(), std::fs::read(&small).unwrap());
            assert_eq!(store.stat("moved/small.bin").unwrap().etag, None);
        }
        StoreKind::Memory => {
            assert_eq!(store.local_path("moved/small.bin"), None);
            assert_eq!(store.stat("moved/small.bin").unwrap().etag, None);
        }
        StoreKind::S3 => {
            assert_eq!(store.local_path("moved/small.bin"), None);
            // single-part upload: the ETag gives the same hash as hashing the file locally
            let meta = store.stat("dir with space/ü.bin").unwrap();
            let from_etag = hash_from_etag(meta.etag.as_deref().unwrap(), meta.size).unwrap();
            assert_eq!(from_etag, hash_file(&small).unwrap());
            // ETags survive the copy in rename
            let meta = store.stat("moved/small.bin").unwrap();
            assert_eq!(
                hash_from_etag(meta.etag.as_deref().unwrap(), meta.size).unwrap(),
                hash_file(&small).unwrap()
            );
            // listings carry ETags too
            let listed = store.list("dir with space").unwrap();
            assert_eq!(
                listed[0].etag,
                store.stat("dir with space/ü.bin").unwrap().etag
            );
            // larger than a part, up to the limit: still one request, so a plain md5 ETag
            let mid = dir.path().join("mid.bin");
            write_pattern_file(&mid, PART + PART / 2, 4);
            store.put_file("etag/mid.bin", &mid).unwrap();
            let meta = store.stat("etag/mid.bin").unwrap();
            assert_eq!(
                hash_from_etag(meta.etag.as_deref().unwrap(), meta.size).unwrap(),
                hash_file(&mid).unwrap()
            );
            store.delete("etag/mid.bin").unwrap();
            // put_bytes is a single PUT
            let meta = store.stat("dirx/c").unwrap();
            assert_eq!(
                hash_from_etag(meta.etag.as_deref().unwrap(), 1).unwrap(),
                hash_bytes(b"c")
            );
            // multipart upload: LaminDB's md5-n form over S3's part digests
            let meta = store.stat("dir/sub/big.bin").unwrap();
            let h = hash_from_etag(meta.etag.as_deref().unwrap(), meta.size).unwrap();
            assert_eq!(h.hash_type, HashType::Md5N);
            assert_eq!(h.hash, expected_multipart_hash(&big, PART));
        }
    }

    // writes that never replace: one conditional request on S3, a link on local folders
    for (key, first, second) in [("new/s.bin", &small, &big), ("new/b.bin", &big, &small)] {
        let sent = std::sync::atomic::AtomicU64::new(0);
        store
            .put_file_new_with(key, first, &|n| {
                sent.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
        let size = std::fs::metadata(first).unwrap().len();
        assert_eq!(sent.into_inner(), size);
        let err = store.put_file_new_with(key, second, &|_| {}).unwrap_err();
        assert!(
            matches!(&err, Error::AlreadyExists { key: k, .. } if k == key),
            "{err}"
        );
        assert_eq!(store.stat(key).unwrap().size, size, "{key} was replaced");
    }
    assert_eq!(keys(store, "new"), ["new/b.bin", "new/s.bin"]);

    // gated uploads: cancelled before their last step they leave nothing; let through, the
    // whole file is there (one request, or parts)
    for file in [&small, &big] {
        let size = std::fs::metadata(file).unwrap().len();
        let gated = |decide: &dyn Fn(&UploadGate)| {
            let gate = UploadGate::new();
            std::thread::scope(|s| {
                let up = s.spawn(|| store.put_file_new_gated("gated/x.bin", file, &|_| {}, &gate));
                std::thread::sleep(std::time::Duration::from_millis(30));
                assert!(
                    !store.exists("gated/x.bin").unwrap(),
                    "visible before the gate opened"
                );
                decide(&gate);
                up.join().unwrap()
            })
        };
        let err = gated(&|g| g.cancel()).unwrap_err();
        assert!(matches!(err, Error::Cancelled { .. }), "{err}");
        assert!(
            !store.exists("gated/x.bin").unwrap(),
            "a cancelled upload left an object"
        );
        gated(&|g| g.proceed()).unwrap();
        assert_eq!(store.stat("gated/x.bin").unwrap().size, size);
        store.delete("gated/x.bin").unwrap();
    }

    // clean up
    for m in store.list("").unwrap() {
        store.delete(&m.key).unwrap();
    }
    assert!(store.list("").unwrap().is_empty());
}

/// `b64(md5(md5(part1) ‖ md5(part2) ‖ …))-<n>` as S3 computes multipart ETags.
fn expected_multipart_hash(path: &Path, part: usize) -> String {
    use base64::Engine as _;
    let data = std::fs::read(path).unwrap();
    let mut outer = Md5::new();
    let mut n = 0;
    for chunk in data.chunks(part) {
        outer.update(Md5::digest(chunk));
        n += 1;
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(outer.finalize());
    format!("{}-{n}", &b64[..22])
}

#[cfg(feature = "memory")]
#[test]
fn memory_backend() {
    let store = Store::open(&format!("memory://{}", unique("mem"))).unwrap();
    assert_eq!(store.kind(), StoreKind::Memory);
    exercise(&store);
    let prefixed = Store::open(&format!("memory://{}/some/prefix", unique("mem"))).unwrap();
    exercise(&prefixed);
}

#[cfg(feature = "fs")]
#[test]
fn local_backend() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().to_str().unwrap()).unwrap();
    assert_eq!(store.kind(), StoreKind::Local);
    store.check().unwrap();
    exercise(&store);
    let url = format!("file://{}/nested/root", dir.path().display());
    let nested = Store::open(&url).unwrap();
    nested.check().unwrap();
    exercise(&nested);
    // a folder is not an object
    nested.put_bytes("f/x", b"x").unwrap();
    assert!(matches!(nested.stat("f"), Err(Error::NotAFile { .. })));
    assert!(!nested.exists("f").unwrap());
}

#[cfg(feature = "s3")]
#[test]
fn s3_backend() {
    let Some((store, _, _)) = s3_store("s3") else {
        return;
    };
    assert_eq!(store.kind(), StoreKind::S3);
    store.check().unwrap();
    exercise(&store);
}

/// Objects hashed where they are (LaminDB's rule: md5 up to 50 MiB, else sha1 of the first
/// and last 50 MiB, read as two ranges), and copied between prefixes of one bucket by the
/// server.
#[cfg(feature = "s3")]
#[test]
fn s3_objects_hash_in_place_and_copy_on_the_server() {
    let Some((a, opts, bucket)) = s3_store("copy-a") else {
        return;
    };
    let b = Store::open_with(&format!("s3://{bucket}/{}", unique("copy-b")), &opts).unwrap();
    assert!(b.copies_server_side_from(&a) && a.copies_server_side_from(&b));
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.bin");
    write_pattern_file(
        &huge,
        (lamella_storage::HASH_CHUNK_SIZE + 3 * 1024 * 1024) as usize,
        7,
    );
    let small = dir.path().join("small.bin");
    write_pattern_file(&small, 1000, 3);
    for (key, file) in [("x/huge.bin", &huge), ("small.bin", &small)] {
        a.put_file(key, file).unwrap();
        let h = a.hash_object(key).unwrap();
        assert_eq!(h, hash_file(file).unwrap(), "{key}");
        b.copy_new_from(&a, key, &format!("copied/{key}")).unwrap();
        assert_eq!(b.hash_object(&format!("copied/{key}")).unwrap(), h);
        // never over an existing object
        let err = b
            .copy_new_from(&a, key, &format!("copied/{key}"))
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    }
    assert_eq!(
        a.hash_object("x/huge.bin").unwrap().hash_type,
        HashType::Sha1Fl
    );
    // a missing source object is named
    let err = b
        .copy_new_from(&a, "nope.bin", "copied/nope.bin")
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    // other buckets and other backends are not copied on the server
    let elsewhere = Store::open_with("s3://another-bucket/p", &opts).unwrap();
    assert!(!elsewhere.copies_server_side_from(&a));
    let local = Store::open(dir.path().to_str().unwrap()).unwrap();
    assert!(!local.copies_server_side_from(&a) && !a.copies_server_side_from(&local));
    let err = local.copy_new_from(&a, "small.bin", "s.bin").unwrap_err();
    assert!(err.to_string().contains("one bucket"), "{err}");
    // the local store hashes its file
    assert_eq!(
        local.hash_object("small.bin").unwrap(),
        hash_file(&small).unwrap()
    );
    for s in [&a, &b] {
        for m in s.list("").unwrap() {
            s.delete(&m.key).unwrap();
        }
    }
}

#[cfg(feature = "s3")]
#[test]
fn s3_missing_bucket_is_named() {
    let Some((_, opts, _)) = s3_store("nobucket") else {
        return;
    };
    let store = Store::open_with("s3://lamella-no-such-bucket-for-tests/p", &opts).unwrap();
    let err = store.put_bytes("k", b"x").unwrap_err();
    assert!(
        matches!(err, Error::NoSuchBucket { .. }),
        "expected NoSuchBucket, got {err:?}"
    );
    assert!(
        err.to_string().contains("lamella-no-such-bucket-for-tests"),
        "{err}"
    );
}

#[cfg(feature = "s3")]
#[test]
fn s3_unreachable_endpoint_says_what_to_check_and_hides_secrets() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let opts = S3Options {
        endpoint: Some("http://127.0.0.1:1".into()),
        region: None,
        access_key_id: Some("AKIAUNREACHABLE".into()),
        secret_access_key: Some("secret-value-never-shown".into()),
        session_token: None,
        virtual_host_style: false,
    };
    let store = Store::open_with("s3://bucket/prefix", &opts).unwrap();
    let err = store.stat("some/key").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(
        msg.contains("AWS_ENDPOINT_URL") && msg.contains("127.0.0.1:1"),
        "{msg}"
    );
    assert!(!msg.contains("secret-value-never-shown"), "{msg}");
    assert!(!format!("{err:?}").contains("secret-value-never-shown"));
}
