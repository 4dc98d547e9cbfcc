from __future__ import annotations

import numpy as np
from cleaning_helpers import honest_public, public, ratings

from pingyi.cleaning import clean


def by_reason(result, reason):
    return {f.response_id: f for f in result.flags if f.reason == reason}


def base(seed=1):
    rng = np.random.default_rng(seed)
    return honest_public(rng, {"W1": 4.2, "W2": 3.8}, per_ratee=30)


def test_speeder_is_excluded_with_the_numbers_in_detail():
    records = base() + public("fast", "W1", 5, minutes=30, duration=3.0)
    result = clean(ratings(records))
    flag = by_reason(result, "SPEEDER")["fast"]
    assert flag.action == "exclude" and flag.weight == 0
    assert "3.0 s" in flag.detail and "25%" in flag.detail
    assert len(by_reason(result, "SPEEDER")) == 1


def test_bot_by_honeypot_and_by_impossible_timing():
    records = base() + public("trap", "W1", 5, minutes=40) + public("robot", "W2", 5, duration=0.3)
    result = clean(ratings(records), honeypot={"trap"})
    bots = by_reason(result, "BOT")
    assert set(bots) == {"trap", "robot"}
    assert all(f.action == "exclude" for f in bots.values())


def test_same_ticket_is_a_duplicate_and_the_first_is_kept():
    records = base()
    records += public("first", "W1", 5, minutes=10, ticket="A001")
    records += public("again", "W1", 5, minutes=25, ticket="A001")
    result = clean(ratings(records))
    dups = by_reason(result, "DUPLICATE")
    assert set(dups) == {"again"}
    assert dups["again"].action == "exclude" and "A001" in dups["again"].detail


def test_same_device_on_same_ratee_within_the_window_is_a_duplicate():
    records = base()
    records += public("d1", "W2", 5, minutes=100, device="phone-9")
    records += public("d2", "W2", 5, minutes=110, device="phone-9")
    records += public("d3", "W2", 5, minutes=100 + 24 * 60, device="phone-9")  # next day: fine
    dups = by_reason(clean(ratings(records)), "DUPLICATE")
    assert set(dups) == {"d2"}


def test_off_hours_submission_is_flagged():
    records = base() + public("night", "W1", 5, minutes=13 * 60)  # 22:00 on Monday
    flags = by_reason(clean(ratings(records)), "OFF_HOURS")
    assert set(flags) == {"night"}
    assert "22:00" in flags["night"].detail


def test_per_unit_hours_decided_at_submission_replace_the_global_clock():
    # a hall open until 21:00 marked nothing; one closed at noon marked "early"
    records = base() + public("late", "W1", 5, minutes=12 * 60)  # 21:00, past 18:00 + 1 h
    records += public("early", "W2", 5, minutes=4 * 60)  # 13:00, fine by the global clock
    flags = by_reason(clean(ratings(records), off_hours={"early"}), "OFF_HOURS")
    assert set(flags) == {"early"} and "该单位" in flags["early"].detail


def test_burst_of_top_ratings_from_few_devices():
    records = base()
    for k in range(10):
        records += public(f"b{k}", "W2", 5, minutes=200 + k * 0.5, device=f"stuffer-{k % 2}")
    bursts = by_reason(clean(ratings(records)), "BURST")
    assert {f"b{k}" for k in range(10)} <= set(bursts)
    assert all(f.weight == 0 for f in bursts.values())


def test_more_ratings_than_tickets_served_downweights_top_ratings():
    records = base()
    for k in range(6):  # six top ratings in one hour, each from its own phone
        records += public(f"t{k}", "W1", 5, minutes=300 + k * 9, day=7)
    hour = ratings(public("x", "W1", 5, minutes=300, day=7)).submitted_at[0] // 3600 * 3600
    result = clean(ratings(records), ticket_counts={("W1", hour): 2})
    bursts = by_reason(result, "BURST")
    assert {f"t{k}" for k in range(6)} <= set(bursts)
    flag = bursts["t0"]
    assert flag.action == "downweight" and 0 < flag.weight < 1
    assert "叫号" in flag.detail


def test_straightlining_habitual_rater_is_downweighted():
    from cleaning_helpers import form, honest_peers

    rng = np.random.default_rng(3)
    staff = [f"S{k}" for k in range(8)]
    quality = dict(zip(staff, rng.uniform(2.5, 4.2, 8), strict=True))
    records = [r for r in honest_peers(rng, staff, quality) if r["rater"] != "S0"]
    for b in staff[1:]:
        records += form(f"flat-{b}", "S0", b, [4] * 6)
    flags = [f for f in clean(ratings(records)).flags if f.reason == "STRAIGHTLINE"]
    assert {f.response_id for f in flags} == {f"flat-{b}" for b in staff[1:]}
    assert all(f.action == "downweight" and 0 < f.weight < 1 for f in flags)
