"""Japan Standard Time, written the way each language writes dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format

JST = ZoneInfo("Asia/Tokyo")

# Our language tags -> Babel locale identifiers.
BABEL_LOCALES = {
    "ja": "ja",
    "ja-easy": "ja",
    "en": "en",
    "zh-Hans": "zh_Hans",
    "zh-Hant": "zh_Hant",
    "ko": "ko",
    "vi": "vi",
    "tl": "fil",
    "ne": "ne",
    "id": "id",
    "th": "th",
    "pt": "pt_BR",
    "es": "es",
    "my": "my",
    "km": "km",
    "mn": "mn",
}


def babel_locale(language: str) -> str:
    return BABEL_LOCALES.get(language, language.replace("-", "_"))


def format_jst(value: dt.datetime, language: str) -> str:
    """``value`` in JST, medium date and short time, followed by "JST" (時 in Japanese)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    local = value.astimezone(JST)
    if language in ("ja", "ja-easy"):
        return f"{local.month}月{local.day}日 {local.hour}時{local.minute:02d}分"
    loc = babel_locale(language)
    pattern = str(get_datetime_format("medium", locale=loc))
    date = format_date(local, "medium", locale=loc)
    time = format_time(local, "short", tzinfo=JST, locale=loc)
    return pattern.replace("{1}", date).replace("{0}", time) + " JST"
