"""Shared-devices family: a county service hall with small units and hall Wi-Fi.

Real situation: units of 4-6 staff, everyone rates every colleague on 4 items
(overall, i2..i4) and a unit head (``head###``) rates everyone; half the units fill
their forms one after another on the single office PC (one fingerprint per unit).
Answers = round(quality + item effect + rater leniency (sd 0.2) + response impression
(sd 0.3) + item noise (sd 0.5)), clipped to 1..5. Staff quality ~ N(3.9, 0.35) plus a
REAL unit-wide +0.6 or -0.6 in one unit in five, which belongs to the truth.

Citizens: 1-2 windows per unit, 8 units per hall; ratings per window are heavy-tailed
(lognormal, median ~30, clipped to 3..300) over two weeks of hall hours (Mon-Sat
08:00-18:00 local); every citizen holds their own ticket. 40% rate on the window's
counter device (channel device, one fingerprint per counter, overall only, no
duration), 60% by phone QR (3 items, duration ~25 s); 70% of phones are on the hall
Wi-Fi and share one of 3 fingerprints of the hall (address + WeChat user agent). These
shared fingerprints are honest. Citizen answer = round(window quality + item effect +
citizen leniency (sd 0.5) + item noise (sd 0.6)).

Truth: exact expected composite of one honest response (peer, superior: mean of the 4
items; public: the 40/60 mix of an overall-only device rating and a 3-item phone one).
ticket_counts: tickets served per window and open hour = honest ratings submitted in
that hour + Poisson non-responders (response rate 25-60% per window).

Injected (labels per response): duplicates, 1.5% of honest public responses re-sent
1-5 minutes later from the same device with identical answers (counter: same ticket;
phone: same ticket or none) (duplicate, on the copy); ballot stuffing on ~2% of windows
(at least one): 10-20 all-5 phone ratings within 5 minutes from 1-2 fingerprints (one
may be the hall Wi-Fi's), no tickets, in an hour when the queue served 3 people
(burst); reciprocal peer pairs, one per ~6 units, +1.5 on each other (reciprocal);
lenient peer raters, 5% of staff outside the pairs, +1.2 on all their forms (lenient).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm
from synth import Campaign

from families._common import (
    DAY,
    FIRST_MONDAY,
    HALL_CLOSE_HOUR,
    HALL_OPEN_HOUR,
    HOUR,
    Rows,
    fingerprint,
    local_times,
    open_days,
)

PEER_ITEMS = ("overall", "i2", "i3", "i4")
PEER_ITEM_EFFECT = np.array([0.0, 0.1, -0.15, 0.05])
PUBLIC_ITEMS = ("overall", "queue", "manner")
PUBLIC_ITEM_EFFECT = np.array([0.0, -0.3, 0.1])
DEVICE_SHARE, HALL_WIFI_SHARE = 0.4, 0.7
WECHAT_AGENTS = ("wechat-ios", "wechat-android", "wechat-harmony")
WECHAT_AGENT_SHARE = (0.45, 0.45, 0.10)
UNITS_PER_HALL = 8

LENIENCY_SD, IMPRESSION_SD, ITEM_SD = 0.2, 0.3, 0.5
CITIZEN_LENIENCY_SD, CITIZEN_ITEM_SD = 0.5, 0.6
RECIPROCAL_BOOST, LENIENT_BOOST, LENIENT_SHARE = 1.5, 1.2, 0.05
DUPLICATE_SHARE, BURST_WINDOW_SHARE = 0.015, 0.02


def _round(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x + 0.5), 1, 5).astype(int)


def _expected_rounded(mean: np.ndarray, sd: float) -> np.ndarray:
    """E[clip(round(mean + N(0, sd)), 1, 5)] = 1 + sum_k P(value >= k - 0.5), exactly."""
    cuts = np.array([1.5, 2.5, 3.5, 4.5])
    return 1 + norm.sf((cuts - np.asarray(mean)[..., None]) / sd).sum(-1)


def generate(n_units: int, seed: int) -> Campaign:
    rng = np.random.default_rng(seed)
    rows = Rows("s")
    truth: dict[tuple[str, str], float] = {}
    weekdays, hall_days = open_days(2, 5), open_days(2, 6)

    sizes = rng.integers(4, 7, n_units)
    unit_effect = np.zeros(n_units)
    special = rng.permutation(n_units)[: int(n_units / 5 + 0.5)]
    unit_effect[special] = rng.choice([-0.6, 0.6], len(special))
    staff_unit = np.repeat(np.arange(n_units), sizes)
    staff = np.array([f"u{u:03d}s{k}" for u, n in enumerate(sizes) for k in range(n)])
    quality = 3.9 + unit_effect[staff_unit] + rng.normal(0, 0.35, len(staff))
    leniency = rng.normal(0, LENIENCY_SD, len(staff))

    partner = np.full(len(staff), -1)
    for u in rng.permutation(n_units)[: int(n_units / 6 + 0.5)]:
        a, b = rng.choice(np.flatnonzero(staff_unit == u), 2, replace=False)
        partner[a], partner[b] = b, a
    outside_pairs = rng.permutation(np.flatnonzero(partner < 0))
    lenient = np.zeros(len(staff), bool)
    lenient[outside_pairs[: int(LENIENT_SHARE * len(staff) + 0.5)]] = True
    leniency[lenient] += LENIENT_BOOST

    answer_sd = np.sqrt(LENIENCY_SD**2 + IMPRESSION_SD**2 + ITEM_SD**2)
    staff_truth = _expected_rounded(quality[:, None] + PEER_ITEM_EFFECT, answer_sd).mean(-1)
    for name, value in zip(staff, staff_truth, strict=True):
        truth[str(name), "peer"] = truth[str(name), "superior"] = float(value)

    for u in range(n_units):
        members = np.flatnonzero(staff_unit == u)
        office_pc = rng.random() < 0.5  # the whole unit fills in on one shared PC
        day = local_times(rng, 1, weekdays, 9, 15)[0]
        clock = day
        for r in rng.permutation(members):
            device = fingerprint("office", seed, u) if office_pc else fingerprint("p", seed, r)
            if not office_pc:
                clock = local_times(rng, 1, weekdays, 8.5, 21)[0]
            for t in members[members != r]:
                boost = RECIPROCAL_BOOST if partner[r] == t else 0.0
                latent = quality[t] + leniency[r] + boost + rng.normal(0, IMPRESSION_SD)
                scores = _round(latent + PEER_ITEM_EFFECT + rng.normal(0, ITEM_SD, 4))
                duration = rng.lognormal(np.log(50), 0.35)
                clock += duration + 10
                rows.add(
                    role="peer",
                    rater=staff[r],
                    ratee=staff[t],
                    items=PEER_ITEMS,
                    scores=scores,
                    at=clock,
                    duration=duration,
                    device=device,
                    channel="link",
                    kind="reciprocal" if boost else "lenient" if lenient[r] else "",
                )
        head = f"head{u:03d}"
        head_leniency, clock = rng.normal(0, LENIENCY_SD), day + 2 * HOUR
        for t in members:
            latent = quality[t] + head_leniency + rng.normal(0, IMPRESSION_SD)
            duration = rng.lognormal(np.log(60), 0.3)
            clock += duration + 20
            rows.add(
                role="superior",
                rater=head,
                ratee=staff[t],
                items=PEER_ITEMS,
                scores=_round(latent + PEER_ITEM_EFFECT + rng.normal(0, ITEM_SD, 4)),
                at=clock,
                duration=duration,
                device=fingerprint("head", seed, u),
                channel="link",
            )

    # Citizens: 1-2 windows per unit, heavy-tailed volumes, every citizen their own ticket.
    window_unit = np.repeat(np.arange(n_units), 1 + (rng.random(n_units) < 0.5))
    windows = [f"h{u // UNITS_PER_HALL}w{w:03d}" for w, u in enumerate(window_unit)]
    unit_quality = np.array([quality[staff_unit == u].mean() for u in range(n_units)])
    window_quality = unit_quality[window_unit] + rng.normal(0, 0.2, len(windows))
    citizen_sd = np.hypot(CITIZEN_LENIENCY_SD, CITIZEN_ITEM_SD)
    item_truth = _expected_rounded(window_quality[:, None] + PUBLIC_ITEM_EFFECT, citizen_sd)
    public_truth = DEVICE_SHARE * item_truth[:, 0] + (1 - DEVICE_SHARE) * item_truth.mean(-1)
    volume = np.clip(np.round(rng.lognormal(np.log(30), 1.1, len(windows))), 3, 300).astype(int)
    hours = FIRST_MONDAY + np.array(
        [d * DAY + h * HOUR for d in hall_days for h in range(HALL_OPEN_HOUR, HALL_CLOSE_HOUR)]
    )
    ticket_counts: dict[tuple[str, float], int] = {}
    honest_per_hour: dict[str, np.ndarray] = {}
    hall_wifi = {
        h: [fingerprint("hall", seed, h, agent) for agent in WECHAT_AGENTS]
        for h in range(n_units // UNITS_PER_HALL + 1)
    }
    tickets = 0
    for w, window in enumerate(windows):
        truth[str(window), "public"] = float(public_truth[w])
        hall = int(window_unit[w]) // UNITS_PER_HALL
        counter = fingerprint("counter", seed, window)
        served_at = local_times(rng, volume[w], hall_days, HALL_OPEN_HOUR, HALL_CLOSE_HOUR - 0.5)
        submitted = []
        for i in range(volume[w]):
            tickets += 1
            ticket = f"{chr(65 + hall % 26)}{tickets:06d}"
            tone = window_quality[w] + rng.normal(0, CITIZEN_LENIENCY_SD)
            on_counter = rng.random() < DEVICE_SHARE
            if on_counter:
                items, effect = PUBLIC_ITEMS[:1], PUBLIC_ITEM_EFFECT[:1]  # overall only
                channel, device = "device", counter
                at, duration = served_at[i] + rng.uniform(5, 90), np.nan
            else:
                items, effect, channel = PUBLIC_ITEMS, PUBLIC_ITEM_EFFECT, "qr"
                at = served_at[i] + rng.uniform(30, 1500)  # rated within 25 minutes of service
                duration = rng.lognormal(np.log(25), 0.35)
                on_wifi = rng.random() < HALL_WIFI_SHARE
                device = (
                    rng.choice(hall_wifi[hall], p=WECHAT_AGENT_SHARE)
                    if on_wifi
                    else fingerprint("mobile", seed, ticket)
                )
            scores = _round(tone + effect + rng.normal(0, CITIZEN_ITEM_SD, len(items)))
            common = dict(
                role="public",
                rater="",
                ratee=window,
                items=items,
                scores=scores,
                device=str(device),
                channel=channel,
            )
            rows.add(**common, at=at, duration=duration, ticket=ticket)
            submitted.append(at)
            if rng.random() < DUPLICATE_SHARE:
                resent_ticket = ticket if on_counter or rng.random() < 0.5 else ""
                rows.add(
                    **common,
                    at=at + rng.uniform(60, 300),
                    duration=duration,
                    ticket=resent_ticket,
                    kind="duplicate",
                )
        honest = np.bincount(np.searchsorted(hours, submitted, "right") - 1, minlength=len(hours))
        honest_per_hour[window] = honest
        response_rate = rng.uniform(0.25, 0.6)
        non_responders = rng.poisson(volume[w] / len(hours) * (1 / response_rate - 1), len(hours))
        for h, start in enumerate(hours):
            ticket_counts[window, float(start)] = int(honest[h] + non_responders[h])

    # Ballot stuffing in a quiet hour: 10-20 top ratings, no tickets, 3 people served.
    n_bursts = max(1, int(BURST_WINDOW_SHARE * len(windows) + 0.5))
    for w in rng.choice(len(windows), n_bursts, replace=False):
        window, hall = windows[w], int(window_unit[w]) // UNITS_PER_HALL
        quiet = np.flatnonzero(honest_per_hour[window] <= 3)
        h = rng.choice(quiet)
        ticket_counts[window, float(hours[h])] = 3
        devices = [fingerprint("stuffer", seed, w, k) for k in range(rng.integers(1, 3))]
        if rng.random() < 0.5:
            devices[0] = rng.choice(hall_wifi[hall])
        size = int(rng.integers(10, 21))
        start = hours[h] + rng.uniform(0, HOUR - 300)
        for at in np.sort(start + rng.uniform(0, 300, size)):
            rows.add(
                role="public",
                rater="",
                ratee=window,
                items=PUBLIC_ITEMS,
                scores=[5, 5, 5],
                at=at,
                duration=rng.uniform(4, 12),
                device=str(rng.choice(devices)),
                channel="qr",
                kind="burst",
            )
    return rows.campaign(truth, ticket_counts)
