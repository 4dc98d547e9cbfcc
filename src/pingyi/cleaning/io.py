"""File mode: read ratings CSV or Parquet (validated), write scores, flags and report.html."""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .config import CleaningConfig
from .ledger import Override
from .pipeline import InProcess, Progress, RunnerFactory, clean
from .responses import sorted_codes
from .screening import TicketCounts
from .types import (
    CODED,
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
OPTIONAL_COLUMNS = ("comment",)  # DESIGN.md 5: read when present
OUTPUT_FILES = ("scores.csv", "flags.csv", "report.html")
PARQUET_FILES = ("scores.parquet", "flags.parquet")


PARQUET_MAGIC = b"PAR1"
_DICT = pa.dictionary(pa.int32(), pa.string())


def _where(row: int, lines: bool = True) -> str:
    return f"row {row} (line {row + 1})" if lines else f"row {row}"


def _parse_floats(uniques: list[str], allow_empty: bool) -> tuple[np.ndarray, np.ndarray]:
    """Parses distinct strings: (values, bad) with the old reader's rules, exactly.

    numpy parses the whole set when it can; otherwise each string is tried with
    ``float`` and the ones that fail (or give NaN where NaN is not allowed) are bad.
    """
    cleaned = [v.strip() for v in uniques]
    if allow_empty:
        cleaned = [v if v else "nan" for v in cleaned]
    try:
        out = np.array(cleaned, dtype=float)
    except ValueError:
        out = None
    if out is not None:
        return out, (np.zeros(len(out), bool) if allow_empty else np.isnan(out))
    values = np.empty(len(cleaned))
    bad = np.zeros(len(cleaned), bool)
    for k, v in enumerate(cleaned):
        try:
            x = float(v)
        except ValueError:
            x = math.nan
        values[k] = x
        bad[k] = math.isnan(x) and not (allow_empty and v == "nan")
    return values, bad


def _first_bad(bad: np.ndarray, codes: np.ndarray) -> int | None:
    """0-based index of the first row whose code is a bad distinct value, if any."""
    if not bad.any():
        return None
    return int(np.flatnonzero(bad[codes])[0])


def _floats(
    uniques: list[str], codes: np.ndarray, column: str, allow_empty: bool, lines: bool = True
) -> np.ndarray:
    values, bad = _parse_floats(uniques, allow_empty)
    first = _first_bad(bad, codes)
    if first is not None:
        row = first + 1
        raise CleaningInputError(
            f"{_where(row, lines)}, column {column!r}: {uniques[codes[first]]!r} is not a number",
            row,
            column,
        )
    return values[codes]


def _timestamps(
    uniques: list[str], codes: np.ndarray, utc_offset_hours: float, lines: bool = True
) -> np.ndarray:
    """ISO 8601 strings -> UTC epoch seconds; each distinct string is parsed once."""
    local = dt.timezone(dt.timedelta(hours=utc_offset_hours))
    parsed = np.empty(len(uniques))
    bad = np.zeros(len(uniques), bool)
    for k, text in enumerate(uniques):
        s = text.strip()
        if not s:
            parsed[k] = math.nan
            continue
        try:
            stamp = dt.datetime.fromisoformat(s)
        except ValueError:
            bad[k] = True
            continue
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=local)
        parsed[k] = stamp.timestamp()
    first = _first_bad(bad, codes)
    if first is not None:
        row = first + 1
        raise CleaningInputError(
            f"{_where(row, lines)}, column 'submitted_at': {uniques[codes[first]]!r} "
            "is not an ISO 8601 timestamp",
            row,
            "submitted_at",
        )
    return parsed[codes]


def dictionary_codes(column: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """A string column as (distinct values, int codes per row); nulls read as ''."""
    if column.null_count:
        column = column.cast(pa.string()).fill_null("")
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    # one dictionary for every chunk, so codes are comparable across the file
    unified = pa.Table.from_arrays([column], ["c"]).unify_dictionaries().column(0)
    if unified.num_chunks == 0:
        return [], np.zeros(0, np.intp)
    uniques = unified.chunk(0).dictionary.to_pylist()
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in unified.chunks])
    return uniques, codes.astype(np.intp, copy=False)


def _strings(
    column: pa.ChunkedArray,
    keep: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    name: str = "",
) -> np.ndarray:
    """Object array of str, one shared str per distinct value (saves most of the memory);
    the dictionary codes go into ``keep[name]`` when asked."""
    uniques, codes = dictionary_codes(column)
    values = np.empty(len(uniques), dtype=object)
    values[:] = uniques
    if keep is not None:
        keep[name] = sorted_codes(codes, values)
    return values[codes] if len(codes) else np.zeros(0, dtype=object)


def _csv_header(path: str | os.PathLike[str]) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [h.strip() for h in next(csv.reader(handle), [])]


def _short_row(path: str | os.PathLike[str], width: int, header: list[str]) -> None:
    """Finds the first row whose field count is wrong (the error path only) and raises."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row, fields in enumerate(reader, start=1):
            if len(fields) != width:
                col = header[min(len(fields), width - 1)]
                raise CleaningInputError(
                    f"{_where(row)}: {len(fields)} fields, expected {width} (from column {col!r})",
                    row,
                    col,
                )


def read_ratings_csv(
    path: str | os.PathLike[str], utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS
) -> Ratings:
    """Reads and validates a ratings CSV (DESIGN.md section 5) with pyarrow's CSV reader.

    Raises CleaningInputError naming the data row (1-based; the file line is one more)
    and the column for a missing column, a short row, a non-numeric or out-of-range
    score, a bad duration or a bad timestamp. Naive timestamps are local time at
    ``utc_offset_hours`` (default China Standard Time). Every column is read
    dictionary-encoded, so each distinct value is converted (and stored) once.
    """
    header = _csv_header(path)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CleaningInputError(
            f"header (line 1): missing column(s) {', '.join(missing)}", 0, missing[0]
        )
    # a repeated name: the last one wins, as it did with the csv-module reader
    names = [h if h not in header[k + 1 :] else f"\0{k}" for k, h in enumerate(header)]
    optional = [c for c in OPTIONAL_COLUMNS if c in names]
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(COLUMNS) + optional,
                column_types=dict.fromkeys(list(COLUMNS) + optional, _DICT),
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        _short_row(path, len(header), header)
        raise CleaningInputError(f"{os.fspath(path)}: {exc}") from None
    columns = _columns(table)
    del table
    return _ratings_from_columns(columns, utc_offset_hours, lines=True)


def _columns(table: pa.Table) -> dict[str, pa.ChunkedArray]:
    present = [c for c in OPTIONAL_COLUMNS if c in table.column_names]
    return {name: table.column(name) for name in (*COLUMNS, *present)}


def _ratings_from_columns(
    columns: dict[str, pa.ChunkedArray], utc_offset_hours: float, lines: bool
) -> Ratings:
    """Arrow columns -> Ratings, one column at a time so the Arrow copy shrinks as we go
    (callers drop their table first: a table would keep every column alive)."""
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    strings = {
        name: _strings(columns.pop(name), codes if name in CODED else None, name)
        for name in STRING_COLUMNS
    }
    comment = _strings(columns.pop("comment")) if "comment" in columns else None
    ratings = Ratings(
        score=_number_column(columns.pop("score"), "score", False, lines),
        submitted_at=_time_column(columns.pop("submitted_at"), utc_offset_hours, lines),
        duration_s=_number_column(columns.pop("duration_s"), "duration_s", True, lines),
        comment=comment,
        codes=codes,
        **strings,
    )
    ratings.validate()
    # Arrow's allocator keeps freed buffers for reuse; nothing else will use them
    pa.default_memory_pool().release_unused()
    return ratings


def _is_text(column: pa.ChunkedArray) -> bool:
    t = column.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _number_column(
    column: pa.ChunkedArray, name: str, allow_empty: bool, lines: bool
) -> np.ndarray:
    if _is_text(column) or pa.types.is_null(column.type):
        uniques, codes = dictionary_codes(
            column.cast(pa.string()) if pa.types.is_null(column.type) else column
        )
        return _floats(uniques, codes, name, allow_empty, lines)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise CleaningInputError(
            f"column {name!r}: type {column.type} is not a number", column=name
        )
    values = column.cast(pa.float64()).to_numpy()  # nulls come out as NaN
    if not allow_empty:
        missing = np.flatnonzero(np.asarray(column.is_null()))
        if missing.size:
            row = int(missing[0]) + 1
            raise CleaningInputError(
                f"{_where(row, lines)}, column {name!r}: '' is not a number", row, name
            )
    return values


def _time_column(column: pa.ChunkedArray, utc_offset_hours: float, lines: bool) -> np.ndarray:
    t = column.type
    if _is_text(column) or pa.types.is_null(t):
        uniques, codes = dictionary_codes(column)
        return _timestamps(uniques, codes, utc_offset_hours, lines)
    if pa.types.is_date(t):
        column = column.cast(pa.timestamp("s"))
        t = column.type
    if pa.types.is_timestamp(t):
        us = column.cast(pa.timestamp("us", tz=t.tz)).cast(pa.int64()).fill_null(0)
        out = us.to_numpy().astype(np.int64)
        if t.tz is None:  # naive: local wall-clock time
            out -= round(dt.timedelta(hours=utc_offset_hours) / dt.timedelta(microseconds=1))
        seconds = out / 1e6
        seconds[np.asarray(column.is_null())] = np.nan
        return seconds
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return column.cast(pa.float64()).to_numpy()
    raise CleaningInputError(
        f"column 'submitted_at': type {t} is not a timestamp", column="submitted_at"
    )


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """By extension (.parquet, .pq) or by the file's magic bytes."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        return True
    with open(path, "rb") as handle:
        return handle.read(4) == PARQUET_MAGIC


def read_ratings_parquet(
    path: str | os.PathLike[str], utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS
) -> Ratings:
    """Reads and validates a ratings Parquet file: the same columns as the CSV.

    String columns may be plain or dictionary strings (nulls read as ''); ``score`` and
    ``duration_s`` numbers or text; ``submitted_at`` a timestamp (naive = local time at
    ``utc_offset_hours``), epoch seconds or ISO text. Errors name the 1-based row and
    the column, as for CSV.
    """
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CleaningInputError(
            f"{os.fspath(path)}: not a readable Parquet file ({exc})"
        ) from None
    # names are matched with surrounding spaces stripped, as a CSV header's are
    by_name = {name.strip(): name for name in schema.names}
    missing = [c for c in COLUMNS if c not in by_name]
    if missing:
        raise CleaningInputError(f"schema: missing column(s) {', '.join(missing)}", 0, missing[0])
    wanted = list(COLUMNS) + [c for c in OPTIONAL_COLUMNS if c in by_name]
    table = pq.read_table(
        path,
        columns=[by_name[c] for c in wanted],
        read_dictionary=[by_name[c] for c in (*STRING_COLUMNS, *wanted[len(COLUMNS) :])],
    ).rename_columns(wanted)
    for name in (*STRING_COLUMNS, *wanted[len(COLUMNS) :]):
        column = table.column(name)
        if not _is_text(column):  # numbers as ids: their text, as from_records does
            table = table.set_column(
                table.schema.get_field_index(name), name, column.cast(pa.string())
            )
    columns = _columns(table)
    del table
    return _ratings_from_columns(columns, utc_offset_hours, lines=False)


def read_ratings(
    path: str | os.PathLike[str], utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS
) -> Ratings:
    """CSV or Parquet (by extension or magic bytes), validated either way."""
    if is_parquet(path):
        return read_ratings_parquet(path, utc_offset_hours)
    return read_ratings_csv(path, utc_offset_hours)


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


def _nan_to_null(values: list[float]) -> pa.Array:
    arr = np.array(values, dtype=float)
    return pa.array(arr, mask=np.isnan(arr), type=pa.float64())


def _write_scores_parquet(result: CleaningResult, path: Path) -> None:
    """scores.csv's columns, typed: full-precision floats (null where the CSV is empty)."""
    rows = result.scores
    columns: dict[str, pa.Array] = {}
    for name in SCORE_COLUMNS:
        values = [getattr(s, name) for s in rows]
        if name in ("ratee", "role"):
            columns[name] = pa.array(values, pa.string())
        elif name in ("n_responses", "n_used"):
            columns[name] = pa.array(values, pa.int64())
        elif name == "reportable":
            columns[name] = pa.array(values, pa.bool_())
        else:
            columns[name] = _nan_to_null(values)
    pq.write_table(pa.table(columns), path)


def _write_flags_parquet(result: CleaningResult, path: Path) -> None:
    """flags.csv's columns; reason and action dictionary-encoded."""
    flags = result.flags
    text = {
        name: pa.array([getattr(f, name) for f in flags], pa.string())
        for name in ("response_id", "rater", "ratee", "reason", "action")
    }
    for name in ("reason", "action"):
        text[name] = text[name].dictionary_encode()
    table = pa.table(
        {
            **text,
            "weight": _nan_to_null([f.weight for f in flags]),
            "detail": pa.array([f.detail for f in flags], pa.string()),
        }
    )
    pq.write_table(table.select(list(FLAG_COLUMNS)), path)


def write_outputs(
    result: CleaningResult, out_dir: str | os.PathLike[str], parquet: bool = False
) -> Path:
    """Writes scores.csv, flags.csv and report.html into ``out_dir`` atomically.

    With ``parquet``, scores.parquet and flags.parquet as well (the same columns).

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
        names: tuple[str, ...] = OUTPUT_FILES
        if parquet:
            _write_scores_parquet(result, tmp / "scores.parquet")
            _write_flags_parquet(result, tmp / "flags.parquet")
            names += PARQUET_FILES
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        if not target.exists():
            os.rename(tmp, target)
        else:  # keep whatever else lives in DIR; each file is replaced atomically
            for name in names:
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
    parquet: bool = False,
    runner: RunnerFactory = InProcess,
) -> CleaningResult:
    """Read + clean + write: what ``pingyi clean RATINGS --out DIR`` runs.

    ``csv_path`` may be a CSV or a Parquet file (by extension or magic bytes);
    ``parquet`` also writes scores.parquet and flags.parquet.
    """
    cfg = config or CleaningConfig()
    if progress:
        progress("read", 0.0)
    ratings = read_ratings(csv_path, cfg.opening_hours.utc_offset_hours)
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
        runner=runner,
        _progress_span=(0.3, 0.95),
    )
    write_outputs(result, out_dir, parquet=parquet)
    if progress:
        progress("write", 1.0)
    return result
