"""HR exports: formula-safe cells, real numbers with formats, frozen header, BOM."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from pingyi import exports
from pingyi.scoring import Policy, compute_feed

HOSTILE = ['=HYPERLINK("http://x")', "+SUM(1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


def _rows():
    staff, scores = [], []
    for i, name in enumerate(HOSTILE):
        code = f"S{i}"
        staff.append(
            {
                "code": code,
                "name": name,
                "unit_code": "u1",
                "unit_name": "=1+1" if i == 0 else "不动产登记",
                "post_category": "window_service",
                "window": None,
            }
        )
        for role, n in (("public", 12), ("peer", 4), ("superior", 1), ("self", 1)):
            scores.append(
                {
                    "ratee": f"staff:{code}",
                    "role": role,
                    "n_used": n,
                    "score_100": 70.0 + i,
                    "satisfaction_rate": 0.75 if role == "public" else None,
                    "reportable": not (role == "peer" and i == 1),
                }
            )
    snapshot = {"policy": Policy().to_json(), "staff": staff, "scores": scores, "previous": None}
    return compute_feed(snapshot)


def test_neutralise_touches_only_formula_starts() -> None:
    assert [exports.neutralise(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert exports.neutralise("张三") == "张三"
    assert exports.neutralise(-3.5) == -3.5  # numbers stay numbers


def test_xlsx_has_numbers_formats_frozen_header_and_inert_text() -> None:
    rows = _rows()
    book = load_workbook(io.BytesIO(exports.to_xlsx(rows, revision=3, lang="zh-CN")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["工号", "姓名"] and sheet.freeze_panes == "A2"
    col = {name: i for i, name in enumerate(header)}
    names = [sheet.cell(row=r, column=col["姓名"] + 1).value for r in range(2, 2 + len(rows))]
    # XML stores a bare CR as a line feed; what matters is the apostrophe in front
    assert names == ["'" + v.replace("\r", "\n") for v in HOSTILE]
    assert sheet.cell(row=2, column=col["单位"] + 1).value == "'=1+1"
    total = sheet.cell(row=2, column=col["综合得分"] + 1)
    assert isinstance(total.value, int | float) and total.value == rows[0].total
    assert total.number_format == "0.00"
    rate = sheet.cell(row=2, column=col["群众满意率"] + 1)
    assert rate.value == 0.75 and rate.number_format == "0.0%"
    # the ratee with two peers: no peer score, no peer n, and the reason in words
    assert sheet.cell(row=3, column=col["同事评价得分"] + 1).value is None
    assert sheet.cell(row=3, column=col["同事评价人数"] + 1).value is None
    assert "评价人数不足" in sheet.cell(row=3, column=col["缺项说明"] + 1).value
    assert sheet.cell(row=2, column=col["数据版本"] + 1).value == 3
    for row in sheet.iter_rows(min_row=2, values_only=True):
        for value in row:
            assert not (isinstance(value, str) and value.startswith(exports.DANGEROUS_STARTS))


def test_english_headers() -> None:
    book = load_workbook(io.BytesIO(exports.to_xlsx(_rows(), revision=1, lang="en")))
    header = [c.value for c in book.active[1]]
    assert "360 total" in header and "Recommended grade" in header


def test_csv_has_a_bom_and_inert_text() -> None:
    body = exports.to_csv(_rows(), revision=1)
    assert body.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed[0][0] == "工号"
    assert [r[1] for r in parsed[1:]] == ["'" + v for v in HOSTILE]


def test_json_keeps_the_fields_and_the_revision() -> None:
    rows = _rows()
    body = json.loads(exports.to_json({"campaign": "C1", "revision": 2}, rows))
    assert body["revision"] == 2 and len(body["items"]) == len(rows)
    assert body["items"][1]["peer_score"] is None
    assert body["items"][1]["missing_roles"] == {"peer": "under_k"}
