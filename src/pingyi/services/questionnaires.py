"""Questionnaires, their versions and items.

A version that has responses is frozen: editing it creates the next version, and
responses keep the version they answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pingyi.db.tables import ITEM_KINDS, ROLES, Item, Questionnaire, QuestionnaireVersion, Response


class QuestionnaireError(ValueError):
    pass


@dataclass(frozen=True)
class ItemSpec:
    code: str
    text_zh: str
    text_en: str = ""
    kind: str = "scale5"
    required: bool = True
    dimension: str = ""
    choices: list[str] = field(default_factory=list)


def validate_items(items: list[ItemSpec]) -> None:
    codes = [item.code for item in items]
    if not items:
        raise QuestionnaireError("a questionnaire needs at least one item")
    if len(set(codes)) != len(codes):
        raise QuestionnaireError("item codes must be unique within a questionnaire")
    for item in items:
        if not item.code or not item.code.replace("_", "").isalnum():
            raise QuestionnaireError(f"item code {item.code!r} may use letters, digits and _")
        if item.kind not in ITEM_KINDS:
            raise QuestionnaireError(
                f"item {item.code}: type must be one of {', '.join(ITEM_KINDS)}"
            )
        if not item.text_zh.strip():
            raise QuestionnaireError(f"item {item.code}: the Chinese text is required")
        if item.kind == "choice" and len(item.choices) < 2:
            raise QuestionnaireError(f"item {item.code}: a single-choice item needs 2+ choices")


async def create_questionnaire(code: str, name: str, role: str, items: list[ItemSpec]) -> int:
    """Create the questionnaire and its version 1; returns the version id."""
    if role not in ROLES:
        raise QuestionnaireError(f"role must be one of {', '.join(ROLES)}")
    validate_items(items)
    existing = (
        await Questionnaire.select(Questionnaire.id).where(Questionnaire.code == code).first()
    )
    if existing:
        raise QuestionnaireError(f"questionnaire {code!r} already exists")
    inserted = await Questionnaire.insert(Questionnaire(code=code, name=name, role=role))
    return await _new_version(int(inserted[0]["id"]), 1, items)


async def _new_version(questionnaire_id: int, number: int, items: list[ItemSpec]) -> int:
    version = await QuestionnaireVersion.insert(
        QuestionnaireVersion(questionnaire=questionnaire_id, version=number)
    )
    version_id = int(version[0]["id"])
    await _insert_items(version_id, items)
    return version_id


async def _insert_items(version_id: int, items: list[ItemSpec]) -> None:
    await Item.insert(
        *[
            Item(
                version=version_id,
                position=i,
                code=item.code,
                text_zh=item.text_zh,
                text_en=item.text_en,
                kind=item.kind,
                required=item.required,
                dimension=item.dimension,
                choices=item.choices,
            )
            for i, item in enumerate(items)
        ]
    )


async def edit_questionnaire(questionnaire_id: int, items: list[ItemSpec]) -> int:
    """Replace the items of the latest version, or create a new version when the latest
    one has been answered. Returns the version id now current."""
    validate_items(items)
    latest = await latest_version(questionnaire_id)
    if latest is None:
        raise QuestionnaireError("no such questionnaire")
    answered = await Response.exists().where(Response.questionnaire_version == latest["id"])
    if answered:
        return await _new_version(questionnaire_id, latest["version"] + 1, items)
    await Item.delete().where(Item.version == latest["id"])
    await _insert_items(int(latest["id"]), items)
    return int(latest["id"])


async def latest_version(questionnaire_id: int) -> dict[str, Any] | None:
    return await (
        QuestionnaireVersion.select()
        .where(QuestionnaireVersion.questionnaire == questionnaire_id)
        .order_by(QuestionnaireVersion.version, ascending=False)
        .first()
    )


async def items_of(version_id: int) -> list[dict[str, Any]]:
    rows = await (
        Item.select()
        .where(Item.version == version_id)
        .order_by(Item.position)
        .output(load_json=True)
    )
    return list(rows)
