"""Lamella's Python package next to LaminDB, the same calls in the same Python.

    python python/bench/bench.py [--quick] [--only lamella]

Each system runs in its own child process on a fresh instance in a temporary folder (LaminDB:
an offline SQLite instance, `lamin init`); every workload is timed in that process with
`time.perf_counter`, best of `--repeat` where a workload can be repeated. LaminDB runs when
`import lamindb` works in this Python (`pip install lamindb`), else its column stays empty.
A benchmark, not a test: it prints figures and asserts nothing but that results agree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (workload, LaminDB's figure from the issue when not measured, the target ratio)
WORKLOADS = [
    ("import + connect", None, None),
    ("10k ULabel saves, one bulk ln.save (name check)", "40–80 s", 200),
    ("1,000 ULabel saves one by one", None, None),
    ("Feature.from_df, 200 columns, + ln.save", None, None),
    ("Artifact.from_df 1M × 5 + save()", None, None),
    ("labels.add of 1,000 labels", None, None),
    ("describe()", None, None),
    ("ULabel.filter(name__startswith=…).df()", None, None),
    ("collection.load(), 10 × 100k rows", "0.86 s", 5),
    ("trivial call (per call)", None, None),
]


def timed(f, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def frames(rows: int, n: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return [
        pd.DataFrame(
            {
                "a": rng.integers(0, 1000, rows),
                "b": rng.random(rows),
                "c": rng.random(rows),
                "d": rng.integers(0, 10, rows),
                "e": rng.choice(["x", "y", "z"], rows),
            }
        )
        for _ in range(n)
    ]


def worker(system: str, quick: bool, repeat: int) -> dict:
    import pandas as pd

    scale = 10 if quick else 1
    out: dict[str, float] = {}
    if system == "lamella":
        import lamella as ln

        ln.init(storage=os.environ["BENCH_ROOT"])

        def from_df(df, description):
            return ln.Artifact.from_df(df, description=description)

        def collection(members, name):
            return ln.Collection(members, name=name)

        native = ln._base.instance()

        def trivial():  # one call into Rust
            return native.root

        feature_from_df = ln.Feature.from_df
    else:
        import lamindb as ln

        ln.setup.settings.instance._is_on_hub = False

        def from_df(df, description):
            return ln.Artifact.from_dataframe(df, description=description)

        def collection(members, name):
            return ln.Collection(members, key=name)

        def trivial():
            return ln.settings.verbosity

        feature_from_df = getattr(ln.Feature, "from_dataframe", None) or ln.Feature.from_df

    n = 10_000 // scale
    labels = [ln.ULabel(name=f"label {i}") for i in range(n)]
    out["10k ULabel saves, one bulk ln.save (name check)"] = timed(lambda: ln.save(labels))
    out["1,000 ULabel saves one by one"] = timed(
        lambda: [ln.ULabel(name=f"single {i}").save() for i in range(1000 // scale)]
    )
    wide = pd.DataFrame({f"col_{i}": [0.5, 1.5] for i in range(200)})
    out["Feature.from_df, 200 columns, + ln.save"] = timed(lambda: ln.save(feature_from_df(wide)))
    (big,) = frames(1_000_000 // scale, 1)
    box = {}
    out["Artifact.from_df 1M × 5 + save()"] = timed(
        lambda: box.setdefault("a", from_df(big, description="big").save())
    )
    artifact = box["a"]
    many = ln.ULabel.filter(name__startswith="label ").all()[: 1000 // scale]
    feature = ln.Feature(name="bench_labels", dtype="cat[ULabel]").save()
    out["labels.add of 1,000 labels"] = timed(lambda: artifact.labels.add(many, feature=feature))
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        out["describe()"] = timed(lambda: artifact.describe(), repeat)
    def query_df():
        qs = ln.ULabel.filter(name__startswith="label 12")
        return getattr(qs, "to_dataframe", qs.df)()

    out["ULabel.filter(name__startswith=…).df()"] = timed(query_df, max(repeat, 5))
    members = [
        from_df(df, description=f"member {i}").save()
        for i, df in enumerate(frames(100_000 // scale, 10, seed=1))
    ]
    c = collection(members, "ten").save()
    loaded = {}
    out["collection.load(), 10 × 100k rows"] = timed(
        lambda: loaded.setdefault("df", c.load()), repeat
    )
    assert len(loaded["df"]) == 10 * (100_000 // scale)
    calls = 100_000
    t = time.perf_counter()
    for _ in range(calls):
        trivial()
    out["trivial call (per call)"] = (time.perf_counter() - t) / calls
    return out


def import_connect(system: str, env: dict, cwd: Path) -> float:
    """Median of 5 fresh processes importing the package and connecting."""
    code = (
        "import lamella as ln; ln.connect(); ln.ULabel.filter().count()"
        if system == "lamella"
        else "import lamindb as ln; ln.ULabel.filter().count()"
    )
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=cwd, check=True, capture_output=True
        )
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run_system(system: str, quick: bool, repeat: int) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["BENCH_ROOT"] = str(Path(tmp) / "data")
        env["LAMELLA_HOME"] = str(Path(tmp) / "home")
        env["LAMIN_SETTINGS_DIR"] = str(Path(tmp) / "settings")
        env["LAMIN_CACHE_DIR"] = str(Path(tmp) / "cache")
        cwd = Path(tmp) / "run"
        cwd.mkdir()
        if system == "lamindb":
            lamin = Path(sys.executable).parent / "lamin"
            subprocess.run(
                [str(lamin), "init", "--storage", env["BENCH_ROOT"]],
                env=env, cwd=cwd, check=True, capture_output=True,
            )
        args = [sys.executable, __file__, "--worker", system, "--repeat", str(repeat)]
        if quick:
            args.append("--quick")
        done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{system} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            return None
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["import + connect"] = import_connect(system, env, cwd)
        return figures


def shown(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", choices=["lamella", "lamindb"])
    p.add_argument("--worker", choices=["lamella", "lamindb"], help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, a.quick, a.repeat)))
        return
    try:
        import lamindb  # noqa: F401

        systems = ["lamella", "lamindb"]
    except ImportError:
        systems = ["lamella"]
    if a.only:
        systems = [a.only]
    results = {s: run_system(s, a.quick, a.repeat) for s in systems}
    lam = results.get("lamella") or {}
    ldb = results.get("lamindb") or {}
    print(f"{'workload':<50} {'Lamella':>10} {'LaminDB':>10} {'ratio':>8}  target")
    for name, quoted, target in WORKLOADS:
        mine, theirs = lam.get(name), ldb.get(name)
        ratio = f"{theirs / mine:.0f}×" if mine and theirs else ""
        other = shown(theirs) if theirs is not None else (f"({quoted})" if quoted else "")
        goal = f"≥ {target}×" if target else ""
        print(f"{name:<50} {shown(mine):>10} {other:>10} {ratio:>8}  {goal}")


if __name__ == "__main__":
    main()
