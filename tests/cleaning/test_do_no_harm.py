"""Cleaning leaves honest data alone: shared fingerprints, ceilings, whole units, small
groups; and a response scores its composite (issue 11)."""

from __future__ import annotations

import numpy as np
from cleaning_helpers import form, honest_peers, public, ratings

from pingyi.cleaning import clean


def test_a_response_scores_the_mean_of_its_items_and_satisfaction_reads_overall():
    records = []
    for k in range(4):
        records += public(f"c{k}", "W1", 5)
        records += [
            {**records[-1], "item": "wait", "score": 1},
            {**records[-1], "item": "attitude", "score": 3},
        ]
    row = next(s for s in clean(ratings(records)).scores if s.ratee == "W1")
    assert row.clean_mean == 3.0  # (5 + 1 + 3) / 3, not the overall item's 5
    assert row.satisfaction_rate == 1.0  # overall 5 is satisfied


def test_item_weights_can_make_the_composite_overall_only():
    records = []
    for k in range(4):
        records += public(f"c{k}", "W1", 5)
        records += [{**records[-1], "item": "wait", "score": 1}]
    weights = {("public", "wait"): 0.0}
    row = next(s for s in clean(ratings(records), item_weights=weights).scores)
    assert row.clean_mean == 5.0


def test_citizens_sharing_a_counter_device_or_hall_wifi_are_not_duplicates():
    records = []
    for k in range(12):
        # the window's device: one fingerprint for everyone, each with a ticket
        records += public(f"d{k}", "W1", 5, minutes=k, device="counter-W1", ticket=f"T{k}")
        records[-1]["channel"] = "device"
        # phones behind the hall's Wi-Fi: one fingerprint, each with their own ticket
        records += public(f"q{k}", "W1", 5, minutes=k + 0.5, device="hall-wifi", ticket=f"Q{k}")
    flags = clean(ratings(records)).flags
    assert [f for f in flags if f.reason in ("DUPLICATE", "BURST")] == []


def test_same_phone_same_answers_without_a_new_ticket_is_a_duplicate():
    records = public("first", "W1", 4, minutes=0, device="phone-1", ticket="T1")
    records += public("again", "W1", 4, minutes=3, device="phone-1")
    records += public("other-answer", "W1", 2, minutes=4, device="phone-1")
    records += public("much-later", "W1", 4, minutes=90, device="phone-1")
    dups = {f.response_id for f in clean(ratings(records)).flags if f.reason == "DUPLICATE"}
    assert dups == {"again"}


def test_a_unit_that_rates_everyone_top_on_every_item_is_left_alone():
    staff = [f"S{k}" for k in range(10)]
    records = []
    for a in staff:
        for b in staff:
            if a != b:
                records += form(f"p-{a}-{b}", a, b, [5] * 6)
    result = clean(ratings(records))
    assert result.flags == []
    assert {s.clean_mean for s in result.scores} == {5.0}


def test_a_strong_colleague_rated_all_fives_is_no_straightliner_or_halo():
    rng = np.random.default_rng(3)
    staff = [f"S{k}" for k in range(12)]
    quality = {s: float(rng.uniform(2.5, 3.8)) for s in staff}
    records = [r for r in honest_peers(rng, staff, quality) if r["ratee"] != "S0"]
    for a in staff[1:]:
        records += form(f"top-{a}", a, "S0", [5] * 6)  # everyone sees S0 as excellent
    reasons = {f.reason for f in clean(ratings(records)).flags}
    assert not reasons & {"STRAIGHTLINE", "HALO", "CENTRAL", "MISFIT"}


def test_a_genuinely_better_unit_keeps_its_level():
    rng = np.random.default_rng(5)
    records = []
    quality = {}
    for unit, level in (("A", 2.6), ("B", 3.8)):
        staff = [f"{unit}{k}" for k in range(8)]
        quality.update({s: level + float(rng.normal(0, 0.3)) for s in staff})
        records += honest_peers(rng, staff, quality, prefix=unit)
    result = clean(ratings(records))
    assert not {f.reason for f in result.flags} & {"LENIENT", "SEVERE"}
    for row in result.scores:
        assert abs(row.clean_mean - row.raw_mean) < 0.05


def test_a_clique_with_too_few_outsiders_is_not_excluded():
    rng = np.random.default_rng(8)
    staff = [f"S{k:02d}" for k in range(13)]
    quality = {s: float(rng.uniform(2.0, 3.0)) for s in staff}
    clique = staff[:12]
    inside = {(a, b) for a in clique for b in clique if a != b}
    records = honest_peers(rng, staff, quality, skip=inside)
    for a, b in sorted(inside):
        records += form(f"x-{a}-{b}", a, b, [5, 5, 4, 5, 5, 5])
    result = clean(ratings(records))
    assert [f for f in result.flags if f.reason in ("CLIQUE", "RECIPROCAL")] == []
    assert all(s.reportable for s in result.scores)


def test_a_score_cleaning_would_leave_under_k_keeps_its_raw_mean():
    # S9 is rated by three colleagues, two of them excluded as bots: under k = 3
    records = []
    for k, rater in enumerate(("S1", "S2", "S3")):
        records += form(f"f{k}", rater, "S9", [4, 4, 3, 4, 4, 4], duration=90.0)
    for rid in ("f0", "f1"):
        for r in records:
            if r["response_id"] == rid:
                r["duration_s"] = 0.2
    result = clean(ratings(records))
    row = next(s for s in result.scores if s.ratee == "S9")
    assert ("S9", "peer") in result.fallbacks
    assert row.reportable and row.clean_mean == row.raw_mean
    effect = {e.role: e for e in result.effect()}
    assert effect["peer"].ratees == 1 and effect["peer"].largest_shift == 0.0
