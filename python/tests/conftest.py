"""A fresh instance per test: on SQLite and (when LAMELLA_TEST_POSTGRES_URL names a server,
as `cargo xtask ci` sets it) on PostgreSQL, with local storage; `s3_root` gives a fresh
prefix on the test S3 server when LAMELLA_TEST_S3_ENDPOINT is set."""

import os
import subprocess
import uuid

import pytest

import lamella as ln

PG = os.environ.get("LAMELLA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG else [])
if not PG and os.environ.get("CI") in ("true", "1"):
    raise RuntimeError("CI must run the Python tests on PostgreSQL: set LAMELLA_TEST_POSTGRES_URL")


@pytest.fixture(params=BACKENDS)
def instance(request, tmp_path, monkeypatch):
    """Initializes a fresh instance with its data in `tmp_path/data`; yields that root."""
    monkeypatch.setenv("LAMELLA_HOME", str(tmp_path / "home"))
    root = tmp_path / "data"
    if request.param == "sqlite":
        ln.init(storage=root)
        yield root
        return
    name = "lamella_py_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", PG, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        ln.init(storage=root, db=PG.rsplit("/", 1)[0] + "/" + name)
        yield root
    finally:
        subprocess.run(["psql", PG, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=False)


@pytest.fixture
def s3_root():
    """A fresh `s3://` prefix on the test server; skips when none runs (never in CI)."""
    if not os.environ.get("LAMELLA_TEST_S3_ENDPOINT"):
        if os.environ.get("CI") in ("true", "1"):
            raise RuntimeError("CI must run the S3 tests: set LAMELLA_TEST_S3_ENDPOINT")
        pytest.skip("LAMELLA_TEST_S3_ENDPOINT is not set (cargo xtask services up)")
    bucket = os.environ.get("LAMELLA_TEST_S3_BUCKET", "lamella-test")
    return f"s3://{bucket}/py-{uuid.uuid4().hex[:12]}"
