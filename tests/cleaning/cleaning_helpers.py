"""Small hand-made ratings for the cleaning tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from pingyi.cleaning import Ratings

BASE = dt.datetime(2026, 3, 2, 9, 0)  # a Monday, local time
ITEMS = ("i1", "i2", "i3", "i4", "i5", "i6")

Record = dict[str, Any]


def public(
    rid: str,
    ratee: str,
    score: int,
    minutes: float = 0.0,
    duration: float | None = 30.0,
    device: str | None = None,
    ticket: str = "",
    channel: str = "qr",
    day: int = 0,
) -> list[Record]:
    when = BASE + dt.timedelta(days=day, minutes=minutes)
    return [
        {
            "response_id": rid,
            "role": "public",
            "rater": "",
            "ratee": ratee,
            "item": "overall",
            "score": score,
            "submitted_at": when.isoformat(),
            "duration_s": "" if duration is None else duration,
            "device": device if device is not None else f"dev-{rid}",
            "ticket": ticket,
            "channel": channel,
        }
    ]


def form(
    rid: str, rater: str, ratee: str, scores, role: str = "peer", duration: float = 90.0
) -> list[Record]:
    return [
        {
            "response_id": rid,
            "role": role,
            "rater": rater,
            "ratee": ratee,
            "item": item,
            "score": int(s),
            "submitted_at": "",
            "duration_s": duration,
            "device": "",
            "ticket": "",
            "channel": "link",
        }
        for item, s in zip(ITEMS, scores, strict=True)
    ]


def clip_round(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x + 0.5), 1, 5)


def honest_peers(
    rng: np.random.Generator,
    staff: list[str],
    quality: dict[str, float],
    skip: set[tuple[str, str]] | None = None,
    bias: dict[str, float] | None = None,
    prefix: str = "p",
) -> list[Record]:
    """Everyone rates everyone else on six items, with honest noise."""
    records: list[Record] = []
    for a in staff:
        for b in staff:
            if a == b or (skip and (a, b) in skip):
                continue
            level = quality[b] + (bias or {}).get(a, 0.0) + rng.normal(0, 0.3)
            scores = clip_round(level + rng.normal(0, 0.7, 6))
            records += form(f"{prefix}-{a}-{b}", a, b, scores)
    return records


def honest_public(
    rng: np.random.Generator, quality: dict[str, float], per_ratee: int, prefix: str = "c"
) -> list[Record]:
    records: list[Record] = []
    for name, q in quality.items():
        for k in range(per_ratee):
            score = int(clip_round(np.array(q + rng.normal(0, 0.8)))[()])
            records += public(
                f"{prefix}-{name}-{k}",
                name,
                score,
                minutes=float(rng.uniform(0, 8 * 60)),
                duration=float(rng.lognormal(np.log(30), 0.3)),
                day=int(rng.integers(0, 5)),
            )
    return records


def ratings(records: list[Record]) -> Ratings:
    return Ratings.from_records(records)
