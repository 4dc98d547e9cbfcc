"""The scoring arithmetic (DESIGN.md 6 and 8): 360 totals with missing roles, the
60% rule, thresholds, the 优秀 quota with ties, the two-period warning, the k rule and
recomputation from a snapshot. Expected values are worked out by hand here."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pingyi.scoring import Policy, PolicyError, compute_feed, snapshot_hash
from pingyi.scoring.grades import quota_size
from pingyi.scoring.totals import weighted_total


def score(ratee: str, role: str, value: float, n: int = 10, sat: float = math.nan, ok: bool = True):
    return {
        "ratee": ratee,
        "role": role,
        "n_used": n,
        "score_100": value,
        "satisfaction_rate": sat,
        "reportable": ok,
    }


def person(code: str, unit: str = "u1", window: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"员工{code}",
        "unit_code": unit,
        "unit_name": unit,
        "post_category": "window_service",
        "window": window,
    }


def full(code: str, public: float, peer: float, superior: float, own: float, sat: float = 0.9):
    ratee = f"staff:{code}"
    return [
        score(ratee, "public", public, sat=sat),
        score(ratee, "peer", peer, n=5),
        score(ratee, "superior", superior, n=1),
        score(ratee, "self", own, n=1),
    ]


def snapshot(staff, scores, policy: dict[str, Any] | None = None, previous=None) -> dict[str, Any]:
    return {
        "campaign": {"code": "C1"},
        "revision": 1,
        "policy": Policy.from_json(policy or {}).to_json(),
        "staff": staff,
        "scores": scores,
        "previous": previous,
    }


def by_code(rows):
    return {r.staff_code: r for r in rows}


def test_total_is_the_weighted_mean_with_default_weights() -> None:
    rows = compute_feed(snapshot([person("A")], full("A", 80, 70, 90, 100)))
    # 0.3*80 + 0.2*70 + 0.3*90 + 0.2*100 = 24 + 14 + 27 + 20
    assert rows[0].total == 85.0
    assert rows[0].weights_used == {"public": 30.0, "peer": 20.0, "superior": 30.0, "self": 20.0}
    assert rows[0].missing_roles == {}


def test_a_missing_role_shares_its_weight_out_and_says_so() -> None:
    scores = [s for s in full("A", 80, 70, 90, 100) if s["role"] != "superior"]
    row = compute_feed(snapshot([person("A")], scores))[0]
    # (30*80 + 20*70 + 20*100) / 70 = 5800 / 70
    assert row.total == round(5800 / 70, 2)
    assert row.weights_used == {"public": 42.86, "peer": 28.57, "self": 28.57}
    assert row.missing_roles == {"superior": "none"}


def test_a_peer_group_under_k_is_dropped_not_rolled_in() -> None:
    scores = full("A", 80, 13.37, 90, 100)
    scores[1]["reportable"] = False  # two peers only
    row = compute_feed(snapshot([person("A")], scores))[0]
    assert row.scores["peer"] is None and row.n["peer"] is None
    assert row.missing_roles == {"peer": "under_k"}
    assert row.total == round((30 * 80 + 30 * 90 + 20 * 100) / 80, 2)
    exported = row.to_json()
    assert exported["peer_score"] is None and exported["peer_n"] is None
    assert 13.37 not in exported.values()


def test_self_statement_alone_gives_no_total() -> None:
    row = compute_feed(snapshot([person("A")], [score("staff:A", "self", 100, n=1)]))[0]
    assert row.total is None and row.grade_level is None and row.recommended_grade == ""
    assert row.grade_notes == ("no_total",)
    assert weighted_total({"self": 100, "public": None}, {"self": 20, "public": 80}, 0.5) == (
        None,
        {},
    )


def test_satisfaction_below_sixty_percent_means_the_lowest_grade_whatever_the_total() -> None:
    rows = compute_feed(snapshot([person("A")], full("A", 99, 99, 99, 99, sat=0.59)))
    assert rows[0].total == 99.0
    assert rows[0].rule_flags == ("satisfaction_below_min",)
    assert rows[0].recommended_grade == "不合格" and rows[0].below_standard


def test_exactly_sixty_percent_passes_the_rule() -> None:
    row = compute_feed(snapshot([person("A")], full("A", 85, 85, 85, 85, sat=0.60)))[0]
    assert row.rule_flags == () and row.recommended_grade == "良好"


def test_too_few_public_ratings_is_insufficient_data_not_a_rate() -> None:
    scores = full("A", 85, 85, 85, 85, sat=0.2)
    scores[0]["n_used"] = 4  # policy minimum is 5
    row = compute_feed(snapshot([person("A")], scores))[0]
    assert row.satisfaction_status == "insufficient"
    assert row.satisfaction_rate is None and row.rule_flags == ()
    assert row.recommended_grade == "良好"


def test_thresholds_are_inclusive_lower_bounds() -> None:
    staff = [person(c, unit=c) for c in "ABCD"]  # one per unit: no quota effect at 100%
    scores = []
    for code, value in zip("ABCD", (90, 89.99, 60, 59.99), strict=True):
        scores += full(code, value, value, value, value)
    rows = by_code(compute_feed(snapshot(staff, scores, {"excellent_quota": 1.0})))
    assert [rows[c].recommended_grade for c in "ABCD"] == ["优秀", "良好", "合格", "不合格"]


def test_presets_change_the_labels_only() -> None:
    rows = compute_feed(
        snapshot([person("A")], full("A", 70, 70, 70, 70), {"preset": "civil_servant"})
    )
    assert rows[0].recommended_grade == "基本称职"


def test_quota_caps_excellent_per_unit() -> None:
    staff = [person(f"A{i}") for i in range(10)]
    values = [95, 93, 91, 70, 70, 70, 70, 70, 70, 70]
    scores = [s for i, v in enumerate(values) for s in full(f"A{i}", v, v, v, v)]
    rows = by_code(compute_feed(snapshot(staff, scores)))  # 20% of 10 = 2
    assert [rows[f"A{i}"].recommended_grade for i in range(3)] == ["优秀", "优秀", "良好"]
    assert rows["A2"].grade_notes == ("quota",)


def test_ties_over_the_quota_are_left_to_a_person() -> None:
    staff = [person(f"A{i}") for i in range(10)]
    values = [95, 93, 93, 70, 70, 70, 70, 70, 70, 70]
    scores = [s for i, v in enumerate(values) for s in full(f"A{i}", v, v, v, v)]
    rows = by_code(compute_feed(snapshot(staff, scores)))
    assert rows["A0"].recommended_grade == "优秀"
    assert rows["A1"].recommended_grade == rows["A2"].recommended_grade == "良好"
    assert rows["A1"].grade_notes == rows["A2"].grade_notes == ("quota_tie",)


def test_quota_counts_each_unit_apart() -> None:
    staff = [person(f"A{i}") for i in range(5)] + [person(f"B{i}", unit="u2") for i in range(5)]
    scores = [s for p in staff for s in full(p["code"], 95, 95, 95, 95)]
    rows = compute_feed(snapshot(staff, scores))
    excellent = [r.staff_code for r in rows if r.recommended_grade == "优秀"]
    assert excellent == []  # five-way ties in each unit of five with a quota of one
    distinct = [s for i, p in enumerate(staff) for s in full(p["code"], 91 + i % 5, 95, 95, 95)]
    rows = compute_feed(snapshot(staff, distinct))
    assert sorted(r.staff_code for r in rows if r.recommended_grade == "优秀") == ["A4", "B4"]


def test_quota_rounding_is_configurable() -> None:
    assert quota_size(8, Policy()) == 1
    assert quota_size(8, Policy(quota_rounding="round")) == 2
    assert quota_size(4, Policy()) == 0


def test_two_consecutive_periods_below_standard_warn() -> None:
    staff = [person("A", unit="x"), person("B", unit="y"), person("C", unit="z")]
    scores = full("A", 50, 50, 50, 50) + full("B", 50, 50, 50, 50) + full("C", 85, 85, 85, 85)
    previous = {"campaign": "C0", "revision": 1, "below_standard": ["A", "C"]}
    rows = by_code(compute_feed(snapshot(staff, scores, previous=previous)))
    assert rows["A"].warning_consecutive  # below now and before
    assert not rows["B"].warning_consecutive and rows["B"].below_standard  # first time
    assert not rows["C"].warning_consecutive  # recovered


def test_public_score_falls_back_to_the_staff_members_window() -> None:
    staff = [person("A", window="W1")]
    scores = [score("window:W1", "public", 75, sat=0.8), *full("A", 0, 80, 80, 80)[1:]]
    row = compute_feed(snapshot(staff, scores))[0]
    assert row.public_source == "window" and row.scores["public"] == 75.0
    assert row.satisfaction_rate == 0.8


def test_the_same_snapshot_recomputes_bit_for_bit() -> None:
    staff = [person("A"), person("B")]
    scores = full("A", 80.123456, 70, 90, 100) + full("B", 88, 60, 75, math.nan)
    first = snapshot(staff, scores)
    reordered = {k: first[k] for k in reversed(list(first))}
    assert snapshot_hash(first) == snapshot_hash(reordered)
    assert [r.to_json() for r in compute_feed(first)] == [
        r.to_json() for r in compute_feed(reordered)
    ]
    changed = snapshot(staff, full("A", 80.12346, 70, 90, 100) + scores[4:])
    assert snapshot_hash(changed) != snapshot_hash(first)


def test_bad_policies_are_refused_with_the_field_named() -> None:
    with pytest.raises(PolicyError, match="thresholds"):
        Policy.from_json({"thresholds": [60, 80, 90]})
    with pytest.raises(PolicyError, match="preset"):
        Policy.from_json({"preset": "made_up"})
    with pytest.raises(PolicyError, match="unknown policy field"):
        Policy.from_json({"tresholds": [90, 80, 60]})
    with pytest.raises(PolicyError, match="weights"):
        Policy.from_json({}, {"public": 50, "peer": 50})


def test_level_points_are_linear_by_default_and_follow_a_preset() -> None:
    linear = Policy()
    assert [linear.score_of(m) for m in (1, 2.5, 4.2, 5)] == [0.0, 37.5, 80.0, 100.0]
    preset = Policy.from_json({"level_scores": [100, 80, 60, 30, 0]})
    assert preset.score_of(4.5) == 90.0 and preset.score_of(2.5) == 45.0
    assert preset.score_of(5.7) == 100.0  # a mean never leaves the scale
    with pytest.raises(PolicyError, match="level_scores"):
        Policy.from_json({"level_scores": [0, 30, 60, 80, 100]})


def test_the_feed_scores_cleaned_means_with_the_policys_points() -> None:
    rows = full("A", 0, 0, 0, 0)
    for row, mean in zip(rows, (4.5, 4.0, 3.0, 5.0), strict=True):
        row["clean_mean"] = mean
    feed = compute_feed(snapshot([person("A")], rows, {"level_scores": [100, 80, 60, 30, 0]}))
    assert feed[0].scores == {"public": 90.0, "peer": 80.0, "superior": 60.0, "self": 100.0}


def test_a_public_group_under_k_gives_no_rate_and_no_rule() -> None:
    scores = full("A", 85, 85, 85, 85, sat=0.4)
    scores[0]["reportable"] = False
    row = compute_feed(snapshot([person("A")], scores, {"min_public_ratings": 1}))[0]
    assert row.satisfaction_rate is None and row.satisfaction_status == "insufficient"
    assert row.satisfaction_n == 0 and row.rule_flags == ()
    assert row.recommended_grade != "不合格"


def test_the_rule_judges_the_rate_it_shows_and_reports_the_real_n() -> None:
    row = compute_feed(snapshot([person("A")], full("A", 85, 85, 85, 85, sat=0.59996)))[0]
    assert row.satisfaction_rate == 0.6 and row.rule_flags == ()
    few = full("A", 85, 85, 85, 85, sat=0.9)
    few[0]["n_used"] = 4
    row = compute_feed(snapshot([person("A")], few))[0]
    assert row.satisfaction_status == "insufficient" and row.satisfaction_n == 4


def test_a_peer_mean_that_differs_from_a_published_one_by_few_raters_is_hidden() -> None:
    scores = full("A", 80, 70, 90, 100) + full("B", 80, 70, 90, 100)
    snap = snapshot([person("A"), person("B")], scores)  # both have 5 peers now
    snap["campaign"]["k"] = 3
    snap["earlier_peer_n"] = {"A": [6], "B": [2]}  # A: one rating left; B: three joined
    rows = by_code(compute_feed(snap))
    assert rows["A"].scores["peer"] is None
    assert rows["A"].missing_roles == {"peer": "revision_delta"}
    assert rows["B"].scores["peer"] == 70.0


def test_the_rule_on_a_windows_ratings_says_so() -> None:
    staff = [person("A", window="W1")]
    scores = [score("window:W1", "public", 75, sat=0.3), *full("A", 0, 80, 80, 80)[1:]]
    row = compute_feed(snapshot(staff, scores))[0]
    assert row.rule_flags == ("satisfaction_below_min",)
    assert "window_source" in row.grade_notes


def test_frozen_rows_read_back_exactly() -> None:
    from pingyi.scoring import FeedRow

    rows = compute_feed(snapshot([person("A")], full("A", 80.5, 70, 90, 100)))
    assert [FeedRow.from_json(r.to_json()) for r in rows] == rows


def test_policies_refuse_what_no_rule_needs() -> None:
    for bad in (
        {"appeal_days": 3_000_000},
        {"contact_days": 200_000},
        {"min_public_ratings": 10**30},
        {"superior_k": 0},
        {"version": ""},
    ):
        with pytest.raises(PolicyError):
            Policy.from_json(bad)
    for weights in (
        {"public": math.nan, "peer": 20, "superior": 30, "self": 20},
        {"public": "x", "peer": 20, "superior": 30, "self": 20},
    ):
        with pytest.raises(PolicyError):
            Policy.from_json({}, weights)
    # a policy frozen by an older version with a field since retired still reads
    assert Policy.from_json({"retired_field": 1}, strict=False) == Policy()
