"""Errors where they are: an incomplete citizen form or peer sheet comes back with
exactly its faulty questions marked (aria-invalid, the message beside it linked by
aria-describedby, a marker word, a summary linking to each, the first one focused),
and with everything the person already answered still filled in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest

from helpers import open_public_campaign

pytestmark = pytest.mark.anyio


@dataclass
class Marks:
    """What a page says about its form's faults, read from its HTML."""

    invalid: dict[str, set[str]] = field(default_factory=dict)  # name -> describedby ids
    autofocus: list[str] = field(default_factory=list)  # ids
    messages: dict[str, str] = field(default_factory=dict)  # id of p.err -> text
    summary: list[str] = field(default_factory=list)  # hrefs, in order
    checked: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)  # textarea and input values
    selected: dict[str, str] = field(default_factory=dict)
    ticked: set[tuple[str, str]] = field(default_factory=set)  # checkboxes (name, value)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.marks = Marks()
        self._in: list[str] = []  # open elements we collect text for
        self._select = ""
        self._summary = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if a.get("aria-invalid") == "true":
            self.marks.invalid.setdefault(name, set()).add(a.get("aria-describedby", ""))
        if "autofocus" in a:
            self.marks.autofocus.append(a.get("id", ""))
        if tag == "div" and "err-summary" in a.get("class", ""):
            self._summary = 1
        elif tag == "div" and self._summary:
            self._summary += 1
        if tag == "a" and self._summary:
            self.marks.summary.append(a.get("href", ""))
        if tag == "p" and "err" in a.get("class", "").split() and a.get("id"):
            self._in.append(a["id"])
            self.marks.messages[a["id"]] = ""
        if tag == "input" and a.get("type") == "radio" and "checked" in a:
            self.marks.checked[name] = a.get("value", "")
        if tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.marks.ticked.add((name, a.get("value", "on")))
        if tag == "input" and a.get("type", "text") == "text" and name:
            self.marks.text[name] = a.get("value", "")
        if tag == "textarea":
            self._in.append("textarea:" + name)
            self.marks.text[name] = ""
        if tag == "select":
            self._select = name
        if tag == "option" and "selected" in a:
            self.marks.selected[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "textarea") and self._in:
            self._in.pop()
        if tag == "div" and self._summary:
            self._summary -= 1

    def handle_data(self, data: str) -> None:
        if not self._in:
            return
        current = self._in[-1]
        if current.startswith("textarea:"):
            self.marks.text[current.removeprefix("textarea:")] += data
        else:
            self.marks.messages[current] += data


def marks_of(html: str) -> Marks:
    reader = _Reader()
    reader.feed(html)
    return reader.marks


def assert_marked(marks: Marks, expected: dict[str, str], first: str) -> None:
    """Exactly the fields in `expected` (name -> words of its message) are marked,
    each linked to its message, and the control `first` has the focus."""
    assert set(marks.invalid) == set(expected), marks.invalid
    for name, words in expected.items():
        assert marks.invalid[name] == {f"err-{name}"}, (name, marks.invalid[name])
        message = marks.messages.get(f"err-{name}", "")
        assert words in message, (name, message)
        assert message.startswith(("错误：", "Error: ")), message  # a word, not colour alone
    assert marks.autofocus == [first]
    assert marks.summary[0] == f"#{first}"
    assert len(marks.summary) == len(expected)


async def _rich_campaign() -> tuple[str, dict[str, Any]]:
    """An open campaign whose citizen questionnaire has every kind of question;
    returns the rating page's path and the campaign."""
    from pingyi.db.tables import Campaign
    from pingyi.services.links import window_url
    from pingyi.services.questionnaires import ItemSpec, create_questionnaire

    campaign = await open_public_campaign()
    version = await create_questionnaire(
        "rich",
        "全题型",
        "public",
        [
            ItemSpec("attitude", "服务态度", "Attitude"),
            ItemSpec("speed", "办理速度", "Speed"),
            ItemSpec("proof", "是否一次办成", "Done in one visit", kind="yesno"),
            ItemSpec(
                "channel", "您从哪里得知", "How you heard", kind="choice", choices=["网站", "窗口"]
            ),
            ItemSpec("remarks", "其他想说的", "Anything else", kind="text", required=False),
        ],
    )
    await Campaign.update({Campaign.public_version: version}).where(
        Campaign.id == campaign["campaign_id"]
    )
    url = window_url(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    return "/r/" + url.rsplit("/r/", 1)[1], campaign


async def test_citizen_form_marks_exactly_the_faulty_questions(client: Any) -> None:
    from pingyi.db.tables import Response

    path, _ = await _rich_campaign()
    page = await client.get(path)
    assert page.status_code == 200
    fresh = marks_of(page.text)
    assert fresh.invalid == {} and fresh.autofocus == [] and fresh.summary == []
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answered = {
        "token": token,
        "overall": "2",  # a low rating: the reason becomes required
        "item_attitude": "4",
        # item_speed: missing
        "item_proof": "yes",
        "item_channel": "电视",  # not one of the options
        "item_remarks": "排队<太久>",
        "comment": "窗口少",
        "reason_text": "等了很久",
        "contact": "13800138000",
    }
    response = await client.post(path, data=answered)
    assert response.status_code == 400
    marks = marks_of(response.text)
    assert_marked(
        marks,
        {
            "item_speed": "此项为必答",
            "item_channel": "请选择一个有效的选项",
            "reason": "请选择不满意的原因",
        },
        first="item_speed-5",
    )
    assert marks.summary == ["#item_speed-5", "#item_channel-1", "#reason"]
    # Every radio of a faulty group carries the marking, none of the others.
    assert response.text.count('aria-describedby="err-item_speed"') == 5
    assert response.text.count('aria-describedby="err-item_channel"') == 2
    # Nothing answered is lost.
    assert marks.checked == {"overall": "2", "item_attitude": "4", "item_proof": "yes"}
    assert marks.text["item_remarks"] == "排队<太久>"
    assert marks.text["comment"] == "窗口少"
    assert marks.text["reason_text"] == "等了很久"
    assert marks.text["contact"] == "13800138000"
    assert await Response.count() == 0

    # Fixed, it goes through.
    done = await client.post(
        path, data={**answered, "item_speed": "3", "item_channel": "网站", "reason": "slow"}
    )
    assert done.status_code == 200 and "感谢您的评价" in done.text
    assert await Response.count() == 1


async def test_citizen_form_marks_in_english_too(client: Any) -> None:
    path, _ = await _rich_campaign()
    page = await client.get(path + "?lang=en")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = await client.post(
        path + "?lang=en",
        data={"token": token, "item_attitude": "5", "item_speed": "5", "item_proof": "no"},
    )
    marks = marks_of(response.text)
    assert_marked(
        marks,
        {"overall": "Please choose a level of satisfaction", "item_channel": "needs an answer"},
        first="overall-5",
    )
    assert "Please check the marked questions." in response.text
    assert marks.checked == {"item_attitude": "5", "item_speed": "5", "item_proof": "no"}


async def test_peer_sheet_marks_the_half_rated_colleague(client: Any) -> None:
    from pingyi.db.tables import Response
    from pingyi.services import peer

    campaign = await open_public_campaign()
    links = await peer.issue_invitations(campaign["code"])
    link = next(item for item in links if item.staff_code == "u1-S1")
    path = "/i/" + link.url.rsplit("/i/", 1)[1]
    page = await client.get(path)
    assert page.status_code == 200
    form = re.search(r'name="form" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    names = re.findall(r'name="(peer\.\d+\.attitude)" value="5"', page.text)
    assert len(names) >= 2
    first, second = names[0], names[1]
    first_prefix, second_prefix = first.rsplit(".", 1)[0], second.rsplit(".", 1)[0]
    # The first colleague fully rated, the second half: only his missing item is marked.
    data = {
        "form": form,
        "submit": "all",
        first: "5",
        f"{first_prefix}.teamwork": "4",
        f"{first_prefix}.comment": "配合很好",
        second: "3",
        f"{second_prefix}.comment": "还需加强<沟通>",
    }
    response = await client.post(path, data=data)
    assert response.status_code == 400
    marks = marks_of(response.text)
    missing = f"{second_prefix}.teamwork"
    assert_marked(marks, {missing: "此项为必答"}, first=f"{missing}-5")
    assert response.text.count(f'aria-describedby="err-{missing}"') == 5
    assert marks.checked[first] == "5" and marks.checked[f"{first_prefix}.teamwork"] == "4"
    assert marks.checked[second] == "3"
    assert marks.text[f"{first_prefix}.comment"] == "配合很好"
    assert marks.text[f"{second_prefix}.comment"] == "还需加强<沟通>"
    assert await Response.count() == 0  # nothing stored while one person is half-rated
