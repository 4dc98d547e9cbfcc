"""The weighted 360 total: roles missing or under k are dropped and their weight is
shared out among the others in proportion, and the row says so."""

from __future__ import annotations

from collections.abc import Mapping


def weighted_total(
    scores: Mapping[str, float | None], weights: Mapping[str, float], min_present: float = 0.0
) -> tuple[float | None, dict[str, float]]:
    """(total rounded to 2 decimals or None, the weights used in percent).

    None when the roles present carry less than `min_present` of the whole weight."""
    present = {r: float(weights[r]) for r, s in scores.items() if s is not None}
    weight_sum = sum(present.values())
    if weight_sum <= 0 or weight_sum < min_present * sum(float(w) for w in weights.values()):
        return None, {}
    total = sum(float(scores[r] or 0.0) * w for r, w in present.items())
    used = {r: round(100 * w / weight_sum, 2) for r, w in present.items()}
    return round(total / weight_sum, 2), used
