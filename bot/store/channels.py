"""What operators read about each channel's sender: its state as the worker holding
the channel last wrote it (``channel_states``), who holds it, and its queue."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.db.schema import channel_states, deliveries, leases
from bot.leases import db_now

d = deliveries


def states(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    """channel → {state, since, detail, worker, updated_at}."""
    return {str(r.channel): {"state": r.state, "since": r.since, "detail": r.detail,
                             "worker": r.worker, "updated_at": r.updated_at}
            for r in conn.execute(sa.select(channel_states))}


def holders(conn: sa.Connection) -> dict[str, str]:
    """channel → the worker holding its lease now."""
    now = db_now(conn)
    return {str(n).removeprefix("channel:"): str(h) for n, h in conn.execute(
        sa.select(leases.c.name, leases.c.holder).where(
            leases.c.name.like("channel:%"), leases.c.expires_at >= now))}


def queues(conn: sa.Connection) -> dict[str, dict[str, int]]:
    """channel → rows pending, in flight, and open with an unknown earlier outcome
    (a send that timed out: it may have arrived)."""
    out: dict[str, dict[str, int]] = {}
    unknown = sa.func.sum(sa.case((d.c.timeouts > 0, 1), else_=0))
    for ch, status, n, u in conn.execute(
            sa.select(d.c.channel, d.c.status, sa.func.count(), unknown)
            .where(d.c.status.in_(("pending", "in_flight"))).group_by(d.c.channel, d.c.status)):
        q = out.setdefault(str(ch), {"pending": 0, "in_flight": 0, "unknown_outcome": 0})
        q[str(status)] = int(n)
        q["unknown_outcome"] += int(u or 0)
    return out
