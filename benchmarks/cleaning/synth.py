"""Synthetic campaigns with known true scores and labelled contamination.

Honest answers follow a simple generative model (staff quality + rater noise, rounded
and clipped to 1..5); contamination of every kind the cleaner looks for is injected
at realistic rates and labelled per response, so quality.py can measure recall and
false positives. Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from pingyi.cleaning import Ratings

DAY = 86400.0
OFFSET = 8 * 3600.0  # local time is UTC+8
CAMPAIGN_START = dt.datetime(2026, 3, 2, tzinfo=dt.UTC).timestamp() - OFFSET  # a Monday 00:00
PEER_ITEMS = ("i1", "i2", "i3", "i4", "i5", "i6")
PUBLIC_ITEMS = ("overall", "wait", "attitude")

PUBLIC_SD = 0.9  # honest citizen noise around the window's quality
RATER_SD = 0.15  # honest raters differ a little in leniency
RESPONSE_SD = 0.35  # a peer's overall impression of one colleague on one day
ITEM_SD = 0.7  # item-to-item noise within a form

KINDS = (
    "speeder",
    "bot",
    "duplicate",
    "off_hours",
    "burst",
    "straightline",
    "lenient",
    "severe",
    "central",
    "halo",
    "misfit",
    "outlier",
    "reciprocal",
    "clique",
    "interviewer",
    "scripted",
)
EXPECTED_REASONS = {
    "speeder": {"SPEEDER"},
    "bot": {"BOT"},
    "duplicate": {"DUPLICATE"},
    "off_hours": {"OFF_HOURS"},
    "burst": {"BURST"},
    "straightline": {"STRAIGHTLINE"},
    "lenient": {"LENIENT"},
    "severe": {"SEVERE"},
    "central": {"CENTRAL"},
    "halo": {"HALO"},
    "misfit": {"MISFIT"},
    "outlier": {"OUTLIER"},
    "reciprocal": {"RECIPROCAL", "CLIQUE"},
    "clique": {"CLIQUE"},
    "interviewer": {"INTERVIEWER"},
    "scripted": {"SCRIPTED"},
}


def expected_rounded(mean: np.ndarray, sd: float) -> np.ndarray:
    """E[clip(round(mean + N(0, sd)), 1, 5)], exactly."""
    mean = np.asarray(mean, dtype=float)[..., None]
    cuts = np.array([1.5, 2.5, 3.5, 4.5])
    below = norm.cdf((cuts - mean) / sd)  # P(value < cut)
    probs = np.diff(np.concatenate([np.zeros_like(mean), below, np.ones_like(mean)], -1), axis=-1)
    return (probs * np.arange(1, 6)).sum(-1)


def level_probabilities(mean: np.ndarray, sd: float) -> np.ndarray:
    """P(clip(round(mean + N(0, sd)), 1, 5) = 1..5), one row per mean."""
    mean = np.asarray(mean, dtype=float)[..., None]
    below = norm.cdf((np.array([1.5, 2.5, 3.5, 4.5]) - mean) / sd)
    return np.diff(np.concatenate([np.zeros_like(mean), below, np.ones_like(mean)], -1), axis=-1)


def expected_public_composite(quality: np.ndarray) -> np.ndarray:
    """Expected composite (item mean) of an honest public response, exactly.

    40 % answer the counter device (overall only); 60 % the QR form, whose two further
    items are round(overall + N(0, 0.7)).
    """
    levels = np.arange(1, 6, dtype=float)
    follow = expected_rounded(levels, 0.7)  # E[extra item | overall = level]
    per_level = 0.4 * levels + 0.6 * (levels + 2 * follow) / 3
    return level_probabilities(quality, PUBLIC_SD) @ per_level


def _round(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x + 0.5), 1, 5)


@dataclass
class Campaign:
    ratings: Ratings
    truth: dict[tuple[str, str], float]  # (ratee, role) -> true expected honest score
    kind: dict[str, str]  # response_id -> contamination kind ('' honest)
    honeypot: set[str]
    ticket_counts: dict[tuple[str, float], int]


class _Builder:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.cols: dict[str, list[np.ndarray]] = {
            k: []
            for k in ("rid", "role", "rater", "ratee", "t", "dur", "device", "ticket", "channel")
        }
        self.items: list[np.ndarray] = []  # (n, n_items) scores, NaN = no item
        self.item_names: list[tuple[str, ...]] = []
        self.kind: list[np.ndarray] = []
        self.serial = 0

    def add(self, n, role, rater, ratee, t, dur, device, ticket, channel, scores, names, kind):
        def full(v, dtype=object):
            arr = np.asarray(v, dtype=dtype)
            return np.broadcast_to(arr, (n,)).copy() if arr.ndim == 0 else arr

        ids = self.rng.permutation(np.arange(self.serial, self.serial + n)) if n else []
        self.serial += n
        # random-looking ids so order of ids says nothing about time
        self.cols["rid"].append(
            np.array([f"r{(i * 2654435761) % 4294967296:08x}{i:07d}" for i in ids], dtype=object)
        )
        self.cols["role"].append(full(role))
        self.cols["rater"].append(full(rater))
        self.cols["ratee"].append(full(ratee))
        self.cols["t"].append(full(t, float))
        self.cols["dur"].append(full(dur, float))
        self.cols["device"].append(full(device))
        self.cols["ticket"].append(full(ticket))
        self.cols["channel"].append(full(channel))
        padded = np.full((n, 6), np.nan)
        padded[:, : scores.shape[1]] = scores
        self.items.append(padded)
        self.item_names.append(tuple(names) + ("",) * (6 - len(names)))
        self.kind.append(full(kind))


def generate(
    n_units: int = 60, seed: int = 7, public_per_staff: float = 120.0, days: int = 20
) -> Campaign:
    rng = np.random.default_rng(seed)
    b = _Builder(rng)
    sizes = rng.integers(8, 15, n_units)
    n_staff = int(sizes.sum())
    unit = np.repeat(np.arange(n_units), sizes)
    staff = np.array([f"S{i:06d}" for i in range(n_staff)], dtype=object)
    quality = np.clip(rng.normal(3.6, 0.55, n_staff), 2.0, 4.8)
    public_quality = np.clip(quality + rng.normal(0.3, 0.3, n_staff), 2.0, 4.9)

    # ----- public ratings -----------------------------------------------------------
    counts = rng.poisson(public_per_staff, n_staff)
    who = np.repeat(np.arange(n_staff), counts)
    n = len(who)
    day = rng.integers(0, days, n)
    day = day + (day // 6)  # Monday..Saturday
    t = CAMPAIGN_START + day * DAY + rng.uniform(8.5, 17.5, n) * 3600
    qr = rng.random(n) < 0.6
    overall = _round(public_quality[who] + rng.normal(0, PUBLIC_SD, n))
    extra = _round(overall[:, None] + rng.normal(0, 0.7, (n, 2)))
    dur = np.where(qr, rng.lognormal(np.log(25), 0.35, n), np.nan)
    device = np.array([f"d{x:09d}" for x in rng.integers(0, 10**9, n)], dtype=object)
    ticket = np.where(
        rng.random(n) < 0.7, np.array([f"T{i:08d}" for i in range(n)], dtype=object), ""
    )
    kinds = np.full(n, "", dtype=object)
    u = rng.random(n)
    # contamination by replacing honest public responses
    speeder = qr & (u < 0.03)
    bot = qr & (u >= 0.03) & (u < 0.035)
    off = (u >= 0.035) & (u < 0.045)
    dur[speeder] = 25 * rng.uniform(0.08, 0.2, speeder.sum())
    overall[speeder] = rng.integers(3, 6, speeder.sum())
    dur[bot] = rng.uniform(0.1, 0.9, bot.sum())
    overall[bot] = 5
    late = rng.random(off.sum()) < 0.5
    t[off] = np.where(
        late,
        CAMPAIGN_START + day[off] * DAY + rng.uniform(20.5, 23.9, off.sum()) * 3600,
        CAMPAIGN_START + (day[off] // 7 * 7 + 6) * DAY + rng.uniform(9, 17, off.sum()) * 3600,
    )
    overall[off] = 5
    kinds[speeder], kinds[bot], kinds[off] = "speeder", "bot", "off_hours"
    extra[speeder | bot | off] = overall[speeder | bot | off, None]
    scores = np.column_stack([overall, np.where(qr[:, None], extra, np.nan)])
    b.add(
        n,
        "public",
        "",
        staff[who],
        t,
        dur,
        device,
        ticket,
        np.where(qr, "qr", "device"),
        scores,
        PUBLIC_ITEMS,
        kinds,
    )

    # duplicates: resubmissions of 2% of honest responses, by ticket or the same phone
    # (a counter device's fingerprint is every citizen's, so it cannot show a duplicate)
    honest = np.flatnonzero((kinds == "") & ((ticket != "") | qr))
    src = rng.choice(honest, int(0.02 * n), replace=False)
    same_ticket = ticket[src] != ""
    b.add(
        len(src),
        "public",
        "",
        staff[who[src]],
        t[src] + rng.uniform(60, 600, len(src)),
        dur[src],
        np.where(same_ticket, "", device[src]),
        ticket[src],
        np.where(qr[src], "qr", "device"),
        scores[src],
        PUBLIC_ITEMS,
        "duplicate",
    )

    # default ratings a platform filled in automatically: never counted
    m = int(0.10 * n)
    tgt = rng.integers(0, n_staff, m)
    b.add(
        m,
        "public",
        "",
        staff[tgt],
        CAMPAIGN_START + rng.integers(0, days, m) * DAY + 12 * 3600,
        np.nan,
        "",
        "",
        "default",
        np.full((m, 1), 5.0),
        ("overall",),
        "",
    )

    # bursts: a few windows get 8-20 top ratings in a few minutes from 1-3 devices
    stuffed = rng.choice(n_staff, max(1, n_staff // 50), replace=False)
    served: dict[tuple[str, float], int] = {}
    for s in stuffed.tolist():
        k = int(rng.integers(8, 21))
        start = CAMPAIGN_START + int(rng.integers(0, days)) * DAY + rng.uniform(9, 16) * 3600
        devs = np.array([f"x{s}-{j}" for j in rng.integers(0, rng.integers(1, 4), k)], dtype=object)
        bt = start + np.sort(rng.uniform(0, 360, k))
        b.add(
            k,
            "public",
            "",
            staff[s],
            bt,
            rng.lognormal(np.log(20), 0.3, k),
            devs,
            "",
            "qr",
            np.full((k, 3), 5.0),
            PUBLIC_ITEMS,
            "burst",
        )
        hour = np.floor(bt / 3600) * 3600
        for h in np.unique(hour).tolist():
            served[(str(staff[s]), h)] = 4  # the queue served only a handful then

    # scripted praise: a few windows get 8-12 top ratings over three days, each from its
    # own phone, all carrying one pasted comment with small edits (see _comments)
    for s_idx in rng.choice(n_staff, max(1, n_staff // 60), replace=False).tolist():
        k = int(rng.integers(8, 13))
        day_s = int(rng.integers(0, days - 3))
        t_s = CAMPAIGN_START + (day_s + rng.integers(0, 3, k)) * DAY + rng.uniform(9, 17, k) * 3600
        b.add(
            k,
            "public",
            "",
            staff[s_idx],
            t_s,
            rng.lognormal(np.log(25), 0.35, k),
            np.array([f"sp{s_idx}-{j}" for j in range(k)], dtype=object),
            "",
            "qr",
            np.full((k, 3), 5.0),
            PUBLIC_ITEMS,
            "scripted",
        )

    # ----- field interviews (agency method): rater = interviewer pseudonym -----------
    # honest interviewers record what citizens say; one per ~20 units inflates by
    # about one level, and one spends a day recording only top ratings
    n_int = max(3, n_units // 10)
    for j in range(n_int):
        k = 30
        who_int = rng.integers(0, n_staff, k)
        day_int = rng.integers(0, days, k)
        day_int = day_int + day_int // 6
        level = public_quality[who_int] + rng.normal(0, PUBLIC_SD, k)
        kind = ""
        if j % 10 == 1:  # inflates
            level = level + 1.2
            kind = "interviewer"
        if j % 10 == 2:  # one day of only top ratings, all at one hall's windows
            day_int[:] = day_int[0]
            level = np.full(k, 5.0)
            kind = "interviewer"
        overall_int = _round(level)
        extra_int = _round(overall_int[:, None] + rng.normal(0, 0.7, (k, 2)))
        b.add(
            k,
            "public",
            f"I{j:03d}",
            staff[who_int],
            CAMPAIGN_START + day_int * DAY + rng.uniform(9, 17, k) * 3600,
            rng.lognormal(np.log(120), 0.3, k),
            "",
            "",
            "interview",
            np.column_stack([overall_int, extra_int]),
            PUBLIC_ITEMS,
            kind,
        )

    # ----- peer, superior and self ratings ------------------------------------------
    rater_bias = rng.normal(0, RATER_SD, n_staff)
    rater_kind = np.full(n_staff, "", dtype=object)
    r = rng.random(n_staff)
    for lo, hi, name in (
        (0.00, 0.07, "lenient"),
        (0.07, 0.12, "severe"),
        (0.12, 0.15, "central"),
        (0.15, 0.18, "halo"),
        (0.18, 0.21, "misfit"),
        (0.21, 0.24, "straightline"),
    ):
        rater_kind[(r >= lo) & (r < hi)] = name
    rater_bias[rater_kind == "lenient"] = rng.uniform(0.9, 1.5, (rater_kind == "lenient").sum())
    rater_bias[rater_kind == "severe"] = -rng.uniform(0.9, 1.5, (rater_kind == "severe").sum())

    # collusion: reciprocal pairs and cliques among ordinary raters of one unit
    partner_group = np.full(n_staff, -1)
    group_kind: list[str] = []
    for g_unit in rng.permutation(n_units).tolist():
        members = np.flatnonzero((unit == g_unit) & (rater_kind == "") & (quality < 4.0))
        if len(members) < 5:
            continue
        size = 2 if rng.random() < 0.6 else int(rng.integers(3, 5))
        chosen = rng.choice(members, size, replace=False)
        partner_group[chosen] = len(group_kind)
        group_kind.append("reciprocal" if size == 2 else "clique")
        if len(group_kind) >= max(2, n_units // 6):
            break

    starts = np.concatenate([[0], np.cumsum(sizes)])
    pr, pe = [], []
    for g_unit in range(n_units):
        members = np.arange(starts[g_unit], starts[g_unit + 1])
        a, c = np.meshgrid(members, members, indexing="ij")
        keep = a != c
        pr.append(a[keep])
        pe.append(c[keep])
    rater_idx, ratee_idx = np.concatenate(pr), np.concatenate(pe)
    m = len(rater_idx)
    level = quality[ratee_idx] + rater_bias[rater_idx] + rng.normal(0, RESPONSE_SD, m)
    items = _round(level[:, None] + rng.normal(0, ITEM_SD, (m, 6)))
    kinds = rater_kind[rater_idx].copy()
    rk = rater_kind[rater_idx]
    items[rk == "central"] = _round(3 + rng.normal(0, 0.3, ((rk == "central").sum(), 6)))
    items[rk == "halo"] = _round(
        level[rk == "halo", None] + rng.normal(0, 0.2, ((rk == "halo").sum(), 6))
    )
    items[rk == "misfit"] = rng.integers(1, 6, ((rk == "misfit").sum(), 6))
    items[rk == "straightline"] = _round(level[rk == "straightline", None]).repeat(6, 1)
    # hostile outliers against good colleagues by otherwise ordinary raters
    hostile = (rk == "") & (quality[ratee_idx] >= 3.3) & (rng.random(m) < 0.015)
    items[hostile] = _round(1 + np.abs(rng.normal(0, 0.4, (hostile.sum(), 6))))
    kinds[hostile] = "outlier"
    # collusive ratings between members of the same group
    pg = partner_group[rater_idx]
    mutual = (pg >= 0) & (pg == partner_group[ratee_idx])
    boost = _round(quality[ratee_idx[mutual], None] + 1.8 + rng.normal(0, 0.4, (mutual.sum(), 6)))
    items[mutual] = boost
    kinds[mutual] = np.array([group_kind[g] for g in pg[mutual]], dtype=object)
    dur = rng.lognormal(np.log(90), 0.35, m)
    b.add(
        m,
        "peer",
        staff[rater_idx],
        staff[ratee_idx],
        np.nan,
        dur,
        "",
        "",
        "link",
        items,
        PEER_ITEMS,
        kinds,
    )

    # superiors: one leader per unit rates everyone in it
    leaders = np.array([f"L{g:05d}" for g in range(n_units)], dtype=object)
    lead_bias = rng.normal(0, RATER_SD, n_units)
    lead_kind = np.where(rng.random(n_units) < 0.1, "lenient", "")
    lead_bias[lead_kind == "lenient"] = rng.uniform(0.9, 1.5, (lead_kind == "lenient").sum())
    level = quality + lead_bias[unit] + rng.normal(0, RESPONSE_SD, n_staff)
    items = _round(level[:, None] + rng.normal(0, ITEM_SD, (n_staff, 6)))
    b.add(
        n_staff,
        "superior",
        leaders[unit],
        staff,
        np.nan,
        rng.lognormal(np.log(90), 0.35, n_staff),
        "",
        "",
        "link",
        items,
        PEER_ITEMS,
        lead_kind[unit],
    )

    # self ratings: everyone is a little kind to themselves; never judged
    level = quality + 0.4 + rng.normal(0, RESPONSE_SD, n_staff)
    items = _round(level[:, None] + rng.normal(0, ITEM_SD, (n_staff, 6)))
    b.add(
        n_staff,
        "self",
        staff,
        staff,
        np.nan,
        rng.lognormal(np.log(90), 0.35, n_staff),
        "",
        "",
        "link",
        items,
        PEER_ITEMS,
        "",
    )

    # ----- truth ----------------------------------------------------------------------
    peer_truth = expected_rounded(quality, np.sqrt(RATER_SD**2 + RESPONSE_SD**2 + ITEM_SD**2))
    public_truth = expected_public_composite(public_quality)
    truth: dict[tuple[str, str], float] = {}
    for i, name in enumerate(staff.tolist()):
        truth[(name, "public")] = float(public_truth[i])
        truth[(name, "peer")] = float(peer_truth[i])
        truth[(name, "superior")] = float(peer_truth[i])

    return _assemble(b, truth, served, rng)


def _assemble(b: _Builder, truth, served, rng) -> Campaign:
    cols = {k: np.concatenate(v) for k, v in b.cols.items()}
    items = np.concatenate(b.items)
    names = np.concatenate(
        [
            np.array([nm] * len(blk), dtype=object)
            for nm, blk in zip(b.item_names, b.items, strict=True)
        ]
    )
    kind = np.concatenate(b.kind)
    present = ~np.isnan(items)
    resp, slot = np.nonzero(present)
    honeypot_ids = set()
    bots = np.flatnonzero(kind == "bot")
    honeypot_ids = set(cols["rid"][bots[: len(bots) // 2]].tolist())
    ratings = Ratings(
        response_id=cols["rid"][resp],
        role=cols["role"][resp],
        rater=cols["rater"][resp],
        ratee=cols["ratee"][resp],
        item=names[resp, slot],
        score=items[resp, slot],
        submitted_at=cols["t"][resp],
        duration_s=cols["dur"][resp],
        device=cols["device"][resp],
        ticket=cols["ticket"][resp],
        channel=cols["channel"][resp],
    )
    # shuffle rows: the cleaner must not rely on order
    perm = rng.permutation(len(ratings))
    ratings = Ratings(
        **{
            k: None if getattr(ratings, k) is None else getattr(ratings, k)[perm]
            for k in ratings.__dataclass_fields__
        }
    )
    comment_of = _comments(cols, kind, rng)
    ratings.comment = np.array(
        [comment_of.get(r, "") for r in ratings.response_id.tolist()], dtype=object
    )
    return Campaign(
        ratings=ratings,
        truth=truth,
        kind=dict(zip(cols["rid"].tolist(), kind.tolist(), strict=True)),
        honeypot=honeypot_ids,
        ticket_counts=served,
    )


STOCK_PHRASES = (  # what many honest citizens write, everywhere
    "服务态度很好，办事效率高，非常满意",
    "工作人员耐心细致，一次性告知，点赞",
    "流程清楚，等候时间不长，满意",
)
FRAGMENTS = (
    ("窗口的工作人员", "今天办理时", "这次来办事", "上午来的时候", "第二次来"),
    ("讲解很清楚", "帮我核对了材料", "主动提醒了缺的证明", "态度一般", "有点慢但很耐心"),
    ("，希望大厅多设座位", "，停车不太方便", "，给个好评", "，叫号屏看不清", "，谢谢"),
)


def _comments(cols, kind, rng) -> dict[str, str]:
    """Comments: 15 % of honest QR citizens write one (a third of those a stock phrase,
    the rest their own words); scripted responses paste one template per window with a
    character or two changed."""
    out: dict[str, str] = {}
    qr = (cols["channel"] == "qr") & (cols["role"] == "public")
    for i in np.flatnonzero(qr & (kind == "") & (rng.random(len(kind)) < 0.15)).tolist():
        if rng.random() < 1 / 3:
            out[cols["rid"][i]] = STOCK_PHRASES[int(rng.integers(len(STOCK_PHRASES)))]
        else:
            parts = [f[int(rng.integers(len(f)))] for f in FRAGMENTS]
            out[cols["rid"][i]] = f"{parts[0]}{int(rng.integers(1, 60))}号{parts[1]}{parts[2]}"
    for window in np.unique(cols["ratee"][kind == "scripted"]).tolist():
        template = f"{window}号窗口的同志业务精通热情周到真心为群众办实事必须给五星好评"
        for i in np.flatnonzero((kind == "scripted") & (cols["ratee"] == window)).tolist():
            text = list(template)
            for _ in range(int(rng.integers(0, 3))):  # small edits
                text[int(rng.integers(len(text)))] = "很"
            out[cols["rid"][i]] = "".join(text) + "！" * int(rng.integers(0, 3))
    return out


def write_csv(ratings: Ratings, path: str) -> None:
    """Writes the DESIGN.md section 5 CSV (local ISO timestamps, UTC+8)."""
    stamps: dict[float, str] = {}

    def iso(x: float) -> str:
        if x != x:
            return ""
        s = stamps.get(x)
        if s is None:
            s = dt.datetime.fromtimestamp(x + OFFSET, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            stamps[x] = s
        return s

    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(
            [
                "response_id",
                "role",
                "rater",
                "ratee",
                "item",
                "score",
                "submitted_at",
                "duration_s",
                "device",
                "ticket",
                "channel",
            ]
        )
        dur = [("" if d != d else f"{d:.1f}") for d in ratings.duration_s.tolist()]
        w.writerows(
            zip(
                ratings.response_id.tolist(),
                ratings.role.tolist(),
                ratings.rater.tolist(),
                ratings.ratee.tolist(),
                ratings.item.tolist(),
                [str(int(s)) for s in ratings.score.tolist()],
                [iso(x) for x in ratings.submitted_at.tolist()],
                dur,
                ratings.device.tolist(),
                ratings.ticket.tolist(),
                ratings.channel.tolist(),
                strict=True,
            )
        )
