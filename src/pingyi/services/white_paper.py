"""The campaign report (评议白皮书): one self-contained HTML page per campaign.

Inline CSS and inline SVG, no script and no external request, printable to PDF from
the browser. Built from the campaign's latest cleaning run (or a given revision):

- score distributions by unit and post category (public rating levels; cleaned
  public, peer, superior and self scores);
- top and bottom windows by public satisfaction, and staff by public score;
- trends against the previous campaign of the same series;
- windows in the last places in both campaigns;
- what the cleaning removed and why;
- bad-review hotspots and follow-up timeliness;
- the most frequent bad-review reasons and comment keywords per unit;
- the sampled phone follow-up beside the QR ratings, and mystery-shopping scores.

Data gathering (the database) is here; every computation is in
``pingyi.report_stats`` (pure). Anonymity: only reportable score rows enter any
number, groups under ``k`` are suppressed together with their complement (see
``report_stats.suppress``), peer/superior/self comments are never read, and staff
appear by code and name only next to public scores. What hangs off the public tree
follows it: comment keywords come only from counted responses in units and windows
the tree shows, need ``k`` distinct responses, and have staff names, codes and window
numbers blanked out first; bad-review cases, hotspots and reasons show only for shown
groups with at least ``k`` cases (the rest folded, ``report_stats.fold_small``). The
previous campaign enters the trends only through its latest published revision, and a
unit whose people changed between the two is not compared.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any

import jinja2

from pingyi import charts
from pingyi import report_stats as rs
from pingyi.cleaning import REASONS
from pingyi.db.tables import (
    POST_CATEGORIES,
    Answer,
    BadReviewCase,
    Campaign,
    CampaignUnit,
    CleaningRun,
    Flag,
    Item,
    Publication,
    Response,
    ServiceWindow,
    Staff,
    Unit,
)
from pingyi.hours import LOCAL_TZ
from pingyi.i18n import SOURCE_LANGUAGE, has_message, in_language, pick_language, translate
from pingyi.services import mystery, phone
from pingyi.services.corrections import superseded_ids
from pingyi.settings import get_settings

TEMPLATE = "report/campaign.html"
ROLES = ("public", "peer", "superior", "self")
TOP_N = 5  # windows and staff shown at the top and at the bottom
LAST_SHARE = 0.1  # "the last places": the worst 10 % of ranked windows, at least one
KEYWORDS_PER_UNIT = 8


class ReportError(Exception):
    """The report cannot be built; ``status`` is the HTTP status to answer with."""

    status = 409


class UnknownCampaign(ReportError):
    status = 404


class NotCleaned(ReportError):
    status = 409


# --------------------------------------------------------------------------- gathering


@dataclass
class Facts:
    """What the database holds about one campaign's cleaned results."""

    campaign: dict[str, Any]
    run: dict[str, Any]
    units: list[int]
    ratings: list[dict[str, Any]] = field(default_factory=list)  # public, with level
    flags: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    # public texts by response id: the comment, free-text answers, the bad-review note
    texts: dict[str, list[str]] = field(default_factory=dict)
    default_channel: int = 0
    # previous campaign only: each rated staff member's unit and post category as they
    # were at its publication (from the frozen snapshot), by staff code
    staff_then: dict[str, dict[str, Any]] | None = None


async def _campaign(code: str) -> dict[str, Any]:
    row = await Campaign.select().where(Campaign.code == code).output(load_json=True).first()
    if row is None:
        raise UnknownCampaign(f"no campaign with code {code!r}")
    return dict(row)


async def _run(campaign_id: int, revision: int | None = None) -> dict[str, Any] | None:
    query = CleaningRun.select(
        CleaningRun.revision,
        CleaningRun.ran_at,
        CleaningRun.summary,
        CleaningRun.scores,
    ).where(CleaningRun.campaign == campaign_id)
    if revision is not None:
        query = query.where(CleaningRun.revision == revision)
    row = await query.order_by(CleaningRun.revision, ascending=False).output(load_json=True).first()
    return dict(row) if row else None


async def _public_ratings(
    campaign_id: int,
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Public responses (corrected ones replaced) with their overall level, and the
    public free texts by response id. Peer, superior and self comments are never read."""
    replaced = await superseded_ids(campaign_id)
    responses = await Response.select(
        Response.id,
        Response.window,
        Response.ratee,
        Response.channel,
        Response.comment,
        Response.window.unit.as_alias("unit"),
    ).where((Response.campaign == campaign_id) & (Response.role == "public"))
    levels = {
        a["response"]: a["score"]
        for a in await Answer.select(Answer.response, Answer.score).where(
            (Answer.response.campaign == campaign_id)
            & (Answer.response.role == "public")
            & (Answer.item == "overall")
        )
    }
    ratings: list[dict[str, Any]] = []
    texts: dict[str, list[str]] = {}
    for r in responses:
        if r["id"] in replaced:
            continue
        ratings.append(
            {
                "id": str(r["id"]),
                "window": r["window"],
                "unit": r["unit"],
                "staff": r["ratee"],
                "channel": r["channel"],
                "level": levels.get(r["id"]),
            }
        )
        if r["comment"] and r["channel"] != rs.DEFAULT_CHANNEL:
            texts.setdefault(str(r["id"]), []).append(str(r["comment"]))
    # free-text items of the public questionnaire count as comments too
    campaign = await Campaign.select(Campaign.public_version).where(Campaign.id == campaign_id)
    version = campaign[0]["public_version"] if campaign else None
    if version:
        text_items = [
            i["code"]
            for i in await Item.select(Item.code).where(
                (Item.version == version) & (Item.kind == "text")
            )
        ]
        if text_items:
            kept = {r["id"] for r in ratings}
            for a in await Answer.select(Answer.response, Answer.value).where(
                (Answer.response.campaign == campaign_id)
                & (Answer.response.role == "public")
                & Answer.item.is_in(text_items)
                & (Answer.value != "")
            ):
                rid = str(a["response"])
                if rid in kept:
                    texts.setdefault(rid, []).append(str(a["value"]))
    return ratings, texts


async def _facts(campaign: dict[str, Any], run: dict[str, Any], full: bool) -> Facts:
    units = [
        r["unit"]
        for r in await CampaignUnit.select(CampaignUnit.unit).where(
            CampaignUnit.campaign == campaign["id"]
        )
    ]
    ratings, texts = await _public_ratings(campaign["id"])
    flags = list(
        await Flag.select(
            Flag.response_id, Flag.rater, Flag.reason, Flag.action, Flag.weight, Flag.overridden
        ).where((Flag.campaign == campaign["id"]) & (Flag.revision == run["revision"]))
    )
    facts = Facts(campaign, run, units, ratings, flags)
    if full:
        facts.texts = texts
        facts.cases = list(
            await BadReviewCase.select(
                BadReviewCase.response,
                BadReviewCase.unit,
                BadReviewCase.window,
                BadReviewCase.reason_category,
                BadReviewCase.reason_text,
                BadReviewCase.state,
                BadReviewCase.opened_at,
                BadReviewCase.contact_due,
                BadReviewCase.rectify_due,
                BadReviewCase.contacted_at,
                BadReviewCase.closed_at,
                BadReviewCase.escalated,
            ).where(BadReviewCase.campaign == campaign["id"])
        )
        for c in facts.cases:
            if c["reason_text"]:
                facts.texts.setdefault(str(c["response"]), []).append(str(c["reason_text"]))
        facts.default_channel = sum(1 for r in ratings if r["channel"] == rs.DEFAULT_CHANNEL)
    return facts


async def _previous(campaign: dict[str, Any]) -> tuple[dict[str, Any] | None, Facts | None]:
    if not campaign.get("series"):
        return None, None
    rows = (
        await Campaign.select().where(Campaign.series == campaign["series"]).output(load_json=True)
    )
    previous = rs.previous_campaign(rows, campaign)
    if previous is None:
        return None, None
    # only what was published reaches the trends: the latest published revision, never
    # a later (or an unpublished) cleaning run
    publication = (
        await Publication.select(Publication.revision, Publication.snapshot)
        .where(Publication.campaign == previous["id"])
        .order_by(Publication.revision, ascending=False)
        .first()
    )
    if publication is None:
        return dict(previous), None
    run = await _run(previous["id"], int(publication["revision"]))
    if run is None:
        return dict(previous), None
    facts = await _facts(dict(previous), run, full=False)
    facts.staff_then = _staff_then(publication["snapshot"])
    return dict(previous), facts


def _staff_then(snapshot: Any) -> dict[str, dict[str, Any]] | None:
    """Unit code and post category of each staff member as frozen in a publication's
    snapshot (``inputs.staff``), by staff code; None when the snapshot has none."""
    try:
        document = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
        staff = document["inputs"]["staff"]
        return {
            str(s["code"]): {
                "unit_code": str(s.get("unit_code") or ""),
                "post_category": s.get("post_category") or "",
            }
            for s in staff
        }
    except (TypeError, ValueError, KeyError):
        return None


# --------------------------------------------------------------------------- composing


@dataclass
class Lookups:
    units: dict[int, dict[str, Any]]
    windows: dict[int, dict[str, Any]]
    staff: dict[str, dict[str, Any]]  # by code
    lang: str
    # staff names and codes, window numbers and names: blanked out of comments
    names: rs.Blanker | None = None

    def name(self, row: Mapping[str, Any] | None) -> str:
        if row is None:
            return "—"
        return in_language(str(row["name"]), row.get("name_en"), self.lang)

    def unit_name(self, unit_id: Any) -> str:
        return self.name(self.units.get(unit_id))

    def window_label(self, window_id: Any) -> str:
        w = self.windows.get(window_id)
        if w is None:
            return "—"
        return f"{w['number']} {self.name(w)}"


def _label(t: Callable[..., str], prefix: str, value: str) -> str:
    key = f"{prefix}.{value}"
    return t(key) if has_message(key) else value


def _staff_rows(scores: list[dict[str, Any]], look: Lookups) -> list[dict[str, Any]]:
    """Score rows of staff members, with their unit and post category added."""
    out = []
    for row in scores:
        ratee = str(row.get("ratee", ""))
        if not ratee.startswith("staff:"):
            continue
        member = look.staff.get(ratee.removeprefix("staff:"))
        if member is None:
            continue
        out.append(
            {
                **row,
                "unit": member["unit"],
                "post_category": member["post_category"],
                "code": member["code"],
                "name": member["name"],
                "staff_id": member["id"],
            }
        )
    return out


def _staff_rows_then(
    scores: list[dict[str, Any]], look: Lookups, facts: Facts
) -> list[dict[str, Any]]:
    """The previous campaign's staff score rows with each person in the unit (and post
    category) they had at its publication; without a snapshot, today's."""
    rows = _staff_rows(scores, look)
    if facts.staff_then is None:
        return rows
    unit_by_code = {str(u.get("code")): uid for uid, u in look.units.items()}
    out = []
    for row in rows:
        then = facts.staff_then.get(str(row["code"]))
        if then is None or then["unit_code"] not in unit_by_code:
            continue  # not in the published snapshot: in no figure of it
        out.append(
            {
                **row,
                "unit": unit_by_code[then["unit_code"]],
                "post_category": then["post_category"] or row["post_category"],
            }
        )
    return out


def _nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


@dataclass
class PublicView:
    """Public ratings after cleaning by window, by unit and in total (rs.TOTAL), with
    what small-group suppression hides in the unit > window > staff-on-duty tree."""

    by_window: dict[Hashable, rs.PublicStats]
    by_unit: dict[Hashable, rs.PublicStats]
    unit_of_window: dict[Any, Any]
    hidden: set[tuple[Hashable, ...]]

    def unit_shown(self, unit: Hashable) -> rs.PublicStats | None:
        stats = self.by_unit.get(unit)
        path = () if unit == rs.TOTAL else (unit,)
        if stats is None or stats.n_used == 0 or path in self.hidden:
            return None
        return stats

    def window_shown(self, window: Hashable) -> bool:
        return (self.unit_of_window.get(window), window) not in self.hidden

    @cached_property
    def hidden_staff(self) -> set[Any]:
        return {p[2] for p in self.hidden if len(p) == 3}

    def staff_shown(self, staff_id: Any) -> bool:
        return staff_id not in self.hidden_staff

    def ranking(self) -> list[Hashable]:
        return rs.rank(
            {
                w: (s.satisfaction, s.mean_100)
                for w, s in self.by_window.items()
                if self.window_shown(w) and s.weight > 0
            }
        )


def _public_view(facts: Facts, satisfied_min: int) -> PublicView:
    weights = rs.response_weights(facts.flags)
    in_scope = set(facts.units)
    ratings = [r for r in facts.ratings if r["unit"] in in_scope]
    by_window = rs.public_stats(ratings, weights, lambda r: r["window"], satisfied_min)
    by_unit = rs.public_stats(ratings, weights, lambda r: r["unit"], satisfied_min)
    by_unit.update(rs.public_stats(ratings, weights, lambda r: rs.TOTAL, satisfied_min))
    leaves = rs.public_stats(
        ratings, weights, lambda r: (r["unit"], r["window"], r["staff"]), satisfied_min
    )
    hidden = rs.suppress_tree(
        {path: s.n_used for path, s in leaves.items()}, int(facts.campaign["k"])
    )
    unit_of_window = {r["window"]: r["unit"] for r in ratings}
    return PublicView(by_window, by_unit, unit_of_window, hidden)


def _fmt_pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x * 100:.1f}%"


def _fmt_num(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}f}"


def _fmt_delta(x: Any, digits: int = 1, scale: float = 1.0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    v = round(x * scale, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{v:+.{digits}f}".replace("-", "−") if v else f"{0:.{digits}f}"


def _compose(
    facts: Facts,
    previous: dict[str, Any] | None,
    prev_facts: Facts | None,
    look: Lookups,
    now: datetime,
) -> dict[str, Any]:
    lang = look.lang
    t = partial(translate, lang=lang)
    campaign = facts.campaign
    k = int(campaign["k"])
    policy = campaign.get("policy") or {}
    satisfied_min = int(policy.get("satisfied_min", rs.SATISFIED_MIN))
    units = sorted(facts.units, key=lambda u: look.units.get(u, {}).get("code", str(u)))
    scores = list(facts.run.get("scores") or [])
    staff_rows = _staff_rows(scores, look)

    # ---- public ratings by unit and window
    view = _public_view(facts, satisfied_min)
    by_window = view.by_window
    unit_of_window = view.unit_of_window
    level_names = [t(f"level.{lv}") for lv in rs.LEVELS]
    public_units: list[dict[str, Any]] = []
    for u in [*units, rs.TOTAL]:
        public_units.append(
            {
                "total": u == rs.TOTAL,
                "name": t("report.all_units") if u == rs.TOTAL else look.unit_name(u),
                "stats": view.unit_shown(u),
            }
        )
    shown_units = [p for p in public_units if p["stats"] is not None]
    levels_chart = charts.stacked_bar_chart(
        [p["name"] for p in shown_units],
        [[float(p["stats"].levels[lv]) for lv in rs.LEVELS] for p in shown_units],
        level_names,
        title=t("report.chart.levels"),
    )
    satisfaction_chart = charts.bar_chart(
        [p["name"] for p in shown_units],
        [p["stats"].satisfaction * 100 for p in shown_units],
        title=t("report.chart.satisfaction"),
        value_format=lambda v: f"{v:.1f}%",
    )

    # ---- cleaned scores by unit x post category, per role
    categories = [c for c in POST_CATEGORIES if any(r["post_category"] == c for r in staff_rows)]
    categories += sorted({r["post_category"] for r in staff_rows} - set(categories))
    role_tables = []
    below_k = Counter(
        r["role"] for r in staff_rows if not r.get("reportable") and r.get("n_responses")
    )
    for role in ROLES:
        matrix = rs.role_matrix(staff_rows, role, k)
        if not matrix:
            continue
        rows = [
            {
                "name": look.unit_name(u),
                "code": look.units.get(u, {}).get("code", str(u)),
                "cells": [matrix.get((u, c)) for c in categories],
                "total": matrix.get((u, rs.TOTAL)),
            }
            for u in units
            if (u, rs.TOTAL) in matrix
        ]
        values = [
            float(r["score_100"])
            for r in staff_rows
            if r["role"] == role and r.get("reportable") and r.get("score_100") is not None
        ]
        values = [v for v in values if not math.isnan(v)]
        grand = matrix.get((rs.TOTAL, rs.TOTAL))
        histogram = ""
        if grand is not None and not grand.suppressed and len(values) >= k:
            bins = rs.score_bins(values)
            histogram = charts.bar_chart(
                [label for label, _ in bins],
                [float(n) for _, n in bins],
                title=t("report.chart.histogram", role=t(f"role.{role}")),
            )
        role_tables.append(
            {
                "role": role,
                "label": t(f"role.{role}"),
                "rows": rows,
                "columns": [matrix.get((rs.TOTAL, c)) for c in categories],
                "grand": grand,
                "histogram": histogram,
                "below_k": below_k.get(role, 0),
            }
        )

    # ---- windows and staff: top and bottom by public satisfaction
    ranking = view.ranking()

    def window_row(w: Hashable) -> dict[str, Any]:
        s = by_window[w]
        return {
            "unit": look.unit_name(unit_of_window.get(w)),
            "window": look.window_label(w),
            "n": s.n_used,
            "satisfaction": s.satisfaction,
            "mean": s.mean_100,
        }

    top, bottom = rs.top_bottom(ranking, TOP_N)
    public_staff = [r for r in staff_rows if r["role"] == "public"]
    # a person's public score is the sum of their leaves in the public tree: shown only
    # when none of those is hidden (else it would give a hidden window away)
    staff_ok = {
        r["code"]: r
        for r in public_staff
        if r.get("reportable") and view.staff_shown(r["staff_id"])
    }
    staff_top, staff_bottom = rs.top_bottom(
        rs.rank(
            {
                code: (_nan(r.get("satisfaction_rate")), _nan(r.get("score_100")))
                for code, r in staff_ok.items()
            }
        ),
        TOP_N,
    )

    def staff_row(code: Hashable) -> dict[str, Any]:
        r = staff_ok[str(code)]
        return {
            "code": r["code"],
            "name": r["name"],
            "unit": look.unit_name(r["unit"]),
            "n": r.get("n_used"),
            "satisfaction": _nan(r.get("satisfaction_rate")),
            "score": _nan(r.get("score_100")),
        }

    # ---- trends against the previous campaign (its latest published revision only)
    trends: dict[str, Any] = {
        "previous": previous,
        "cleaned": prev_facts is not None,
        "revision": prev_facts.run["revision"] if prev_facts is not None else None,
    }
    last_twice: list[dict[str, Any]] = []
    if prev_facts is not None:
        p_view = _public_view(prev_facts, satisfied_min)
        # The previous campaign's people are placed in the units they belonged to when
        # it was published (its frozen snapshot), as its own frozen report placed them.
        # Mitigation until per-ratee units are stored with every run: a unit is compared
        # only when exactly the same staff (for role scores) and the same windows (for
        # public satisfaction) make up its figures in both campaigns. Otherwise someone
        # who moved, joined or left would be isolated by subtracting the two campaigns'
        # figures (or this trend from the previous frozen report); such a unit reads
        # "composition changed, not compared". Windows are placed by today's
        # organisation in both campaigns (window moves are not stored).
        p_staff_rows = _staff_rows_then(list(prev_facts.run.get("scores") or []), look, prev_facts)
        p_k = int(prev_facts.campaign["k"])
        p_matrices = {role: rs.role_matrix(p_staff_rows, role, p_k) for role in ROLES}
        matrices = {role: rs.role_matrix(staff_rows, role, k) for role in ROLES}

        def role_mean(m: Mapping[Any, rs.Cell], u: Hashable) -> float | None:
            cell = m.get((u, rs.TOTAL))
            return None if cell is None or cell.suppressed else cell.mean

        def members(rows: list[dict[str, Any]], role: str, u: Hashable) -> frozenset[str]:
            return frozenset(
                str(r["code"])
                for r in rows
                if r["role"] == role
                and r.get("reportable")
                and not math.isnan(_nan(r.get("score_100")))
                and (u == rs.TOTAL or r["unit"] == u)
            )

        def windows_of(v: PublicView, u: Hashable) -> frozenset[Any]:
            return frozenset(
                w
                for w, st in v.by_window.items()
                if st.n_used > 0 and (u == rs.TOTAL or v.unit_of_window.get(w) == u)
            )

        trend_rows = []
        for u in [*units, rs.TOTAL]:
            now_s, prev_s = view.unit_shown(u), p_view.unit_shown(u)
            row: dict[str, Any] = {
                "total": u == rs.TOTAL,
                "name": t("report.all_units") if u == rs.TOTAL else look.unit_name(u),
                "changed": False,
                "roles": [],
            }
            if now_s is not None and prev_s is not None:
                row["changed"] |= windows_of(view, u) != windows_of(p_view, u)
            row["sat_now"] = now_s.satisfaction if now_s else None
            row["sat_prev"] = prev_s.satisfaction if prev_s else None
            for role in ROLES:
                a, b = role_mean(matrices[role], u), role_mean(p_matrices[role], u)
                if a is not None and b is not None:
                    changed = prev_facts.staff_then is None or (
                        members(staff_rows, role, u) != members(p_staff_rows, role, u)
                    )
                    row["changed"] |= changed
                row["roles"].append({"now": a, "prev": b})
            if row["changed"]:  # no figure of either campaign for this unit
                row["sat_now"] = row["sat_prev"] = None
                row["roles"] = [{"now": None, "prev": None} for _ in ROLES]
            row["sat_delta"] = (
                row["sat_now"] - row["sat_prev"]
                if row["sat_now"] is not None and row["sat_prev"] is not None
                else None
            )
            for r in row["roles"]:
                r["delta"] = (
                    r["now"] - r["prev"] if r["now"] is not None and r["prev"] is not None else None
                )
            trend_rows.append(row)
        trends["rows"] = trend_rows
        trends["roles"] = [t(f"role.{role}") for role in ROLES]
        deltas = [r for r in trend_rows if not r["total"] and r["sat_delta"] is not None]
        trends["chart"] = (
            charts.bar_chart(
                [r["name"] for r in deltas],
                [r["sat_delta"] * 100 for r in deltas],
                title=t("report.chart.trend"),
                value_format=lambda v: f"{v:+.1f}",
            )
            if deltas
            else ""
        )
        p_ranking = p_view.ranking()
        for w in rs.last_in_both(ranking, p_ranking, LAST_SHARE):
            row = window_row(w)
            row["previous_satisfaction"] = p_view.by_window[w].satisfaction
            row["rank"] = ranking.index(w) + 1
            row["rank_prev"] = p_ranking.index(w) + 1
            row["of"], row["of_prev"] = len(ranking), len(p_ranking)
            last_twice.append(row)

    # ---- data quality
    quality_rows, quality_totals = rs.quality_summary(facts.flags, REASONS)
    explanations = {reason: t(f"flags.why.{reason}") for reason in REASONS}
    quality = {
        "summary": facts.run.get("summary") or {},
        "totals": quality_totals,
        "default_channel": facts.default_channel,
        "rows": [
            {
                "reason": q.reason,
                "explanation": explanations.get(q.reason, ""),
                "live": q.live,
                "overridden": q.overridden,
                "responses": q.responses,
                "raters": q.raters,
                "actions": ", ".join(
                    f"{_label(t, 'report.action', a)} {n}" for a, n in sorted(q.actions.items())
                ),
            }
            for q in quality_rows
        ],
        "chart": charts.bar_chart(
            [q.reason for q in quality_rows],
            [float(q.live) for q in quality_rows],
            title=t("report.chart.flags"),
        ),
    }

    # ---- bad reviews: hotspots and timeliness. A unit's or a window's cases show only
    # for a group the public tree shows and when there are at least k of them; the
    # others are folded into one "other units" row (itself at least k, see
    # rs.fold_small), so that neither a row nor total minus rows points at a hidden
    # group or a handful of citizens.
    cases_by_unit = rs.group_by(facts.cases, lambda c: c["unit"])
    root_shown = view.unit_shown(rs.TOTAL) is not None
    unit_counts = {u: len(cases_by_unit.get(u, [])) for u in units}
    shown_case_units, folded_units = rs.fold_small(
        {u: n for u, n in unit_counts.items() if n > 0 or view.unit_shown(u) is None},
        k,
        lambda u: root_shown and view.unit_shown(u) is not None,
    )
    case_units: list[dict[str, Any]] = []
    for u in units:
        public = view.unit_shown(u)
        own = root_shown and (u in shown_case_units or (unit_counts[u] == 0 and public))
        stats = rs.case_timeliness(cases_by_unit.get(u, []), now) if own else None
        case_units.append(
            {
                "name": look.unit_name(u),
                "stats": stats,
                "per_100": stats.total / public.n * 100
                if stats is not None and public and public.n
                else None,
            }
        )
    folded_cases = [c for u in folded_units for c in cases_by_unit.get(u, [])]
    case_other = (
        rs.case_timeliness(folded_cases, now)
        if root_shown and folded_units and len(folded_cases) >= k
        else None
    )
    in_scope_cases = [c for u in units for c in cases_by_unit.get(u, [])]
    # the total minus the rows shown is the folded part: shown only when that is 0 or
    # at least k (fold_small folds until it is, unless everything is folded)
    folded_n = len(folded_cases)
    case_total = (
        rs.case_timeliness(in_scope_cases, now)
        if root_shown and (folded_n == 0 or folded_n >= k)
        else None
    )
    hotspot_candidates: list[tuple[Any, int]] = []
    for u in shown_case_units:
        window_counts = Counter(c["window"] for c in cases_by_unit.get(u, []))
        shown_windows, _ = rs.fold_small(
            window_counts, k, lambda w: w is not None and view.window_shown(w)
        )
        hotspot_candidates += [(w, window_counts[w]) for w in shown_windows]
    hotspots = [
        {
            "unit": look.unit_name(look.windows.get(w, {}).get("unit")),
            "window": look.window_label(w),
            "cases": n,
            "per_100": n / by_window[w].n * 100 if w in by_window and by_window[w].n else None,
            "open": sum(1 for c in facts.cases if c["window"] == w and c["state"] != "closed"),
        }
        for w, n in sorted(hotspot_candidates, key=lambda kv: (-kv[1], str(kv[0])))[:TOP_N]
    ]
    chart_rows = [(r["name"], r["stats"].total) for r in case_units if r["stats"] is not None]
    if case_other is not None:
        chart_rows.append((t("report.other_units"), case_other.total))
    cases_chart = (
        charts.bar_chart(
            [name for name, _ in chart_rows],
            [float(n) for _, n in chart_rows],
            title=t("report.chart.cases"),
        )
        if facts.cases and chart_rows
        else ""
    )

    # ---- reasons (of the case rows shown) and keywords per unit
    all_reasons: Counter[str] = Counter()
    folded_label = t("report.folded_reasons")

    def reason_list(cases: list[Mapping[str, Any]]) -> list[tuple[str, int]]:
        """Categories with at least k cases; the rest together as one entry."""
        counts = Counter(str(c["reason_category"] or "other") for c in cases)
        shown, folded = rs.fold_small(counts, k)
        out = [
            (_label(t, "reason", r), counts[r])
            for r in sorted(shown, key=lambda r: (-counts[r], r))
        ]
        if folded:
            out.append((folded_label, sum(counts[r] for r in folded)))
        all_reasons.update(dict(out))
        return out

    weights = rs.response_weights(facts.flags)
    responses_by_unit: dict[Any, list[list[str]]] = {}
    for r in facts.ratings:
        texts = facts.texts.get(r["id"])
        if not texts or r["channel"] == rs.DEFAULT_CHANNEL or r["level"] not in rs.LEVELS:
            continue
        if weights.get(r["id"], 1.0) <= 0 or r["unit"] not in units:
            continue  # excluded by the cleaning, or outside the campaign
        if view.unit_shown(r["unit"]) is None or not view.window_shown(r["window"]):
            continue  # a group the public tree hides keeps its comments hidden too
        responses_by_unit.setdefault(r["unit"], []).append(texts)
    reason_units = []
    for u, case_row in zip(units, case_units, strict=True):
        commenting, words = rs.response_keywords(
            responses_by_unit.get(u, []), k, KEYWORDS_PER_UNIT, look.names
        )
        reason_units.append(
            {
                "name": look.unit_name(u),
                "other": False,
                "reasons": reason_list(cases_by_unit.get(u, []))
                if case_row["stats"] is not None
                else None,
                "comments": commenting if view.unit_shown(u) is not None else None,
                "keywords": words,
            }
        )
    if case_other is not None:
        reason_units.append(
            {
                "name": t("report.other_units"),
                "other": True,
                "reasons": reason_list(folded_cases),
                "comments": None,
                "keywords": [],
            }
        )
    reasons_chart = (
        charts.bar_chart(
            [r for r, _ in all_reasons.most_common()],
            [float(n) for _, n in all_reasons.most_common()],
            title=t("report.chart.reasons"),
        )
        if all_reasons
        else ""
    )

    ran_at = facts.run.get("ran_at")
    return {
        "lang": lang,
        "t": t,
        "pct": _fmt_pct,
        "num": _fmt_num,
        "delta": _fmt_delta,
        "campaign": campaign,
        "k": k,
        "revision": facts.run["revision"],
        "ran_at": ran_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if ran_at else "",
        "generated_at": now.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
        "unit_count": len(units),
        "level_names": level_names,
        "levels": rs.LEVELS,
        "public_units": public_units,
        "levels_chart": levels_chart if shown_units else "",
        "satisfaction_chart": satisfaction_chart if shown_units else "",
        "categories": [_label(t, "post", c) for c in categories],
        "role_tables": role_tables,
        "windows_ranked": len(ranking),
        "windows_unranked": len(by_window) - len(ranking),
        "top": [window_row(w) for w in top],
        "bottom": [window_row(w) for w in bottom],
        "staff_top": [staff_row(c) for c in staff_top],
        "staff_bottom": [staff_row(c) for c in staff_bottom],
        "trends": trends,
        "last_twice": last_twice,
        "last_share": LAST_SHARE,
        "quality": quality,
        "case_units": case_units,
        "case_total": case_total,
        "case_other": case_other,
        "hotspots": hotspots,
        "cases_chart": cases_chart,
        "reason_units": reason_units,
        "reasons_chart": reasons_chart,
    }


async def _phone_section(facts: Facts, look: Lookups) -> dict[str, Any] | None:
    """The campaign's latest sampled phone round beside the self-selected QR ratings,
    per unit (services/phone.py). A unit's phone figure needs k respondents; its QR
    figure k used ratings and a unit the public tree shows. No total is given, so a
    hidden unit cannot be worked out from the others."""
    round_id = await phone.latest_round(int(facts.campaign["id"]))
    if round_id is None:
        return None
    policy = facts.campaign.get("policy") or {}
    view = _public_view(facts, int(policy.get("satisfied_min", rs.SATISFIED_MIN)))
    rows = []
    for u in await phone.comparison(round_id, facts.flags):
        qr = u.qr if view.unit_shown(u.unit_id) is not None else None
        rows.append(
            {
                "name": look.unit_name(u.unit_id),
                "phone": u.phone,
                "phone_n": u.phone_n,
                "qr": qr,
                "qr_n": u.qr_n,
                "gap": None if u.phone is None or qr is None else qr[0] - u.phone.satisfaction,
            }
        )
    rates = (await phone.stratum_rates(round_id))[-1]["rates"]
    return {"round": round_id, "rows": rows, "rates": rates}


async def _mystery_section(facts: Facts, look: Lookups) -> dict[str, Any] | None:
    """Mystery-shopping (暗访) scores per unit and window (services/mystery.py): the mean
    visit score with the number of visits. Each unit with its windows is a line of
    ``report_stats.suppress_tree``: a group under ``k`` visits is hidden, with its
    complement where one hidden group could be worked out from the others. No campaign
    total is given (it would give a hidden unit away), only the number of visits and
    each item's share of marks over all of them (when there are at least ``k``)."""
    scores = await mystery.scores(int(facts.campaign["id"]))
    if scores.total.n == 0:
        return None
    k = int(facts.campaign["k"])
    windows_of: dict[int, list[int]] = {}
    for window, unit in scores.window_unit.items():
        windows_of.setdefault(unit, []).append(window)
    units = []
    for unit in sorted(scores.units, key=lambda u: str(look.units.get(u, {}).get("code", u))):
        hidden = rs.suppress_tree({(w,): scores.windows[w].n for w in windows_of[unit]}, k)
        group = scores.units[unit]
        units.append(
            {
                "name": look.unit_name(unit),
                "n": group.n,
                "mean": None if () in hidden else group.mean,
                "windows": [
                    {
                        "name": look.window_label(w),
                        "n": scores.windows[w].n,
                        "mean": None if (w,) in hidden else scores.windows[w].mean,
                    }
                    for w in sorted(windows_of[unit], key=look.window_label)
                ],
            }
        )
    items = []
    if scores.total.n >= k:
        for _code, zh, en, n, share in scores.item_rates():
            items.append({"name": en if look.lang == "en" and en else zh, "n": n, "share": share})
    return {"n": scores.total.n, "units": units, "items": items}


@lru_cache(maxsize=4)
def _environment(folder: Path) -> jinja2.Environment:
    # autoescape everything: names and comments are untrusted text
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


async def build_report(
    campaign_code: str,
    revision: int | None = None,
    lang: str = "zh-CN",
    now: datetime | None = None,
) -> str:
    """The complete HTML of the campaign report. Raises UnknownCampaign (404) or
    NotCleaned (409: no cleaning run, or no such revision)."""
    campaign = await _campaign(campaign_code)
    run = await _run(campaign["id"], revision)
    if run is None:
        if revision is None:
            raise NotCleaned(translate("report.not_cleaned", lang, code=campaign_code))
        raise NotCleaned(
            translate("report.no_revision", lang, code=campaign_code, revision=revision)
        )
    facts = await _facts(campaign, run, full=True)
    previous, prev_facts = await _previous(campaign)
    staff = {
        s["code"]: s
        for s in await Staff.select(
            Staff.id, Staff.code, Staff.name, Staff.unit, Staff.post_category
        )
    }
    windows = {w["id"]: w for w in await ServiceWindow.select()}
    look = Lookups(
        units={u["id"]: u for u in await Unit.select()},
        windows=windows,
        staff=staff,
        lang=pick_language(lang, SOURCE_LANGUAGE),
        # every staff member ever on file, not only those rated: a comment may name anyone
        names=rs.Blanker(
            rs.name_terms(
                [str(s["name"] or "") for s in staff.values()],
                [
                    *(str(code) for code in staff),
                    *(
                        str(w[key] or "")
                        for w in windows.values()
                        for key in ("code", "number", "name", "name_en")
                    ),
                ],
            )
        ),
    )
    context = _compose(facts, previous, prev_facts, look, now or datetime.now(UTC))
    context["phone"] = await _phone_section(facts, look)
    context["mystery"] = await _mystery_section(facts, look)
    template = _environment(get_settings().templates_dir).get_template(TEMPLATE)
    return template.render(**context)
