"""Properties of the whole pipeline on generated honest data (hypothesis)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from cleaning_helpers import form, honest_peers, honest_public, ratings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingyi.cleaning import clean

SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def honest_campaign(seed: int, n_staff: int, per_window: int):
    rng = np.random.default_rng(seed)
    records = []
    for unit in range(3):
        staff = [f"U{unit}S{k}" for k in range(n_staff)]
        quality = dict(zip(staff, rng.uniform(2.3, 4.5, n_staff), strict=True))
        records += honest_peers(rng, staff, quality, prefix=f"p{unit}")
    windows = {f"W{k}": float(rng.uniform(3.0, 4.7)) for k in range(4)}
    records += honest_public(rng, windows, per_window)
    return records


def affected_share(records, result) -> float:
    ids = {r["response_id"] for r in records}
    rater_of = {r["response_id"]: r["rater"] for r in records}
    touched = set()
    for f in result.flags:
        if f.response_id:
            touched.add(f.response_id)
        else:
            touched |= {i for i in ids if rater_of[i] == f.rater}
    return len(touched) / len(ids)


def raw_standard_errors(records) -> dict[tuple[str, str], float]:
    """Standard error of each (ratee, role) raw mean of response composites."""
    composite: dict[str, list[float]] = {}
    key_of: dict[str, tuple[str, str]] = {}
    for r in records:
        composite.setdefault(r["response_id"], []).append(float(r["score"]))
        key_of[r["response_id"]] = (r["ratee"], r["role"])
    groups: dict[tuple[str, str], list[float]] = {}
    for rid, scores in composite.items():
        groups.setdefault(key_of[rid], []).append(float(np.mean(scores)))
    return {k: float(np.std(v, ddof=1) / np.sqrt(len(v))) for k, v in groups.items() if len(v) > 1}


@SETTINGS
@given(seed=st.integers(0, 10_000), n_staff=st.integers(8, 12), per_window=st.integers(20, 50))
def test_honest_data_stays_nearly_untouched(seed, n_staff, per_window):
    records = honest_campaign(seed, n_staff, per_window)
    result = clean(ratings(records))
    assert affected_share(records, result) < 0.01
    se = raw_standard_errors(records)
    for row in result.scores:
        assert abs(row.clean_mean - row.raw_mean) <= se[(row.ratee, row.role)] + 1e-9, row


def unit_campaign(seed: int, n_staff: int, lift: float = 0.0):
    """Two units of peers, each with one lenient rater, whose answers stay inside 1..4;
    ``lift`` is added to every answer received by unit A (the 1..5 scale still holds)."""
    rng = np.random.default_rng(seed)
    records = []
    for unit in ("A", "B"):
        staff = [f"{unit}{k}" for k in range(n_staff)]
        quality = dict(zip(staff, rng.uniform(1.8, 3.0, n_staff), strict=True))
        lenient = {f"{unit}1": 1.2}
        for r in honest_peers(rng, staff, quality, bias=lenient, prefix=f"p{unit}"):
            score = min(int(r["score"]), 4)
            records.append({**r, "score": score + (lift if unit == "A" else 0.0)})
    return records


@SETTINGS
@given(seed=st.integers(0, 10_000), n_staff=st.integers(6, 12))
def test_a_constant_added_to_a_whole_unit_moves_its_scores_by_that_constant(seed, n_staff):
    result = clean(ratings(unit_campaign(seed, n_staff)))
    lifted = clean(ratings(unit_campaign(seed, n_staff, lift=1.0)))
    before = {s.ratee: s.clean_mean for s in result.scores}
    after = {s.ratee: s.clean_mean for s in lifted.scores}
    assert before.keys() == after.keys()
    for ratee, mean in before.items():
        expected = mean + (1.0 if ratee.startswith("A") else 0.0)
        assert after[ratee] == pytest.approx(expected, abs=1e-6), ratee
    assert sorted((f.reason, f.rater, f.response_id) for f in result.flags) == sorted(
        (f.reason, f.rater, f.response_id) for f in lifted.flags
    )


def snapshot(result):
    flags = sorted(
        (f.reason, f.response_id, f.rater, f.action, round(f.weight, 9), f.detail)
        for f in result.flags
    )
    scores = sorted(
        (s.ratee, s.role, s.n_responses, s.n_used, round(s.clean_mean, 9), s.reportable)
        for s in result.scores
    )
    return flags, scores


@SETTINGS
@given(seed=st.integers(0, 10_000), shuffle_seed=st.integers(0, 10_000))
def test_row_order_changes_nothing(seed, shuffle_seed):
    records = honest_campaign(seed, 8, 20)
    records += form("ring-a", "U0S0", "U0S1", [5] * 6)  # some flags to compare, too
    shuffled = list(records)
    random.Random(shuffle_seed).shuffle(shuffled)
    assert snapshot(clean(ratings(records))) == snapshot(clean(ratings(shuffled)))


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    ring_size=st.integers(2, 4),
    n_staff=st.integers(9, 12),
)
def test_adding_a_collusion_ring_never_raises_members_scores(seed, ring_size, n_staff):
    rng = np.random.default_rng(seed)
    staff = [f"S{k}" for k in range(n_staff)]
    quality = dict(zip(staff, rng.uniform(2.3, 3.3, n_staff), strict=True))
    ring = [str(s) for s in rng.choice(staff, ring_size, replace=False)]
    inside = {(a, b) for a in ring for b in ring if a != b}
    base = honest_peers(rng, staff, quality, skip=inside)
    with_ring = list(base)
    for a, b in sorted(inside):
        with_ring += form(f"ring-{a}-{b}", a, b, [5, 5, 4, 5, 5, 5])
    before = {s.ratee: s.clean_mean for s in clean(ratings(base)).scores if s.role == "peer"}
    after = {s.ratee: s.clean_mean for s in clean(ratings(with_ring)).scores if s.role == "peer"}
    for member in ring:
        assert after[member] <= before[member] + 1e-9
