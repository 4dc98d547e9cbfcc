"""Organisation structure: units (halls, departments), windows and staff.

Every write is an upsert keyed by code, so a re-import updates rather than
duplicates.
"""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from pingyi.db.tables import Organization, ServiceWindow, Staff, Unit
from pingyi.services.reference_cache import forget_all


async def _upsert(table: type[Table], code: str, values: dict[str, Any]) -> int:
    code_column = table._meta.get_column_by_name("code")
    row = await table.select(table._meta.primary_key).where(code_column == code).first()
    forget_all()  # names and who is on duty, as the rating pages of this process show them
    if row:
        await table.update(values).where(code_column == code)
        return int(row["id"])
    inserted = await table.insert(table({**values, "code": code}))
    return int(inserted[0]["id"])


async def upsert_organization(code: str, name: str, name_en: str = "") -> int:
    return await _upsert(Organization, code, {"name": name, "name_en": name_en})


async def upsert_unit(
    organization_id: int,
    code: str,
    name: str,
    name_en: str = "",
    opening_hours: str = "08:30-17:30",
) -> int:
    return await _upsert(
        Unit,
        code,
        {
            "organization": organization_id,
            "name": name,
            "name_en": name_en,
            "opening_hours": opening_hours,
            "active": True,
        },
    )


async def upsert_window(unit_id: int, code: str, number: str, name: str, name_en: str = "") -> int:
    return await _upsert(
        ServiceWindow,
        code,
        {
            "unit": unit_id,
            "number": number,
            "name": name,
            "name_en": name_en,
            "active": True,
        },
    )


async def upsert_staff(
    unit_id: int,
    code: str,
    name: str,
    post_category: str = "window_service",
    is_leader: bool = False,
    window_id: int | None = None,
) -> int:
    return await _upsert(
        Staff,
        code,
        {
            "unit": unit_id,
            "name": name,
            "post_category": post_category,
            "is_leader": is_leader,
            "window": window_id,
            "active": True,
        },
    )
