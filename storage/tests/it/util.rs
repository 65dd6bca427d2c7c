//! Helpers shared by the integration tests.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Deterministic pseudo-random bytes (xorshift64*), so files differ at every offset.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes `len` pattern bytes to `path`, 8 MiB at a time.
pub fn write_pattern_file(path: &Path, len: usize, seed: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut left = len;
    let mut s = seed;
    while left > 0 {
        let n = left.min(8 << 20);
        f.write_all(&pattern(n, s)).unwrap();
        left -= n;
        s = s.wrapping_add(1);
    }
    f.flush().unwrap();
}

/// Runs a Python snippet with arguments and returns its trimmed stdout, or `None` when
/// python3 is not installed (the callers then rely on precomputed constants).
pub fn python(script: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// LaminDB's `hash_file`, `hash_dir` and `hash_from_hashes_list` (lamindb_setup.core.hashing),
/// transcribed; `sys.argv[1]` is `file` or `dir`.
pub const LAMINDB_HASHING_PY: &str = r#"
import base64, hashlib, sys
from pathlib import Path

def to_b64_str(b):
    return base64.urlsafe_b64encode(b).decode().strip("=")

def hash_file(file_path, chunk_size=50 * 1024 * 1024):
    with open(file_path, "rb") as fp:
        fp.seek(0, 2)
        file_size = fp.tell()
        fp.seek(0, 0)
        first_chunk = fp.read(chunk_size)
        if file_size <= chunk_size:
            digest = hashlib.md5(first_chunk).digest()
            hash_type = "md5"
        else:
            fp.seek(-chunk_size, 2)
            last_chunk = fp.read(chunk_size)
            digest = hashlib.sha1(
                hashlib.sha1(first_chunk).digest() + hashlib.sha1(last_chunk).digest()
            ).digest()
            hash_type = "sha1-fl"
    return to_b64_str(digest)[:22], hash_type

def hash_from_hashes_list(hashes):
    digests = b"".join(hashlib.md5(h.encode("utf-8")).digest() for h in sorted(hashes))
    return to_b64_str(hashlib.md5(digests).digest())[:22]

if sys.argv[1] == "file":
    h, t = hash_file(sys.argv[2])
    print(h, t)
else:
    files = [p for p in Path(sys.argv[2]).rglob("*") if p.is_file()]
    hashes = [hash_file(p)[0] for p in files]
    print(hash_from_hashes_list(hashes), "md5-d", len(files), sum(p.stat().st_size for p in files))
"#;
