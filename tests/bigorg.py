"""A generated organisation the size of a province's city (200 units, 5,000 staff),
written with bulk inserts so a test builds it in about a second; and a published
feed, bad-review cases and cleaning flags to go with it."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高欧阳司马"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
# long hall names: a unit name must still read on one line
HALLS = (
    "不动产登记中心",
    "行政审批服务局综合受理窗口",
    "社会保障服务大厅",
    "市场监督管理局登记注册科",
    "公安局出入境管理大队",
)
CATEGORIES = ("window_service", "law_enforcement", "management")
UNITS = 200
PER_UNIT = 25
CHUNK = 500  # rows per INSERT: SQLite caps the parameters of one statement


def _name(rng: random.Random) -> str:
    surname = rng.choice(["欧阳", "司马"]) if rng.random() < 0.05 else rng.choice(SURNAMES[:20])
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


async def _bulk(table: Any, rows: list[Any]) -> None:
    for start in range(0, len(rows), CHUNK):
        await table.insert(*rows[start : start + CHUNK])


async def build(seed: int = 5000) -> dict[str, Any]:
    """200 units (U000..U199) of 25 staff each (U000-00..U199-24): every 25th staff
    member a leader, every 10th inactive, post categories in turn."""
    from pingyi.db.tables import Organization, ServiceWindow, Staff, Unit

    rng = random.Random(seed)
    org = await Organization.insert(Organization(code="big", name="某省会城市政务服务中心"))
    org_id = org[0]["id"]
    await _bulk(
        Unit,
        [
            Unit(
                organization=org_id,
                code=f"U{u:03d}",
                name=f"第{u + 1}区{HALLS[u % len(HALLS)]}",
                opening_hours="",
            )
            for u in range(UNITS)
        ],
    )
    unit_ids = {r["code"]: r["id"] for r in await Unit.select(Unit.id, Unit.code)}
    await _bulk(
        ServiceWindow,
        [
            ServiceWindow(
                unit=unit_ids[f"U{u:03d}"], code=f"W{u:03d}", number="01", name="综合窗口"
            )
            for u in range(UNITS)
        ],
    )
    window_ids = {
        r["code"]: r["id"] for r in await ServiceWindow.select(ServiceWindow.id, ServiceWindow.code)
    }
    staff = [
        Staff(
            unit=unit_ids[f"U{u:03d}"],
            code=f"U{u:03d}-{k:02d}",
            name=_name(rng),
            post_category=CATEGORIES[(u * PER_UNIT + k) % 3],
            is_leader=k == 0,
            active=k % 10 != 9,
        )
        for u in range(UNITS)
        for k in range(PER_UNIT)
    ]
    await _bulk(Staff, staff)
    return {"units": unit_ids, "windows": window_ids}


async def publish_feed(code: str = "BIG") -> dict[str, Any]:
    """A campaign over every unit, cleaned with generated scores for every staff
    member and published (the feed computed from them; the white paper left out)."""
    from pingyi.db.tables import Campaign, CampaignUnit, CleaningRun, Publication, Staff
    from pingyi.scoring import compute_feed, snapshot_hash
    from pingyi.scoring.feed import canonical
    from pingyi.services import scores

    rng = random.Random(7)
    inserted = await Campaign.insert(
        Campaign(
            code=code,
            name="2026年度大型评议",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 11, 30),
            state="published",
        )
    )
    campaign_id = inserted[0]["id"]
    from pingyi.db.tables import Unit

    await _bulk(
        CampaignUnit,
        [CampaignUnit(campaign=campaign_id, unit=u["id"]) for u in await Unit.select(Unit.id)],
    )
    rows = []
    for s in await Staff.select(Staff.code):
        base = rng.uniform(55, 98)
        for role, n in (("public", 20), ("peer", 6), ("superior", 2), ("self", 1)):
            rows.append(
                {
                    "ratee": f"staff:{s['code']}",
                    "role": role,
                    "n_responses": n,
                    "n_used": n,
                    "score_100": round(base + rng.uniform(-5, 5), 2),
                    "satisfaction_rate": rng.uniform(0.5, 1.0) if role == "public" else None,
                    "reportable": True,
                }
            )
    await CleaningRun.insert(CleaningRun(campaign=campaign_id, revision=1, scores=rows, summary={}))
    snapshot = await scores.build_snapshot(code)
    document = {"inputs": snapshot, "rows": [r.to_json() for r in compute_feed(snapshot)]}
    await Publication.insert(
        Publication(
            campaign=campaign_id,
            revision=1,
            published_by="test",
            snapshot=canonical(document).decode(),
            snapshot_hash=snapshot_hash(document),
            published_at=datetime.now(UTC),
        )
    )
    return {"campaign_id": campaign_id, "rows": document["rows"]}


async def add_cases(
    campaign_id: int, windows: dict[str, int], units: dict[str, int], n: int = 1200
) -> list[dict[str, Any]]:
    """n bad-review cases spread over the units: some closed, some overdue (contact or
    rectification), some due today, the rest running; returns them as inserted."""
    from pingyi.db.tables import BadReviewCase, Response

    rng = random.Random(11)
    now = datetime.now(UTC)
    reasons = ("attitude", "slow", "knowledge", "repeat_visits", "facilities", "other")
    responses, cases = [], []
    for i in range(n):
        u = f"U{i % UNITS:03d}"
        rid = uuid.uuid4()
        responses.append(
            Response(
                id=rid,
                campaign=campaign_id,
                role="public",
                channel="qr",
                window=windows[f"W{i % UNITS:03d}"],
                submitted_at=now - timedelta(days=20),
            )
        )
        kind = i % 5  # 0 closed, 1 overdue rectification, 2 overdue contact, 3 later, 4 later
        opened = now - timedelta(days=rng.randint(1, 30), minutes=i)
        contact_due = now + timedelta(days=3) if kind != 2 else now - timedelta(hours=5)
        rectify_due = now - timedelta(days=2) if kind == 1 else now + timedelta(days=10 + i % 7)
        cases.append(
            BadReviewCase(
                response=rid,
                campaign=campaign_id,
                unit=units[u],
                window=windows[f"W{i % UNITS:03d}"],
                reason_category=reasons[i % len(reasons)],
                reason_text=f"第{i}件：等候时间过长 100%_满意" if i % 97 == 0 else "态度生硬",
                state="closed" if kind == 0 else "open",
                opened_at=opened,
                contact_due=contact_due,
                rectify_due=rectify_due,
                contacted_at=None if kind == 2 else opened + timedelta(hours=2),
            )
        )
    await _bulk(Response, responses)
    await _bulk(BadReviewCase, cases)
    return list(
        await BadReviewCase.select(
            BadReviewCase.all_columns(), BadReviewCase.unit.code.as_alias("unit_code")
        )
    )


async def add_flags(campaign_id: int, n: int = 3000) -> None:
    from pingyi.db.tables import CleaningRun, Flag

    reasons = ("DUPLICATE", "SPEEDER", "STRAIGHTLINE", "BURST", "LENIENT", "OUTLIER")
    actions = ("exclude", "downweight", "adjust")
    await CleaningRun.insert(
        CleaningRun(campaign=campaign_id, revision=2, scores=[], summary={"flags": {}})
    )
    await _bulk(
        Flag,
        [
            Flag(
                campaign=campaign_id,
                revision=2,
                response_id=str(uuid.UUID(int=i)),
                rater=f"r{i % 400:04x}" if i % 3 else "",
                ratee=f"staff:U{i % UNITS:03d}-{i % PER_UNIT:02d}",
                reason=reasons[i % len(reasons)],
                action=actions[i % len(actions)],
                weight=(i % 10) / 10,
                detail="same device and ticket" if i % 2 else "answered in 4 s",
                overridden=i % 11 == 0,
            )
            for i in range(n)
        ],
    )
