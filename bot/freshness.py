"""Is a notice current? Each kind has a maximum age in ``[freshness]``; a CAP alert
with an ``expires`` is current until then. Judged against now, or against
``--as-of`` for drills and replays.

A stale notice is stored and held, never sent by itself, and the reason says why
(``stale: issued 2016-04-14 21:26 JST, 10 years ago``): replaying any feed never
broadcasts history.

A notice from the future is held the same way, for an operator to look at: one
issued later than now plus ``[freshness] clock_skew`` (default 10 minutes: the
sender's clock or ours is wrong, or the document is forged or corrupt), and one
that says it holds for more than a year (``expires`` in the year 9999).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import Config
from bot.domain import Alert, Kind
from bot.errors import ConfigError
from bot.render.timefmt import in_jst

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

#: used for a kind the configuration does not name, and when it has no [freshness]
DEFAULT_MAX_AGE = {
    Kind.EEW: "10m", Kind.EARTHQUAKE: "3h", Kind.TSUNAMI: "12h",
    Kind.WEATHER_WARNING: "24h", Kind.LANDSLIDE: "24h", Kind.HEAVY_RAIN: "3h",
    Kind.VOLCANO: "3d", Kind.EVACUATION: "2d", Kind.SHELTER: "7d", Kind.LIFELINE: "7d",
    Kind.CITY_NOTICE: "7d", Kind.DRILL: "1d", Kind.OTHER: "1d",
}
#: how far ahead of our clock a document may say it was issued (``[freshness] clock_skew``)
DEFAULT_CLOCK_SKEW = "10m"
#: a notice that says it holds longer than this from now is questioned
MAX_AHEAD = dt.timedelta(days=366)


def parse_duration(text: str, key: str, path: str | None = None) -> dt.timedelta:
    m = _DURATION.match(str(text))
    if not m:
        raise ConfigError(f"{text!r} is not a duration; write it as 30m, 6h or 2d", key=key,
                          path=path)
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def ago(delta: dt.timedelta) -> str:
    """A person's way of saying how long ago: 10 years, 3 days, 5 hours, 40 minutes."""
    s = max(0, int(delta.total_seconds()))
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600),
                       ("minute", 60)):
        if s >= size:
            n = s // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{s} seconds"


@dataclass(frozen=True)
class Freshness:
    max_age: Mapping[Kind, dt.timedelta]
    clock_skew: dt.timedelta = dt.timedelta(minutes=10)

    @classmethod
    def from_config(cls, config: Config) -> Freshness:
        section = dict(config.section("freshness"))
        ages = {kind: parse_duration(v, f"freshness.{kind.value}")
                for kind, v in DEFAULT_MAX_AGE.items()}
        skew = parse_duration(section.pop("clock_skew", DEFAULT_CLOCK_SKEW),
                              "freshness.clock_skew", config.path)
        for key, value in section.items():
            try:
                kind = Kind(key)
            except ValueError:
                raise ConfigError(f"unknown kind; kinds: {', '.join(k.value for k in Kind)}",
                                  key=f"freshness.{key}", path=config.path) from None
            ages[kind] = parse_duration(value, f"freshness.{key}", config.path)
        return cls(max_age=ages, clock_skew=skew)

    def future_reason(self, alert: Alert, now: dt.datetime) -> str | None:
        """Why ``alert`` cannot be judged against ``now`` (it says it was issued in
        the future, or holds for more than a year), or None."""
        if alert.issued - now > self.clock_skew:
            return (f"from the future: issued {jst_minutes(alert.issued)}, "
                    f"{ago(alert.issued - now)} from now (more than the "
                    f"{ago(self.clock_skew)} of clock skew allowed); check the sender's "
                    "clock and ours")
        if alert.expires is not None and alert.expires - now > MAX_AHEAD:
            return (f"from the future: expires {jst_minutes(alert.expires)}, "
                    f"{ago(alert.expires - now)} from now (more than a year); check the "
                    "document")
        return None

    def stale_reason(self, alert: Alert, now: dt.datetime) -> str | None:
        """Why ``alert`` is not current at ``now``, or None when it is."""
        if alert.expires is not None and alert.expires <= now:
            return (f"stale: expired {jst_minutes(alert.expires)}, {ago(now - alert.expires)} "
                    "ago")
        if alert.source == "cap" and alert.expires is not None:
            return None  # a CAP alert says itself until when it holds
        limit = self.max_age.get(alert.kind, dt.timedelta(days=1))
        age = now - alert.issued
        if age > limit:
            return (f"stale: issued {jst_minutes(alert.issued)}, {ago(age)} ago "
                    f"({alert.kind.value} notices are current for {ago(limit)})")
        return None


def jst_minutes(value: dt.datetime) -> str:
    """``2016-09-01 09:55 JST``: a time in a reason an operator reads (a time
    beyond the calendar in JST, such as 9999-12-31 23:59 UTC, as it was given)."""
    local = in_jst(value)
    if local is None:
        return value.strftime("%Y-%m-%d %H:%M ") + (value.tzname() or "")
    return local.strftime("%Y-%m-%d %H:%M JST")

