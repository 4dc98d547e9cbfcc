"""Closing a bad-review case, checked field by field so that each fault is marked on
its own field (web/form_errors.py). services/cases.py checks the same rules again:
this only says where a problem is."""

from __future__ import annotations

from pingyi.i18n import translate
from pingyi.numbers import plain_int
from pingyi.services.cases import HANDLING_LEVELS, VERIFICATIONS
from pingyi.web.form_errors import Field, Marked, mark

_FIELDS = (
    ("verification", "case.verification"),
    ("explanation", "case.explanation"),
    ("rectification", "case.rectification"),
    ("feedback", "case.feedback"),
    ("callback_result", "case.callback"),
    ("handling_rating", "case.handling"),
)


def field_errors(form: dict[str, str], has_contact: bool) -> dict[str, str]:
    errors = {}
    if form.get("verification", "") not in VERIFICATIONS:
        errors["verification"] = "case.error.verification"
    for name in ("explanation", "rectification"):
        if len(form.get(name, "").strip()) < 4:
            errors[name] = "case.error.too_short"
    if has_contact:
        for name in ("feedback", "callback_result"):
            if len(form.get(name, "").strip()) < 2:
                errors[name] = "case.error.callback"
    rating = form.get("handling_rating", "")
    if rating and plain_int(rating) not in HANDLING_LEVELS:
        errors["handling_rating"] = "rate.error.choice"
    return errors


def marked(errors: dict[str, str], lang: str) -> Marked:
    fields = [Field(name, translate(label, lang), name) for name, label in _FIELDS]
    return mark(errors, fields, lambda key: translate(key, lang))
