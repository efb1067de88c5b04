"""``[safety]`` of the configuration: which alerts call for a safety check, when the
reminder goes, and whom to call for help.

``[[safety.triggers]]`` take the conditions of ``[[policy.rules]]`` (kind,
min_intensity, tsunami_kinds ... see :mod:`bot.policy`; no ``action``), plus
``min_evacuation_level`` (3-5) and ``wards`` (JIS codes: the check goes to these
wards instead of the alert's, e.g. the coastal wards for a tsunami warning). For
an earthquake with intensities per ward, the check goes to the wards where the
intensity reached ``min_intensity``. Only new alerts (msg_type alert) in the
jurisdiction count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from bot.domain import Alert, Earthquake, Evacuation, MsgType
from bot.errors import ConfigError, UnknownWardError
from bot.freshness import parse_duration
from bot.policy import Rule, _rule


@dataclass(frozen=True, kw_only=True, slots=True)
class Trigger:
    rule: Rule
    min_evacuation_level: int | None = None
    wards: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.rule.name

    def matches(self, alert: Alert) -> bool:
        if alert.msg_type is not MsgType.ALERT or not alert.in_jurisdiction:
            return False
        if self.rule.mismatch(alert) is not None:
            return False
        if self.min_evacuation_level is not None:
            p = alert.payload
            return isinstance(p, Evacuation) and int(p.level) >= self.min_evacuation_level
        return True

    def affected_wards(self, alert: Alert, city: tuple[str, ...]) -> tuple[str, ...]:
        """The wards the check goes to, in configuration order."""
        if self.wards:
            chosen = set(self.wards)
        else:
            chosen = set(alert.wards or city)
            p = alert.payload
            floor = self.rule.min_intensity
            if isinstance(p, Earthquake) and p.ward_intensity and floor is not None:
                chosen = {w for w, i in p.ward_intensity.items() if i >= floor}
        return tuple(w for w in city if w in chosen)


@dataclass(frozen=True, kw_only=True, slots=True)
class Desk:
    phone: str
    names: Mapping[str, str]

    def name(self, language: str, fallback: tuple[str, ...] = ("en", "ja")) -> str:
        for tag in (language, *fallback):
            if self.names.get(tag):
                return self.names[tag]
        return next(iter(self.names.values()), "")


@dataclass(frozen=True, kw_only=True)
class SafetySettings:
    enabled: bool = False
    triggers: tuple[Trigger, ...] = ()
    # After the alert is accepted: people act on the alert first, the next report of
    # the same earthquake is in, and a cancellation in time means no check at all.
    delay: dt.timedelta = dt.timedelta(minutes=2)
    reminder_after: dt.timedelta = dt.timedelta(minutes=30)
    window: dt.timedelta = dt.timedelta(hours=6)  # alerts older than this are history
    interval_seconds: float = 5.0
    emergency: str = "119"
    police: str = "110"
    visitor_hotline: str = ""
    desks: tuple[Desk, ...] = field(default_factory=tuple)

    def trigger_for(self, alert: Alert) -> Trigger | None:
        return next((t for t in self.triggers if t.matches(alert)), None)


_OWN = {"name", "min_evacuation_level", "wards"}
_KEYS = {"enabled", "triggers", "delay", "reminder_after", "window", "interval_seconds",
         "emergency", "police", "visitor_hotline", "desks"}


def load_safety(config: Config) -> SafetySettings:
    """``[safety]`` validated; a problem raises ConfigError naming the key."""
    section = config.section("safety")
    path = config.path

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, key=f"safety.{key}", path=path)

    for key in section:
        if key not in _KEYS:
            raise fail(key, f"unknown setting (known: {', '.join(sorted(_KEYS))})")
    enabled = section.get("enabled", False)
    if not isinstance(enabled, bool):
        raise fail("enabled", "must be true or false")
    rows = section.get("triggers", [])
    if not isinstance(rows, list):
        raise fail("triggers", "must be an array of tables")
    names: set[str] = set()
    triggers = tuple(_trigger(row, i, config, names) for i, row in enumerate(rows))
    texts: dict[str, str] = {}
    for key in ("emergency", "police", "visitor_hotline"):
        value = section.get(key, SafetySettings.__dataclass_fields__[key].default)
        if not isinstance(value, str):
            raise fail(key, "must be a phone number as a string")
        texts[key] = value.strip()
    desks = []
    for i, row in enumerate(section.get("desks", [])):
        names_ = row.get("names") if isinstance(row, Mapping) else None
        phone = row.get("phone") if isinstance(row, Mapping) else None
        if not isinstance(phone, str) or not phone.strip() or not isinstance(names_, Mapping) \
                or not names_ or not all(isinstance(v, str) for v in names_.values()):
            raise fail(f"desks[{i}]", "needs phone = \"…\" and names = { ja = \"…\", en = \"…\" }")
        desks.append(Desk(phone=phone.strip(), names=dict(names_)))
    interval = section.get("interval_seconds", 5.0)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise fail("interval_seconds", "must be a positive number of seconds")
    return SafetySettings(
        enabled=enabled, triggers=triggers,
        delay=parse_duration(str(section.get("delay", "2m")), "safety.delay", path),
        reminder_after=parse_duration(str(section.get("reminder_after", "30m")),
                                      "safety.reminder_after", path),
        window=parse_duration(str(section.get("window", "6h")), "safety.window", path),
        interval_seconds=float(interval), desks=tuple(desks), **texts)


def _trigger(row: Any, i: int, config: Config, names: set[str]) -> Trigger:
    prefix = f"safety.triggers[{i}]"
    if not isinstance(row, Mapping):
        raise ConfigError("must be a table", key=prefix, path=config.path)
    if "action" in row:
        raise ConfigError("a trigger has no action", key=f"{prefix}.action", path=config.path)
    rule = _rule({k: v for k, v in row.items() if k not in _OWN - {"name"}} | {"action": "auto"},
                 prefix, config.path, names)
    level = row.get("min_evacuation_level")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)
                              or not 3 <= level <= 5):
        raise ConfigError("must be 3, 4 or 5", key=f"{prefix}.min_evacuation_level",
                          path=config.path)
    wards = row.get("wards", [])
    try:
        if not isinstance(wards, list):
            raise UnknownWardError(str(wards))
        codes = config.check_wards([str(w) for w in wards]) if wards else ()
    except UnknownWardError as exc:
        raise ConfigError(f"unknown ward {exc.code!r}; use the JIS codes of [[wards]]",
                          key=f"{prefix}.wards", path=config.path) from None
    return Trigger(rule=rule, min_evacuation_level=level, wards=codes)
