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
- the most frequent bad-review reasons and comment keywords per unit.

Data gathering (the database) is here; every computation is in
``pingyi.report_stats`` (pure). Anonymity: only reportable score rows enter any
number, groups under ``k`` are suppressed together with their complement (see
``report_stats.suppress``), peer/superior/self comments are never read, and staff
appear by code and name only next to public scores.
"""

from __future__ import annotations

import math
import uuid
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
from pingyi.cleaning import REASON_EXPLANATIONS, REASONS
from pingyi.db.tables import (
    POST_CATEGORIES,
    Answer,
    BadReviewCase,
    Campaign,
    CampaignUnit,
    CleaningRun,
    Flag,
    Item,
    Response,
    ServiceWindow,
    Staff,
    Unit,
)
from pingyi.hours import LOCAL_TZ
from pingyi.i18n import MESSAGES, translate
from pingyi.services.corrections import superseded_ids
from pingyi.settings import get_settings

TEMPLATE = "report/campaign.html"
ROLES = ("public", "peer", "superior", "self")
TOP_N = 5  # windows and staff shown at the top and at the bottom
LAST_SHARE = 0.1  # "the last places": the worst 10 % of ranked windows, at least one
KEYWORDS_PER_UNIT = 8

REASON_EXPLANATIONS_EN = {
    "DUPLICATE": "The same ticket or device rated the same window again within a short "
    "time; only the first rating counts.",
    "SPEEDER": "Answered far faster than the median time for the questionnaire; not counted.",
    "STRAIGHTLINE": "Every item of a multi-item questionnaire got the same level; down-weighted.",
    "BOT": "Hit the hidden honeypot item or was faster than a person can be; not counted.",
    "OFF_HOURS": "Submitted outside the hall's opening hours, when nobody was served; not counted.",
    "BURST": "Many top ratings for one ratee within minutes from very few devices, or more "
    "ratings than people served (ballot stuffing).",
    "LENIENT": "The rater is consistently more generous than others about the same people; "
    "the estimated bias is subtracted (not removed).",
    "SEVERE": "The rater is consistently harsher than others about the same people; the "
    "estimated bias is added back (not removed).",
    "CENTRAL": "The rater gives almost everyone the same level; down-weighted.",
    "HALO": "Items within one questionnaire follow the overall impression; down-weighted.",
    "MISFIT": "The rater's judgements disagree systematically with everyone else's "
    "(close to random); down-weighted.",
    "OUTLIER": "A single rating far from the consensus after bias correction; "
    "down-weighted by its distance.",
    "RECIPROCAL": "Two people rate each other clearly above what others give them; "
    "their mutual ratings do not count.",
    "CLIQUE": "A small group rates its own members above the outside consensus; "
    "ratings inside the group do not count.",
}


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
    comments: list[tuple[int, str]] = field(default_factory=list)  # (unit id, public text)
    default_channel: int = 0


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


async def _public_ratings(campaign_id: int) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Public responses (corrected ones replaced) with their overall level, and the
    public free texts by unit. Peer, superior and self comments are never read."""
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
    ratings, comments = [], []
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
        if r["comment"] and r["unit"] is not None and r["channel"] != rs.DEFAULT_CHANNEL:
            comments.append((int(r["unit"]), str(r["comment"])))
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
            unit_of = {uuid.UUID(r["id"]): r["unit"] for r in ratings}
            for a in await Answer.select(Answer.response, Answer.value).where(
                (Answer.response.campaign == campaign_id)
                & (Answer.response.role == "public")
                & Answer.item.is_in(text_items)
                & (Answer.value != "")
            ):
                unit = unit_of.get(a["response"])
                if unit is not None:
                    comments.append((int(unit), str(a["value"])))
    return ratings, comments


async def _facts(campaign: dict[str, Any], run: dict[str, Any], full: bool) -> Facts:
    units = [
        r["unit"]
        for r in await CampaignUnit.select(CampaignUnit.unit).where(
            CampaignUnit.campaign == campaign["id"]
        )
    ]
    ratings, comments = await _public_ratings(campaign["id"])
    flags = list(
        await Flag.select(
            Flag.response_id, Flag.rater, Flag.reason, Flag.action, Flag.weight, Flag.overridden
        ).where((Flag.campaign == campaign["id"]) & (Flag.revision == run["revision"]))
    )
    facts = Facts(campaign, run, units, ratings, flags)
    if full:
        facts.comments = comments
        facts.cases = list(
            await BadReviewCase.select(
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
        facts.comments += [(c["unit"], c["reason_text"]) for c in facts.cases if c["reason_text"]]
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
    run = await _run(previous["id"])
    if run is None:
        return dict(previous), None
    return dict(previous), await _facts(dict(previous), run, full=False)


# --------------------------------------------------------------------------- composing


@dataclass
class Lookups:
    units: dict[int, dict[str, Any]]
    windows: dict[int, dict[str, Any]]
    staff: dict[str, dict[str, Any]]  # by code
    lang: str

    def name(self, row: Mapping[str, Any] | None) -> str:
        if row is None:
            return "—"
        if self.lang == "en" and row.get("name_en"):
            return str(row["name_en"])
        return str(row["name"])

    def unit_name(self, unit_id: Any) -> str:
        return self.name(self.units.get(unit_id))

    def window_label(self, window_id: Any) -> str:
        w = self.windows.get(window_id)
        if w is None:
            return "—"
        return f"{w['number']} {self.name(w)}"


def _label(t: Callable[..., str], prefix: str, value: str) -> str:
    key = f"{prefix}.{value}"
    return t(key) if key in MESSAGES else value


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

    # ---- trends against the previous campaign
    trends: dict[str, Any] = {"previous": previous, "cleaned": prev_facts is not None}
    last_twice: list[dict[str, Any]] = []
    if prev_facts is not None:
        p_view = _public_view(prev_facts, satisfied_min)
        p_staff_rows = _staff_rows(list(prev_facts.run.get("scores") or []), look)
        p_matrices = {
            role: rs.role_matrix(p_staff_rows, role, int(prev_facts.campaign["k"]))
            for role in ROLES
        }
        matrices = {role: rs.role_matrix(staff_rows, role, k) for role in ROLES}

        def role_mean(m: Mapping[Any, rs.Cell], u: Hashable) -> float | None:
            cell = m.get((u, rs.TOTAL))
            return None if cell is None or cell.suppressed else cell.mean

        trend_rows = []
        for u in [*units, rs.TOTAL]:
            now_s, prev_s = view.unit_shown(u), p_view.unit_shown(u)
            row: dict[str, Any] = {
                "total": u == rs.TOTAL,
                "name": t("report.all_units") if u == rs.TOTAL else look.unit_name(u),
                "sat_now": now_s.satisfaction if now_s else None,
                "sat_prev": prev_s.satisfaction if prev_s else None,
                "roles": [],
            }
            row["sat_delta"] = (
                row["sat_now"] - row["sat_prev"]
                if now_s is not None and prev_s is not None
                else None
            )
            for role in ROLES:
                a, b = role_mean(matrices[role], u), role_mean(p_matrices[role], u)
                row["roles"].append(
                    {
                        "now": a,
                        "prev": b,
                        "delta": a - b if a is not None and b is not None else None,
                    }
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
    explanations = REASON_EXPLANATIONS_EN if lang == "en" else REASON_EXPLANATIONS
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

    # ---- bad reviews: hotspots and timeliness
    cases_by_unit = rs.group_by(facts.cases, lambda c: c["unit"])
    case_units: list[dict[str, Any]] = []
    for u in units:
        stats = rs.case_timeliness(cases_by_unit.get(u, []), now)
        public = view.unit_shown(u)  # a hidden group's size stays hidden too
        case_units.append(
            {
                "name": look.unit_name(u),
                "stats": stats,
                "per_100": stats.total / public.n * 100 if public and public.n else None,
            }
        )
    case_total = rs.case_timeliness(facts.cases, now)
    window_cases = Counter(c["window"] for c in facts.cases if c["window"] is not None)
    hotspots = [
        {
            "unit": look.unit_name(look.windows.get(w, {}).get("unit")),
            "window": look.window_label(w),
            "cases": n,
            "per_100": n / by_window[w].n * 100
            if w in by_window and by_window[w].n and view.window_shown(w)
            else None,
            "open": sum(1 for c in facts.cases if c["window"] == w and c["state"] != "closed"),
        }
        for w, n in sorted(window_cases.items(), key=lambda kv: (-kv[1], str(kv[0])))[:TOP_N]
    ]
    cases_chart = (
        charts.bar_chart(
            [r["name"] for r in case_units],
            [float(r["stats"].total) for r in case_units],
            title=t("report.chart.cases"),
        )
        if facts.cases
        else ""
    )

    # ---- reasons and keywords per unit
    comments_by_unit: dict[int, list[str]] = {}
    for unit_id, text in facts.comments:
        comments_by_unit.setdefault(unit_id, []).append(text)
    reason_units = []
    for u in units:
        reasons = Counter(c["reason_category"] or "other" for c in cases_by_unit.get(u, []))
        texts = comments_by_unit.get(u, [])
        reason_units.append(
            {
                "name": look.unit_name(u),
                "reasons": [
                    (_label(t, "reason", r), n)
                    for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
                "comments": len(texts),
                "keywords": rs.keyword_counts(texts, KEYWORDS_PER_UNIT),
            }
        )
    all_reasons = Counter(c["reason_category"] or "other" for c in facts.cases)
    reasons_chart = (
        charts.bar_chart(
            [_label(t, "reason", r) for r, _ in all_reasons.most_common()],
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
        "hotspots": hotspots,
        "cases_chart": cases_chart,
        "reason_units": reason_units,
        "reasons_chart": reasons_chart,
    }


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
    look = Lookups(
        units={u["id"]: u for u in await Unit.select()},
        windows={w["id"]: w for w in await ServiceWindow.select()},
        staff={
            s["code"]: s
            for s in await Staff.select(
                Staff.id, Staff.code, Staff.name, Staff.unit, Staff.post_category
            )
        },
        lang="en" if lang.lower().startswith("en") else "zh-CN",
    )
    context = _compose(facts, previous, prev_facts, look, now or datetime.now(UTC))
    template = _environment(get_settings().templates_dir).get_template(TEMPLATE)
    return template.render(**context)
