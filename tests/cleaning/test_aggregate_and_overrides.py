from __future__ import annotations

import math

import numpy as np
from cleaning_helpers import form, honest_peers, honest_public, public, ratings

from pingyi.cleaning import clean


def scores(result):
    return {(s.ratee, s.role): s for s in result.scores}


def test_k_rule_counts_distinct_peer_raters_and_public_responses():
    records = []
    records += form("a", "P1", "T", [4] * 5 + [3])
    records += form("b", "P2", "T", [4] * 4 + [3, 5])
    records += public("c1", "T", 5) + public("c2", "T", 4, minutes=20)
    records += public("c3", "T", 4, minutes=40)
    result = scores(clean(ratings(records)))
    assert result[("T", "peer")].reportable is False  # two distinct raters < k = 3
    assert result[("T", "public")].reportable is True  # three responses
    records += form("d", "P3", "T", [3] * 5 + [4])
    assert scores(clean(ratings(records)))[("T", "peer")].reportable is True


def test_superior_scores_follow_their_own_k():
    from pingyi.cleaning import AggregateConfig, CleaningConfig

    # one leader rates in office: reportable by default (k_superior = 1), not under 3
    records = form("b1", "BOSS", "T", [4] * 5 + [5], role="superior")
    assert scores(clean(ratings(records)))[("T", "superior")].reportable is True
    strict = CleaningConfig(aggregate=AggregateConfig(k_superior=3))
    assert scores(clean(ratings(records), strict))[("T", "superior")].reportable is False


def test_default_channel_is_ignored_in_means_and_satisfaction_and_counted():
    records = public("c1", "W", 2) + public("c2", "W", 3, minutes=30)
    records += public("c3", "W", 4, minutes=60)
    for k in range(5):
        records += public(f"auto{k}", "W", 5, minutes=90 + k, channel="default")
    result = clean(ratings(records))
    row = scores(result)[("W", "public")]
    assert row.n_responses == 3 and row.n_used == 3
    assert math.isclose(row.clean_mean, 3.0) and math.isclose(row.raw_mean, 3.0)
    assert math.isclose(row.satisfaction_rate, 1 / 3)
    assert result.default_channel_responses == {"W": 5}
    assert not any(f.response_id.startswith("auto") for f in result.flags)


def test_score_columns_and_score_100():
    records = public("c1", "W", 5) + public("c2", "W", 4, minutes=30)
    records += public("c3", "W", 3, minutes=60)
    row = scores(clean(ratings(records)))[("W", "public")]
    assert math.isclose(row.score_100, (row.clean_mean - 1) * 25)
    assert row.ci_low <= row.clean_mean <= row.ci_high


def test_self_ratings_stay_out_of_peer_aggregates():
    records = form("p1", "A", "T", [3] * 6) + form("p2", "B", "T", [3] * 6)
    records += form("p3", "C", "T", [3] * 6) + form("s", "T", "T", [5] * 6, role="self")
    records += form("sneaky", "T", "T", [5] * 6, role="peer")  # a peer form about oneself
    result = scores(clean(ratings(records)))
    assert math.isclose(result[("T", "peer")].clean_mean, 3.0)
    assert result[("T", "peer")].n_responses == 3
    assert result[("T", "self")].n_responses == 1


def test_override_keeps_the_flag_but_restores_the_response():
    rng = np.random.default_rng(5)
    records = honest_public(rng, {"W1": 4.0}, per_ratee=25)
    records += public("fast", "W1", 1, minutes=30, duration=2.0)
    plain = clean(ratings(records))
    overridden = clean(ratings(records), overrides=[("SPEEDER", "fast")])
    flag = next(f for f in overridden.flags if f.response_id == "fast")
    assert flag.reason == "SPEEDER" and flag.overridden
    before, after = scores(plain)[("W1", "public")], scores(overridden)[("W1", "public")]
    assert after.n_used == before.n_used + 1
    assert after.clean_mean < before.clean_mean


def test_override_by_rater_voids_an_adjustment():
    rng = np.random.default_rng(11)
    staff = [f"S{k}" for k in range(10)]
    quality = dict(zip(staff, rng.uniform(2.6, 3.8, 10), strict=True))
    records = honest_peers(rng, staff, quality, bias={"S0": 1.5})
    result = clean(ratings(records), overrides=[("LENIENT", "S0")])
    flag = next(f for f in result.flags if f.reason == "LENIENT")
    assert flag.overridden and flag.rater == "S0"
    raw = {s.ratee: s for s in result.scores if s.role == "peer"}
    # nothing else touched S1's ratings: with the adjustment void, clean equals raw
    assert math.isclose(raw["S1"].clean_mean, raw["S1"].raw_mean)
