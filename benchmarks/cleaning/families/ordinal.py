"""Ordinal family: a city bureau's 360 review answered through a graded-response model.

Real situation: staff quality is continuous but every answer is a 1..5 category, and
each rater uses the scale their own way. Units of 5-15 staff; everyone rates every
colleague on 6 items (overall, i2..i6) through a web link, in one sitting, sometimes in
the evening; a leader from outside the unit (``lead###``) rates everyone on the same
items. Quality is mostly high (unit levels ~ N(1.2, 0.5), staff ~ N(unit, 0.6) on the
latent scale), so many honest raters give 5s to strong colleagues (ceiling).

Answer model: P(X >= k) = logistic(a_item * (theta + item_effect + impression - tau_rk)),
k = 2..5. A rater's thresholds tau_r = typical thresholds stretched around their centre
by the rater's scale-use type (extreme users x0.55, 15%; middle users x1.6, 15%;
others x~1.0) and shifted by the rater's leniency (sd 0.3). Each response adds an
impression draw with a rater-specific sd (~0.35). Citizens answer the same way
(leniency sd 0.5) on overall/speed/courtesy by QR code, 20-150 per window, 1-2 windows
per unit, during hall hours (Mon-Sat 08:00-18:00 local).

Truth (public, peer, superior): the exact expected item mean given theta, averaged over
2000 honest raters (thresholds + impression) drawn with a fixed seed, so scale use is
noise, not truth.

Injected (labels per response): reciprocal pairs, one per ~5 units, rating each other
+1.5 latent (reciprocal); cliques of 3-4, one per ~8 units, +1.5 among members
(clique); of the other staff as raters, 5% lenient (+1.5 latent), 4% severe (-1.5), 2%
careless uniform-random answers (misfit), 2% one value on every item of every form
(straightline), all their responses labelled. Public: 3% speeders (duration 4-14% of
the median, one value tapped on every item), 2% duplicates (the same ticket submitted
again 0.5-10 minutes later, usually with identical answers; the copy is labelled).
No queue system: ticket_counts is empty.
"""

from __future__ import annotations

import numpy as np
from synth import Campaign

from families._common import (
    HALL_CLOSE_HOUR,
    HALL_OPEN_HOUR,
    Rows,
    fingerprint,
    local_times,
    open_days,
)

PEER_ITEMS = ("overall", "i2", "i3", "i4", "i5", "i6")
PEER_DISCRIMINATION = np.array([1.8, 1.5, 1.3, 1.6, 1.2, 1.4])
PEER_ITEM_EFFECT = np.array([0.0, 0.25, -0.3, 0.1, -0.15, 0.2])
PUBLIC_ITEMS = ("overall", "speed", "courtesy")
PUBLIC_DISCRIMINATION = np.array([1.7, 1.3, 1.5])
PUBLIC_ITEM_EFFECT = np.array([0.0, -0.4, 0.2])

TYPICAL_THRESHOLDS = np.array([-1.8, -0.9, 0.2, 1.3])  # tau_2..tau_5 of a typical rater
SCALE_USE = np.array([0.55, 1.0, 1.6])  # extreme users, typical, middle-of-scale users
SCALE_USE_SHARE = np.array([0.15, 0.70, 0.15])
STAFF_LENIENCY_SD = 0.3
CITIZEN_LENIENCY_SD = 0.5
IMPRESSION_SD = 0.35

BIASED_SHIFT = 1.5  # latent inflation of reciprocal/clique/lenient raters
RATER_KIND_SHARE = {"lenient": 0.05, "severe": 0.04, "misfit": 0.02, "straightline": 0.02}
SPEEDER_SHARE, DUPLICATE_SHARE = 0.03, 0.02
PUBLIC_MEDIAN_DURATION = 45.0
TRUTH_POPULATION = 2000


def _raters(rng: np.random.Generator, n: int, leniency_sd: float):
    """Honest raters: threshold vectors (n, 4) and per-rater impression sd (n,)."""
    scale = rng.choice(SCALE_USE, size=n, p=SCALE_USE_SHARE) * rng.lognormal(0, 0.1, n)
    centre = TYPICAL_THRESHOLDS.mean()
    shift = rng.normal(0, leniency_sd, n)
    thresholds = centre + shift[:, None] + scale[:, None] * (TYPICAL_THRESHOLDS - centre)
    return thresholds, IMPRESSION_SD * rng.lognormal(0, 0.4, n)


def _at_least(latent, thresholds, discrimination, item_effect):
    """P(X >= k), shape (..., items, 4), for latent (...,) and thresholds (..., 4)."""
    z = latent[..., None, None] + item_effect[:, None] - thresholds[..., None, :]
    return 1.0 / (1.0 + np.exp(-discrimination[:, None] * z))


def _answer(rng, latent, thresholds, discrimination, item_effect) -> np.ndarray:
    """Draws categories (responses, items); one uniform per answer as P(X>=k) is nested."""
    p = _at_least(latent, thresholds, discrimination, item_effect)
    u = rng.random(p.shape[:-1])
    return 1 + (u[..., None] < p).sum(-1)


def _expected(theta, population, discrimination, item_effect) -> np.ndarray:
    """Expected item mean of one honest response for each theta: E[X] = 1 + sum P(X>=k)."""
    thresholds, impression = population
    out = np.empty(len(theta))
    for start in range(0, len(theta), 50):  # chunks keep the (theta, raters, items, 4) array small
        chunk = theta[start : start + 50, None] + impression[None, :]
        p = _at_least(chunk, thresholds[None], discrimination, item_effect)
        out[start : start + 50] = 1 + p.sum(-1).mean((-1, -2))
    return out


def _truth_population(seed: int, leniency_sd: float):
    rng = np.random.default_rng([seed, 7])
    thresholds, impression_sd = _raters(rng, TRUTH_POPULATION, leniency_sd)
    return thresholds, rng.normal(0, impression_sd)


def generate(n_units: int, seed: int) -> Campaign:
    rng = np.random.default_rng(seed)
    rows = Rows("o")
    truth: dict[tuple[str, str], float] = {}
    weekdays, hall_days = open_days(2, 5), open_days(2, 6)

    sizes = rng.integers(5, 16, n_units)
    unit_level = rng.normal(1.2, 0.5, n_units)
    staff_unit = np.repeat(np.arange(n_units), sizes)
    staff = np.array([f"u{u:03d}m{k:02d}" for u, n in enumerate(sizes) for k in range(n)])
    theta = unit_level[staff_unit] + rng.normal(0, 0.6, len(staff))
    thresholds, impression_sd = _raters(rng, len(staff), STAFF_LENIENCY_SD)

    # Collusion: disjoint units host the reciprocal pairs and the cliques.
    units = rng.permutation(n_units)
    n_pairs, n_cliques = int(n_units / 5 + 0.5), int(n_units / 8 + 0.5)
    colluding: dict[int, tuple[str, list[int]]] = {}  # staff index -> (kind, partners)
    for u, size in [(u, 2) for u in units[:n_pairs]] + [
        (u, int(rng.integers(3, 5))) for u in units[n_pairs : n_pairs + n_cliques]
    ]:
        members = list(rng.choice(np.flatnonzero(staff_unit == u), size, replace=False))
        for m in members:
            colluding[m] = ("reciprocal" if size == 2 else "clique", members)

    rater_kind = np.full(len(staff), "", dtype=object)
    free = rng.permutation([i for i in range(len(staff)) if i not in colluding])
    start = 0
    for kind, share in RATER_KIND_SHARE.items():
        count = int(share * len(staff) + 0.5)
        rater_kind[free[start : start + count]] = kind
        start += count
    thresholds[rater_kind == "lenient"] -= BIASED_SHIFT
    thresholds[rater_kind == "severe"] += BIASED_SHIFT
    straight_value = rng.choice([3, 4, 5], size=len(staff), p=[0.2, 0.4, 0.4])

    leaders = [f"lead{u:03d}" for u in range(n_units)]
    leader_thresholds, leader_impression_sd = _raters(rng, n_units, STAFF_LENIENCY_SD)

    for u in range(n_units):
        members = np.flatnonzero(staff_unit == u)
        forms = [(r, t) for r in members for t in members if r != t]
        raters = np.array([r for r, _ in forms])
        ratees = np.array([t for _, t in forms])
        latent = theta[ratees] + rng.normal(0, impression_sd[raters])
        kinds = rater_kind[raters].copy()
        for i, (r, t) in enumerate(forms):
            if r in colluding and t in colluding[r][1]:
                latent[i] += BIASED_SHIFT
                kinds[i] = colluding[r][0]
        scores = _answer(rng, latent, thresholds[raters], PEER_DISCRIMINATION, PEER_ITEM_EFFECT)
        careless = kinds == "misfit"
        scores[careless] = rng.integers(1, 6, (careless.sum(), len(PEER_ITEMS)))
        straight = kinds == "straightline"
        scores[straight] = straight_value[raters[straight], None]

        # Each rater fills all their forms in one sitting on a weekday, 08:30-21:30.
        durations = rng.lognormal(np.log(70), 0.35, len(forms))
        durations[careless | straight] *= 0.3
        sitting = {r: local_times(rng, 1, weekdays, 8.5, 20.5)[0] for r in members}
        elapsed = dict.fromkeys(members, 0.0)
        for i, (r, t) in enumerate(forms):
            elapsed[r] += durations[i] + 5
            rows.add(
                role="peer",
                rater=staff[r],
                ratee=staff[t],
                items=PEER_ITEMS,
                scores=scores[i],
                at=sitting[r] + elapsed[r],
                duration=durations[i],
                device=fingerprint("staff", seed, staff[r]),
                channel="link",
                kind=kinds[i],
            )

        latent = theta[members] + rng.normal(0, leader_impression_sd[u], len(members))
        boss = np.repeat(leader_thresholds[u][None], len(members), 0)
        scores = _answer(rng, latent, boss, PEER_DISCRIMINATION, PEER_ITEM_EFFECT)
        when = local_times(rng, 1, weekdays, 9, 17)[0] + 90 * np.arange(len(members))
        for i, t in enumerate(members):
            rows.add(
                role="superior",
                rater=leaders[u],
                ratee=staff[t],
                items=PEER_ITEMS,
                scores=scores[i],
                at=when[i],
                duration=rng.lognormal(np.log(80), 0.3),
                device=fingerprint("leader", seed, leaders[u]),
                channel="link",
            )

    staff_truth = _expected(
        theta,
        _truth_population(seed, STAFF_LENIENCY_SD),
        PEER_DISCRIMINATION,
        PEER_ITEM_EFFECT,
    )
    for name, value in zip(staff, staff_truth, strict=True):
        truth[str(name), "peer"] = truth[str(name), "superior"] = float(value)

    # Public: 1-2 windows per unit, each with 20-150 QR ratings during hall hours.
    window_unit = np.repeat(np.arange(n_units), 1 + (rng.random(n_units) < 0.5))
    windows = np.array([f"w{u:03d}{chr(97 + k)}" for u, k in _ranks(window_unit)])
    window_quality = unit_level[window_unit] + rng.normal(0, 0.5, len(windows))
    window_truth = _expected(
        window_quality,
        _truth_population(seed + 1, CITIZEN_LENIENCY_SD),
        PUBLIC_DISCRIMINATION,
        PUBLIC_ITEM_EFFECT,
    )
    for w, window in enumerate(windows):
        truth[str(window), "public"] = float(window_truth[w])
        n = int(rng.integers(20, 151))
        citizen_thresholds, citizen_impression_sd = _raters(rng, n, CITIZEN_LENIENCY_SD)
        latent = window_quality[w] + rng.normal(0, citizen_impression_sd)
        scores = _answer(rng, latent, citizen_thresholds, PUBLIC_DISCRIMINATION, PUBLIC_ITEM_EFFECT)
        durations = rng.lognormal(np.log(PUBLIC_MEDIAN_DURATION), 0.4, n)
        speeder = rng.random(n) < SPEEDER_SHARE
        durations[speeder] = PUBLIC_MEDIAN_DURATION * rng.uniform(0.04, 0.14, speeder.sum())
        tapped = np.where(rng.random(n) < 0.5, 5, rng.integers(1, 6, n))
        scores[speeder] = tapped[speeder, None]
        when = local_times(rng, n, hall_days, HALL_OPEN_HOUR, HALL_CLOSE_HOUR - 0.2)
        for i in range(n):
            ticket, device = f"Q{w:03d}-{i:04d}", fingerprint("phone", seed, w, i)
            common = dict(role="public", rater="", ratee=window, items=PUBLIC_ITEMS)
            rows.add(
                **common,
                scores=scores[i],
                at=when[i],
                duration=durations[i],
                device=device,
                ticket=ticket,
                channel="qr",
                kind="speeder" if speeder[i] else "",
            )
            if not speeder[i] and rng.random() < DUPLICATE_SHARE:
                again = scores[i].copy()
                if rng.random() < 0.3:  # re-answered rather than re-sent: one item moves
                    j = rng.integers(len(again))
                    again[j] = np.clip(again[j] + rng.choice([-1, 1]), 1, 5)
                rows.add(
                    **common,
                    scores=again,
                    at=when[i] + rng.uniform(30, 600),
                    duration=rng.lognormal(np.log(PUBLIC_MEDIAN_DURATION), 0.4),
                    device=device,
                    ticket=ticket,
                    channel="qr",
                    kind="duplicate",
                )
    return rows.campaign(truth)


def _ranks(groups: np.ndarray):
    """(group, rank within group) for a sorted group array."""
    seen: dict[int, int] = {}
    for g in groups:
        seen[g] = seen.get(g, -1) + 1
        yield int(g), seen[g]
