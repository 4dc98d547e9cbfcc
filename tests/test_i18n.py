"""The gettext catalogs: every message in every language, nothing the code uses is
missing, no text hides in Python dictionaries, and a language is a file, not code."""

from __future__ import annotations

import ast
import shutil
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner

from pingyi import i18n
from pingyi.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = DEFAULT_KEYWORDS  # and those babel.cfg adds per file pattern


def _entries(lang: str) -> dict[str, tuple[str, bool]]:
    """key -> (text, fuzzy) of a catalog, empty texts included."""
    with (i18n.LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    return {str(m.id): (str(m.string or ""), bool(m.fuzzy)) for m in catalog if m.id}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_three_catalogs_are_found_on_disk() -> None:
    assert i18n.available_languages() == ("zh-CN", "zh-Hant", "en")
    assert i18n.language_names() == {"zh-CN": "简体中文", "zh-Hant": "繁體中文", "en": "English"}


@pytest.mark.parametrize("lang", i18n.available_languages())
def test_every_message_is_in_every_catalog_with_the_same_placeholders(lang: str) -> None:
    source = _entries(i18n.SOURCE_LANGUAGE)
    entries = _entries(lang)
    assert len(source) > 700
    assert sorted(set(source) - set(entries)) == [], "keys missing from this catalog"
    assert sorted(set(entries) - set(source)) == [], "keys only in this catalog"
    empty = sorted(key for key, (text, fuzzy) in entries.items() if not text.strip() or fuzzy)
    assert empty == [], "untranslated or fuzzy"
    different = sorted(
        key
        for key, (text, _) in entries.items()
        if _placeholders(text) != _placeholders(source[key][0])
    )
    assert different == [], "placeholders differ from the zh_CN text"


def _extracted() -> dict[str, set[str]]:
    """msgid -> the files that use it, by Babel's extractors and the repository's
    babel.cfg (what `pybabel extract` sees), leaving out the catalog itself."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, set[str]] = {}
    for filename, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if filename.endswith(".po"):
            continue
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, set()).add(filename)
    return found


def test_extraction_finds_no_message_missing_from_a_catalog() -> None:
    used = _extracted()
    from_templates = {m for m, files in used.items() if any(f.endswith(".html") for f in files)}
    from_python = {m for m, files in used.items() if any(f.endswith(".py") for f in files)}
    # the extractors really ran over both (a broken mapping would find nothing)
    assert len(from_templates) > 300 and len(from_python) > 20
    assert "rate.overall" in from_templates and "login.failed" in from_python
    for lang in i18n.available_languages():
        entries = _entries(lang)
        missing = sorted(
            f"{m} ({', '.join(sorted(used[m]))})"
            for m in used
            if not entries.get(m, ("", False))[0].strip()
        )
        assert missing == [], f"used in code or templates but not in the {lang} catalog"


def _text_tables(tree: ast.AST) -> Iterator[int]:
    """Line numbers of dictionaries of several "area.key": ("中文", "English") entries."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict) or len(node.keys) < 3:
            continue
        pairs = 0
        for key, value in zip(node.keys, node.values, strict=True):
            if (
                isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and "." in key.value
                and isinstance(value, ast.Tuple)
                and len(value.elts) == 2
                and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
                )
            ):
                pairs += 1
        if pairs >= 3:
            yield node.lineno


def test_no_message_table_is_left_in_python() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "src" / "pingyi").rglob("*.py"))
        for line in _text_tables(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []
    assert not (ROOT / "src" / "pingyi" / "report_messages.py").exists()
    assert not (ROOT / "src" / "pingyi" / "mystery_messages.py").exists()
    assert not hasattr(i18n, "MESSAGES")


def test_the_extractor_does_see_a_text_table() -> None:
    tree = ast.parse('T = {"a.b": ("甲", "A"), "a.c": ("乙", "B"), "a.d": ("丙", "C")}')
    assert list(_text_tables(tree)) == [1]


def test_texts_are_formatted_with_named_placeholders_and_fall_back_to_chinese() -> None:
    zh_cn = i18n.translate("login.limited", "zh-CN", seconds=30)
    assert zh_cn == "尝试次数过多，请在 30 秒后再试。"
    zh_hant = i18n.translate("login.limited", "zh-Hant", seconds=30)
    assert zh_hant == "嘗試次數過多，請在 30 秒後再試。"
    assert i18n.translate("login.limited", "en", seconds=30) == (
        "Too many attempts. Please try again in 30 seconds."
    )
    # an unknown language reads the source catalog; an unknown key reads as itself
    assert i18n.translate("login.title", "fr") == "登录"
    assert i18n.translate("no.such.key", "en") == "no.such.key"
    assert i18n.has_message("report.sec.quality") and not i18n.has_message("no.such.key")
    # has_message relies on it: no text of the source catalog is its own key
    assert not [key for key, text in i18n.read_catalog("zh-CN").items() if key == text]


def test_an_organisations_own_text_is_english_only_where_it_has_english() -> None:
    assert i18n.in_language("服务态度", "Attitude", "en") == "Attitude"
    assert i18n.in_language("服务态度", "Attitude", "zh-Hant") == "服务态度"
    # no English version (a unit named in Chinese only): the Chinese, never a blank
    assert i18n.in_language("综合大厅", "", "en") == "综合大厅"
    assert i18n.in_language("综合大厅", None, "en") == "综合大厅"


def test_halls_terms_read_naturally_in_traditional_chinese() -> None:
    t = i18n.translate
    assert t("login.title", "zh-Hant") == "登入"
    assert t("login.username", "zh-Hant") == "使用者名稱"
    assert t("logout", "zh-Hant") == "登出"
    assert "資料" in t("campaign.flags", "zh-Hant")  # 数据 -> 資料
    assert "資訊" not in t("rate.title", "zh-Hant")
    # a service window stays a 窗口 (OpenCC's IT phrases would make it a GUI 視窗)
    assert t("rate.window", "zh-Hant") == "窗口"
    assert all("視窗" not in text for text, _ in _entries("zh-Hant").values())


# Simplified-only characters common in these texts (OpenCC s2tw changes each, and none
# is also a Traditional character in this vocabulary): a 繁體中文 text must hold none.
SIMPLIFIED_ONLY = set(
    "评价数访满结请单时计码为后众议动间与于个发号项选录记样权员据办检过机开对编问无没写联拨务链处级报内组规应择标题扫显这复谢"
    "暂钟类说则该试构导关变语统称维会条实认给隐词误层达仅体较页随电话总点审态参岗诉调销网决额键来设谈状别综属辑经连两现种见进"
    "从运断预将续优须轮区错织长搁队质载监论况览谁门异终确创驻当约补户尝响频删纹张贴占传负责馈头环绝们继诱测阈际冻账启历刚愿触"
    "义线热减独输签备钥滞败让执筛毕纸证业练释违费简吗络识还厅径挂听击书护汇团纯宽严离尽装"
)


def test_traditional_texts_hold_no_simplified_characters() -> None:
    leftovers = {
        key: "".join(sorted(set(text) & SIMPLIFIED_ONLY))
        for key, (text, _) in _entries("zh-Hant").items()
        if set(text) & SIMPLIFIED_ONLY
    }
    assert leftovers == {}
    assert set(_entries("zh-CN")["rate.overall"][0]) & SIMPLIFIED_ONLY  # the check can fail


@pytest.mark.parametrize(
    ("asked", "chosen"),
    [
        ("zh-Hant", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh-hk", "zh-Hant"),
        ("zh_MO", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-SG", "zh-CN"),
        ("en", "en"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_language_tags_map_to_a_catalog(asked: str, chosen: str | None) -> None:
    assert i18n.match_language(asked) == chosen


def test_only_a_traditional_chinese_browser_changes_the_default() -> None:
    assert i18n.traditional_from_header("zh-TW,zh;q=0.9,en;q=0.8") == "zh-Hant"
    assert i18n.traditional_from_header("zh-HK") == "zh-Hant"
    assert i18n.traditional_from_header("en-US,en;q=0.9") is None
    assert i18n.traditional_from_header("zh-CN,zh-TW;q=0.5") is None
    assert i18n.traditional_from_header(None) is None


@pytest.fixture
def extra_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The real catalogs copied to a folder with one more language (Japanese, one
    message), read through the same code."""
    folder = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, folder)
    catalog = Catalog(locale="ja", domain="messages")
    catalog.add("lang.name", "日本語")
    catalog.add("login.title", "ログイン")
    (folder / "ja" / "LC_MESSAGES").mkdir(parents=True)
    with (folder / "ja" / "LC_MESSAGES" / "messages.po").open("wb") as f:
        write_po(f, catalog)
    caches = (i18n.available_languages, i18n.translations)
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setattr(i18n, "LOCALE_DIR", folder)
    yield folder
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


def test_a_new_catalog_is_a_new_language_without_code(extra_catalog: Path, tmp_path: Path) -> None:
    assert i18n.available_languages() == ("zh-CN", "zh-Hant", "en", "ja")
    assert i18n.language_names()["ja"] == "日本語"
    assert i18n.translate("login.title", "ja") == "ログイン"
    assert i18n.translate("logout", "ja") == "退出"  # not yet translated: the source text
    assert i18n.pick_language("ja-JP", "zh-CN") == "ja"
    settings = load_settings({"PINGYI_DATA_DIR": str(tmp_path), "PINGYI_LANGUAGE": "ja"})
    assert settings.language == "ja"


def test_an_unknown_deployment_language_names_the_catalogs(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="zh-CN, zh-Hant, en"):
        load_settings({"PINGYI_DATA_DIR": str(tmp_path), "PINGYI_LANGUAGE": "fr"})
    settings = load_settings({"PINGYI_DATA_DIR": str(tmp_path), "PINGYI_LANGUAGE": "zh-Hant"})
    assert settings.language == "zh-Hant"


def test_hr_exports_speak_every_language() -> None:
    from pingyi import exports

    headers = {lang: exports.headers(lang) for lang in i18n.available_languages()}
    assert "工号" in headers["zh-CN"] and "工號" in headers["zh-Hant"]
    assert "綜合得分" in headers["zh-Hant"]
    assert len({tuple(h) for h in headers.values()}) == 3
    assert all(len(h) == len(headers["zh-CN"]) for h in headers.values())


def test_the_cli_offers_every_language() -> None:
    from pingyi.cli import main

    for command in ("export", "report"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "zh-CN|zh-Hant|en" in result.output


def test_cleaning_reasons_are_explained_in_every_language() -> None:
    # `pingyi clean` writes its file-mode report in Chinese from the pure cleaning
    # package's own sentences; the console and the campaign report read the catalogs.
    from pingyi.cleaning import REASON_EXPLANATIONS, REASONS

    for reason in REASONS:
        key = f"flags.why.{reason}"
        assert i18n.translate(key, "zh-CN") == REASON_EXPLANATIONS[reason]
        assert i18n.translate(key, "en") != REASON_EXPLANATIONS[reason]
        assert i18n.translate(key, "zh-Hant") not in (key, REASON_EXPLANATIONS[reason])


def test_the_documented_pybabel_commands_leave_complete_catalogs_unchanged(
    tmp_path: Path,
) -> None:
    """README's extract and update, run on a copy: every key reaches the template, and
    updating the catalogs from it neither adds, drops nor changes a message."""
    import subprocess
    import sys

    pybabel = str(Path(sys.executable).with_name("pybabel"))
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    pot = locale / "messages.pot"
    extract = [pybabel, "-q", "extract", "-F", "babel.cfg", "--sort-output", "--no-location"]
    subprocess.run([*extract, "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    update = ["update", "-i", str(pot), "-d", str(locale), "--no-fuzzy-matching"]
    subprocess.run([pybabel, "-q", *update, "--ignore-obsolete"], check=True, capture_output=True)
    with pot.open("rb") as f:
        template = {str(m.id) for m in read_po(f) if m.id}
    assert template == set(_entries(i18n.SOURCE_LANGUAGE))
    for lang in i18n.available_languages():
        folder = lang.replace("-", "_")
        with (locale / folder / "LC_MESSAGES" / "messages.po").open("rb") as f:
            updated = {str(m.id): str(m.string) for m in read_po(f) if m.id}
        assert updated == {key: text for key, (text, _) in _entries(lang).items()}, lang
