"""The thank-you page is rendered once per variant (web/thanks.py): each rating still
gets its own pressure form, and variants (a follow-up promised, another language)
never leak into each other."""

from __future__ import annotations

import re
from typing import Any

import pytest

from helpers import open_public_campaign

pytestmark = pytest.mark.anyio

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) thanks-test"
PRESSURE = re.compile(r'name="token" value="(c\d+w\d+s[0-9a-f]+\.[^"]+)"')


async def _rate(client: Any, path: str, overall: int, cookie: str = "") -> Any:
    headers = {"user-agent": UA, **({"cookie": cookie} if cookie else {})}
    page = await client.get(path, headers=headers)
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token, page.text[:300]
    data = {"token": token.group(1), "overall": str(overall), "item_attitude": "4"}
    if overall <= 2:
        data["reason"] = "slow"
    answer = await client.post(path, data=data, headers=headers)
    assert answer.status_code == 200, answer.text[:300]
    return token.group(1), answer.text


async def test_each_rating_gets_its_own_pressure_form_and_variants_stay_apart(
    client: Any,
) -> None:
    from pingyi.i18n import translate
    from pingyi.services.links import resolve_pressure, window_ref

    campaign = await open_public_campaign()
    path = "/r/" + window_ref(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    first_form, first = await _rate(client, path, 5)
    second_form, second = await _rate(client, path, 4)
    bad_form, bad = await _rate(client, path, 1)
    english_form, english = await _rate(client, path, 5, cookie="lang=en")

    pages = {first_form: first, second_form: second, bad_form: bad, english_form: english}
    for form, html in pages.items():
        match = PRESSURE.search(html)
        assert match, html[:500]
        resolved = resolve_pressure(match.group(1))
        assert resolved is not None  # a valid signature, made for this rating's form
        assert resolved[2] == form.rpartition(".")[0].split("~")[5]
        assert html.count("pingyi-pressure-token-placeholder") == 0
    # the same page but for the token
    assert PRESSURE.sub("", first) == PRESSURE.sub("", second)
    followup = translate("thanks.followup", "zh-CN")
    assert followup in bad and followup not in first
    assert translate("thanks.title", "en") in english
    assert translate("thanks.title", "zh-CN") not in english
    assert translate("thanks.title", "zh-CN") in first

    # the pressure form of a page served from the cache is taken
    token = PRESSURE.search(second)
    assert token
    report = await client.post(
        "/p", data={"token": token.group(1), "text": "催我给好评"}, headers={"user-agent": UA}
    )
    assert report.status_code == 200
    assert translate("pressure.thanks", "zh-CN") in report.text
