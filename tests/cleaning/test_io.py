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


# ----- the pyarrow reader against the csv-module reader it replaced ----------------


def reference_read(path: Path, utc_offset_hours: float = 8.0) -> dict[str, list]:
    """The former csv-module reader's values for a valid file, column by column."""
    import datetime as dt

    local = dt.timezone(dt.timedelta(hours=utc_offset_hours))
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        rows = list(reader)
    by_name = {h: [r[k] for r in rows] for k, h in enumerate(header)}

    def stamp(text: str) -> float:
        s = text.strip()
        if not s:
            return float("nan")
        t = dt.datetime.fromisoformat(s)
        return (t if t.tzinfo else t.replace(tzinfo=local)).timestamp()

    out: dict[str, list] = {c: list(by_name[c]) for c in COLUMNS}
    out["score"] = np.array([v.strip() for v in by_name["score"]], dtype=float).tolist()
    out["duration_s"] = np.array(
        [v.strip() or "nan" for v in by_name["duration_s"]], dtype=float
    ).tolist()
    out["submitted_at"] = [stamp(v) for v in by_name["submitted_at"]]
    return out


def random_csv(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    odd = ["", "a,b", 'say "hi"', "line\nbreak", " padded ", "评议", "NA", "null", "nan"]
    stamps = [
        "2026-03-02T10:00:00",
        "2026-03-02 10:00:01.250",
        "2026-03-02T02:00:00Z",
        "2026-03-02T10:00:00+05:30",
        " 2026-11-30T23:59:59 ",
        "2026-03-02",
        "",
    ]
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["extra", *(f" {c} " if c == "item" else c for c in COLUMNS)])
        for i in range(n):
            pick = rng.integers(0, len(odd), 4)
            writer.writerow(
                [
                    odd[pick[0]],
                    f"r{i // 3}",
                    ["public", "peer", "superior", "self"][i % 4],
                    f"S{rng.integers(0, 40)}" if i % 4 else odd[pick[1]],
                    f"W{rng.integers(0, 30)}",
                    ["overall", "wait", "attitude"][i % 3],
                    [" 5", "4.0", "3", "2.5", "1e0"][i % 5],
                    stamps[int(rng.integers(0, len(stamps)))],
                    ["", "12.5", " 30 ", "0", "1234.567", "nan"][i % 6],
                    f"d{rng.integers(0, 50)}",
                    odd[pick[2]],
                    odd[pick[3]] or "qr",
                ]
            )


@pytest.mark.parametrize("seed", [1, 2])
def test_pyarrow_reader_matches_the_csv_module_reader(tmp_path, seed):
    path = tmp_path / "ratings.csv"
    random_csv(path, 3000, seed)
    got = read_ratings_csv(path)
    want = reference_read(path)
    assert len(got) == 3000
    for name in COLUMNS:
        column = getattr(got, name)
        if name in ("score", "submitted_at", "duration_s"):
            assert column.dtype == float
            np.testing.assert_array_equal(column, np.array(want[name]), err_msg=name)
        else:
            assert column.dtype == object and column.tolist() == want[name], name
            assert all(type(v) is str for v in column.tolist())


def test_pyarrow_reader_matches_on_the_benchmark_generator(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "cleaning"))
    from synth import generate, write_csv

    path = tmp_path / "synth.csv"
    write_csv(generate(n_units=3, seed=5).ratings, str(path))
    got, want = read_ratings_csv(path), reference_read(path)
    for name in COLUMNS:
        assert np.array_equal(
            np.asarray(getattr(got, name)),
            np.asarray(want[name], dtype=getattr(got, name).dtype),
            equal_nan=name in ("submitted_at", "duration_s"),
        ), name


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CleaningInputError, match="missing column"):
        read_ratings_csv(empty)
    assert len(read_ratings_csv(write(tmp_path, HEADER))) == 0


def test_short_row_far_into_the_file_is_named(tmp_path):
    lines = [GOOD.replace("r1,", f"r{i},", 1) for i in range(1, 5000)]
    lines[4321] = "r4322,public,,W1,overall,5"
    with pytest.raises(CleaningInputError) as err:
        read_ratings_csv(write(tmp_path, HEADER, *lines))
    assert (err.value.row, err.value.column) == (4322, "submitted_at")
    assert "row 4322 (line 4323)" in str(err.value)


def test_first_bad_row_is_named_when_a_bad_value_repeats(tmp_path):
    bad = GOOD.replace(",5,", ",x,")
    with pytest.raises(CleaningInputError) as err:
        read_ratings_csv(write(tmp_path, HEADER, GOOD, GOOD, bad, GOOD, bad))
    assert err.value.row == 3 and "'x' is not a number" in str(err.value)


# ----- Parquet in and out ------------------------------------------------------------


def to_parquet(csv_path: Path, path: Path, **retype) -> Path:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = pcsv.read_csv(
        csv_path,
        convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(COLUMNS, pa.string())),
    )
    for name, array in retype.items():
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(array))
    pq.write_table(table, path)
    return path


def test_parquet_input_reads_like_the_csv(tmp_path):
    from pingyi.cleaning.io import read_ratings

    csv_path = tmp_path / "ratings.csv"
    random_csv(csv_path, 500, 3)
    want = read_ratings_csv(csv_path)
    # by magic bytes: no extension
    got = read_ratings(to_parquet(csv_path, tmp_path / "ratings"))
    for name in COLUMNS:
        assert np.array_equal(
            getattr(got, name), getattr(want, name), equal_nan=getattr(want, name).dtype == float
        ), name


def test_parquet_typed_columns(tmp_path):
    import datetime as dt

    from pingyi.cleaning.io import read_ratings

    csv_path = write(tmp_path, HEADER, GOOD, "r2,peer,P1,W1,i1,3,,,,,link")
    path = to_parquet(
        csv_path,
        tmp_path / "typed.parquet",
        score=[5, 3],
        submitted_at=[dt.datetime(2026, 3, 2, 10), None],
        duration_s=[30.0, None],
    )
    got, want = read_ratings(path), read_ratings_csv(csv_path)
    assert got.score.tolist() == want.score.tolist()
    assert got.submitted_at[0] == want.submitted_at[0] and np.isnan(got.submitted_at[1])
    assert got.duration_s[0] == 30.0 and np.isnan(got.duration_s[1])
    aware = to_parquet(
        csv_path,
        tmp_path / "aware.parquet",
        submitted_at=[dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC), None],
    )
    assert read_ratings(aware).submitted_at[0] == want.submitted_at[0]


@pytest.mark.parametrize(
    ("column", "values", "row", "message"),
    [
        ("score", [5, None], 2, "is not a number"),
        ("score", [5, 7], 2, "not a score in 1..5"),
        ("score", ["5", "abc"], 2, "'abc' is not a number"),
        ("submitted_at", ["2026-03-02T10:00:00", "yesterday"], 2, "ISO 8601"),
        ("duration_s", [30.0, -1.0], 2, "negative duration"),
        ("duration_s", ["30", "slow"], 2, "'slow' is not a number"),
        ("role", ["public", "citizen"], 2, "is not one of"),
    ],
)
def test_parquet_bad_rows_name_row_and_column(tmp_path, column, values, row, message):
    csv_path = write(tmp_path, HEADER, GOOD, GOOD.replace("r1,", "r2,", 1))
    path = to_parquet(csv_path, tmp_path / "bad.parquet", **{column: values})
    out = tmp_path / "out"
    with pytest.raises(CleaningInputError) as err:
        clean_file(path, out)
    assert (err.value.row, err.value.column) == (row, column)
    assert f"row {row}" in str(err.value) and column in str(err.value) and message in str(err.value)
    assert not out.exists()


def test_parquet_missing_column_is_named(tmp_path):
    import pyarrow.parquet as pq

    from pingyi.cleaning.io import read_ratings

    path = to_parquet(write(tmp_path, HEADER, GOOD), tmp_path / "r.parquet")
    pq.write_table(pq.read_table(path).drop_columns(["device"]), path)
    with pytest.raises(CleaningInputError, match="device") as err:
        read_ratings(path)
    assert err.value.column == "device"


def test_parquet_outputs_on_request_match_the_csvs(tmp_path):
    import pyarrow.parquet as pq

    result = sample_result()
    plain = write_outputs(result, tmp_path / "plain")
    assert not any(p.suffix == ".parquet" for p in plain.iterdir())
    out = write_outputs(result, tmp_path / "out", parquet=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "flags.csv", "flags.parquet", "report.html", "scores.csv", "scores.parquet",
    ]  # fmt: skip
    scores = pq.read_table(out / "scores.parquet")
    assert scores.column_names == list(cleaning_io.SCORE_COLUMNS)
    assert scores.column("ratee").to_pylist() == [s.ratee for s in result.scores]
    assert scores.column("reportable").to_pylist() == [s.reportable for s in result.scores]
    assert scores.column("clean_mean").to_pylist() == [
        None if np.isnan(s.clean_mean) else s.clean_mean for s in result.scores
    ]
    flags = pq.read_table(out / "flags.parquet")
    assert flags.column_names == list(cleaning_io.FLAG_COLUMNS)
    with open(out / "flags.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [r[:5] for r in rows] == [
        [str(v) for v in r]
        for r in zip(
            *(flags.column(c).to_pylist() for c in cleaning_io.FLAG_COLUMNS[:5]), strict=True
        )
    ]
    assert flags.column("detail").to_pylist() == [r[6] for r in rows]


def test_clean_command_reads_parquet_and_writes_parquet(tmp_path):
    from click.testing import CliRunner

    from pingyi.cli import main

    lines = [
        f"r{i},public,,W{i % 2},overall,{4 + i % 2},2026-03-02T1{i % 8}:00:00,30,d{i},,qr"
        for i in range(12)
    ]
    path = to_parquet(write(tmp_path, HEADER, *lines), tmp_path / "in.parquet")
    run = CliRunner().invoke(main, ["clean", str(path), "--out", str(tmp_path / "o"), "--parquet"])
    assert run.exit_code == 0, run.output
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "scores.csv", "flags.csv", "report.html", "scores.parquet", "flags.parquet",
    }  # fmt: skip
    bad = to_parquet(
        write(tmp_path, HEADER, *lines), tmp_path / "bad.parquet", score=[5] * 11 + [9]
    )
    refused = CliRunner().invoke(main, ["clean", str(bad), "--out", str(tmp_path / "o2")])
    assert refused.exit_code == 1
    assert "row 12" in refused.output and "score" in refused.output
    assert not (tmp_path / "o2").exists()


def test_the_readers_dictionary_codes_give_the_same_cleaning(tmp_path: Path) -> None:
    import dataclasses

    rng = np.random.default_rng(12)
    staff = [f"S{k}" for k in range(9)]
    quality = {s: float(rng.uniform(2.5, 4.2)) for s in staff}
    records = honest_peers(rng, staff, quality) + honest_public(rng, {"W1": 3.8}, 40)
    path = tmp_path / "r.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    coded = read_ratings_csv(path)
    assert coded.codes and {"response_id", "item"} <= set(coded.codes)
    plain = dataclasses.replace(coded, codes=None)
    first, second = clean(coded), clean(plain)
    assert first.flags == second.flags and first.scores == second.scores
