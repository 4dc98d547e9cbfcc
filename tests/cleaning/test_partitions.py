"""Partitioned cleaning: the same result however the campaign is cut, and on Dask."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from pingyi.cleaning import CleaningConfig, CleaningResult, clean, partition

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "cleaning"))
from synth import Campaign, generate, write_csv


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    # every contamination kind, interviewers and scripted comments included
    return generate(n_units=12, seed=11, public_per_staff=60.0, days=10)


def _config(answers: int) -> CleaningConfig:
    return dataclasses.replace(CleaningConfig(), partition_answers=answers)


def _clean(c: Campaign, answers: int, **kwargs: object) -> CleaningResult:
    return clean(
        c.ratings,
        _config(answers),
        honeypot=c.honeypot,
        ticket_counts=c.ticket_counts,
        **kwargs,  # type: ignore[arg-type]
    )


def _plain(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


def assert_same(a: CleaningResult, b: CleaningResult) -> None:
    assert a.flags == b.flags
    assert [tuple(map(_plain, dataclasses.astuple(s))) for s in a.scores] == [
        tuple(map(_plain, dataclasses.astuple(s))) for s in b.scores
    ]
    assert a.groups == b.groups
    assert a.rater_bias == b.rater_bias
    assert a.fallbacks == b.fallbacks
    assert a.notes == b.notes
    assert a.default_channel_responses == b.default_channel_responses
    assert (a.n_answers, a.n_responses) == (b.n_answers, b.n_responses)


def test_partitions_keep_every_comparison_inside(campaign: Campaign) -> None:
    r = campaign.ratings
    parts = partition.plan(r, 3000)
    assert len(parts) > 3
    rows = np.concatenate(parts)
    assert np.array_equal(np.sort(rows), np.arange(len(r)))  # each row exactly once
    where = np.empty(len(r), np.int64)
    for k, p in enumerate(parts):
        where[p] = k
    known = (r.role != "public") & (r.rater != "")
    for column, mask in (("ratee", np.ones(len(r), bool)), ("rater", known)):
        for name in np.unique(getattr(r, column)[mask]).tolist():
            assert len(np.unique(where[mask & (getattr(r, column) == name)])) == 1, name
    # a peer is one person as rater and as ratee
    for name in np.unique(r.rater[known]).tolist():
        assert len(np.unique(where[(r.ratee == name) | (known & (r.rater == name))])) == 1


def test_the_cut_does_not_change_a_single_flag(campaign: Campaign) -> None:
    whole = _clean(campaign, 10**9)
    cut = _clean(campaign, 2000)
    assert len(partition.plan(campaign.ratings, 2000)) > 5
    assert {f.reason for f in whole.flags} >= {"BURST", "LENIENT", "INTERVIEWER", "SCRIPTED"}
    assert_same(whole, cut)


def test_progress_reaches_the_end_without_stepping_back(campaign: Campaign) -> None:
    seen: list[float] = []
    _clean(campaign, 3000, progress=lambda stage, done: seen.append(done))
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(1.0)
    assert len(seen) > 2 * len(partition.plan(campaign.ratings, 3000))


def test_a_two_worker_local_cluster_gives_the_same_result(campaign: Campaign) -> None:
    from pingyi.cluster import dask_runner

    local = _clean(campaign, 4000)
    with dask_runner(workers=2) as runner:
        on_dask = _clean(campaign, 4000, runner=runner)
    assert_same(local, on_dask)


def test_cli_clean_on_local_workers_writes_the_same_files(
    campaign: Campaign, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from pingyi.cli import main

    source = tmp_path / "ratings.csv"
    write_csv(campaign.ratings, str(source))
    outputs = {}
    for name, extra in (("alone", []), ("dask", ["--workers", "2"])):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["clean", str(source), "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        outputs[name] = {f: (out / f).read_bytes() for f in ("scores.csv", "flags.csv")}
    assert outputs["alone"] == outputs["dask"]


def test_cli_names_an_unreachable_scheduler(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pingyi.cli import main

    source = tmp_path / "ratings.csv"
    source.write_text("response_id,role,ratee,score\nr1,public,W1,5\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["clean", str(source), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"],
    )
    assert result.exit_code != 0
    assert "tcp://127.0.0.1:9" in result.output
    assert not (tmp_path / "o").exists()


def test_an_empty_campaign_and_a_single_answer_clean_without_error() -> None:
    from pingyi.cleaning import Ratings

    empty = clean(Ratings.from_records([]))
    assert (empty.flags, empty.scores, empty.n_answers) == ([], [], 0)
    one = clean(
        Ratings.from_records([{"response_id": "a", "role": "public", "ratee": "W", "score": 4}])
    )
    assert [(s.ratee, s.role, s.clean_mean, s.reportable) for s in one.scores] == [
        ("W", "public", 4.0, False)
    ]
