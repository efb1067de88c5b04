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
from bot.domain import Alert
from bot.render import Renderer
from bot.store import deliveries as ledger
from bot.store.fanout import BATCHED, BROADCAST, PER_RECIPIENT, ChannelPlan, plan_counts
from channels.base import LengthUnit, Limits

if TYPE_CHECKING:
    from bot.lifecycle import Lifecycle

log = logging.getLogger(__name__)

# The limits each platform publishes; the channel classes declare the same.
DEFAULT_LIMITS = {
    "telegram": Limits(text_limit=4096, length_unit=LengthUnit.UTF16, recipients_per_request=1,
                       messages_per_request=1, requests_per_second=30.0,
                       per_recipient_per_second=1.0),
    "line": Limits(text_limit=5000, length_unit=LengthUnit.UTF16, recipients_per_request=500,
                   messages_per_request=5, requests_per_second=200.0),
    "x": Limits(text_limit=280, length_unit=LengthUnit.WEIGHTED, recipients_per_request=1,
                messages_per_request=25, requests_per_second=1.0, posts_per_day=100),
}
MODES = {"telegram": PER_RECIPIENT, "line": BATCHED, "x": BROADCAST}


def channel_plans(config: Config, limits: Mapping[str, Limits] | None = None
                  ) -> dict[str, ChannelPlan]:
    plans = {}
    for name, ch in config.channels.items():
        if not ch.enabled:
            continue
        lim = (limits or {}).get(name) or DEFAULT_LIMITS[name]
        langs = tuple(ch.options.get("languages", config.languages)) if name == "x" else ()
        plans[name] = ChannelPlan(name=name, limits=lim, mode=MODES[name],
                                  broadcast_languages=langs)
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

    def plan(self, alert: Alert) -> dict[str, dict[str, int]]:
        with self.engine.connect() as conn:
            return plan_counts(conn, alert, self.plans)
