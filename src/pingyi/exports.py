"""Feed rows as CSV, XLSX and JSON for HR. Pure: rows in, bytes out.

Spreadsheets follow OWASP's CSV-injection advice: a text cell starting with
= + - @ tab or CR is prefixed with an apostrophe so no spreadsheet runs it as a
formula. Numbers stay numbers (with number formats in XLSX). CSV carries a UTF-8 BOM
so Excel opens Chinese correctly.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from pingyi.i18n import translate
from pingyi.scoring import FeedRow
from pingyi.scoring.policy import ROLES

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula becomes inert text."""
    if isinstance(value, str) and value.startswith(DANGEROUS_STARTS):
        return "'" + value
    return value


# (key, header key in i18n, number format for XLSX or "")
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("staff_code", "feed.staff_code", ""),
    ("staff_name", "feed.staff_name", ""),
    ("unit_name", "feed.unit", ""),
    ("post_category", "feed.post_category", ""),
    *((f"{r}_score", f"feed.{r}_score", "0.00") for r in ROLES),
    *((f"{r}_n", f"feed.{r}_n", "0") for r in ROLES),
    ("total", "feed.total", "0.00"),
    ("weights_used", "feed.weights_used", ""),
    ("missing_roles", "feed.missing_roles", ""),
    ("satisfaction_rate", "feed.satisfaction_rate", "0.0%"),
    ("satisfaction_n", "feed.satisfaction_n", "0"),
    ("rule_flags", "feed.rule_flags", ""),
    ("recommended_grade", "feed.recommended_grade", ""),
    ("final_grade", "feed.final_grade", ""),
    ("final_approved_by", "feed.final_approved_by", ""),
    ("grade_notes", "feed.grade_notes", ""),
    ("warning_consecutive", "feed.warning_consecutive", ""),
    ("revision", "feed.revision", "0"),
)


def cells(row: FeedRow, revision: int, lang: str) -> dict[str, Any]:
    """One row as spreadsheet cells: numbers as numbers, explanations as words."""
    data = row.to_json()

    def role(r: str) -> str:
        return translate(f"role.{r}", lang)

    data["weights_used"] = " ".join(f"{role(r)}{w:g}%" for r, w in row.weights_used.items())
    data["missing_roles"] = "; ".join(
        f"{role(r)}: {translate('feed.missing.' + why, lang)}"
        for r, why in row.missing_roles.items()
    )
    if row.satisfaction_status != "ok":
        data["satisfaction_rate"] = translate("feed.insufficient", lang)
    data["rule_flags"] = "; ".join(translate(f"feed.flag.{f}", lang) for f in row.rule_flags)
    data["grade_notes"] = "; ".join(translate(f"feed.note.{n}", lang) for n in row.grade_notes)
    data["warning_consecutive"] = translate("feed.yes", lang) if row.warning_consecutive else ""
    data["revision"] = revision
    return {key: data[key] for key, _, _ in COLUMNS}


def headers(lang: str) -> list[str]:
    return [translate(header, lang) for _, header, _ in COLUMNS]


def write_csv(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """Any table as formula-safe CSV with a BOM (feeds, invitation lists, indicators)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_csv(rows: Iterable[FeedRow], revision: int, lang: str = "zh-CN") -> bytes:
    return write_csv(headers(lang), (cells(r, revision, lang).values() for r in rows))


def to_xlsx(rows: Iterable[FeedRow], revision: int, lang: str = "zh-CN", title: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    # a sheet title has at most 31 characters and none of []:*?/\
    sheet.title = re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "scores"
    sheet.append(headers(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralise(v) for v in cells(row, revision, lang).values()])
    for index, (_, _, number_format) in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 14
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if isinstance(cell.value, int | float):
                    cell.number_format = number_format
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(facts: dict[str, Any], rows: Iterable[FeedRow]) -> bytes:
    body = {**facts, "items": [r.to_json() for r in rows]}
    return json.dumps(body, ensure_ascii=False, indent=1, default=_json_default).encode()


def render(kind: str, facts: dict[str, Any], rows: list[FeedRow], lang: str) -> bytes:
    """One export by name: csv, xlsx or json."""
    if kind == "csv":
        return to_csv(rows, facts["revision"], lang)
    if kind == "xlsx":
        return to_xlsx(rows, facts["revision"], lang, title=facts["campaign"])
    if kind == "json":
        return to_json(facts, rows)
    raise ValueError("format must be csv, xlsx or json")


# any console table, filtered as shown (web/tables.py)

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_xlsx(header: Sequence[str], rows: Iterable[Iterable[Any]], title: str = "") -> bytes:
    """One sheet, a bold frozen header, text neutralised like the feed's."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)  # streams rows: a 5,000-row table stays small in memory
    sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "table")
    sheet.freeze_panes = "A2"
    bold = []
    for h in header:
        cell = WriteOnlyCell(sheet, value=neutralise(h))
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    for row in rows:
        sheet.append(["" if v is None else neutralise(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def table_file(
    kind: str, header: Sequence[str], rows: Iterable[Iterable[Any]], title: str = ""
) -> bytes:
    if kind == "csv":
        return write_csv(header, rows)
    if kind == "xlsx":
        return table_xlsx(header, rows, title)
    raise ValueError("format must be csv or xlsx")
