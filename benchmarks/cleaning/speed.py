"""Speed benchmark: read + every cleaning stage + write, CSV and Parquet input.

    python benchmarks/cleaning/speed.py                # 0.1 M and 1 M answers
    python benchmarks/cleaning/speed.py --with-10m     # and 10 M (about 10 M rows: slow)
    python benchmarks/cleaning/speed.py --quick        # 20 k and 60 k, a few seconds

The campaign has the shape issue 12 measured: units of 14 where everyone rates
everyone on 6 items (1,092 peer answers per unit) plus public ratings of the same staff
(2,737 public answers per unit: 60 % QR forms of three items, 40 % counter-device
taps of one), i.e. 722,664 public and 288,288 peer answers per 264 units (~1.01 M).
Light contamination (speeders, repeated devices, lenient and straight-lining raters,
a colluding pair in every sixth unit) keeps every stage busy. It is generated in
blocks of units straight to CSV and Parquet (not timed; deterministic for a seed).

Each input is then read + cleaned + written (scores.csv, flags.csv, report.html) by
``clean_file``'s steps in a fresh subprocess, so peak RSS (``ru_maxrss``) belongs to that
run alone. Prints a Markdown table and the fitted growth exponent (slope of log total
time against log answers).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

UNIT = 14
PEER_PER_UNIT = UNIT * (UNIT - 1) * 6  # 1,092
PUBLIC_RESPONSES_PER_STAFF = 722_664 / 264 / UNIT / 2.2  # 2.2 answers per response
ANSWERS_PER_UNIT = 722_664 / 264 + PEER_PER_UNIT
BLOCK_UNITS = 100
START = np.datetime64("2026-03-02T00:00:00")  # a Monday, local time

SCHEMA = pa.schema(
    [
        ("response_id", pa.string()),
        ("role", pa.string()),
        ("rater", pa.string()),
        ("ratee", pa.string()),
        ("item", pa.string()),
        ("score", pa.int8()),
        ("submitted_at", pa.timestamp("s")),  # naive: local wall-clock time
        ("duration_s", pa.float64()),
        ("device", pa.string()),
        ("ticket", pa.string()),
        ("channel", pa.string()),
    ]
)

CHILD = """
import contextlib, json, resource, sys, time
from pingyi.cleaning import clean
from pingyi.cleaning.io import read_ratings, write_outputs
from pingyi.cleaning.pipeline import InProcess
path, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
if workers:
    from pingyi.cluster import dask_runner
    cluster = dask_runner(workers=workers)
else:
    cluster = contextlib.nullcontext(InProcess)
t0 = time.perf_counter()
ratings = read_ratings(path)
t1 = time.perf_counter()
with cluster as runner:
    result = clean(ratings, runner=runner)
t2 = time.perf_counter()
write_outputs(result, out)
t3 = time.perf_counter()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"answers": len(ratings), "read": t1 - t0, "clean": t2 - t1,
                  "write": t3 - t2, "total": t3 - t0, "stages": result.stage_seconds,
                  "flags": len(result.flags), "peak_mb": peak_kb / 1024}))
"""


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pa.array(np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object))


def _times(rng: np.random.Generator, n: int) -> np.ndarray:
    day = rng.integers(0, 20, n)
    day = day + day // 5 * 2  # Monday..Friday
    seconds = (rng.uniform(8.5, 17.5, n) * 3600).astype(np.int64)
    return START + (day * 86400 + seconds).astype("timedelta64[s]")


def _block(rng: np.random.Generator, first_unit: int, n_units: int, serial: int) -> pa.Table:
    """Public and peer answers of units first_unit.. (staff S<unit><k>)."""
    n_staff = n_units * UNIT
    staff_no = first_unit * UNIT + np.arange(n_staff)
    quality = np.clip(rng.normal(3.7, 0.5, n_staff), 2.0, 4.8)
    names = np.char.add("S", np.char.zfill(staff_no.astype(str), 7)).astype(object)

    # ----- public: one row per answered item --------------------------------------
    per = rng.poisson(PUBLIC_RESPONSES_PER_STAFF, n_staff)
    who = np.repeat(np.arange(n_staff), per)
    m = len(who)
    qr = rng.random(m) < 0.6
    overall = np.clip(np.rint(quality[who] + 0.3 + rng.normal(0, 0.9, m)), 1, 5)
    when = _times(rng, m)
    duration = np.where(qr, np.round(rng.lognormal(np.log(25), 0.35, m), 1), np.nan)
    duration[qr & (rng.random(m) < 0.03)] = 2.0  # speeders
    device_no = rng.integers(0, 10**9, m)
    repeat = rng.random(m) < 0.01  # the same phone again for the same window
    device_no[1:][repeat[1:]] = device_no[:-1][repeat[1:]]
    device = np.where(
        qr,
        np.char.add("d", np.char.zfill(device_no.astype(str), 9)).astype(object),
        np.char.add("k", names[who].astype(str)).astype(object),
    )
    ticket = np.where(
        rng.random(m) < 0.7,
        np.char.add("T", (serial + np.arange(m)).astype(str)).astype(object),
        "",
    )
    n_items = np.where(qr, 3, 1)
    row_of = np.repeat(np.arange(m), n_items)
    item_k = np.arange(len(row_of)) - np.repeat(np.cumsum(n_items) - n_items, n_items)
    scores = overall[row_of].copy()
    extra = item_k > 0
    scores[extra] = np.clip(np.rint(scores[extra] + rng.normal(0, 0.7, extra.sum())), 1, 5)
    public = {
        "response_id": _ids("p", serial + row_of, 10),
        "role": np.full(len(row_of), "public", dtype=object),
        "rater": np.full(len(row_of), "", dtype=object),
        "ratee": names[who][row_of],
        "item": np.array(["overall", "wait", "attitude"], dtype=object)[item_k],
        "score": scores,
        "submitted_at": when[row_of],
        "duration_s": duration[row_of],
        "device": device[row_of],
        "ticket": ticket[row_of],
        "channel": np.where(qr, "qr", "device").astype(object)[row_of],
    }

    # ----- peer: everyone in a unit rates everyone else on 6 items -----------------
    a, c = np.meshgrid(np.arange(UNIT), np.arange(UNIT), indexing="ij")
    keep = a != c
    base = np.repeat(np.arange(n_units) * UNIT, keep.sum())
    rater = base + np.tile(a[keep], n_units)
    ratee = base + np.tile(c[keep], n_units)
    p = len(rater)
    bias = rng.normal(0, 0.15, n_staff)
    kind = rng.random(n_staff)
    bias[kind < 0.07] += 1.2  # lenient
    level = quality[ratee] + bias[rater] + rng.normal(0, 0.35, p)
    items = np.clip(np.rint(level[:, None] + rng.normal(0, 0.7, (p, 6))), 1, 5)
    straight = (kind >= 0.07) & (kind < 0.10)
    items[straight[rater]] = np.clip(np.rint(level[straight[rater], None]), 1, 5)
    pair = (np.arange(n_units) % 6 == 0).repeat(UNIT) & (np.arange(n_staff) % UNIT < 2)
    mutual = pair[rater] & pair[ratee]
    items[mutual] = 5
    when = _times(rng, p)
    peer = {
        "response_id": _ids("q", serial + m + np.repeat(np.arange(p), 6), 10),
        "role": np.full(p * 6, "peer", dtype=object),
        "rater": names[rater].repeat(6),
        "ratee": names[ratee].repeat(6),
        "item": np.tile(np.array([f"i{k}" for k in range(1, 7)], dtype=object), p),
        "score": items.ravel(),
        "submitted_at": when.repeat(6),
        "duration_s": np.round(rng.lognormal(np.log(90), 0.35, p), 1).repeat(6),
        "device": np.full(p * 6, "", dtype=object),
        "ticket": np.full(p * 6, "", dtype=object),
        "channel": np.full(p * 6, "link", dtype=object),
    }
    arrays = []
    for field in SCHEMA:
        values = np.concatenate([np.asarray(public[field.name]), np.asarray(peer[field.name])])
        if field.name == "score":
            values = values.astype(np.int8)
        arrays.append(pa.array(values, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def make_inputs(answers: int, folder: Path, seed: int) -> tuple[Path, Path, int]:
    """Writes ratings.csv and ratings.parquet of about ``answers`` rows; returns the count."""
    rng = np.random.default_rng(seed)
    n_units = max(1, round(answers / ANSWERS_PER_UNIT))
    csv_path, parquet_path = folder / "ratings.csv", folder / "ratings.parquet"
    csv_schema = pa.schema(
        [f.with_type(pa.string()) if f.name == "submitted_at" else f for f in SCHEMA]
    )
    rows = serial = 0
    with (
        pcsv.CSVWriter(
            csv_path, csv_schema, write_options=pcsv.WriteOptions(quoting_style="needed")
        ) as to_csv,
        pq.ParquetWriter(parquet_path, SCHEMA) as to_parquet,
    ):
        for first in range(0, n_units, BLOCK_UNITS):
            table = _block(rng, first, min(BLOCK_UNITS, n_units - first), serial)
            serial += 10**7
            rows += table.num_rows
            to_parquet.write_table(table)
            stamps = np.datetime_as_string(table.column("submitted_at").to_numpy(), unit="s")
            index = table.schema.get_field_index("submitted_at")
            to_csv.write_table(
                table.set_column(index, "submitted_at", pa.array(stamps.astype(object)))
            )
    return csv_path, parquet_path, rows


def measure(path: Path, out: Path, workers: int = 0) -> dict:
    """One fresh process: read + clean + write; with ``workers``, the partitions run on a
    local Dask cluster of that many processes (peak RSS is then the client's alone)."""
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(out), str(workers)],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if run.returncode:
        raise SystemExit(f"{path}: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def exponent(rows: list[dict]) -> float:
    if len(rows) < 2:
        return math.nan
    n = np.log([r["answers"] for r in rows])
    t = np.log([r["total"] for r in rows])
    return float(np.polyfit(n, t, 1)[0])


def table(rows: list[dict]) -> str:
    stages = list(rows[0]["stages"])
    lines = [
        "| input | answers | read | " + " | ".join(stages) + " | write | total | µs/answer "
        "| peak RSS |",
        "| --- " + "| ---: " * (len(stages) + 6) + "|",
    ]
    for r in rows:
        cells = [r["format"], f"{r['answers']:,}", f"{r['read']:.2f} s"]
        cells += [f"{r['stages'].get(s, math.nan):.2f} s" for s in stages]
        cells += [
            f"{r['write']:.2f} s",
            f"**{r['total']:.2f} s**",
            f"{r['total'] / r['answers'] * 1e6:.1f}",
            f"{r['peak_mb']:,.0f} MB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 k and 60 k answers")
    parser.add_argument("--with-10m", action="store_true", help="add 10 M answers (slow)")
    parser.add_argument("--sizes", help="comma-separated answer counts instead")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="also run Parquet input on a local Dask cluster of N workers; outputs compared",
    )
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    elif args.quick:
        sizes = [20_000, 60_000]
    else:
        sizes = [100_000, 1_000_000] + ([10_000_000] if args.with_10m else [])
    rows: list[dict] = []
    for k, size in enumerate(sizes):
        with tempfile.TemporaryDirectory(prefix="pingyi-speed-") as tmp:
            t0 = time.perf_counter()
            csv_path, parquet_path, n = make_inputs(size, Path(tmp), seed=500 + k)
            print(
                f"generated {n:,} answers in {time.perf_counter() - t0:.1f} s "
                f"(CSV {csv_path.stat().st_size / 2**20:,.0f} MB, "
                f"Parquet {parquet_path.stat().st_size / 2**20:,.0f} MB)",
                file=sys.stderr,
            )
            runs = [("CSV", csv_path, 0), ("Parquet", parquet_path, 0)]
            if args.workers:
                runs.append((f"Parquet, Dask x{args.workers}", parquet_path, args.workers))
            for fmt, path, workers in runs:
                row = measure(path, Path(tmp) / f"out-{fmt}", workers)
                row["format"] = fmt
                rows.append(row)
                if workers:
                    same = all(
                        (Path(tmp) / f"out-{fmt}" / f).read_bytes()
                        == (Path(tmp) / "out-Parquet" / f).read_bytes()
                        for f in ("scores.csv", "flags.csv")
                    )
                    print(f"  {fmt}: output identical to one process: {same}", file=sys.stderr)
                    row["identical"] = same
                print(
                    f"  {fmt}: {row['total']:.1f} s, peak {row['peak_mb']:,.0f} MB",
                    file=sys.stderr,
                )
    print(table(rows))
    print()
    for fmt in ("CSV", "Parquet"):
        mine = [r for r in rows if r["format"] == fmt]
        print(f"growth exponent ({fmt} input, log total time vs log answers): {exponent(mine):.2f}")
    targets = {1_000_000: (10.0, math.inf), 10_000_000: (120.0, 3072.0)}
    for r in rows:
        for size, (seconds, mb) in targets.items():
            if abs(r["answers"] - size) / size < 0.05:
                ok = r["total"] < seconds and r["peak_mb"] < mb
                limit = f"< {seconds:.0f} s" + (f", < {mb:,.0f} MB" if mb < math.inf else "")
                print(
                    f"{r['format']} {r['answers']:,}: {r['total']:.1f} s, "
                    f"{r['peak_mb']:,.0f} MB; target {limit}: {'met' if ok else 'NOT met'}"
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
