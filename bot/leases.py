"""Renewable leases in the database: one owner at a time for a named resource.

Each channel's sending (one bot token, one rate limit) is owned by one worker
at a time. Expiry is judged by the database's clock, not the worker's. A worker
renews its lease well before it expires; a worker that dies
stops renewing, and another takes the lease over once it has expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import sqlalchemy as sa

from bot.db.schema import leases


def db_now(conn: sa.Connection) -> dt.datetime:
    """The database's clock: every worker judges a lease by the same time, so a
    worker whose own clock is off cannot take a lease that has not expired."""
    if conn.dialect.name == "sqlite":  # one host: the operating system's clock
        raw = conn.execute(sa.text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        return dt.datetime.fromisoformat(str(raw)).replace(tzinfo=dt.UTC)
    value = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC)


def try_acquire(conn: sa.Connection, name: str, holder: str, ttl: float) -> bool:
    """Take or renew ``name`` for ``holder``; True if ``holder`` now owns it. Times
    are the database's (:func:`db_now`)."""
    now = db_now(conn)
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
    if row is None or row.expires_at < db_now(conn):
        return None
    return str(row.holder)


async def run_while_leased(
    engine: sa.Engine, name: str, holder: str, ttl: float,
    start: Callable[[asyncio.Event], Coroutine[Any, Any, None]], stop: asyncio.Event,
) -> None:
    """Run ``start(inner_stop)`` only while ``holder`` owns the lease ``name``;
    renew it every ttl/3, stop the work when the lease is lost, and try again."""

    def acquire() -> bool:
        # A database that is away holds the lease for nobody: the work stops until
        # the lease can be renewed again.
        try:
            with engine.begin() as conn:
                return try_acquire(conn, name, holder, ttl)
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError):
            return False

    async def wait(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    try:
        while not stop.is_set():
            if not await asyncio.to_thread(acquire):
                await wait(ttl / 3)
                continue
            inner = asyncio.Event()
            task = asyncio.create_task(start(inner))
            try:
                while not stop.is_set() and not task.done():
                    await wait(ttl / 3)
                    if not stop.is_set() and not await asyncio.to_thread(acquire):
                        break
            finally:
                inner.set()
                if not task.done():
                    # the work's own shutdown, bounded by what is left of the lease
                    done, _ = await asyncio.wait({task}, timeout=ttl)
                    if not done:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
            if not task.cancelled():
                task.result()  # the work's failure is the caller's: the lease is let go first
            if not stop.is_set():
                await asyncio.to_thread(lambda: _release(engine, name, holder))
    finally:
        # given up on every way out (stop, the work failing, cancellation), so that
        # another worker need not wait for the lease to expire
        await asyncio.shield(asyncio.to_thread(lambda: _release(engine, name, holder)))


def _release(engine: sa.Engine, name: str, holder: str) -> None:
    try:
        with engine.begin() as conn:
            release(conn, name, holder)
    except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError):
        pass  # the lease expires by itself
