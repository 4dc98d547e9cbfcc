"""The generic wire format `pingyi-generic/1`, documented field by field in
docs/provincial-outbox.schema.json (a test validates real batches against it).

A province whose platform wants other field names or codes gets a module of its own
beside this one; nothing else changes.
"""

from __future__ import annotations

from typing import Any

from pingyi.services.outbound import CaseRecord, RatingRecord, Record

FORMAT = "pingyi-generic/1"
CONTENT_TYPE = "application/json"


def build_batch(batch_id: str, sent_at: str, key_id: str, records: list[Record]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "batch_id": batch_id,
        "sent_at": sent_at,
        "key_id": key_id,
        "records": [_record(r) for r in records],
    }


def _record(record: Record) -> dict[str, Any]:
    if isinstance(record, RatingRecord):
        return {
            "type": "rating",
            "event_id": record.event_id,
            "rating_id": record.rating_id,
            "campaign": record.campaign,
            "unit": record.unit,
            "window": record.window,
            "staff": record.staff,
            "channel": record.channel,
            "rated_at": record.rated_at,
            "level": record.level,
            "items": [{"code": code, "level": level} for code, level in record.items],
            "corrects": record.corrects,
        }
    assert isinstance(record, CaseRecord)
    return {
        "type": "case",
        "event_id": record.event_id,
        "case_id": record.case_id,
        "rating_id": record.rating_id,
        "campaign": record.campaign,
        "unit": record.unit,
        "window": record.window,
        "status": record.status,
        "updated_at": record.updated_at,
        "reason_category": record.reason_category,
        "contact_due": record.contact_due,
        "rectify_due": record.rectify_due,
        "verification": record.verification,
        "rectification": record.rectification,
        "handling_level": record.handling_level,
    }
