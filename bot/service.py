"""The service: one place that holds configuration, database, renderer and channels.
The life of an alert is :mod:`bot.lifecycle`'s."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.config import Config, Settings
from bot.health import Readiness
from bot.render import Renderer
from bot.store import deliveries as ledger
from bot.store.fanout import ChannelPlan
from channels import registry
from channels.base import Channel, FanoutMode

if TYPE_CHECKING:
    from bot.lifecycle import Lifecycle

log = logging.getLogger(__name__)


def channel_plans(config: Config, channels: Mapping[str, Channel] | None = None
                  ) -> dict[str, ChannelPlan]:
    """How each enabled channel receives alerts, with its effective limits: those of
    the channel instance when it is given (the one the dispatcher paces), else what
    ``[channels.<name>]`` makes of the platform's limits (``limits_for``, the same
    code that builds the instance), so the plan an operator sees needs no secrets
    and shows the rate the pacer keeps."""
    plans = {}
    for name, ch in config.channels.items():
        if not ch.enabled:
            continue
        cls = registry.channel_class(name)
        built = (channels or {}).get(name)
        limits = built.limits if built is not None else cls.limits_for(ch.options)
        langs = tuple(ch.options.get("languages", config.languages)) \
            if cls.spec.fanout is FanoutMode.BROADCAST else ()
        # a channel chat per language (Telegram's broadcast channels): those languages,
        # the kinds it takes, and city-wide alerts only
        targets = cls.broadcast_targets(ch.options)
        if targets:
            langs = tuple(targets)
        plans[name] = ChannelPlan(name=name, limits=limits, mode=cls.spec.fanout,
                                  broadcast_languages=langs, broadcast_recipients=targets,
                                  kinds=cls.broadcast_kinds(ch.options),
                                  city_wide_only=bool(targets),
                                  city_wards=frozenset(config.ward_codes))
    return plans


@dataclass
class Service:
    """The wiring: configuration, database, renderer and channel plans. An alert's
    state changes go through :attr:`lifecycle`."""

    config: Config
    settings: Settings
    engine: sa.Engine
    renderer: Renderer
    plans: dict[str, ChannelPlan] = field(default_factory=dict)
    readiness: Readiness = field(default_factory=Readiness)

    def __post_init__(self) -> None:
        from bot.logs import remember_secrets

        # stored errors and the audit log are redacted with the same secrets as logs
        remember_secrets(s.get() for s in self.settings.secrets.values())

    @cached_property
    def lifecycle(self) -> Lifecycle:
        from bot.lifecycle import Lifecycle

        return Lifecycle(self)

    @property
    def two_person_rule(self) -> bool:
        return bool(self.config.section("operators").get("two_person_rule", True))

    def progress(self, alert_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return ledger.progress(conn, alert_id)
