"""Fan-out: from an accepted alert to its delivery rows, inside the caller's transaction.

One delivery row per unit of sending: one Telegram message per chat, one LINE
multicast per at most 500 users of one language, one X post (or thread) per
language (or one post per language in that language's Telegram channel, to
its channel chat). Per-chat rows are written with a single ``INSERT … SELECT`` so the
subscribers never pass through Python; LINE batches stream through in id order.
Memory does not grow with the number of subscribers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot import wakeup
from bot.db.schema import deliveries, subscriber_wards, subscribers, utcnow
from bot.domain import Alert, DeliveryStatus
from channels.base import FanoutMode, Limits

# Short names for the modes a channel declares (channels.base.FanoutMode).
PER_RECIPIENT = FanoutMode.PER_RECIPIENT
BATCHED = FanoutMode.BATCHED
BROADCAST = FanoutMode.BROADCAST


@dataclass(frozen=True, kw_only=True)
class ChannelPlan:
    """How a channel receives alerts: its effective limits, and how recipients are
    grouped (both from the channel class, see bot.service.channel_plans)."""

    name: str
    limits: Limits
    mode: FanoutMode
    broadcast_languages: tuple[str, ...] = ()  # BROADCAST: one post per language
    # BROADCAST: the recipient per language (a Telegram channel chat); a language
    # missing here posts to the account's timeline ("timeline", X)
    broadcast_recipients: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # BROADCAST: the alert kinds it takes (None: every public kind)
    kinds: frozenset[str] | None = None
    # BROADCAST: city-wide alerts only (a ward-targeted alert goes per chat only);
    # city_wards: every ward of the city, so that an alert naming them all is city-wide
    city_wide_only: bool = False
    city_wards: frozenset[str] = frozenset()

    def takes(self, alert: Alert) -> bool:
        """Whether a new BROADCAST post is made for ``alert`` (a follow-up goes
        wherever its original went)."""
        if alert.test or not alert.payload.PUBLIC:
            return False  # public posts never carry drills, nor what is addressed to each
        if self.kinds is not None and alert.kind.value not in self.kinds:
            return False
        return not (self.city_wide_only and alert.wards
                    and not set(alert.wards) >= self.city_wards)


def _subscriber_filter(alert: Alert, channel: str) -> list[sa.ColumnElement[bool]]:
    s = subscribers
    conds: list[sa.ColumnElement[bool]] = [
        s.c.channel == channel,
        s.c.active.is_(True),
        s.c.kinds_mask.op("&")(alert.kind.bit) != 0,
        s.c.min_severity <= int(alert.severity),
    ]
    if alert.test:
        conds.append(s.c.test.is_(True))
    if alert.wards:
        conds.append(sa.exists().where(
            subscriber_wards.c.subscriber_id == s.c.id,
            subscriber_wards.c.ward.in_(list(alert.wards)),
        ))
    return conds


def _json_array(conn: sa.Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return sa.func.json_build_array(column)
    return sa.func.json_array(column)


def write_deliveries(
    conn: sa.Connection, alert: Alert, alert_id: int, channels: Mapping[str, ChannelPlan], *,
    reply_to: Mapping[tuple[str, str], int] | None = None, batch_size: int = 5000,
    skip: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, int]:
    """Write the delivery rows for ``alert``; returns rows written per channel.
    ``skip``: per broadcast channel, the languages not to post and why (a budget);
    each gets a row, cancelled with that reason, so the ledger shows it."""
    now = utcnow()
    due = alert.send_at if alert.send_at and alert.send_at > now else now
    counts: dict[str, int] = {}
    for name, plan in channels.items():
        if plan.mode == PER_RECIPIENT and reply_to is None:
            counts[name] = _per_recipient_insert(conn, alert, alert_id, name, due, now)
        elif plan.mode in (PER_RECIPIENT, BATCHED):
            counts[name] = _batched(conn, alert, alert_id, plan, due, now, reply_to,
                                    batch_size)
        else:
            counts[name] = _broadcast(conn, alert, alert_id, plan, due, now, reply_to,
                                      (skip or {}).get(name, {}))
    if any(counts.values()):
        wakeup.due(conn)  # the running service looks as soon as this commits
    return counts


def _per_recipient_insert(conn: sa.Connection, alert: Alert, alert_id: int, channel: str,
                          due: dt.datetime, now: dt.datetime) -> int:
    s = subscribers
    key = sa.literal(f"{alert_id}-{channel[:2]}-") + sa.cast(s.c.id, sa.String)
    select = sa.select(
        sa.literal(alert_id), sa.literal(channel), s.c.language,
        _json_array(conn, s.c.user_id), s.c.user_id, sa.literal(1),
        sa.literal(DeliveryStatus.PENDING.value), sa.literal(alert.priority), sa.literal(0),
        sa.literal(due, deliveries.c.next_attempt_at.type), key,
        sa.literal(now, deliveries.c.created_at.type),
        sa.literal(now, deliveries.c.updated_at.type),
    ).where(*_subscriber_filter(alert, channel))
    cols = ["alert_id", "channel", "language", "recipients", "recipient", "recipient_count",
            "status",
            "priority", "attempts", "next_attempt_at", "idempotency_key", "created_at",
            "updated_at"]
    result = conn.execute(sa.insert(deliveries).from_select(cols, select),
                          execution_options={"preserve_rowcount": True})
    return int(result.rowcount or 0)


def _batched(conn: sa.Connection, alert: Alert, alert_id: int, plan: ChannelPlan,
             due: dt.datetime, now: dt.datetime,
             reply_to: Mapping[tuple[str, str], int] | None, batch_size: int) -> int:
    """Stream matching subscribers in (language, id) order into groups of at most
    ``recipients_per_request``. With ``reply_to`` (follow-ups), only recipients
    that the original reached (or is reaching) are included; per-chat rows reply
    to the original's delivery, whose message id the dispatcher reads once that
    delivery has an outcome."""
    s = subscribers
    per = plan.limits.recipients_per_request
    query = (sa.select(s.c.language, s.c.user_id).where(*_subscriber_filter(alert, plan.name))
             .order_by(s.c.language, s.c.id))
    pending: list[dict[str, Any]] = []
    written = 0
    group: list[str] = []
    group_lang: str | None = None

    def flush_group() -> None:
        nonlocal group
        if group and group_lang is not None:
            pending.append({
                "alert_id": alert_id, "channel": plan.name, "language": group_lang,
                "recipients": group, "recipient_count": len(group),
                "recipient": group[0] if len(group) == 1 else None,
                "status": DeliveryStatus.PENDING.value, "priority": alert.priority,
                "attempts": 0, "next_attempt_at": due,
                "idempotency_key": str(uuid.uuid4()), "created_at": now, "updated_at": now,
                "reply_to_delivery": reply_to.get((plan.name, group[0]))
                if reply_to is not None and per == 1 else None,
            })
        group = []

    for row in conn.execute(query.execution_options(yield_per=batch_size)):
        if reply_to is not None and (plan.name, row.user_id) not in reply_to:
            continue  # a follow-up goes only where the original went
        if row.language != group_lang or len(group) >= per:
            flush_group()
            group_lang = row.language
        group.append(row.user_id)
        if len(pending) >= batch_size // max(per, 1) + 1:
            conn.execute(sa.insert(deliveries), pending)
            written += len(pending)
            pending.clear()
    flush_group()
    if pending:
        conn.execute(sa.insert(deliveries), pending)
        written += len(pending)
    return written


def _broadcast(conn: sa.Connection, alert: Alert, alert_id: int, plan: ChannelPlan,
               due: dt.datetime, now: dt.datetime,
               reply_to: Mapping[tuple[str, str], int] | None,
               skip: Mapping[str, str]) -> int:
    if alert.test or not alert.payload.PUBLIC:
        return 0  # public posts never carry drills, nor what is addressed to each person
    if reply_to is None and not plan.takes(alert):
        return 0
    rows = []
    for language in plan.broadcast_languages:
        target = None
        if reply_to is not None:
            target = reply_to.get((plan.name, language))
            if target is None:
                continue
        reason = skip.get(language)
        recipient = plan.broadcast_recipients.get(language, "timeline")
        rows.append({
            "alert_id": alert_id, "channel": plan.name, "language": language,
            "recipients": [recipient], "recipient_count": 1,
            "status": (DeliveryStatus.CANCELLED if reason else DeliveryStatus.PENDING).value,
            "priority": alert.priority, "attempts": 0, "last_error": reason,
            "next_attempt_at": due, "idempotency_key": str(uuid.uuid4()), "created_at": now,
            "updated_at": now, "reply_to_delivery": target,
        })
    if rows:
        conn.execute(sa.insert(deliveries), rows)
    return len(rows)


def plan_counts(conn: sa.Connection, alert: Alert,
                channels: Mapping[str, ChannelPlan]) -> dict[str, dict[str, int]]:
    """Matching recipients per channel and language, before anything is written."""
    out: dict[str, dict[str, int]] = {}
    for name, plan in channels.items():
        if plan.mode == BROADCAST:
            out[name] = {} if not plan.takes(alert) else {
                lang: 1 for lang in plan.broadcast_languages}
            continue
        rows = conn.execute(sa.select(subscribers.c.language, sa.func.count()).where(
            *_subscriber_filter(alert, name)).group_by(subscribers.c.language))
        out[name] = {r[0]: int(r[1]) for r in rows}
    return out
