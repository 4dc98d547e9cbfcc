"""Stage 4: outlying responses.

For raters who are known (peers, superiors), a response far from the ratee's consensus
after bias adjustment, on a robust (MAD) scale, is down-weighted in proportion to how
far it is. A public complaint is legitimate information, so a far-off public answer is
down-weighted only with further evidence: its response pattern (time taken, item
spread, hour, device activity) must also be anomalous to an IsolationForest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from .config import CleaningConfig
from .ledger import Ledger
from .responses import ResponseTable, group_median
from .screening import local_clock, role_values
from .types import DEFAULT_CHANNEL

RATER_SCALE_PRIOR = 10.0  # forms' worth of the common scale in a rater's own yardstick


def consensus_residuals(
    table: ResponseTable, weight: np.ndarray, shift: np.ndarray, roles: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows in use, residual from the ratee's median, that median, group size per ratee)."""
    use = np.isin(table.role, roles) & (weight > 0) & (table.channel != DEFAULT_CHANNEL)
    rows = np.flatnonzero(use)
    value = table.score - shift
    group = table.ratee_code[rows]
    med = group_median(group, value[rows], len(table.ratees))
    size = np.bincount(group, minlength=len(table.ratees))
    return rows, value[rows] - med[group], med, size


def robust_scale(resid: np.ndarray, floor: float) -> float:
    return max(1.4826 * float(np.median(np.abs(resid))) if len(resid) else floor, floor)


def robust_z(
    table: ResponseTable, ledger: Ledger, roles: tuple[str, ...], scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(z, consensus median, group size, scale) per response of ``roles`` in use (else NaN);
    ``scale`` is the campaign's robust scale of such residuals."""
    n = len(table)
    rows, resid, med, size = consensus_residuals(table, ledger.weight, ledger.shift, roles)
    group = table.ratee_code[rows]
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


@dataclass
class Pattern:
    """What the anomaly forest reads of public responses: time taken against the role's
    typical time, item spread, hour of day, how busy the fingerprint is, form length."""

    role: np.ndarray
    duration: np.ndarray
    item_sd: np.ndarray
    t: np.ndarray
    per_device: np.ndarray  # responses from the same fingerprint in the campaign (1 none)
    n_items: np.ndarray

    @classmethod
    def of(cls, table: ResponseTable, rows: np.ndarray, device_counts: np.ndarray) -> Pattern:
        """``device_counts``: the campaign's responses per device code of ``table``."""
        dev = table.device_code[rows]
        per_device = np.append(device_counts, 1)[dev]  # the pad reads for no device
        return cls(
            table.role[rows],
            table.duration[rows],
            table.item_sd[rows],
            table.t[rows],
            per_device.astype(float),
            table.n_items[rows].astype(float),
        )

    def features(self, medians: Mapping[str, float], cfg: CleaningConfig) -> np.ndarray:
        median = role_values(self.role, medians)
        timed = np.isfinite(self.duration)
        ratio = np.log(np.where(timed, self.duration, 1.0))
        ratio -= np.log(np.where(np.isfinite(median) & timed, median, 1))
        _, hour = local_clock(np.nan_to_num(self.t), cfg.opening_hours)
        hour = np.where(np.isfinite(self.t), hour, 12.0)
        return np.column_stack(
            [ratio, self.item_sd, hour, np.log(np.maximum(self.per_device, 1)), self.n_items]
        )


def public_rows(table: ResponseTable, weight: np.ndarray) -> np.ndarray:
    """Public responses the forest learns from and judges: in use, not default ratings."""
    return consensus_residuals(table, weight, np.zeros(len(table)), ("public",))[0]


def fit_forest(patterns: Pattern, medians: Mapping[str, float], cfg: CleaningConfig) -> Any:
    """The campaign's IsolationForest, or None with too few public responses to learn."""
    c = cfg.outliers
    if len(patterns.role) < 50:
        return None
    forest = IsolationForest(
        n_estimators=100, contamination=c.isolation_contamination, random_state=c.seed
    )
    return forest.fit(patterns.features(medians, cfg))


@dataclass
class OutlierFigures:
    """The campaign's yardsticks, so that each partition judges by the same ones."""

    rater_scale: float  # robust scale of known raters' residuals from consensus
    public_scale: float  # ... of public ones
    forest: Any  # IsolationForest on public response patterns, or None
    medians: Mapping[str, float]  # typical duration per role


def flag_outliers(
    table: ResponseTable,
    cfg: CleaningConfig,
    ledger: Ledger,
    figures: OutlierFigures,
    device_counts: np.ndarray,
) -> dict[str, int]:
    c = cfg.outliers
    z, consensus, size, scale = robust_z(table, ledger, c.rater_roles, figures.rater_scale)
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
    pz, pcons, psize, _ = robust_z(table, ledger, ("public",), figures.public_scale)
    rows = np.flatnonzero(np.isfinite(pz))
    n_anomalous = 0
    candidates = rows[(np.abs(pz[rows]) >= c.public_z_threshold) & (psize[rows] - 1 >= c.min_group)]
    if figures.forest is not None and len(candidates):
        pattern = Pattern.of(table, candidates, device_counts)
        odd = figures.forest.predict(pattern.features(figures.medians, cfg)) < 0
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
