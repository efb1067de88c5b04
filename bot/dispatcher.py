"""The dispatcher: sends due delivery rows, most urgent first, at each platform's pace.

For each channel one sender loop, active only while this worker holds the
channel's lease, claims a small batch of due rows (``FOR UPDATE SKIP LOCKED``
on PostgreSQL), marks them in flight in the same statement, sends each through
the channel paced by its :class:`~bot.pacing.Pacer`, and records outcomes in
batches right after the calls return. A worker that takes a channel's lease
over puts the rows its predecessor left in flight back in the queue: at most
those can reach someone twice, never the queue.

Pacing: the pacer runs at the channel instance's effective
``limits.requests_per_second`` (configured overrides applied, the rate the
operator's plan shows) and charges each message what the channel says it costs
(:meth:`~channels.base.Channel.requests_for`: a three-part Telegram message is
three requests, an X thread one per post), in one place: the channel loop, which
builds each message once and hands it to the send task.

Outcomes:
    sent                      → ``sent`` with the platform's message id
    RetryLater(retry_after)   → back to ``pending`` after the delay (or backoff
                                with jitter); the channel pauses for the delay
    RecipientError            → ``failed``; the recipients are deactivated
    MessageRejected           → ``failed`` with ``rejected: <reason>``; nobody is
                                deactivated, the channel goes on, and the operator
                                sees an ERROR (once per alert, language and reason)
    ChannelFatal              → row back to ``pending``; the channel stops and
                                the error is reported; other channels go on
    too many attempts         → ``failed``
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from bot.config import DeliverySettings
from bot.db.schema import utcnow
from bot.domain import Delivery, DeliveryStatus
from bot.leases import release, try_acquire
from bot.lifecycle import housekeeping
from bot.pacing import Pacer
from bot.store import deliveries as ledger
from bot.store.deliveries import Outcome
from channels.base import (
    Channel,
    ChannelError,
    ChannelFatal,
    MessageRejected,
    OutgoingMessage,
    RecipientError,
    RetryLater,
    SendResult,
)

log = logging.getLogger(__name__)

LEASE_TTL = 6.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class ChannelState:
    channel: Channel
    pacer: Pacer
    fatal: str | None = None
    sent: int = 0
    failed: int = 0
    retried: int = 0
    owns_lease: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    # (alert, language, reason) of rejections already reported at ERROR
    rejections: set[tuple[int, str, str]] = field(default_factory=set)


class Dispatcher:
    def __init__(
        self,
        engine: sa.Engine,
        channels: Mapping[str, Channel],
        *,
        delivery: DeliverySettings | None = None,
        worker: str | None = None,
        lease_ttl: float = LEASE_TTL,
        poll_interval: float = 0.2,
        concurrency: int = 64,
    ) -> None:
        self.engine = engine
        self.delivery = delivery or DeliverySettings()
        self.worker = worker or worker_name()
        self.lease_ttl = lease_ttl
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.states = {
            name: ChannelState(channel=ch, pacer=Pacer(ch.limits.requests_per_second))
            for name, ch in channels.items()
        }
        self._parts: dict[tuple[int, str, str], tuple[str, ...]] = {}
        self._buttons: dict[tuple[int, str, str], tuple[tuple[str, str], ...]] = {}
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._idle: set[str] = set()  # until_idle: channels that found nothing to do
        self.pg = engine.dialect.name == "postgresql"

    # ------------------------------------------------------------------ public

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look for work now (a new alert was accepted)."""
        self._wake.set()

    async def run(self, *, until_idle: bool = False, idle_horizon: float = 60.0) -> bool:
        """Send until stopped (or, with ``until_idle``, until no due work is left).
        Returns False if a channel stopped on a fatal error."""
        await asyncio.to_thread(self._expire_and_finish)
        loops = [asyncio.create_task(self._channel_loop(name, until_idle, idle_horizon))
                 for name in self.states]
        housekeeping = asyncio.create_task(self._housekeeping())
        try:
            await asyncio.gather(*loops)
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            await asyncio.to_thread(self._expire_and_finish)
            for name, st in self.states.items():
                if st.owns_lease:
                    self._release_lease(name)
        return all(st.fatal is None for st in self.states.values())

    # ---------------------------------------------------------------- leasing

    def _lease(self, name: str) -> bool:
        with self.engine.begin() as conn:
            got = try_acquire(conn, f"channel:{name}", self.worker, self.lease_ttl)
            st = self.states[name]
            if got and not st.owns_lease:
                # Taking over: whatever was in flight under the last owner goes back.
                n = ledger.requeue_in_flight(conn, name)
                if n:
                    log.warning("channel %s: %d deliveries were in flight under the previous "
                                "owner; queued again", name, n)
                log.info("channel %s: lease taken by %s", name, self.worker)
            st.owns_lease = got
            return got

    def _release_lease(self, name: str) -> None:
        with self.engine.begin() as conn:
            release(conn, f"channel:{name}", self.worker)
        self.states[name].owns_lease = False

    # ------------------------------------------------------------------ loops

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(self._expire_and_finish)

    def _expire_and_finish(self) -> None:
        housekeeping(self.engine)

    async def _channel_loop(self, name: str, until_idle: bool, horizon: float) -> None:
        st = self.states[name]
        batch = max(1, min(500, int((st.channel.limits.requests_per_second or 100) * 0.5)))
        batch = min(batch, self.concurrency * 2)
        last_lease = 0.0
        sem = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        while not self._stop.is_set() and st.fatal is None:
            if time.monotonic() - last_lease > self.lease_ttl / 3:
                owned = await asyncio.to_thread(self._lease, name)
                last_lease = time.monotonic()
                if not owned:
                    if until_idle and not await asyncio.to_thread(self._has_work, name, horizon):
                        self._idle.add(name)
                        return
                    await self._sleep(self.lease_ttl / 3)
                    continue
            claimed = await asyncio.to_thread(self._claim, name, batch)
            if not claimed:
                await self._flush(name)
                if tasks:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    continue
                if until_idle and not await asyncio.to_thread(self._has_work, name, horizon):
                    # Done only when every channel is: another channel's work may
                    # still bring this one a follow-up (a cancellation, say).
                    self._idle.add(name)
                    if self._idle >= set(self.states):
                        break
                else:
                    self._idle.discard(name)
                await self._sleep(self.poll_interval)
                continue
            self._idle.discard(name)
            for row in claimed:
                if st.fatal is not None or self._stop.is_set():
                    break
                await sem.acquire()
                msg = self._message(name, row)
                # Wait for the turn of the requests this message costs.
                await st.pacer.acquire(st.channel.requests_for(msg) if msg is not None else 0)
                task = asyncio.create_task(self._send_one(name, row, msg))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                task.add_done_callback(lambda _t: sem.release())
                if len(st.outcomes) >= 100:
                    await self._flush(name)
            await self._flush(name)
        self._idle.add(name)  # a loop that has ended holds no one else back
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._flush(name)
        if st.fatal is not None:
            # Give the unsent claimed rows back to the queue.
            await asyncio.to_thread(self._unclaim, name)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    # ------------------------------------------------------------- db: claims

    def _has_work(self, name: str, horizon: float) -> bool:
        with self.engine.connect() as conn:
            return ledger.has_work(conn, name, horizon)

    def _claim(self, name: str, limit: int) -> list[Delivery]:
        with self.engine.begin() as conn:
            claimed = ledger.claim(conn, name, self.worker, limit, skip_locked=self.pg)
            missing = {c.alert_id for c in claimed
                       if (c.alert_id, c.language, name) not in self._parts}
            if missing:
                if len(self._parts) > 10_000:
                    self._parts.clear()
                    self._buttons.clear()
                for (alert_id, language), parts in ledger.load_parts(conn, name,
                                                                      missing).items():
                    self._parts[(alert_id, language, name)] = parts
                for (alert_id, language), buttons in ledger.load_buttons(conn, name,
                                                                          missing).items():
                    self._buttons[(alert_id, language, name)] = buttons
        return claimed

    def _unclaim(self, name: str) -> None:
        with self.engine.begin() as conn:
            ledger.unclaim(conn, name, self.worker)

    # ----------------------------------------------------------------- sending

    def _message(self, name: str, row: Delivery) -> OutgoingMessage | None:
        parts = self._parts.get((row.alert_id, row.language, name))
        if not parts:
            return None
        return OutgoingMessage(recipients=row.recipients, parts=parts,
                               idempotency_key=row.idempotency_key, reply_to=row.reply_to,
                               buttons=self._buttons.get((row.alert_id, row.language, name), ()))

    async def _send_one(self, name: str, row: Delivery, msg: OutgoingMessage | None) -> None:
        st = self.states[name]
        if msg is None:
            st.outcomes.append(self._failed(row, "no rendering for this language and channel"))
            return
        try:
            result = await st.channel.send(msg)
        except RetryLater as exc:
            if exc.retry_after:
                st.pacer.pause(exc.retry_after)
            st.outcomes.append(self._retry(row, exc))
            st.retried += 1
        except RecipientError as exc:
            st.outcomes.append(self._failed(row, str(exc), deactivate=exc.recipients
                                            or row.recipients))
            st.failed += 1
        except MessageRejected as exc:
            st.outcomes.append(self._rejected(name, row, exc))
            st.failed += 1
        except ChannelFatal as exc:
            if st.fatal is None:
                log.error("channel %s stopped: %s (the other channels go on)", name, exc)
            st.fatal = str(exc)
            st.outcomes.append(Outcome(id=self._id(row), status=DeliveryStatus.PENDING,
                                       next_attempt_at=utcnow(),
                                       last_error=f"channel stopped: {exc}",
                                       attempts=row.attempts - 1))
        except ChannelError as exc:  # pragma: no cover - the four kinds cover all
            st.outcomes.append(self._retry(row, RetryLater(str(exc))))
        else:
            st.outcomes.append(self._sent(row, result))
            st.sent += 1

    @staticmethod
    def _id(row: Delivery) -> int:
        assert row.id is not None
        return row.id

    def _sent(self, row: Delivery, result: SendResult) -> Outcome:
        log.debug("delivery %d sent", row.id, extra={"delivery_id": row.id,
                                                     "alert_id": row.alert_id})
        return Outcome(id=self._id(row), status=DeliveryStatus.SENT,
                       provider_message_id=result.provider_message_id,
                       message_ids=tuple(result.message_ids), sent_at=utcnow(),
                       last_error="duplicate: already accepted by the platform"
                       if result.duplicate else None)

    def _failed(self, row: Delivery, error: str, deactivate: tuple[str, ...] = ()) -> Outcome:
        log.warning("delivery %d failed: %s", row.id, error,
                    extra={"delivery_id": row.id, "alert_id": row.alert_id})
        return Outcome(id=self._id(row), status=DeliveryStatus.FAILED, last_error=error,
                       deactivate=deactivate)

    def _rejected(self, name: str, row: Delivery, exc: MessageRejected) -> Outcome:
        """The platform refused the message itself: the rendering is wrong for this
        channel. The recipients keep their subscription; the operator must look."""
        st = self.states[name]
        seen = (row.alert_id, row.language, str(exc))
        if seen not in st.rejections:
            if len(st.rejections) > 1000:
                st.rejections.clear()
            st.rejections.add(seen)
            log.error("channel %s rejected alert %d's %s message: %s (a rendering that "
                      "does not fit the channel; its recipients stay subscribed)",
                      name, row.alert_id, row.language, exc,
                      extra={"delivery_id": row.id, "alert_id": row.alert_id})
        return Outcome(id=self._id(row), status=DeliveryStatus.FAILED,
                       last_error=f"rejected: {exc}")

    def _retry(self, row: Delivery, exc: RetryLater) -> Outcome:
        if row.attempts >= self.delivery.max_attempts:
            return self._failed(row, f"gave up after {row.attempts} attempts: {exc}")
        backoff = min(self.delivery.backoff_max_seconds,
                      self.delivery.backoff_base_seconds * 2 ** (row.attempts - 1))
        delay = max(exc.retry_after or 0.0, backoff * random.uniform(0.5, 1.0))
        return Outcome(id=self._id(row), status=DeliveryStatus.PENDING,
                       next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                       last_error=str(exc))

    async def _flush(self, name: str) -> None:
        """Record the outcomes so far. The list is taken here, on the event loop where
        the send tasks append to it, so an outcome can never be appended to a batch a
        worker thread is already writing (and lost, leaving its row in flight)."""
        st = self.states[name]
        if not st.outcomes:
            return
        outcomes, st.outcomes = st.outcomes, []
        await asyncio.to_thread(self._record, name, outcomes)

    def _record(self, name: str, outcomes: list[Outcome]) -> None:
        with self.engine.begin() as conn:
            n = ledger.record(conn, name, outcomes)
        if n:
            log.warning("channel %s: %d subscribers deactivated (blocked or gone)", name, n)
