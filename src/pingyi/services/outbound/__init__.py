"""Wire formats for the provincial 好差评 platform: one module per format.

`services/outbox.py` hands a format the neutral records (codes resolved, nothing
personal in them) and sends whatever JSON document the format builds. Another
province's format is one new module here with the same two functions, named by
`PINGYI_OUTBOX_FORMAT`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

FORMATS = ("generic",)


@dataclass(frozen=True)
class RatingRecord:
    """A citizen's rating of a window, as the platform may see it."""

    event_id: int
    rating_id: str
    campaign: str
    unit: str
    window: str
    staff: str | None
    channel: str
    rated_at: str  # ISO 8601, UTC
    level: int  # the overall level, 1..5
    items: list[tuple[str, int]] = field(default_factory=list)  # (item code, level)
    corrects: str | None = None


@dataclass(frozen=True)
class CaseRecord:
    """A bad-review case (差评) update: opened, citizen contacted, closed."""

    event_id: int
    case_id: int
    rating_id: str
    campaign: str
    unit: str
    window: str | None
    status: str  # open, contacted, closed
    updated_at: str
    reason_category: str
    contact_due: str | None = None
    rectify_due: str | None = None
    verification: str = ""
    rectification: str = ""
    handling_level: int | None = None


Record = RatingRecord | CaseRecord


def load_format(name: str) -> ModuleType:
    """The module of a wire format: `build_batch(batch_id, sent_at, key_id, records)`
    returns the JSON document; `CONTENT_TYPE` is what it is sent as."""
    if name not in FORMATS:
        raise ValueError(f"unknown outbox format {name!r} (known: {', '.join(FORMATS)})")
    return importlib.import_module(f"pingyi.services.outbound.{name}")


def build(name: str, batch_id: str, sent_at: str, key_id: str, records: list[Record]) -> Any:
    return load_format(name).build_batch(batch_id, sent_at, key_id, records)
