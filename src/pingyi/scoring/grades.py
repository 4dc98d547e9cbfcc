"""Recommended grades: thresholds, the hard satisfaction rule, and the 优秀 quota per
unit. A person decides the final grade; these are recommendations with reasons."""

from __future__ import annotations

import math
from collections import defaultdict

from .policy import Policy


def level_for(total: float, policy: Policy) -> int:
    for level, threshold in enumerate(policy.thresholds):
        if total >= threshold:
            return level
    return policy.lowest


def quota_size(unit_size: int, policy: Policy) -> int:
    exact = unit_size * policy.excellent_quota
    if policy.quota_rounding == "floor":
        return math.floor(exact + 1e-9)
    return math.floor(exact + 0.5)


def recommend(
    people: list[tuple[str, float | None, bool]], policy: Policy
) -> list[tuple[int | None, list[str]]]:
    """For each (unit, total, hard-rule flagged): (grade level or None, notes).

    The quota is a ceiling on 优秀 per unit (everyone in the unit counts toward its
    size). When people tied on the boundary total would overrun it, none of the tied
    ones is recommended 优秀: breaking the tie is a person's decision, and the note
    says so ("quota_tie").
    """
    out: list[tuple[int | None, list[str]]] = []
    for _unit, total, flagged in people:
        if flagged:  # the hard rule holds whatever the total
            out.append((policy.lowest, ["rule_satisfaction"]))
        elif total is None:
            out.append((None, ["no_total"]))
        else:
            out.append((level_for(total, policy), []))

    units: dict[str, list[int]] = defaultdict(list)
    for index, (unit, _total, _flagged) in enumerate(people):
        units[unit].append(index)
    for members in units.values():
        best = [float(people[i][1] or 0.0) for i in members if out[i][0] == 0]
        cap = quota_size(len(members), policy)
        if len(best) <= cap:
            continue
        for i in members:
            if out[i][0] != 0:
                continue
            total = float(people[i][1] or 0.0)
            above = sum(1 for t in best if t > total)
            tied = sum(1 for t in best if t == total)
            if above + tied > cap:
                out[i] = (1, ["quota_tie" if above < cap else "quota"])
    return out
