"""`pingyi demo`: a city government service centre with two campaigns of ratings.

Deterministic (seeded) and idempotent: a second run finds the organisation and
leaves everything as it is. The data carry a little of what cleaning must catch:
a ballot-stuffing burst, speeders, and two colleagues inflating each other.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pingyi.db.tables import (
    AdminUser,
    Assignment,
    BadReviewCase,
    MysteryChecklist,
    MysteryVisit,
    Organization,
    PhoneCall,
    ServiceWindow,
    Staff,
    Ticket,
)
from pingyi.security import new_token
from pingyi.services import campaigns as campaign_service
from pingyi.services import mystery, phone
from pingyi.services.cleaning_run import run_cleaning
from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit, upsert_window
from pingyi.services.questionnaires import ItemSpec, create_questionnaire
from pingyi.services.scores import publish
from pingyi.services.users import create_user
from pingyi.services.writer import BadReviewSpec, NewResponse, write_batch
from pingyi.workdays import add_working_days

ORG_CODE = "city-center"

UNITS = [
    ("realestate", "不动产登记", "Real Estate Registration", "A"),
    ("social", "社会保障", "Social Security", "B"),
    ("household", "户政", "Household Registration", "C"),
    ("market", "市场监管", "Market Regulation", "D"),
    ("fund", "住房公积金", "Housing Provident Fund", "E"),
]
WINDOW_NAMES = ["综合受理", "业务办理", "咨询与出件"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "文",
    "华",
    "红",
    "建国",
    "志强",
]

PUBLIC_ITEMS = [
    ItemSpec("attitude", "工作人员的服务态度", "Staff attitude", dimension="服务态度"),
    ItemSpec("efficiency", "办事效率", "Speed of service", dimension="办事效率"),
    ItemSpec(
        "clarity",
        "告知清楚、一次办成",
        "Clear guidance, done in one visit",
        dimension="办事效率",
        required=False,
    ),
]
COLLEAGUE_ITEMS = [
    ItemSpec("attitude", "工作态度", "Work attitude", dimension="服务态度"),
    ItemSpec("ability", "业务能力", "Professional ability", dimension="业务能力"),
    ItemSpec("teamwork", "协作配合", "Teamwork", dimension="协作配合"),
    ItemSpec("integrity", "廉洁自律", "Integrity", dimension="廉洁自律"),
]


async def load_demo(
    admin_password: str | None = None, seed: int = 20261124
) -> list[tuple[str, str, str]]:
    """Load the demo; returns the logins created (username, role, password)."""
    if await Organization.exists().where(Organization.code == ORG_CODE):
        return []
    rng = random.Random(seed)
    # words and case handling draw from their own stream, so the ratings (and what the
    # cleaning must catch in them) stay the same whatever is written beside them
    texts = random.Random(seed + 1)
    org_id = await upsert_organization(
        ORG_CODE, "某市政务服务中心", "City Government Service Centre"
    )
    staff_by_unit: dict[str, list[int]] = {}
    names = iter(rng.sample([s + g for s in SURNAMES for g in GIVEN], 80))
    for code, name, name_en, letter in UNITS:
        unit_id = await upsert_unit(org_id, code, name, name_en, "08:30-12:00,13:30-17:30")
        staff_by_unit[code] = []
        windows = [
            await upsert_window(
                unit_id,
                f"{letter}{n:02d}",
                f"{letter}{n:02d}",
                f"{name}{label}",
                f"{name_en} {label_en}",
            )
            for n, (label, label_en) in enumerate(
                zip(WINDOW_NAMES, ["intake", "processing", "enquiries"], strict=True), start=1
            )
        ]
        for n in range(10):
            leader = n < 2
            staff_by_unit[code].append(
                await upsert_staff(
                    unit_id,
                    f"{letter}{n + 1:03d}",
                    next(names),
                    post_category="management"
                    if leader
                    else ("law_enforcement" if code == "market" else "window_service"),
                    is_leader=leader,
                    window_id=None if leader else windows[n % 3],
                )
            )
    versions = {
        "public": await create_questionnaire(
            "public-2026", "群众满意度评价", "public", PUBLIC_ITEMS
        ),
        "peer": await create_questionnaire("peer-2026", "同事互评", "peer", COLLEAGUE_ITEMS),
        "superior": await create_questionnaire(
            "superior-2026", "上级评价", "superior", COLLEAGUE_ITEMS
        ),
        "self": await create_questionnaire("self-2026", "个人自评", "self", COLLEAGUE_ITEMS),
    }
    logins = []
    for username, role, extra in (
        ("admin", "agency_admin", {}),
        ("hr", "hr", {}),
        ("leader", "unit_leader", {"unit_code": "realestate", "staff_code": "A001"}),
        ("interviewer", "interviewer", {}),
        ("staff", "staff", {"staff_code": "A003"}),
    ):
        password = admin_password if (admin_password and role == "agency_admin") else new_token(9)
        await create_user(username, password, role, actor="demo", **extra)
        logins.append((username, role, password))
    interviewer = await AdminUser.select(AdminUser.id).where(AdminUser.username == "interviewer")
    interviewer_id = int(interviewer[0]["id"])
    checklist_id = await mystery.create_checklist(
        "window-2026",
        "窗口服务暗访检查表",
        "Window service checklist",
        mystery.DEFAULT_CHECKLIST,
        "demo",
    )
    quality = {sid: rng.gauss(0, 0.45) for ids in staff_by_unit.values() for sid in ids}
    today = datetime.now(UTC).date()
    for code, name, start, end, state in (
        ("2026Q3", "2026年第三季度评议", date(2026, 7, 1), date(2026, 9, 30), "closed"),
        ("2026Q4", "2026年第四季度评议", date(2026, 10, 1), date(2026, 12, 31), "open"),
    ):
        campaign_id = await campaign_service.create_campaign(
            campaign_service.CampaignSpec(
                code=code,
                name=name,
                series="quarterly",
                period_start=start,
                period_end=end,
                unit_codes=[u[0] for u in UNITS],
                public_version=versions["public"],
                peer_version=versions["peer"],
                superior_version=versions["superior"],
                self_version=versions["self"],
            ),
            actor="demo",
        )
        await campaign_service.move(code, "open", "demo")
        ratings_end = min(
            datetime.combine(end, datetime.min.time(), UTC),
            datetime.combine(today, datetime.min.time(), UTC),
        )
        await _public_ratings(rng, texts, campaign_id, quality, ratings_end, code == "2026Q4")
        await _colleague_ratings(rng, campaign_id, quality, inflate_pair=code == "2026Q4")
        await _follow_up_cases(texts, campaign_id, closed=state == "closed")
        await _phone_round(code, campaign_id, ratings_end, interviewer_id, done=state == "closed")
        await _mystery_visits(
            code, campaign_id, checklist_id, ratings_end, interviewer_id, done=state == "closed"
        )
        if state == "closed":
            await campaign_service.move(code, "closed", "demo")
            # as the agency leaves an earlier campaign: cleaned and published, so HR,
            # staff and the report have numbers, and the open one a trend to compare
            await run_cleaning(code, "demo")
            await publish(code, "demo", note="演示数据")
    return logins


# What citizens write, by how the visit went; the report's keywords come from these.
GOOD_COMMENTS = (
    "工作人员态度热情，办理很快",
    "一次就办好了，不用来回跑",
    "讲解耐心细致，材料一次讲清楚",
    "窗口服务规范，排队时间短",
    "帮老人填表，服务周到",
)
BAD_COMMENTS = {
    "attitude": ("工作人员态度冷淡，问了两遍才回答", "窗口人员不耐烦，说话语气很冲"),
    "slow": ("排队一个多小时，窗口只开了一个", "系统很慢，等了很久才办完"),
    "knowledge": ("说法前后不一致，材料要求讲不清楚", "政策解释不清，让我去别的窗口问"),
    "repeat_visits": ("材料清单没有一次告知，跑了三趟", "第二次来还是缺材料，来回跑"),
    "facilities": ("大厅空调太冷，叫号屏看不清", "自助机坏了没人管"),
}


def _comment(rng: random.Random, level: int, reason: str) -> str:
    if level <= 2:
        return rng.choice(BAD_COMMENTS[reason])
    if level >= 4 and rng.random() < 0.3:
        return rng.choice(GOOD_COMMENTS)
    return ""


async def _follow_up_cases(rng: random.Random, campaign_id: int, closed: bool) -> None:
    """Cases as a hall would have them: most contacted in time; in an earlier
    campaign most also rectified and closed, a few late."""
    for case in await BadReviewCase.select().where(BadReviewCase.campaign == campaign_id):
        if rng.random() > (0.9 if closed else 0.6):
            continue
        opened = case["opened_at"]
        contacted = opened + timedelta(hours=rng.choice((2, 5, 20, 30, 70)))
        changes: dict[Any, Any] = {BadReviewCase.contacted_at: contacted}
        if closed and rng.random() < 0.85:
            changes.update(
                {
                    BadReviewCase.state: "closed",
                    BadReviewCase.closed_at: contacted + timedelta(days=rng.choice((1, 3, 4, 9))),
                    BadReviewCase.verification: rng.choice(
                        ("justified", "justified", "unjustified")
                    ),
                    BadReviewCase.explanation: "调取窗口录像并与当事人核实",
                    BadReviewCase.rectification: "已约谈当事人，纳入窗口服务培训",
                    BadReviewCase.feedback: "已电话告知处理结果",
                    BadReviewCase.callback_result: "群众表示认可",
                    BadReviewCase.handling_rating: rng.choice((3, 3, 2, 1)),
                }
            )
        await BadReviewCase.update(changes).where(BadReviewCase.id == case["id"])


async def _public_ratings(
    rng: random.Random,
    texts: random.Random,
    campaign_id: int,
    quality: dict[int, float],
    end: datetime,
    contaminate: bool,
) -> None:
    staff = await Staff.select(Staff.id, Staff.window, Staff.unit).where(Staff.window.is_not_null())
    batch: list[NewResponse] = []

    def add(
        member: dict[str, Any], level: int, when: datetime, duration: float, device: str
    ) -> None:
        answers: list[tuple[str, int | None, str]] = [("overall", level, "")]
        for item in ("attitude", "efficiency", "clarity"):
            answers.append((item, max(1, min(5, level + rng.choice((-1, 0, 0, 0, 1)))), ""))
        reason = texts.choice(
            ("attitude", "attitude", "slow", "knowledge", "repeat_visits", "facilities")
        )
        bad_review = None
        if level <= 2 and duration > 5:  # a one-tap speeder leaves no reason
            bad_review = BadReviewSpec(
                unit_id=member["unit"],
                reason_category=reason,
                reason_text=texts.choice(BAD_COMMENTS[reason]),
                contact_due=add_working_days(when, 1),
                rectify_due=add_working_days(when, 5),
            )
        batch.append(
            NewResponse(
                campaign_id=campaign_id,
                role="public",
                channel=rng.choice(("qr", "qr", "device")),
                answers=answers,
                window_id=member["window"],
                ratee_id=member["id"],
                device=device,
                client_id=f"demo:{uuid.UUID(int=rng.getrandbits(128))}",
                submitted_at=when,
                duration_s=duration,
                comment=_comment(texts, level, reason) if duration > 5 else "",
                bad_review=bad_review,
            )
        )

    for _ in range(360):
        member = rng.choice(staff)
        mean = 4.2 + quality[member["id"]]
        level = max(1, min(5, round(rng.gauss(mean, 0.8))))
        when = end - timedelta(days=rng.uniform(0, 20), hours=0)
        # UTC hours that fall inside the halls' opening hours in Beijing time (UTC+8).
        when = when.replace(hour=rng.choice((1, 2, 3, 5, 6, 7, 8)), minute=rng.randrange(60))
        if when.weekday() == 6:  # the halls are closed on Sundays
            when -= timedelta(days=1)
        add(member, level, when, max(12.0, rng.gauss(35, 10)), f"d{rng.getrandbits(40):010x}")
    if contaminate:
        stuffed = staff[0]
        start = end - timedelta(days=2, hours=-2)
        for i in range(24):  # a ballot-stuffing burst: 24 top ratings from two phones
            add(
                stuffed,
                5,
                start + timedelta(seconds=15 * i),
                rng.uniform(3, 6),
                "burst-a" if i % 2 else "burst-b",
            )
        for _ in range(6):  # speeders: one tap and gone
            member = rng.choice(staff)
            add(
                member,
                rng.choice((1, 5)),
                end - timedelta(days=rng.uniform(0, 10)),
                1.0,
                f"d{rng.getrandbits(40):010x}",
            )
    await write_batch(batch)


async def _phone_round(
    code: str, campaign_id: int, end: datetime, interviewer_id: int, done: bool
) -> None:
    """The agency's sampled phone follow-up: the queue system's served tickets of the
    last two weeks (about 60 % with a call-back number), a round of 4 per unit, window
    and week drawn with a fixed seed, and its calls. Phone answers run below the
    self-selected QR ratings, as they do in the field. An open campaign keeps a quarter
    of its calls for the interviewer to make."""
    rng = random.Random(f"phone-{code}")  # its own stream: the other data stay the same
    windows = await ServiceWindow.select(ServiceWindow.id)
    first_day = (end - timedelta(days=14)).date()
    rows = []
    for w in windows:
        for day in range(14):
            when = datetime.combine(first_day + timedelta(days=day), datetime.min.time(), UTC)
            if when.weekday() >= 5:
                continue
            for _ in range(rng.randint(2, 4)):
                issued = when + timedelta(hours=1 + rng.uniform(0, 7))
                rows.append(
                    Ticket(
                        campaign=campaign_id,
                        window=w["id"],
                        code=uuid.UUID(int=rng.getrandbits(128)).hex,
                        issued_at=issued,
                        expires_at=issued + timedelta(hours=24),
                        used=True,
                    )
                )
    ids = []
    for i in range(0, len(rows), 200):
        ids += [r["id"] for r in await Ticket.insert(*rows[i : i + 200])]
    for ticket_id in ids:
        if rng.random() < 0.6:
            await phone.set_ticket_contact(ticket_id, f"13{rng.randrange(10**9):09d}")
    round_id = await phone.draw_round(
        code, 4, "demo", first_day, end.date() - timedelta(days=1), seed=f"demo-{code}"
    )
    key = await campaign_service.rater_key(campaign_id)
    rater = phone.interviewer_pseudonym(key, interviewer_id)
    calls = await PhoneCall.select().where(PhoneCall.phone_round == round_id).order_by(PhoneCall.id)
    outcomes = (
        ["completed"] * 11 + ["refused"] * 2 + ["no_answer"] * 3 + ["wrong_number", "call_back"]
    )
    batch = []
    answered: dict[int, uuid.UUID] = {}
    for call in calls:
        if not done and rng.random() < 0.25:
            continue  # still to call
        outcome = rng.choice(outcomes)
        response_id = None
        if outcome == "completed":
            level = max(1, min(5, round(rng.gauss(3.9, 0.9))))
            new = NewResponse(
                campaign_id=campaign_id,
                role="public",
                channel="phone",
                answers=[("overall", level, "")]
                + [
                    (item, max(1, min(5, level + rng.choice((-1, 0, 0, 1)))), "")
                    for item in ("attitude", "efficiency", "clarity")
                ],
                window_id=call["window"],
                rater=rater,
                interviewer_id=interviewer_id,
                submitted_at=end - timedelta(hours=rng.uniform(1, 48)),
                duration_s=rng.uniform(60, 180),
                client_id=f"phone:{call['id']}",
            )
            batch.append(new)
            response_id = new.id
        await PhoneCall.update(
            {
                PhoneCall.outcome: outcome,
                PhoneCall.attempts: 1 + (outcome in ("no_answer", "call_back")),
                PhoneCall.interviewer: interviewer_id,
                PhoneCall.updated_at: end,
            }
        ).where(PhoneCall.id == call["id"])
        if response_id is not None:
            answered[call["id"]] = response_id
    await write_batch(batch)
    for call_id, response_id in answered.items():
        await PhoneCall.update({PhoneCall.response: response_id}).where(PhoneCall.id == call_id)


async def _mystery_visits(
    code: str,
    campaign_id: int,
    checklist_id: int,
    end: datetime,
    evaluator_id: int,
    done: bool,
) -> None:
    """The agency's mystery shopping: one visit to every window in each of the last four
    weeks, entered with the checklist's answers (each window keeps a character of its
    own: some forget to tell everything at once, some keep citizens waiting). An open
    campaign keeps its last week's visits planned, for the evaluator to make."""
    rng = random.Random(f"mystery-{code}")  # its own stream: the other data stay the same
    items = mystery.items_of(
        await MysteryChecklist.select().where(MysteryChecklist.id == checklist_id).first()
        or {"items": []}
    )
    key = await campaign_service.rater_key(campaign_id)
    rater = phone.interviewer_pseudonym(key, evaluator_id)
    windows = await ServiceWindow.select(ServiceWindow.id, ServiceWindow.unit).order_by(
        ServiceWindow.id
    )
    last_monday = end.date() - timedelta(days=end.date().weekday())
    rows = []
    for w in windows:
        care = rng.uniform(0.55, 0.98)  # how reliably this window keeps the standard
        slow = rng.uniform(4, 28)  # its typical wait, minutes
        for back in range(4):
            week = last_monday - timedelta(days=7 * (4 - back))
            if not done and back == 3:
                week = last_monday
            visit = MysteryVisit(
                campaign=campaign_id,
                checklist=checklist_id,
                unit=w["unit"],
                window=w["id"],
                week=week,
                evaluator=evaluator_id,
                planned_by="demo",
            )
            if done or back < 3:
                values: dict[str, float] = {}
                for item in items:
                    if item.kind == "yesno":
                        values[item.code] = float(rng.random() < care)
                    elif item.kind == "points":
                        values[item.code] = float(
                            max(0, min(item.max, round(rng.gauss(care * item.max, 1))))
                        )
                    else:
                        values[item.code] = float(round(max(0.0, rng.gauss(slow, 5))))
                shares = {i.code: mystery.item_share(i, values[i.code]) for i in items}
                visited = week + timedelta(days=rng.randrange(5))
                visit.state = "done"
                visit.client_id = uuid.UUID(int=rng.getrandbits(128)).hex
                visit.rater = rater
                visit.visited_on = visited
                visit.submitted_at = datetime.combine(visited, datetime.min.time(), UTC) + (
                    timedelta(hours=rng.uniform(3, 9))
                )
                visit.answers = values
                visit.points = shares
                visit.score = mystery.visit_score(items, shares)
            rows.append(visit)
    for i in range(0, len(rows), 200):
        await MysteryVisit.insert(*rows[i : i + 200])


async def _colleague_ratings(
    rng: random.Random, campaign_id: int, quality: dict[int, float], inflate_pair: bool
) -> None:
    key = await campaign_service.rater_key(campaign_id)
    assignments = (
        await Assignment.select().where(Assignment.campaign == campaign_id).order_by(Assignment.id)
    )
    first_unit_staff = sorted({a["rater"] for a in assignments if a["role"] == "peer"})
    pair = set(first_unit_staff[2:4]) if inflate_pair else set()
    for member in pair:  # ordinary colleagues: inflation shows below the 5-point ceiling
        quality[member] = min(quality[member], -0.5)
    batch = []
    for a in assignments:
        if rng.random() < 0.1:  # some colleagues never respond
            continue
        mean = 3.9 + quality[a["ratee"]] + (0.6 if a["role"] == "self" else 0)
        if a["role"] == "peer" and {a["rater"], a["ratee"]} == pair:
            mean = 5.2  # 人情分: the two inflate each other
        answers = [
            (item, max(1, min(5, round(rng.gauss(mean, 0.6)))), "")
            for item in ("attitude", "ability", "teamwork", "integrity")
        ]
        batch.append(
            NewResponse(
                campaign_id=campaign_id,
                role=a["role"],
                channel="link",
                answers=answers,
                ratee_id=a["ratee"],
                rater=campaign_service.pseudonym(key, a["rater"]),
                duration_s=max(8.0, rng.gauss(50, 15)),
            )
        )
    await write_batch(batch)
