"""SCRIPTED: one comment pasted, with small edits, into many responses.

Paid or organised praise arrives as the same sentence again and again. Comments are
normalised (NFKC, case, punctuation and spaces dropped), cut into character shingles
and summarised by MinHash; locality-sensitive hashing over bands finds pairs whose
estimated Jaccard similarity reaches ``similarity``, without comparing every pair
(near-linear in the number of comments). Short praise such as "很好" is never judged,
and a stock phrase that honest citizens write everywhere is not scripted: a cluster is
excluded where at least ``min_cluster`` of its comments pile up on one ratee beyond
what the phrase's use elsewhere and the ratee's share of all comments explain
(Poisson, below ``p_value``).
"""

from __future__ import annotations

import unicodedata
import zlib

import numpy as np
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from .config import CleaningConfig
from .ledger import Ledger
from .responses import ResponseTable
from .types import DEFAULT_CHANNEL

_PRIME = (1 << 61) - 1


def normalise(text: str) -> str:
    """Comparable form: NFKC, lower case, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def _shingles(text: str, size: int) -> np.ndarray:
    grams = {text[i : i + size] for i in range(max(len(text) - size + 1, 1))}
    return np.array([zlib.crc32(g.encode("utf-8")) for g in grams], dtype=np.uint64)


def minhash(texts: list[str], n_hashes: int, shingle: int, seed: int) -> np.ndarray:
    """(len(texts), n_hashes) MinHash signatures with universal hashes mod a prime."""
    rng = np.random.default_rng(seed)
    # a, b and the shingle hashes below 2^32: a*x + b stays inside 64 bits
    a = rng.integers(1, 1 << 32, n_hashes, dtype=np.uint64)
    b = rng.integers(0, 1 << 32, n_hashes, dtype=np.uint64)
    out = np.empty((len(texts), n_hashes), dtype=np.uint64)
    for i, text in enumerate(texts):
        x = _shingles(text, shingle)[:, None]
        out[i] = ((a * x + b) % np.uint64(_PRIME)).min(axis=0)
    return out


def flag_scripted(table: ResponseTable, cfg: CleaningConfig, ledger: Ledger) -> None:
    c = cfg.scripted
    # most responses carry no comment: only those with one are normalised
    written = np.flatnonzero((table.comment != "") & (table.channel != DEFAULT_CHANNEL))
    texts = {int(i): normalise(table.comment[i]) for i in written}
    rows = np.array([i for i, t in texts.items() if len(t) >= c.min_length], dtype=np.int64)
    if len(rows) < c.min_cluster:
        return
    signatures = minhash([texts[i] for i in rows], c.bands * c.rows, c.shingle, c.seed)
    # responses sharing any band's hash are candidates; each candidate pair is checked
    pairs: set[tuple[int, int]] = set()
    for band in range(c.bands):
        part = signatures[:, band * c.rows : (band + 1) * c.rows]
        _, bucket = np.unique(part, axis=0, return_inverse=True)
        order = np.argsort(bucket, kind="stable")
        starts = np.flatnonzero(np.diff(bucket[order], prepend=-1))
        ends = np.append(starts[1:], len(order))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            if e - s > 1:
                first = int(order[s])
                pairs.update((first, int(j)) for j in order[s + 1 : e].tolist())
    if not pairs:
        return
    left, right = np.array(sorted(pairs)).T
    similar = (signatures[left] == signatures[right]).mean(axis=1) >= c.similarity
    left, right = left[similar], right[similar]
    graph = sparse.coo_matrix((np.ones(len(left)), (left, right)), shape=(len(rows), len(rows)))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    # a stock phrase ("服务态度好，效率高") is written honestly everywhere; scripted praise
    # piles up on one ratee far beyond that ratee's share of all comments
    ratee = table.ratee_code[rows]
    share = np.bincount(ratee, minlength=len(table.ratees)) / len(rows)
    for cluster in np.flatnonzero(sizes >= c.min_cluster).tolist():
        in_cluster = rows[label == cluster]
        at, counts = np.unique(table.ratee_code[in_cluster], return_counts=True)
        # how often the phrase turns up elsewhere says how common it is: a stock phrase
        # is everywhere, a pasted one only here (one pseudo-count elsewhere)
        elsewhere = sizes[cluster] - counts + 1
        expected = elsewhere * share[at] / np.maximum(1 - share[at], 1e-9)
        chance = stats.poisson.sf(counts - 1, expected)
        for target, count, expect, p in zip(
            at.tolist(), counts.tolist(), expected.tolist(), chance.tolist(), strict=True
        ):
            if count < c.min_cluster or p >= c.p_value:
                continue
            members = in_cluster[table.ratee_code[in_cluster] == target]
            sample = table.comment[members[0]]
            sample = sample if len(sample) <= 40 else sample[:40] + "…"
            detail = (
                f"{count} 份对同一对象的评价留言相同或近乎相同（相似度 ≥ {c.similarity:.0%}），"
                f"如“{sample}”；按此话在别处的出现次数和该对象的留言占比只应约 {expect:.1f} 份"
                f"（偶然概率约 {p:.1e}），疑为统一组织或有偿的评价，不计"
            )
            ledger.add_response_flags("SCRIPTED", "exclude", members, 0.0, [detail] * count)
