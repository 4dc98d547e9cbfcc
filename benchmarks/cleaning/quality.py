"""Quality benchmark: cleaned vs raw scores against the truth, recall and false positives.

    python benchmarks/cleaning/quality.py [--quick] [--units N] [--seeds K]

Prints Markdown tables. Seeded and bounded in time (a few seconds per seed).
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

from synth import EXPECTED_REASONS, KINDS, generate

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


def naive_means(ratings: Ratings) -> dict[tuple[str, str], float]:
    """What you get without cleaning: every response's score, default ratings included."""
    rid, inverse = np.unique(ratings.response_id.astype(str), return_inverse=True)
    n = len(rid)
    overall = np.full(n, np.nan)
    is_overall = ratings.item == "overall"
    overall[inverse[is_overall]] = ratings.score[is_overall]
    mean = np.bincount(inverse, ratings.score, n) / np.bincount(inverse, minlength=n)
    score = np.where(np.isnan(overall), mean, overall)
    first = np.unique(inverse, return_index=True)[1]
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for key_ratee, key_role, s in zip(
        ratings.ratee[first].tolist(), ratings.role[first].tolist(), score.tolist(), strict=True
    ):
        sums[(key_ratee, key_role)].append(s)
    return {k: float(np.mean(v)) for k, v in sums.items()}


def evaluate(units: int, seed: int) -> dict:
    campaign = generate(n_units=units, seed=seed)
    start = time.perf_counter()
    result = clean(
        campaign.ratings, honeypot=campaign.honeypot, ticket_counts=campaign.ticket_counts
    )
    seconds = time.perf_counter() - start
    reasons = response_reasons(campaign.ratings, result)
    caught: dict[str, list[bool]] = defaultdict(list)
    precise: dict[str, list[bool]] = defaultdict(list)
    honest_flagged: dict[str, list[bool]] = defaultdict(list)
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
    raw = naive_means(campaign.ratings)
    clean_means = {(s.ratee, s.role): s.clean_mean for s in result.scores}
    errors = {}
    for role in ("public", "peer", "superior"):
        keys = [k for k in campaign.truth if k[1] == role and k in raw and k in clean_means]
        keys = [k for k in keys if np.isfinite(clean_means[k])]
        t = np.array([campaign.truth[k] for k in keys])
        r = np.array([raw[k] for k in keys])
        c = np.array([clean_means[k] for k in keys])
        errors[role] = {
            "n": len(keys),
            "rmse_raw": float(np.sqrt(np.mean((r - t) ** 2))),
            "rmse_clean": float(np.sqrt(np.mean((c - t) ** 2))),
            "rho_raw": float(spearmanr(r, t).statistic),
            "rho_clean": float(spearmanr(c, t).statistic),
        }
    return {
        "answers": len(campaign.ratings),
        "seconds": seconds,
        "caught": caught,
        "precise": precise,
        "honest_flagged": honest_flagged,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one small campaign")
    parser.add_argument("--units", type=int, default=150, help="units (8-14 staff each)")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    units, seeds = (40, 1) if args.quick else (args.units, args.seeds)
    runs = [evaluate(units, 1000 + s) for s in range(seeds)]

    print(
        f"## Quality: {seeds} synthetic campaign(s), {units} units each, "
        f"{sum(r['answers'] for r in runs) // seeds:,} answers on average\n"
    )
    print("| role | ratees | RMSE raw | RMSE clean | clean/raw | Spearman raw | Spearman clean |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ok = True
    for role in ("public", "peer", "superior"):
        e = {k: np.mean([r["errors"][role][k] for r in runs]) for k in runs[0]["errors"][role]}
        ratio = e["rmse_clean"] / e["rmse_raw"]
        if role in ("public", "peer"):
            ok &= ratio <= 0.8
        print(
            f"| {role} | {e['n']:.0f} | {e['rmse_raw']:.3f} | {e['rmse_clean']:.3f} | "
            f"{ratio:.2f} | {e['rho_raw']:.3f} | {e['rho_clean']:.3f} |"
        )
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
    ok &= fpr <= 0.03
    print(f"| **honest: false-positive rate, any flag** | {len(honest)} | **{fpr:.4f}** |")
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
    print(f"targets met: {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
