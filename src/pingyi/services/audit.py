"""The audit log: who did what, when, with before and after, hash-chained.

Each event's hash covers its content and the previous hash, so an edit made
behind the application's back breaks the chain and `pingyi audit verify` shows
where.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pingyi.db.tables import AuditEvent

GENESIS = "0" * 64
# Written by a retention purge before it removes the oldest events: names the last
# removed event and its hash, so the chain verifies from the first one that remains.
PURGE_ACTION = "audit.purge"


def _canonical(value: Any) -> Any:
    """JSON columns come back as text on some engines; hash the parsed form."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def event_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Any,
    after: Any,
) -> str:
    body = json.dumps(
        [
            prev_hash,
            seq,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor,
            action,
            target,
            _canonical(before),
            _canonical(after),
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def record(
    actor: str, action: str, target: str = "", before: Any = None, after: Any = None
) -> None:
    """Append one event. Two writers racing for the same sequence number collide on
    the unique key; the loser reads the new head and tries again."""
    for _ in range(20):
        last = (
            await AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
            .order_by(AuditEvent.seq, ascending=False)
            .first()
        )
        seq = (last["seq"] + 1) if last else 1
        prev = last["hash"] if last else GENESIS
        at = datetime.now(UTC)
        before_v = before if before is not None else {}
        after_v = after if after is not None else {}
        digest = event_hash(prev, seq, at, actor, action, target, before_v, after_v)
        try:
            await AuditEvent.insert(
                AuditEvent(
                    seq=seq,
                    at=at,
                    actor=actor,
                    action=action,
                    target=target,
                    before=before_v,
                    after=after_v,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            return
        except Exception as exc:  # unique violation: someone else took this seq
            if "unique" not in str(exc).lower():
                raise
    raise RuntimeError("audit log is too busy; the change was not recorded")


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""


def _anchor(rows: list[dict[str, Any]]) -> tuple[int, str] | None:
    """(seq, hash) the first remaining event continues from: the genesis, or the last
    event a purge removed, as a later (chained) purge event records it."""
    if not rows or rows[0]["seq"] == 1:
        return 0, GENESIS
    for row in rows:
        if row["action"] != PURGE_ACTION:
            continue
        after = _canonical(row["after"]) or {}
        if after.get("through_seq") == rows[0]["seq"] - 1:
            return int(after["through_seq"]), str(after.get("last_hash", ""))
    return None


async def verify_chain() -> ChainCheck:
    rows = await AuditEvent.select().order_by(AuditEvent.seq)
    anchor = _anchor(rows)
    if anchor is None:
        return ChainCheck(
            False, 0, rows[0]["seq"], f"events before {rows[0]['seq']} removed without a purge"
        )
    first, prev = anchor
    for i, row in enumerate(rows, start=first + 1):
        if row["seq"] != i:
            return ChainCheck(
                False, i - 1 - first, row["seq"], f"sequence gap before event {row['seq']}"
            )
        if row["prev_hash"] != prev:
            return ChainCheck(False, i - 1 - first, row["seq"], "previous-hash link broken")
        expected = event_hash(
            prev,
            row["seq"],
            row["at"],
            row["actor"],
            row["action"],
            row["target"],
            row["before"],
            row["after"],
        )
        if expected != row["hash"]:
            return ChainCheck(
                False, i - 1 - first, row["seq"], "content changed after it was written"
            )
        prev = row["hash"]
    return ChainCheck(True, len(rows))
