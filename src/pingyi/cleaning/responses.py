"""One row per response (questionnaire), built from the answer rows, plus group helpers."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .types import OVERALL_ITEM, CleaningInputError, Ratings


def factorize(values: np.ndarray, empty_is_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Returns (codes, sorted uniques); codes index the uniques, -1 for '' if asked.

    A dict pass is much faster than sorting a million Python strings; only the uniques
    are sorted, so codes do not depend on row order.
    """
    seen: dict[str, int] = {}
    raw = np.fromiter((seen.setdefault(v, len(seen)) for v in values), np.int64, len(values))
    uniques = np.array(list(seen), dtype=object)
    order = np.argsort(uniques.astype(str), kind="stable") if len(uniques) else np.array([], int)
    rank = np.empty(len(uniques), np.int64)
    rank[order] = np.arange(len(uniques))
    codes = rank[raw] if len(raw) else raw
    uniques = uniques[order]
    if empty_is_missing and len(uniques) and uniques[0] == "":
        codes = codes - 1  # '' sorts first
        uniques = uniques[1:]
    return codes, uniques


def group_median(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per group id (NaN for empty groups), vectorised."""
    out = np.full(n_groups, np.nan)
    if len(values) == 0:
        return out
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = (v[lo] + v[hi]) / 2.0
    return out


def stable_hash(values: np.ndarray) -> np.ndarray:
    """64-bit hashes of strings, the same in every process and on every worker (Python's
    own ``hash`` is salted per process); vectorised over the characters."""
    text = np.asarray(values).astype(str)
    out = np.full(len(text), 0x243F6A8885A308D3, np.uint64)
    if not len(text) or text.dtype.itemsize == 0:
        return out
    for column in text.view(np.uint32).reshape(len(text), -1).T:
        out = mix64(out ^ column.astype(np.uint64))
    return out


def in_set(values: np.ndarray, keys: Collection[str]) -> np.ndarray:
    """``np.isin`` for strings by hashing: sorting millions of Python strings is slow."""
    if not keys:
        return np.zeros(len(values), bool)
    return np.fromiter((v in keys for v in values.tolist()), bool, len(values))


def dense_codes(code: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes renumbered over the values they use, in the values' order (no sort)."""
    used = np.bincount(code, minlength=len(values)) > 0
    number = np.cumsum(used) - 1
    return number[code].astype(np.int32), values[used]


def sorted_codes(code: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes over the used values sorted as strings: what ``factorize`` would return,
    for any reader's dictionary (sorting the k distinct values, not the n rows)."""
    code, values = dense_codes(code, values)
    order = np.argsort(values.astype(str), kind="stable")
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[code], values[order]


def with_codes(ratings: Ratings, names: Iterable[str]) -> Ratings:
    """The same answers with sorted dictionary codes for ``names``: the campaign is
    factorized once, and partitions take dense codes instead of hashing strings."""
    codes = dict(ratings.codes or {})
    for name in names:
        if name not in codes:
            code, values = factorize(getattr(ratings, name))
            codes[name] = (code.astype(np.int32), values)
    return dataclasses.replace(ratings, codes=codes)


def factorize_column(ratings: Ratings, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``factorize`` of one column, from the codes a Ratings carries when it has them
    (they are always sorted and dense: see ``sorted_codes`` and ``Ratings.take``)."""
    if ratings.codes and name in ratings.codes:
        codes, values = ratings.codes[name]
        return codes.astype(np.int64), values
    return factorize(getattr(ratings, name))


def _first_rows(
    ratings: Ratings, name: str, first: np.ndarray, empty_is_missing: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``factorize`` of a column at each response's first row."""
    if not (ratings.codes and name in ratings.codes):
        return factorize(getattr(ratings, name)[first], empty_is_missing)
    code, values = ratings.codes[name]
    dense, uniques = dense_codes(code[first], values)
    codes = dense.astype(np.int64)
    if empty_is_missing and len(uniques) and uniques[0] == "":
        return codes - 1, uniques[1:]
    return codes, uniques


@dataclass
class ResponseTable:
    """Per-response arrays (index = position in ``ids``, sorted by response id)."""

    ids: np.ndarray
    role: np.ndarray  # str
    rater: np.ndarray  # str, '' unknown
    rater_code: np.ndarray  # -1 unknown
    raters: np.ndarray  # rater code -> pseudonym
    ratee: np.ndarray
    ratee_code: np.ndarray
    ratees: np.ndarray
    person_code_of_rater: np.ndarray  # rater code -> ratee code of the same pseudonym, or -1
    t: np.ndarray  # UTC epoch seconds, NaN missing
    duration: np.ndarray
    device_code: np.ndarray  # -1 unknown
    devices: np.ndarray  # device code -> fingerprint
    ticket: np.ndarray
    ticket_code: np.ndarray  # -1 none
    channel: np.ndarray
    comment: np.ndarray  # free text of the response ('' none)
    score: np.ndarray  # the questionnaire's composite: weighted mean of the rating items
    overall: np.ndarray  # NaN when there is no overall item
    n_items: np.ndarray
    item_sd: np.ndarray  # population sd of item scores within the form
    straight: np.ndarray  # bool: all items identical
    answers_key: np.ndarray  # uint64 fingerprint of the (item, score) pairs: equal answers
    self_rated: np.ndarray  # bool: the rater pseudonym is the ratee (only right for role self)
    # answer rows, sorted by response then item
    answer_response: np.ndarray
    answer_score: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def overall_level(self) -> np.ndarray:
        """The overall item, or the composite where a response has none."""
        return np.where(np.isnan(self.overall), self.score, self.overall)


# (role, item) -> weight of the item in the response's composite; absent pairs weigh 1
ItemWeights = Mapping[tuple[str, str], float]


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads small integers over 64 bits (wrapping arithmetic)."""
    x = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def composite_weights(ratings: Ratings, item_weights: ItemWeights | None) -> np.ndarray:
    """Per answer row: its weight in the composite (DESIGN.md 5: the mean by default)."""
    if not item_weights:
        return np.ones(len(ratings))
    role_code, roles = factorize(ratings.role)
    item_code, items = factorize(ratings.item)
    table = np.array(
        [[float(item_weights.get((str(r), str(i)), 1.0)) for i in items.tolist()] for r in roles]
    )
    return table[role_code, item_code]


def _response_comments(
    ratings: Ratings, r_sorted: np.ndarray, order: np.ndarray, n: int
) -> np.ndarray:
    """A response's comment: the first non-empty one among its answer rows."""
    out = np.full(n, "", dtype=object)
    if ratings.comment is None:
        return out
    text = ratings.comment[order]
    has = np.flatnonzero(text != "")
    # reversed assignment leaves each response's first non-empty comment in place
    out[r_sorted[has[::-1]]] = text[has[::-1]]
    return out


def build_responses(ratings: Ratings, item_weights: ItemWeights | None = None) -> ResponseTable:
    """Collapses answers into responses; raises on a repeated (response, item) answer.

    A response's score is its composite: the weighted mean of its items, where
    ``item_weights`` may weight items per role or zero them ("overall only"); a
    response whose items all weigh zero falls back to the plain mean.
    """
    resp_code, ids = factorize_column(ratings, "response_id")
    item_code, _ = factorize_column(ratings, "item")
    order = np.lexsort((item_code, resp_code))
    r_sorted, i_sorted = resp_code[order], item_code[order]
    repeated = np.flatnonzero((r_sorted[1:] == r_sorted[:-1]) & (i_sorted[1:] == i_sorted[:-1]))
    if repeated.size:
        row = int(order[repeated[0] + 1]) + 1
        raise CleaningInputError(
            f"row {row}, column 'item': item {ratings.item[row - 1]!r} answered twice in "
            f"response {ratings.response_id[row - 1]!r}",
            row,
            "item",
        )
    n = len(ids)
    starts = np.concatenate(([0], np.flatnonzero(r_sorted[1:] != r_sorted[:-1]) + 1))
    first = order[starts] if n else np.array([], dtype=np.int64)
    score_rows = ratings.score[order]
    n_items = np.bincount(r_sorted, minlength=n)
    sums = np.bincount(r_sorted, weights=score_rows, minlength=n)
    squares = np.bincount(r_sorted, weights=score_rows**2, minlength=n)
    mean = sums / np.maximum(n_items, 1)
    item_sd = np.sqrt(np.maximum(squares / np.maximum(n_items, 1) - mean**2, 0.0))
    item_sd[item_sd < 1e-9] = 0.0
    item_max = np.full(n, -np.inf)
    item_min = np.full(n, np.inf)
    np.maximum.at(item_max, r_sorted, score_rows)
    np.minimum.at(item_min, r_sorted, score_rows)
    overall = np.full(n, np.nan)
    is_overall = ratings.item[order] == OVERALL_ITEM
    overall[r_sorted[is_overall]] = score_rows[is_overall]
    weights = composite_weights(ratings, item_weights)[order]
    weight_sum = np.bincount(r_sorted, weights=weights, minlength=n)
    weighted = np.bincount(r_sorted, weights=weights * score_rows, minlength=n)
    score = np.where(weight_sum > 0, weighted / np.where(weight_sum > 0, weight_sum, 1), mean)
    points = np.round(score_rows * 100).astype(np.int64)  # scores are 1..5, maybe fractional
    signature = mix64(i_sorted.astype(np.uint64) * np.uint64(1024) + points.astype(np.uint64))
    answers_key = np.zeros(n, np.uint64)
    np.add.at(answers_key, r_sorted, signature)

    rater = ratings.rater[first]
    ratee = ratings.ratee[first]
    rater_code, raters = _first_rows(ratings, "rater", first, empty_is_missing=True)
    ratee_code, ratees = _first_rows(ratings, "ratee", first, empty_is_missing=False)
    lookup = {name: i for i, name in enumerate(ratees.tolist())}
    person = np.array([lookup.get(name, -1) for name in raters.tolist()], dtype=np.int64)
    device_code, devices = _first_rows(ratings, "device", first, empty_is_missing=True)
    ticket = ratings.ticket[first]
    ticket_code, _ = _first_rows(ratings, "ticket", first, empty_is_missing=True)
    return ResponseTable(
        ids=ids,
        role=ratings.role[first],
        rater=rater,
        rater_code=rater_code,
        raters=raters,
        ratee=ratee,
        ratee_code=ratee_code,
        ratees=ratees,
        person_code_of_rater=person,
        t=ratings.submitted_at[first],
        duration=ratings.duration_s[first],
        device_code=device_code,
        devices=devices,
        ticket=ticket,
        ticket_code=ticket_code,
        channel=ratings.channel[first],
        comment=_response_comments(ratings, r_sorted, order, n),
        score=score,
        overall=overall,
        n_items=n_items,
        item_sd=item_sd,
        straight=(item_max - item_min) < 1e-9,
        answers_key=answers_key,
        self_rated=(rater_code >= 0) & (person[np.maximum(rater_code, 0)] == ratee_code)
        if len(person)
        else np.zeros(n, bool),
        answer_response=r_sorted,
        answer_score=score_rows,
    )
