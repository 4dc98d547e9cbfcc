"""From a campaign's frozen inputs to one feed row per staff member."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
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
    # the grade a person decided for this revision, added when read (not computed)
    final_grade: str = ""
    final_approved_by: str = ""

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
            "final_grade": self.final_grade,
            "final_approved_by": self.final_approved_by,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeedRow:
        """A row as frozen at publication."""
        return cls(
            staff_code=data["staff_code"],
            staff_name=data["staff_name"],
            unit_code=data["unit_code"],
            unit_name=data["unit_name"],
            post_category=data["post_category"],
            scores={r: data[f"{r}_score"] for r in ROLES},
            n={r: data[f"{r}_n"] for r in ROLES},
            public_source=data["public_source"],
            total=data["total"],
            weights_used=data["weights_used"],
            missing_roles=data["missing_roles"],
            satisfaction_rate=data["satisfaction_rate"],
            satisfaction_n=data["satisfaction_n"],
            satisfaction_status=data["satisfaction_status"],
            rule_flags=tuple(data["rule_flags"]),
            grade_level=data["grade_level"],
            recommended_grade=data["recommended_grade"],
            grade_notes=tuple(data["grade_notes"]),
            below_standard=data["below_standard"],
            warning_consecutive=data["warning_consecutive"],
            final_grade=data.get("final_grade", ""),
            final_approved_by=data.get("final_approved_by", ""),
        )


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


@dataclass
class _Assessed:
    """One staff member's numbers before grading (grades depend on the whole unit)."""

    person: dict[str, Any]
    scores: dict[str, float | None]
    n: dict[str, int | None]
    missing: dict[str, str]
    source: str
    total: float | None
    used: dict[str, float]
    rate: float | None  # None: insufficient data
    satisfaction_n: int
    flags: list[str]


def _assess(
    person: dict[str, Any],
    scores: dict[tuple[str, str], dict[str, Any]],
    policy: Policy,
    k: int,
    earlier_peer_n: dict[str, list[int]],
) -> _Assessed:
    code = person["code"]
    source = ""
    public = scores.get((f"staff:{code}", "public"))
    if public is not None:
        source = "staff"
    elif person.get("window"):
        public = scores.get((f"window:{person['window']}", "public"))
        source = "window" if public is not None else ""
    role_scores: dict[str, float | None] = {}
    role_n: dict[str, int | None] = {}
    missing: dict[str, str] = {}
    for role in ROLES:
        row = public if role == "public" else scores.get((f"staff:{code}", role))
        value = _points(row, policy) if row else None
        role_scores[role], role_n[role] = None, None
        if row is None or value is None:
            missing[role] = "none"
        elif not row["reportable"]:
            # under k: dropped from the total, never silently rolled in (DESIGN.md 3)
            missing[role] = "under_k"
        elif role == "peer" and any(
            0 < abs(int(row["n_used"]) - shown) < k for shown in earlier_peer_n.get(code, [])
        ):
            # fewer than k raters differ from a revision published before: the two
            # means would reveal those few ratings by subtraction
            missing[role] = "revision_delta"
        else:
            role_scores[role] = round(value, 2)
            role_n[role] = int(row["n_used"])
    total, used = weighted_total(role_scores, policy.weights, policy.min_weight_present)

    # satisfaction only from a public group that may be shown at all
    shown = public is not None and bool(public["reportable"])
    n = int(public["n_used"]) if shown and public is not None else 0
    raw = _number(public["satisfaction_rate"]) if shown and public is not None else None
    rate = round(raw, 4) if raw is not None and n >= policy.min_public_ratings else None
    flags = (
        ["satisfaction_below_min"] if rate is not None and rate < policy.min_satisfaction else []
    )
    return _Assessed(person, role_scores, role_n, missing, source, total, used, rate, n, flags)


def compute_feed(snapshot: dict[str, Any]) -> list[FeedRow]:
    """Rows in staff order (unit, then code). Pure: same snapshot, same rows."""
    policy = Policy.from_json(snapshot["policy"], strict=False)
    scores = {(s["ratee"], s["role"]): s for s in snapshot["scores"]}
    k = int((snapshot.get("campaign") or {}).get("k", 3))
    earlier_peer_n = snapshot.get("earlier_peer_n") or {}
    previous_below = set((snapshot.get("previous") or {}).get("below_standard", []))
    staff = sorted(snapshot["staff"], key=lambda s: (s["unit_code"], s["code"]))
    assessed = [_assess(p, scores, policy, k, earlier_peer_n) for p in staff]
    grades = recommend([(a.person["unit_code"], a.total, bool(a.flags)) for a in assessed], policy)
    rows = []
    for a, (level, notes) in zip(assessed, grades, strict=True):
        if a.flags and a.source == "window":
            notes = [*notes, "window_source"]  # the rule fired on the window's ratings
        below = level == policy.lowest
        rows.append(
            FeedRow(
                staff_code=a.person["code"],
                staff_name=a.person["name"],
                unit_code=a.person["unit_code"],
                unit_name=a.person["unit_name"],
                post_category=a.person.get("post_category", ""),
                scores=a.scores,
                n=a.n,
                public_source=a.source,
                total=a.total,
                weights_used=a.used,
                missing_roles=a.missing,
                satisfaction_rate=a.rate,
                satisfaction_n=a.satisfaction_n,
                satisfaction_status="ok" if a.rate is not None else "insufficient",
                rule_flags=tuple(a.flags),
                grade_level=level,
                recommended_grade=policy.label(level) if level is not None else "",
                grade_notes=tuple(notes),
                below_standard=below,
                warning_consecutive=below and a.person["code"] in previous_below,
            )
        )
    return rows
