"""Stage 4: outlying responses.

For raters who are known (peers, superiors), a response far from the ratee's consensus
after bias adjustment, on a robust (MAD) scale, is down-weighted in proportion to how
far it is. A public complaint is legitimate information, so a far-off public answer is
down-weighted only with further evidence: its response pattern (time taken, item
spread, hour, device activity) must also be anomalous to an IsolationForest.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from .config import CleaningConfig
from .ledger import Ledger
from .responses import ResponseTable, group_median
from .screening import local_clock, role_median_durations
from .types import DEFAULT_CHANNEL

RATER_SCALE_PRIOR = 10.0  # forms' worth of the common scale in a rater's own yardstick


def robust_z(
    table: ResponseTable, ledger: Ledger, roles: tuple[str, ...], floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(z, consensus median, group size, scale) per response of ``roles`` in use (else NaN)."""
    n = len(table)
    use = np.isin(table.role, roles) & (ledger.weight > 0) & (table.channel != DEFAULT_CHANNEL)
    rows = np.flatnonzero(use)
    value = table.score - ledger.shift
    group = table.ratee_code[rows]
    med = group_median(group, value[rows], len(table.ratees))
    size = np.bincount(group, minlength=len(table.ratees))
    resid = value[rows] - med[group]
    scale = max(1.4826 * float(np.median(np.abs(resid))) if len(rows) else floor, floor)
    # a rater who uses the whole scale strays further from consensus on every form:
    # their own typical distance widens the yardstick (one hostile form moves no median)
    per_row = np.full(len(rows), scale)
    rater = table.rater_code[rows]
    known = rater >= 0
    if known.any():
        own = 1.4826 * group_median(rater[known], np.abs(resid[known]), len(table.raters))
        forms = np.bincount(rater[known], minlength=len(table.raters))
        # few forms say little about a rater's habit: blend towards the common scale
        blended = np.sqrt(
            (forms * np.nan_to_num(own) ** 2 + RATER_SCALE_PRIOR * scale**2)
            / (forms + RATER_SCALE_PRIOR)
        )
        per_row[known] = np.maximum(scale, blended[rater[known]])
    z = np.full(n, np.nan)
    z[rows] = resid / per_row
    consensus = np.full(n, np.nan)
    consensus[rows] = med[group]
    group_size = np.zeros(n, int)
    group_size[rows] = size[group]
    scales = np.full(n, scale)
    scales[rows] = per_row
    return z, consensus, group_size, scales


def pattern_features(table: ResponseTable, rows: np.ndarray, cfg: CleaningConfig) -> np.ndarray:
    medians = role_median_durations(table, cfg.screening.speeder_min_group)
    median = np.array([medians.get(r, np.nan) for r in table.role[rows].tolist()])
    ratio = np.log(np.where(np.isfinite(table.duration[rows]), table.duration[rows], 1.0))
    ratio -= np.log(np.where(np.isfinite(median) & np.isfinite(table.duration[rows]), median, 1))
    _, hour = local_clock(np.nan_to_num(table.t[rows]), cfg.opening_hours)
    hour = np.where(np.isfinite(table.t[rows]), hour, 12.0)
    dev = table.device_code[rows]
    dev_counts = np.bincount(dev[dev >= 0]) if (dev >= 0).any() else np.zeros(1)
    per_device = np.where(dev >= 0, dev_counts[np.maximum(dev, 0)], 1)
    return np.column_stack(
        [ratio, table.item_sd[rows], hour, np.log(per_device), table.n_items[rows]]
    )


def flag_outliers(table: ResponseTable, cfg: CleaningConfig, ledger: Ledger) -> dict[str, int]:
    c = cfg.outliers
    z, consensus, size, scale = robust_z(table, ledger, c.rater_roles, c.scale_floor)
    far = np.isfinite(z) & (np.abs(z) >= c.z_threshold) & (size - 1 >= c.min_group)
    idx = np.flatnonzero(far)
    weights = np.clip((c.z_threshold / np.abs(z[idx])) ** 2, 0.05, 0.99)
    value = table.score - ledger.shift
    details = [
        f"该评分（偏差校正后 {value[i]:.2f} 分）与该对象其余 {size[i] - 1} 份评价的中位数 "
        f"{consensus[i]:.2f} 分相差 {abs(value[i] - consensus[i]):.2f} 分，"
        f"为稳健标准差 {scale[i]:.2f} 的 {abs(z[i]):.1f} 倍，权重降为 {w:.2f}"
        for i, w in zip(idx.tolist(), weights.tolist(), strict=True)
    ]
    ledger.add_response_flags("OUTLIER", "downweight", idx, weights, details)

    # public: distance alone is not evidence; require an anomalous response pattern too
    public = ("public",)
    pz, pcons, psize, _ = robust_z(table, ledger, public, c.scale_floor)
    rows = np.flatnonzero(np.isfinite(pz))
    n_anomalous = 0
    if len(rows) >= 50:
        rng = np.random.default_rng(c.seed)
        sample = (
            rows
            if len(rows) <= c.isolation_sample
            else np.sort(rng.choice(rows, c.isolation_sample, replace=False))
        )
        forest = IsolationForest(
            n_estimators=100, contamination=c.isolation_contamination, random_state=c.seed
        )
        forest.fit(pattern_features(table, sample, cfg))
        candidates = rows[
            (np.abs(pz[rows]) >= c.public_z_threshold) & (psize[rows] - 1 >= c.min_group)
        ]
        if len(candidates):
            odd = forest.predict(pattern_features(table, candidates, cfg)) < 0
            pidx = candidates[odd]
            details = [
                f"该评价 {table.score[i]:g} 分与该对象其余 {psize[i] - 1} 份评价的中位数 "
                f"{pcons[i]:.1f} 分相差稳健标准差的 {abs(pz[i]):.1f} 倍，且作答模式（用时、"
                "时段、设备频次、题间差异）异常，权重减半"
                for i in pidx.tolist()
            ]
            ledger.add_response_flags("OUTLIER", "downweight", pidx, c.public_weight, details)
            n_anomalous = len(pidx)
    return {"public_pattern_anomalies": n_anomalous}
