"""Speed benchmark: read + every cleaning stage + write, at three sizes.

    python benchmarks/cleaning/speed.py [--quick] [--sizes 100000,300000,1000000]

Each size is generated once (not timed) as a CSV, then cleaned with ``clean_file``
steps in a fresh subprocess so that peak RSS (resource.getrusage) belongs to that size
alone. Prints a Markdown table. Deterministic data (seeded).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSWERS_PER_UNIT = 3850  # measured average of synth.generate per unit

CHILD = """
import json, resource, sys, time
from pingyi.cleaning import read_ratings_csv, clean, write_outputs
path, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
ratings = read_ratings_csv(path)
t1 = time.perf_counter()
result = clean(ratings)
t2 = time.perf_counter()
write_outputs(result, out)
t3 = time.perf_counter()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"answers": len(ratings), "read": t1 - t0, "clean": t2 - t1,
                  "write": t3 - t2, "total": t3 - t0, "stages": result.stage_seconds,
                  "flags": len(result.flags), "peak_mb": peak_kb / 1024}))
"""


def make_csv(answers: int, path: Path, seed: int) -> None:
    sys.path.insert(0, str(HERE))
    from synth import generate, write_csv

    campaign = generate(n_units=max(2, round(answers / ANSWERS_PER_UNIT)), seed=seed)
    write_csv(campaign.ratings, str(path))


def measure(path: Path, out: Path) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--sizes", default="100000,300000,1000000")
    args = parser.parse_args(argv)
    sizes = [20000, 60000, 200000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pingyi-speed-") as tmp:
        for k, size in enumerate(sizes):
            csv_path = Path(tmp) / f"ratings-{size}.csv"
            make_csv(size, csv_path, seed=500 + k)
            rows.append(measure(csv_path, Path(tmp) / f"out-{size}"))
            csv_path.unlink()
    stages = list(rows[0]["stages"])
    print(
        "| answers | read | " + " | ".join(stages) + " | write | total | µs/answer "
        "| total / (n log n), relative | peak RSS |"
    )
    print("| ---: " * (len(stages) + 7) + "|")
    base = None
    for r in rows:
        n = r["answers"]
        nlogn = r["total"] / (n * math.log(n))
        base = base or nlogn
        cells = [f"{n:,}", f"{r['read']:.2f} s"]
        cells += [f"{r['stages'][s]:.2f} s" for s in stages]
        cells += [
            f"{r['write']:.2f} s",
            f"**{r['total']:.2f} s**",
            f"{r['total'] / n * 1e6:.1f}",
            f"{nlogn / base:.2f}",
            f"{r['peak_mb']:.0f} MB",
        ]
        print("| " + " | ".join(cells) + " |")
    last = rows[-1]
    ok = last["total"] < 30 and last["peak_mb"] < 2048
    print(
        f"\nlargest run: {last['answers']:,} answers in {last['total']:.1f} s, "
        f"peak {last['peak_mb']:.0f} MB; target (< 30 s, < 2 GB) "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
