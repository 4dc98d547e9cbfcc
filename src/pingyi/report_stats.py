"""Pure computations behind the campaign report (the white paper).

No database and no web imports: everything takes plain values (dicts, lists, numbers,
datetimes) and returns plain values, so it is unit-testable and reusable. The
database side lives in ``pingyi.services.white_paper``.

The anonymity rules applied here (DESIGN.md section 3):

- Only score rows with ``reportable = True`` enter any aggregate. A ratee with fewer
  than ``k`` distinct raters contributes nothing anywhere, not even to a unit mean.
- Small-group suppression (:func:`suppress`): a breakdown cell with fewer than ``k``
  members is hidden, and so is its complementary cell, so that nobody can subtract
  the shown cells from a shown total to recover the hidden one.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar

from pingyi.stopwords import STOPWORDS

K = TypeVar("K", bound=Hashable)
TOTAL = "*"  # the key of a margin (row or column total) in a breakdown
LEVELS = (5, 4, 3, 2, 1)
SATISFIED_MIN = 4  # levels counted as satisfied (满意 and 非常满意), as the cleaning engine
DEFAULT_CHANNEL = "default"  # a platform's automatic rating: never counted anywhere


# --------------------------------------------------------------------------- series


def previous_campaign(
    campaigns: Iterable[Mapping[str, Any]], current: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The campaign of the same (non-empty) series with the latest ``period_end``
    before this one's ``period_end``; None when there is none."""
    series = current.get("series") or ""
    if not series:
        return None
    end: date = current["period_end"]
    earlier = [
        c
        for c in campaigns
        if (c.get("series") or "") == series
        and c["code"] != current["code"]
        and c["period_end"] < end
    ]
    return max(
        earlier, key=lambda c: (c["period_end"], c["period_start"], str(c["code"])), default=None
    )


# --------------------------------------------------------------------------- weights


def response_weights(flags: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """A flagged response's weight: the minimum over its live (not overridden) flags,
    as in the cleaning engine. Responses that are not in the map weigh 1."""
    weights: dict[str, float] = {}
    for f in flags:
        rid = str(f.get("response_id") or "")
        if not rid or f.get("overridden"):
            continue
        w = float(f.get("weight", 1.0))
        weights[rid] = min(weights.get(rid, 1.0), w)
    return weights


# --------------------------------------------------------------------------- public


@dataclass
class PublicStats:
    """Public ratings of one group (a unit, a window ...) after cleaning."""

    n: int = 0  # counted responses (default-channel ratings never count)
    n_used: int = 0  # with a weight above zero
    levels: dict[int, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    weight: float = 0.0
    satisfied_weight: float = 0.0
    score_weight: float = 0.0  # sum of weight * score on 0..100

    @property
    def satisfaction(self) -> float:
        return self.satisfied_weight / self.weight if self.weight > 0 else math.nan

    @property
    def mean_100(self) -> float:
        return self.score_weight / self.weight if self.weight > 0 else math.nan

    def add(self, level: int, weight: float, satisfied_min: int = SATISFIED_MIN) -> None:
        self.n += 1
        if weight <= 0:
            return
        self.n_used += 1
        self.levels[level] = self.levels.get(level, 0) + 1
        self.weight += weight
        self.satisfied_weight += weight * (level >= satisfied_min)
        self.score_weight += weight * (level - 1) * 25.0


def public_stats(
    ratings: Iterable[Mapping[str, Any]],
    weights: Mapping[str, float],
    key: Callable[[Mapping[str, Any]], K | None],
    satisfied_min: int = SATISFIED_MIN,
) -> dict[K, PublicStats]:
    """Public ratings (dicts with ``id``, ``level`` and ``channel``) grouped by ``key``
    (None: left out); weights from :func:`response_weights`."""
    out: dict[K, PublicStats] = {}
    for r in ratings:
        if r.get("channel") == DEFAULT_CHANNEL or r.get("level") not in LEVELS:
            continue
        group = key(r)
        if group is None:
            continue
        out.setdefault(group, PublicStats()).add(
            int(r["level"]), weights.get(str(r["id"]), 1.0), satisfied_min
        )
    return out


# --------------------------------------------------------------------------- suppression


def _is_margin(key: tuple[Hashable, Hashable]) -> bool:
    return key[0] == TOTAL or key[1] == TOTAL


def suppress(
    sizes: Mapping[tuple[Hashable, Hashable], int], k: int, column_totals: bool = True
) -> set[tuple[Hashable, Hashable]]:
    """Which entries of a two-way breakdown to hide.

    ``sizes`` maps ``(row, column)`` cells, e.g. (unit, post category), to the number of
    members behind them (ratees, or responses for public ratings); empty cells are
    absent. The report also shows row totals ``(row, TOTAL)``, column totals
    ``(TOTAL, column)`` when ``column_totals`` is true (false: the columns are nested in
    the rows, like windows in units, and have no totals of their own) and the grand
    total ``(TOTAL, TOTAL)``; their sizes are computed here.

    The rule (DESIGN.md section 3, "the difference of two outputs"):
    1. Primary: every cell or total with fewer than ``k`` members is hidden.
    2. Complementary: each line, i.e. a row's cells with the row total, a column's cells
       with the column total, and the totals with the grand total, is a sum someone
       could take apart. When exactly one entry of a line is hidden, the others would
       give it away by subtraction, so the next-smallest entry of that line (a cell
       before a total) is hidden too. Repeated until no line has exactly one hidden
       entry. Two hidden entries in a line reveal only their sum, and that sum has at
       least ``k`` members, because the complementary entry alone has.

    Returns the hidden keys, totals included.
    """
    cells = {key: n for key, n in sizes.items() if n > 0 and not _is_margin(key)}
    entries: dict[tuple[Hashable, Hashable], int] = dict(cells)
    rows: dict[Hashable, list[tuple[Hashable, Hashable]]] = defaultdict(list)
    cols: dict[Hashable, list[tuple[Hashable, Hashable]]] = defaultdict(list)
    for key in cells:
        rows[key[0]].append(key)
        cols[key[1]].append(key)
    for r, members in rows.items():
        entries[(r, TOTAL)] = sum(cells[m] for m in members)
    if column_totals:
        for c, members in cols.items():
            entries[(TOTAL, c)] = sum(cells[m] for m in members)
    if cells:
        entries[(TOTAL, TOTAL)] = sum(cells.values())

    lines: list[list[tuple[Hashable, Hashable]]] = [
        [*members, (r, TOTAL)] for r, members in rows.items()
    ]
    lines.append([*((r, TOTAL) for r in rows), (TOTAL, TOTAL)])
    if column_totals:
        lines.extend([*members, (TOTAL, c)] for c, members in cols.items())
        lines.append([*((TOTAL, c) for c in cols), (TOTAL, TOTAL)])

    return _close(entries, lines, k)


def suppress_tree(leaves: Mapping[tuple[Hashable, ...], int], k: int) -> set[tuple[Hashable, ...]]:
    """The same rule as :func:`suppress` for a nested breakdown, e.g. public ratings by
    unit, then window, then the staff member on duty: ``leaves`` maps paths such as
    ``(unit, window, staff)`` to sizes; every prefix of a path is a group whose size is
    the sum of its leaves, down to the root ``()``, the grand total. Each group with its
    children is a line. Returns the hidden paths (groups and leaves)."""
    entries: dict[tuple[Hashable, ...], int] = defaultdict(int)
    children: dict[tuple[Hashable, ...], set[tuple[Hashable, ...]]] = defaultdict(set)
    for path, n in leaves.items():
        if n <= 0:
            continue
        for depth in range(len(path) + 1):
            node = tuple(path[:depth])
            entries[node] += n
            if depth:
                children[tuple(path[: depth - 1])].add(node)
    lines = [[*sorted(kids, key=repr), parent] for parent, kids in children.items()]
    return _close(dict(entries), lines, k)


def _order(entries: Mapping[Any, int], total: Any, key: Any) -> tuple[bool, int, str]:
    return (key == total, entries[key], repr(key))


def _close(entries: Mapping[Any, int], lines: list[list[Any]], k: int) -> set[Any]:
    """Primary suppression (size under ``k``), then complementary suppression until no
    line has exactly one hidden entry. The last entry of each line is its total; the
    complement is the smallest other entry, a part before the total."""
    hidden = {key for key, n in entries.items() if n < k}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if len(line) < 2 or sum(key in hidden for key in line) != 1:
                continue
            shown = [key for key in line if key not in hidden]
            pick = min(shown, key=partial(_order, entries, line[-1]))
            hidden.add(pick)
            changed = True
    return hidden


# --------------------------------------------------------------------------- role scores


@dataclass
class Cell:
    n: int
    mean: float
    median: float
    suppressed: bool


def role_matrix(
    rows: Iterable[Mapping[str, Any]], role: str, k: int
) -> dict[tuple[Hashable, Hashable], Cell]:
    """Cleaned scores (0..100) of one role by (unit, post category), with row, column
    and grand totals. ``rows`` are score rows with ``unit`` and ``post_category`` added.
    Only ``reportable`` rows count; groups are suppressed by :func:`suppress` and a
    suppressed entry carries no number at all."""
    values: dict[tuple[Hashable, Hashable], list[float]] = defaultdict(list)
    for row in rows:
        if row.get("role") != role or not row.get("reportable"):
            continue
        score = row.get("score_100")
        if score is None or (isinstance(score, float) and math.isnan(score)):
            continue
        unit, category = row.get("unit"), row.get("post_category")
        if unit is None or category is None:
            continue
        values[(unit, category)].append(float(score))
    hidden = suppress({key: len(v) for key, v in values.items()}, k)
    grouped: dict[tuple[Hashable, Hashable], list[float]] = dict(values)
    for (unit, category), v in values.items():
        margins: tuple[tuple[Hashable, Hashable], ...] = (
            (unit, TOTAL),
            (TOTAL, category),
            (TOTAL, TOTAL),
        )
        for key in margins:
            grouped.setdefault(key, []).extend(v)
    out: dict[tuple[Hashable, Hashable], Cell] = {}
    for key, v in grouped.items():
        if key in hidden:
            out[key] = Cell(0, math.nan, math.nan, True)
        else:
            out[key] = Cell(len(v), statistics.fmean(v), statistics.median(v), False)
    return out


def score_bins(values: Iterable[float], width: int = 10) -> list[tuple[str, int]]:
    """How many scores (0..100) fall in each fixed band ("90–100", "80–90", ... best
    first): a distribution that shows no one's exact score, not even the extremes."""
    edges = list(range(0, 100, width))
    counts = dict.fromkeys(edges, 0)
    for v in values:
        if v is None or math.isnan(v):
            continue
        counts[edges[min(int(max(v, 0.0) // width), len(edges) - 1)]] += 1
    return [(f"{lo}–{min(lo + width, 100)}", counts[lo]) for lo in reversed(edges)]


# --------------------------------------------------------------------------- rankings


def rank(values: Mapping[Hashable, tuple[float, float]]) -> list[Hashable]:
    """Keys best first by (satisfaction rate, mean score), then by key; a key without
    a satisfaction rate comes last."""

    def order(key: Hashable) -> tuple[bool, float, float, str]:
        sat, mean = values[key]
        return (
            math.isnan(sat),
            -sat if not math.isnan(sat) else 0.0,
            -mean if not math.isnan(mean) else 0.0,
            repr(key),
        )

    return sorted(values, key=order)


def top_bottom(ranking: Sequence[Hashable], n: int = 5) -> tuple[list[Hashable], list[Hashable]]:
    """The best ``n`` and the worst ``n`` (worst first) without overlap: with fewer
    than ``2 n`` entries the list is split in half."""
    top = list(ranking[: min(n, math.ceil(len(ranking) / 2))])
    rest = list(ranking[len(top) :])
    bottom = rest[-n:][::-1] if rest else []
    return top, bottom


def last_positions(ranking: Sequence[Hashable], share: float = 0.1) -> list[Hashable]:
    """The last places of a ranking (worst first): ``share`` of it, at least one."""
    if not ranking:
        return []
    m = max(1, math.ceil(len(ranking) * share))
    return list(ranking[-m:])[::-1]


def last_in_both(
    current: Sequence[Hashable], previous: Sequence[Hashable], share: float = 0.1
) -> list[Hashable]:
    """Groups in the last places of both rankings (worst first in the current one)."""
    before = set(last_positions(previous, share))
    return [g for g in last_positions(current, share) if g in before]


# --------------------------------------------------------------------------- cases


@dataclass
class CaseStats:
    total: int = 0
    closed: int = 0
    open: int = 0
    overdue: int = 0  # open now and past a deadline
    escalated: int = 0
    contact_due_count: int = 0  # contacted, or whose contact deadline has passed
    contact_on_time: int = 0
    close_due_count: int = 0  # closed, or whose rectification deadline has passed
    close_on_time: int = 0
    contact_hours: list[float] = field(default_factory=list)
    close_days: list[float] = field(default_factory=list)

    @property
    def contact_rate(self) -> float:
        return self.contact_on_time / self.contact_due_count if self.contact_due_count else math.nan

    @property
    def close_rate(self) -> float:
        return self.close_on_time / self.close_due_count if self.close_due_count else math.nan

    @property
    def median_contact_hours(self) -> float:
        return statistics.median(self.contact_hours) if self.contact_hours else math.nan

    @property
    def median_close_days(self) -> float:
        return statistics.median(self.close_days) if self.close_days else math.nan


def case_overdue(case: Mapping[str, Any], now: datetime) -> bool:
    """Open and past a deadline (the rule of ``services.cases.is_overdue``)."""
    if case["state"] == "closed":
        return False
    late_contact = case.get("contacted_at") is None and case["contact_due"] < now
    return bool(late_contact or case["rectify_due"] < now)


def case_timeliness(cases: Iterable[Mapping[str, Any]], now: datetime) -> CaseStats:
    """Follow-up timeliness of bad-review cases: first contact within ``contact_due``,
    closing within ``rectify_due``; rates count only cases whose deadline has passed or
    that were done already."""
    s = CaseStats()
    for c in cases:
        s.total += 1
        closed = c["state"] == "closed" and c.get("closed_at") is not None
        s.closed += closed
        s.open += not closed
        s.overdue += case_overdue(c, now)
        s.escalated += bool(c.get("escalated"))
        contacted = c.get("contacted_at")
        if contacted is not None or c["contact_due"] < now:
            s.contact_due_count += 1
            s.contact_on_time += contacted is not None and contacted <= c["contact_due"]
        if contacted is not None:
            s.contact_hours.append(max(0.0, (contacted - c["opened_at"]).total_seconds() / 3600))
        if closed or c["rectify_due"] < now:
            s.close_due_count += 1
            s.close_on_time += closed and c["closed_at"] <= c["rectify_due"]
        if closed:
            s.close_days.append(max(0.0, (c["closed_at"] - c["opened_at"]).total_seconds() / 86400))
    return s


def group_by(
    items: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Hashable]
) -> dict[Hashable, list[Mapping[str, Any]]]:
    out: dict[Hashable, list[Mapping[str, Any]]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return dict(out)


# --------------------------------------------------------------------------- data quality


@dataclass
class QualityRow:
    reason: str
    live: int = 0  # decisions in force
    overridden: int = 0  # voided by a person
    responses: int = 0  # distinct responses concerned (live)
    raters: int = 0  # distinct raters concerned by rater-level decisions (live)
    actions: Counter[str] = field(default_factory=Counter)


def quality_summary(
    flags: Iterable[Mapping[str, Any]], reasons: Sequence[str]
) -> tuple[list[QualityRow], dict[str, int]]:
    """Per reason: decisions in force and voided, responses and raters concerned;
    and overall: responses excluded (weight 0), down-weighted, and decisions voided.
    Counts only: no pseudonym and no ratee leaves this function."""
    rows = {r: QualityRow(r) for r in reasons}
    responses: dict[str, set[str]] = defaultdict(set)
    raters: dict[str, set[str]] = defaultdict(set)
    flag_list = list(flags)
    for f in flag_list:
        row = rows.setdefault(f["reason"], QualityRow(f["reason"]))
        if f.get("overridden"):
            row.overridden += 1
            continue
        row.live += 1
        row.actions[f["action"]] += 1
        if f.get("response_id"):
            responses[f["reason"]].add(str(f["response_id"]))
        elif f.get("rater"):
            raters[f["reason"]].add(str(f["rater"]))
    for reason, row in rows.items():
        row.responses = len(responses[reason])
        row.raters = len(raters[reason])
    weights = response_weights(flag_list)
    totals = {
        "excluded": sum(1 for w in weights.values() if w <= 0),
        "downweighted": sum(1 for w in weights.values() if 0 < w < 1),
        "overridden": sum(r.overridden for r in rows.values()),
        "decisions": sum(r.live for r in rows.values()),
    }
    return list(rows.values()), totals


# --------------------------------------------------------------------------- keywords

# Words of this domain that jieba's general dictionary would split, so a complaint
# keeps its sense ("不耐烦", not "耐烦").
DOMAIN_WORDS = (
    "不耐烦",
    "不清楚",
    "不熟练",
    "不专业",
    "不规范",
    "不作为",
    "态度差",
    "态度好",
    "效率低",
    "效率高",
    "太慢",
    "很慢",
    "排长队",
    "多次跑",
    "跑多次",
    "一次办成",
    "推诿",
    "刁难",
    "乱收费",
    "吃拿卡要",
    "叫号",
    "取号",
    "预约",
    "网上办",
    "自助机",
)

_tokenizer: Any = None
_tokenizer_lock = threading.Lock()
_TAG = re.compile(r"<[^>]{0,200}>")
_WORD = re.compile(r"^[\w\u4e00-\u9fff]+$")
# numbers, and counts such as "三次" or "两个" (a numeral and a measure word)
_DIGITS = re.compile(
    r"^[\d._]+$|^[\d一二三四五六七八九十百千万两几半]+(?:个月|分钟|小时|[个次天周年月日号点遍趟位件])?$"
)


def _jieba() -> Any:
    """One jieba tokenizer of our own (its global one is left alone), built once."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            for word in DOMAIN_WORDS:
                tokenizer.add_word(word, freq=20000)
            _tokenizer = tokenizer
    return _tokenizer


def keywords(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """The content words of one comment, in order: jieba segmentation, then no stop
    words, no single characters, no numbers or counts, no punctuation; Latin words lower-cased."""
    out = []
    text = _TAG.sub(" ", text or "")  # markup typed into a comment is not its content
    for token in _jieba().lcut(text):
        word = token.strip().lower()
        if len(word) < 2 or word in stopwords:
            continue
        if not _WORD.match(word) or _DIGITS.match(word):
            continue
        out.append(word)
    return out


def keyword_counts(
    texts: Iterable[str], top: int = 10, stopwords: frozenset[str] = STOPWORDS
) -> list[tuple[str, int]]:
    """The ``top`` most frequent keywords and in how many comments each occurs (a
    comment repeating a word counts once); ties by the word itself."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(keywords(text, stopwords)))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


# Honorifics and diminutives a citizen puts around a surname ("李姐", "小王", "张师傅"):
# with a staff member's surname they name that person, so they go with the name.
_BEFORE_SURNAME = ("小", "老", "阿")
_AFTER_SURNAME = (
    "姐",
    "哥",
    "师傅",
    "老师",
    "主任",
    "科长",
    "处长",
    "局长",
    "所长",
    "经理",
    "大姐",
    "阿姨",
    "同志",
    "女士",
    "先生",
    "工",
)


_CJK_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,}$")


def name_terms(names: Iterable[str], others: Iterable[str] = ()) -> list[str]:
    """What to blank out of comments so that nobody is named: each staff name, its
    given name (the name without its first character, and its last two characters,
    for names of three or more characters), the surname with the usual honorifics and
    diminutives; plus ``others`` as they are (staff codes, window numbers and names)."""
    terms: set[str] = set()
    for raw in names:
        name = re.sub(r"\s+", "", raw or "")
        if not name:
            continue
        terms.add(name)
        if not _CJK_NAME.match(name):
            continue
        if len(name) >= 3:
            terms.update({name[1:], name[-2:]})
        surname = name[0]
        terms.update(f"{p}{surname}" for p in _BEFORE_SURNAME)
        terms.update(f"{surname}{s}" for s in _AFTER_SURNAME)
    terms.update(t.strip() for t in others if t and t.strip())
    return sorted((t for t in terms if t.isascii() or len(t) >= 2), key=lambda t: (-len(t), t))


class Blanker:
    """Blanks any of ``terms`` out of a text (longest first, case-insensitive); ASCII
    terms (codes, window numbers) only as whole words. A set lookup per position and
    term length, not one huge regular expression: there may be thousands of staff."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = frozenset(t.lower() for t in terms if t)
        self.lengths = sorted({len(t) for t in self.terms}, reverse=True)

    def _whole_word(self, low: str, start: int, end: int) -> bool:
        def word_char(c: str) -> bool:
            return c.isascii() and c.isalnum()

        return not (start > 0 and word_char(low[start - 1])) and not (
            end < len(low) and word_char(low[end])
        )

    def __call__(self, text: str) -> str:
        low = text.lower()
        if len(low) != len(text):  # a few characters change length when lower-cased
            low = text
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            for length in self.lengths:
                term = low[i : i + length]
                if (
                    len(term) == length
                    and term in self.terms
                    and (not term.isascii() or self._whole_word(low, i, i + length))
                ):
                    out.append(" ")
                    i += length
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def response_keywords(
    responses: Iterable[Sequence[str]],
    k: int,
    top: int = 10,
    remove: Callable[[str], str] | None = None,
    stopwords: frozenset[str] = STOPWORDS,
) -> tuple[int, list[tuple[str, int]]]:
    """Keywords of a group's public responses, each response given as all its texts
    (comment, free-text items, bad-review note): a word counts once per response
    however often that citizen wrote it; a word shows only when at least ``k`` distinct
    responses use it, and nothing shows for a group of fewer than ``k`` commenting
    responses. ``remove`` (a :class:`Blanker`) blanks names out before
    segmentation, so that no staff member is named. Returns (commenting responses,
    the ``top`` keywords with their response counts, most frequent first)."""
    counts: Counter[str] = Counter()
    commenting = 0
    for texts in responses:
        words: set[str] = set()
        said = False
        for text in texts:
            if not text or not text.strip():
                continue
            said = True
            if remove is not None:
                text = remove(text)
            words.update(keywords(text, stopwords))
        commenting += said
        counts.update(words)
    if commenting < k:
        return commenting, []
    kept = [(w, n) for w, n in counts.items() if n >= k]
    return commenting, sorted(kept, key=lambda kv: (-kv[1], kv[0]))[:top]


# --------------------------------------------------------------------------- folding


def fold_small(
    counts: Mapping[K, int], k: int, shown: Callable[[K], bool] | None = None
) -> tuple[list[K], list[K]]:
    """Split groups into those shown on their own and those folded into one "other"
    group: a group is folded when ``shown`` says it is hidden elsewhere (e.g. by the
    public tree) or when its count is under ``k``. While the folded groups together
    count fewer than ``k`` (and more stay shown) the smallest shown group is folded
    too, so that the "other" group, or the total minus the shown groups, never
    reveals fewer than ``k``. Returns (shown, folded), each in the order of ``counts``."""
    folded = {g for g, n in counts.items() if n < k or (shown is not None and not shown(g))}
    rest = sorted((g for g in counts if g not in folded), key=lambda g: (counts[g], repr(g)))
    while folded and sum(counts[g] for g in folded) < k and rest:
        folded.add(rest.pop(0))
    return [g for g in counts if g not in folded], [g for g in counts if g in folded]
