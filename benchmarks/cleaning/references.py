"""Simple reference estimators of true scores, to put the cleaner's accuracy in context.

Every estimator takes a ``Ratings`` and returns {(ratee, role): estimate} for the roles
public, peer and superior. A response counts as its composite (the mean of its items);
responses on channel 'default' (automatic platform ratings) are ignored. Estimators
that model raters (rater_centred, additive_bias, pg1) leave public scores as the raw
mean, as citizens are anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

from pingyi.cleaning import Ratings

ROLES = ("public", "peer", "superior")
RATER_ROLES = ("peer", "superior")


@dataclass
class Responses:
    """One entry per response: its id, role, rater, ratee and composite score."""

    response_id: np.ndarray
    role: np.ndarray
    rater: np.ndarray
    ratee: np.ndarray
    score: np.ndarray

    def subset(self, keep: np.ndarray) -> Responses:
        return Responses(*(column[keep] for column in vars(self).values()))


def responses(ratings: Ratings) -> Responses:
    """Composites of the counted responses (roles public/peer/superior, not 'default')."""
    counted = (ratings.channel != "default") & np.isin(ratings.role, ROLES)
    ids = ratings.response_id[counted].astype(str)
    unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    composite = np.bincount(inverse, ratings.score[counted]) / np.bincount(inverse)
    pick = np.flatnonzero(counted)[first]
    return Responses(
        unique,
        ratings.role[pick].astype(str),
        ratings.rater[pick].astype(str),
        ratings.ratee[pick].astype(str),
        composite,
    )


def _group_mean(r: Responses, values: np.ndarray, reducer=np.mean) -> dict:
    """reducer(values) per (ratee, role)."""
    keys, inverse = np.unique(
        np.char.add(np.char.add(r.ratee, "\x1f"), r.role), return_inverse=True
    )
    groups = np.split(
        values[np.argsort(inverse, kind="stable")], np.cumsum(np.bincount(inverse))[:-1]
    )
    return {
        tuple(key.split("\x1f")): float(reducer(group))
        for key, group in zip(keys, groups, strict=True)
    }


def _per_role(ratings: Ratings, adjust) -> dict[tuple[str, str], float]:
    """Raw mean for public; for rater roles, the mean of ``adjust(role's responses)``."""
    r = responses(ratings)
    values = r.score.copy()
    for role in RATER_ROLES:
        mask = r.role == role
        if mask.any():
            values[mask] = adjust(r.subset(mask))
    return _group_mean(r, values)


def raw_mean(ratings: Ratings) -> dict[tuple[str, str], float]:
    """Mean of response composites per ratee and role."""
    r = responses(ratings)
    return _group_mean(r, r.score)


def median(ratings: Ratings) -> dict[tuple[str, str], float]:
    """Median of response composites per ratee and role."""
    r = responses(ratings)
    return _group_mean(r, r.score, np.median)


def rater_centred(ratings: Ratings) -> dict[tuple[str, str], float]:
    """Subtracts each rater's mean minus the role's grand mean, then averages per ratee."""

    def centre(r: Responses) -> np.ndarray:
        _, inverse = np.unique(r.rater, return_inverse=True)
        rater_mean = np.bincount(inverse, r.score) / np.bincount(inverse)
        return r.score - (rater_mean[inverse] - r.score.mean())

    return _per_role(ratings, centre)


def _additive_fit(r: Responses, ridge: float):
    """Least squares y = q_ratee + b_rater with ridge on b; returns (q, b) per response."""
    ratees, ti = np.unique(r.ratee, return_inverse=True)
    raters, ri = np.unique(r.rater, return_inverse=True)
    n, nt = len(r.score), len(ratees)
    rows = np.repeat(np.arange(n), 2)
    cols = np.column_stack([ti, nt + ri]).ravel()
    design = sparse.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(n, nt + len(raters)))
    penalty = sparse.diags(np.r_[np.zeros(nt), np.full(len(raters), ridge)])
    solution = spsolve((design.T @ design + penalty).tocsc(), design.T @ r.score)
    return solution[:nt][ti], solution[nt:][ri]


def additive_bias(ratings: Ratings, ridge: float = 1.0) -> dict[tuple[str, str], float]:
    """Per role, least squares y = mu + b_rater + q_ratee (small ridge on b); reports mu + q."""

    def debias(r: Responses) -> np.ndarray:
        quality, _ = _additive_fit(r, ridge)
        return quality  # every response of a ratee carries the same fitted mu + q

    return _per_role(ratings, debias)


def pg1(
    ratings: Ratings,
    gamma0: float = 2.0,
    eta0: float = 10.0,
    alpha: float = 2.0,
    beta: float = 0.4,
    iterations: int = 50,
) -> dict[tuple[str, str], float]:
    """Piech et al. 2013 PG1 (y ~ N(q + b_rater, 1/tau_rater)) by mean-field variational
    coordinate ascent per role, with mu the role's grand mean; returns posterior means of q."""

    def fit(r: Responses) -> np.ndarray:
        _, ti = np.unique(r.ratee, return_inverse=True)
        _, ri = np.unique(r.rater, return_inverse=True)
        y, mu = r.score, r.score.mean()
        n_rated = np.bincount(ri)
        q, b = np.full(ti.max() + 1, mu), np.zeros(ri.max() + 1)
        q_var, b_var = np.full(len(q), 1 / gamma0), np.full(len(b), 1 / eta0)
        tau = np.full(len(b), alpha / beta)
        for _ in range(iterations):
            precision = gamma0 + np.bincount(ti, tau[ri])
            q = (gamma0 * mu + np.bincount(ti, tau[ri] * (y - b[ri]))) / precision
            q_var = 1 / precision
            precision = eta0 + n_rated * tau
            b = tau * np.bincount(ri, y - q[ti]) / precision
            b_var = 1 / precision
            squared = (y - q[ti] - b[ri]) ** 2 + q_var[ti] + b_var[ri]
            tau = (alpha + n_rated / 2) / (beta + np.bincount(ri, squared) / 2)
        return q[ti]

    return _per_role(ratings, fit)


def oracle_drop(campaign) -> dict[tuple[str, str], float]:
    """Raw mean after dropping every response the campaign labels as contaminated."""
    r = responses(campaign.ratings)
    honest = np.array([campaign.kind.get(rid, "") == "" for rid in r.response_id], bool)
    honest_r = r.subset(honest)
    return _group_mean(honest_r, honest_r.score)


ESTIMATORS = {
    "raw_mean": raw_mean,
    "median": median,
    "rater_centred": rater_centred,
    "additive_bias": additive_bias,
    "pg1": pg1,
}
