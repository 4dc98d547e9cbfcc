"""Row identifiers: version 7 (time-ordered) for public ratings, random otherwise."""

from __future__ import annotations

import time
import uuid

from pingyi.ids import new_row_id, time_ordered_uuid


def test_time_ordered_uuid_follows_rfc_9562() -> None:
    before = time.time_ns() // 1_000_000
    made = time_ordered_uuid()
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after  # the first 48 bits: Unix milliseconds
    assert uuid.UUID(str(made)) == made


def test_time_ordered_uuids_sort_by_time_and_stay_unique() -> None:
    first = [time_ordered_uuid() for _ in range(2_000)]
    time.sleep(0.002)  # the next millisecond at least
    second = [time_ordered_uuid() for _ in range(2_000)]
    assert len(set(first + second)) == 4_000
    assert max(str(u) for u in first) < min(str(u) for u in second)  # as text too (SQLite)
    # Within one millisecond the rest is random, not a counter anyone could read.
    low_bits = {u.int & ((1 << 62) - 1) for u in first}
    assert len(low_bits) == len(first)


def test_only_public_ratings_get_time_ordered_ids() -> None:
    assert new_row_id("public").version == 7
    for role in ("peer", "superior", "self"):
        assert new_row_id(role).version == 4
