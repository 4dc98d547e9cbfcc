"""Stage 2: rater effects for raters who rate several ratees (peers, superiors).

score = role intercept + rater bias + ratee quality + noise, fitted jointly by ridge
regression on a sparse design (scipy.sparse + LSQR) with a Huber refit, so a rater's
leniency is judged against what others gave the same ratees, not against the mean.
Lenient and severe raters are adjusted (bias subtracted), never thrown away; raters
whose answers carry little information (central tendency, halo, misfit) are
down-weighted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import lsqr

from .config import CleaningConfig
from .ledger import Ledger
from .responses import ResponseTable, group_median
from .types import DEFAULT_CHANNEL


@dataclass
class RaterModel:
    mask: np.ndarray  # responses in the model
    intercept: np.ndarray  # per response: its role intercept
    bias: np.ndarray  # per rater code (0 when not estimated)
    bias_se: np.ndarray  # per rater code
    n_used: np.ndarray  # per rater code: responses with weight > 0 in the model
    quality: np.ndarray  # per ratee code, relative to the role intercept
    sigma: float  # robust residual sd of a response score
    fitted: np.ndarray  # per response (NaN outside the model)


def model_mask(table: ResponseTable, weight: np.ndarray, cfg: CleaningConfig) -> np.ndarray:
    return (
        np.isin(table.role, cfg.rater_effects.roles)
        & (table.rater_code >= 0)
        & ~table.self_rated
        & (table.channel != DEFAULT_CHANNEL)
        & (weight > 0)
    )


def fit_rater_model(
    table: ResponseTable, weight: np.ndarray, cfg: CleaningConfig, robust: bool = True
) -> RaterModel:
    c = cfg.rater_effects
    mask = model_mask(table, weight, cfg)
    rows = np.flatnonzero(mask)
    n_raters, n_ratees = len(table.raters), len(table.ratees)
    roles = list(c.roles)
    role_code = np.array(
        [roles.index(r) if r in roles else 0 for r in table.role[rows].tolist()], dtype=np.int64
    )
    y = table.score[rows]
    w = weight[rows]
    m, n_roles = len(rows), len(roles)
    n_cols = n_roles + n_raters + n_ratees
    # column scaling turns LSQR's single damping into per-block ridge penalties
    scale = np.concatenate(
        [
            np.full(n_roles, 100.0),  # intercepts: practically unpenalised
            np.full(n_raters, 1 / np.sqrt(c.ridge_rater)),
            np.full(n_ratees, 1 / np.sqrt(c.ridge_ratee)),
        ]
    )
    cols = np.stack(
        [role_code, n_roles + table.rater_code[rows], n_roles + n_raters + table.ratee_code[rows]],
        axis=1,
    ).ravel()
    row_ids = np.repeat(np.arange(m), 3)
    base = sparse.csr_matrix((np.ones(3 * m), (row_ids, cols)), shape=(m, n_cols))
    base = base @ sparse.diags(scale)
    center = float(np.average(y, weights=w)) if m else 0.0
    robust_w = np.ones(m)
    coef = np.zeros(n_cols)
    sigma = 0.5
    for _ in range(1 + (c.robust_iterations if robust else 0)):
        sw = np.sqrt(w * robust_w)
        design = sparse.diags(sw) @ base
        if m:
            sol = lsqr(design, (y - center) * sw, damp=1.0, atol=1e-7, btol=1e-7, iter_lim=500)
            coef = sol[0] * scale
        pred = center + coef[role_code] + coef[n_roles + table.rater_code[rows]]
        pred = pred + coef[n_roles + n_raters + table.ratee_code[rows]]
        resid = y - pred
        sigma = max(1.4826 * float(np.median(np.abs(resid))) if m else 0.5, 0.1)
        robust_w = np.minimum(1.0, c.huber_k * sigma / np.maximum(np.abs(resid), 1e-12))
    bias = coef[n_roles : n_roles + n_raters].copy()
    quality = coef[n_roles + n_raters :].copy()
    n_eff = np.bincount(table.rater_code[rows], weights=w, minlength=n_raters)
    n_used = np.bincount(table.rater_code[rows], minlength=n_raters)
    fitted = np.full(len(table), np.nan)
    intercept = np.full(len(table), np.nan)
    fitted[rows] = pred if m else fitted[rows]
    intercept[rows] = center + coef[role_code] if m else intercept[rows]
    return RaterModel(
        mask=mask,
        intercept=intercept,
        bias=bias,
        bias_se=sigma / np.sqrt(n_eff + c.ridge_rater),
        n_used=n_used,
        quality=quality,
        sigma=sigma,
        fitted=fitted,
    )


def consensus_residual(table: ResponseTable, model: RaterModel) -> np.ndarray:
    """How far each rating sits above the ratee's consensus, beyond the rater's own habit.

    Medians on both sides: the ratee's median rating is the consensus, and the rater's
    median deviation from consensus is their habit; a colluder's few inflated ratings
    move neither, so they stand out (NaN outside the model).
    """
    rows = np.flatnonzero(model.mask)
    value = table.score[rows] - model.intercept[rows]
    ratee = table.ratee_code[rows]
    deviation = value - group_median(ratee, value, len(table.ratees))[ratee]
    rater = table.rater_code[rows]
    habit = group_median(rater, deviation, len(table.raters))[rater]
    out = np.full(len(table), np.nan)
    out[rows] = deviation - habit
    return out


def flag_rater_effects(
    table: ResponseTable, model: RaterModel, cfg: CleaningConfig, ledger: Ledger
) -> None:
    c = cfg.rater_effects
    n_raters = len(table.raters)
    rows = np.flatnonzero(model.mask)
    code = table.rater_code[rows]
    judged = model.n_used >= c.min_ratings
    in_roles = np.isin(table.role, c.roles) & (table.rater_code >= 0)
    order = np.argsort(table.rater_code[in_roles], kind="stable")
    all_rows = np.flatnonzero(in_roles)[order]
    bounds = np.searchsorted(table.rater_code[all_rows], np.arange(n_raters + 1))

    def targets(r: int) -> np.ndarray:
        return all_rows[bounds[r] : bounds[r + 1]]

    # leniency / severity: adjust
    z = model.bias / model.bias_se
    lenient = judged & (model.bias >= c.bias_min) & (z >= c.bias_z)
    severe = judged & (model.bias <= -c.bias_min) & (z <= -c.bias_z)
    for r in np.flatnonzero(lenient | severe).tolist():
        b = float(model.bias[r])
        word, reason = ("高", "LENIENT") if b > 0 else ("低", "SEVERE")
        ledger.add_rater_flag(
            reason,
            "adjust",
            str(table.raters[r]),
            targets(r),
            f"该评价人的 {model.n_used[r]} 份评分比其他人对同一对象的评分平均{word} "
            f"{abs(b):.2f} 分（约 {abs(z[r]):.1f} 个标准误），已从其每个评分中扣除该偏差",
            weight=1.0,
            shift=b,
        )

    # central tendency: hardly any spread across ratees
    mean = np.bincount(code, weights=table.score[rows], minlength=n_raters)
    mean = mean / np.maximum(model.n_used, 1)
    sq = np.bincount(code, weights=table.score[rows] ** 2, minlength=n_raters)
    spread = np.sqrt(np.maximum(sq / np.maximum(model.n_used, 1) - mean**2, 0))
    typical_spread = float(np.median(spread[judged])) if judged.any() else np.nan
    central = judged & (spread < c.central_ratio * typical_spread)
    for r in np.flatnonzero(central).tolist():
        ledger.add_rater_flag(
            "CENTRAL",
            "downweight",
            str(table.raters[r]),
            targets(r),
            f"该评价人对 {model.n_used[r]} 个对象的评分标准差仅 {spread[r]:.2f}"
            f"（典型评价人 {typical_spread:.2f}），均在 {mean[r]:.1f} 分附近，几乎不区分对象",
            weight=c.central_weight,
        )

    # halo: items within a form do not differ although other raters' do
    multi = table.n_items[rows] >= 3
    forms = np.bincount(code[multi], minlength=n_raters)
    sd_sum = np.bincount(code[multi], weights=table.item_sd[rows][multi], minlength=n_raters)
    item_sd = sd_sum / np.maximum(forms, 1)
    has_items = judged & (forms >= c.min_ratings)
    typical_item_sd = float(np.median(item_sd[has_items])) if has_items.any() else np.nan
    halo = has_items & ~central & (item_sd < c.halo_ratio * typical_item_sd)
    for r in np.flatnonzero(halo).tolist():
        ledger.add_rater_flag(
            "HALO",
            "downweight",
            str(table.raters[r]),
            targets(r),
            f"该评价人在同一问卷内各题评分的平均标准差仅 {item_sd[r]:.2f}"
            f"（典型评价人 {typical_item_sd:.2f}），各题跟随总体印象，分项信息很少",
            weight=c.halo_weight,
        )

    # misfit: answers far from what the model expects, response after response
    in_model = np.zeros(len(table), bool)
    in_model[rows] = True
    ans = in_model[table.answer_response]
    resp_of_answer = table.answer_response[ans]
    sq_resid = (table.answer_score[ans] - model.fitted[resp_of_answer]) ** 2
    per_resp = np.bincount(resp_of_answer, weights=sq_resid, minlength=len(table))
    per_resp = per_resp[rows] / np.maximum(table.n_items[rows], 1)
    answers = np.bincount(code, weights=table.n_items[rows], minlength=n_raters)
    # median over the rater's responses: one hostile form is an outlier, not a misfit
    typical_ms = group_median(code, per_resp, n_raters)
    judged_ms = judged & (answers >= c.misfit_min_answers)
    base_ms = float(np.median(typical_ms[judged_ms])) if judged_ms.any() else np.nan
    ratio = typical_ms / base_ms
    misfit = judged_ms & ~central & (ratio >= c.misfit_ratio)
    for r in np.flatnonzero(misfit).tolist():
        weight = float(min(c.misfit_max_weight, 1.0 / ratio[r]))
        ledger.add_rater_flag(
            "MISFIT",
            "downweight",
            str(table.raters[r]),
            targets(r),
            f"该评价人的评分与模型预期的平均平方差为典型评价人的 {ratio[r]:.1f} 倍"
            f"（{int(answers[r])} 个题目作答），与其他人的判断不一致，权重降为 {weight:.2f}",
            weight=weight,
        )


def rater_bias_table(
    table: ResponseTable, model: RaterModel, cfg: CleaningConfig
) -> dict[str, float]:
    judged = model.n_used >= cfg.rater_effects.min_ratings
    return {str(table.raters[r]): round(float(model.bias[r]), 4) for r in np.flatnonzero(judged)}
