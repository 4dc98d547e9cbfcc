"""The citizen rating form's fields in page order, for marking its errors in place.

`validate()` (services/public_rating.py) names an item's error by the item's code;
the form names the item's field `item_<code>`: `field_errors()` maps one to the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pingyi.i18n import in_language, translate
from pingyi.web.form_errors import Field, Marked, mark

# A five-level question links to its first choice (非常满意, value 5); other choice
# questions to their first option; text fields to themselves.
_FIRST_LEVEL = "5"


def _item_field(item: dict[str, Any], lang: str) -> Field:
    name = f"item_{item['code']}"
    label = in_language(item["text_zh"], item.get("text_en"), lang)
    if item["kind"] == "scale5":
        control = f"{name}-{_FIRST_LEVEL}"
    elif item["kind"] in ("yesno", "choice"):
        control = f"{name}-1"
    else:
        control = name
    return Field(name, label, control)


def rating_fields(items: list[dict[str, Any]], lang: str) -> list[Field]:
    def t(key: str) -> str:
        return translate(key, lang)

    return [
        Field("overall", t("rate.overall"), f"overall-{_FIRST_LEVEL}"),
        *(_item_field(item, lang) for item in items),
        Field("reason", t("rate.reason"), "reason"),
        Field("reason_text", t("rate.reason_text"), "reason_text"),
        Field("contact", t("rate.contact"), "contact"),
        Field("comment", t("rate.comment"), "comment"),
    ]


def field_errors(errors: Mapping[str, str], items: list[dict[str, Any]]) -> dict[str, str]:
    codes = {item["code"] for item in items}
    return {(f"item_{k}" if k in codes else k): v for k, v in errors.items()}


def marked_rating_errors(
    errors: Mapping[str, str],
    items: list[dict[str, Any]],
    lang: str,
    before: Sequence[Field] = (),
) -> Marked:
    """The faults of a rating form; `before` are fields the page shows above the
    questionnaire (the phone call's outcome)."""
    return mark(
        field_errors(errors, items),
        [*before, *rating_fields(items, lang)],
        lambda key: translate(key, lang),
    )
