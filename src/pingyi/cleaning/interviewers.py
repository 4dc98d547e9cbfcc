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
"""

from __future__ import annotations

import numpy as np

from .config import CleaningConfig
from .ledger import Ledger
from .responses import ResponseTable
from .types import DEFAULT_CHANNEL, DEVICE_CHANNEL

INTERVIEW_CHANNELS = ("interview", "phone", "mystery")


def flag_interviewers(table: ResponseTable, cfg: CleaningConfig, ledger: Ledger) -> None:
    c = cfg.interviewers
    public = (table.role == "public") & (table.channel != DEFAULT_CHANNEL) & (ledger.weight > 0)
    interviewed = public & np.isin(table.channel, INTERVIEW_CHANNELS) & (table.rater_code >= 0)
    n_ratees, n_raters = len(table.ratees), len(table.raters)

    # 1. an interviewer's gap from everyone else's ratings of the same windows
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
    gap = np.where(usable, table.score[rows] - others_mean, 0.0)
    window_var = square / np.maximum(count, 1) - (total / np.maximum(count, 1)) ** 2
    spread = np.sqrt(np.maximum(window_var[ratee], c.min_variance))
    n = np.bincount(rater[usable], minlength=n_raters).astype(float)
    mean_gap = np.bincount(rater[usable], weights=gap[usable], minlength=n_raters) / np.maximum(
        n, 1
    )
    se = np.sqrt(
        np.bincount(rater[usable], weights=spread[usable] ** 2, minlength=n_raters)
        / np.maximum(n, 1)
        / np.maximum(n, 1)
    )
    z = mean_gap / np.maximum(se, 1e-9)
    biased = (n >= c.min_responses) & (np.abs(mean_gap) >= c.min_gap) & (np.abs(z) >= c.z)
    for r in np.flatnonzero(biased).tolist():
        mine = rows[(rater == r) & usable]
        word = "高" if mean_gap[r] > 0 else "低"
        ledger.add_response_flags(
            "INTERVIEWER",
            "downweight",
            mine,
            c.weight,
            [
                f"访问员 {table.raters[r]} 的 {int(n[r])} 份访问比其他渠道对同一窗口的评价"
                f"平均{word} {abs(mean_gap[r]):.2f} 分（约 {abs(z[r]):.1f} 个标准误），"
                f"超出偶然范围，权重降为 {c.weight:.2f}"
            ]
            * len(mine),
        )

    # 2. a day of only top ratings from one interviewer or phone, improbable by chance
    overall = table.overall_level()
    top = overall >= cfg.screening.top_score
    dated = public & np.isfinite(table.t) & (table.channel != DEVICE_CHANNEL)
    source = np.where(
        interviewed, table.rater_code, np.where(dated & (table.device_code >= 0), -2, -1)
    )
    day = np.floor(
        (np.nan_to_num(table.t) + cfg.opening_hours.utc_offset_hours * 3600.0) / 86400.0
    ).astype(np.int64)
    # sources: interviewers by pseudonym, phones by fingerprint (offset past the raters)
    src = np.where(source >= 0, source, np.where(source == -2, n_raters + table.device_code, -1))
    judged = np.flatnonzero(dated & (src >= 0))
    if not len(judged):
        return
    pair = src[judged] * (int(day[judged].max()) + 1) + day[judged]
    _, inverse = np.unique(pair, return_inverse=True)
    size = np.bincount(inverse)
    tops = np.bincount(inverse, weights=top[judged].astype(float))
    # chance of a top rating at these windows, from everyone else's ratings
    window_top = np.bincount(
        table.ratee_code[public], weights=top[public].astype(float), minlength=n_ratees
    ) / np.maximum(count, 1)
    chance = np.clip(window_top[table.ratee_code[judged]], 1e-6, 1.0)
    log_p = np.bincount(inverse, weights=np.log(chance))
    suspicious = (size >= c.day_min) & (tops == size) & (log_p <= np.log(c.day_p))
    for g in np.flatnonzero(suspicious).tolist():
        members = judged[inverse == g]
        who = (
            f"访问员 {table.raters[table.rater_code[members[0]]]}"
            if interviewed[members[0]]
            else "同一设备指纹"
        )
        ledger.add_response_flags(
            "INTERVIEWER",
            "exclude",
            members,
            0.0,
            [
                f"{who} 当天 {int(size[g])} 份评价全部满分；按这些窗口的其他评价，"
                f"偶然如此的概率约 {np.exp(log_p[g]):.1e}，整日不计"
            ]
            * len(members),
        )
