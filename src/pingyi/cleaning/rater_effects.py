"""Stage 2: rater effects for raters who rate several ratees (peers, superiors).

Within a unit (the colleagues who rate one another: a connected group of the peer
rating graph) a peer's response scores ``unit level + rater bias + ratee quality +
noise``, fitted jointly by ridge regression (backfitting: linear in the data) with a
Huber refit. When everyone in a unit rates everyone in it and nobody outside,
a strong unit and a lenient one look the same, so biases are centred on the unit's
median rater: a rater is corrected only relative to colleagues, and the unit keeps the
level its ratings give it. Other rater roles (superiors) are judged second, against
the peers' view of the same ratees, with one offset per role.

Decisions, each backed by evidence stated in its detail:

- LENIENT / SEVERE (adjust): the bias is large and many standard errors from zero.
- CENTRAL (downweight): the rater's scores hardly follow what colleagues gave the same
  ratees (slope on the leave-one-out consensus, with its standard error), although
  those ratees differ enough to tell. A unit rated high by everyone is no evidence.
- HALO (downweight): items within the rater's forms differ far less than in other
  raters' forms for the same ratees; a ceiling (all 5s for a strong colleague that
  everyone shares) is not halo.
- MISFIT (downweight): items within the rater's forms scatter far more than in other
  raters' forms for the same ratees, and the scores do not follow the consensus; a
  rater's scale use (stretching or compressing) still follows, so it is not misfit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .config import CleaningConfig, RaterEffectsConfig
from .ledger import Ledger
from .responses import ResponseTable, group_median
from .types import DEFAULT_CHANNEL


@dataclass
class RaterModel:
    mask: np.ndarray  # responses in the model
    intercept: np.ndarray  # per response: its unit level (+ role offset), NaN outside
    bias: np.ndarray  # per rater code, relative to the unit's median rater (0 unknown)
    bias_se: np.ndarray  # per rater code
    n_used: np.ndarray  # per rater code: responses in the model
    n_eff: np.ndarray  # per rater code: their weight in the model (responses x weight)
    quality: np.ndarray  # per ratee code, relative to its unit level
    sigma: float  # robust residual sd of a response score
    fitted: np.ndarray  # per response (NaN outside the model)
    unit: np.ndarray  # per ratee code: its unit, -1 when no peer rated it
    level_gap: np.ndarray  # other roles' responses: score - unit level - quality (else NaN)


def model_mask(table: ResponseTable, weight: np.ndarray, cfg: CleaningConfig) -> np.ndarray:
    return (
        np.isin(table.role, cfg.rater_effects.roles)
        & (table.rater_code >= 0)
        & ~table.self_rated
        & (table.channel != DEFAULT_CHANNEL)
        & (weight > 0)
    )


def peer_units(table: ResponseTable, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(unit per ratee code, unit per rater code, number of units) from the peer graph."""
    n_ratees, n_raters = len(table.ratees), len(table.raters)
    person = table.person_code_of_rater[table.rater_code[rows]]
    rater_node = np.where(person >= 0, person, n_ratees + table.rater_code[rows])
    n_nodes = n_ratees + n_raters
    graph = sparse.coo_matrix(
        (np.ones(len(rows)), (rater_node, table.ratee_code[rows])), shape=(n_nodes, n_nodes)
    )
    _, label = connected_components(graph, directed=False)
    in_graph = np.zeros(n_nodes, bool)
    in_graph[rater_node] = True
    in_graph[table.ratee_code[rows]] = True
    used, dense = np.unique(label[in_graph], return_inverse=True)
    unit_of_node = np.full(n_nodes, -1)
    unit_of_node[in_graph] = dense
    person_all = table.person_code_of_rater
    rater_nodes = np.where(person_all >= 0, person_all, n_ratees + np.arange(n_raters))
    return unit_of_node[:n_ratees], unit_of_node[rater_nodes], len(used)


def _ridge_fit(
    y: np.ndarray,
    w: np.ndarray,
    blocks: list[tuple[np.ndarray, int, float]],
    row_unit: np.ndarray,
    c: RaterEffectsConfig,
    robust: bool,
    sigma: float | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted ridge least squares with one penalty per block of dummy columns.

    ``blocks``: (column index per row, number of columns, ridge; 0 = unpenalised).
    Solved by block coordinate descent (backfitting): each block is the weighted mean
    of what the others leave, shrunk by its ridge. Every sweep is a few bincounts over
    the rows, so the fit is linear in the data and separates by unit. Each unit
    (``row_unit``) stops sweeping once its own coefficients settle, so a unit's fit is
    the same whichever other units share the table (partitions depend on it). Returns
    (coefficients per block concatenated, residuals, robust sigma). A given ``sigma``
    (the campaign's, when a partition is fitted) sets the robust weights instead of
    this fit's own residuals.
    """
    m = len(y)
    n_units = int(row_unit.max()) + 1 if m else 1
    coefs = [np.zeros(size) for _, size, _ in blocks]
    # the unit of each coefficient (every row of one coefficient is in one unit)
    coef_unit = []
    for idx, size, _ in blocks:
        unit = np.zeros(size, np.int64)
        unit[idx] = row_unit
        coef_unit.append(unit)
    robust_w = np.ones(m)
    resid = y.copy()
    fixed = sigma
    sigma = 0.5 if fixed is None else fixed
    for _ in range(1 + (c.robust_iterations if robust else 0)):
        rw = w * robust_w
        totals = [np.bincount(idx, weights=rw, minlength=size) for idx, size, _ in blocks]
        fit = sum((coef[idx] for coef, (idx, _, _) in zip(coefs, blocks, strict=True)), np.zeros(m))
        settled = np.zeros(n_units, bool)
        for _sweep in range(c.max_sweeps):
            moving = np.zeros(n_units)
            for k, (idx, size, ridge) in enumerate(blocks):
                partial = y - fit + coefs[k][idx]
                sums = np.bincount(idx, weights=rw * partial, minlength=size)
                new = np.where(totals[k] > 0, sums / (totals[k] + ridge), 0.0)
                new = np.where(settled[coef_unit[k]], coefs[k], new)
                change = new - coefs[k]
                fit += change[idx]
                coefs[k] = new
                moved = np.abs(change) >= c.tolerance
                moving += np.bincount(coef_unit[k], weights=moved, minlength=n_units)
            settled |= moving == 0
            if settled.all():
                break
        resid = y - fit
        if fixed is None:
            sigma = max(1.4826 * float(np.median(np.abs(resid))) if m else 0.5, 0.1)
        robust_w = np.minimum(1.0, c.huber_k * sigma / np.maximum(np.abs(resid), 1e-12))
    return np.concatenate(coefs), resid, sigma


def fit_rater_model(
    table: ResponseTable,
    weight: np.ndarray,
    cfg: CleaningConfig,
    robust: bool = True,
    sigma: float | None = None,
    role_offsets: Mapping[str, float] | None = None,
) -> RaterModel:
    """The model on one table. A partition passes the campaign's ``sigma`` and each
    other role's offset from the peers' view (``role_offsets``); alone, a table
    estimates both from its own rows."""
    c = cfg.rater_effects
    mask = model_mask(table, weight, cfg)
    n_raters, n_ratees = len(table.raters), len(table.ratees)
    peer_rows = np.flatnonzero(mask & (table.role == c.unit_role))
    ratee_unit, rater_unit, n_units = peer_units(table, peer_rows)

    rater = table.rater_code[peer_rows]
    ratee = table.ratee_code[peer_rows]
    coef, _, sigma = _ridge_fit(
        table.score[peer_rows],
        weight[peer_rows],
        [
            (ratee_unit[ratee], n_units, 0.0),
            (rater, n_raters, c.ridge_rater),
            (ratee, n_ratees, c.ridge_ratee),
        ],
        ratee_unit[ratee],
        c,
        robust,
        sigma,
    )
    level = coef[:n_units]
    bias = coef[n_units : n_units + n_raters].copy()
    quality = coef[n_units + n_raters :].copy()
    # centre each unit's biases on its median rater: only differences between
    # colleagues are identified, and a unit's level belongs to the unit
    n_used = np.bincount(rater, minlength=n_raters)
    peer_raters = np.flatnonzero((n_used > 0) & (rater_unit >= 0))
    centre = group_median(rater_unit[peer_raters], bias[peer_raters], n_units)
    centre = np.nan_to_num(centre)
    bias[peer_raters] -= centre[rater_unit[peer_raters]]
    level = level + centre

    intercept = np.full(len(table), np.nan)
    level_gap = np.full(len(table), np.nan)  # other roles: score - unit level - quality
    intercept[peer_rows] = level[ratee_unit[ratee]]
    n_eff = np.bincount(rater, weights=weight[peer_rows], minlength=n_raters)
    spread = np.full(n_raters, sigma)  # residual sd behind each rater's bias

    # other roles (superiors): against the peers' view of the same ratees
    other = mask & (table.role != c.unit_role) & (ratee_unit[table.ratee_code] >= 0)
    # a peer keeps the bias their peer ratings show (the pad reads for unknown raters)
    other &= np.append(n_used, 1)[table.rater_code] == 0
    rows = np.flatnonzero(other)
    mask = np.zeros(len(table), bool)
    mask[peer_rows] = True
    if len(rows):
        unit_level = level[ratee_unit[table.ratee_code[rows]]]
        gap = table.score[rows] - unit_level - quality[table.ratee_code[rows]]
        roles, role_code = np.unique(table.role[rows].astype(str), return_inverse=True)
        offset = group_median(role_code, gap, len(roles))
        if role_offsets is not None:
            offset = np.array([role_offsets.get(r, o) for r, o in zip(roles, offset, strict=True)])
        level_gap[rows] = gap
        deviation = gap - offset[role_code]
        code = table.rater_code[rows]
        w = weight[rows]
        sums = np.bincount(code, weights=w * deviation, minlength=n_raters)
        n_other = np.bincount(code, weights=w, minlength=n_raters)
        has = n_other > 0
        bias[has] = sums[has] / (n_other[has] + c.ridge_rater)
        # the peers' view of each ratee is itself uncertain: judge a superior's bias by
        # the scatter of their own deviations, never by the peers' residual alone
        mean_dev = sums / np.maximum(n_other, 1e-9)
        scatter = np.bincount(
            code, weights=w * (deviation - mean_dev[code]) ** 2, minlength=n_raters
        )
        spread[has] = np.sqrt(np.maximum(scatter[has] / np.maximum(n_other[has] - 1, 1), sigma**2))
        n_used = n_used + np.bincount(code, minlength=n_raters)
        n_eff = n_eff + n_other
        intercept[rows] = unit_level + offset[role_code]
        mask[rows] = True

    fitted = np.full(len(table), np.nan)
    in_model = np.flatnonzero(mask)
    fitted[in_model] = (
        intercept[in_model] + bias[table.rater_code[in_model]] + quality[table.ratee_code[in_model]]
    )
    return RaterModel(
        mask=mask,
        intercept=intercept,
        bias=bias,
        bias_se=spread / np.sqrt(n_eff + c.ridge_rater),
        n_used=n_used,
        n_eff=n_eff,
        quality=quality,
        sigma=sigma,
        fitted=fitted,
        unit=ratee_unit,
        level_gap=level_gap,
    )


@dataclass
class RaterReading:
    """Each rater's scores regressed on what colleagues gave the same ratees."""

    n: np.ndarray  # per rater: responses with a consensus to compare with
    slope: np.ndarray
    slope_se: np.ndarray
    range_sd: np.ndarray  # sd of the consensus over the rater's ratees
    own_sd: np.ndarray  # sd of the rater's own scores over the same ratees


def read_raters(table: ResponseTable, model: RaterModel) -> RaterReading:
    n_raters, n_ratees = len(table.raters), len(table.ratees)
    rows = np.flatnonzero(model.mask)
    rater = table.rater_code[rows]
    ratee = table.ratee_code[rows]
    y = table.score[rows]
    adjusted = y - model.bias[rater] - model.intercept[rows]
    total = np.bincount(ratee, weights=adjusted, minlength=n_ratees)
    count = np.bincount(ratee, minlength=n_ratees)
    others = count[ratee] - 1
    usable = others >= 2
    x = np.where(usable, (total[ratee] - adjusted) / np.maximum(others, 1), 0.0)
    x = x + model.intercept[rows]  # back on the rating scale
    r, xs, ys = rater[usable], x[usable], y[usable]
    n = np.bincount(r, minlength=n_raters).astype(float)
    safe = np.maximum(n, 1)
    mx = np.bincount(r, weights=xs, minlength=n_raters) / safe
    my = np.bincount(r, weights=ys, minlength=n_raters) / safe
    sxx = np.bincount(r, weights=(xs - mx[r]) ** 2, minlength=n_raters)
    sxy = np.bincount(r, weights=(xs - mx[r]) * (ys - my[r]), minlength=n_raters)
    syy = np.bincount(r, weights=(ys - my[r]) ** 2, minlength=n_raters)
    slope = np.where(sxx > 1e-9, sxy / np.maximum(sxx, 1e-9), 0.0)
    resid_var = np.maximum(syy - slope * sxy, 0.0) / np.maximum(n - 2, 1)
    slope_se = np.sqrt(resid_var / np.maximum(sxx, 1e-9))
    return RaterReading(
        n=n,
        slope=slope,
        slope_se=slope_se,
        range_sd=np.sqrt(sxx / safe),
        own_sd=np.sqrt(syy / safe),
    )


def flag_rater_effects(
    table: ResponseTable, model: RaterModel, cfg: CleaningConfig, ledger: Ledger
) -> None:
    c = cfg.rater_effects
    n_raters, n_ratees = len(table.raters), len(table.ratees)
    rows = np.flatnonzero(model.mask)
    code = table.rater_code[rows]
    judged = model.n_used >= c.min_ratings
    # a pattern (central, halo, misfit) needs more forms than a level (lenient, severe)
    patterned = model.n_used >= c.min_ratings_pattern
    in_roles = np.isin(table.role, c.roles) & (table.rater_code >= 0)
    order = np.argsort(table.rater_code[in_roles], kind="stable")
    all_rows = np.flatnonzero(in_roles)[order]
    bounds = np.searchsorted(table.rater_code[all_rows], np.arange(n_raters + 1))

    def targets(r: int) -> np.ndarray:
        return all_rows[bounds[r] : bounds[r + 1]]

    # leniency / severity relative to colleagues: adjust
    z = model.bias / model.bias_se
    lenient = judged & (model.bias >= c.bias_min) & (z >= c.bias_z)
    severe = judged & (model.bias <= -c.bias_min) & (z <= -c.bias_z)
    for r in np.flatnonzero(lenient | severe).tolist():
        # the ridge guarded the decision; once the evidence is strong, the correction is
        # the rater's own average gap, not its shrunken estimate
        n_eff = float(model.n_eff[r])
        b = float(model.bias[r]) * (n_eff + c.ridge_rater) / max(n_eff, 1e-9)
        word, reason = ("高", "LENIENT") if b > 0 else ("低", "SEVERE")
        ledger.add_rater_flag(
            reason,
            "adjust",
            str(table.raters[r]),
            targets(r),
            f"该评价人的 {model.n_used[r]} 份评分比同单位其他评价人对同一对象的评分平均{word} "
            f"{abs(b):.2f} 分（约 {abs(z[r]):.1f} 个标准误），已从其每个评分中扣除该偏差",
            weight=1.0,
            shift=b,
        )

    # central tendency: scores that do not follow what colleagues see
    reading = read_raters(table, model)
    # (a random rater does not follow either, but spreads: that is misfit, not central)
    central = (
        patterned
        & (reading.n >= c.min_ratings_pattern)
        & (reading.range_sd >= c.central_min_range)
        & (reading.slope < c.central_ratio)
        & (reading.own_sd < c.central_spread * reading.range_sd)
    )
    for r in np.flatnonzero(central).tolist():
        ledger.add_rater_flag(
            "CENTRAL",
            "downweight",
            str(table.raters[r]),
            targets(r),
            f"其他人对这 {reading.n[r]:.0f} 个对象的评价相差明显（标准差 "
            f"{reading.range_sd[r]:.2f} 分），该评价人的评分几乎不随之变化（斜率 "
            f"{reading.slope[r]:.2f} ± {reading.slope_se[r]:.2f}，正常约为 1；自身标准差仅 "
            f"{reading.own_sd[r]:.2f} 分），几乎不区分对象",
            weight=c.central_weight,
        )

    # halo: items within a form do not differ although others' forms for the same
    # ratees do; a shared ceiling (everyone gives all 5s) is no evidence
    multi = table.n_items[rows] >= 3
    ratee = table.ratee_code[rows]
    sd_total = np.bincount(ratee[multi], weights=table.item_sd[rows][multi], minlength=n_ratees)
    sd_count = np.bincount(ratee[multi], minlength=n_ratees)
    others = sd_count[ratee] - multi
    expected_sd = np.where(
        others > 0, (sd_total[ratee] - table.item_sd[rows] * multi) / np.maximum(others, 1), 0.0
    )
    forms = np.bincount(code[multi], minlength=n_raters)
    per_form = np.maximum(forms, 1).astype(float)
    item_sd = np.bincount(code[multi], weights=table.item_sd[rows][multi], minlength=n_raters)
    item_sd = item_sd / per_form
    expected = np.bincount(code[multi], weights=expected_sd[multi], minlength=n_raters) / per_form
    halo = (
        patterned
        & ~central
        & (forms >= c.min_ratings_pattern)
        & (expected >= c.halo_min_expected)
        & (item_sd < c.halo_ratio * expected)
    )
    for r in np.flatnonzero(halo).tolist():
        ledger.add_rater_flag(
            "HALO",
            "downweight",
            str(table.raters[r]),
            targets(r),
            f"该评价人在同一问卷内各题评分的平均标准差仅 {item_sd[r]:.2f}，"
            f"而其他人对同样对象的问卷为 {expected[r]:.2f}，各题跟随总体印象，分项信息很少",
            weight=c.halo_weight,
        )

    # misfit: careless answers. Items within the rater's forms scatter far more than in
    # other raters' forms for the same ratees, and their scores do not follow what
    # colleagues see. Scale use (stretching or compressing) keeps following: not misfit.
    follows = reading.slope * reading.range_sd / np.maximum(reading.own_sd, 1e-9)
    scatter = item_sd / np.maximum(expected, 1e-9)
    misfit = (
        patterned
        & ~central
        & (forms >= c.min_ratings_pattern)
        & (expected > 0)
        & (scatter >= c.misfit_ratio)
        & (follows < c.misfit_max_correlation)
    )
    for r in np.flatnonzero(misfit).tolist():
        weight = float(min(c.misfit_max_weight, 1.0 / scatter[r] ** 2))
        ledger.add_rater_flag(
            "MISFIT",
            "downweight",
            str(table.raters[r]),
            targets(r),
            f"该评价人同一问卷内各题评分的平均标准差为 {item_sd[r]:.2f}，是其他人对同样对象问卷"
            f"（{expected[r]:.2f}）的 {scatter[r]:.1f} 倍，且其评分与其他人的共识几乎无关"
            f"（相关系数 {follows[r]:.2f}），像是随意作答，权重降为 {weight:.2f}",
            weight=weight,
        )


def rater_bias_table(
    table: ResponseTable, model: RaterModel, cfg: CleaningConfig
) -> dict[str, float]:
    judged = model.n_used >= cfg.rater_effects.min_ratings
    return {str(table.raters[r]): round(float(model.bias[r]), 4) for r in np.flatnonzero(judged)}
