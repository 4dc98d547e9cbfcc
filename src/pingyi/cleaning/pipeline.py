"""The cleaning pipeline, run partition by partition.

A campaign is cut into partitions that share no ratee, known rater or ticket
(``partition.plan``). Two passes go over them:

1. ``summarise``: screening, then what the campaign-wide yardsticks need: the rater
   model's residuals, other roles' gaps from the peers' view, residuals from consensus,
   a sample of public response patterns, fingerprint counts, the interviewers'
   evidence and the comments. ``combine`` turns these into ``CampaignFigures``.
2. ``clean_part``: screening -> interviewer and scripted verdicts -> rater effects ->
   collusion -> outliers -> aggregate, judged by the campaign's figures.

Every partition depends only on its own answers and the figures, so a run in one
process and a run on a Dask cluster (``pingyi.cluster``) give the same result, flag
for flag, and memory is set by the largest partition, not by the campaign.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from . import partition
from .aggregate import aggregate, default_channel_counts
from .collusion import detect_collusion
from .config import CleaningConfig
from .interviewers import (
    InterviewerEvidence,
    InterviewerVerdicts,
    apply_interviewer_verdicts,
    interviewer_evidence,
    judge_interviewers,
)
from .ledger import Ledger, Override
from .outliers import (
    OutlierFigures,
    Pattern,
    consensus_residuals,
    fit_forest,
    flag_outliers,
    public_rows,
    robust_scale,
)
from .rater_effects import fit_rater_model, flag_rater_effects, rater_bias_table
from .responses import (
    ItemWeights,
    ResponseTable,
    build_responses,
    factorize_column,
    in_set,
    mix64,
    stable_hash,
    with_codes,
)
from .screening import TicketCounts, role_median_durations, screen
from .scripted import flag_scripted
from .types import (
    CODED,
    REASONS,
    ROLES,
    CleaningResult,
    CollusionGroup,
    Flag,
    Ratings,
    ScoreRow,
)

Progress = Callable[[str, float], None]
T = TypeVar("T")

# share of the run each part takes (roughly its measured cost), for progress bars
SHARES = {"plan": 0.1, "summarise": 0.35, "figures": 0.05, "clean": 0.5}
BEFORE = {stage: sum(list(SHARES.values())[:k]) for k, stage in enumerate(SHARES)}


class Runner(Protocol):
    """Runs one function over every partition; results in partition order.

    ``done(k)`` is called as each partition finishes (k = its index)."""

    def map(
        self, fn: Callable[..., T], args: Sequence[Any], done: Callable[[int], None]
    ) -> list[T]: ...


class InProcess:
    """The default runner: one partition after another, each taken from the campaign
    only while it runs."""

    def __init__(self, ratings: Ratings, parts: Sequence[np.ndarray]) -> None:
        self.ratings, self.parts = ratings, parts

    def map(
        self, fn: Callable[..., T], args: Sequence[Any], done: Callable[[int], None]
    ) -> list[T]:
        out = []
        for k, rows in enumerate(self.parts):
            out.append(fn(self.ratings.take(rows), *args))
            done(k)
        return out


RunnerFactory = Callable[[Ratings, Sequence[np.ndarray]], Runner]


@dataclass(frozen=True)
class Context:
    """What every partition is told: the settings and the campaign's side inputs."""

    cfg: CleaningConfig
    medians: Mapping[str, float]  # typical duration per role, from all responses
    overrides: tuple[Override, ...] = ()
    ticket_counts: TicketCounts | None = None
    honeypot: frozenset[str] = frozenset()
    off_hours: frozenset[str] | None = None
    item_weights: ItemWeights | None = None


@dataclass
class CampaignFigures:
    """The campaign-wide yardsticks every partition is judged by."""

    sigma: float | None  # the rater model's robust residual sd
    role_offsets: dict[str, float]  # other roles' median gap from the peers' view
    outliers: OutlierFigures
    shared_devices: dict[int, int]  # fingerprint hash -> responses, for those in several parts
    interviewers: InterviewerVerdicts
    scripted: dict[str, str]  # response id -> why it is scripted


@dataclass
class Summary:
    """One partition's contribution to the campaign's figures."""

    peer_resid: np.ndarray
    gaps: dict[str, np.ndarray]
    rater_resid: np.ndarray
    public_resid: np.ndarray
    sample_key: np.ndarray  # hash order of the public patterns below
    sample: Pattern
    sample_device: np.ndarray  # fingerprint hash per sampled pattern (0 none)
    devices: np.ndarray  # fingerprint hashes and their response counts
    device_counts: np.ndarray
    interviewers: InterviewerEvidence
    comments: dict[str, np.ndarray]  # response_id, role, ratee, channel, comment


@dataclass
class PartResult:
    flags: list[Flag]
    scores: list[ScoreRow]
    groups: list[CollusionGroup]
    rater_bias: dict[str, float]
    n_responses: int
    default_channel_responses: dict[str, int]
    notes: dict[str, int]
    fallbacks: list[tuple[str, str]]
    stage_seconds: dict[str, float] = field(default_factory=dict)


def duration_medians(ratings: Ratings, min_group: int) -> dict[str, float]:
    """Each role's median time per questionnaire over the whole campaign."""
    code, _ = factorize_column(ratings, "response_id")
    _, first = np.unique(code, return_index=True)
    return role_median_durations(ratings.role[first], ratings.duration_s[first], min_group)


def _screened(part: Ratings, ctx: Context) -> tuple[ResponseTable, Ledger]:
    table = build_responses(part, ctx.item_weights)
    ledger = Ledger(table, ctx.overrides)
    honey = in_set(table.ids, ctx.honeypot)
    # the service knows each unit's own hours and marks responses when they arrive;
    # files (and callers without that knowledge) fall back to cfg.opening_hours
    outside = in_set(table.ids, ctx.off_hours) if ctx.off_hours is not None else None
    screen(table, ctx.cfg, ledger, honey, ctx.medians, ctx.ticket_counts, outside)
    return table, ledger


def _sample_keys(ids: np.ndarray, seed: int) -> np.ndarray:
    """A pseudo-random order of response ids that no partitioning changes."""
    return mix64(stable_hash(ids) ^ np.uint64(seed))


def _device_counts(table: ResponseTable, shared: Mapping[int, int]) -> np.ndarray:
    """Responses per device code of ``table`` in the whole campaign."""
    dev = table.device_code
    counts = np.bincount(dev[dev >= 0], minlength=len(table.devices)).astype(float)
    if shared:
        keys = stable_hash(table.devices).tolist()
        for k, key in enumerate(keys):
            if key in shared:
                counts[k] = shared[key]
    return counts


def summarise(part: Ratings, ctx: Context) -> Summary:
    cfg = ctx.cfg
    table, ledger = _screened(part, ctx)
    # a plain least-squares fit: each unit's residuals and gaps are its own, whichever
    # units share the partition (the robust fit needs the campaign's sigma first)
    model = fit_rater_model(table, ledger.weight, cfg, robust=False)
    peer = model.mask & (table.role == cfg.rater_effects.unit_role)
    gaps = {
        str(role): model.level_gap[np.isfinite(model.level_gap) & (table.role == role)]
        for role in np.unique(table.role[np.isfinite(model.level_gap)]).tolist()
    }
    # the outliers' yardstick is read as it is used: after clearly lenient or severe
    # peers' corrections (other roles' biases need the campaign's offsets, not known yet)
    bias = np.where(peer, np.append(model.bias, 0.0)[table.rater_code], 0.0)
    shift = np.where(np.abs(bias) >= cfg.rater_effects.bias_min, bias, 0.0)
    rater_resid = consensus_residuals(table, ledger.weight, shift, cfg.outliers.rater_roles)[1]
    public_resid = consensus_residuals(table, ledger.weight, shift, ("public",))[1]
    rows = public_rows(table, ledger.weight)
    keys = _sample_keys(table.ids[rows], cfg.outliers.seed)
    keep = np.argsort(keys, kind="stable")[: cfg.outliers.isolation_sample]
    rows, keys = rows[keep], keys[keep]
    dev = table.device_code
    device_keys = stable_hash(table.devices)
    written = np.flatnonzero(table.comment != "")
    return Summary(
        peer_resid=(table.score - model.fitted)[peer],
        gaps=gaps,
        rater_resid=rater_resid,
        public_resid=public_resid,
        sample_key=keys,
        sample=Pattern.of(table, rows, np.zeros(len(table.devices))),
        sample_device=np.append(device_keys, np.uint64(0))[dev[rows]],
        devices=device_keys,
        device_counts=np.bincount(dev[dev >= 0], minlength=len(table.devices)),
        interviewers=interviewer_evidence(table, cfg, ledger),
        comments={
            "response_id": table.ids[written],
            "role": table.role[written],
            "ratee": table.ratee[written],
            "channel": table.channel[written],
            "comment": table.comment[written],
        },
    )


def _scripted(summaries: Sequence[Summary], cfg: CleaningConfig) -> dict[str, str]:
    """SCRIPTED over every comment of the campaign (a small share of the responses)."""
    columns = {
        name: np.concatenate([s.comments[name] for s in summaries])
        for name in ("response_id", "role", "ratee", "channel", "comment")
    }
    if not len(columns["response_id"]):
        return {}
    columns["score"] = np.full(len(columns["response_id"]), 3.0)
    table = build_responses(Ratings.from_columns(columns))
    ledger = Ledger(table)
    flag_scripted(table, cfg, ledger)
    return {f.response_id: f.detail for f in ledger.flags}


def combine(summaries: Sequence[Summary], ctx: Context) -> CampaignFigures:
    cfg = ctx.cfg
    peer_resid = np.concatenate([s.peer_resid for s in summaries])
    sigma = robust_scale(peer_resid, 0.1) if len(peer_resid) else None
    gaps: dict[str, list[np.ndarray]] = {}
    for s in summaries:
        for role, values in s.gaps.items():
            gaps.setdefault(role, []).append(values)
    offsets = {role: float(np.median(np.concatenate(v))) for role, v in gaps.items()}

    # fingerprints counted over the campaign; only those in several partitions travel
    keys = np.concatenate([s.devices for s in summaries])
    counts = np.concatenate([s.device_counts for s in summaries])
    unique, inverse, seen = np.unique(keys, return_inverse=True, return_counts=True)
    totals = np.bincount(inverse, weights=counts, minlength=len(unique))
    shared = {int(unique[k]): int(totals[k]) for k in np.flatnonzero(seen > 1).tolist()}

    # the forest learns from a uniform sample of the campaign's public responses
    order = np.concatenate([s.sample_key for s in summaries])
    pick = np.argsort(order, kind="stable")[: cfg.outliers.isolation_sample]
    pattern = Pattern(
        *(
            np.concatenate([getattr(s.sample, name) for s in summaries])[pick]
            for name in ("role", "duration", "item_sd", "t", "per_device", "n_items")
        )
    )
    device = np.concatenate([s.sample_device for s in summaries])[pick]
    at = np.minimum(np.searchsorted(unique, device), max(len(unique) - 1, 0))
    known = (device != 0) & (unique[at] == device) if len(unique) else np.zeros(len(device), bool)
    pattern.per_device = np.where(known, totals[at] if len(unique) else 1.0, 1.0)
    floor = cfg.outliers.scale_floor
    return CampaignFigures(
        sigma=sigma,
        role_offsets=offsets,
        outliers=OutlierFigures(
            rater_scale=robust_scale(np.concatenate([s.rater_resid for s in summaries]), floor),
            public_scale=robust_scale(np.concatenate([s.public_resid for s in summaries]), floor),
            forest=fit_forest(pattern, ctx.medians, cfg),
            medians=ctx.medians,
        ),
        shared_devices=shared,
        interviewers=judge_interviewers([s.interviewers for s in summaries], cfg),
        scripted=_scripted(summaries, cfg),
    )


def clean_part(part: Ratings, ctx: Context, figures: CampaignFigures) -> PartResult:
    cfg = ctx.cfg
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = seconds.get(stage, 0.0) + now - clock
        clock = now

    table, ledger = _screened(part, ctx)
    apply_interviewer_verdicts(table, cfg, ledger, figures.interviewers)
    scripted = np.flatnonzero(in_set(table.ids, figures.scripted.keys()))
    details = [figures.scripted[str(table.ids[i])] for i in scripted.tolist()]
    ledger.add_response_flags("SCRIPTED", "exclude", scripted, 0.0, details)
    lap("screening")

    def fit() -> Any:
        return fit_rater_model(
            table, ledger.weight, cfg, sigma=figures.sigma, role_offsets=figures.role_offsets
        )

    # a first robust fit gives the residuals collusion is judged on
    first_fit = fit()
    lap("rater_effects")
    groups = detect_collusion(table, first_fit, cfg, ledger)
    lap("collusion")
    # refit without the collusive ratings, then judge the raters
    model = fit()
    flag_rater_effects(table, model, cfg, ledger)
    lap("rater_flags")
    devices = _device_counts(table, figures.shared_devices)
    notes = flag_outliers(table, cfg, ledger, figures.outliers, devices)
    lap("outliers")
    fallbacks: list[tuple[str, str]] = []
    scores = aggregate(table, cfg, ledger, fallbacks)
    lap("aggregate")
    return PartResult(
        flags=ledger.flags,
        scores=scores,
        groups=groups,
        rater_bias=rater_bias_table(table, model, cfg),
        n_responses=len(table),
        default_channel_responses=default_channel_counts(table),
        notes=notes,
        fallbacks=fallbacks,
        stage_seconds=seconds,
    )


def merge(results: Sequence[PartResult], n_answers: int) -> CleaningResult:
    def by_ratee_role(ratee: str, role: str) -> tuple[str, int]:
        return ratee, ROLES.index(role)

    flags = [f for r in results for f in r.flags]
    flags.sort(key=lambda f: (REASONS.index(f.reason), f.response_id, f.rater))
    seconds: dict[str, float] = {}
    notes: dict[str, int] = {}
    for r in results:
        for stage, s in r.stage_seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + s
        for key, n in r.notes.items():
            notes[key] = notes.get(key, 0) + n
    return CleaningResult(
        flags=flags,
        scores=sorted(
            (s for r in results for s in r.scores), key=lambda s: by_ratee_role(s.ratee, s.role)
        ),
        groups=sorted((g for r in results for g in r.groups), key=lambda g: g.members),
        rater_bias={k: v for r in results for k, v in r.rater_bias.items()},
        n_answers=n_answers,
        n_responses=sum(r.n_responses for r in results),
        default_channel_responses={
            k: v for r in results for k, v in r.default_channel_responses.items()
        },
        stage_seconds=seconds,
        notes=notes,
        fallbacks=sorted(
            (f for r in results for f in r.fallbacks), key=lambda f: by_ratee_role(*f)
        ),
    )


def clean(
    ratings: Ratings,
    config: CleaningConfig | None = None,
    overrides: Iterable[Override] = (),
    ticket_counts: TicketCounts | None = None,
    progress: Progress | None = None,
    honeypot: Collection[str] | None = None,
    off_hours: Collection[str] | None = None,
    item_weights: ItemWeights | None = None,
    runner: RunnerFactory = InProcess,
    _progress_span: tuple[float, float] = (0.0, 1.0),
) -> CleaningResult:
    """Cleans one campaign's answers; see the package docstring for the contract.

    ``runner`` runs the partitions: in this process by default, or on a Dask cluster
    (``pingyi.cluster.DaskRunner``); the result is the same either way."""
    cfg = config or CleaningConfig()
    start, end = _progress_span
    reached = start

    def report(stage: str, done: float) -> None:
        nonlocal reached
        if progress is None:
            return
        overall = start + (end - start) * min(BEFORE[stage] + SHARES[stage] * done, 1.0)
        reached = max(reached, overall)  # never step back
        progress(stage, reached)

    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    report("plan", 0.0)
    ratings = with_codes(ratings, CODED)
    parts = partition.plan(ratings, cfg.partition_answers)
    ctx = Context(
        cfg=cfg,
        medians=duration_medians(ratings, cfg.screening.speeder_min_group),
        overrides=tuple(overrides),
        ticket_counts=ticket_counts,
        honeypot=frozenset(honeypot or ()),
        off_hours=None if off_hours is None else frozenset(off_hours),
        item_weights=item_weights,
    )
    run = runner(ratings, parts)
    sizes = np.array([len(p) for p in parts], float)
    total = max(float(sizes.sum()), 1.0)

    def counter(stage: str) -> Callable[[int], None]:
        finished = 0.0

        def done(k: int) -> None:
            nonlocal finished
            finished += sizes[k]
            report(stage, finished / total)

        return done

    report("plan", 1.0)
    lap("plan")
    summaries = run.map(summarise, (ctx,), counter("summarise"))
    lap("summarise")
    figures = combine(summaries, ctx)
    del summaries
    report("figures", 1.0)
    lap("figures")
    results = run.map(clean_part, (ctx, figures), counter("clean"))
    result = merge(results, len(ratings))
    # the first pass's stages, then the partitions' own (summed over partitions)
    result.stage_seconds = {**seconds, **result.stage_seconds}
    return result
