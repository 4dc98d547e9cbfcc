"""Quality benchmark: cleaned scores against the truth, beside reference estimators.

    python benchmarks/cleaning/quality.py [--quick] [--seeds K] [--family NAME ...]

Three independently specified families of synthetic campaigns with known truth
(``synth``: additive rater effects and every contamination kind; ``families.ordinal``:
graded-response answers with per-rater scale use; ``families.shared_devices``: small
units, shared counter devices and hall Wi-Fi fingerprints, heavy-tailed volumes, real
unit-level differences), several seeds each. For each family: RMSE against the truth
(as a ratio to the raw mean's) and Spearman rank correlation for pingyi and for simple
reference estimators, recall per contamination kind, and the share of honest responses
flagged. Prints Markdown tables; seeded.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))

import references
import synth
from families import ordinal, shared_devices
from synth import EXPECTED_REASONS, KINDS

from pingyi.cleaning import CleaningResult, Ratings, clean

RATER_ROLES = ("peer", "superior")


def response_reasons(ratings: Ratings, result: CleaningResult) -> dict[str, set[str]]:
    """Every live decision that touches each response (rater flags touch all its ratings)."""
    rid, first = np.unique(ratings.response_id.astype(str), return_index=True)
    rater, role = ratings.rater[first], ratings.role[first]
    by_rater: dict[str, list[str]] = defaultdict(list)
    for r, ro, i in zip(rater.tolist(), role.tolist(), rid.tolist(), strict=True):
        if r and ro in RATER_ROLES:
            by_rater[r].append(i)
    reasons: dict[str, set[str]] = defaultdict(set)
    for f in result.flags:
        if f.overridden:
            continue
        if f.response_id:
            reasons[f.response_id].add(f.reason)
        else:
            for i in by_rater.get(f.rater, []):
                reasons[i].add(f.reason)
    return reasons


FAMILIES = {
    # name: (generator, units per campaign, units in --quick)
    "synth": (synth.generate, 60, 20),
    "ordinal": (ordinal.generate, 60, 20),
    "shared_devices": (shared_devices.generate, 120, 40),
}
ROLES = ("public", "peer", "superior")
ADJUSTMENTS = {"LENIENT", "SEVERE"}  # reasons that correct a score and keep its weight


def accuracy(estimate: dict, truth: dict, role: str) -> tuple[float, float]:
    """(RMSE, Spearman) of ``estimate`` against ``truth`` over the ratees of ``role``."""
    keys = [k for k in truth if k[1] == role and np.isfinite(estimate.get(k, np.nan))]
    t = np.array([truth[k] for k in keys])
    e = np.array([estimate[k] for k in keys])
    return float(np.sqrt(np.mean((e - t) ** 2))), float(spearmanr(e, t).statistic)


def as_stored_means(ratings: Ratings) -> dict[tuple[str, str], float]:
    """What a naive export would give: every stored response's composite, the platform's
    automatic default ratings included (``raw_mean`` leaves those out)."""
    _, inverse = np.unique(ratings.response_id.astype(str), return_inverse=True)
    composite = np.bincount(inverse, ratings.score) / np.bincount(inverse)
    first = np.unique(inverse, return_index=True)[1]
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for ratee, role, value in zip(
        ratings.ratee[first].tolist(), ratings.role[first].tolist(), composite.tolist(), strict=True
    ):
        groups[(ratee, role)].append(value)
    return {k: float(np.mean(v)) for k, v in groups.items()}


def evaluate(family: str, units: int, seed: int) -> dict:
    campaign = FAMILIES[family][0](n_units=units, seed=seed)
    start = time.perf_counter()
    result = clean(
        campaign.ratings, honeypot=campaign.honeypot, ticket_counts=campaign.ticket_counts
    )
    seconds = time.perf_counter() - start
    reasons = response_reasons(campaign.ratings, result)
    caught: dict[str, list[bool]] = defaultdict(list)
    precise: dict[str, list[bool]] = defaultdict(list)
    honest_flagged: dict[str, list[bool]] = defaultdict(list)
    honest_weighed: list[bool] = []  # excluded or down-weighted, not only bias-adjusted
    role_of = dict(
        zip(campaign.ratings.response_id.tolist(), campaign.ratings.role.tolist(), strict=True)
    )
    default_ids = set(campaign.ratings.response_id[campaign.ratings.channel == "default"].tolist())
    for rid, kind in campaign.kind.items():
        got = reasons.get(rid, set())
        for reason in got:
            precise[reason].append(bool(kind))
        if kind:
            caught[kind].append(bool(got & EXPECTED_REASONS[kind]))
        elif rid not in default_ids:
            honest_flagged[role_of[rid]].append(bool(got))
            honest_weighed.append(bool(got - ADJUSTMENTS))
    estimates = {name: fn(campaign.ratings) for name, fn in references.ESTIMATORS.items()}
    estimates["oracle_drop"] = references.oracle_drop(campaign)
    estimates["as_stored"] = as_stored_means(campaign.ratings)
    estimates["pingyi"] = {(s.ratee, s.role): s.clean_mean for s in result.scores}
    errors = {
        name: {role: accuracy(est, campaign.truth, role) for role in ROLES}
        for name, est in estimates.items()
    }
    return {
        "answers": len(campaign.ratings),
        "seconds": seconds,
        "caught": caught,
        "precise": precise,
        "honest_flagged": honest_flagged,
        "honest_weighed": honest_weighed,
        "errors": errors,
    }


def report_family(family: str, runs: list[dict], units: int) -> bool:
    """Prints one family's tables; returns whether its targets were met."""
    seeds = len(runs)
    print(
        f"### {family}: {seeds} campaign(s) of {units} units, "
        f"{sum(r['answers'] for r in runs) // seeds:,} answers on average\n"
    )
    names = list(runs[0]["errors"])
    print("| estimator | " + " | ".join(f"{role} RMSE / raw | {role} ρ" for role in ROLES) + " |")
    print("| --- |" + " ---: | ---: |" * len(ROLES))
    ok = True
    mean = {
        (name, role): np.mean([r["errors"][name][role] for r in runs], axis=0)
        for name in names
        for role in ROLES
    }
    for name in ["pingyi"] + [n for n in names if n != "pingyi"]:
        cells = []
        for role in ROLES:
            (rmse, rho), (raw_rmse, raw_rho) = mean[(name, role)], mean[("raw_mean", role)]
            cells.append(f"{rmse / raw_rmse:.2f} ({rmse:.3f}) | {rho:.3f}")
        label = f"**{name}**" if name == "pingyi" else name
        print(f"| {label} | " + " | ".join(cells) + " |")
    for role, limit in (("public", 0.70), ("peer", 0.90)):
        (rmse, rho), (raw_rmse, raw_rho) = mean[("pingyi", role)], mean[("raw_mean", role)]
        ok &= rmse <= limit * raw_rmse and rho >= raw_rho - 1e-9
    print("\n| contamination | injected responses | recall (expected reason) |")
    print("| --- | ---: | ---: |")
    for kind in KINDS:
        hits = [h for r in runs for h in r["caught"].get(kind, [])]
        if not hits:
            continue
        recall = float(np.mean(hits))
        ok &= recall >= 0.8
        print(f"| {kind} | {len(hits)} | {recall:.3f} |")
    honest = [h for r in runs for v in r["honest_flagged"].values() for h in v]
    fpr = float(np.mean(honest))
    ok &= fpr <= 0.02
    print(f"| **honest responses flagged (any flag)** | {len(honest)} | **{fpr:.4f}** |")
    weighed = [h for r in runs for h in r["honest_weighed"]]
    print(
        f"| honest responses excluded or down-weighted | {len(weighed)} | {np.mean(weighed):.4f} |"
    )
    for role in ("public", "peer", "superior", "self"):
        by_role = [h for r in runs for h in r["honest_flagged"].get(role, [])]
        if by_role:
            print(f"| honest {role} responses flagged | {len(by_role)} | {np.mean(by_role):.4f} |")
    print("\n| reason | responses flagged | precision (share on contaminated responses) |")
    print("| --- | ---: | ---: |")
    for reason in sorted({k for r in runs for k in r["precise"]}):
        hits = [h for r in runs for h in r["precise"][reason]]
        print(f"| {reason} | {len(hits)} | {np.mean(hits):.3f} |")
    print(f"\ncleaning time per campaign: {np.mean([r['seconds'] for r in runs]):.2f} s")
    print(f"targets met: {'yes' if ok else 'NO'}\n")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one small campaign per family")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--family", choices=sorted(FAMILIES), action="append")
    args = parser.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    all_ok = True
    for family in args.family or list(FAMILIES):
        units = FAMILIES[family][2 if args.quick else 1]
        runs = [evaluate(family, units, 1000 + s) for s in range(seeds)]
        all_ok &= report_family(family, runs, units)
    print(f"all targets met: {'yes' if all_ok else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
