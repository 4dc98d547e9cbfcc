"""Import units, windows and staff from a CSV or XLSX file shaped like the template.

The whole file is checked first; every bad row is reported with its row number and
reason, and nothing is written until the file is clean. Rows are matched by code,
so importing the same file again updates instead of duplicating.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from pingyi.db.tables import POST_CATEGORIES, ServiceWindow, Unit
from pingyi.exports import write_csv
from pingyi.hours import parse_hours
from pingyi.services import audit
from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit, upsert_window

COLUMNS = [
    "type",
    "code",
    "name",
    "name_en",
    "unit_code",
    "window_number",
    "post_category",
    "is_leader",
    "window_code",
    "opening_hours",
]
# Control characters other than tab and line breaks (a CSV cell may hold those).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

HEADERS_ZH = [
    "类型",
    "编码",
    "名称",
    "英文名称",
    "所属单位编码",
    "窗口号",
    "岗位类别",
    "是否负责人",
    "常驻窗口编码",
    "办公时间",
]
TYPES = {
    "unit": "unit",
    "单位": "unit",
    "window": "window",
    "窗口": "window",
    "staff": "staff",
    "人员": "staff",
}
POST_ALIASES = {
    "执法类": "law_enforcement",
    "窗口服务类": "window_service",
    "综合管理类": "management",
    **{p: p for p in POST_CATEGORIES},
}
TRUE_WORDS = {"1", "true", "yes", "y", "是"}
MAX_ROWS = 20000

TEMPLATE_ROWS = [
    [
        "单位",
        "realestate",
        "不动产登记",
        "Real Estate Registration",
        "",
        "",
        "",
        "",
        "",
        "08:30-12:00,13:30-17:30",
    ],
    ["窗口", "A01", "不动产综合受理", "Intake", "realestate", "A01", "", "", "", ""],
    ["人员", "A001", "王芳", "", "realestate", "", "窗口服务类", "否", "A01", ""],
    ["人员", "A002", "李强", "", "realestate", "", "综合管理类", "是", "", ""],
]


class ImportFileError(ValueError):
    pass


@dataclass
class ImportReport:
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    units: int = 0
    windows: int = 0
    staff: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def template_csv() -> bytes:
    return write_csv(HEADERS_ZH, TEMPLATE_ROWS)


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows as dicts keyed by COLUMNS (Chinese or English headers accepted)."""
    if filename.lower().endswith(".xlsx"):
        table = _xlsx_rows(content)
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")  # files saved by Excel on Chinese Windows
            except UnicodeDecodeError as exc:
                raise ImportFileError("the file is neither UTF-8 nor GB18030 text") from exc
        table = list(csv.reader(io.StringIO(text)))
    if not table:
        raise ImportFileError("the file is empty")
    header = [h.strip() for h in table[0]]
    mapping = {}
    for i, name in enumerate(header):
        if name in COLUMNS:
            mapping[i] = name
        elif name in HEADERS_ZH:
            mapping[i] = COLUMNS[HEADERS_ZH.index(name)]
    missing = {"type", "code", "name"} - set(mapping.values())
    if missing:
        raise ImportFileError(
            f"missing columns: {', '.join(sorted(missing))} "
            "(download the template to see the expected header)"
        )
    if len(table) > MAX_ROWS + 1:
        raise ImportFileError(f"at most {MAX_ROWS} rows per file")
    return [
        {mapping[i]: (cell or "").strip() for i, cell in enumerate(row) if i in mapping}
        for row in table[1:]
    ]


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ImportFileError("the XLSX file could not be read") from exc
    assert sheet is not None
    return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]


def validate(
    rows: list[dict[str, str]], known_units: set[str], known_windows: set[str]
) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    units = set(known_units) | {r["code"] for r in rows if TYPES.get(r.get("type", "")) == "unit"}
    windows = set(known_windows) | {
        r["code"] for r in rows if TYPES.get(r.get("type", "")) == "window"
    }
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if not any(row.values()):
            continue
        if any(CONTROL.search(value) for value in row.values()):
            # NUL would be stored on SQLite and refused by PostgreSQL: refused on both.
            errors.append((number, "contains control characters (such as NUL): remove them"))
            continue
        kind = TYPES.get(row.get("type", ""))
        if kind is None:
            errors.append((number, f"type must be 单位, 窗口 or 人员 (got {row.get('type')!r})"))
            continue
        code, name = row.get("code", ""), row.get("name", "")
        if not code or len(code) > 64 or not code.replace("-", "").replace("_", "").isalnum():
            errors.append((number, "code is required: letters, digits, - and _ only"))
        if not name:
            errors.append((number, "name is required"))
        if (kind, code) in seen:
            errors.append((number, f"code {code} also appears on row {seen[(kind, code)]}"))
        seen[(kind, code)] = number
        if kind in ("window", "staff") and row.get("unit_code", "") not in units:
            errors.append((number, f"unknown unit code {row.get('unit_code')!r}"))
        if kind == "unit" and row.get("opening_hours"):
            try:
                parse_hours(row["opening_hours"])
            except ValueError as exc:
                errors.append((number, str(exc)))
        if kind == "window" and not row.get("window_number"):
            errors.append((number, "window number is required for a window"))
        if kind == "staff":
            if row.get("post_category") and row["post_category"] not in POST_ALIASES:
                errors.append((number, "post category must be 执法类, 窗口服务类 or 综合管理类"))
            if row.get("window_code") and row["window_code"] not in windows:
                errors.append((number, f"unknown window code {row['window_code']!r}"))
    return errors


async def import_org(
    filename: str,
    content: bytes,
    actor: str,
    org_code: str = "default",
    org_name: str = "政务服务中心",
) -> ImportReport:
    try:
        rows = read_rows(filename, content)
    except ImportFileError as exc:
        return ImportReport(errors=[(0, str(exc))])
    known_units = {u["code"] for u in await Unit.select(Unit.code)}
    known_windows = {w["code"] for w in await ServiceWindow.select(ServiceWindow.code)}
    report = ImportReport(errors=validate(rows, known_units, known_windows))
    if not report.ok:
        return report
    org_row = await Unit.select(Unit.organization).first()
    org_id = org_row["organization"] if org_row else await upsert_organization(org_code, org_name)
    async with Unit._meta.db.transaction():
        await _apply(rows, org_id, report)
    await audit.record(
        actor,
        "org.import",
        filename[:100],
        after={"units": report.units, "windows": report.windows, "staff": report.staff},
    )
    return report


async def _apply(rows: list[dict[str, str]], org_id: int, report: ImportReport) -> None:
    unit_ids = {u["code"]: u["id"] for u in await Unit.select(Unit.id, Unit.code)}
    window_ids: dict[str, Any] = {}
    for row in (r for r in rows if TYPES.get(r.get("type", "")) == "unit"):
        unit_ids[row["code"]] = await upsert_unit(
            org_id,
            row["code"],
            row["name"],
            row.get("name_en", ""),
            row.get("opening_hours") or "08:30-17:30",
        )
        report.units += 1
    for row in (r for r in rows if TYPES.get(r.get("type", "")) == "window"):
        window_ids[row["code"]] = await upsert_window(
            unit_ids[row["unit_code"]],
            row["code"],
            row["window_number"],
            row["name"],
            row.get("name_en", ""),
        )
        report.windows += 1
    if any(r.get("window_code") for r in rows):
        window_ids.update(
            {
                w["code"]: w["id"]
                for w in await ServiceWindow.select(ServiceWindow.id, ServiceWindow.code)
                if w["code"] not in window_ids
            }
        )
    for row in (r for r in rows if TYPES.get(r.get("type", "")) == "staff"):
        await upsert_staff(
            unit_ids[row["unit_code"]],
            row["code"],
            row["name"],
            POST_ALIASES.get(row.get("post_category") or "", "window_service"),
            row.get("is_leader", "").lower() in TRUE_WORDS,
            window_ids.get(row.get("window_code", "")),
        )
        report.staff += 1
