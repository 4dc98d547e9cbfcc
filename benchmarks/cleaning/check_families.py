"""Self-check of the independent synthetic families and the reference estimators.

Generates each family (default 20 units), asserts the contract (finite truths, integer
scores 1..5, known kind names, one role/rater/ratee per response, ticket counts at
least the honest ratings of their hour) and prints per family the size, the share of
responses per contamination kind and each reference estimator's RMSE against truth.

    .venv/bin/python benchmarks/cleaning/check_families.py [--units 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import references
from families import ordinal, shared_devices
from synth import KINDS, Campaign

FAMILIES = {"ordinal": ordinal.generate, "shared_devices": shared_devices.generate}
ROLES = ("public", "peer", "superior")


def check(campaign: Campaign) -> None:
    ratings = campaign.ratings
    assert all(np.isfinite(v) and 1 <= v <= 5 for v in campaign.truth.values())
    assert np.isin(ratings.score, [1, 2, 3, 4, 5]).all()
    assert set(campaign.kind.values()) <= {"", *KINDS}
    assert set(campaign.kind) == set(ratings.response_id)
    per_response = {}
    for row in zip(ratings.response_id, ratings.role, ratings.rater, ratings.ratee, strict=True):
        assert per_response.setdefault(row[0], row[1:]) == row[1:], row
    for rid, (role, rater, ratee) in per_response.items():
        assert (ratee, role) in campaign.truth, (rid, ratee, role)
        assert (rater == "") == (role == "public"), rid
    if campaign.ticket_counts:
        hour = np.floor(ratings.submitted_at / 3600) * 3600
        honest = np.array([campaign.kind[rid] == "" for rid in ratings.response_id])
        public = honest & (ratings.role == "public")
        _, first = np.unique(ratings.response_id, return_index=True)
        counted = np.zeros(len(honest), bool)
        counted[first] = True
        seen = Counter(zip(ratings.ratee[public & counted], hour[public & counted], strict=True))
        for (window, start), n in seen.items():
            assert campaign.ticket_counts.get((window, float(start)), 0) >= n, (window, start)


def rmse(estimate: dict, truth: dict, role: str) -> float:
    keys = [k for k in truth if k[1] == role and k in estimate]
    return float(np.sqrt(np.mean([(estimate[k] - truth[k]) ** 2 for k in keys])))


def report(name: str, campaign: Campaign, seconds: float) -> None:
    ratings = campaign.ratings
    kinds = Counter(campaign.kind.values())
    n = len(campaign.kind)
    roles = Counter(dict(zip(ratings.response_id, ratings.role, strict=True)).values())
    print(f"== {name}: {len(ratings.score)} answers, {n} responses {dict(roles)}, {seconds:.2f}s")
    print("   contaminated: " + ", ".join(f"{k} {kinds[k] / n:.1%}" for k in sorted(kinds) if k))
    print(
        "   truth mean: " + ", ".join(f"{role} {_mean(campaign.truth, role):.2f}" for role in ROLES)
    )
    estimates = {k: f(ratings) for k, f in references.ESTIMATORS.items()}
    estimates["oracle_drop"] = references.oracle_drop(campaign)
    print(f"   {'RMSE':<14}" + "".join(f"{role:>10}" for role in ROLES))
    for key, estimate in estimates.items():
        cells = "".join(f"{rmse(estimate, campaign.truth, role):>10.3f}" for role in ROLES)
        print(f"   {key:<14}{cells}")


def _mean(truth: dict, role: str) -> float:
    return float(np.mean([v for k, v in truth.items() if k[1] == role]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name, generate in FAMILIES.items():
        started = time.perf_counter()
        campaign = generate(args.units, args.seed)
        seconds = time.perf_counter() - started
        again = generate(args.units, args.seed)
        assert again.kind == campaign.kind and again.truth == campaign.truth, "not deterministic"
        assert np.array_equal(again.ratings.score, campaign.ratings.score), "not deterministic"
        check(campaign)
        report(name, campaign, seconds)


if __name__ == "__main__":
    main()
