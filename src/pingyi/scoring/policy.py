"""Appraisal policy as versioned data (DESIGN.md section 8), never code."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

ROLES = ("public", "peer", "superior", "self")
DEFAULT_WEIGHTS = {"public": 30, "peer": 20, "superior": 30, "self": 20}

# Grade labels from best to worst: (zh, en) per preset.
GRADE_PRESETS: dict[str, tuple[tuple[str, str], ...]] = {
    # the appraisal plan's four grades
    "appraisal": (("优秀", "Excellent"), ("良好", "Good"), ("合格", "Pass"), ("不合格", "Fail")),
    # civil servants' annual appraisal
    "civil_servant": (
        ("优秀", "Excellent"),
        ("称职", "Competent"),
        ("基本称职", "Basically competent"),
        ("不称职", "Incompetent"),
    ),
    # public institutions' staff
    "public_institution": (
        ("优秀", "Excellent"),
        ("合格", "Pass"),
        ("基本合格", "Basically pass"),
        ("不合格", "Fail"),
    ),
}


class PolicyError(ValueError):
    """A policy that cannot be applied; the message says which field and why."""


@dataclass(frozen=True)
class Policy:
    version: str = "default-2026"
    preset: str = "appraisal"
    # lowest total for each grade but the last, best first (0-100 scale)
    thresholds: tuple[float, float, float] = (90.0, 80.0, 60.0)
    excellent_quota: float = 0.20  # share of a unit's staff who may be recommended 优秀
    quota_rounding: str = "floor"  # 20% of 8 people: 1 (floor, "no more than") or 2 (round)
    min_satisfaction: float = 0.60  # hard rule: below this public satisfaction, lowest grade
    min_public_ratings: int = 5  # fewer active public ratings: "insufficient data"
    satisfied_min: int = 4  # levels at or above count as satisfied (4 满意, 5 非常满意)
    # points for 非常满意, 满意, 基本满意, 不满意, 非常不满意; a mean between two levels
    # gets the points in between (linear by default; a common preset is 100/80/60/30/0)
    level_scores: tuple[float, float, float, float, float] = (100.0, 75.0, 50.0, 25.0, 0.0)
    # a total needs at least this share of the configured weight present, so that
    # nobody is graded on their self-statement alone
    min_weight_present: float = 0.5
    superior_k: int = 1  # distinct superiors for a reportable superior score
    appeal_days: int = 30
    # bad-review work orders, in working days
    contact_days: int = 1
    rectify_days: int = 5
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @property
    def labels(self) -> tuple[tuple[str, str], ...]:
        return GRADE_PRESETS[self.preset]

    def label(self, level: int, lang: str = "zh-CN") -> str:
        zh, en = self.labels[level]
        return en if lang.startswith("en") else zh

    @property
    def lowest(self) -> int:
        return len(self.labels) - 1

    def score_of(self, mean_level: float) -> float:
        """A mean on the 1-5 scale in points, between the points of its two levels."""
        points = self.level_scores[::-1]  # level 1 first
        x = min(max(mean_level, 1.0), 5.0)
        low = min(int(x), 4)
        return points[low - 1] + (points[low] - points[low - 1]) * (x - low)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["thresholds"] = list(self.thresholds)
        data["level_scores"] = list(self.level_scores)
        return data

    @classmethod
    def from_json(
        cls, data: dict[str, Any] | None, weights: dict[str, Any] | None = None, strict: bool = True
    ) -> Policy:
        """Read a campaign's policy; every bad field is a PolicyError naming it.

        `strict=False` reads a policy frozen in a publication: fields this version no
        longer knows are ignored instead of refused."""
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown and strict:
            raise PolicyError(f"unknown policy field {unknown[0]!r}")
        data = {k: v for k, v in data.items() if k in known}
        if weights is not None:
            data["weights"] = weights
        try:
            for name in ("thresholds", "level_scores"):
                if name in data:
                    data[name] = tuple(float(t) for t in data[name])
            if "weights" in data:
                data["weights"] = {r: float(w) for r, w in data["weights"].items()}
            policy = cls(**data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise PolicyError(f"policy values of the wrong kind: {exc}") from exc
        policy.check()
        return policy

    def check(self) -> None:
        numbers = [*self.thresholds, *self.level_scores, *self.weights.values()]
        numbers += [self.excellent_quota, self.min_satisfaction, self.min_weight_present]
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in numbers):
            raise PolicyError("every number in the policy must be finite")
        if self.preset not in GRADE_PRESETS:
            raise PolicyError(f"preset must be one of {', '.join(GRADE_PRESETS)}")
        if not isinstance(self.version, str) or not 1 <= len(self.version.strip()) <= 40:
            raise PolicyError("version must be a name of 1 to 40 characters")
        t = self.thresholds
        if len(t) != 3 or not (100 >= t[0] > t[1] > t[2] >= 0):
            raise PolicyError("thresholds must be three falling numbers between 100 and 0")
        p = self.level_scores
        if len(p) != 5 or not all(100 >= a >= b >= 0 for a, b in itertools.pairwise(p)):
            raise PolicyError("level_scores must be five points from 非常满意 down, 100 to 0")
        if not 0 <= self.excellent_quota <= 1:
            raise PolicyError("excellent_quota must be between 0 and 1")
        if self.quota_rounding not in ("floor", "round"):
            raise PolicyError("quota_rounding must be floor or round")
        if not 0 <= self.min_satisfaction <= 1:
            raise PolicyError("min_satisfaction must be between 0 and 1")
        if self.satisfied_min not in (2, 3, 4, 5):
            raise PolicyError("satisfied_min must be a level from 2 to 5")
        if not 0 < self.min_weight_present <= 1:
            raise PolicyError("min_weight_present must be above 0 and at most 1")
        # whole numbers with the bounds a real rule could need
        for name, low, high in (
            ("min_public_ratings", 1, 10_000),
            ("superior_k", 1, 50),
            ("appeal_days", 0, 366),
            ("contact_days", 1, 60),
            ("rectify_days", 1, 60),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                raise PolicyError(f"{name} must be a whole number from {low} to {high}")
        if set(self.weights) != set(ROLES):
            raise PolicyError(f"weights must name exactly the roles {', '.join(ROLES)}")
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise PolicyError("weights must be non-negative and not all zero")
