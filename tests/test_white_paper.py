"""The campaign report (白皮书): the pure statistics behind it, and the page itself
built from two cleaned campaigns of one series."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import login, make_user, open_public_campaign
from pingyi import charts
from pingyi import report_stats as rs

PASSWORD = "correct horse battery"
XSS_NAME = '<script>alert("x")</script>'

# --------------------------------------------------------------------------- keywords


def test_keywords_are_jieba_words_without_stop_words() -> None:
    assert rs.keywords("排队时间太长，工作人员态度很差") == ["排队", "时间", "态度", "很差"]
    # a domain word stays whole; counts ("三次") and stop words ("了") are dropped
    assert rs.keywords("材料要求不清楚，跑了三次") == ["材料", "要求", "不清楚"]
    # markup typed into a comment is not its content
    assert rs.keywords("<img src=x onerror=alert(1)>太慢了") == ["太慢"]


def test_score_bins_show_bands_not_exact_scores() -> None:
    bins = rs.score_bins([100.0, 95.8, 90.0, 72.5, 0.0, math.nan])
    assert bins[0] == ("90–100", 3) and bins[-1] == ("0–10", 1)
    assert dict(bins)["70–80"] == 1 and sum(n for _, n in bins) == 5 and len(bins) == 10


def test_keyword_counts_count_comments_not_repetitions() -> None:
    counts = rs.keyword_counts(
        [
            "排队时间太长，工作人员态度很差",
            "窗口工作人员态度很好，办事效率高",
            "态度很差！态度很差！态度很差！",
            "",
        ],
        top=3,
    )
    assert counts == [("态度", 3), ("很差", 2), ("排队", 1)]
    everything = dict(rs.keyword_counts(["窗口工作人员的服务", "我们在窗口等"], top=50))
    assert "工作人员" not in everything and "窗口" not in everything and "我们" not in everything


# --------------------------------------------------------------------------- series, rankings


def test_previous_campaign_is_the_latest_earlier_one_of_the_series() -> None:
    def c(code: str, series: str, start: str, end: str) -> dict[str, Any]:
        return {
            "code": code,
            "series": series,
            "period_start": date.fromisoformat(start),
            "period_end": date.fromisoformat(end),
        }

    q2 = c("Q2", "quarterly", "2026-04-01", "2026-06-30")
    q3 = c("Q3", "quarterly", "2026-07-01", "2026-09-30")
    q4 = c("Q4", "quarterly", "2026-10-01", "2026-12-31")
    other = c("Y", "yearly", "2026-01-01", "2026-11-30")
    later = c("Q1", "quarterly", "2027-01-01", "2027-03-31")
    assert rs.previous_campaign([q2, q3, q4, other, later], q4) == q3
    assert rs.previous_campaign([q2, q3, q4], q2) is None
    assert rs.previous_campaign([q2, q3], {**q4, "series": ""}) is None


def test_windows_last_in_two_consecutive_rankings() -> None:
    now = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]  # best first
    before = ["l", "b", "k", "a", "c", "d", "e", "f", "g", "h", "i", "j"]
    # 10 % of 12, rounded up: the last two places
    assert rs.last_positions(now) == ["l", "k"]
    assert rs.last_in_both(now, before) == []  # "l" and "k" were not last before
    # the previous ranking has its own length: 10 % of 4 is its last place only
    assert rs.last_in_both(now, ["x", "l", "y", "k"]) == ["k"]
    assert rs.last_in_both(now, [*"mnopqrstuv", "k", "l"]) == ["l", "k"]
    assert rs.last_in_both(["a"], ["a"]) == ["a"]
    assert rs.last_in_both([], ["a"]) == []


def test_rank_and_top_bottom_do_not_overlap() -> None:
    values = {"w1": (0.9, 80.0), "w2": (0.9, 85.0), "w3": (0.5, 60.0), "w4": (math.nan, 0.0)}
    assert rs.rank(values) == ["w2", "w1", "w3", "w4"]
    top, bottom = rs.top_bottom(["a", "b", "c"], n=5)
    assert top == ["a", "b"] and bottom == ["c"]
    top, bottom = rs.top_bottom([str(i) for i in range(12)], n=5)
    assert top == ["0", "1", "2", "3", "4"] and bottom == ["11", "10", "9", "8", "7"]


def test_public_stats_use_cleaning_weights_and_skip_default_ratings() -> None:
    ratings = [
        {"id": "r1", "level": 5, "channel": "qr", "unit": 1},
        {"id": "r2", "level": 1, "channel": "qr", "unit": 1},
        {"id": "r3", "level": 5, "channel": "qr", "unit": 1},  # excluded by cleaning
        {"id": "r4", "level": 5, "channel": "default", "unit": 1},  # never counts
        {"id": "r5", "level": 4, "channel": "qr", "unit": 2},
    ]
    weights = rs.response_weights(
        [
            {"response_id": "r3", "weight": 0.0, "overridden": False},
            {"response_id": "r2", "weight": 0.5, "overridden": False},
            {"response_id": "r1", "weight": 0.0, "overridden": True},  # voided: weight 1
        ]
    )
    stats = rs.public_stats(ratings, weights, lambda r: r["unit"])
    u1 = stats[1]
    assert (u1.n, u1.n_used) == (3, 2)
    assert u1.levels[5] == 1 and u1.levels[1] == 1
    assert u1.satisfaction == pytest.approx(1 / 1.5)
    assert u1.mean_100 == pytest.approx(100 / 1.5)
    assert stats[2].satisfaction == 1.0


# --------------------------------------------------------------------------- suppression


def _lines(sizes: dict[tuple[str, str], int], column_totals: bool) -> list[list[Any]]:
    """Every sum the report shows, written out independently of the code under test."""
    T = rs.TOTAL
    rows = sorted({r for r, _ in sizes})
    cols = sorted({c for _, c in sizes})
    lines = [[*(k for k in sizes if k[0] == r), (r, T)] for r in rows]
    lines.append([*((r, T) for r in rows), (T, T)])
    if column_totals:
        lines += [[*(k for k in sizes if k[1] == c), (T, c)] for c in cols]
        lines.append([*((T, c) for c in cols), (T, T)])
    return lines


def test_a_small_group_is_hidden_with_its_smallest_sibling() -> None:
    T = rs.TOTAL
    sizes = {("u1", "law"): 2, ("u1", "window"): 5, ("u1", "mgmt"): 6}
    hidden = rs.suppress(sizes, k=3, column_totals=False)
    # 2 is under k; 5 is the next-smallest sibling, so total - 6 cannot reveal the 2
    assert hidden == {("u1", "law"), ("u1", "window")}
    assert (T, T) not in hidden and ("u1", T) not in hidden


def test_suppression_works_across_rows_and_columns() -> None:
    T = rs.TOTAL
    sizes = {("u1", "a"): 2, ("u1", "b"): 5, ("u1", "c"): 6, ("u2", "a"): 4, ("u2", "b"): 4}
    hidden = rs.suppress(sizes, k=3)
    assert hidden == {("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b")}
    assert ("u1", "c") not in hidden and (T, "a") not in hidden and ("u2", T) not in hidden
    # a row or column whose total itself is under k goes entirely
    tiny = rs.suppress({("u1", "a"): 1, ("u1", "b"): 1, ("u2", "a"): 9, ("u2", "b"): 9}, k=3)
    assert {("u1", "a"), ("u1", "b"), ("u1", T)} <= tiny


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from("ABCD"), st.sampled_from("xyz")),
        st.integers(min_value=1, max_value=9),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=1, max_value=5),
    st.booleans(),
)
def test_no_hidden_group_can_be_recovered_by_subtraction(
    sizes: dict[tuple[str, str], int], k: int, column_totals: bool
) -> None:
    hidden = rs.suppress(sizes, k, column_totals)
    for key, n in sizes.items():
        if n < k:
            assert key in hidden
    for line in _lines(sizes, column_totals):
        assert sum(key in hidden for key in line) != 1, (line, hidden)


def test_tree_suppression_follows_windows_down_to_the_person_on_duty() -> None:
    leaves = {
        ("u2", "W1", "S1"): 6,
        ("u2", "W2", None): 2,  # two ratings at a window without a named person
        ("u1", "W1", "S9"): 5,
        ("u1", "W3", None): 4,
    }
    hidden = rs.suppress_tree(leaves, k=3)
    assert hidden == {("u2", "W2", None), ("u2", "W2"), ("u2", "W1"), ("u2", "W1", "S1")}
    assert rs.suppress_tree(leaves, k=1) == set()


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from("AB"), st.sampled_from("uvw"), st.sampled_from("xyz")),
        st.integers(min_value=1, max_value=7),
        min_size=1,
        max_size=10,
    ),
    st.integers(min_value=1, max_value=5),
)
def test_no_hidden_node_of_a_tree_can_be_recovered(
    leaves: dict[tuple[str, str, str], int], k: int
) -> None:
    hidden = rs.suppress_tree(leaves, k)
    size: dict[tuple[str, ...], int] = {}
    for path, n in leaves.items():
        for d in range(4):
            size[path[:d]] = size.get(path[:d], 0) + n
    for node, n in size.items():
        if n < k:
            assert node in hidden
        kids = [c for c in size if len(c) == len(node) + 1 and c[: len(node)] == node]
        if kids:
            assert sum(x in hidden for x in [*kids, node]) != 1, (node, hidden)


def test_role_matrix_counts_only_reportable_people() -> None:
    def row(unit: str, cat: str, score: float, reportable: bool = True) -> dict[str, Any]:
        return {
            "role": "peer",
            "unit": unit,
            "post_category": cat,
            "score_100": score,
            "reportable": reportable,
        }

    rows = [
        row("u1", "w", 80),
        row("u1", "w", 70),
        row("u1", "w", 90),
        row("u1", "w", 5, reportable=False),  # fewer than k raters: in no number
        row("u1", "m", 60),  # one person: hidden, and so is u1/w
        row("u2", "w", 50),
        row("u2", "w", 60),
        row("u2", "w", 70),
        row("u2", "m", 40),
        row("u2", "m", 45),
        row("u2", "m", 50),
        {**row("u2", "w", 99), "role": "public"},
    ]
    m = rs.role_matrix(rows, "peer", k=3)
    T = rs.TOTAL
    # u1/m has one person; u1/w is its complement in the row, and then u2's cells are
    # the complements in the columns: every inner cell goes, the margins stay
    for cell in (("u1", "m"), ("u1", "w"), ("u2", "m"), ("u2", "w")):
        assert m[cell].suppressed and m[cell].n == 0 and math.isnan(m[cell].mean)
    assert m[("u1", T)].n == 4 and m[("u1", T)].mean == pytest.approx((80 + 70 + 90 + 60) / 4)
    assert m[(T, "m")].n == 4 and m[(T, "m")].mean == pytest.approx((60 + 40 + 45 + 50) / 4)
    assert m[(T, T)].n == 10 and m[(T, T)].median == pytest.approx(60)
    assert not any(c.suppressed for key, c in m.items() if rs.TOTAL in key)
    # the person under k is in no number, and public rows are not peer rows
    assert m[("u2", T)].mean == pytest.approx((50 + 60 + 70 + 40 + 45 + 50) / 6)


# --------------------------------------------------------------------------- cases


def test_case_timeliness() -> None:
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    day = timedelta(days=1)

    def case(**kw: Any) -> dict[str, Any]:
        base = {
            "state": "open",
            "opened_at": t0,
            "contact_due": t0 + day,
            "rectify_due": t0 + 5 * day,
            "contacted_at": None,
            "closed_at": None,
            "escalated": False,
        }
        return {**base, **kw}

    cases = [
        # contacted after 2 hours, closed in 3 days: on time twice
        case(state="closed", contacted_at=t0 + timedelta(hours=2), closed_at=t0 + 3 * day),
        # contacted late (30 h), closed late (6 days)
        case(state="closed", contacted_at=t0 + timedelta(hours=30), closed_at=t0 + 6 * day),
        # never contacted and past the contact deadline: overdue
        case(escalated=True),
        # opened just now: nothing due yet
        case(
            opened_at=t0 + 9 * day,
            contact_due=t0 + 10 * day,
            rectify_due=t0 + 14 * day,
        ),
    ]
    s = rs.case_timeliness(cases, now=t0 + 9 * day + timedelta(hours=1))
    assert (s.total, s.closed, s.open, s.overdue, s.escalated) == (4, 2, 2, 1, 1)
    assert s.contact_due_count == 3 and s.contact_rate == pytest.approx(1 / 3)
    assert s.close_due_count == 3 and s.close_rate == pytest.approx(1 / 3)
    assert s.median_contact_hours == pytest.approx(16)
    assert s.median_close_days == pytest.approx(4.5)
    empty = rs.case_timeliness([], now=t0)
    assert empty.total == 0 and math.isnan(empty.contact_rate)


def test_quality_summary_counts_without_naming_anyone() -> None:
    flags = [
        {"reason": "SPEEDER", "action": "exclude", "weight": 0, "response_id": "r1"},
        {"reason": "BURST", "action": "exclude", "weight": 0, "response_id": "r1"},
        {"reason": "OUTLIER", "action": "downweight", "weight": 0.5, "response_id": "r2"},
        {"reason": "MISFIT", "action": "downweight", "weight": 0.7, "rater": "pseudo1"},
        {"reason": "MISFIT", "action": "downweight", "weight": 0.7, "rater": "pseudo1"},
        {
            "reason": "BURST",
            "action": "exclude",
            "weight": 0,
            "response_id": "r3",
            "overridden": True,
        },
    ]
    rows, totals = rs.quality_summary(flags, ["SPEEDER", "BURST", "OUTLIER", "MISFIT"])
    by = {r.reason: r for r in rows}
    assert (by["BURST"].live, by["BURST"].overridden, by["BURST"].responses) == (1, 1, 1)
    assert by["MISFIT"].raters == 1 and by["MISFIT"].responses == 0
    assert totals == {"excluded": 1, "downweighted": 1, "overridden": 1, "decisions": 5}


def test_stacked_chart_is_black_and_white_and_escaped() -> None:
    svg = charts.stacked_bar_chart(
        [XSS_NAME, "b"],
        [[5, 3, 1, 0, 1], [0, 0, 0, 0, 0]],
        ["非常满意", "满意", "3", "2", "1"],
        XSS_NAME,
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script" not in svg and "&lt;script&gt;" in svg and "http" not in svg
    assert svg.count("<pattern") == 5 and "50%" in svg  # shares printed on the bars


# --------------------------------------------------------------------------- end to end


def _when(day0: date, i: int) -> datetime:
    """A weekday, inside opening hours (10:00-15:00 in Beijing)."""
    day = day0 + timedelta(days=i % 5)
    return datetime(day.year, day.month, day.day, 2 + i % 5, (7 * i) % 60, tzinfo=UTC)


async def _public(
    campaign_id: int,
    window: int,
    unit: int,
    staff: int | None,
    levels: list[int],
    comments: list[str],
    day0: date,
    tag: str,
) -> None:
    from pingyi.services.writer import BadReviewSpec, NewResponse, write_batch

    batch = []
    for i, level in enumerate(levels):
        at = _when(day0, i)
        comment = comments[i] if i < len(comments) else ""
        bad = None
        if level <= 2:
            bad = BadReviewSpec(
                unit_id=unit,
                reason_category="attitude" if i % 2 == 0 else "slow",
                reason_text="等了两个小时，态度很差",
                contact_due=at + timedelta(days=1),
                rectify_due=at + timedelta(days=7),
            )
        batch.append(
            NewResponse(
                campaign_id=campaign_id,
                role="public",
                channel="qr",
                answers=[("overall", level, ""), ("attitude", max(1, level - i % 2), "")],
                window_id=window,
                ratee_id=staff,
                device=f"{tag}-{window}-{i}",
                submitted_at=at,
                duration_s=40.0 + i,
                comment=comment,
                bad_review=bad,
            )
        )
    await write_batch(batch)


async def _peers(
    campaign_id: int, raters_of: dict[int, list[int]], quality: dict[int, int]
) -> None:
    from pingyi.services.campaigns import pseudonym, rater_key
    from pingyi.services.writer import NewResponse, write_batch

    key = await rater_key(campaign_id)
    batch = []
    for ratee, raters in raters_of.items():
        for j, rater in enumerate(raters):
            q = quality[ratee]
            batch.append(
                NewResponse(
                    campaign_id=campaign_id,
                    role="peer",
                    channel="link",
                    answers=[("attitude", q, ""), ("teamwork", max(1, q - j % 2), "")],
                    ratee_id=ratee,
                    rater=pseudonym(key, rater),
                    duration_s=50.0 + j,
                    comment="peermarker 同事私评宝贝" if j == 0 else "",
                )
            )
    await write_batch(batch)


async def _two_campaigns() -> dict[str, Any]:
    """C1 (Q3) and C2 (Q4) of series "quarterly", with public ratings, bad reviews and
    peer ratings; window u1-W1 is the worst in both. C1 is cleaned, C2 is closed."""
    from pingyi.db.tables import Campaign, Staff
    from pingyi.services import campaigns, scores
    from pingyi.services.cleaning_run import run_cleaning

    c2 = await open_public_campaign("C2", staff_per_unit=5)
    await Campaign.update({Campaign.series: "quarterly"}).where(Campaign.code == "C2")
    row = await Campaign.select().where(Campaign.code == "C2").first()
    c1_id = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="C1",
            name="上期评议",
            series="quarterly",
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            unit_codes=["u1", "u2"],
            public_version=row["public_version"],
            peer_version=row["peer_version"],
            superior_version=row["peer_version"],
            self_version=row["peer_version"],
        )
    )
    await campaigns.move("C1", "open", "test")
    staff, windows = c2["staff"], c2["windows"]
    units = {s["code"]: s["unit"] for s in await Staff.select(Staff.code, Staff.unit)}
    await Staff.update({Staff.name: XSS_NAME}).where(Staff.code == "u1-S1")
    u1, u2 = units["u1-S1"], units["u2-S1"]
    plan = [
        # (window, unit, staff on duty, C1 levels, C2 levels)
        ("u1-W1", u1, staff["u1-S1"], [2, 3, 1, 3, 4], [1, 2, 2, 3, 1, 4]),
        ("u1-W2", u1, None, [5, 4, 5, 4], [5, 4, 5, 4, 5]),
        ("u2-W1", u2, staff["u2-S1"], [4, 5, 4], [5, 5, 4, 4, 5, 4]),
        ("u2-W2", u2, None, [5, 4, 4], [4, 5]),  # C2: two ratings, under k
    ]
    comments = [
        "排队时间太长，工作人员态度很差",
        "态度很差，不耐烦",
        "<img src=x onerror=alert(1)>材料要求不清楚",
    ]
    for wcode, unit, member, before, now in plan:
        await _public(c1_id, windows[wcode], unit, member, before, [], date(2026, 8, 3), "c1")
        await _public(
            c2["campaign_id"],
            windows[wcode],
            unit,
            member,
            now,
            comments if wcode == "u1-W1" else [],
            date(2026, 11, 2),
            "c2",
        )
    members = {u: [staff[f"{u}-S{i}"] for i in range(1, 5)] for u in ("u1", "u2")}
    quality = {staff["u1-S1"]: 4, staff["u1-S2"]: 4, staff["u1-S3"]: 5, staff["u1-S4"]: 1}
    quality.update({sid: 4 for sid in members["u2"]})
    raters_of = {r: [m for m in members["u1"] if m != r] for r in members["u1"]}
    raters_of[staff["u1-S4"]] = [staff["u1-S2"], staff["u1-S3"]]  # two raters: under k
    raters_of.update({r: [m for m in members["u2"] if m != r] for r in members["u2"]})
    await _peers(c2["campaign_id"], raters_of, quality)
    await campaigns.move("C1", "closed", "test")
    await run_cleaning("C1", "test")
    await scores.publish("C1", "test")  # the trends read published results only
    return c2


@pytest.mark.anyio
async def test_report_end_to_end(client: Any, tmp_path: Path) -> None:
    from pingyi.db.tables import BadReviewCase, CleaningRun, Staff
    from pingyi.services import campaigns, cases, scores
    from pingyi.services.cleaning_run import run_cleaning

    c2 = await _two_campaigns()
    await make_user("hr1", "hr", PASSWORD)
    await login(client, "hr1", PASSWORD)
    early = await client.get("/admin/campaigns/C2/report")
    assert early.status_code == 409 and "尚未发布" in early.text  # HR: published only
    assert (await client.get("/admin/campaigns/NOPE/report")).status_code == 404

    # follow up one bad review in time, then close and clean C2
    user = {"role": "agency_admin", "username": "agency", "unit_id": None}
    first = (await BadReviewCase.select().where(BadReviewCase.campaign == c2["campaign_id"]))[0]
    await cases.record_contact(user, first["id"])
    await cases.close_case(
        user,
        first["id"],
        {"verification": "justified", "explanation": "经核实属实", "rectification": "已整改培训"},
    )
    await campaigns.move("C2", "closed", "test")
    await run_cleaning("C2", "test")
    assert (await client.get("/admin/campaigns/C2/report")).status_code == 409
    await scores.publish("C2", "test")

    page = await client.get("/admin/campaigns/C2/report")
    assert page.status_code == 200, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "不动产登记" in html and "社会保障" in html and "测试评议" in html
    assert "<svg" in html and "<script" not in html.lower() and "<img" not in html.lower()
    assert "http://" not in html and "https://" not in html  # no external request
    assert "&lt;script&gt;alert(" in html  # the name is shown as text
    assert "peermarker" not in html.lower() and "宝贝" not in html  # peer comments never appear

    # the peer score of u1-S4 (two raters) is in no number
    run = (
        await CleaningRun.select()
        .where((CleaningRun.campaign == c2["campaign_id"]) & (CleaningRun.revision == 1))
        .output(load_json=True)
        .first()
    )
    peer = {r["ratee"]: r for r in run["scores"] if r["role"] == "peer"}
    assert peer["staff:u1-S4"]["reportable"] is False
    assert all(peer[f"staff:u1-S{i}"]["reportable"] for i in (1, 2, 3))
    shown = [peer[f"staff:u1-S{i}"]["score_100"] for i in (1, 2, 3)]
    with_s4 = [*shown, peer["staff:u1-S4"]["score_100"]]
    cell = re.search(r'data-cell="peer:u1:\*">([^<]*)<span class="muted">\(n=(\d+)\)', html)
    assert cell is not None
    assert cell.group(1).strip() == f"{sum(shown) / 3:.1f}" and cell.group(2) == "3"
    assert f"{sum(with_s4) / 4:.1f}" != cell.group(1).strip()

    # u2-W2 had two ratings: hidden, and u2-W1 with it (its complement in u2), and
    # u2-S1, on duty at u2-W1, whose public score would give u2-W1 away
    assert "社会保障2号窗口" not in html and "社会保障1号窗口" not in html
    assert "u2-S1" not in html and "u1-S1" in html
    # u1-W1 was last in C1 and is last again
    last = html[html.index('id="last"') : html.index('id="quality"')]
    assert "不动产登记1号窗口" in last and "2/2" in last and "4/4" in last
    # bad-review reasons and jieba keywords of the unit's public comments
    keywords = re.search(r'data-cell="keywords:不动产登记">(.*?)</tr>', html, re.S)
    assert keywords is not None
    # four citizens wrote about attitude (comment or bad-review note, once each); one
    # wrote "不耐烦": under k, not shown; "slow" is one case, folded with "attitude"
    assert "态度 (4)" in keywords.group(1) and "不耐烦" not in keywords.group(1)
    assert "其他原因（合并） (4)" in keywords.group(1) and "服务态度差" not in keywords.group(1)
    assert "工作人员 (" not in keywords.group(1)  # a stop word
    assert "BURST" in html and "DUPLICATE" in html  # every reason is explained
    assert "上期评议" in html  # the previous campaign is named in the trends

    english = await client.get("/admin/campaigns/C2/report?lang=en")
    assert "Campaign report" in english.text and "不动产登记 EN" in english.text
    download = await client.get("/admin/campaigns/C2/report?download=1")
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="C2-report.html"'
    )
    assert (await client.get("/admin/campaigns/C2/report?revision=7")).status_code == 403  # HR

    # the same report from the command line
    out = tmp_path / "c2.html"
    await anyio.to_thread.run_sync(_cli_report, out)
    assert out.read_text(encoding="utf-8").count("<svg") == html.count("<svg")

    # HR reads the report as it was frozen at publication, whatever changes later
    from pingyi.db.tables import Response
    from pingyi.services.white_paper import build_report

    await Response.update({Response.comment: "冻结以后才写的评语"}).where(Response.comment != "")
    assert (await client.get("/admin/campaigns/C2/report")).text == html
    assert "冻结" in await build_report("C2", 1) and "冻结" not in html

    # a staff member may not read it
    client.cookies.clear()
    member = await Staff.select(Staff.code).where(Staff.code == "u1-S2").first()
    await make_user("st1", "staff", PASSWORD, staff_code=member["code"])
    await login(client, "st1", PASSWORD)
    assert (await client.get("/admin/campaigns/C2/report")).status_code == 403


def _cli_report(out: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "report", "--campaign", "C2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- anonymity


def test_keywords_need_k_distinct_responses_and_name_nobody() -> None:
    names = rs.Blanker(rs.name_terms(["李娜", "王小明"], ["u1-S3", "A07", "7"]))
    # a code or window number only as a whole word
    assert names("u1-s3 与 u1-s30 在A07、7号、17号") == "  与 u1-s30 在 、 号、17号"
    responses = [
        # one citizen: comment, free text and bad-review note count once together
        ["李娜态度很差，收红包", "红包！红包！", "李娜态度很差"],
        ["李姐态度很差，小明也收红包"],
        ["小李态度很差，u1-s3 也在窗口a07 玩手机"],
        ["王小明态度很差，玩手机"],
        ["", "  "],  # wrote nothing
    ]
    commenting, words = rs.response_keywords(responses, k=3, top=10, remove=names)
    assert commenting == 4
    # "红包" is in two responses (four texts): under k; "手机" in two: under k
    assert words == [("很差", 4), ("态度", 4)]
    everything = rs.response_keywords(responses, k=1, top=50, remove=names)[1]
    said = {w for w, _ in everything}
    assert {"红包", "手机"} <= said
    for leak in ("李娜", "李姐", "小李", "小明", "王小明", "u1", "s3", "a07"):
        assert not any(leak in w for w in said), leak
    # a group of fewer than k commenting responses shows no keyword at all
    assert rs.response_keywords(responses[:2], k=3) == (2, [])


def test_fold_small_never_leaves_a_small_remainder() -> None:
    counts = {"a": 10, "b": 4, "c": 1, "d": 5}
    assert rs.fold_small(counts, k=3) == (["a", "d"], ["b", "c"])  # 1 alone: add b
    assert rs.fold_small(counts, k=3, shown=lambda g: g != "a") == (["b", "d"], ["a", "c"])
    assert rs.fold_small({"a": 2, "b": 1}, k=3) == ([], ["a", "b"])
    assert rs.fold_small({"a": 3, "b": 3}, k=3) == (["a", "b"], [])


async def _rated(campaign_id: int, window: int, unit: int, specs: list[dict[str, Any]]) -> None:
    """Public ratings at one window: each spec has a level, and optionally comment,
    remark (free-text item), bot (caught by the honeypot) and staff on duty."""
    from pingyi.services.writer import BadReviewSpec, NewResponse, write_batch

    batch = []
    for i, spec in enumerate(specs):
        at = _when(date(2026, 11, 2), i)
        level = spec["level"]
        answers: list[tuple[str, int | None, str]] = [("overall", level, ""), ("attitude", 3, "")]
        if spec.get("remark"):
            answers.append(("remarks", None, spec["remark"]))
        bad = None
        if level <= 2:
            bad = BadReviewSpec(
                unit_id=unit,
                reason_category=spec.get("reason", "attitude"),
                reason_text=spec.get("note", ""),
                contact_due=at + timedelta(days=1),
                rectify_due=at + timedelta(days=7),
            )
        batch.append(
            NewResponse(
                campaign_id=campaign_id,
                role="public",
                channel="qr",
                answers=answers,
                window_id=window,
                ratee_id=spec.get("staff"),
                device=f"d-{window}-{i}",
                submitted_at=at,
                duration_s=40.0 + i,
                honeypot=bool(spec.get("bot")),
                comment=spec.get("comment", ""),
                bad_review=bad,
            )
        )
    await write_batch(batch)


def _row(html: str, cell: str) -> str:
    found = re.search(rf'data-cell="{re.escape(cell)}">(.*?)</tr>', html, re.S)
    assert found is not None, cell
    return found.group(1)


@pytest.mark.anyio
async def test_comments_cases_and_hotspots_of_hidden_groups_stay_hidden(db: Any) -> None:
    """One citizen at a unit whose public result is hidden, naming two colleagues: none
    of it reaches the report; a shown unit's comments lose every name."""
    from pingyi.db.tables import Flag, Staff
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.white_paper import build_report

    c = await open_public_campaign("K1", staff_per_unit=3)
    w = c["windows"]
    units = {r["code"]: r["unit"] for r in await Staff.select(Staff.code, Staff.unit)}
    u1, u2 = units["u1-S1"], units["u2-S1"]
    await Staff.update({Staff.name: "李娜"}).where(Staff.code == "u1-S1")
    await Staff.update({Staff.name: "王小明"}).where(Staff.code == "u2-S2")
    await _rated(
        c["campaign_id"],
        w["u1-W1"],
        u1,
        [
            {"level": 1, "comment": "李娜态度很差，收红包", "remark": "红包", "note": "红包"},
            {"level": 2, "comment": "李姐态度很差，摸鱼", "reason": "slow"},
            {"level": 1, "comment": "小李态度很差，u1-S2 在摸鱼", "note": "01号窗口李娜"},
            {"level": 2, "comment": "王小明和李娜态度很差"},
            {"level": 4, "comment": "红包", "bot": True},  # excluded by the cleaning
            {"level": 5, "comment": "摸鱼", "bot": True},  # excluded by the cleaning
            {"level": 4},
        ],
    )
    await _rated(
        c["campaign_id"],
        w["u2-W1"],
        u2,
        [{"level": 1, "comment": "李娜态度很差，一直玩手机", "remark": "王小明收了红包"}],
    )
    await _rated(c["campaign_id"], w["u2-W2"], u2, [{"level": 5}] * 4)
    await campaigns.move("K1", "closed", "test")
    await run_cleaning("K1", "test")
    excluded = await Flag.select(Flag.response_id).where(
        (Flag.reason == "BOT") & (Flag.action == "exclude")
    )
    assert len({f["response_id"] for f in excluded}) == 2

    for lang in ("zh-CN", "en"):
        html = await build_report("K1", lang=lang)
        name_u2 = "社会保障" if lang == "zh-CN" else "社会保障 EN"
        name_u1 = "不动产登记" if lang == "zh-CN" else "不动产登记 EN"
        # u2-W1 has one rating: hidden (and u2-W2 with it), though u2 itself shows...
        assert "hidden" not in _row(html, f"public-unit:{name_u2}")
        assert "社会保障1号窗口" not in html
        # ...and so are that citizen's words, case and window
        kw2 = _row(html, f"keywords:{name_u2}")
        assert "态度" not in kw2 and "手机" not in kw2 and "hidden" in kw2
        cases = html[html.index('id="cases"') : html.index('id="reasons"')]
        # u2's one case cannot stand alone, nor u1's four (total minus them is u2's):
        # both go into "other units", whose reasons are 4 attitude and 1 slow: folded
        assert "hidden" in _row(html, f"cases:{name_u2}")
        assert "hidden" in _row(html, f"cases:{name_u1}")
        assert '<td class="num">5</td>' in _row(html, "cases:other")
        assert "(5)" in _row(html, "keywords:other") and "(1)" not in html
        assert "社会保障1号窗口" not in cases and "不动产登记1号窗口" not in cases
        # u1's comments: counted once per citizen, at least k citizens, nobody named
        kw1 = _row(html, f"keywords:{name_u1}")
        assert "态度 (4)" in kw1 and "很差 (4)" in kw1
        assert "红包" not in kw1 and "摸鱼" not in kw1  # two valid citizens each
        for leak in ("李娜", "李姐", "小李", "王小明", "小明", "u1-S2", "u1", "s2"):
            assert leak not in kw1, leak
        for word in ("李娜", "王小明", "红包", "手机"):
            assert word not in html, word


@pytest.mark.anyio
async def test_case_total_hides_a_lone_case_of_a_hidden_unit(db: Any) -> None:
    from pingyi.db.tables import Staff
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.white_paper import build_report

    c = await open_public_campaign("K2", staff_per_unit=3)
    w = c["windows"]
    units = {r["code"]: r["unit"] for r in await Staff.select(Staff.code, Staff.unit)}
    await _rated(c["campaign_id"], w["u1-W1"], units["u1-S1"], [{"level": 5}] * 6)
    lone = {"level": 1, "comment": "李娜态度很差，一直玩手机", "remark": "王小明收了红包"}
    await _rated(c["campaign_id"], w["u2-W1"], units["u2-S1"], [lone])
    await campaigns.move("K2", "closed", "test")
    await run_cleaning("K2", "test")
    html = await build_report("K2")
    # u2 (one rating) is hidden, and u1 with it, its complement in the total
    assert "hidden" in _row(html, "public-unit:社会保障")
    for word in ("李娜", "王小明", "红包", "手机", "态度 ("):
        assert word not in html, word
    cases = html[html.index('id="cases"') : html.index('id="reasons"')]
    # u1's 0 cases are shown; the total (1) would be u2's own: hidden
    assert "差评工单 1 件" not in cases
    total = re.search(r'<tr class="total"><td>全部单位</td>(.*?)</tr>', cases, re.S)
    assert total is not None and "hidden" in total.group(1)
    assert "社会保障1号窗口" not in cases


@pytest.mark.anyio
async def test_hidden_windows_give_no_keywords_and_no_hotspots(db: Any) -> None:
    from pingyi.db.tables import Staff
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.white_paper import build_report

    c = await open_public_campaign("K3", staff_per_unit=3)
    w = c["windows"]
    units = {r["code"]: r["unit"] for r in await Staff.select(Staff.code, Staff.unit)}
    u1, u2 = units["u1-S1"], units["u2-S1"]
    await _rated(c["campaign_id"], w["u1-W1"], u1, [{"level": 5}] * 6)
    bad = {"level": 1, "comment": "态度很差，推诿扯皮", "note": "推诿"}
    # u2 has three ratings, so the unit shows, but two and one at its windows: hidden
    await _rated(c["campaign_id"], w["u2-W1"], u2, [bad, bad])
    await _rated(c["campaign_id"], w["u2-W2"], u2, [bad])
    await campaigns.move("K3", "closed", "test")
    await run_cleaning("K3", "test")
    html = await build_report("K3")
    assert "hidden" not in _row(html, "public-unit:社会保障")
    kw = _row(html, "keywords:社会保障")
    assert "推诿" not in kw and "态度 (" not in kw
    assert '<td class="num">3</td>' in _row(html, "cases:社会保障")  # the unit: shown
    cases = html[html.index('id="cases"') : html.index('id="reasons"')]
    assert "社会保障1号窗口" not in cases and "社会保障2号窗口" not in cases
    assert "服务态度差 (3)" in kw


@pytest.mark.anyio
async def test_trends_read_the_previous_campaigns_published_revision_only(db: Any) -> None:
    from pingyi.db.tables import Campaign, Flag, Response, Staff
    from pingyi.services import campaigns, scores
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.white_paper import build_report

    c2 = await open_public_campaign("P2", staff_per_unit=3)
    await Campaign.update({Campaign.series: "s"}).where(Campaign.code == "P2")
    row = await Campaign.select().where(Campaign.code == "P2").first()
    p1 = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="P1",
            name="上期评议",
            series="s",
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            unit_codes=["u1", "u2"],
            public_version=row["public_version"],
            peer_version=row["peer_version"],
        )
    )
    await campaigns.move("P1", "open", "test")
    w = c2["windows"]
    units = {r["code"]: r["unit"] for r in await Staff.select(Staff.code, Staff.unit)}
    u1, u2 = units["u1-S1"], units["u2-S1"]
    for cid, levels in ((p1, [5, 5, 5, 2]), (c2["campaign_id"], [5, 4, 4, 4])):
        await _rated(cid, w["u1-W1"], u1, [{"level": lv} for lv in levels])
        await _rated(cid, w["u2-W1"], u2, [{"level": lv} for lv in levels])
    await campaigns.move("P1", "closed", "test")
    await run_cleaning("P1", "test")
    await campaigns.move("P2", "closed", "test")
    await run_cleaning("P2", "test")

    # P1 is cleaned but not published: none of its figures reach P2's report
    html = await build_report("P2")
    trends = html[html.index('id="trends"') : html.index('id="quality"')]
    assert "尚未发布" in trends and "75.0%" not in trends and "不动产登记1号窗口" not in trends

    await scores.publish("P1", "test")
    # a later run of P1 (here: one more rating counted out at u1) is not published
    await run_cleaning("P1", "test")
    later = await Response.select(Response.id).where(
        (Response.campaign == p1) & (Response.window == w["u1-W1"])
    )
    await Flag.insert(
        Flag(
            campaign=p1,
            revision=2,
            response_id=str(later[0]["id"]),
            reason="OUTLIER",
            action="exclude",
            weight=0.0,
        )
    )
    html = await build_report("P2")
    trends = html[html.index('id="trends"') : html.index('id="quality"')]
    assert "第 1 版" in trends
    # published revision 1: u1 had 3 of 4 satisfied (75 %), not 2 of 3
    assert "75.0%" in _row(html, "trend:不动产登记") and "66.7%" not in trends


async def _peer_round(
    campaign_id: int, members: dict[str, list[int]], quality: dict[int, int]
) -> None:
    raters_of = {}
    for people in members.values():
        raters_of.update({r: [m for m in people if m != r] for r in people})
    await _peers(campaign_id, raters_of, quality)


@pytest.mark.parametrize("moved", [True, False])
@pytest.mark.anyio
async def test_trends_do_not_compare_a_unit_whose_people_changed(db: Any, moved: bool) -> None:
    """Someone moving from u1 to u2 between campaigns: comparing u1 (now without them)
    with u1 before (with them, as frozen in the previous report) would give their
    previous score away; u1 and u2 are then not compared."""
    from pingyi.db.tables import Campaign, Staff
    from pingyi.services import campaigns, scores
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.white_paper import build_report

    c2 = await open_public_campaign("M2", staff_per_unit=5)
    await Campaign.update({Campaign.series: "q"}).where(Campaign.code == "M2")
    row = await Campaign.select().where(Campaign.code == "M2").first()
    m1 = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="M1",
            name="prev",
            series="q",
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            unit_codes=["u1", "u2"],
            public_version=row["public_version"],
            peer_version=row["peer_version"],
        )
    )
    await campaigns.move("M1", "open", "test")
    s = c2["staff"]
    u1 = [s[f"u1-S{i}"] for i in range(5)]
    u2 = [s[f"u2-S{i}"] for i in range(5)]
    x = u1[4]
    quality = dict(zip([*u1, *u2], [5, 4, 4, 3, 1, 3, 4, 5, 4, 2], strict=True))
    await _peer_round(m1, {"u1": u1, "u2": u2}, quality)
    await campaigns.move("M1", "closed", "test")
    await run_cleaning("M1", "test")
    await scores.publish("M1", "test")
    if moved:  # X moves to u2 after M1 was published
        u2_unit = (await Staff.select(Staff.unit).where(Staff.id == u2[0]).first())["unit"]
        await Staff.update({Staff.unit: u2_unit}).where(Staff.id == x)
        now = {"u1": u1[:4], "u2": [*u2, x]}
    else:
        now = {"u1": u1, "u2": u2}
    await _peer_round(c2["campaign_id"], now, quality)
    await campaigns.move("M2", "closed", "test")
    await run_cleaning("M2", "test")
    html = await build_report("M2")
    english = await build_report("M2", lang="en")
    for name in ("不动产登记", "社会保障"):
        cells = _row(html, f"trend:{name}")
        if moved:
            assert "组成有变化，不作比较" in cells
            assert 'class="num"' not in cells  # no figure of either campaign
            assert "composition changed, not compared" in _row(english, f"trend:{name} EN")
        else:
            assert "组成有变化" not in cells
            peer_delta = re.findall(r'<td class="num">([^<]*)</td>', cells)[6]
            assert peer_delta not in ("—", "")  # same people: compared
    # the whole organisation is the same people in both: compared either way
    total = _row(html, "trend:全部单位")
    assert "组成有变化" not in total
    assert re.findall(r'<td class="num">([^<]*)</td>', total)[6] not in ("—", "")
