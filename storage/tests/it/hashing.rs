//! Hashes of real files compared with LaminDB's Python implementation.

use lamella_storage::{HASH_CHUNK_SIZE, HashType, hash_file, hash_folder};

use crate::util::{LAMINDB_HASHING_PY, python, write_pattern_file};

/// `hash_file` of a 60 MiB pattern file (seed 42), computed once with LaminDB's code.
const SHA1_FL_60MIB: &str = "mbhGo0bT10wrNExqqXElNn";

#[test]
fn large_file_uses_sha1_first_last_like_lamindb() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    write_pattern_file(&path, 60 << 20, 42);
    let h = hash_file(&path).unwrap();
    assert_eq!(h.hash_type, HashType::Sha1Fl);
    assert_eq!(h.size, 60 << 20);
    assert_eq!(h.hash, SHA1_FL_60MIB);
    if let Some(py) = python(LAMINDB_HASHING_PY, &["file", path.to_str().unwrap()]) {
        assert_eq!(py, format!("{} sha1-fl", h.hash));
    }
}

#[test]
fn chunk_boundary_like_lamindb() {
    let dir = tempfile::tempdir().unwrap();
    let exact = dir.path().join("exact.bin");
    write_pattern_file(&exact, HASH_CHUNK_SIZE as usize, 7);
    let one_more = dir.path().join("one_more.bin");
    write_pattern_file(&one_more, HASH_CHUNK_SIZE as usize + 1, 7);
    let h_exact = hash_file(&exact).unwrap();
    let h_more = hash_file(&one_more).unwrap();
    assert_eq!(h_exact.hash_type, HashType::Md5);
    assert_eq!(h_more.hash_type, HashType::Sha1Fl);
    for (p, h) in [(&exact, &h_exact), (&one_more, &h_more)] {
        if let Some(py) = python(LAMINDB_HASHING_PY, &["file", p.to_str().unwrap()]) {
            assert_eq!(py, format!("{} {}", h.hash, h.hash_type));
        }
    }
}

#[test]
fn folder_like_lamindb() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("x/y")).unwrap();
    std::fs::create_dir_all(root.join(".hidden")).unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    std::fs::write(root.join("x/b.txt"), b"b").unwrap();
    std::fs::write(root.join("x/y/empty"), b"").unwrap();
    std::fs::write(root.join(".hidden/c"), b"c").unwrap();
    write_pattern_file(&root.join("x/y/big.bin"), 3 << 20, 9);
    let h = hash_folder(root).unwrap();
    assert_eq!(h.hash_type, HashType::Md5D);
    assert_eq!(h.n_objects, 5);
    assert_eq!(h.size, 3 + (3 << 20));
    if let Some(py) = python(LAMINDB_HASHING_PY, &["dir", root.to_str().unwrap()]) {
        assert_eq!(py, format!("{} md5-d {} {}", h.hash, h.n_objects, h.size));
    }
}

#[cfg(unix)]
#[test]
fn folder_with_links_like_lamindb() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("x")).unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    std::fs::write(outside.path().join("b.txt"), b"bb").unwrap();
    std::fs::create_dir_all(outside.path().join("d")).unwrap();
    std::fs::write(outside.path().join("d/c.txt"), b"ccc").unwrap();
    symlink(outside.path().join("b.txt"), root.join("x/b_link.txt")).unwrap();
    symlink(outside.path().join("d"), root.join("d_link")).unwrap();
    symlink(root, root.join("x/up")).unwrap();
    let h = hash_folder(root).unwrap();
    assert_eq!((h.n_objects, h.size), (2, 3));
    if let Some(py) = python(LAMINDB_HASHING_PY, &["dir", root.to_str().unwrap()]) {
        assert_eq!(py, format!("{} md5-d {} {}", h.hash, h.n_objects, h.size));
    }
}
