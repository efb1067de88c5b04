"""What ``/metrics`` reads from the database at each scrape (:mod:`bot.metrics`), and
the acceptance time of alerts on their first send: one grouped query each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa

from bot.db.schema import alerts, deliveries, feed_state, leases
from bot.domain import DeliveryStatus


def queue_depth(conn: sa.Connection) -> list[tuple[str, int, int]]:
    """(channel, priority, pending rows)."""
    d = deliveries
    return [(str(c), int(p), int(n)) for c, p, n in conn.execute(
        sa.select(d.c.channel, d.c.priority, sa.func.count())
        .where(d.c.status == DeliveryStatus.PENDING.value).group_by(d.c.channel, d.c.priority))]


def feeds(conn: sa.Connection) -> list[tuple[str, dt.datetime | None, int]]:
    """(feed, last success, failed polls in a row)."""
    return [(str(n), last, int(failed or 0)) for n, last, failed in conn.execute(sa.select(
        feed_state.c.name, feed_state.c.last_success_at, feed_state.c.consecutive_failures))]


def lease_holders(conn: sa.Connection, prefix: str, now: dt.datetime
                  ) -> list[tuple[str, str]]:
    """(lease name without ``prefix``, holder) of the unexpired leases named so."""
    return [(str(name)[len(prefix):], str(holder)) for name, holder in conn.execute(
        sa.select(leases.c.name, leases.c.holder).where(
            leases.c.name.startswith(prefix), leases.c.expires_at > now))]


def alerts_by_status(conn: sa.Connection) -> list[tuple[str, int]]:
    return [(str(s), int(n)) for s, n in conn.execute(
        sa.select(alerts.c.status, sa.func.count()).group_by(alerts.c.status))]


def accepted_at(conn: sa.Connection, channel: str, alert_ids: Iterable[int]
                ) -> dict[int, dt.datetime]:
    """When each alert's rows on ``channel`` were written (its acceptance there): the
    time of its first row, found by id in the (alert_id, status, channel, …) index,
    so the alert's other rows are not read."""
    d = deliveries
    first = (sa.select(d.c.alert_id, sa.func.min(d.c.id).label("id"))
             .where(d.c.channel == channel, d.c.alert_id.in_(list(alert_ids)))
             .group_by(d.c.alert_id).subquery())
    return {int(a): t for a, t in conn.execute(
        sa.select(d.c.alert_id, d.c.created_at).join(first, d.c.id == first.c.id))
        if t is not None}
