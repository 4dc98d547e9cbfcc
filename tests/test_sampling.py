"""The pure statistics of the sampled phone follow-up (pingyi.sampling)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest

from pingyi import sampling as s


def _frame() -> dict[str, list[int]]:
    return {"1:1:2026-W45": list(range(1, 21)), "1:2:2026-W45": [30, 31, 32], "2:3:2026-W46": []}


def test_draw_is_reproducible_from_seed_and_frame_and_order_free() -> None:
    frame = _frame()
    first = s.draw(frame, 4, "seed-1")
    shuffled = {k: random.Random(7).sample(v, len(v)) for k, v in reversed(frame.items())}
    assert s.draw(shuffled, 4, "seed-1") == first
    assert s.digest(s.draw(frame, 4, "seed-1")) == s.digest(first)
    assert s.draw(frame, 4, "seed-2") != first
    # 4 of 20 and all 3 of 3; an empty stratum draws nothing
    by = {sel.stratum: [] for sel in first}
    for sel in first:
        by[sel.stratum].append(sel)
    assert len(by["1:1:2026-W45"]) == 4 and by["1:1:2026-W45"][0].probability == 0.2
    assert [x.ticket_id for x in by["1:2:2026-W45"]] == [30, 31, 32]
    assert by["1:2:2026-W45"][0].probability == 1.0
    with pytest.raises(ValueError):
        s.draw(frame, 0, "x")


def test_each_ticket_is_drawn_with_its_stated_probability() -> None:
    frame = {"a": list(range(10))}
    hits = [0] * 10
    for i in range(4000):
        for sel in s.draw(frame, 3, f"r{i}"):
            hits[sel.ticket_id] += 1
    for h in hits:  # expected 1200 each; 6 standard deviations is about 170
        assert abs(h - 1200) < 170


def test_stratum_key_uses_the_iso_week() -> None:
    assert s.stratum_key(3, 7, datetime(2026, 1, 1, tzinfo=UTC)) == "3:7:2026-W01"
    assert s.stratum_key(3, 7, datetime(2026, 11, 30, tzinfo=UTC)) == "3:7:2026-W49"


def test_aapor_rr1_and_con1() -> None:
    r = s.rates(
        ["completed"] * 5 + ["refused"] * 2 + ["call_back", "no_answer", "wrong_number", "pending"]
    )
    assert (r.sampled, r.completed, r.refused, r.other, r.non_contact) == (11, 5, 2, 1, 3)
    assert r.rr1 == pytest.approx(5 / 11)
    assert r.con1 == pytest.approx(8 / 11)
    assert math.isnan(s.rates([]).rr1)
    with pytest.raises(ValueError):
        s.rates(["maybe"])


def test_wilson_matches_the_textbook_values() -> None:
    low, high = s.wilson(0.5, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    low, high = s.wilson(1.0, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.7225, abs=1e-4)
    assert all(math.isnan(x) for x in s.wilson(0.5, 0))


def test_hajek_weights_by_inverse_probability() -> None:
    # stratum a: 100 served, 2 sampled, both satisfied; stratum b: 10 served, 2
    # sampled, neither: the weighted share is 100 / 110, not the raw 1/2
    obs = [
        s.Observation("a", 0.02, True),
        s.Observation("a", 0.02, True),
        s.Observation("b", 0.2, False),
        s.Observation("b", 0.2, False),
    ]
    est = s.hajek(obs)
    assert est.satisfaction == pytest.approx(100 / 110)
    assert est.population == pytest.approx(110)
    assert est.n == 4
    # no spread inside either stratum: the linearised variance is zero
    assert est.variance == pytest.approx(0.0)
    assert est.ci_low < est.satisfaction < est.ci_high <= 1.0


def test_hajek_equal_probabilities_reduce_to_the_plain_share_and_census_has_no_variance() -> None:
    obs = [s.Observation("a", 0.1, i < 30) for i in range(40)]
    est = s.hajek(obs)
    assert est.satisfaction == pytest.approx(0.75)
    # SRS variance with fpc: (1 - f) p (1 - p) / (n - 1) * n / n
    assert est.variance == pytest.approx(0.9 * 0.75 * 0.25 / 39)
    assert est.ci_low < 0.75 < est.ci_high
    census = s.hajek([s.Observation("a", 1.0, i < 3) for i in range(5)])
    assert census.variance == 0.0
    empty = s.hajek([])
    assert empty.n == 0 and math.isnan(empty.satisfaction)


def test_hajek_interval_covers_the_truth_in_repeated_samples() -> None:
    rng = random.Random(11)
    population = {
        "a": [rng.random() < 0.9 for _ in range(400)],
        "b": [rng.random() < 0.5 for _ in range(100)],
    }
    truth = sum(sum(v) for v in population.values()) / 500
    frame = {k: list(range(len(v))) for k, v in population.items()}
    covered = 0
    runs = 400
    for i in range(runs):
        sample = s.draw(frame, 30, f"cov{i}")
        obs = [
            s.Observation(x.stratum, x.probability, population[x.stratum][x.ticket_id])
            for x in sample
        ]
        est = s.hajek(obs)
        covered += est.ci_low <= truth <= est.ci_high
    assert covered / runs > 0.9
