"""The cleaning pipeline: screening (with the agency's interviewer checks) -> rater
effects -> collusion -> outliers -> aggregate."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable

import numpy as np

from .aggregate import aggregate, default_channel_counts
from .collusion import detect_collusion
from .config import CleaningConfig
from .interviewers import flag_interviewers
from .ledger import Ledger, Override
from .outliers import flag_outliers
from .rater_effects import (
    fit_rater_model,
    flag_rater_effects,
    rater_bias_table,
)
from .responses import ItemWeights, build_responses
from .screening import TicketCounts, screen
from .scripted import flag_scripted
from .types import REASONS, CleaningResult, Ratings

Progress = Callable[[str, float], None]

# share of the whole run each stage takes (roughly its measured cost), for progress bars
STAGE_SHARES = {
    "responses": 0.15,
    "screening": 0.25,
    "rater_effects": 0.15,  # first robust fit
    "collusion": 0.1,
    "rater_flags": 0.1,  # refit without collusive ratings, judge raters
    "outliers": 0.15,
    "aggregate": 0.1,
}


class StageProgress:
    """Maps (stage, fraction of that stage) to the overall fraction in [start, end]."""

    def __init__(self, progress: Progress | None, start: float = 0.0, end: float = 1.0) -> None:
        self.progress = progress
        self.start, self.end = start, end
        self.last = start
        self.offsets: dict[str, float] = {}
        acc = 0.0
        for stage, share in STAGE_SHARES.items():
            self.offsets[stage] = acc
            acc += share

    def __call__(self, stage: str, fraction: float) -> None:
        if self.progress is None:
            return
        done = self.offsets.get(stage, 0.0) + STAGE_SHARES.get(stage, 0.0) * fraction
        overall = self.start + (self.end - self.start) * min(done, 1.0)
        self.last = max(self.last, overall)  # never step back
        self.progress(stage, self.last)


def clean(
    ratings: Ratings,
    config: CleaningConfig | None = None,
    overrides: Iterable[Override] = (),
    ticket_counts: TicketCounts | None = None,
    progress: Progress | None = None,
    honeypot: Collection[str] | None = None,
    off_hours: Collection[str] | None = None,
    item_weights: ItemWeights | None = None,
    _progress_span: tuple[float, float] = (0.0, 1.0),
) -> CleaningResult:
    """Cleans one campaign's answers; see the package docstring for the contract."""
    cfg = config or CleaningConfig()
    report = StageProgress(progress, *_progress_span)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = seconds.get(stage, 0.0) + now - clock
        clock = now
        report(stage, 1.0)

    report("responses", 0.0)
    table = build_responses(ratings, item_weights)
    ledger = Ledger(table, overrides)
    honey = np.isin(table.ids, list(honeypot)) if honeypot else np.zeros(len(table), bool)
    lap("responses")

    # the service knows each unit's own hours and marks responses when they arrive;
    # files (and callers without that knowledge) fall back to cfg.opening_hours
    outside = np.isin(table.ids, list(off_hours)) if off_hours is not None else None
    screen(table, cfg, ledger, honey, ticket_counts, report, outside)
    flag_interviewers(table, cfg, ledger)
    flag_scripted(table, cfg, ledger)
    lap("screening")

    # a first robust fit gives the residuals collusion is judged on
    first_fit = fit_rater_model(table, ledger.weight, cfg)
    lap("rater_effects")
    groups = detect_collusion(table, first_fit, cfg, ledger)
    lap("collusion")
    # refit without the collusive ratings, then judge the raters
    model = fit_rater_model(table, ledger.weight, cfg)
    report("rater_flags", 0.6)
    flag_rater_effects(table, model, cfg, ledger)
    lap("rater_flags")

    notes = flag_outliers(table, cfg, ledger)
    lap("outliers")

    fallbacks: list[tuple[str, str]] = []
    scores = aggregate(table, cfg, ledger, fallbacks)
    order = sorted(
        range(len(ledger.flags)),
        key=lambda k: (
            REASONS.index(ledger.flags[k].reason),
            ledger.flags[k].response_id,
            ledger.flags[k].rater,
        ),
    )
    result = CleaningResult(
        flags=[ledger.flags[k] for k in order],
        scores=scores,
        groups=groups,
        rater_bias=rater_bias_table(table, model, cfg),
        n_answers=len(ratings),
        n_responses=len(table),
        default_channel_responses=default_channel_counts(table),
        stage_seconds=seconds,
        notes=notes,
        fallbacks=fallbacks,
    )
    lap("aggregate")
    result.stage_seconds = seconds
    return result
