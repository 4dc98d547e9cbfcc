"""Cleaning configuration: one frozen dataclass with one sub-config per stage.

Every threshold has a documented default; the defaults were tuned on the synthetic
benchmark in ``benchmarks/cleaning`` (see benchmarks/RESULTS-cleaning.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OpeningHours:
    """When a service hall is open, in local time; public ratings outside are suspect."""

    open_hour: float = 8.0  # local hour of day the hall opens
    close_hour: float = 18.0  # local hour of day it closes
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday = 0; many halls open Saturday
    grace_minutes: float = 60.0  # citizens may rate a little after leaving
    utc_offset_hours: float = 8.0  # China Standard Time


@dataclass(frozen=True)
class ScreeningConfig:
    """Stage 1: response screening (duplicates, speeders, straight-lining, bots, ...)."""

    duplicate_window_s: float = 600.0  # same fingerprint, ratee and answers within 10 min
    speeder_fraction: float = 0.25  # duration below this share of the role's median
    speeder_min_group: int = 20  # need this many durations in a role to know its median
    bot_min_duration_s: float = 1.0  # nobody reads and answers a form faster than this
    bot_seconds_per_item: float = 0.4  # ... or faster than this per item
    straightline_min_items: int = 5  # only forms with at least this many items
    straightline_rater_share: float = 0.5  # a known rater must straight-line this share
    straightline_excess: float = 0.4  # ... this much more often than colleagues, same ratees
    straightline_fast_fraction: float = 0.5  # an unknown rater must also be this fast
    straightline_weight: float = 0.25  # a straight-lined form only tells the overall level
    off_hours_weight: float = 0.0  # no one is served when the hall is closed
    burst_window_s: float = 600.0  # sliding window for ballot-stuffing bursts
    burst_min_count: int = 5  # at least this many top ratings for one ratee in the window
    burst_per_device: float = 2.0  # ... from few fingerprints: this many per device on average
    burst_rate_factor: float = 6.0  # ... or this many times the ratee's usual rate
    top_score: float = 5.0  # a "top rating" for burst detection
    roles_with_time: tuple[str, ...] = ("public",)  # roles checked for bursts/off-hours


@dataclass(frozen=True)
class RaterEffectsConfig:
    """Stage 2: rater leniency/severity within units; central, halo, misfit vs colleagues."""

    roles: tuple[str, ...] = ("peer", "superior")  # roles whose raters rate several ratees
    unit_role: str = "peer"  # the role whose rating graph defines units
    min_ratings: int = 4  # raters with fewer ratings are not judged lenient or severe
    min_ratings_pattern: int = 6  # ... nor central, halo or misfit with fewer than this
    ridge_rater: float = 2.0  # shrinkage of a rater's bias, in "pseudo-ratings"
    ridge_ratee: float = 1.0  # shrinkage of a ratee's quality towards its unit level
    huber_k: float = 1.5  # robust refit: residuals beyond k sigma get less weight
    robust_iterations: int = 2
    max_sweeps: int = 200  # backfitting sweeps per fit, at most ...
    tolerance: float = 1e-9  # ... until no coefficient moves by more than this
    bias_min: float = 0.45  # |bias| on the 1..5 scale to call a rater lenient/severe
    bias_z: float = 3.0  # ... and this many standard errors away from 0
    central_ratio: float = 0.35  # slope on colleagues' consensus below this ...
    central_spread: float = 0.5  # ... own scores' sd below this share of the consensus sd ...
    central_min_range: float = 0.25  # ... over ratees whose consensus differs this much (sd)
    central_weight: float = 0.5
    halo_ratio: float = 0.55  # item spread below this share of others' for the same ratees
    halo_min_expected: float = 0.3  # ... where others' forms spread at least this much
    halo_weight: float = 0.75  # halo loses item detail, the overall level still informs
    misfit_ratio: float = 1.6  # item spread within forms this multiple of others' ...
    misfit_max_correlation: float = 0.3  # ... and scores correlating less with consensus
    misfit_max_weight: float = 0.5


@dataclass(frozen=True)
class OutlierConfig:
    """Stage 4: responses far from their ratee's consensus; anomalous patterns."""

    rater_roles: tuple[str, ...] = ("peer", "superior")  # raters known: distance is evidence
    z_threshold: float = 3.5  # robust z (MAD scale) from the ratee's median
    min_group: int = 5  # consensus needs at least this many other responses
    scale_floor: float = 0.3  # never divide by a scale below this
    # Public complaints are legitimate: a far-off public answer is only downweighted when
    # its pattern is also anomalous (IsolationForest on response features).
    public_z_threshold: float = 3.0
    isolation_contamination: float = 0.01
    isolation_sample: int = 20000
    public_weight: float = 0.5
    seed: int = 20240601


@dataclass(frozen=True)
class CollusionConfig:
    """Stage 3: reciprocal inflation and cliques on the graph of rating residuals.

    Residuals are on the 1..5 scale: how far a rating sits above the ratee's median
    rating, beyond the rater's usual deviation. Honest residuals have sd about 0.4.
    """

    pair_threshold: float = 1.0  # mean of the two directions' residuals
    pair_min_edge: float = 0.5  # ... and each direction at least this
    clique_edge: float = 0.5  # pairs this inflated (mean of both ways) link candidate groups
    clique_threshold: float = 1.15  # a group's mutual ratings average at least this
    clique_member_min: float = 0.8  # ... and each member's, to and from the others
    max_clique_size: int = 12


@dataclass(frozen=True)
class InterviewerConfig:
    """Agency methods: interviewers and phones whose answers chance cannot explain."""

    min_responses: int = 8  # an interviewer is judged on at least this many interviews
    min_others: int = 5  # ... each at a window with this many other ratings
    min_gap: float = 0.5  # mean gap from others' ratings of the same windows (1..5 scale)
    z: float = 3.5  # ... and this many standard errors from zero
    min_variance: float = 0.25  # floor of a window's rating variance
    weight: float = 0.25
    day_min: int = 8  # a day of only top ratings from one source, at least this long ...
    day_p: float = 1e-4  # ... and this improbable given the windows' other ratings


@dataclass(frozen=True)
class ScriptedConfig:
    """SCRIPTED: the same comment, with small edits, in many responses."""

    min_length: int = 10  # normalised characters; short praise is what honest people write
    min_cluster: int = 3  # responses for one ratee sharing one comment ...
    p_value: float = 1e-4  # ... beyond chance given the ratee's share of all comments
    similarity: float = 0.6  # estimated Jaccard similarity of character shingles
    shingle: int = 3
    bands: int = 32  # LSH: bands x rows MinHash values (finds pairs at 0.6 w.p. > 0.999)
    rows: int = 3
    seed: int = 20261130


@dataclass(frozen=True)
class AggregateConfig:
    """Stage 5: weighted means, confidence intervals, the k rule."""

    k: int = 3  # distinct peer raters (or public responses) to be reportable
    # Superiors rate in their official capacity and a unit often has one or two; the
    # anonymity promise is the peers' (DESIGN.md 3). Raise this to k to protect them too.
    k_superior: int = 1
    confidence: float = 0.95
    satisfied_min: float = 4.0  # overall >= 4 counts as satisfied


@dataclass(frozen=True)
class CleaningConfig:
    screening: ScreeningConfig = field(default_factory=ScreeningConfig)
    opening_hours: OpeningHours = field(default_factory=OpeningHours)
    rater_effects: RaterEffectsConfig = field(default_factory=RaterEffectsConfig)
    collusion: CollusionConfig = field(default_factory=CollusionConfig)
    interviewers: InterviewerConfig = field(default_factory=InterviewerConfig)
    scripted: ScriptedConfig = field(default_factory=ScriptedConfig)
    outliers: OutlierConfig = field(default_factory=OutlierConfig)
    aggregate: AggregateConfig = field(default_factory=AggregateConfig)
    # answers per partition (whole units are never split): memory is set by this and
    # by the largest unit, and a cluster gets this much work per task
    partition_answers: int = 200_000
