"""The new-campaign form checked field by field, so that each fault is marked on its
own field (web/form_errors.py). services/campaigns.py checks the same rules again:
this only says where a problem is."""

from __future__ import annotations

import math
from datetime import date

from pingyi.db.tables import ROLES
from pingyi.i18n import translate
from pingyi.numbers import plain_int
from pingyi.web.form_errors import Field, Marked, mark_messages


def fields(lang: str, unit_codes: list[str]) -> list[Field]:
    def t(key: str) -> str:
        return translate(key, lang)

    first_unit = f"unit-{unit_codes[0]}" if unit_codes else "units"
    return [
        Field("code", t("campaign.code"), "code"),
        Field("name", t("campaign.name"), "name"),
        Field("period_start", t("campaign.start"), "period_start"),
        Field("period_end", t("campaign.end"), "period_end"),
        Field("k", "k", "k"),
        Field("peer_sample", t("campaign.peer_sample"), "peer_sample"),
        Field("opens_at", t("schedule.opens_at"), "opens_at"),
        Field("closes_at", t("schedule.closes_at"), "closes_at"),
        Field("units", t("campaign.units"), first_unit),
        *(
            Field(f"weight_{r}", f"{t('role.' + r)} {t('campaign.weight')}", f"w-{r}")
            for r in ROLES
        ),
    ]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _number(text: str) -> float | None:
    try:
        value = float(text) if text.strip() else 0.0
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def field_errors(form: dict[str, str], units: list[str]) -> dict[str, str]:
    """Message keys by field for what can be told from the form alone."""
    errors: dict[str, str] = {}
    for name in ("code", "name"):
        if not form.get(name, "").strip():
            errors[name] = "form.required"
    start, end = _date(form.get("period_start", "")), _date(form.get("period_end", ""))
    if start is None:
        errors["period_start"] = "form.date"
    if end is None:
        errors["period_end"] = "form.date"
    elif start is not None and end < start:
        errors["period_end"] = "form.date_order"
    k = form.get("k", "").strip()
    if k and (plain_int(k) or 0) < 1:
        errors["k"] = "form.positive_int"
    sample = form.get("peer_sample", "").strip()
    if sample and plain_int(sample) is None:
        errors["peer_sample"] = "form.count"
    if not units:
        errors["units"] = "campaign.error.units"
    weights = {r: _number(form.get(f"weight_{r}", "")) for r in ROLES}
    for r, weight in weights.items():
        if weight is None or weight < 0:
            errors[f"weight_{r}"] = "form.weight"
    if all(w == 0 for w in weights.values()):
        errors[f"weight_{ROLES[0]}"] = "campaign.error.weights"
    return errors


def marked(messages: dict[str, str], lang: str, unit_codes: list[str]) -> Marked:
    """The faults, `messages` being translated texts by field."""
    return mark_messages(messages, fields(lang, unit_codes))
