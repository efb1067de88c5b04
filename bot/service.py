"""The service: one place that holds configuration, database, renderer and channels,
and carries alerts through their life (issue, approve, accept, update, cancel)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.config import Config, Settings
from bot.db.schema import deliveries, utcnow
from bot.domain import Alert, AlertStatus, DeliveryStatus, MsgType
from bot.errors import OperatorError
from bot.fanout import (
    BROADCAST,
    ChannelPlan,
    plan_counts,
    render_all,
    write_deliveries,
)
from bot.render import Renderer
from bot.store import alerts as alert_store
from channels import registry
from channels.base import Channel, FanoutMode

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
        plans[name] = ChannelPlan(name=name, limits=limits, mode=cls.spec.fanout,
                                  broadcast_languages=langs)
    return plans


@dataclass
class Service:
    config: Config
    settings: Settings
    engine: sa.Engine
    renderer: Renderer
    plans: dict[str, ChannelPlan] = field(default_factory=dict)

    # ------------------------------------------------------------ issuing

    def submit(self, alert: Alert, *, operator: str, action: str,
               require_approval: bool = False, rule: str | None = None) -> int:
        """Store an alert. ``action``: "auto" (accept now), "hold" (wait for an
        operator), "ignore" (record only). Returns the alert id."""
        with self.engine.begin() as conn:
            return self.submit_in(conn, alert, operator=operator, action=action,
                                  require_approval=require_approval, rule=rule)

    def submit_in(self, conn: sa.Connection, alert: Alert, *, operator: str, action: str,
                  require_approval: bool = False, rule: str | None = None) -> int:
        """:meth:`submit` inside the caller's transaction."""
        if action == "ignore":
            status = AlertStatus.IGNORED
        elif action == "hold":
            status = AlertStatus.HELD
        elif require_approval:
            status = AlertStatus.PENDING_APPROVAL
        else:
            status = AlertStatus.QUEUED
        ref_id = self._resolve_reference(conn, alert)
        alert_id = alert_store.insert_alert(
            conn, alert, status=status.value, created_by=operator, policy_action=action,
            policy_rule=rule, ref_alert_id=ref_id)
        alert_store.audit(conn, operator, "issue", alert_id=alert_id, kind=alert.kind.value,
                          msg_type=alert.msg_type.value, status=status.value,
                          wards=list(alert.wards), test=alert.test, rule=rule)
        if status is AlertStatus.QUEUED:
            self._accept(conn, alert_id)
        return alert_id

    def _resolve_reference(self, conn: sa.Connection, alert: Alert) -> int | None:
        if alert.msg_type is MsgType.ALERT:
            return None
        row = alert_store.find_original(conn, alert.references)
        return int(row.id) if row else None

    def _accept(self, conn: sa.Connection, alert_id: int) -> dict[str, int]:
        """Render and write delivery rows: the alert is now safe whatever happens."""
        row = alert_store.get_row(conn, alert_id, lock=True)
        alert = alert_store.row_to_alert(row)
        render_all(conn, alert, alert_id, self.renderer, self.plans, self.config.languages)
        reply_to = None
        if alert.msg_type is not MsgType.ALERT and row.ref_alert_id is not None:
            reply_to = self._stop_original(conn, int(row.ref_alert_id), alert_id)
        counts = write_deliveries(conn, alert, alert_id, self.plans, reply_to=reply_to)
        alert_store.set_status(conn, alert_id, AlertStatus.QUEUED)
        log.info("alert %d accepted: %s", alert_id,
                 ", ".join(f"{k} {v}" for k, v in counts.items()) or "no channels",
                 extra={"alert_id": alert_id})
        return counts

    def _stop_original(self, conn: sa.Connection, original_id: int,
                       follow_up_id: int) -> dict[tuple[str, str], int]:
        """Stop the original's pending rows; return where it went out (or is going
        out right now), for follow-ups: (channel, user id) → delivery id for
        per-chat channels, (channel, language) → delivery id for broadcast ones."""
        n = conn.execute(sa.update(deliveries).where(
            deliveries.c.alert_id == original_id,
            deliveries.c.status == DeliveryStatus.PENDING.value).values(
            status=DeliveryStatus.CANCELLED.value, updated_at=utcnow(),
            last_error=f"superseded by alert {follow_up_id}")).rowcount
        if n:
            log.info("alert %d: %d pending deliveries stopped by alert %d", original_id, n,
                     follow_up_id, extra={"alert_id": original_id})
        out: dict[tuple[str, str], int] = {}
        for r in conn.execute(sa.select(deliveries.c.id, deliveries.c.channel,
                                        deliveries.c.language, deliveries.c.recipients).where(
                deliveries.c.alert_id == original_id,
                deliveries.c.status.in_([DeliveryStatus.SENT.value,
                                         DeliveryStatus.IN_FLIGHT.value]))):
            plan = self.plans.get(r.channel)
            if plan is None:
                continue
            if plan.mode == BROADCAST:
                out[(r.channel, r.language)] = int(r.id)
            else:
                for user in r.recipients:
                    out[(r.channel, user)] = int(r.id)
        return out

    # ------------------------------------------------------------ operators

    def approve(self, alert_id: int, operator: str) -> None:
        with self.engine.begin() as conn:
            row = alert_store.get_row(conn, alert_id, lock=True)
            if row.status not in (AlertStatus.PENDING_APPROVAL.value, AlertStatus.HELD.value):
                raise OperatorError(f"alert {alert_id} is {row.status}; only alerts waiting "
                                    "for approval can be approved")
            if row.status == AlertStatus.PENDING_APPROVAL.value and row.created_by == operator:
                raise OperatorError(f"alert {alert_id} was issued by {operator}; a different "
                                    "operator must approve it (two-person rule)")
            alert_store.set_status(conn, alert_id, AlertStatus.QUEUED, approved_by=operator)
            alert_store.audit(conn, operator, "approve", alert_id=alert_id)
            self._accept(conn, alert_id)

    def reject(self, alert_id: int, operator: str, reason: str) -> None:
        with self.engine.begin() as conn:
            row = alert_store.get_row(conn, alert_id, lock=True)
            if row.status not in (AlertStatus.PENDING_APPROVAL.value, AlertStatus.HELD.value):
                raise OperatorError(f"alert {alert_id} is {row.status}; only alerts waiting "
                                    "for approval can be rejected")
            alert_store.set_status(conn, alert_id, AlertStatus.REJECTED, reason=reason)
            alert_store.audit(conn, operator, "reject", alert_id=alert_id, reason=reason)

    def progress(self, alert_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(
                deliveries.c.channel, deliveries.c.language, deliveries.c.status,
                sa.func.count(), sa.func.sum(deliveries.c.recipient_count)).where(
                deliveries.c.alert_id == alert_id).group_by(
                deliveries.c.channel, deliveries.c.language, deliveries.c.status))
            out: dict[str, Any] = {}
            for ch, lang, status, n, recips in rows:
                out.setdefault(ch, {}).setdefault(lang, {})[status] = {
                    "rows": int(n), "recipients": int(recips or 0)}
            return out

    def plan(self, alert: Alert) -> dict[str, dict[str, int]]:
        with self.engine.connect() as conn:
            return plan_counts(conn, alert, self.plans)
