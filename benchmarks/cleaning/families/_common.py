"""Row building and calendar helpers shared by the synthetic families.

``Rows`` collects whole responses (one call per submitted questionnaire) and turns them
into a ``synth.Campaign`` with one row per answer; every response gets a kind label
('' when honest). Times are UTC epoch seconds; the calendar is local time (UTC+8).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import numpy as np
from synth import Campaign

from pingyi.cleaning import Ratings

HOUR = 3600.0
DAY = 86400.0
LOCAL_OFFSET = 8 * HOUR
# Local Monday 2026-04-13 00:00 (UTC+8), as UTC epoch seconds.
FIRST_MONDAY = dt.datetime(2026, 4, 13, tzinfo=dt.UTC).timestamp() - LOCAL_OFFSET
HALL_OPEN_HOUR, HALL_CLOSE_HOUR = 8, 18  # service halls: Mon-Sat 08:00-18:00 local


def open_days(weeks: int, days_per_week: int) -> np.ndarray:
    """Day offsets from FIRST_MONDAY of the first ``days_per_week`` days of each week."""
    return np.array([7 * w + d for w in range(weeks) for d in range(days_per_week)])


def local_times(
    rng: np.random.Generator, n: int, days: np.ndarray, from_hour: float, to_hour: float
) -> np.ndarray:
    """n epoch times on random days of ``days``, uniform between two local clock hours."""
    day = rng.choice(days, size=n)
    return FIRST_MONDAY + day * DAY + rng.uniform(from_hour * HOUR, to_hour * HOUR, size=n)


def fingerprint(*parts: object) -> str:
    """A device fingerprint as the platform stores it: a hash of what the browser reveals."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16]  # noqa: S324


class Rows:
    """Accumulates responses; ``campaign()`` returns them as a Campaign."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.columns: dict[str, list] = {
            name: []
            for name in (
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
        }
        self.kind: dict[str, str] = {}

    def add(
        self,
        *,
        role: str,
        rater: str,
        ratee: str,
        items: Sequence[str],
        scores: Sequence[int],
        at: float,
        duration: float,
        device: str = "",
        ticket: str = "",
        channel: str,
        kind: str = "",
    ) -> str:
        """Adds one response (one answer per item) and returns its response id."""
        response_id = f"{self.prefix}{len(self.kind):06d}"
        self.kind[response_id] = kind
        n = len(items)
        per_response = {
            "response_id": response_id,
            "role": role,
            "rater": rater,
            "ratee": ratee,
            "submitted_at": float(at),
            "duration_s": float(duration),
            "device": device,
            "ticket": ticket,
            "channel": channel,
        }
        for name, value in per_response.items():
            self.columns[name].extend([value] * n)
        self.columns["item"].extend(items)
        self.columns["score"].extend(int(s) for s in scores)
        return response_id

    def campaign(
        self,
        truth: dict[tuple[str, str], float],
        ticket_counts: dict[tuple[str, float], int] | None = None,
    ) -> Campaign:
        ratings = Ratings.from_columns({k: np.asarray(v) for k, v in self.columns.items()})
        return Campaign(ratings, truth, dict(self.kind), set(), ticket_counts or {})
