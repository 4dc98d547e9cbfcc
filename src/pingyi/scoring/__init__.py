"""The scoring feed (DESIGN.md sections 6 and 8), pure: policy, 360 totals, grade
recommendations with the 优秀 quota, and the two-period warning.

No web or database imports: the service layer gathers a campaign's frozen inputs (a
*snapshot*) and `compute_feed` turns them into rows, bit for bit the same every time,
so a grade under appeal can be recomputed from its snapshot alone.
"""

from .feed import FeedRow, compute_feed, snapshot_hash
from .policy import GRADE_PRESETS, Policy, PolicyError

__all__ = [
    "GRADE_PRESETS",
    "FeedRow",
    "Policy",
    "PolicyError",
    "compute_feed",
    "snapshot_hash",
]
