"""pingyi.cleaning — the pure cleaning engine (numpy, scipy, scikit-learn; no web, no DB).

Input
    ``Ratings``: one campaign's answers as parallel numpy arrays with the DESIGN.md
    section 5 columns (response_id, role, rater, ratee, item, score, submitted_at as UTC
    epoch seconds or NaN, duration_s or NaN, device, ticket, channel). Build it with
    ``Ratings.from_records(dicts)``, ``Ratings.from_columns(mapping)`` or
    ``read_ratings_csv(path)``; bad input raises ``CleaningInputError`` naming the row
    (1-based data row; the file line is one more) and the column.

Run
    ``clean(ratings, config=CleaningConfig(), overrides=(), ticket_counts=None,
    progress=None, honeypot=None, off_hours=None, item_weights=None) -> CleaningResult``

    - ``item_weights``: ``{(role, item): weight}`` for the response composite (absent
      pairs weigh 1; weight 0 leaves an item out, so "overall only" is every other
      item at 0).

    - ``overrides``: pairs ``(reason, response_id or rater)`` meaning "this decision is
      void"; the flag is still emitted with ``overridden=True`` but changes nothing.
    - ``ticket_counts``: ``{(ratee, hour_start_epoch_s): served}`` from the queue
      system (``read_ticket_counts(path)`` reads a CSV ratee,hour,served).
    - ``honeypot``: response ids that answered a hidden honeypot item.
    - ``progress(stage, fraction)``: called often; ``fraction`` is the overall share of
      the run done (0..1, non-decreasing), ``stage`` the current stage name.

    Stages: screening (DUPLICATE, BOT, SPEEDER, STRAIGHTLINE, OFF_HOURS, BURST;
    INTERVIEWER for interviewers and phones whose answers chance cannot explain,
    SCRIPTED for one comment pasted with small edits into many responses) ->
    rater effects within units (LENIENT/SEVERE adjust; CENTRAL, HALO, MISFIT
    downweight, each judged against colleagues rating the same ratees) -> collusion
    (RECIPROCAL, CLIQUE exclude the mutual ratings, only with k outside raters) ->
    outliers (OUTLIER downweight) -> aggregation per ratee and role (``ScoreRow``). A
    response's weight is the minimum over its live flags; adjustments subtract the
    rater's bias. Responses with channel ``default`` never count in any aggregate
    (counted in the report). The score of a response is its composite (the mean of its
    items by default); the satisfaction rate reads the ``overall`` item. A peer or
    superior score that cleaning would leave under k raters keeps its raw mean
    (``CleaningResult.fallbacks``); ``CleaningResult.effect()`` says how far cleaning
    moved each role's scores.

Output
    ``CleaningResult.flags`` (``Flag``: response_id, rater, ratee, reason, action,
    weight, detail, overridden, shift; rater-level flags have an empty response_id),
    ``.scores`` (``ScoreRow``, the scores.csv columns), ``.groups``
    (``CollusionGroup``), ``.rater_bias`` (rater -> bias). ``write_outputs(result, dir)``
    writes scores.csv, flags.csv and report.html atomically; ``clean_file(csv, dir,
    config, ticket_counts_path, progress)`` is read + clean + write.
"""

from .config import (
    AggregateConfig,
    CleaningConfig,
    CollusionConfig,
    InterviewerConfig,
    OpeningHours,
    OutlierConfig,
    RaterEffectsConfig,
    ScreeningConfig,
    ScriptedConfig,
)
from .io import (
    clean_file,
    read_ratings,
    read_ratings_csv,
    read_ratings_parquet,
    read_ticket_counts,
    write_outputs,
)
from .pipeline import clean
from .report import REASON_EXPLANATIONS
from .types import (
    ACTIONS,
    COLUMNS,
    REASONS,
    CleaningEffect,
    CleaningInputError,
    CleaningResult,
    CollusionGroup,
    Flag,
    Ratings,
    ScoreRow,
)

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "REASONS",
    "REASON_EXPLANATIONS",
    "AggregateConfig",
    "CleaningConfig",
    "CleaningEffect",
    "CleaningInputError",
    "CleaningResult",
    "CollusionConfig",
    "CollusionGroup",
    "Flag",
    "InterviewerConfig",
    "OpeningHours",
    "OutlierConfig",
    "RaterEffectsConfig",
    "Ratings",
    "ScoreRow",
    "ScreeningConfig",
    "ScriptedConfig",
    "clean",
    "clean_file",
    "read_ratings",
    "read_ratings_csv",
    "read_ratings_parquet",
    "read_ticket_counts",
    "write_outputs",
]
