"""User-facing text, looked up by key in the gettext catalogs under ``pingyi/locale/``.

Each language is one standard catalog, ``locale/<ll_CC>/LC_MESSAGES/messages.po``,
whose msgids are the message keys that code and templates use (``t("login.title")``)
and whose msgstrs are ``str.format`` texts with named placeholders. Keys rather than
Chinese source sentences, because the keys are stable while the texts are edited, and
many are composed at run time (``f"role.{r}"``), which an extractor cannot see.

The languages are the catalogs on disk: dropping in a new ``messages.po`` adds a
language without touching code. zh-CN is the source catalog; any other language falls
back to it for a missing, empty or fuzzy text, so users always read a sentence, never
a key. Catalogs are read from the ``.po`` files at first use (tens of milliseconds):
no compiled ``.mo`` can go stale in an editable install or be missing from a wheel.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "zh-CN"  # the catalog every other one falls back to

# Tags a browser or a link may send for Traditional Chinese (Hong Kong, Macau, Taiwan).
_TRADITIONAL = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def _tag(folder: str) -> str:
    """BCP 47 language tag of a catalog folder: zh_Hant -> zh-Hant."""
    return folder.replace("_", "-")


def _catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    """The languages with a catalog on disk: the source language, its other scripts and
    variants (zh-Hant), then the rest by tag."""
    found = {_tag(p.parents[1].name) for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    primary = SOURCE_LANGUAGE.split("-")[0]
    others = sorted(found - {SOURCE_LANGUAGE}, key=lambda t: (t.split("-")[0] != primary, t))
    return (SOURCE_LANGUAGE, *others)


def read_catalog(lang: str) -> dict[str, str]:
    """key -> text of one language's catalog; untranslated and fuzzy entries left out."""
    with _catalog_path(lang).open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


@cache
def translations(lang: str) -> Translations:
    """The gettext translations of a language (falling back to the source language);
    also what the templates' jinja2 i18n extension uses."""
    with _catalog_path(lang).open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # leaves out untranslated and fuzzy entries
    buffer.seek(0)
    result = Translations(buffer, domain=DOMAIN)
    if lang != SOURCE_LANGUAGE:
        result.add_fallback(translations(SOURCE_LANGUAGE))
    return result


def load_all() -> None:
    """Parse every catalog now: a server's worker does it while starting, before its
    heap is settled, instead of on the first page in each language under load (about
    190 ms each, a request-blocking pause measured in every worker)."""
    for lang in available_languages():
        translations(lang)


def has_message(key: str) -> bool:
    """Whether the source catalog has this key (for labels that may be free text). No
    text is its own key, so a key that comes back unchanged is one the catalog lacks."""
    return translations(SOURCE_LANGUAGE).gettext(key) != key


def match_language(requested: str | None) -> str | None:
    """The available language a tag asks for (zh-TW -> zh-Hant, en-GB -> en), or None."""
    if not requested:
        return None
    wanted = requested.strip().replace("_", "-").lower()
    available = available_languages()
    for lang in available:
        if lang.lower() == wanted:
            return lang
    if wanted.startswith(_TRADITIONAL) and "zh-Hant" in available:
        return "zh-Hant"
    primary = wanted.split("-")[0]
    if primary == "zh":
        return SOURCE_LANGUAGE
    for lang in available:
        if lang.lower().split("-")[0] == primary:
            return lang
    return None


def pick_language(requested: str | None, default: str) -> str:
    """The language asked for (a link or the cookie), else the deployment's default."""
    chosen = match_language(requested)
    if chosen:
        return chosen
    return default if default in available_languages() else SOURCE_LANGUAGE


def traditional_from_header(accept_language: str | None) -> str | None:
    """zh-Hant when the browser's first choice is Traditional Chinese, else None.

    Only this signal is followed: a phone set to Traditional Chinese is a visitor from
    Hong Kong, Macau or Taiwan, while an English phone in a hall is as often a local
    one's default, whom the hall's language serves better until they choose."""
    if not accept_language or "zh-Hant" not in available_languages():
        return None
    first = accept_language.split(",")[0].split(";")[0].strip().lower()
    return "zh-Hant" if first.startswith(_TRADITIONAL) else None


def language_names() -> dict[str, str]:
    """Each available language's name in that language (for the language switch)."""
    return {lang: translate("lang.name", lang) for lang in available_languages()}


def in_language(chinese: str, english: str | None, lang: str) -> str:
    """An organisation's own text (a question, a unit's or a window's name): its
    English version on English pages when it has one, else the Chinese it is kept in."""
    return english if lang == "en" and english else chinese


def translate(key: str, lang: str, **params: Any) -> str:
    catalog = lang if lang in available_languages() else SOURCE_LANGUAGE
    text = translations(catalog).gettext(key)  # the key itself when no catalog has it
    return text.format(**params) if params else text


def extract_catalog_keys(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extractor (babel.cfg) yielding every key of the source catalog, with its
    text as a comment for translators: keys composed at run time reach the template."""
    for message in read_po(fileobj, domain=DOMAIN):
        if message.id and isinstance(message.id, str):
            lineno = message.lineno or 0
            yield lineno, None, message.id, [str(message.string)] if message.string else []
