"""Dates as real feeds write them: localized month and day names, two-digit years, times without a colon.

feedparser reads RFC 822 and ISO 8601 in English. Feeds in Portuguese,
Spanish, French, German, Italian, Dutch, Polish or Russian write "Seg, 24 Set
2018 19:42:40 -0300", and old RSS writes "03 Apr 02 1500 GMT". An entry whose
date nobody could read used to get the gather time, and a six-year-old story
went out as today's news. `parse_date` reads these forms; feedparser calls it
first (feeds.py registers it) and falls back to its own handlers on None.
"""

from __future__ import annotations

import datetime
import re
import time
import unicodedata
from email.utils import mktime_tz, parsedate_tz

_ENGLISH = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Month name prefixes (lowercase, accents removed) -> month number, across the languages above.
_MONTHS: dict[str, int] = {name: n for n, name in enumerate(_ENGLISH, 1)}
for _month, _names in {
    1: "jan janv janeiro ene enero janvier januar jaen gen gennaio januari sty stycznia styczen янв январь января",
    2: "fev fevereiro febrero fevr fevrier februar feb febbraio februari lut lutego luty фев февраль февраля",
    3: "marco marzo mars maerz marz maart mrt marca marzec мар март марта",
    4: "abr abril avr avril april aprile kwi kwietnia kwiecien апр апрель апреля",
    5: "mai maio mayo mag maggio mei maj maja май маи мая",
    6: "junho junio juin juni giu giugno cze czerwca czerwiec июн июнь июня",
    7: "julho julio juil juillet juli lug luglio lip lipca lipiec июл июль июля",
    8: "ago agosto aout august agosto augustus sie sierpnia sierpien авг август августа",
    9: "set setembro septiembre sept septembre september settembre wrz wrzesnia wrzesien сен сентябрь сентября",
    10: "out outubro octubre oct octobre okt oktober ott ottobre paz pazdziernika pazdziernik окт октябрь октября",
    11: "novembro noviembre novembre november lis listopada listopad ноя ноябрь ноября",
    12: "dez dezembro dic diciembre dec decembre dezember dicembre december gru grudnia grudzien дек декабрь декабря",
}.items():
    _MONTHS.update({name: _month for name in _names.split()})

# "[day name,] 24 [de] Set[.] [de] 2018 [, | às | um | at] 19:42[:40] [zone]" and "03 Apr 02 1500 GMT".
_FORM = re.compile(
    r"^\s*(?:[^\W\d_]+\.?,?\s+)?(\d{1,2})\.?\s+(?:de\s+)?([^\W\d_]+)\.?,?\s+(?:de\s+)?(\d{4}|\d{2})(?!\d)"
    r"(?:\s*,?\s*(?:[^\W\d_]{1,5}\s+)?(\d{1,2}):?h?(\d{2})(?::(\d{2}))?)?\s*(.*?)\s*$", re.IGNORECASE)


def _plain(word: str) -> str:
    """Lowercase without accents (março -> marco, août -> aout), Cyrillic kept as it is."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ä", "ae")


def month_number(word: str) -> int | None:
    plain = _plain(word).rstrip(".")
    for size in (len(plain), 5, 4, 3):
        if size <= len(plain) and plain[:size] in _MONTHS:
            return _MONTHS[plain[:size]]
    return None


def parse_date(text: str) -> time.struct_time | None:
    """A 9-tuple in UTC (what feedparser's date handlers return), or None for a form we do not read."""
    if not text or len(text) > 200:  # feed text: a date is short, whatever else a stranger writes there
        return None
    match = _FORM.match(text)
    if not match:
        return None
    day, month_word, year, hour, minute, second, zone = match.groups()
    month = month_number(month_word)
    if month is None or not 1 <= int(day) <= 31 or int(hour or 0) > 23 or int(minute or 0) > 59:
        return None
    year_number = int(year) if len(year) == 4 else 2000 + int(year) if int(year) < 70 else 1900 + int(year)
    try:
        datetime.date(year_number, month, int(day))
    except ValueError:  # 31 Feb: a typo, not 2 March
        return None
    zone = zone.strip() or "GMT"
    english = f"{int(day):02d} {_ENGLISH[month - 1].title()} {year_number} " \
              f"{int(hour or 0):02d}:{minute or '00'}:{second or '00'} {zone}"
    parsed = parsedate_tz(english) or parsedate_tz(english.rsplit(" ", 1)[0] + " GMT")  # unknown zone: UTC
    if parsed is None:
        return None
    try:
        return time.gmtime(mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None

