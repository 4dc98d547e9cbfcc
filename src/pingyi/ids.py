"""Row identifiers: time-ordered where the time is stored anyway, random elsewhere.

A random UUID lands on a random leaf of every index it is in: on the rating path
each answer touched a different page of two B-trees, so a commit of a dozen
ratings wrote about 160 pages to SQLite's WAL, against 36 with ids that grow with
time and append to the same few pages (benchmarks/id_order.py).

Only public ratings get them: they store their submission time, so the order of
their ids says nothing new. Peer, superior and self responses store no time and
keep random ids (DESIGN.md section 3): their order must not re-link a response
to the invitation used just before it."""

from __future__ import annotations

import os
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0x2 << 62
_RANDOM_A = (1 << 12) - 1
_RANDOM_B = (1 << 62) - 1


def time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random."""
    milliseconds = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    value = (
        (milliseconds & ((1 << 48) - 1)) << 80
        | _VERSION_7
        | ((random >> 62) & _RANDOM_A) << 64
        | _VARIANT_RFC
        | (random & _RANDOM_B)
    )
    return uuid.UUID(int=value)


def new_row_id(role: str) -> uuid.UUID:
    """The id of a new response or answer row from a rater of ``role``."""
    return time_ordered_uuid() if role == "public" else uuid.uuid4()
