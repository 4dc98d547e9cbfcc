from __future__ import annotations

import numpy as np
from cleaning_helpers import form, honest_peers, ratings

from pingyi.cleaning import clean

STAFF = [f"S{k}" for k in range(10)]


def unit(seed: int):
    rng = np.random.default_rng(seed)
    quality = dict(zip(STAFF, rng.uniform(2.6, 3.8, len(STAFF)), strict=True))
    return rng, quality


def peer_means(result):
    return {s.ratee: s for s in result.scores if s.role == "peer"}


def test_lenient_rater_is_adjusted_not_dropped_and_moves_means_toward_truth():
    rng, quality = unit(11)
    records = honest_peers(rng, STAFF, quality, bias={"S0": 1.5})
    result = clean(ratings(records))
    lenient = [f for f in result.flags if f.reason == "LENIENT"]
    assert [f.rater for f in lenient] == ["S0"]
    assert lenient[0].action == "adjust" and lenient[0].weight == 1
    assert lenient[0].shift > 0.5 and lenient[0].response_id == ""
    assert result.rater_bias["S0"] > 0.5
    means = peer_means(result)
    raw_error = np.mean([abs(means[s].raw_mean - quality[s]) for s in STAFF[1:]])
    clean_error = np.mean([abs(means[s].clean_mean - quality[s]) for s in STAFF[1:]])
    assert clean_error < raw_error
    assert all(means[s].n_used == means[s].n_responses for s in STAFF[1:])  # nobody dropped


def test_severe_rater_is_adjusted():
    rng, quality = unit(12)
    records = honest_peers(rng, STAFF, quality, bias={"S3": -1.5})
    severe = [f for f in clean(ratings(records)).flags if f.reason == "SEVERE"]
    assert [f.rater for f in severe] == ["S3"] and severe[0].shift < -0.5


def test_central_and_misfit_raters_are_downweighted():
    rng, quality = unit(13)
    records = [r for r in honest_peers(rng, STAFF, quality) if r["rater"] not in ("S1", "S2")]
    for b in STAFF:
        if b != "S1":
            records += form(f"c-{b}", "S1", b, [3, 3, 3, 3, 3, 2] if b < "S5" else [3] * 5 + [4])
        if b != "S2":
            records += form(f"m-{b}", "S2", b, rng.integers(1, 6, 6))
    flags = {(f.reason, f.rater): f for f in clean(ratings(records)).flags}
    assert flags[("CENTRAL", "S1")].action == "downweight"
    assert flags[("MISFIT", "S2")].action == "downweight"
    assert 0 < flags[("MISFIT", "S2")].weight < 1


def test_outlying_hostile_rating_is_downweighted():
    rng, quality = unit(14)
    quality["S5"] = 4.0
    records = [r for r in honest_peers(rng, STAFF, quality) if r["response_id"] != "p-S1-S5"]
    records += form("hostile", "S1", "S5", [1, 1, 1, 1, 2, 1])
    outliers = {f.response_id: f for f in clean(ratings(records)).flags if f.reason == "OUTLIER"}
    assert "hostile" in outliers and 0 < outliers["hostile"].weight < 1


def test_reciprocal_pair_is_flagged_and_their_mutual_ratings_excluded():
    rng, quality = unit(21)
    pair = {("S2", "S7"), ("S7", "S2")}
    records = honest_peers(rng, STAFF, quality, skip=pair)
    records += form("x-27", "S2", "S7", [5, 5, 5, 5, 4, 5])
    records += form("x-72", "S7", "S2", [5, 5, 4, 5, 5, 5])
    result = clean(ratings(records))
    recip = {f.response_id: f for f in result.flags if f.reason == "RECIPROCAL"}
    assert set(recip) == {"x-27", "x-72"}
    assert all(f.action == "exclude" and f.weight == 0 for f in recip.values())
    assert [g.members for g in result.groups if g.kind == "RECIPROCAL"] == [["S2", "S7"]]
    means = peer_means(result)
    assert means["S7"].n_used == means["S7"].n_responses - 1


def test_three_person_clique_is_found():
    rng, quality = unit(22)
    ring = ["S1", "S4", "S8"]
    inside = {(a, b) for a in ring for b in ring if a != b}
    records = honest_peers(rng, STAFF, quality, skip=inside)
    for a, b in sorted(inside):
        records += form(f"ring-{a}-{b}", a, b, [5, 5, 5, 4, 5, 5])
    result = clean(ratings(records))
    clique = {f.response_id for f in result.flags if f.reason == "CLIQUE"}
    assert clique == {f"ring-{a}-{b}" for a, b in inside}
    groups = [g for g in result.groups if g.kind == "CLIQUE"]
    assert len(groups) == 1 and groups[0].members == ring
    assert groups[0].mean_inside_residual > 0.8
