"""Stage 3: collusion (人情分) on the graph of rating residuals.

Near-linear: a large group of linked candidates is first peeled to its densest core
with a priority queue (O(E log V)); only that core, at most ``max_clique_size`` people,
is judged in detail.

An edge u -> v carries how far u's rating of v sits above v's consensus (median of the
ratings v received), beyond u's own habit (u's median deviation from consensus).
Reciprocal inflation is a pair whose edges both point up; a clique is a small group,
found by greedy peeling of a dense subgraph, whose members inflate each other while
everyone else rates them normally. A group is judged against its OUTSIDE ratings only:
consensus from non-members and habit towards non-members, so a large clique cannot
hide by moving its own consensus. Members' mutual ratings are excluded, and only when
every member has at least ``k`` ratings from outside the group: with fewer there is
nothing to compare with, and no score would be left to report.
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .config import CleaningConfig, CollusionConfig
from .ledger import Ledger
from .rater_effects import RaterModel
from .responses import ResponseTable, group_median
from .types import CollusionGroup


class ResidualGraph:
    """Ratings between people (rater pseudonym == ratee name) with their residuals."""

    def __init__(self, table: ResponseTable, model: RaterModel, mask: np.ndarray) -> None:
        rows = np.flatnonzero(mask)
        n = len(table.ratees)
        self.n = n
        value = table.score[rows] - model.intercept[rows]
        v = table.ratee_code[rows]
        u = table.person_code_of_rater[table.rater_code[rows]]
        consensus = group_median(v, value, n)
        deviation = value - consensus[v]
        habit = group_median(table.rater_code[rows], deviation, len(table.raters))
        self.rows, self.u, self.v, self.value = rows, u, v, value
        self.deviation = deviation
        self.residual = deviation - habit[table.rater_code[rows]]
        self.by_v = np.argsort(v, kind="stable")
        self.v_bounds = np.searchsorted(v[self.by_v], np.arange(n + 1))
        people = np.flatnonzero(u >= 0)
        self.by_u = people[np.argsort(u[people], kind="stable")]
        self.u_bounds = np.searchsorted(u[self.by_u], np.arange(n + 1))

    def pair_means(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys u*n+v, mean residual) for every directed pair of people."""
        keep = (self.u >= 0) & (self.u != self.v)
        key = self.u[keep].astype(np.int64) * self.n + self.v[keep]
        keys, inverse = np.unique(key, return_inverse=True)
        mean = np.bincount(inverse, weights=self.residual[keep]) / np.bincount(inverse)
        return keys, mean

    def _inside(self, group: list[int]) -> np.ndarray:
        """A membership mask over people, padded so that code -1 (not a person) reads
        False; small groups are checked thousands of times, so no np.isin."""
        mask = np.zeros(self.n + 1, bool)
        mask[group] = True
        return mask

    def group_edges(self, group: list[int]) -> dict[tuple[int, int], float]:
        """Residuals of members' mutual ratings against outside consensus and habit."""
        size = len(group)
        position = np.full(self.n + 1, -1)
        position[group] = np.arange(size)
        received = self.received_by(group)
        receiver, giver = position[self.v[received]], position[self.u[received]]
        # consensus of each member from outsiders (from everyone if no outsider rated)
        out = giver < 0
        cons_out = group_median(receiver[out], self.value[received[out]], size)
        everyone = group_median(receiver, self.value[received], size)
        cons_out = np.where(np.isnan(cons_out), np.nan_to_num(everyone), cons_out)
        # each member's habit towards outsiders
        given = self.given_by(group)
        rater, ratee = position[self.u[given]], position[self.v[given]]
        out = ratee < 0
        habit_out = np.nan_to_num(group_median(rater[out], self.deviation[given[out]], size))
        mutual = (ratee >= 0) & (rater != ratee)
        a, b = rater[mutual], ratee[mutual]
        excess = self.value[given[mutual]] - cons_out[b] - habit_out[a]
        pairs, inverse = np.unique(a * size + b, return_inverse=True)
        means = np.bincount(inverse, weights=excess) / np.bincount(inverse)
        return {
            (group[int(p) // size], group[int(p) % size]): float(x)
            for p, x in zip(pairs.tolist(), means.tolist(), strict=True)
        }

    def fewest_outside_raters(self, group: list[int]) -> int:
        """The smallest number of ratings a member received from outside the group."""
        inside = self._inside(group)
        counts = [
            int((~inside[self.u[self.by_v[self.v_bounds[m] : self.v_bounds[m + 1]]]]).sum())
            for m in group
        ]
        return min(counts) if counts else 0

    def given_by(self, group: list[int]) -> np.ndarray:
        """Edge indices of the ratings the members gave (slices, not a scan of all)."""
        parts = [self.by_u[self.u_bounds[m] : self.u_bounds[m + 1]] for m in group]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def received_by(self, group: list[int]) -> np.ndarray:
        parts = [self.by_v[self.v_bounds[m] : self.v_bounds[m + 1]] for m in group]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def mutual_rows(self, group: list[int]) -> np.ndarray:
        given = self.given_by(group)
        inside = self._inside(group)[self.v[given]] & (self.u[given] != self.v[given])
        return np.sort(self.rows[given[inside]])

    def outside_residual(self, group: list[int]) -> float:
        received = self.received_by(group)
        outside = received[~self._inside(group)[self.u[received]]]
        return float(np.mean(self.residual[outside])) if len(outside) else float("nan")


def _mutual_pairs(
    graph: ResidualGraph,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs u < v who rated each other: (u, v, residual u->v, residual v->u)."""
    n = graph.n
    keys, mean = graph.pair_means()
    u, v = keys // n, keys % n
    back = np.minimum(np.searchsorted(keys, v * n + u), max(len(keys) - 1, 0))
    mutual = (keys[back] == v * n + u) & (u < v) if len(keys) else np.zeros(0, bool)
    return u[mutual], v[mutual], mean[mutual], mean[back[mutual]]


def _find_cliques(
    graph: ResidualGraph, c: CollusionConfig, k: int
) -> list[tuple[list[int], dict[tuple[int, int], float]]]:
    u, v, uv, vu = _mutual_pairs(graph)
    # loose undirected edges link candidate groups; each group is then judged whole
    loose = (uv + vu) / 2 >= c.clique_edge
    cu, cv, weight = u[loose], v[loose], ((uv + vu) / 2)[loose]
    adjacency = sparse.coo_matrix((np.ones(len(cu)), (cu, cv)), shape=(graph.n, graph.n))
    _, label = connected_components(adjacency, directed=False)
    neighbours: dict[int, dict[int, float]] = {}
    for a, b, w in zip(cu.tolist(), cv.tolist(), weight.tolist(), strict=True):
        neighbours.setdefault(a, {})[b] = w
        neighbours.setdefault(b, {})[a] = w
    touched = np.unique(np.concatenate([cu, cv]))
    # members of each component from one sort, not a scan of all per component
    touched = touched[np.argsort(label[touched], kind="stable")]
    bounds = np.flatnonzero(np.diff(label[touched], prepend=-1, append=-1))
    cliques = []
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        members = touched[start:end].tolist()
        if len(members) >= 3:
            members = _densest(members, neighbours, c.max_clique_size)
            core = _peel(members, graph, c.clique_threshold, c.clique_member_min, c.max_clique_size)
            # a group is judged against outsiders: without k of them there is no evidence
            if core and graph.fewest_outside_raters(core[0]) >= k:
                cliques.append(core)
    return cliques


def _densest(members: list[int], neighbours: dict[int, dict[int, float]], size: int) -> list[int]:
    """Peels the member with the least inflated links (a heap of weighted degrees, so
    O(E log V)) until at most ``size`` remain: the densest core of a large component."""
    if len(members) <= size:
        return members
    degree = {m: sum(neighbours.get(m, {}).values()) for m in members}
    heap = [(d, m) for m, d in degree.items()]
    heapq.heapify(heap)
    alive = set(members)
    while len(alive) > size:
        d, m = heapq.heappop(heap)
        if m not in alive or d != degree[m]:
            continue  # a stale entry: the degree changed since it was pushed
        alive.remove(m)
        for other, w in neighbours.get(m, {}).items():
            if other in alive:
                degree[other] -= w
                heapq.heappush(heap, (degree[other], other))
    return sorted(alive)


def detect_collusion(
    table: ResponseTable, model: RaterModel, cfg: CleaningConfig, ledger: Ledger
) -> list[CollusionGroup]:
    c = cfg.collusion
    mask = model.mask.copy()
    found: list[tuple[str, list[int], dict[tuple[int, int], float], np.ndarray, float]] = []
    # cliques first, again after each exclusion: a clique's own ratings move the medians
    # its neighbours are judged by, so the rest is judged as if it had never rated
    for _ in range(3):
        graph = ResidualGraph(table, model, mask)
        cliques = _find_cliques(graph, c, cfg.aggregate.k)
        for members, edges in cliques:
            rows = graph.mutual_rows(members)
            found.append(("CLIQUE", members, edges, rows, graph.outside_residual(members)))
            mask[rows] = False
        if not cliques:
            break
    # pairs on global residuals: one inflated rating barely moves a median, and leaving
    # the partner out of the consensus would favour every pair, honest ones too. Again
    # repeated, so pairs are judged without the ratings already found collusive.
    for _ in range(3):
        graph = ResidualGraph(table, model, mask)
        u, v, uv, vu = _mutual_pairs(graph)
        pair = ((uv + vu) / 2 >= c.pair_threshold) & (np.minimum(uv, vu) >= c.pair_min_edge)
        for j in np.flatnonzero(pair).tolist():
            pair[j] = graph.fewest_outside_raters([int(u[j]), int(v[j])]) >= cfg.aggregate.k
        if not pair.any():
            break
        for a, b, ab, ba in zip(
            u[pair].tolist(), v[pair].tolist(), uv[pair].tolist(), vu[pair].tolist(), strict=True
        ):
            rows = graph.mutual_rows([a, b])
            found.append(
                (
                    "RECIPROCAL",
                    [a, b],
                    {(a, b): ab, (b, a): ba},
                    rows,
                    graph.outside_residual([a, b]),
                )
            )
            mask[rows] = False

    result: list[CollusionGroup] = []
    found.sort(key=lambda g: [str(table.ratees[m]) for m in g[1]])
    for kind, members, edges, rows, mean_out in found:
        names = [str(table.ratees[m]) for m in members]
        mean_in = float(np.mean(list(edges.values())))
        result.append(
            CollusionGroup(
                kind=kind,
                members=names,
                n_mutual_ratings=len(rows),
                mean_inside_residual=round(mean_in, 3),
                mean_outside_residual=round(mean_out, 3),
                edges=[
                    (str(table.ratees[a]), str(table.ratees[b]), round(r, 3))
                    for (a, b), r in sorted(edges.items())
                ],
            )
        )
        if kind == "RECIPROCAL":
            a, b = names
            ab, ba = edges[(members[0], members[1])], edges[(members[1], members[0])]
            detail = (
                f"{a} 与 {b} 互评：{a} 给 {b} 的评分比他人共识高 {ab:.2f} 分，"
                f"{b} 给 {a} 高 {ba:.2f} 分，而其他人给两人的评分平均仅偏离 {mean_out:+.2f} 分；"
                "二人互评不计入"
            )
        else:
            detail = (
                f"{len(names)} 人小团体（{'、'.join(names)}）互评平均比团体外共识高 "
                f"{mean_in:.2f} 分，而团体外的人给他们的评分平均仅偏离 {mean_out:+.2f} 分；"
                "团体内互评不计入"
            )
        ledger.add_response_flags(kind, "exclude", rows, 0.0, [detail] * len(rows))
    return result


def _peel(
    members: list[int],
    graph: ResidualGraph,
    group_min: float,
    member_min: float,
    max_size: int,
) -> tuple[list[int], dict[tuple[int, int], float]] | None:
    """Greedy peeling: drop the member least inflated by the rest until the group holds.

    A group holds when most member pairs rated each other both ways, their mutual
    ratings average at least ``group_min`` above outside consensus, and every member's
    ratings to and from the others average at least ``member_min``.
    """
    group = sorted(members)
    while len(group) >= 3:
        edges = graph.group_edges(group)
        scores = []
        for m in group:
            mine = [r for (a, b), r in edges.items() if m in (a, b)]
            scores.append(float(np.mean(mine)) if mine else -np.inf)
        both_ways = sum(1 for (a, b) in edges if a < b and (b, a) in edges)
        dense = both_ways >= 0.7 * len(group) * (len(group) - 1) / 2
        if (
            dense
            and len(group) <= max_size
            and np.mean(list(edges.values())) >= group_min
            and min(scores) >= member_min
        ):
            return group, edges
        if not edges:
            return None
        group.pop(min(range(len(group)), key=lambda k: (scores[k], group[k])))
    return None
