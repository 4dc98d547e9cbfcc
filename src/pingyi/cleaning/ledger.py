"""The ledger of decisions: every flag, the overrides, and each response's current weight."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .responses import ResponseTable, in_set
from .types import Flag

Override = tuple[str, str]  # (reason, response_id or rater): "this decision is void"


class Ledger:
    """Collects flags and keeps the current weight and score shift of every response.

    A flag voided by an override is still recorded (``overridden=True``) but changes
    nothing, so later stages see the response as unaffected by it.
    """

    def __init__(self, table: ResponseTable, overrides: Iterable[Override] = ()) -> None:
        self.table = table
        self.flags: list[Flag] = []
        n = len(table)
        self.weight = np.ones(n)
        self.shift = np.zeros(n)
        self._overrides: dict[str, set[str]] = {}
        for reason, key in overrides:
            self._overrides.setdefault(str(reason), set()).add(str(key))

    def _void_mask(self, reason: str, idx: np.ndarray) -> np.ndarray:
        keys = self._overrides.get(reason)
        if not keys or len(idx) == 0:
            return np.zeros(len(idx), bool)
        by_id = in_set(self.table.ids[idx], keys)
        by_rater = in_set(self.table.rater[idx], keys) & (self.table.rater[idx] != "")
        return by_id | by_rater

    def add_response_flags(
        self,
        reason: str,
        action: str,
        idx: np.ndarray,
        weight: np.ndarray | float,
        details: Sequence[str],
    ) -> None:
        """One flag per response in ``idx`` (exclude/downweight; weight per response)."""
        idx = np.asarray(idx, dtype=np.int64)
        weights = np.broadcast_to(np.asarray(weight, dtype=float), idx.shape).copy()
        if action == "exclude":
            weights[:] = 0.0
        void = self._void_mask(reason, idx)
        live = idx[~void]
        np.minimum.at(self.weight, live, weights[~void])
        t = self.table
        for j, i in enumerate(idx.tolist()):
            self.flags.append(
                Flag(
                    response_id=str(t.ids[i]),
                    rater=str(t.rater[i]),
                    ratee=str(t.ratee[i]),
                    reason=reason,
                    action=action,
                    weight=float(weights[j]),
                    detail=details[j],
                    overridden=bool(void[j]),
                )
            )

    def add_rater_flag(
        self,
        reason: str,
        action: str,
        rater: str,
        targets: np.ndarray,
        detail: str,
        weight: float = 1.0,
        shift: float = 0.0,
    ) -> None:
        """One flag about a rater, applied to all of that rater's ``targets``."""
        if action == "exclude":
            weight = 0.0
        void = rater in self._overrides.get(reason, set())
        if not void:
            if action == "adjust":
                self.shift[targets] += shift
            else:
                np.minimum.at(self.weight, targets, weight)
        self.flags.append(
            Flag(
                response_id="",
                rater=rater,
                ratee="",
                reason=reason,
                action=action,
                weight=float(weight),
                detail=detail,
                overridden=void,
                shift=float(shift),
            )
        )
