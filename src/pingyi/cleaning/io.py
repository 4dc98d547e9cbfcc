"""File mode: read ratings CSV (validated), write scores.csv, flags.csv, report.html."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .config import CleaningConfig
from .ledger import Override
from .pipeline import Progress, clean
from .screening import TicketCounts
from .types import (
    COLUMNS,
    DEFAULT_UTC_OFFSET_HOURS,
    STRING_COLUMNS,
    CleaningInputError,
    CleaningResult,
    Ratings,
    ScoreRow,
)

SCORE_COLUMNS = tuple(ScoreRow.__dataclass_fields__)
FLAG_COLUMNS = ("response_id", "rater", "ratee", "reason", "action", "weight", "detail")
OUTPUT_FILES = ("scores.csv", "flags.csv", "report.html")
# columns with few distinct values: one shared str each saves most of their memory
LOW_CARDINALITY = ("role", "rater", "ratee", "item", "channel")


def _where(row: int) -> str:
    return f"row {row} (line {row + 1})"


def _floats(values: tuple[str, ...], column: str, allow_empty: bool) -> np.ndarray:
    cleaned = [v.strip() for v in values]
    if allow_empty:
        cleaned = [v if v else "nan" for v in cleaned]
    try:
        out = np.array(cleaned, dtype=float)
    except ValueError:
        out = None
    if out is not None and (allow_empty or not np.isnan(out).any()):
        return out
    for row, v in enumerate(cleaned, start=1):
        try:
            x = float(v)
        except ValueError:
            x = math.nan
        if math.isnan(x) and not (allow_empty and v == "nan"):
            raise CleaningInputError(
                f"{_where(row)}, column {column!r}: {values[row - 1]!r} is not a number",
                row,
                column,
            )
    raise AssertionError("unreachable")  # pragma: no cover


def _timestamps(values: tuple[str, ...], utc_offset_hours: float) -> np.ndarray:
    """ISO 8601 strings -> UTC epoch seconds; each distinct string is parsed once."""
    local = dt.timezone(dt.timedelta(hours=utc_offset_hours))
    parsed: dict[str, float] = {}
    for text in set(values):
        s = text.strip()
        if not s:
            parsed[text] = math.nan
            continue
        try:
            stamp = dt.datetime.fromisoformat(s)
        except ValueError:
            row = values.index(text) + 1
            raise CleaningInputError(
                f"{_where(row)}, column 'submitted_at': {text!r} is not an ISO 8601 timestamp",
                row,
                "submitted_at",
            ) from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=local)
        parsed[text] = stamp.timestamp()
    return np.fromiter((parsed[v] for v in values), float, len(values))


def _interned(values: tuple[str, ...]) -> np.ndarray:
    """One str object per distinct value: a million repeated ids cost far less memory."""
    pool: dict[str, str] = {}
    return np.array([pool.setdefault(v, v) for v in values], dtype=object)


def read_ratings_csv(
    path: str | os.PathLike[str], utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS
) -> Ratings:
    """Reads and validates a ratings CSV (DESIGN.md section 5).

    Raises CleaningInputError naming the data row (1-based; the file line is one more)
    and the column for a missing column, a short row, a non-numeric or out-of-range
    score, a bad duration or a bad timestamp. Naive timestamps are local time at
    ``utc_offset_hours`` (default China Standard Time).
    """
    # a million small row lists would trigger the cyclic GC over and over for nothing
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_ratings_csv(path, utc_offset_hours)
    finally:
        if enabled:
            gc.enable()


def _read_ratings_csv(path: str | os.PathLike[str], utc_offset_hours: float) -> Ratings:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise CleaningInputError(
                f"header (line 1): missing column(s) {', '.join(missing)}", 0, missing[0]
            )
        rows = list(reader)
    width = len(header)
    lengths = np.fromiter(map(len, rows), np.int64, len(rows))
    bad = np.flatnonzero(lengths != width)
    if bad.size:
        row = int(bad[0]) + 1
        col = header[min(int(lengths[bad[0]]), width - 1)]
        raise CleaningInputError(
            f"{_where(row)}: {lengths[bad[0]]} fields, expected {width} (from column {col!r})",
            row,
            col,
        )
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    del rows
    by_name = dict(zip(header, columns, strict=True))
    strings = {
        name: _interned(by_name[name])
        if name in LOW_CARDINALITY
        else np.array(by_name[name], dtype=object)
        for name in STRING_COLUMNS
    }
    ratings = Ratings(
        score=_floats(by_name["score"], "score", allow_empty=False),
        submitted_at=_timestamps(by_name["submitted_at"], utc_offset_hours),
        duration_s=_floats(by_name["duration_s"], "duration_s", allow_empty=True),
        **strings,
    )
    ratings.validate()
    return ratings


def read_ticket_counts(
    path: str | os.PathLike[str], utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS
) -> dict[tuple[str, float], int]:
    """Queue-system counts: CSV with columns ratee, hour (ISO start of hour), served."""
    local = dt.timezone(dt.timedelta(hours=utc_offset_hours))
    counts: dict[tuple[str, float], int] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for required in ("ratee", "hour", "served"):
            if required not in (reader.fieldnames or []):
                raise CleaningInputError(f"ticket counts: missing column {required!r}", 0, required)
        for row_no, row in enumerate(reader, start=1):
            try:
                stamp = dt.datetime.fromisoformat(row["hour"].strip())
                served = int(row["served"])
            except ValueError:
                raise CleaningInputError(
                    f"ticket counts {_where(row_no)}: bad hour or served value", row_no, "hour"
                ) from None
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=local)
            counts[(row["ratee"], stamp.timestamp())] = served
    return counts


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


def _write_scores(result: CleaningResult, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SCORE_COLUMNS)
        for s in result.scores:
            writer.writerow(
                [
                    s.ratee,
                    s.role,
                    s.n_responses,
                    s.n_used,
                    _fmt(s.raw_mean),
                    _fmt(s.clean_mean),
                    _fmt(s.ci_low),
                    _fmt(s.ci_high),
                    _fmt(s.score_100, 2),
                    _fmt(s.satisfaction_rate),
                    "true" if s.reportable else "false",
                ]
            )


def _write_flags(result: CleaningResult, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FLAG_COLUMNS)
        for f in result.flags:
            writer.writerow(
                [f.response_id, f.rater, f.ratee, f.reason, f.action, _fmt(f.weight), f.detail]
            )


def write_outputs(result: CleaningResult, out_dir: str | os.PathLike[str]) -> Path:
    """Writes scores.csv, flags.csv and report.html into ``out_dir`` atomically.

    Everything is written into a temporary directory next to ``out_dir`` and moved in
    at the end, so a failure leaves ``out_dir`` as it was.
    """
    from .report import render_report  # the report pulls in charts; keep import light

    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _write_scores(result, tmp / "scores.csv")
        _write_flags(result, tmp / "flags.csv")
        (tmp / "report.html").write_text(render_report(result), encoding="utf-8")
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        if not target.exists():
            os.rename(tmp, target)
        else:  # keep whatever else lives in DIR; each file is replaced atomically
            for name in OUTPUT_FILES:
                os.replace(tmp / name, target / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def clean_file(
    csv_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    config: CleaningConfig | None = None,
    ticket_counts_path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    overrides: Iterable[Override] = (),
    honeypot: Iterable[str] | None = None,
) -> CleaningResult:
    """Read + clean + write: what ``pingyi clean RATINGS.csv --out DIR`` runs."""
    cfg = config or CleaningConfig()
    if progress:
        progress("read", 0.0)
    ratings = read_ratings_csv(csv_path, cfg.opening_hours.utc_offset_hours)
    ticket_counts: TicketCounts | None = None
    if ticket_counts_path is not None:
        ticket_counts = read_ticket_counts(ticket_counts_path, cfg.opening_hours.utc_offset_hours)
    if progress:
        progress("read", 0.3)
    result = clean(
        ratings,
        cfg,
        overrides=overrides,
        ticket_counts=ticket_counts,
        progress=progress,
        honeypot=set(honeypot) if honeypot else None,
        _progress_span=(0.3, 0.95),
    )
    write_outputs(result, out_dir)
    if progress:
        progress("write", 1.0)
    return result
