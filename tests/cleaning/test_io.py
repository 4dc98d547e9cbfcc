from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from cleaning_helpers import form, honest_peers, honest_public, public, ratings

from pingyi.cleaning import (
    COLUMNS,
    CleaningInputError,
    clean,
    clean_file,
    read_ratings_csv,
    write_outputs,
)
from pingyi.cleaning import io as cleaning_io

HEADER = ",".join(COLUMNS)
GOOD = "r1,public,,W1,overall,5,2026-03-02T10:00:00,30,d1,T1,qr"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "row", "column"),
    [
        ("r2,public,,W1,overall,abc,2026-03-02T10:00:00,30,d2,,qr", 2, "score"),
        ("r2,public,,W1,overall,6,2026-03-02T10:00:00,30,d2,,qr", 2, "score"),
        ("r2,public,,W1,overall,0,2026-03-02T10:00:00,30,d2,,qr", 2, "score"),
        ("r2,public,,W1,overall,,2026-03-02T10:00:00,30,d2,,qr", 2, "score"),
        ("r2,public,,W1,overall,4,yesterday,30,d2,,qr", 2, "submitted_at"),
        ("r2,public,,W1,overall,4,2026-13-02T10:00:00,30,d2,,qr", 2, "submitted_at"),
        ("r2,public,,W1,overall,4,2026-03-02T10:00:00,slow,d2,,qr", 2, "duration_s"),
        ("r2,citizen,,W1,overall,4,2026-03-02T10:00:00,30,d2,,qr", 2, "role"),
        ("r2,public,,W1,overall,4", 2, "submitted_at"),
    ],
)
def test_bad_rows_name_row_and_column_and_leave_nothing(tmp_path, line, row, column):
    path = write(tmp_path, HEADER, GOOD, line)
    out = tmp_path / "out"
    with pytest.raises(CleaningInputError) as err:
        clean_file(path, out)
    assert err.value.row == row and err.value.column == column
    assert f"row {row}" in str(err.value) and column in str(err.value)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["ratings.csv"]


def test_missing_column_is_named(tmp_path):
    header = HEADER.replace(",ticket", "")
    path = write(tmp_path, header, "r1,public,,W1,overall,5,2026-03-02T10:00:00,30,d1,qr")
    with pytest.raises(CleaningInputError, match="ticket"):
        read_ratings_csv(path)


def test_read_parses_types_and_timezones(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        GOOD,
        "r2,peer,P1,W1,i1,3,,,,,link",
        "r3,public,,W1,overall,4,2026-03-02T02:00:00Z,12.5,d3,,qr",
    )
    got = read_ratings_csv(path)
    assert got.score.tolist() == [5.0, 3.0, 4.0]
    assert np.isnan(got.submitted_at[1]) and np.isnan(got.duration_s[1])
    # 10:00 China time == 02:00 UTC
    assert got.submitted_at[0] == got.submitted_at[2]
    assert got.rater.tolist() == ["", "P1", ""]


def sample_result():
    rng = np.random.default_rng(2)
    staff = [f"S{k}" for k in range(6)]
    quality = dict(zip(staff, rng.uniform(2.5, 4, 6), strict=True))
    records = honest_peers(rng, staff, quality, bias={"S0": 1.5})
    records += honest_public(rng, {"W<1>": 4.0}, 20)
    records += public("fast", "W<1>", 5, duration=2.0)
    records += form("s<script>", "S1", "S2", [5] * 6, role="self")
    return clean(ratings(records))


def test_writer_columns_exactly(tmp_path):
    out = write_outputs(sample_result(), tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == ["flags.csv", "report.html", "scores.csv"]
    with open(out / "scores.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "ratee", "role", "n_responses", "n_used", "raw_mean", "clean_mean",
        "ci_low", "ci_high", "score_100", "satisfaction_rate", "reportable",
    ]  # fmt: skip
    assert {r[10] for r in rows[1:]} <= {"true", "false"}
    with open(out / "flags.csv", encoding="utf-8") as handle:
        flags = list(csv.reader(handle))
    assert flags[0] == ["response_id", "rater", "ratee", "reason", "action", "weight", "detail"]
    assert any(r[3] == "SPEEDER" and r[4] == "exclude" and r[5] == "0" for r in flags[1:])
    assert any(r[3] == "LENIENT" and r[4] == "adjust" for r in flags[1:])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp dir left behind


def test_report_is_self_contained(tmp_path):
    out = write_outputs(sample_result(), tmp_path / "out")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"(https?:)?//[a-z0-9]", html, re.IGNORECASE)
    assert "<svg" in html and "SPEEDER" in html and "LENIENT" in html
    assert "W&lt;1&gt;" in html and "W<1>" not in html


def test_failed_write_leaves_the_old_directory_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.csv").write_text("old", encoding="utf-8")

    def broken(result, path):
        raise RuntimeError("disk full")

    monkeypatch.setattr(cleaning_io, "_write_flags", broken)
    with pytest.raises(RuntimeError):
        write_outputs(sample_result(), out)
    assert [p.name for p in out.iterdir()] == ["scores.csv"]
    assert (out / "scores.csv").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_clean_file_end_to_end_with_progress(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        GOOD,
        "r2,public,,W1,overall,4,2026-03-02T10:30:00,25,d2,T2,qr",
        "r3,public,,W1,overall,3,2026-03-02T11:00:00,28,d3,T3,qr",
    )
    seen: list[tuple[str, float]] = []
    result = clean_file(path, tmp_path / "out", progress=lambda s, f: seen.append((s, f)))
    assert [s.ratee for s in result.scores] == ["W1"]
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) >= 8
    assert (tmp_path / "out" / "report.html").exists()


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("score", "five", "score"),
        ("score", 7, "score"),
        ("submitted_at", "not a time", "submitted_at"),
        ("duration_s", "slow", "duration_s"),
        ("role", "boss", "role"),
    ],
)
def test_records_are_validated_with_row_and_column(field, value, column):
    records = public("a", "W", 5) + public("b", "W", 4, minutes=5)
    records[1][field] = value
    with pytest.raises(CleaningInputError) as err:
        ratings(records)
    assert (err.value.row, err.value.column) == (2, column)


def test_repeated_item_in_a_response_is_rejected():
    records = public("a", "W", 5) + public("a", "W", 4)
    with pytest.raises(CleaningInputError) as err:
        clean(ratings(records))
    assert err.value.column == "item" and err.value.row == 2
