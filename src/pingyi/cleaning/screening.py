"""Stage 1: response screening.

Duplicates, bots, speeders, straight-lining, submissions outside opening hours and
ballot-stuffing bursts. Everything is vectorised over responses (sort + compare
neighbours, searchsorted windows) so a million answers take a few seconds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .config import CleaningConfig, OpeningHours
from .ledger import Ledger
from .responses import ResponseTable
from .types import DEFAULT_CHANNEL, DEVICE_CHANNEL

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# (ratee, hour start as UTC epoch seconds) -> tickets served in that hour
TicketCounts = Mapping[tuple[str, float], int]


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def role_median_durations(
    role: np.ndarray, duration: np.ndarray, min_group: int
) -> dict[str, float]:
    """The campaign's typical time per questionnaire role (speeders are judged by it)."""
    medians: dict[str, float] = {}
    for name in np.unique(role).tolist():
        d = duration[(role == name) & np.isfinite(duration)]
        if len(d) >= min_group:
            medians[str(name)] = float(np.median(d))
    return medians


def role_values(role: np.ndarray, values: Mapping[str, float]) -> np.ndarray:
    """``values[role]`` per response (NaN for a role without one), without a Python loop."""
    out = np.full(len(role), np.nan)
    for name, value in values.items():
        out[role == name] = value
    return out


def flag_bots(
    table: ResponseTable, cfg: CleaningConfig, ledger: Ledger, honeypot: np.ndarray
) -> None:
    c = cfg.screening
    min_time = np.maximum(c.bot_min_duration_s, c.bot_seconds_per_item * table.n_items)
    too_fast = np.isfinite(table.duration) & (table.duration < min_time)
    idx = np.flatnonzero(honeypot | too_fast)
    details = [
        "触发了蜜罐题（真人看不到的隐藏题被作答），判定为机器提交"
        if honeypot[i]
        else f"用时 {_fmt_s(table.duration[i])} 完成 {table.n_items[i]} 题，"
        f"低于人工作答下限 {_fmt_s(min_time[i])}，判定为机器提交"
        for i in idx.tolist()
    ]
    ledger.add_response_flags("BOT", "exclude", idx, 0.0, details)


def flag_duplicates(table: ResponseTable, cfg: CleaningConfig, ledger: Ledger) -> None:
    n = len(table)
    t_sort = np.where(np.isfinite(table.t), table.t, np.inf)
    index = np.arange(n)
    dup = np.zeros(n, bool)
    by_ticket = np.zeros(n, bool)
    first_of = np.full(n, -1)
    gap = np.full(n, np.nan)

    # same ticket: one service, one rating; keep the earliest
    has = np.flatnonzero(table.ticket_code >= 0)
    order = has[np.lexsort((index[has], t_sort[has], table.ticket_code[has]))]
    starts = np.ones(len(order), bool)
    starts[1:] = table.ticket_code[order[1:]] != table.ticket_code[order[:-1]]
    run_first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    later = np.flatnonzero(~starts)
    dup[order[later]] = by_ticket[order[later]] = True
    first_of[order[later]] = order[run_first[later]]

    # the same fingerprint, the same ratee and the same answers within minutes, with no
    # distinct ticket: a resubmission. A fingerprint is a device or a hall's network,
    # never a person, and a counter device's fingerprint is every citizen's: not used.
    # A known rater (a peer's one-time link) is identified already: colleagues filling
    # their forms on one office PC are different people.
    has = np.flatnonzero(
        (table.device_code >= 0)
        & np.isfinite(table.t)
        & (table.channel != DEVICE_CHANNEL)
        & (table.rater_code < 0)
    )
    keys = (
        index[has],
        table.t[has],
        table.answers_key[has],
        table.ratee_code[has],
        table.device_code[has],
    )
    order = has[np.lexsort(keys)]
    prev, nxt = order[:-1], order[1:]
    close = (
        (table.device_code[nxt] == table.device_code[prev])
        & (table.ratee_code[nxt] == table.ratee_code[prev])
        & (table.answers_key[nxt] == table.answers_key[prev])
        & (table.t[nxt] - table.t[prev] <= cfg.screening.duplicate_window_s)
        & (table.ticket_code[nxt] < 0)  # a new ticket is a new service, a new citizen
    )
    prev, nxt = prev[close], nxt[close]
    new = ~dup[nxt]
    dup[nxt[new]] = True
    first_of[nxt[new]] = prev[new]
    gap[nxt[new]] = table.t[nxt[new]] - table.t[prev[new]]

    idx = np.flatnonzero(dup)
    window_min = cfg.screening.duplicate_window_s / 60
    details = [
        f"票号 {table.ticket[i]} 已由回答 {table.ids[first_of[i]]} 评价过，同一次办理只计一次"
        if by_ticket[i]
        else f"同一设备指纹 {gap[i] / 60:.1f} 分钟后对同一对象提交了完全相同的答案，且没有新的票号"
        f"（{window_min:.0f} 分钟内只计第一次，首次为回答 {table.ids[first_of[i]]}）"
        for i in idx.tolist()
    ]
    ledger.add_response_flags("DUPLICATE", "exclude", idx, 0.0, details)


def flag_speeders(
    table: ResponseTable, cfg: CleaningConfig, ledger: Ledger, medians: Mapping[str, float]
) -> None:
    c = cfg.screening
    median = role_values(table.role, medians)
    speed = np.isfinite(table.duration) & (table.duration < c.speeder_fraction * median)
    speed &= ledger.weight > 0  # bots and duplicates are already out
    idx = np.flatnonzero(speed)
    pct = round(c.speeder_fraction * 100)
    details = [
        f"用时 {_fmt_s(table.duration[i])}，低于该问卷（{table.role[i]}）"
        f"中位用时 {_fmt_s(median[i])} 的 {pct}%"
        for i in idx.tolist()
    ]
    ledger.add_response_flags("SPEEDER", "exclude", idx, 0.0, details)


def flag_straightlining(
    table: ResponseTable, cfg: CleaningConfig, ledger: Ledger, medians: Mapping[str, float]
) -> None:
    c = cfg.screening
    long_form = table.n_items >= c.straightline_min_items
    straight = long_form & table.straight
    known = table.rater_code >= 0
    n_raters = len(table.raters)
    forms = np.bincount(table.rater_code[known & long_form], minlength=n_raters)
    flat = np.bincount(table.rater_code[known & straight], minlength=n_raters)
    # pad with one zero so that code -1 (unknown rater) reads the pad
    share = np.append(flat / np.maximum(forms, 1), 0.0)
    rater_share = share[table.rater_code]
    rater_flat = np.append(flat, 0)[table.rater_code]
    rater_forms = np.append(forms, 0)[table.rater_code]
    # what the rater's colleagues did for the same ratees: all-5 forms for a strong
    # colleague are honest when the others give them too (a ceiling, not a habit)
    ratee_forms = np.bincount(table.ratee_code[long_form], minlength=len(table.ratees))
    ratee_flat = np.bincount(table.ratee_code[straight], minlength=len(table.ratees))
    others = ratee_forms[table.ratee_code] - long_form
    others_flat = ratee_flat[table.ratee_code] - straight
    others_share = np.where(others > 0, others_flat / np.maximum(others, 1), 1.0)
    expected = np.bincount(
        table.rater_code[known & long_form],
        weights=others_share[known & long_form],
        minlength=n_raters,
    ) / np.maximum(forms, 1)
    rater_expected = np.append(expected, 1.0)[table.rater_code]
    # one flat form says little; a rater who does it habitually where colleagues do not,
    # or a fast anonymous one
    habitual = known & (rater_forms >= 2) & (rater_share >= c.straightline_rater_share)
    habitual &= (rater_flat >= 2) & (rater_share - rater_expected >= c.straightline_excess)
    median = role_values(table.role, medians)
    fast = np.isfinite(table.duration) & (table.duration < c.straightline_fast_fraction * median)
    lone = (~known | (rater_forms < 2)) & fast
    idx = np.flatnonzero(straight & (habitual | lone) & (ledger.weight > 0))
    details = []
    for i in idx.tolist():
        head = f"全部 {table.n_items[i]} 题都答 {table.score[i]:g} 分"
        if habitual[i]:
            details.append(
                f"{head}，该评价人 {rater_forms[i]} 份问卷中 {rater_flat[i]} 份如此，"
                f"而其他人对同样对象的问卷平均只有 {rater_expected[i]:.0%} 如此"
            )
        else:
            details.append(f"{head}，且用时 {_fmt_s(table.duration[i])} 不到中位用时的一半")
    ledger.add_response_flags("STRAIGHTLINE", "downweight", idx, c.straightline_weight, details)


def local_clock(t: np.ndarray, hours: OpeningHours) -> tuple[np.ndarray, np.ndarray]:
    """(weekday Monday=0, hour of day as float) in local time."""
    local = t + hours.utc_offset_hours * 3600.0
    days = np.floor(local / 86400.0)
    weekday = ((days + 3) % 7).astype(int)  # 1970-01-01 was a Thursday
    hour = (local - days * 86400.0) / 3600.0
    return weekday, hour


def flag_off_hours(
    table: ResponseTable,
    cfg: CleaningConfig,
    ledger: Ledger,
    outside_hours: np.ndarray | None = None,
) -> None:
    """Public ratings submitted while the hall was closed. `outside_hours`, when given,
    is the verdict per response from each unit's own hours; else cfg.opening_hours."""
    hours = cfg.opening_hours
    timed = np.isin(table.role, cfg.screening.roles_with_time) & np.isfinite(table.t)
    timed &= table.channel != DEFAULT_CHANNEL
    w = cfg.screening.off_hours_weight
    action = "exclude" if w <= 0 else "downweight"
    if outside_hours is not None:
        idx = np.flatnonzero(timed & outside_hours & (ledger.weight > 0))
        details = ["提交时不在该单位公布的办理时间内（按单位自己的办理时间判断）"] * len(idx)
        ledger.add_response_flags("OFF_HOURS", action, idx, w, details)
        return
    t = np.where(timed, table.t, 0.0)
    weekday, hour = local_clock(t, hours)
    open_day = np.isin(weekday, hours.weekdays)
    close = hours.close_hour + hours.grace_minutes / 60.0
    inside = open_day & (hour >= hours.open_hour) & (hour < close)
    idx = np.flatnonzero(timed & ~inside & (ledger.weight > 0))
    days = "、".join(WEEKDAYS_ZH[d] for d in hours.weekdays)
    span = f"{_hhmm(hours.open_hour)}–{_hhmm(hours.close_hour)}"
    details = [
        f"提交于 {WEEKDAYS_ZH[weekday[i]]} {_hhmm(hour[i])}，不在办理时间（{days} {span}，"
        f"闭厅后宽限 {hours.grace_minutes:.0f} 分钟）内"
        for i in idx.tolist()
    ]
    ledger.add_response_flags("OFF_HOURS", action, idx, w, details)


def _hhmm(hour: float) -> str:
    minutes = round(hour * 60) % (24 * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _window_counts(key: np.ndarray, t: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by (key, t): [lo, hi) bounds of same-key rows within t ± half."""
    if len(t) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # dense keys spaced further apart than any time span: one searchsorted for all groups,
    # and small enough numbers that float64 keeps sub-second precision
    _, dense = np.unique(key, return_inverse=True)
    offset = t - t.min()
    x = dense * (offset.max() + 4 * half + 1.0) + offset
    return np.searchsorted(x, x - half, side="left"), np.searchsorted(x, x + half, side="right")


def source_codes(table: ResponseTable) -> np.ndarray:
    """Who a rating evidently came from, or -1 when every rating is its own source.

    A ticket is one service, so one source; a phone's fingerprint may stand for one
    source when there is no ticket. A counter device's fingerprint is every citizen's
    at that window, so it tells nothing.
    """
    n_devices = int(table.device_code.max()) + 1 if len(table) else 0
    phone = (table.device_code >= 0) & (table.channel != DEVICE_CHANNEL)
    return np.where(
        table.ticket_code >= 0,
        n_devices + table.ticket_code,
        np.where(phone, table.device_code, -1),
    )


def flag_bursts(
    table: ResponseTable,
    cfg: CleaningConfig,
    ledger: Ledger,
    ticket_counts: TicketCounts | None,
) -> None:
    c = cfg.screening
    value = table.overall_level()
    usable = (
        np.isin(table.role, c.roles_with_time)
        & np.isfinite(table.t)
        & (table.channel != DEFAULT_CHANNEL)
    )  # duplicates still count: repeated devices are the very sign of a burst
    # a rating with its own service ticket stands for a citizen who was served: many of
    # them in a short time are a busy window, not ballot stuffing
    top = usable & (value >= c.top_score) & (table.ticket_code < 0)
    n = len(table)
    window_burst = np.zeros(n, bool)
    detail: dict[int, str] = {}

    # the ratee's usual rate: its responses over the open hours of the days it was rated
    ratee_n = np.bincount(table.ratee_code[usable], minlength=len(table.ratees))
    days = np.floor((table.t + cfg.opening_hours.utc_offset_hours * 3600) / 86400)
    pairs = np.unique(np.stack([table.ratee_code[usable], days[usable]]), axis=1)
    ratee_days = np.bincount(pairs[0].astype(int), minlength=len(table.ratees))
    open_s = max(cfg.opening_hours.close_hour - cfg.opening_hours.open_hour, 1.0) * 3600
    rate = ratee_n / np.maximum(ratee_days * open_s, 1.0)

    idx = np.flatnonzero(top)
    if len(idx):
        half = c.burst_window_s / 2
        order = idx[np.lexsort((idx, table.t[idx], table.ratee_code[idx]))]
        key, t = table.ratee_code[order], table.t[order]
        lo, hi = _window_counts(key, t, half)
        count = hi - lo
        # ratings per source in the window: sources repeat within a burst
        dev = source_codes(table)[order]
        dev_key = np.where(dev >= 0, key * (int(dev.max()) + 2 if len(dev) else 1) + dev, -1)
        dorder = np.lexsort((t, dev_key))
        dlo, dhi = _window_counts(dev_key[dorder], t[dorder], half)
        per_dev = np.empty(len(order))
        per_dev[dorder] = np.where(dev_key[dorder] >= 0, dhi - dlo, 1)
        inv = np.concatenate(([0.0], np.cumsum(1.0 / per_dev)))
        distinct = inv[hi] - inv[lo]  # sum of 1/count_of_own_device ~ distinct devices
        expected = rate[key] * c.burst_window_s
        many = count >= c.burst_min_count
        few_devices = count / np.maximum(distinct, 1e-9) >= c.burst_per_device
        fast = count >= c.burst_rate_factor * np.maximum(expected, 1e-9)
        hit = many & (few_devices | fast)
        for j in np.flatnonzero(hit).tolist():
            i = int(order[j])
            window_burst[i] = True
            detail[i] = (
                f"{c.burst_window_s / 60:.0f} 分钟内该对象收到 {count[j]} 条满分评价，"
                f"来自约 {distinct[j]:.0f} 个设备指纹，平时同样时长约 {expected[j]:.1f} 条"
            )

    weight = np.where(window_burst, 0.0, 1.0)  # a burst in the window is stuffing: out
    if ticket_counts:
        n_ratees = len(table.ratees)
        lookup = {name: k for k, name in enumerate(table.ratees.tolist())}
        served_by_key: dict[int, int] = {}
        for (ratee, hour_start), served in ticket_counts.items():
            if ratee in lookup:
                hour_no = int(np.floor(float(hour_start) / 3600.0))
                served_by_key[hour_no * n_ratees + lookup[ratee]] = int(served)
        rated = np.flatnonzero(usable & (ledger.weight > 0))  # duplicates are no excess
        key = np.floor(table.t[rated] / 3600.0).astype(np.int64) * n_ratees
        key += table.ratee_code[rated]
        known = np.isin(key, np.fromiter(served_by_key, np.int64, len(served_by_key)))
        bins: dict[int, list[int]] = {}
        for k, i in zip(key[known].tolist(), rated[known].tolist(), strict=True):
            bins.setdefault(k, []).append(i)
        for k, members in bins.items():
            served = served_by_key[k]
            excess = len(members) - served
            tops = [i for i in members if top[i]]
            if excess <= 0 or not tops:
                continue
            w = max(0.0, 1.0 - excess / len(tops))
            for i in tops:
                weight[i] = min(weight[i], w)
                note = (
                    f"该对象在此小时收到 {len(members)} 条评价，叫号系统仅服务 {served} 人，"
                    f"多出 {excess} 条；{len(tops)} 条满分评价权重降为 {w:.2f}"
                )
                detail[i] = f"{detail[i]}；{note}" if i in detail else note
    # beyond the queue's count only the excess is fake: top ratings share the doubt
    idx = np.flatnonzero(weight < 1)
    excl = weight[idx] <= 0
    ledger.add_response_flags(
        "BURST", "exclude", idx[excl], 0.0, [detail[i] for i in idx[excl].tolist()]
    )
    keep = idx[~excl]
    ledger.add_response_flags(
        "BURST", "downweight", keep, weight[keep], [detail[i] for i in keep.tolist()]
    )


def screen(
    table: ResponseTable,
    cfg: CleaningConfig,
    ledger: Ledger,
    honeypot: np.ndarray,
    medians: Mapping[str, float],
    ticket_counts: TicketCounts | None = None,
    outside_hours: np.ndarray | None = None,
) -> None:
    flag_bots(table, cfg, ledger, honeypot)
    flag_duplicates(table, cfg, ledger)
    flag_speeders(table, cfg, ledger, medians)
    flag_straightlining(table, cfg, ledger, medians)
    flag_off_hours(table, cfg, ledger, outside_hours)
    flag_bursts(table, cfg, ledger, ticket_counts)
