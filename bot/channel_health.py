"""Whether a channel's platform can be reached, and the database too: the states the
dispatcher keeps, logs once per change, shows in ``/readyz`` and writes to
``channel_states`` for operators in other processes.

A platform that cannot be reached (refused, DNS, TLS, timeouts) is an outage of the
platform, not a fault of the rows that happened to be in flight: the channel
*pauses* as a whole. While paused it sends nothing but one probe (a due row, rows
whose last send timed out last) after a back-off that doubles up to
``pause_max_seconds``; the first answer from the platform resumes it. Rows that met
the outage go back to the queue without spending an attempt.

The database going away (SQLite locked by another process, PostgreSQL unreachable)
is the same kind of fault for the whole service: :class:`DatabaseHealth` turns the
driver's errors into :class:`DatabaseUnavailable`, the dispatcher stops claiming and
keeps its outcomes in memory until it can record them, and gives up only after
``database_outage_limit_seconds`` without a break.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from bot.db.schema import channel_states, utcnow
from bot.health import Check
from bot.pacing import Pacer

if TYPE_CHECKING:
    from bot.store.deliveries import Outcome
    from channels.base import Channel

log = logging.getLogger("bot.dispatcher")

T = TypeVar("T")

SENDING = "sending"
PAUSED = "paused"
STOPPED = "stopped"
# Sends in a row that could not reach the platform before the channel pauses: one
# timeout is a slow answer, several at once an outage.
PAUSE_AFTER = 3
STALL_MIN = 0.3
STALL_FACTOR = 4.0


class ChannelHealth:
    """One channel's state: sending, paused (platform unreachable) or stopped (fatal)."""

    def __init__(self, name: str, pause_max: float = 30.0) -> None:
        self.name = name
        self.pause_max = pause_max
        self.state = SENDING
        self.since = utcnow()
        self.detail = ""
        self.backoff = 0.0
        self.probe_at = 0.0  # monotonic time of the next probe while paused
        self.changed = True  # not yet written to channel_states
        self._paused_at = 0.0
        self.failures = 0  # sends that could not reach the platform since its last answer
        self._token = 0
        self._outstanding: dict[int, float] = {}  # unanswered sends: when each went out
        self._latency = 0.1  # seconds, moving average of answered sends
        self._last_answer = 0.0

    @property
    def paused(self) -> bool:
        return self.state == PAUSED

    # A platform that stops answering (frozen) is noticed before the sends time out:
    # when the oldest unanswered send has waited STALL_FACTOR times the usual answer
    # time (at least STALL_MIN seconds) and nothing has been answered meanwhile, no
    # further send goes out, so that few requests sit in a frozen platform.
    def begin(self) -> int:
        self._token += 1
        self._outstanding[self._token] = time.monotonic()
        return self._token

    def end(self, token: int, answered: bool) -> None:
        started = self._outstanding.pop(token, None)
        if answered and started is not None:
            now = time.monotonic()
            self._latency = 0.8 * self._latency + 0.2 * (now - started)
            self._last_answer = now

    def stalled(self) -> bool:
        if not self._outstanding:
            return False
        now = time.monotonic()
        waited = now - max(min(self._outstanding.values()), self._last_answer)
        return waited > max(STALL_MIN, STALL_FACTOR * self._latency)

    def unreachable(self, detail: str) -> None:
        """A send could not reach the platform: after PAUSE_AFTER in a row with no
        answer between them, pause; paused, a failed probe makes the wait longer."""
        now = time.monotonic()
        self.failures += 1
        if self.state == SENDING and self.failures < PAUSE_AFTER:
            return
        if self.state == SENDING:
            self._set(PAUSED, detail)
            self._paused_at = now
            self.backoff = 1.0
            log.warning("channel %s paused: the platform cannot be reached (%s); deliveries "
                        "wait in the queue and lose no attempt, probing every %g s at most",
                        self.name, detail, self.pause_max)
        elif self.state == PAUSED and now >= self.probe_at:
            self.backoff = min(self.pause_max, self.backoff * 2)
            self.detail = detail
        else:
            return
        self.probe_at = now + self.backoff * random.uniform(0.8, 1.2)

    def reachable(self) -> None:
        """The platform answered (whatever it said): the channel sends again."""
        self.failures = 0
        if self.state == PAUSED:
            log.warning("channel %s: the platform answers again after %.0f s; sending resumes",
                        self.name, time.monotonic() - self._paused_at)
            self._set(SENDING, "")

    def probe_due(self) -> bool:
        return self.paused and time.monotonic() >= self.probe_at

    def probing(self) -> None:
        """A probe is on its way: the next one no sooner than the back-off."""
        self.probe_at = time.monotonic() + max(self.backoff, 1.0)

    def stopped(self, detail: str) -> None:
        self._set(STOPPED, detail)

    def _set(self, state: str, detail: str) -> None:
        self.state, self.detail, self.since, self.changed = state, detail, utcnow(), True

    def check(self) -> Check:
        if self.state == SENDING:
            return Check(ok=True, detail="sending")
        return Check(ok=False, detail=f"{self.state} since {self.since:%H:%M:%S} UTC: "
                                      f"{self.detail}"[:300])

    def save(self, conn: sa.Connection, worker: str) -> None:
        """Write the state to ``channel_states`` (on a change; the caller's transaction)."""
        values = {"state": self.state, "since": self.since, "detail": self.detail or None,
                  "worker": worker, "updated_at": utcnow()}
        done = conn.execute(sa.update(channel_states).where(
            channel_states.c.channel == self.name).values(**values)).rowcount
        if not done:
            conn.execute(sa.insert(channel_states).values(channel=self.name, **values))
        self.changed = False


@dataclass
class ChannelState:
    """A channel's sender as the dispatcher keeps it."""

    channel: Channel
    pacer: Pacer
    health: ChannelHealth
    # the platform's paid higher limit (Telegram's paid broadcasts), for the messages
    # of the alerts the channel pays for (Channel.paid_for); None when not enabled
    paid_pacer: Pacer | None = None
    fatal: str | None = None
    sent: int = 0
    failed: int = 0
    retried: int = 0
    owns_lease: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    # (alert, language, reason) of rejections already reported at ERROR
    rejections: set[tuple[int, str, str]] = field(default_factory=set)


class DatabaseUnavailable(Exception):
    """The database could not be used just now (locked, unreachable)."""


def is_outage(exc: BaseException) -> bool:
    """A driver error that says the database is away, not that the statement is wrong."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError
                      | sa.exc.TimeoutError)


class DatabaseHealth:
    """Runs database work in a thread; notices outages and recoveries, once each."""

    def __init__(self, limit: float = 600.0) -> None:
        self.limit = limit
        self.down_since: float | None = None
        self.down_at = utcnow()
        self.reason = ""
        self.backoff = 0.25

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            result = await asyncio.to_thread(fn, *args)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self.failed(exc)
            raise DatabaseUnavailable(self.reason) from exc
        self.ok()
        return result

    def failed(self, exc: BaseException) -> None:
        orig = getattr(exc, "orig", None) or exc
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
        if self.down_since is None:
            self.down_since, self.down_at, self.reason = time.monotonic(), utcnow(), reason
            self.backoff = 0.25
            log.error("database unavailable (%s): claiming stops, outcomes are kept in memory "
                      "until they can be recorded; retrying, giving up after %g s", reason,
                      self.limit)
        else:
            self.backoff = min(5.0, self.backoff * 2)

    def ok(self) -> None:
        if self.down_since is not None:
            log.warning("database available again after %.0f s; sending resumes",
                        time.monotonic() - self.down_since)
            self.down_since = None

    @property
    def down_for(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    @property
    def gave_up(self) -> bool:
        return self.down_since is not None and self.down_for >= self.limit

    def check(self) -> Check:
        if self.down_since is None:
            return Check(ok=True, detail="available")
        return Check(ok=False, detail=f"unavailable for {self.down_for:.0f} s "
                                      f"(since {self.down_at:%H:%M:%S} UTC): {self.reason}")
