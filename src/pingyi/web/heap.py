"""The garbage collector, settled once a worker has started.

A started worker holds about 200,000 objects (litestar, piccolo, numpy, the
templates) that live as long as it does. Python's full collection walks all of
them: measured under load, about 140 ms each, a few times a minute, during which
every request waits (most of the submission path's p99) and 5-7 % of the CPU.
`gc.freeze()` moves what exists at start-up out of the collector's sight, so a full
collection walks only what requests created since; a larger first-generation
threshold makes the cheap collections rarer too (requests make short-lived cycles
only, freed on the next one either way).
"""

from __future__ import annotations

import gc

FIRST_GENERATION_THRESHOLD = 5_000  # Python's default is 700


def settle() -> None:
    """Collect once, then freeze everything alive: once per server process, when its
    app is made (a full collection takes about a second here)."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION_THRESHOLD, second, third)
