"""Sampled phone follow-up (电话回访): the draw, the call rates and the weighted
estimate. Pure: no database, no web; the service (services/phone.py) feeds it.

The draw
    The sampling frame is a mapping ``stratum -> ticket ids`` (a stratum is one unit,
    window and ISO week). In each stratum a simple random sample without replacement of
    ``min(per_stratum, N_h)`` tickets is drawn with ``random.Random(f"{seed}|{stratum}")``
    from the ids in ascending order. Each selected ticket's selection probability is
    ``n_h / N_h``. Anyone holding the frame, the seed and ``per_stratum`` re-draws the
    same sample (:func:`draw`); :func:`digest` fingerprints the frame and the draw.

The rates (AAPOR Standard Definitions, 2023)
    Every sampled ticket is a served citizen, so every case is known eligible
    (e = 1, no unknown-eligibility cases). Outcomes map to AAPOR's codes:

    - I  (complete interview): ``completed``;
    - R  (refusal): ``refused``;
    - O  (other non-interview after contact): ``call_back`` (the citizen answered and
      asked to be called later);
    - NC (non-contact): ``no_answer``, ``wrong_number`` (the number does not reach the
      sampled citizen) and ``pending`` (not yet reached).

    RR1  = I / (I + P + R + NC + O), with P (partial interviews) = 0: completes over
    every sampled case.
    CON1 = (I + P + R + O) / (I + P + R + NC + O): the share of sampled cases in
    which the citizen was reached.

The estimate
    A Hajek (ratio) estimator of the satisfied share: each respondent weighs
    ``1 / probability`` (the inverse selection probability), ``p = sum(w y) / sum(w)``
    with ``y = 1`` for a level at or above ``satisfied_min``. Its variance is the
    linearised (Taylor) variance for a stratified sample without replacement: with
    ``z_i = w_i (y_i - p) / sum(w)``, ``v = sum_h (1 - f_h) m_h / (m_h - 1)
    sum_i (z_i - mean_h z)^2`` over the m_h respondents of stratum h (f_h = n_h / N_h;
    a stratum with one respondent adds ``z_i^2``, a conservative choice). The interval
    is Wilson's with the effective sample size ``p (1 - p) / v`` (the respondents'
    count where v is 0), so it stays inside [0, 1] and is sensible near 0 and 100 %.
    Non-response is not re-weighted: inside a stratum the respondents stand for the
    stratum, which assumes citizens who answer and who do not are alike there.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

OUTCOMES = ("completed", "refused", "no_answer", "wrong_number", "call_back")
PENDING = "pending"
FINAL_OUTCOMES = frozenset({"completed", "refused", "wrong_number"})  # not called again
Z95 = 1.959963984540054


def stratum_key(unit_id: int, window_id: int, when: datetime) -> str:
    """``unit:window:YYYY-Www`` (ISO week of ``when``, in the zone it carries)."""
    year, week, _ = when.isocalendar()
    return f"{unit_id}:{window_id}:{year}-W{week:02d}"


@dataclass(frozen=True)
class Selected:
    ticket_id: int
    stratum: str
    probability: float


def draw(frame: Mapping[str, Sequence[int]], per_stratum: int, seed: str) -> list[Selected]:
    """The stratified sample: ``min(per_stratum, N_h)`` tickets per stratum."""
    if per_stratum < 1:
        raise ValueError("per_stratum must be at least 1")
    out: list[Selected] = []
    for stratum in sorted(frame):
        ids = sorted(int(i) for i in frame[stratum])
        if not ids:
            continue
        n = min(per_stratum, len(ids))
        rng = random.Random(f"{seed}|{stratum}")
        probability = n / len(ids)
        out.extend(Selected(i, stratum, probability) for i in sorted(rng.sample(ids, n)))
    return out


def digest(value: object) -> str:
    """SHA-256 of the canonical JSON of a frame or a draw."""
    if isinstance(value, list) and value and isinstance(value[0], Selected):
        value = [[s.ticket_id, s.stratum, round(s.probability, 12)] for s in value]
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Rates:
    sampled: int
    completed: int
    refused: int
    other: int  # contacted, asked to be called later
    non_contact: int  # no answer, wrong number, not yet reached

    @property
    def rr1(self) -> float:
        return self.completed / self.sampled if self.sampled else math.nan

    @property
    def con1(self) -> float:
        contacted = self.completed + self.refused + self.other
        return contacted / self.sampled if self.sampled else math.nan


def rates(outcomes: Iterable[str]) -> Rates:
    """AAPOR RR1 and CON1 over the sampled cases' current outcomes (module docstring)."""
    count = Counter(outcomes)
    unknown = set(count) - set(OUTCOMES) - {PENDING}
    if unknown:
        raise ValueError(f"unknown outcome(s): {sorted(unknown)}")
    return Rates(
        sampled=sum(count.values()),
        completed=count["completed"],
        refused=count["refused"],
        other=count["call_back"],
        non_contact=count["no_answer"] + count["wrong_number"] + count[PENDING],
    )


def wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` from ``n`` (possibly effective,
    non-integer) observations; (nan, nan) without observations."""
    if n <= 0 or math.isnan(p):
        return math.nan, math.nan
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Observation:
    stratum: str
    probability: float  # the ticket's selection probability
    satisfied: bool


@dataclass(frozen=True)
class Estimate:
    n: int  # respondents
    satisfaction: float  # weighted (Hajek) share satisfied
    ci_low: float
    ci_high: float
    variance: float
    population: float  # sum of weights: the served (callable) tickets represented


def hajek(
    observations: Sequence[Observation],
    fraction: Mapping[str, float] | None = None,
    z: float = Z95,
) -> Estimate:
    """Weighted satisfied share with its linearised variance and a Wilson interval
    (module docstring). ``fraction`` gives each stratum's sampling fraction n_h / N_h
    for the finite-population correction (default: each observation's probability)."""
    m = len(observations)
    if m == 0:
        return Estimate(0, math.nan, math.nan, math.nan, math.nan, 0.0)
    weights = [1.0 / o.probability for o in observations]
    total = sum(weights)
    p = sum(w for w, o in zip(weights, observations, strict=True) if o.satisfied) / total
    by_stratum: dict[str, list[float]] = defaultdict(list)
    for w, o in zip(weights, observations, strict=True):
        by_stratum[o.stratum].append(w * (float(o.satisfied) - p) / total)
    variance = 0.0
    for stratum, zs in by_stratum.items():
        f = (fraction or {}).get(stratum)
        if f is None:
            f = next(o.probability for o in observations if o.stratum == stratum)
        fpc = max(0.0, 1.0 - f)
        if len(zs) == 1:
            variance += fpc * zs[0] ** 2
            continue
        mean = sum(zs) / len(zs)
        variance += fpc * len(zs) / (len(zs) - 1) * sum((x - mean) ** 2 for x in zs)
    n_eff = p * (1 - p) / variance if variance > 0 else float(m)
    low, high = wilson(p, n_eff, z)
    return Estimate(m, p, low, high, variance, total)
