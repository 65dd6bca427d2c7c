"""Grows a LaminDB 2.x instance (an extracted copy of tests/fixtures/lamindb's 2.12 one) to a
benchmark size, writing rows as lamindb 2.12 writes them and one file per artifact:

    python3 make_lamindb_instance.py ROOT ARTIFACTS LABELS FEATURES LINKS

ROOT is the instance's storage root (holding .lamindb/lamin.db). Artifacts are 1 KB text
files under .lamindb/<uid>.txt, hashed as LaminDB hashes them (md5, URL-safe base64 without
padding); label links go through categorical features. Deterministic (seeded); stdlib only."""

import base64
import hashlib
import os
import random
import sqlite3
import sys

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def main() -> None:
    root, n_art, n_lab, n_feat, n_links = sys.argv[1], *map(int, sys.argv[2:6])
    rng = random.Random(42)
    uid = lambda n: "".join(rng.choice(BASE62) for _ in range(n))  # noqa: E731
    db = sqlite3.connect(os.path.join(root, ".lamindb", "lamin.db"))
    at = "2026-12-05 10:00:00.000000"
    db.executemany(
        "INSERT INTO lamindb_ulabel (uid, name, created_at, updated_at, created_by_id) "
        "VALUES (?, ?, ?, ?, 1)",
        [(uid(8), f"bench label {i}", at, at) for i in range(n_lab)],
    )
    db.executemany(
        "INSERT INTO lamindb_feature (uid, name, _dtype_str, array_rank, array_size, "
        "created_at, updated_at, created_by_id) VALUES (?, ?, ?, 0, 0, ?, ?, 1)",
        [(uid(12), f"bench_feature_{i}", "cat[ULabel]", at, at) for i in range(n_feat)],
    )
    store = os.path.join(root, ".lamindb")
    rows = []
    for i in range(n_art):
        u = uid(16) + "0000"
        body = (f"artifact {i} " * 100)[:1024].encode()
        digest = base64.urlsafe_b64encode(hashlib.md5(body).digest()).decode().rstrip("=")
        with open(os.path.join(store, f"{u}.txt"), "wb") as f:
            f.write(body)
        rows.append((1, u, f"bench/{i:07d}.txt", ".txt", len(body), digest, "md5", 1, 0, 1, at, at))
    db.executemany(
        "INSERT INTO lamindb_artifact (is_latest, uid, key, suffix, size, hash, _hash_type, "
        "_key_is_virtual, _overwrite_versions, storage_id, created_at, updated_at, "
        "created_by_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        rows,
    )
    art_ids = [r[0] for r in db.execute("SELECT id FROM lamindb_artifact WHERE key LIKE 'bench/%'")]
    lab_ids = [r[0] for r in db.execute("SELECT id FROM lamindb_ulabel WHERE name LIKE 'bench %'")]
    feat_ids = [r[0] for r in db.execute("SELECT id FROM lamindb_feature WHERE name LIKE 'bench_%'")]
    links = set()
    while len(links) < n_links:
        links.add((rng.choice(art_ids), rng.choice(lab_ids), rng.choice(feat_ids)))
    db.executemany(
        "INSERT INTO lamindb_artifactulabel (artifact_id, ulabel_id, feature_id, created_at, "
        "created_by_id) VALUES (?, ?, ?, ?, 1)",
        [(a, l, f, at) for a, l, f in sorted(links)],
    )
    db.commit()


if __name__ == "__main__":
    main()
