"""Pages in every language: the citizen's page and the console in 繁體中文, the switch
that offers each language in its own name, and how a language is chosen."""

from __future__ import annotations

import re
from typing import Any

import pytest

from helpers import login, make_user, open_public_campaign
from test_citizen import UA, _page_for_window
from test_white_paper import _rated

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


def _switch(html: str) -> dict[str, str]:
    """hreflang -> link text of the language switch."""
    nav = re.search(r'<nav class="langs"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "page has no language switch"
    links = dict(re.findall(r'hreflang="([^"]+)" lang="[^"]+">([^<]+)</a>', nav.group(1)))
    current = re.findall(r'<span lang="([^"]+)" aria-current="true">([^<]+)</span>', nav.group(1))
    assert len(current) == 1, "exactly one language is marked as the current one"
    return {**links, **dict(current)}


async def test_the_citizen_page_in_traditional_chinese(client: Any) -> None:
    campaign = await open_public_campaign()
    path, _ = await _page_for_window(client, campaign)
    page = await client.get(path + "?lang=zh-Hant", headers={"user-agent": UA})
    assert page.status_code == 200
    html = page.text
    assert '<html lang="zh-Hant">' in html
    assert "您對本次服務是否滿意？" in html and "非常滿意" in html and "提交評價" in html
    assert "您对本次服务是否满意" not in html
    assert _switch(html) == {"zh-CN": "简体中文", "zh-Hant": "繁體中文", "en": "English"}
    # the choice is remembered on the device
    assert page.cookies.get("lang") == "zh-Hant"
    again = await client.get(path, headers={"user-agent": UA})
    assert '<html lang="zh-Hant">' in again.text and "提交評價" in again.text


async def test_the_console_in_traditional_chinese(client: Any) -> None:
    await make_user("agency1", "agency_admin", PASSWORD)
    sign_in = await client.get("/login?lang=zh-Hant")
    assert '<html lang="zh-Hant">' in sign_in.text
    assert "使用者名稱" in sign_in.text and "登入" in sign_in.text
    await login(client, "agency1", PASSWORD)
    page = await client.get("/admin/campaigns")
    assert page.status_code == 200
    assert '<html lang="zh-Hant">' in page.text
    assert "評議活動" in page.text and "登出" in page.text
    assert "评议活动" not in page.text
    english = await client.get("/admin/campaigns?lang=en")
    assert '<html lang="en">' in english.text and "Sign out" in english.text


async def test_the_switch_keeps_the_page_and_its_filters(client: Any) -> None:
    page = await client.get("/login?next=%2Fadmin%2Fcampaigns&lang=en")
    nav = re.search(r'<nav class="langs".*?</nav>', page.text, re.S)
    assert nav
    hrefs = re.findall(r'href="([^"]+)" hreflang="([^"]+)"', nav.group(0))
    assert {lang: href.replace("&amp;", "&") for href, lang in hrefs} == {
        "zh-CN": "?next=%2Fadmin%2Fcampaigns&lang=zh-CN",
        "zh-Hant": "?next=%2Fadmin%2Fcampaigns&lang=zh-Hant",
    }


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO,en;q=0.5", "zh-Hant"),
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("en-US,en;q=0.9", "zh-CN"),
        ("", "zh-CN"),
    ],
)
async def test_a_traditional_chinese_phone_reads_traditional_chinese(
    client: Any, accept: str, lang: str
) -> None:
    page = await client.get("/login", headers={"accept-language": accept})
    assert f'<html lang="{lang}">' in page.text


async def test_a_chosen_language_outranks_the_browser(client: Any) -> None:
    page = await client.get("/login?lang=zh-CN", headers={"accept-language": "zh-TW"})
    assert '<html lang="zh-CN">' in page.text
    client.cookies.clear()  # a new phone: no remembered choice
    unknown = await client.get("/login?lang=xx", headers={"accept-language": "zh-TW"})
    assert unknown.status_code == 200 and '<html lang="zh-Hant">' in unknown.text


async def test_templates_may_use_jinja_trans_blocks(app: Any) -> None:
    from pingyi.i18n import translations

    env = app.template_engine.engine
    assert "jinja2.ext.InternationalizationExtension" in env.extensions
    template = env.from_string('{% trans %}login.title{% endtrans %}|{{ _("logout") }}')
    catalog = translations("zh-Hant")
    assert template.render(gettext=catalog.gettext, ngettext=catalog.ngettext) == "登入|登出"


async def test_the_campaign_report_in_traditional_chinese(db: str) -> None:
    from pingyi.db.tables import Staff
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.white_paper import build_report

    c = await open_public_campaign("R1")
    unit = (await Staff.select(Staff.unit).where(Staff.code == "u1-S1").first())["unit"]
    await _rated(c["campaign_id"], c["windows"]["u1-W1"], unit, [{"level": 5}] * 4)
    await campaigns.move("R1", "closed", "test")
    await run_cleaning("R1", "test")
    html = await build_report("R1", lang="zh-Hant")
    assert '<html lang="zh-Hant">' in html
    assert "評議報告" in html and "資料品質" in html and "刷票" in html  # a flag reason explained
    assert "评议报告" not in html and "数据质量" not in html
