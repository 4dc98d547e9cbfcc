"""Errors where they are: a form's faults marked on their own fields.

A handler's validation gives {field name: message key}. `mark()` puts them in the
order the page shows its fields and names, for each, the control the error summary
links to and the first of which gets the focus. The templates render them through
the macros in templates/_form_errors.html: a summary at the top linking to each
fault, and on each faulty field its message (id `err-<field>`), `aria-invalid` and
`aria-describedby` on its controls, and `autofocus` on the first faulty control.
All of it is HTML: it works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Field:
    """One question or input of a form, in page order."""

    name: str  # the form field's name
    label: str  # the question as the page shows it
    control: str  # id of the control to link to and focus (a group's first radio)


@dataclass(frozen=True)
class Fault:
    name: str
    label: str
    control: str
    message: str  # already translated


@dataclass
class Marked:
    """A form's faults, in page order; empty when the form is fine."""

    faults: list[Fault] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.faults)

    def get(self, name: str) -> str:
        """The message of field `name`, or ''."""
        return next((f.message for f in self.faults if f.name == name), "")

    @property
    def first(self) -> str:
        """The id of the control that gets the focus."""
        return self.faults[0].control if self.faults else ""


NO_FAULTS = Marked()


def mark(
    errors: Mapping[str, str],
    fields: Sequence[Field],
    translate: Callable[..., str],
    **params: Any,
) -> Marked:
    """Faults in page order, their message keys translated."""
    messages = {name: translate(key, **params) for name, key in errors.items() if key}
    return mark_messages(messages, fields)


def mark_messages(messages: Mapping[str, str], fields: Sequence[Field]) -> Marked:
    """Faults in page order from translated messages; one on no known field goes
    last, linked to the control named like it."""
    known = {f.name for f in fields}
    ordered = [
        Fault(f.name, f.label, f.control, messages[f.name]) for f in fields if messages.get(f.name)
    ]
    ordered += [
        Fault(name, "", name, text) for name, text in messages.items() if name not in known and text
    ]
    return Marked(ordered)
