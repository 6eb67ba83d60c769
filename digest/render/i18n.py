"""Each newsletter in its readers' language: gettext catalogs (digest/locale) and Babel's dates and numbers.

One process serves newsletters in several languages at once (a Ukrainian and
an English edition of one site), so no translation is installed on the
Jinja2 environment for good: every render is handed the gettext callables of
its own language in its context (`words(language)`), which the i18n
extension's `{% trans %}` and `_()` look up there first. Templates rendered
without them (the operator console) fall back to the environment's null
translations: English.

Python code marks its reader-facing texts with `N_` (found by extraction,
translated when the language is known: `translator(language).gettext(TEXT)`).
A bare "en" formats dates the British way (24 November 2026), as this tool
always has; "en-US" and every other tag get their own locale's conventions.
"""

from __future__ import annotations

import gettext as _gettext
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import pass_context
from markupsafe import Markup

DOMAIN = "digest"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
BUNDLED = ("en", "uk", "de", "fr", "es", "ar")  # complete catalogs; tests/test_languages.py keeps them so
DATE_STYLE = {"en": "en_GB"}  # a bare "en": day before month, as the digest always wrote it


def N_(text: str) -> str:  # noqa: N802 - the gettext convention extraction looks for
    """Marks a text for extraction; it is translated where the reader's language is known."""
    return text


# The section titles compose.py gives when the operator named none (settings' top_stories_title default and
# compose.OTHER_SECTION_TITLE): shown in the reader's language; titles the operator wrote stay as written.
DEFAULT_SECTIONS = (N_("Top stories"), N_("More news"))


@lru_cache(maxsize=64)
def locale_of(language: str) -> Locale:
    """A BCP 47 tag ("pt-BR") as Babel's Locale (config_rules.py has refused tags Babel does not know)."""
    return Locale.parse(language or "en", sep="-")


def text_direction(language: str) -> str:
    """"rtl" for Arabic, Hebrew, Persian...: pages and mail set dir= from it."""
    return "rtl" if locale_of(language).character_order == "right-to-left" else "ltr"


class _Worded(_gettext.NullTranslations):
    """A newsletter's own wording of some texts (NewsletterSettings.texts) over its language's catalog."""

    def __init__(self, texts: tuple[tuple[str, str], ...], catalog: _gettext.NullTranslations) -> None:
        super().__init__()
        self._texts = dict(texts)
        self.add_fallback(catalog)

    def gettext(self, message: str) -> str:
        return self._texts.get(message) or self._fallback.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._texts.get(singular) or self._fallback.ngettext(singular, plural, n)


@lru_cache(maxsize=64)
def translator(language: str, texts: tuple[tuple[str, str], ...] = ()) -> _gettext.NullTranslations:
    """The compiled catalog for `language` (falling back from "pt_BR" to "pt", and to English: the msgids), under
    the operator's own `texts` ((msgid, text) pairs) if any."""
    catalog = Translations.load(str(LOCALE_DIR), [str(locale_of(language))], DOMAIN)
    return _Worded(texts, catalog) if texts else catalog


def own_texts(newsletter) -> tuple[tuple[str, str], ...]:
    """A newsletter's own wordings as translator() takes them (hashable: one translator per wording)."""
    return tuple((msgid, text) for msgid, text in newsletter.texts)


@lru_cache(maxsize=64)
def words(language: str, texts: tuple[tuple[str, str], ...] = ()) -> dict:
    """What a template needs to speak `language` (with a newsletter's own `texts`): gettext callables (new-style:
    %(name)s filled and escaped as Jinja's own are) plus lang, dir and the Babel locale the date filters read."""
    catalog = translator(language, texts)

    @pass_context
    def gettext(context, message: str, **variables) -> str:
        text = catalog.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    @pass_context
    def ngettext(context, singular: str, plural: str, number: int, **variables) -> str:
        variables.setdefault("num", number)
        text = catalog.ngettext(singular, plural, number)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext, "lang": language, "dir": text_direction(language),
            "locale": str(_date_locale(language))}


def _date_locale(language: str) -> Locale:
    return Locale.parse(DATE_STYLE[language]) if language in DATE_STYLE else locale_of(language)


def long_date(value: date | datetime, language: str) -> str:
    """The digest's date line and a pause's end: "Tuesday, 24 November 2026", "вівторок, 24 листопада 2026 р."."""
    return format_date(value, "full", locale=_date_locale(language))


def short_date(value: date | datetime, language: str) -> str:
    """The subject line's date: "24 Nov 2026", "24 лист. 2026 р."."""
    return format_date(value, "medium", locale=_date_locale(language))


def date_time(value: datetime, language: str, tz: str | None = None) -> str:
    """A story's time in the newsletter's time zone: "24 Nov 2026, 09:05 EET" (a reader in Kyiv does no sums)."""
    zone = ZoneInfo(tz) if tz else value.tzinfo
    if zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    locale = _date_locale(language)
    day = format_skeleton("yMMMd", value, locale=locale)
    hour = format_time(value, "short", locale=locale)
    return locale.datetime_formats["medium"].format(hour, day) + (f" {value:%Z}" if value.tzinfo else "")


def number(value: int | float, language: str) -> str:
    return format_decimal(value, locale=_date_locale(language))


@pass_context
def section_label(context, title: str) -> str:
    return context.call(context.resolve("gettext"), title) if title in DEFAULT_SECTIONS else title


@pass_context
def _long_date_filter(context, value) -> str:
    return long_date(value, context.get("lang") or "en")


@pass_context
def _date_time_filter(context, value, tz: str | None = None) -> str:
    return date_time(value, context.get("lang") or "en", tz)


@pass_context
def _number_filter(context, value) -> str:
    return number(value, context.get("lang") or "en")


def install(env) -> None:
    """The i18n extension and the locale-aware filters on an environment; English until a render says else."""
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)
    env.filters.update(long_date=_long_date_filter, date_time=_date_time_filter, number=_number_filter)
    env.globals["section_label"] = section_label
