"""Agency methods: interviewers and devices whose answers chance cannot explain.

INTERVIEWER covers two patterns an agency pays to catch (DESIGN.md 5):

- An interviewer (channel interview, phone or mystery; the rater column is their
  pseudonym) whose answers sit far from what everyone else recorded for the same
  windows: a mean gap of at least ``min_gap`` that is ``z`` standard errors from zero.
  Their responses are down-weighted.
- A day of nothing but top ratings from one interviewer or one phone fingerprint, when
  the windows' other ratings make that run improbable (probability below
  ``day_p``): the day's responses are excluded. A counter device is every citizen's
  and is never judged this way.

Both compare across the whole campaign (an interviewer visits windows of many units),
so a partition reports its evidence (``interviewer_evidence``), the campaign judges it
(``judge_interviewers``) and each partition applies the verdicts to its own responses
(``apply_interviewer_verdicts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import CleaningConfig
from .ledger import Ledger
from .responses import ResponseTable, stable_hash
from .types import DEFAULT_CHANNEL, DEVICE_CHANNEL

INTERVIEW_CHANNELS = ("interview", "phone", "mystery")


@dataclass
class _Rows:
    """What both the evidence and the verdicts need, computed the same way each time."""

    rows: np.ndarray  # interviewed responses with enough other ratings of the window
    rater: np.ndarray  # their interviewer's pseudonym
    gap: np.ndarray  # their score minus the window's other ratings' mean
    spread: np.ndarray  # the window's rating sd (floored)
    judged: np.ndarray  # dated responses of a known source (interviewer or phone)
    source: np.ndarray  # hash of the interviewer's pseudonym or the phone's fingerprint
    by_interviewer: np.ndarray  # bool: the source is an interviewer
    names: dict[int, str]  # interviewers' pseudonyms by hash (phones are never named)
    day: np.ndarray  # local day number per judged response
    top: np.ndarray  # bool per judged response
    log_chance: np.ndarray  # log chance of a top rating at its window


def _rows(table: ResponseTable, cfg: CleaningConfig, ledger: Ledger) -> _Rows:
    c = cfg.interviewers
    public = (table.role == "public") & (table.channel != DEFAULT_CHANNEL) & (ledger.weight > 0)
    interviewed = public & np.isin(table.channel, INTERVIEW_CHANNELS) & (table.rater_code >= 0)
    n_ratees = len(table.ratees)
    total = np.bincount(table.ratee_code[public], weights=table.score[public], minlength=n_ratees)
    count = np.bincount(table.ratee_code[public], minlength=n_ratees)
    square = np.bincount(
        table.ratee_code[public], weights=table.score[public] ** 2, minlength=n_ratees
    )
    rows = np.flatnonzero(interviewed)
    rater = table.rater_code[rows]
    ratee = table.ratee_code[rows]
    # others: the window's ratings minus this interviewer's own on that window
    key = rater * n_ratees + ratee
    own_total = np.bincount(key, weights=table.score[rows])
    own_count = np.bincount(key)
    others = count[ratee] - own_count[key]
    usable = others >= c.min_others
    others_mean = (total[ratee] - own_total[key]) / np.maximum(others, 1)
    window_var = square / np.maximum(count, 1) - (total / np.maximum(count, 1)) ** 2
    spread = np.sqrt(np.maximum(window_var[ratee], c.min_variance))

    top = table.overall_level() >= cfg.screening.top_score
    dated = public & np.isfinite(table.t) & (table.channel != DEVICE_CHANNEL)
    phone = dated & ~interviewed & (table.device_code >= 0)
    judged = np.flatnonzero((dated & interviewed) | phone)
    by_interviewer = interviewed[judged]
    # phones are many: they travel between partitions as hashes, not strings
    source = stable_hash(
        np.where(
            by_interviewer,
            table.rater[judged],
            np.append(table.devices, "").astype(object)[table.device_code[judged]],
        )
    )
    names = dict(
        zip(
            source[by_interviewer].tolist(),
            table.rater[judged][by_interviewer].tolist(),
            strict=True,
        )
    )
    day = np.floor(
        (table.t[judged] + cfg.opening_hours.utc_offset_hours * 3600.0) / 86400.0
    ).astype(np.int64)
    # chance of a top rating at these windows, from everyone else's ratings
    window_top = np.bincount(
        table.ratee_code[public], weights=top[public].astype(float), minlength=n_ratees
    ) / np.maximum(count, 1)
    chance = np.clip(window_top[table.ratee_code[judged]], 1e-6, 1.0)
    return _Rows(
        rows=rows[usable],
        rater=table.rater[rows[usable]].astype(str),
        gap=(table.score[rows] - others_mean)[usable],
        spread=spread[usable],
        judged=judged,
        source=source,
        by_interviewer=by_interviewer,
        names=names,
        day=day,
        top=top[judged],
        log_chance=np.log(chance),
    )


@dataclass
class InterviewerEvidence:
    """One partition's share: usable interviews, and per (source, day) its counts."""

    rater: np.ndarray
    gap: np.ndarray
    spread: np.ndarray
    source: np.ndarray  # per (source, kind, day) group: the source's hash
    by_interviewer: np.ndarray
    names: dict[int, str]  # interviewers' pseudonyms by hash
    day: np.ndarray
    size: np.ndarray
    tops: np.ndarray
    log_p: np.ndarray


@dataclass
class InterviewerVerdicts:
    biased: dict[str, str] = field(default_factory=dict)  # pseudonym -> detail
    # (source hash, by an interviewer, day) -> detail
    days: dict[tuple[int, bool, int], str] = field(default_factory=dict)


def _group(
    source: np.ndarray, by_interviewer: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(group per row, and per group: source hash, by an interviewer, day) of the rows'
    (source, kind, day) triples."""
    names, name_code = np.unique(source, return_inverse=True)
    span = int(day.max()) + 1
    key = (name_code.reshape(-1).astype(np.int64) * 2 + by_interviewer) * span + day
    keys, inverse = np.unique(key, return_inverse=True)
    return (
        inverse.reshape(-1),
        names[keys // span // 2],
        (keys // span % 2).astype(bool),
        keys % span,
    )


def interviewer_evidence(
    table: ResponseTable, cfg: CleaningConfig, ledger: Ledger
) -> InterviewerEvidence:
    r = _rows(table, cfg, ledger)
    if not len(r.judged):
        none = np.zeros(0)
        return InterviewerEvidence(
            r.rater,
            r.gap,
            r.spread,
            np.zeros(0, np.uint64),
            np.zeros(0, bool),
            {},
            np.zeros(0, np.int64),
            none,
            none,
            none,
        )
    inverse, source, by_interviewer, day = _group(r.source, r.by_interviewer, r.day)
    return InterviewerEvidence(
        r.rater,
        r.gap,
        r.spread,
        source,
        by_interviewer,
        r.names,
        day,
        size=np.bincount(inverse).astype(float),
        tops=np.bincount(inverse, weights=r.top.astype(float)),
        log_p=np.bincount(inverse, weights=r.log_chance),
    )


def judge_interviewers(
    evidence: Sequence[InterviewerEvidence], cfg: CleaningConfig
) -> InterviewerVerdicts:
    """The campaign's verdicts from every partition's evidence."""
    c = cfg.interviewers
    verdicts = InterviewerVerdicts()
    # 1. an interviewer's gap from everyone else's ratings of the same windows
    rater = np.concatenate([e.rater for e in evidence]).astype(str)
    if len(rater):
        gap = np.concatenate([e.gap for e in evidence])
        spread = np.concatenate([e.spread for e in evidence])
        names, code = np.unique(rater, return_inverse=True)
        n = np.bincount(code).astype(float)
        mean_gap = np.bincount(code, weights=gap) / n
        se = np.sqrt(np.bincount(code, weights=spread**2) / n / n)
        z = mean_gap / np.maximum(se, 1e-9)
        biased = (n >= c.min_responses) & (np.abs(mean_gap) >= c.min_gap) & (np.abs(z) >= c.z)
        for k in np.flatnonzero(biased).tolist():
            word = "高" if mean_gap[k] > 0 else "低"
            verdicts.biased[str(names[k])] = (
                f"访问员 {names[k]} 的 {int(n[k])} 份访问比其他渠道对同一窗口的评价"
                f"平均{word} {abs(mean_gap[k]):.2f} 分（约 {abs(z[k]):.1f} 个标准误），"
                f"超出偶然范围，权重降为 {c.weight:.2f}"
            )
    # 2. a day of only top ratings from one interviewer or phone, improbable by chance
    source = np.concatenate([e.source for e in evidence])
    if len(source):
        inverse, names, kind, day = _group(
            source,
            np.concatenate([e.by_interviewer for e in evidence]),
            np.concatenate([e.day for e in evidence]),
        )
        size = np.bincount(inverse, weights=np.concatenate([e.size for e in evidence]))
        tops = np.bincount(inverse, weights=np.concatenate([e.tops for e in evidence]))
        log_p = np.bincount(inverse, weights=np.concatenate([e.log_p for e in evidence]))
        suspicious = (size >= c.day_min) & (tops == size) & (log_p <= np.log(c.day_p))
        pseudonyms = {k: v for e in evidence for k, v in e.names.items()}
        for g in np.flatnonzero(suspicious).tolist():
            key, interviewer = int(names[g]), bool(kind[g])
            who = f"访问员 {pseudonyms[key]}" if interviewer else "同一设备指纹"
            verdicts.days[(key, interviewer, int(day[g]))] = (
                f"{who} 当天 {int(size[g])} 份评价全部满分；按这些窗口的其他评价，"
                f"偶然如此的概率约 {np.exp(log_p[g]):.1e}，整日不计"
            )
    return verdicts


def apply_interviewer_verdicts(
    table: ResponseTable, cfg: CleaningConfig, ledger: Ledger, verdicts: InterviewerVerdicts
) -> None:
    if not verdicts.biased and not verdicts.days:
        return
    r = _rows(table, cfg, ledger)
    for name, detail in sorted(verdicts.biased.items()):
        mine = r.rows[r.rater == name]
        if len(mine):
            ledger.add_response_flags(
                "INTERVIEWER", "downweight", mine, cfg.interviewers.weight, [detail] * len(mine)
            )
    for (key, interviewer, day), detail in sorted(verdicts.days.items()):
        members = r.judged[(r.source == key) & (r.by_interviewer == interviewer) & (r.day == day)]
        if len(members):
            ledger.add_response_flags(
                "INTERVIEWER", "exclude", members, 0.0, [detail] * len(members)
            )
