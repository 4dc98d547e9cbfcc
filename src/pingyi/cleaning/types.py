"""Data types shared by the cleaning stages: input columns, decisions and results."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ROLES = ("public", "peer", "superior", "self")
REASONS = (
    "DUPLICATE",
    "SPEEDER",
    "STRAIGHTLINE",
    "BOT",
    "OFF_HOURS",
    "BURST",
    "LENIENT",
    "SEVERE",
    "CENTRAL",
    "HALO",
    "MISFIT",
    "OUTLIER",
    "RECIPROCAL",
    "CLIQUE",
    "SCRIPTED",
    "INTERVIEWER",
)
ACTIONS = ("exclude", "downweight", "adjust")
COLUMNS = (
    "response_id",
    "role",
    "rater",
    "ratee",
    "item",
    "score",
    "submitted_at",
    "duration_s",
    "device",
    "ticket",
    "channel",
)
STRING_COLUMNS = ("response_id", "role", "rater", "ratee", "item", "device", "ticket", "channel")
# columns the pipeline finds things by: coded once per campaign (``Ratings.codes``)
CODED = ("response_id", "item", "ratee", "rater", "ticket", "device")
OVERALL_ITEM = "overall"
DEFAULT_CHANNEL = "default"  # a platform's automatic default rating; never counted in public
DEVICE_CHANNEL = "device"  # a window's counter device: one fingerprint for every citizen

# Naive timestamps are read as China Standard Time unless told otherwise.
DEFAULT_UTC_OFFSET_HOURS = 8.0


class CleaningInputError(ValueError):
    """Bad input; the message names the row (1-based data row) and the column."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


def _as_str_array(values: Iterable[Any]) -> np.ndarray:
    out = np.array(["" if v is None else str(v) for v in values], dtype=object)
    return out


def _epoch_seconds(value: Any, utc_offset_hours: float) -> float:
    """Converts one timestamp (datetime, ISO string, number, None) to UTC epoch seconds."""
    if value is None or value == "":
        return float("nan")
    if isinstance(value, int | float | np.floating | np.integer):
        return float(value)
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return float("nan")
        return float(value.astype("datetime64[ms]").astype(np.int64)) / 1000.0
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone(dt.timedelta(hours=utc_offset_hours)))
        return value.timestamp()
    raise TypeError(f"cannot read {value!r} as a timestamp")


def _timestamps(values: Any, utc_offset_hours: float) -> np.ndarray:
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        # naive datetime64 values are local wall-clock time
        ms = arr.astype("datetime64[ms]")
        out = ms.astype(np.int64).astype(float) / 1000.0 - utc_offset_hours * 3600.0
        out[np.isnat(ms)] = np.nan
        return out
    if np.issubdtype(arr.dtype, np.number):
        return arr.astype(float)
    out = np.empty(len(arr))
    for row, value in enumerate(arr.tolist(), start=1):
        try:
            out[row - 1] = _epoch_seconds(value, utc_offset_hours)
        except (TypeError, ValueError):
            raise CleaningInputError(
                f"row {row}, column 'submitted_at': {value!r} is not a timestamp",
                row,
                "submitted_at",
            ) from None
    return out


def _numbers(values: Any, column: str, allow_empty: bool) -> np.ndarray:
    out = np.empty(len(values))
    for row, value in enumerate(values, start=1):
        if allow_empty and (value is None or value == ""):
            out[row - 1] = np.nan
            continue
        try:
            out[row - 1] = float(value)
        except (TypeError, ValueError):
            raise CleaningInputError(
                f"row {row}, column {column!r}: {value!r} is not a number", row, column
            ) from None
    return out


@dataclass
class Ratings:
    """One campaign's answers, one row per answer, as parallel numpy arrays.

    String columns are object arrays of ``str`` ('' when empty). ``score`` is float 1..5,
    ``submitted_at`` UTC epoch seconds (NaN when missing), ``duration_s`` float (NaN when
    empty). Use :meth:`from_records` or :func:`pingyi.cleaning.read_ratings_csv`.
    """

    response_id: np.ndarray
    role: np.ndarray
    rater: np.ndarray
    ratee: np.ndarray
    item: np.ndarray
    score: np.ndarray
    submitted_at: np.ndarray
    duration_s: np.ndarray
    device: np.ndarray
    ticket: np.ndarray
    channel: np.ndarray
    comment: np.ndarray | None = None  # optional free text per answer row ('' none)
    # a columnar reader's dictionary codes: column -> (code per row, distinct values),
    # so the pipeline need not hash millions of strings again (rows must not be reordered
    # without them)
    codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = field(
        default=None, repr=False, compare=False
    )

    def __len__(self) -> int:
        return int(self.score.shape[0])

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, Any],
        utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS,
    ) -> Ratings:
        """Builds from a mapping column -> sequence; missing optional columns become empty.

        ``submitted_at`` may hold datetime64 (local wall clock), epoch seconds, ISO strings
        or datetimes (naive ones are local time at ``utc_offset_hours``).
        """
        for required in ("response_id", "role", "ratee", "score"):
            if required not in columns:
                raise CleaningInputError(f"missing column {required!r}", column=required)
        n = len(columns["response_id"])
        strings: dict[str, Any] = {
            name: _as_str_array(columns[name]) if name in columns else np.full(n, "", dtype=object)
            for name in STRING_COLUMNS
        }
        if "item" not in columns:
            strings["item"] = np.full(n, OVERALL_ITEM, dtype=object)
        score = _numbers(columns["score"], "score", allow_empty=False)
        submitted = (
            _timestamps(columns["submitted_at"], utc_offset_hours)
            if "submitted_at" in columns
            else np.full(n, np.nan)
        )
        duration = (
            _numbers(columns["duration_s"], "duration_s", allow_empty=True)
            if "duration_s" in columns
            else np.full(n, np.nan)
        )
        comment = _as_str_array(columns["comment"]) if "comment" in columns else None
        ratings = cls(
            score=score, submitted_at=submitted, duration_s=duration, comment=comment, **strings
        )
        ratings.validate()
        return ratings

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS,
    ) -> Ratings:
        """Builds from dicts keyed by the DESIGN.md section 5 column names."""
        rows = list(records)
        names = COLUMNS + (("comment",) if any("comment" in row for row in rows) else ())
        columns: dict[str, list[Any]] = {name: [] for name in names}
        for row in rows:
            for name in names:
                columns[name].append(row.get(name))
        if not rows:
            return cls.from_columns({name: [] for name in COLUMNS}, utc_offset_hours)
        if all(v is None for v in columns["item"]):
            columns["item"] = [OVERALL_ITEM] * len(rows)
        return cls.from_columns(columns, utc_offset_hours)

    def take(self, rows: np.ndarray) -> Ratings:
        """The answers at ``rows`` (a partition); a reader's codes stay, made dense."""
        from .responses import dense_codes  # (responses builds on this module)

        codes = None
        if self.codes:
            codes = {
                name: dense_codes(code[rows], values) for name, (code, values) in self.codes.items()
            }
        return Ratings(
            **{name: getattr(self, name)[rows] for name in (*STRING_COLUMNS, "score")},
            submitted_at=self.submitted_at[rows],
            duration_s=self.duration_s[rows],
            comment=None if self.comment is None else self.comment[rows],
            codes=codes,
        )

    def validate(self) -> None:
        """Raises CleaningInputError naming the first bad row (1-based) and column."""
        n = len(self)
        for name in (*STRING_COLUMNS, "submitted_at", "duration_s"):
            if len(getattr(self, name)) != n:
                raise CleaningInputError(f"column {name!r} has the wrong length", column=name)
        if self.comment is not None and len(self.comment) != n:
            raise CleaningInputError("column 'comment' has the wrong length", column="comment")
        bad = np.flatnonzero(~np.isfinite(self.score) | (self.score < 1) | (self.score > 5))
        if bad.size:
            row = int(bad[0]) + 1
            raise CleaningInputError(
                f"row {row}, column 'score': {self.score[bad[0]]!r} is not a score in 1..5",
                row=row,
                column="score",
            )
        for name in ("response_id", "ratee"):
            empty = np.flatnonzero(getattr(self, name) == "")
            if empty.size:
                row = int(empty[0]) + 1
                raise CleaningInputError(f"row {row}, column {name!r}: empty", row, name)
        bad_role = np.flatnonzero(~np.isin(self.role, ROLES))
        if bad_role.size:
            row = int(bad_role[0]) + 1
            raise CleaningInputError(
                f"row {row}, column 'role': {self.role[bad_role[0]]!r} is not one of "
                + ", ".join(ROLES),
                row,
                "role",
            )
        bad_duration = np.flatnonzero(self.duration_s < 0)
        if bad_duration.size:
            row = int(bad_duration[0]) + 1
            raise CleaningInputError(
                f"row {row}, column 'duration_s': negative duration", row, "duration_s"
            )


@dataclass
class Flag:
    """One decision about a response (response_id set) or a rater (response_id empty).

    ``weight`` is the response weight the decision imposes (0 for exclude, 1 for adjust);
    ``shift`` is the score correction subtracted for ``adjust``; ``overridden`` is true when
    a person voided this decision, and then aggregation ignores it.
    """

    response_id: str
    rater: str
    ratee: str
    reason: str
    action: str
    weight: float
    detail: str
    overridden: bool = False
    shift: float = 0.0


@dataclass
class ScoreRow:
    """One row of scores.csv (field names and order are the file's columns)."""

    ratee: str
    role: str
    n_responses: int
    n_used: int
    raw_mean: float
    clean_mean: float
    ci_low: float
    ci_high: float
    score_100: float
    satisfaction_rate: float
    reportable: bool


@dataclass
class CollusionGroup:
    """A reciprocal pair or clique whose mutual ratings were excluded."""

    kind: str  # RECIPROCAL or CLIQUE
    members: list[str]
    n_mutual_ratings: int
    mean_inside_residual: float  # how far their mutual ratings sit above consensus
    mean_outside_residual: float  # same for ratings they received from everyone else
    edges: list[tuple[str, str, float]] = field(default_factory=list)  # rater, ratee, residual


@dataclass
class CleaningEffect:
    """How far cleaning moved one role's scores from the raw means (1..5 scale)."""

    role: str
    ratees: int
    moved: int  # ratees whose score moved by at least 0.005
    mean_shift: float  # signed: negative means cleaning lowered scores on average
    mean_abs_shift: float
    largest_shift: float
    largest_ratee: str
    responses: int
    responses_unused: int  # excluded entirely (weight 0)


@dataclass
class CleaningResult:
    """Everything the pipeline decided; ``write_outputs`` turns it into files."""

    flags: list[Flag]
    scores: list[ScoreRow]
    groups: list[CollusionGroup]
    rater_bias: dict[str, float]  # rater -> estimated bias on the 1..5 scale (all rater roles)
    n_answers: int
    n_responses: int
    default_channel_responses: dict[str, int]  # ratee -> public responses ignored as default
    stage_seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)  # extra counts for the report
    # (ratee, role) whose score stayed uncleaned: cleaning would have left fewer than k
    fallbacks: list[tuple[str, str]] = field(default_factory=list)

    def effect(self) -> list[CleaningEffect]:
        """What cleaning did to the scores, per role: how far it moved them from raw."""
        by_role: dict[str, list[ScoreRow]] = {}
        for row in self.scores:
            if not math.isnan(row.clean_mean):
                by_role.setdefault(row.role, []).append(row)
        out = []
        for role in ROLES:
            rows = by_role.get(role, [])
            if not rows:
                continue
            shifts = [row.clean_mean - row.raw_mean for row in rows]
            largest = max(range(len(rows)), key=lambda k: (abs(shifts[k]), rows[k].ratee))
            out.append(
                CleaningEffect(
                    role=role,
                    ratees=len(rows),
                    moved=sum(1 for x in shifts if abs(x) >= 0.005),
                    mean_shift=sum(shifts) / len(rows),
                    mean_abs_shift=sum(abs(x) for x in shifts) / len(rows),
                    largest_shift=shifts[largest],
                    largest_ratee=rows[largest].ratee,
                    responses=sum(row.n_responses for row in rows),
                    responses_unused=sum(row.n_responses - row.n_used for row in rows),
                )
            )
        return out

    def flags_by_reason(self, include_overridden: bool = True) -> dict[str, int]:
        counts = dict.fromkeys(REASONS, 0)
        for flag in self.flags:
            if include_overridden or not flag.overridden:
                counts[flag.reason] += 1
        return counts
