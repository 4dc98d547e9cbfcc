"""INTERVIEWER: interviewers and phones whose answers chance cannot explain (issue 15)."""

from __future__ import annotations

import numpy as np
from cleaning_helpers import public, ratings

from pingyi.cleaning import clean

WINDOWS = ("W1", "W2", "W3")


def citizens(rng: np.random.Generator, per_window: int = 40) -> list[dict]:
    records: list[dict] = []
    for w in WINDOWS:
        for k in range(per_window):
            level = int(np.clip(np.floor(3.4 + rng.normal(0, 0.9) + 0.5), 1, 5))
            records += public(f"{w}-c{k}", w, level, minutes=k * 7, day=k % 5)
    return records


def interviews(name: str, levels, day: int | None = None, channel: str = "interview"):
    records: list[dict] = []
    for k, level in enumerate(levels):
        window = WINDOWS[k % len(WINDOWS)]
        for r in public(
            f"{name}-{k}", window, int(level), minutes=k * 20, day=k % 5 if day is None else day
        ):
            records.append({**r, "rater": name, "channel": channel, "device": ""})
    return records


def interviewer_flags(records) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in clean(ratings(records)).flags:
        if f.reason == "INTERVIEWER":
            out.setdefault(f.response_id.split("-")[0], set()).add(f.action)
    return out


def test_an_interviewer_far_above_everyone_else_is_downweighted_an_honest_one_is_not():
    rng = np.random.default_rng(4)
    honest = np.clip(np.floor(3.4 + rng.normal(0, 0.9, 15) + 0.5), 1, 5)
    records = citizens(rng) + interviews("I1", [5] * 6 + [4] * 6 + [5] * 3)
    records += interviews("I2", honest, channel="phone")
    flags = interviewer_flags(records)
    assert flags == {"I1": {"downweight"}}


def test_a_day_of_only_top_ratings_from_one_interviewer_is_excluded():
    rng = np.random.default_rng(5)
    records = citizens(rng) + interviews("I3", [5] * 10, day=2)
    assert "exclude" in interviewer_flags(records)["I3"]


def test_a_busy_hall_wifi_with_mixed_answers_is_left_alone():
    rng = np.random.default_rng(6)
    records = citizens(rng)
    for r in records:
        r["device"] = "hall-wifi"  # every phone behind the hall's network
    assert interviewer_flags(records) == {}
