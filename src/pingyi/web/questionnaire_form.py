"""The questionnaire items editor checked row by row, so that each fault is marked on
its own cell (web/form_errors.py). services/questionnaires.py checks the same rules
again: this only says where a problem is.

Rows are `item-<n>-<field>`. A row comes back under its own number, blank or not, so
that what was typed stays where it was typed and the marks point at it.
"""

from __future__ import annotations

import math
from typing import Any

from pingyi.db.tables import ITEM_KINDS
from pingyi.i18n import translate
from pingyi.services.questionnaires import WEIGHT_MAX
from pingyi.web.form_errors import Field, Marked, mark

# What a row holds besides its code: a row with any of these typed and no code would
# be dropped silently (the blank rows are spares), so its code is asked for.
_CONTENT = ("text_zh", "text_en", "dimension", "choices")
# The cells of a row in page order, with the header each sits under.
_CELLS = (
    ("code", "q.code"),
    ("text_zh", "q.text_zh"),
    ("kind", "q.kind"),
    ("choices", "q.choices"),
    ("weight", "q.weight"),
)


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def rows_from_form(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row 1..n as typed, for the form to come back with."""
    numbers = [
        int(k.split("-")[1]) for k in form if k.startswith("item-") and k.split("-")[1].isdigit()
    ]
    rows = []
    for n in range(1, min(max(numbers, default=0), 500) + 1):

        def cell(name: str, n: int = n) -> str:
            return _text(form, f"item-{n}-{name}")

        rows.append(
            {
                "code": cell("code"),
                "text_zh": cell("text_zh"),
                "text_en": cell("text_en"),
                "kind": cell("kind") or "scale5",
                "required": cell("required") == "on",
                "dimension": cell("dimension"),
                "choices": [c.strip() for c in cell("choices").split("|") if c.strip()],
                "weight": math.nan,
                "weight_text": cell("weight"),
                "on_device": cell("on_device") == "on",
            }
        )
    return rows


def _weight(text: str) -> float | None:
    try:
        value = float(text) if text else 1.0
    except ValueError:
        return None
    return value if 0 <= value <= WEIGHT_MAX else None


def item_errors(rows: list[dict[str, Any]], role: str) -> dict[str, str]:
    """Message keys by cell (item-<n>-<field>)."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    used = []
    for n, row in enumerate(rows, start=1):
        code = row["code"]
        if not code:
            if any(row[c] for c in _CONTENT):
                errors[f"item-{n}-code"] = "form.required"
            continue
        used.append((n, row))
        if not code.replace("_", "").isalnum():
            errors[f"item-{n}-code"] = "q.error.code"
        elif code in seen:
            errors[f"item-{n}-code"] = "q.error.duplicate"
        seen.add(code)
        if not row["text_zh"]:
            errors[f"item-{n}-text_zh"] = "form.required"
        if row["kind"] not in ITEM_KINDS:
            errors[f"item-{n}-kind"] = "rate.error.choice"
        if row["kind"] == "choice" and len(row["choices"]) < 2:
            errors[f"item-{n}-choices"] = "q.error.choices"
        if _weight(row["weight_text"]) is None:
            errors[f"item-{n}-weight"] = "q.error.weight"
    if not used:
        errors["item-1-code"] = errors.get("item-1-code", "q.error.no_items")
    elif not errors:
        scored = any(
            r["kind"] == "scale5" and (_weight(r["weight_text"]) or 0) > 0 for _, r in used
        )
        implicit_overall = role == "public" and "overall" not in seen
        if not scored and not implicit_overall:
            errors[f"item-{used[0][0]}-weight"] = "q.error.no_score"
    return errors


def marked(errors: dict[str, str], rows: int, lang: str, head: list[Field]) -> Marked:
    """The faults of the editor: `head` fields (the new questionnaire's code and
    name) first, then the rows' cells in order."""

    def t(key: str) -> str:
        return translate(key, lang)

    cells = [
        Field(f"item-{n}-{name}", f"{t(label)} {n}", f"item-{n}-{name}")
        for n in range(1, rows + 1)
        for name, label in _CELLS
    ]
    return mark(errors, [*head, *cells], t)
