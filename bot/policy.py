"""Policy: what happens to an ingested alert, as rules written in the configuration.

``[[policy.rules]]`` tables are tried in order; the first rule whose conditions
all hold decides. A rule without conditions matches everything. When no rule
matches, ``[policy] default_action`` (default "hold") applies.

Actions (:class:`~bot.domain.PolicyAction`):

``auto``    send without an operator
``hold``    store and wait for an operator's decision
``ignore``  record only (outside the jurisdiction, or noise)
``follow``  for updates, liftings and cancellations: decided by the store, which
            sends it automatically when the alert it refers to was sent, and
            otherwise only records it. The default rules give every update, lift and
            cancel "follow" first.

Conditions (all optional; lists mean "any of"). Those about a report's content
read its typed payload (:mod:`bot.domain.payloads`); an alert whose payload is of
another class does not match them (``flash = false`` does; ``changed`` in either
value does not: a CAP alert has no JMA 継続 flag, so it is never "unchanged"):

=====================  ===========================================================
``kind``               list of :class:`~bot.domain.Kind` values
``msg_type``           list of "alert", "update", "lift", "cancel"
``source``             list of sources ("jma", "cap", "rss", ...)
``in_jurisdiction``    bool
``test``               bool
``min_severity``       "minor" | "moderate" | "severe" | "extreme"
``min_intensity``      :class:`~bot.domain.Earthquake` ``local_max_intensity`` at
                       least this (:class:`~bot.domain.Intensity`: "0" .. "4", "5-",
                       "5+", "6-", "6+", "7", or 5弱 ...; "0" matches any reported
                       intensity, no minimum matches an earthquake without one)
``warning_levels``     some :class:`~bot.domain.WeatherWarning` ``warnings`` entry
                       has one of these levels (emergency, warning, advisory)
``warning_statuses``   ... and (same entry) one of these statuses (issued,
                       continued, lifted, upgraded, downgraded)
``alert_levels``       ... and (same entry) one of these 警戒レベル ("2" .. "5"; only
                       the R06 warnings, VPWW55-61, carry one)
``min_typhoon_probability``  :class:`~bot.domain.Typhoon` (VPTA50) ``max_percent``
                       at least this (0-100)
``typhoon_reports``    :class:`~bot.domain.Typhoon` ``report`` is one of these
                       ("probability", "forecast")
``tsunami_kinds``      some :class:`~bot.domain.Tsunami` ``areas`` entry (the
                       jurisdiction's coasts) has one of these kinds
``min_volcano_level``  :class:`~bot.domain.Volcano` ``level`` at least this (1-5)
``volcano_codes``      :class:`~bot.domain.Volcano` ``volcano_code`` is one of these
``flash``              :class:`~bot.domain.Volcano` ``flash`` equals this (噴火速報)
``statuses``           :class:`~bot.domain.Landslide` or Volcano ``status`` is one of
                       these
``changed``            :class:`~bot.domain.WeatherWarning` or Landslide ``changed``
                       equals this
``notice``             the ``notice`` of a seismic notice payload is one of these
                       (:mod:`bot.domain.payloads.seismic_notice`): nankai_investigating,
                       nankai_warning, nankai_advisory, nankai_ended, nankai_commentary,
                       nankai_call_ended, hokkaido_sanriku_subsequent, long_period,
                       hypocentre_update, activity, activity_nankai_copy,
                       offshore_tsunami
``min_long_period_class`` :class:`~bot.domain.LongPeriodMotion` ``local_class`` (the
                       city's area) at least this (1-4)
``forecast``           :class:`~bot.domain.EarlyWarning` ``forecast`` equals this
                       (緊急地震速報（予報）/（地震動予報）, not the warning)
=====================  ===========================================================
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import Config
from bot.domain import (
    Alert,
    AlertPayload,
    EarlyWarning,
    Earthquake,
    Intensity,
    Kind,
    Landslide,
    LandslideStatus,
    LongPeriodMotion,
    MegaquakeLevel,
    MegaquakeRegion,
    MsgType,
    PolicyAction,
    Severity,
    Tsunami,
    TsunamiKind,
    Typhoon,
    Volcano,
    VolcanoStatus,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.domain.intensity import CODES as INTENSITY_CODES
from bot.errors import ConfigError, ValidationError

ACTIONS = tuple(a.value for a in PolicyAction)
DEFAULT_ACTION = PolicyAction.HOLD
_LIST_KEYS = ("kind", "msg_type", "source", "warning_levels", "warning_statuses",
              "alert_levels", "tsunami_kinds", "volcano_codes", "statuses", "notice",
              "typhoon_reports")
_BOOL_KEYS = ("in_jurisdiction", "test", "flash", "changed", "forecast")
_KNOWN = {"name", "action", "min_severity", "min_intensity", "min_volcano_level",
          "min_long_period_class", "min_typhoon_probability", *_LIST_KEYS, *_BOOL_KEYS}
NOTICES = (*(f"{r.value}_{lv.value}" for r in MegaquakeRegion for lv in MegaquakeLevel),
           "long_period", "hypocentre_update", "activity", "activity_nankai_copy",
           "offshore_tsunami")
_ENUMS: dict[str, type[enum.Enum]] = {
    "kind": Kind, "msg_type": MsgType, "warning_levels": WarningLevel,
    "warning_statuses": WarningStatus, "tsunami_kinds": TsunamiKind,
}
_VOCAB: dict[str, tuple[str, ...]] = {
    **{key: tuple(str(m.value) for m in vocab) for key, vocab in _ENUMS.items()},
    "statuses": tuple(dict.fromkeys([*LandslideStatus, *VolcanoStatus])),
    "notice": NOTICES,
    "alert_levels": ("2", "3", "4", "5"),
    "typhoon_reports": ("probability", "forecast"),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    name: str
    action: PolicyAction
    kind: frozenset[Kind] | None = None
    msg_type: frozenset[MsgType] | None = None
    source: frozenset[str] | None = None
    in_jurisdiction: bool | None = None
    test: bool | None = None
    min_severity: Severity | None = None
    min_intensity: Intensity | None = None
    warning_levels: frozenset[WarningLevel] | None = None
    warning_statuses: frozenset[WarningStatus] | None = None
    alert_levels: frozenset[str] | None = None
    min_typhoon_probability: int | None = None
    typhoon_reports: frozenset[str] | None = None
    tsunami_kinds: frozenset[TsunamiKind] | None = None
    min_volcano_level: int | None = None
    volcano_codes: frozenset[str] | None = None
    flash: bool | None = None
    statuses: frozenset[str] | None = None
    changed: bool | None = None
    notice: frozenset[str] | None = None
    min_long_period_class: int | None = None
    forecast: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", PolicyAction(self.action))

    def mismatch(self, alert: Alert) -> str | None:
        """None when the rule matches, else the first condition that fails."""
        p = alert.payload
        volcano = p if isinstance(p, Volcano) else None
        checks: list[tuple[str, bool]] = [
            ("kind", self.kind is None or alert.kind in self.kind),
            ("msg_type", self.msg_type is None or alert.msg_type in self.msg_type),
            ("source", self.source is None or alert.source in self.source),
            ("in_jurisdiction",
             self.in_jurisdiction is None or alert.in_jurisdiction == self.in_jurisdiction),
            ("test", self.test is None or alert.test == self.test),
            ("min_severity", self.min_severity is None or alert.severity >= self.min_severity),
            ("min_intensity", self.min_intensity is None or (
                isinstance(p, Earthquake) and p.local_max_intensity is not None
                and p.local_max_intensity >= self.min_intensity)),
            ("warnings", self._warnings_match(p)),
            ("min_typhoon_probability", self.min_typhoon_probability is None or (
                isinstance(p, Typhoon) and p.max_percent is not None
                and p.max_percent >= self.min_typhoon_probability)),
            ("typhoon_reports", self.typhoon_reports is None or (
                isinstance(p, Typhoon) and p.report in self.typhoon_reports)),
            ("tsunami_kinds", self.tsunami_kinds is None or (
                isinstance(p, Tsunami) and any(a.kind in self.tsunami_kinds for a in p.areas))),
            ("min_volcano_level", self.min_volcano_level is None or (
                volcano is not None and volcano.level is not None
                and volcano.level >= self.min_volcano_level)),
            ("volcano_codes", self.volcano_codes is None
             or (volcano is not None and volcano.volcano_code in self.volcano_codes)),
            ("flash", self.flash is None or (volcano is not None and volcano.flash) == self.flash),
            ("statuses", self.statuses is None or (
                isinstance(p, Landslide | Volcano) and p.status.value in self.statuses)),
            # Only JMA says whether a report changed: other payloads match neither value.
            ("changed", self.changed is None or (
                isinstance(p, WeatherWarning | Landslide) and p.changed == self.changed)),
            ("notice", self.notice is None or getattr(p, "notice", None) in self.notice),
            ("min_long_period_class", self.min_long_period_class is None or (
                isinstance(p, LongPeriodMotion) and p.local_class is not None
                and p.local_class >= self.min_long_period_class)),
            ("forecast", self.forecast is None or (
                isinstance(p, EarlyWarning) and p.forecast == self.forecast)),
        ]
        return next((name for name, ok in checks if not ok), None)

    def _warnings_match(self, payload: AlertPayload) -> bool:
        if self.warning_levels is None and self.warning_statuses is None \
                and self.alert_levels is None:
            return True
        return isinstance(payload, WeatherWarning) and any(
            (self.warning_levels is None or w.level in self.warning_levels)
            and (self.warning_statuses is None or w.status in self.warning_statuses)
            and (self.alert_levels is None or str(w.alert_level) in self.alert_levels)
            for w in payload.warnings
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    action: PolicyAction
    rule_name: str
    reason: str


def evaluate(alert: Alert, rules: Sequence[Rule],
             default_action: PolicyAction | str = DEFAULT_ACTION) -> Decision:
    """The first matching rule's action, else ``default_action``."""
    for rule in rules:
        if rule.mismatch(alert) is None:
            return Decision(action=rule.action, rule_name=rule.name,
                            reason=f"{alert.kind.value} {alert.msg_type.value} "
                                   f"{alert.source_id!r} matched rule {rule.name!r}")
    return Decision(action=PolicyAction(default_action), rule_name="default",
                    reason=f"no rule matched {alert.kind.value} {alert.msg_type.value} "
                           f"{alert.source_id!r}; default action")


def default_action(config: Config) -> PolicyAction:
    value = config.section("policy").get("default_action", DEFAULT_ACTION.value)
    if value not in ACTIONS:
        raise ConfigError(f"must be one of {', '.join(ACTIONS)}", key="policy.default_action",
                          path=config.path)
    return PolicyAction(value)


def load_rules(config: Config) -> list[Rule]:
    """Validate ``[[policy.rules]]``; a problem raises ConfigError naming the key."""
    section = config.section("policy")
    default_action(config)
    rows = section.get("rules", [])
    if not isinstance(rows, list):
        raise ConfigError("must be an array of tables", key="policy.rules", path=config.path)
    rules = []
    names: set[str] = set()
    for i, row in enumerate(rows):
        rules.append(_rule(row, f"policy.rules[{i}]", config.path, names))
    return rules


def _rule(row: Any, prefix: str, path: str, names: set[str]) -> Rule:
    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, key=f"{prefix}.{key}" if key else prefix, path=path)

    if not isinstance(row, Mapping):
        raise fail("", "must be a table")
    for key in row:
        if key not in _KNOWN:
            raise fail(key, f"unknown condition (known: {', '.join(sorted(_KNOWN))})")
    name = row.get("name")
    if not isinstance(name, str) or not name:
        raise fail("name", "every rule needs a non-empty name")
    if name in names:
        raise fail("name", f"rule name {name!r} is used twice")
    names.add(name)
    action = row.get("action")
    if action not in ACTIONS:
        raise fail("action", f"must be one of {', '.join(ACTIONS)}")
    kwargs: dict[str, Any] = {"name": name, "action": PolicyAction(action)}
    for key in _LIST_KEYS:
        if key in row:
            value = row[key]
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, str) for v in value):
                raise fail(key, "must be a string or a non-empty list of strings")
            allowed = _VOCAB.get(key)
            bad = [v for v in value if allowed is not None and v not in allowed]
            if bad:
                raise fail(key, f"unknown value {bad[0]!r} (known: {', '.join(allowed or ())})")
            vocab = _ENUMS.get(key)
            kwargs[key] = frozenset(vocab(v) for v in value) if vocab else frozenset(value)
    for key in _BOOL_KEYS:
        if key in row:
            if not isinstance(row[key], bool):
                raise fail(key, "must be true or false")
            kwargs[key] = row[key]
    if "min_severity" in row:
        try:
            kwargs["min_severity"] = Severity[str(row["min_severity"]).upper()]
        except KeyError:
            raise fail("min_severity", "must be minor, moderate, severe or extreme") from None
    if "min_intensity" in row:
        try:
            kwargs["min_intensity"] = Intensity.parse(str(row["min_intensity"]))
        except ValidationError as exc:
            raise fail("min_intensity", f"must be one of {', '.join(INTENSITY_CODES)} "
                                        f"({exc})") from None
    if "min_volcano_level" in row:
        level = row["min_volcano_level"]
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
            raise fail("min_volcano_level", "must be an integer from 1 to 5")
        kwargs["min_volcano_level"] = level
    if "min_long_period_class" in row:
        value = row["min_long_period_class"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            raise fail("min_long_period_class", "must be an integer from 1 to 4")
        kwargs["min_long_period_class"] = value
    if "min_typhoon_probability" in row:
        pct = row["min_typhoon_probability"]
        if isinstance(pct, bool) or not isinstance(pct, int) or not 0 <= pct <= 100:
            raise fail("min_typhoon_probability", "must be an integer from 0 to 100 (percent)")
        kwargs["min_typhoon_probability"] = pct
    return Rule(**kwargs)
