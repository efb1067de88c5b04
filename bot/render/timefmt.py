"""Japan Standard Time, written the way each language writes dates.

The Babel locale of each language comes from the languages table
(:mod:`bot.languages`); a language whose locale is Japanese gets the Japanese
form (``4月16日 1時25分``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format

from bot.languages import find_language

JST = ZoneInfo("Asia/Tokyo")


def babel_locale(language: str) -> str:
    """The Babel locale of ``language`` in this process's languages table."""
    found = find_language(language)
    return found.babel_locale if found is not None else language.replace("-", "_")


def format_jst(value: dt.datetime, language: str, locale: str | None = None) -> str:
    """``value`` in JST, medium date and short time, followed by "JST" (時 in Japanese).
    ``locale`` is the Babel locale (default: the languages table's for ``language``)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    local = value.astimezone(JST)
    loc = locale or babel_locale(language)
    if loc == "ja" or loc.startswith("ja_"):
        return f"{local.month}月{local.day}日 {local.hour}時{local.minute:02d}分"
    pattern = str(get_datetime_format("medium", locale=loc))
    date = format_date(local, "medium", locale=loc)
    time = format_time(local, "short", tzinfo=JST, locale=loc)
    return pattern.replace("{1}", date).replace("{0}", time) + " JST"
