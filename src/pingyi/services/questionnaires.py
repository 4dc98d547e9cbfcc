"""Questionnaires, their versions and items.

A version that has responses is frozen: editing it creates the next version, and
responses keep the version they answered.

Per item, a version also says
- its weight in the response composite (DESIGN.md 5): rating items (scale5) only,
  default 1, 0 leaves the item out; "overall only" is weight 0 on every other
  item. A public questionnaire always asks `overall`; without an `overall` item of
  its own, that answer weighs 1.
- which channels ask it: the phone/QR page, ticket, peer links and interviews ask
  every item; window devices (and the platform's default rating) ask `overall` and
  the items marked `on_device` only. A device may still send another item of the
  version (checked and stored), but only the items it asks can be required there.
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
    weight: float = 1.0
    on_device: bool = False


WEIGHT_MAX = 100.0
# Channels that ask `overall` and the items marked `on_device` only.
DEVICE_CHANNELS = frozenset({"device", "default"})


def asked_on(item: dict[str, Any], channel: str) -> bool:
    """Whether a channel asks this item (`overall` is asked everywhere)."""
    if channel not in DEVICE_CHANNELS:
        return True
    return item["code"] == "overall" or bool(item.get("on_device"))


def validate_items(items: list[ItemSpec], role: str = "") -> None:
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
        if not 0 <= item.weight <= WEIGHT_MAX:  # also refuses NaN
            raise QuestionnaireError(
                f"item {item.code}: the weight must be a number from 0 to {WEIGHT_MAX:g}"
            )
    # The public form always asks `overall`; it weighs 1 unless the version has its own.
    implicit_overall = role == "public" and "overall" not in codes
    if not implicit_overall and not any(i.kind == "scale5" and i.weight > 0 for i in items):
        raise QuestionnaireError(
            "at least one rating item (1-5 scale) must have a weight above 0, "
            "or the response would have no score"
        )


async def create_questionnaire(code: str, name: str, role: str, items: list[ItemSpec]) -> int:
    """Create the questionnaire and its version 1; returns the version id."""
    if role not in ROLES:
        raise QuestionnaireError(f"role must be one of {', '.join(ROLES)}")
    validate_items(items, role)
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
                weight=float(item.weight),
                on_device=item.on_device,
            )
            for i, item in enumerate(items)
        ]
    )


async def edit_questionnaire(questionnaire_id: int, items: list[ItemSpec]) -> int:
    """Replace the items of the latest version, or create a new version when the latest
    one has been answered. Returns the version id now current."""
    questionnaire = (
        await Questionnaire.select(Questionnaire.role)
        .where(Questionnaire.id == questionnaire_id)
        .first()
    )
    if questionnaire is None:
        raise QuestionnaireError("no such questionnaire")
    validate_items(items, questionnaire["role"])
    latest = await latest_version(questionnaire_id)
    if latest is None:
        raise QuestionnaireError("no such questionnaire")
    answered = await Response.exists().where(Response.questionnaire_version == latest["id"])
    if answered:
        return await _new_version(questionnaire_id, latest["version"] + 1, items)
    await Item.delete().where(Item.version == latest["id"])
    await _insert_items(int(latest["id"]), items)
    from pingyi.services.reference_cache import forget_all  # it imports this module

    forget_all()  # the rating forms of this process see the edit at once
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


async def composite_weights(version_roles: set[tuple[int, str]]) -> dict[tuple[str, str], float]:
    """The cleaning's `item_weights` for the (version id, role) pairs a campaign's
    responses used: `{(role, item code): weight}`. Items that are not rating items
    weigh 0. Where a role's responses used several versions, the later version's
    weight wins."""
    weights: dict[tuple[str, str], float] = {}
    roles_of: dict[int, set[str]] = {}
    for version_id, role in version_roles:
        roles_of.setdefault(version_id, set()).add(role)
    if not roles_of:
        return weights
    items = await (
        Item.select(Item.version, Item.code, Item.kind, Item.weight)
        .where(Item.version.is_in(list(roles_of)))
        .order_by(Item.version.version)
        .order_by(Item.version)
    )
    for item in items:
        weight = float(item["weight"]) if item["kind"] == "scale5" else 0.0
        for role in roles_of[item["version"]]:
            weights[(role, item["code"])] = weight
    return weights
