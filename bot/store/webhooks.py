"""Webhook events already handled: a replay or a redelivery is handled once."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from bot.db.schema import utcnow, webhook_events

KEEP = dt.timedelta(days=2)  # longer than any event age a webhook accepts


def first_time(engine: sa.Engine, channel: str, event_id: str) -> bool:
    """Record ``event_id``; False when it was recorded before (a replay or a
    redelivery already handled). Events older than :data:`KEEP` are forgotten."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(sa.delete(webhook_events).where(webhook_events.c.seen_at < now - KEEP))
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(webhook_events).values(
                    channel=channel, event_id=event_id[:100], seen_at=now))
        except sa.exc.IntegrityError:
            return False
    return True


def forget(engine: sa.Engine, channel: str, event_id: str) -> None:
    """Undo :func:`first_time` for an event whose handling failed (so that the
    platform's redelivery of it is handled)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(webhook_events).where(
            webhook_events.c.channel == channel, webhook_events.c.event_id == event_id[:100]))
