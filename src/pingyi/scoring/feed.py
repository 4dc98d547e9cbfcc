"""From a campaign's frozen inputs to one feed row per staff member."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .grades import recommend
from .policy import ROLES, Policy
from .totals import weighted_total


@dataclass(frozen=True)
class FeedRow:
    staff_code: str
    staff_name: str
    unit_code: str
    unit_name: str
    post_category: str
    # per role: score 0-100 and n used; None where missing or under the k rule
    scores: dict[str, float | None]
    n: dict[str, int | None]
    public_source: str  # "staff" (rated by name), "window" (their window's ratings), ""
    total: float | None
    weights_used: dict[str, float]  # after redistribution, in percent
    missing_roles: dict[str, str]  # role -> why: "none" (no ratings) | "under_k"
    satisfaction_rate: float | None
    satisfaction_n: int
    satisfaction_status: str  # "ok" | "insufficient"
    rule_flags: tuple[str, ...]  # e.g. "satisfaction_below_min"
    grade_level: int | None  # 0 best; None: no total to grade
    recommended_grade: str
    grade_notes: tuple[str, ...]  # e.g. "quota", "quota_tie"
    below_standard: bool
    warning_consecutive: bool  # below standard in this and the previous campaign
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "staff_code": self.staff_code,
            "staff_name": self.staff_name,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "post_category": self.post_category,
            **{f"{r}_score": self.scores[r] for r in ROLES},
            **{f"{r}_n": self.n[r] for r in ROLES},
            "public_source": self.public_source,
            "total": self.total,
            "weights_used": self.weights_used,
            "missing_roles": self.missing_roles,
            "satisfaction_rate": self.satisfaction_rate,
            "satisfaction_n": self.satisfaction_n,
            "satisfaction_status": self.satisfaction_status,
            "rule_flags": list(self.rule_flags),
            "grade_level": self.grade_level,
            "recommended_grade": self.recommended_grade,
            "grade_notes": list(self.grade_notes),
            "below_standard": self.below_standard,
            "warning_consecutive": self.warning_consecutive,
        }


def canonical(snapshot: dict[str, Any]) -> bytes:
    """The one byte form of a snapshot: sorted keys, no NaN (null instead)."""
    return json.dumps(
        _no_nan(snapshot), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


def snapshot_hash(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(snapshot)).hexdigest()


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    return value


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _points(row: dict[str, Any], policy: Policy) -> float | None:
    """The policy's points for a cleaned mean (1-5); linear 0-100 by default."""
    mean = _number(row.get("clean_mean"))
    if mean is None:  # inputs frozen before means were kept: the linear score
        linear = _number(row["score_100"])
        mean = None if linear is None else 1 + linear / 25
    return None if mean is None else policy.score_of(mean)


def compute_feed(snapshot: dict[str, Any]) -> list[FeedRow]:
    """Rows in staff order (unit, then code). Pure: same snapshot, same rows."""
    policy = Policy.from_json(snapshot["policy"])
    scores = {(s["ratee"], s["role"]): s for s in snapshot["scores"]}
    previous = snapshot.get("previous") or {}
    previous_below = set(previous.get("below_standard", []))
    staff = sorted(snapshot["staff"], key=lambda s: (s["unit_code"], s["code"]))

    partial = []
    for person in staff:
        role_scores: dict[str, float | None] = {}
        role_n: dict[str, int | None] = {}
        missing: dict[str, str] = {}
        source = ""
        public = scores.get((f"staff:{person['code']}", "public"))
        if public is not None:
            source = "staff"
        elif person.get("window"):
            public = scores.get((f"window:{person['window']}", "public"))
            source = "window" if public is not None else ""
        for role in ROLES:
            row = public if role == "public" else scores.get((f"staff:{person['code']}", role))
            value = _points(row, policy) if row else None
            if row is None or value is None:
                missing[role] = "none"
                role_scores[role], role_n[role] = None, None
            elif not row["reportable"]:
                # under k: dropped from the total, never silently rolled in (DESIGN.md 3)
                missing[role] = "under_k"
                role_scores[role], role_n[role] = None, None
            else:
                role_scores[role] = round(value, 2)
                role_n[role] = int(row["n_used"])
        total, used = weighted_total(role_scores, policy.weights, policy.min_weight_present)

        satisfaction_n = int(public["n_used"]) if public else 0
        rate = _number(public["satisfaction_rate"]) if public else None
        enough = rate is not None and satisfaction_n >= policy.min_public_ratings
        flags = []
        if enough and rate is not None and rate < policy.min_satisfaction:
            flags.append("satisfaction_below_min")
        partial.append(
            (person, role_scores, role_n, missing, source, total, used, rate, enough, flags)
        )

    grades = recommend(
        [(p[0]["unit_code"], p[5], bool(p[9])) for p in partial],
        policy,
    )
    rows = []
    for (person, role_scores, role_n, missing, source, total, used, rate, enough, flags), (
        level,
        notes,
    ) in zip(partial, grades, strict=True):
        below = level == policy.lowest
        rows.append(
            FeedRow(
                staff_code=person["code"],
                staff_name=person["name"],
                unit_code=person["unit_code"],
                unit_name=person["unit_name"],
                post_category=person.get("post_category", ""),
                scores=role_scores,
                n=role_n,
                public_source=source,
                total=total,
                weights_used=used,
                missing_roles=missing,
                satisfaction_rate=round(rate, 4) if enough and rate is not None else None,
                satisfaction_n=int(role_n["public"] or 0) if enough else 0,
                satisfaction_status="ok" if enough else "insufficient",
                rule_flags=tuple(flags),
                grade_level=level,
                recommended_grade=policy.label(level) if level is not None else "",
                grade_notes=tuple(notes),
                below_standard=below,
                warning_consecutive=below and person["code"] in previous_below,
            )
        )
    return rows
