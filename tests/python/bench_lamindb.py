"""LaminDB's side of `lamella-bench --peers`: the same workloads through lamindb, in the
current LaminDB instance (the bench makes a fresh offline one with `lamin init`), timed in
this one Python process after `import lamindb`:

    python bench_lamindb.py [--parquet FILE] [--small DIR] [--labels N]

- `--parquet`: register FILE (`ln.Artifact(path).save()`), best of 3; the artifact is
  deleted for good between runs, so each save hashes and copies the file again;
- `--small`: register each file of DIR with one call each; the mean per file;
- `--labels`: N new ULabels in one `ln.save`, each constructed with LaminDB's name check;
- `--validate`: 10,000 ULabels `cell type 00000`… saved (without the name check, not
  timed), then `ln.ULabel.validate` of 1,000,000 values cycling through them as the Lamella
  row does (`names[(i * 31) % 10000]`), the median of 3.

Prints one JSON object of seconds on its last line."""

import argparse
import json
import os
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parquet")
    parser.add_argument("--small")
    parser.add_argument("--labels", type=int, default=0)
    parser.add_argument("--validate", action="store_true")
    args = parser.parse_args()

    import lamindb as ln

    # offline: the instance is local, the hub is not asked about it
    ln.setup.settings.instance._is_on_hub = False
    ln.settings.verbosity = "error"
    out = {}
    if args.parquet:
        best = float("inf")
        for i in range(3):
            t = time.perf_counter()
            a = ln.Artifact(args.parquet, description=f"register {i}").save()
            best = min(best, time.perf_counter() - t)
            a.delete(permanent=True, storage=True)
        out["register_parquet"] = best
    if args.small:
        files = sorted(os.path.join(args.small, f) for f in os.listdir(args.small))
        t = time.perf_counter()
        for p in files:
            ln.Artifact(p, description="small").save()
        out["register_small_per_file"] = (time.perf_counter() - t) / max(len(files), 1)
    if args.labels > 0:
        t = time.perf_counter()
        ln.save([ln.ULabel(name=f"bench label {i}") for i in range(args.labels)])
        out["labels"] = time.perf_counter() - t
    if args.validate:
        names = [f"cell type {i:05}" for i in range(10_000)]
        ln.settings.creation.search_names = False
        ln.save([ln.ULabel(name=n) for n in names])
        ln.settings.creation.search_names = True
        values = [names[(i * 31) % len(names)] for i in range(1_000_000)]
        times = []
        for _ in range(3):
            t = time.perf_counter()
            ok = ln.ULabel.validate(values, field="name", mute=True)
            times.append(time.perf_counter() - t)
            assert ok.all()
        out["validate"] = sorted(times)[1]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
