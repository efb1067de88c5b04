"""Renewable leases in the database: one owner at a time for a named resource.

Each channel's sending (one bot token, one rate limit) is owned by one worker
at a time. A worker renews its lease well before it expires; a worker that dies
stops renewing, and another takes the lease over once it has expired.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from bot.db.schema import leases, utcnow


def try_acquire(conn: sa.Connection, name: str, holder: str, ttl: float) -> bool:
    """Take or renew ``name`` for ``holder``; True if ``holder`` now owns it."""
    now = utcnow()
    expires = now + dt.timedelta(seconds=ttl)
    result = conn.execute(
        sa.update(leases)
        .where(leases.c.name == name, sa.or_(leases.c.holder == holder, leases.c.expires_at < now))
        .values(holder=holder, expires_at=expires)
    )
    if result.rowcount:
        return True
    exists = conn.execute(sa.select(leases.c.holder).where(leases.c.name == name)).first()
    if exists is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(leases).values(name=name, holder=holder, expires_at=expires))
    except sa.exc.IntegrityError:
        return False
    return True


def release(conn: sa.Connection, name: str, holder: str) -> None:
    conn.execute(sa.delete(leases).where(leases.c.name == name, leases.c.holder == holder))


def holder_of(conn: sa.Connection, name: str) -> str | None:
    row = conn.execute(sa.select(leases.c.holder, leases.c.expires_at).where(
        leases.c.name == name)).first()
    if row is None or row.expires_at < utcnow():
        return None
    return str(row.holder)
