"""Partitions of a campaign that can be cleaned apart from one another.

Everything the per-partition stages compare stays inside one partition: a ratee with
all its ratings, every known rater (peer, superior, self) with everyone they rated and
the ratings of them as ratees, and every ticket with all its uses. Such groups are the
connected components of the graph ratee - known rater - ticket; public raters never
link anything (an interviewer or a phone would tie a province together). Components
are packed, in a fixed order, into partitions of about ``answers`` rows, so the plan
depends on the data alone, never on how many processes or workers run it.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .responses import factorize_column
from .types import Ratings


def components(ratings: Ratings) -> np.ndarray:
    """Component label per answer row (labels ordered by the component's first ratee)."""
    ratee, ratees = factorize_column(ratings, "ratee")
    rater, raters = factorize_column(ratings, "rater")
    ticket, tickets = factorize_column(ratings, "ticket")
    n_ratee, n_rater = len(ratees), len(raters)
    # a rater who is also rated is one person: one node
    own = {name: k for k, name in enumerate(ratees.tolist())}
    rater_node = np.array(
        [own.get(name, n_ratee + k) for k, name in enumerate(raters.tolist())], dtype=np.int64
    )
    known = (ratings.role != "public") & (ratings.rater != "")
    has_ticket = ratings.ticket != ""
    left = np.concatenate((rater_node[rater[known]], n_ratee + n_rater + ticket[has_ticket]))
    right = np.concatenate((ratee[known], ratee[has_ticket]))
    n = n_ratee + n_rater + len(tickets)
    graph = sparse.coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    # relabel by first ratee so labels do not depend on scipy's traversal order
    ratee_label = label[:n_ratee]
    _, first = np.unique(ratee_label, return_index=True)
    rank = np.empty(label.max() + 1 if len(label) else 0, np.int64)
    rank[ratee_label[np.sort(first)]] = np.arange(len(first))
    return rank[ratee_label][ratee] if len(ratee) else np.zeros(0, np.int64)


def plan(ratings: Ratings, answers: int) -> list[np.ndarray]:
    """Row indices of each partition: whole components, about ``answers`` rows each."""
    if len(ratings) == 0:
        return [np.zeros(0, np.int64)]  # one empty partition: the run still has a shape
    label = components(ratings)
    order = np.argsort(label, kind="stable")
    sizes = np.bincount(label)
    ends = np.cumsum(sizes)
    parts: list[np.ndarray] = []
    start = 0  # first row (in label order) of the partition being filled
    for end in ends.tolist():
        if end - start >= answers:
            parts.append(np.sort(order[start:end]))
            start = end
    if start < len(order):
        parts.append(np.sort(order[start:]))
    return parts
