"""Japan Standard Time, written the way each language writes a date and a time.

The Babel locale of each language comes from the languages table
(:mod:`bot.languages`); a language whose locale is Japanese gets the Japanese
form (``4月16日 1時25分``).

A date in the reader's current year leaves the year out (``Apr 16, 1:25 AM JST``);
any other date shows it (``Apr 16, 2016, 1:25 AM JST``, ``2016年4月16日 1時25分``),
so that a report about a past earthquake never reads as if it were this year's.
"The current year" is judged against ``now`` (default: the clock), in JST.
A time that has no JST form (9999-12-31 23:00 UTC is in the year 10000 in Japan)
is written as it was given, in ISO 8601, rather than raising.

Most languages take CLDR's medium date (skeleton ``yMMMd``) and its date-time
pattern; the few where that reads like a form rather than a sentence have an
entry in :data:`STYLES`, keyed by the locale's language, so that regional
locales (``pt_PT``, ``pt_BR``) still differ where CLDR says they do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time, get_datetime_format

from bot.languages import find_language

JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Style:
    """How one language writes a JST date-time. ``with_year``/``without_year`` are
    CLDR skeletons, or date patterns when ``patterns`` is set; ``join`` puts the date
    ({1}) and the time ({0}) together (None: CLDR's medium date-time pattern);
    ``zone`` marks the time as Japan's ({0}: the date-time)."""

    with_year: str = "yMMMd"
    without_year: str = "MMMd"
    patterns: bool = False
    join: str | None = None
    time: str | None = None  # a CLDR time skeleton instead of the short time format
    zone: str = "{0} JST"


STYLES: dict[str, Style] = {
    # "16 de abril de 2016, 1:25", not "16 abr 2016, 1:25"
    "es": Style(with_year="yMMMMd", without_year="MMMMd"),
    # a comma between date and time: "16 de abr. de 2016, 01:25"
    "pt": Style(join="{1}, {0}"),
    # "01:25 ngày 16 tháng 4 năm 2016"
    "vi": Style(with_year="'ngày' d 'tháng' M 'năm' y", without_year="'ngày' d 'tháng' M",
                patterns=True),
    # the word for "at" before the time, as dates are written in running text
    "id": Style(join="{1} pukul {0}"),
    "th": Style(join="{1} เวลา {0}"),
    # a separator between the day's number and the time's
    "mn": Style(join="{1}, {0}"),
    "my": Style(join="{1}၊ {0}"),
    # 24-hour time, as Cambodian notices write it (CLDR gives "9:26 PM")
    "km": Style(time="Hm"),
    # Japan's time named in the language, before the date as news writes it
    "ko": Style(zone="일본 시간 {0}"),
    "zh_Hans": Style(zone="日本时间{0}"),
    "zh_Hant": Style(zone="日本時間{0}"),
}


def in_jst(value: dt.datetime) -> dt.datetime | None:
    """``value`` in JST, or None when that falls outside the calendar (years 1-9999)."""
    try:
        return value.astimezone(JST)
    except OverflowError:
        return None


def babel_locale(language: str) -> str:
    """The Babel locale of ``language`` in this process's languages table."""
    found = find_language(language)
    return found.babel_locale if found is not None else language.replace("-", "_")


def _style(locale: str) -> Style:
    parts = locale.replace("-", "_").split("_")
    script = f"{parts[0]}_{parts[1]}" if len(parts) > 1 and len(parts[1]) == 4 else None
    return STYLES.get(script or "", STYLES.get(parts[0], Style()))


def format_jst(value: dt.datetime, language: str, locale: str | None = None, *,
               now: dt.datetime | None = None) -> str:
    """``value`` in JST as a reader of ``language`` writes it, with the year when it
    is not the year of ``now`` (default: the clock). ``locale`` is the Babel locale
    (default: the languages table's for ``language``)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    local = in_jst(value)
    if local is None:
        return value.isoformat(timespec="minutes")
    current = in_jst(now or dt.datetime.now(dt.UTC))
    with_year = current is None or local.year != current.year
    loc = locale or babel_locale(language)
    if loc == "ja" or loc.startswith("ja_"):
        day = f"{local.month}月{local.day}日 {local.hour}時{local.minute:02d}分"
        return f"{local.year}年{day}" if with_year else day
    style = _style(loc)
    form = style.with_year if with_year else style.without_year
    if style.patterns:
        date = format_date(local, form, locale=loc)
    else:
        date = format_skeleton(form, local, locale=loc)
    if style.time:
        time = format_skeleton(style.time, local, tzinfo=JST, locale=loc)
    else:
        time = format_time(local, "short", tzinfo=JST, locale=loc)
    join = style.join or str(get_datetime_format("medium", locale=loc))
    both = join.replace("{1}", date).replace("{0}", time)
    return style.zone.replace("{0}", both)


def jst(value: dt.datetime | None, empty: str = "-") -> str:
    """A time as an operator in 熊本 reads it: ``2026-11-30 09:00:05 JST``."""
    if value is None:
        return empty
    local = in_jst(value)
    if local is None:  # beyond the calendar in JST: as it was given
        return value.strftime("%Y-%m-%d %H:%M:%S ") + (value.tzname() or "")
    return local.strftime("%Y-%m-%d %H:%M:%S JST")
