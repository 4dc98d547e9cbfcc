"""Stage 5: per ratee and role, the cleaned weighted mean, its interval and the k rule."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .config import CleaningConfig
from .ledger import Ledger
from .responses import ResponseTable
from .types import DEFAULT_CHANNEL, ROLES, ScoreRow


def aggregate(
    table: ResponseTable, cfg: CleaningConfig, ledger: Ledger, fallbacks: list[tuple[str, str]]
) -> list[ScoreRow]:
    """Score rows per ratee and role; appends to ``fallbacks`` the (ratee, role) pairs
    that keep their uncleaned mean because cleaning left fewer than k raters."""
    c = cfg.aggregate
    counted = table.channel != DEFAULT_CHANNEL  # automatic default ratings never count
    # rating oneself through a peer or superior form is a self rating, not a peer one
    counted &= ~(table.self_rated & (table.role != "self"))
    role_code = np.array([ROLES.index(r) for r in table.role.tolist()], dtype=np.int64)
    n_roles = len(ROLES)
    group_all = table.ratee_code * n_roles + role_code
    rows = np.flatnonzero(counted)
    group = group_all[rows]
    n_groups = len(table.ratees) * n_roles
    w = ledger.weight[rows]
    x = np.clip(table.score[rows] - ledger.shift[rows], 1.0, 5.0)
    raw = table.score[rows]

    n_resp = np.bincount(group, minlength=n_groups)
    used = w > 0
    n_used = np.bincount(group[used], minlength=n_groups)
    raw_sum = np.bincount(group, weights=raw, minlength=n_groups)
    sw = np.bincount(group, weights=w, minlength=n_groups)
    sw2 = np.bincount(group, weights=w**2, minlength=n_groups)
    swx = np.bincount(group, weights=w * x, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = swx / sw
        dev2 = np.bincount(group, weights=w * (x - mean[group]) ** 2, minlength=n_groups)
        n_eff = sw**2 / sw2
        var = dev2 / sw * n_eff / (n_eff - 1)
        se = np.sqrt(var / n_eff)
    overall = table.overall_level()[rows]
    satisfied = np.bincount(group, weights=w * (overall >= c.satisfied_min), minlength=n_groups)

    # distinct raters among used responses, for the k rule
    known = used & (table.rater_code[rows] >= 0)
    pairs = np.unique(np.stack([group[known], table.rater_code[rows][known]]), axis=1)
    distinct = np.bincount(pairs[0], minlength=n_groups) if pairs.size else np.zeros(n_groups)

    # interval half-widths for all groups at once (t quantiles are slow one by one)
    ok = (sw > 0) & (n_eff >= 2)
    half = np.full(n_groups, np.nan)
    half[ok] = stats.t.ppf(0.5 + c.confidence / 2, n_eff[ok] - 1) * se[ok]

    # a ratee whom cleaning would leave under k distinct raters, although the raw
    # ratings meet k, keeps the uncleaned estimate: no decision may silently leave a
    # score unreportable (the report lists these fallbacks)
    every = np.ones(len(rows), bool) & (table.rater_code[rows] >= 0)
    raw_pairs = np.unique(np.stack([group[every], table.rater_code[rows][every]]), axis=1)
    raw_distinct = (
        np.bincount(raw_pairs[0], minlength=n_groups) if raw_pairs.size else np.zeros(n_groups)
    )

    out: list[ScoreRow] = []
    for g in np.flatnonzero(n_resp).tolist():
        ratee, role = str(table.ratees[g // n_roles]), ROLES[g % n_roles]
        m = float(mean[g]) if sw[g] > 0 else math.nan
        lo = hi = math.nan
        if ok[g]:
            lo, hi = max(1.0, m - float(half[g])), min(5.0, m + float(half[g]))
        if role == "public":
            reportable = n_used[g] >= c.k
            satisfaction = float(satisfied[g] / sw[g]) if sw[g] > 0 else math.nan
        elif role in ("peer", "superior"):
            need = c.k if role == "peer" else c.k_superior
            reportable = distinct[g] >= need
            if not reportable and raw_distinct[g] >= need:
                fallbacks.append((ratee, role))
                reportable, n_used[g] = True, n_resp[g]
                m = float(raw_sum[g] / n_resp[g])
                lo = hi = math.nan
            satisfaction = math.nan
        else:  # self: one's own rating is no one else's secret
            reportable = n_used[g] >= 1
            satisfaction = math.nan
        out.append(
            ScoreRow(
                ratee=ratee,
                role=role,
                n_responses=int(n_resp[g]),
                n_used=int(n_used[g]),
                raw_mean=float(raw_sum[g] / n_resp[g]),
                clean_mean=m,
                ci_low=lo,
                ci_high=hi,
                score_100=(m - 1) * 25 if not math.isnan(m) else math.nan,
                satisfaction_rate=satisfaction,
                reportable=bool(reportable and not math.isnan(m)),
            )
        )
    return out


def default_channel_counts(table: ResponseTable) -> dict[str, int]:
    mask = table.channel == DEFAULT_CHANNEL
    names, counts = np.unique(table.ratee[mask].astype(str), return_counts=True)
    return {str(k): int(v) for k, v in zip(names.tolist(), counts.tolist(), strict=True)}
