"""The dispatcher: sends due delivery rows, most urgent first, at each platform's pace.

For each channel one sender loop, active only while this worker holds the
channel's lease, claims a small batch of due rows (``FOR UPDATE SKIP LOCKED``
on PostgreSQL), marks them in flight in the same statement, sends each through
the channel paced by its :class:`~bot.pacing.Pacer`, and records outcomes in
batches right after the calls return. A worker that takes a channel's lease
over puts the rows its predecessor left in flight back in the queue: at most
those can reach someone twice, never the queue.

Pacing: the pacer runs at the channel's effective ``limits.requests_per_second``
(the rate the operator's plan shows) and charges each message what the channel
says it costs (:meth:`~channels.base.Channel.requests_for`: a three-part Telegram
message is three requests), in one place: the channel loop. Channels that spend
one account's rate (:attr:`~channels.base.Channel.pace_key`: Telegram's broadcast
channels and its per-chat bot) share one pacer. A channel's paid broadcasts (the
alerts it pays for, :meth:`~channels.base.Channel.paid_for`) are paced on their own
at ``limits.paid_requests_per_second``.

Outcomes (the policy, :mod:`bot.outcomes`): sent; Unreachable pauses the channel
(:mod:`bot.channel_health`) and the row goes back without spending an attempt;
RetryLater backs off until the alert expires (the pacer pauses for a
``retry_after``); RecipientError fails the row and deactivates its recipients;
MessageRejected fails the row only, with an ERROR once per alert, language and
reason; ChannelFatal stops that channel, its rows go back, other channels go on.

The database away (locked, unreachable) stops claiming, not the service; outcomes
wait in memory, and only ``delivery.database_outage_limit_seconds`` ends the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from bot import metrics
from bot.channel_health import (
    ChannelHealth,
    ChannelState,
    DatabaseHealth,
    DatabaseUnavailable,
)
from bot.config import DeliverySettings
from bot.domain import Delivery
from bot.leases import release, try_acquire
from bot.lifecycle import housekeeping
from bot.outcomes import RetryPolicy
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
    Unreachable,
)

log = logging.getLogger(__name__)

LEASE_TTL = 6.0
# A wait the platform asks for (429 retry_after) longer than this sends the claimed
# rows back to the ledger until it ends, instead of holding them in flight.
LONG_WAIT = 10.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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
        self.policy = RetryPolicy(self.delivery)
        self.worker = worker or worker_name()
        self.lease_ttl = lease_ttl
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        # Channels that spend one account's rate share one pacer (Telegram's broadcast
        # channels and its per-chat messages: one bot), at the owner's rate (the
        # channel the key names: its configured messages_per_second).
        shared: dict[str, Pacer] = {}
        for key in {ch.pace_key for ch in channels.values()}:
            owner = channels.get(key)
            rates = [owner.limits.requests_per_second] if owner is not None and \
                owner.pace_key == key else [ch.limits.requests_per_second
                                            for ch in channels.values() if ch.pace_key == key]
            shared[key] = Pacer(min(rates) if all(rates) else None)
        self.states = {
            name: ChannelState(channel=ch, pacer=shared[ch.pace_key],
                               health=ChannelHealth(name, self.delivery.pause_max_seconds),
                               paid_pacer=Pacer(ch.limits.paid_requests_per_second)
                               if ch.limits.paid_requests_per_second else None)
            for name, ch in channels.items()
        }
        self.db = DatabaseHealth(self.delivery.database_outage_limit_seconds)
        self.gave_up: str | None = None  # why the dispatcher stopped on its own
        self.ok = True  # what the last run() returned
        self._ceiling_at = float("-inf")
        self._parts: dict[tuple[int, str, str], tuple[str, ...]] = {}
        self._buttons: dict[tuple[int, str, str], tuple[tuple[str, str], ...]] = {}
        self._paid: dict[tuple[int, str], bool] = {}  # (alert, channel): a paid broadcast
        self._first_sent: set[tuple[int, str]] = set()  # (alert, channel): bot.metrics
        self._stop = asyncio.Event()
        # one per channel loop: a wake-up that arrives while a loop is claiming is
        # kept for its next sleep, and one loop's sleep does not swallow another's
        self._wake = {name: asyncio.Event() for name in channels}
        self._idle: set[str] = set()  # until_idle: channels that found nothing to do
        self.pg = engine.dialect.name == "postgresql"

    # ------------------------------------------------------------------ public

    def stop(self) -> None:
        self._stop.set()
        self.wake()

    def wake(self) -> None:
        """Look for work now (a new alert was accepted). On the loop's thread."""
        for event in self._wake.values():
            event.set()

    async def run(self, *, until_idle: bool = False, idle_horizon: float = 60.0) -> bool:
        """Send until stopped (or, with ``until_idle``, until no due work is left).
        Returns False if a channel stopped on a fatal error or the database stayed
        away past the limit (``gave_up`` says why)."""
        await self._quietly(self._expire_and_finish)
        loops = [asyncio.create_task(self._channel_loop(name, until_idle, idle_horizon))
                 for name in self.states]
        housekeeping = asyncio.create_task(self._housekeeping())
        try:
            await asyncio.gather(*loops)
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            await self._quietly(self._expire_and_finish)
            for name, st in self.states.items():
                if st.owns_lease:
                    await self._quietly(self._release_lease, name)
        return self.gave_up is None and all(st.fatal is None for st in self.states.values())

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
            if got and st.health.changed:
                st.health.save(conn, self.worker)
            st.owns_lease = got
            return got

    def _release_lease(self, name: str) -> None:
        with self.engine.begin() as conn:
            if self.states[name].health.changed:
                self.states[name].health.save(conn, self.worker)
            release(conn, f"channel:{name}", self.worker)
        self.states[name].owns_lease = False

    # ------------------------------------------------------------------ loops

    async def _quietly(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Database work that may wait for a better moment (housekeeping, leases)."""
        with contextlib.suppress(DatabaseUnavailable):
            return await self.db.call(fn, *args)
        return None

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await self._quietly(self._expire_and_finish)
            if self.db.gave_up and self.gave_up is None:
                self.gave_up = (f"the database has been unavailable for {self.db.down_for:.0f} s "
                                f"({self.db.reason}); exiting (delivery."
                                "database_outage_limit_seconds)")
                self.stop()

    def _expire_and_finish(self) -> None:
        if time.monotonic() - self._ceiling_at > 60:  # the retry ceiling: once a minute
            with self.engine.begin() as conn:
                ledger.give_up_stale(conn, self.delivery.retry_for_seconds)
            self._ceiling_at = time.monotonic()
        housekeeping(self.engine)

    async def _channel_loop(self, name: str, until_idle: bool, horizon: float) -> None:
        st = self.states[name]
        batch = max(1, min(500, int((st.channel.limits.requests_per_second or 100) * 0.5)))
        batch = min(batch, self.concurrency * 2)
        # paid broadcasts go faster: while the last batch was paid, claim more at once
        # (at the free rate, a large batch would only sit in flight longer)
        paid_batch = min(500, self.concurrency * 2,
                         max(batch, int((st.channel.limits.paid_requests_per_second or 0)
                                        * 0.5)))
        last_paid = False
        last_lease = float("-inf")
        tasks: set[asyncio.Task[None]] = set()
        sem = asyncio.Semaphore(self.concurrency)
        while not self._stop.is_set() and st.fatal is None:
            try:
                await self._flush(name)  # outcomes a database outage held back go first
                if not st.owns_lease or time.monotonic() - last_lease > self.lease_ttl / 3:
                    owned = await self.db.call(self._lease, name)
                    last_lease = time.monotonic()
                    if not owned:
                        if until_idle and not await self.db.call(self._has_work, name,
                                                                 horizon):
                            self._idle.add(name)
                            return
                        await self._sleep(name, self.lease_ttl / 3)
                        continue
                if st.health.paused and not st.health.probe_due():
                    await self._wait(name, tasks, min(1.0, self.poll_interval * 5))
                    continue
                if st.pacer.paused_for() > LONG_WAIT and not tasks:
                    # a long flood wait: claim nothing until it ends (with until_idle,
                    # work that cannot start within the horizon is not waited for)
                    if until_idle and st.pacer.paused_for() > horizon:
                        self._idle.add(name)
                        if self._idle >= set(self.states):
                            break
                    await self._sleep(name, min(1.0, st.pacer.paused_for()))
                    continue
                probe = st.health.paused
                self._wake[name].clear()  # what is committed from here on wakes the sleep
                claimed = await self.db.call(self._claim, name, 1 if probe else
                                             paid_batch if last_paid else batch, probe)
            except DatabaseUnavailable:
                last_lease = float("-inf")  # renew the lease first when it is back
                await self._sleep(name, self.db.backoff)
                continue
            if not claimed:
                if tasks:
                    await self._wait(name, tasks, None)
                    continue
                try:
                    busy = until_idle and await self.db.call(self._has_work, name, horizon)
                except DatabaseUnavailable:
                    continue
                if until_idle and not busy:
                    # Done only when every channel is: another channel's work may
                    # still bring this one a follow-up (a cancellation, say).
                    self._idle.add(name)
                    if self._idle >= set(self.states):
                        break
                else:
                    self._idle.discard(name)
                await self._sleep(name, self.poll_interval)
                continue
            self._idle.discard(name)
            if probe:
                st.health.probing()
            last_paid = any(self._paid.get((r.alert_id, name), False) for r in claimed)
            await self._send_batch(name, claimed, probe, sem, tasks)
        self._idle.add(name)  # a loop that has ended holds no one else back
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._flush_at_end(name)

    async def _send_batch(self, name: str, claimed: list[Delivery], probe: bool,
                          sem: asyncio.Semaphore, tasks: set[asyncio.Task[None]]) -> None:
        st = self.states[name]
        for i, row in enumerate(claimed):
            if st.fatal is not None or self._stop.is_set() or (st.health.paused and not probe):
                why = (f"channel stopped: {st.fatal}" if st.fatal is not None
                       else "not sent, channel paused" if st.health.paused else None)
                st.outcomes.extend(self.policy.untried(r, why) for r in claimed[i:])
                break
            await sem.acquire()
            while st.health.stalled() and not self._stop.is_set():
                # Sends wait, no answer comes: a frozen platform. Send no more into it
                # until it answers or the sends time out (and the channel pauses).
                await asyncio.sleep(0.05)
            msg = self._message(name, row)
            # Wait for the turn of the requests this message costs (a paid broadcast
            # at the paid limit, the rest at the free one).
            pacer = st.paid_pacer if msg is not None and msg.paid and st.paid_pacer \
                else st.pacer
            wait = pacer.paused_for()
            if wait > LONG_WAIT:
                # The platform asked for a long wait (a flood wait): the rest of the
                # batch goes back to the ledger until then, not held in flight.
                sem.release()
                st.outcomes.extend(self.policy.untried(
                    r, f"not sent yet: {name} asked to wait {wait:.0f}s", delay=wait)
                    for r in claimed[i:])
                break
            await pacer.acquire(st.channel.requests_for(msg) if msg is not None else 0)
            task = asyncio.create_task(self._send_one(name, row, msg))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            task.add_done_callback(lambda _t: sem.release())
            if len(st.outcomes) >= 100:
                with contextlib.suppress(DatabaseUnavailable):
                    await self._flush(name)
        with contextlib.suppress(DatabaseUnavailable):
            await self._flush(name)

    async def _wait(self, name: str, tasks: set[asyncio.Task[None]],
                    timeout: float | None) -> None:
        if tasks:
            await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        else:
            await self._sleep(name, timeout or self.poll_interval)

    async def _sleep(self, name: str, seconds: float) -> None:
        """Up to ``seconds``, or until woken (a wake-up since the last claim ends it
        at once)."""
        event = self._wake[name]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        event.clear()

    # ------------------------------------------------------------- db: claims

    def _has_work(self, name: str, horizon: float) -> bool:
        with self.engine.connect() as conn:
            return ledger.has_work(conn, name, horizon)

    def _claim(self, name: str, limit: int, probe: bool = False) -> list[Delivery]:
        with self.engine.begin() as conn:
            claimed = ledger.claim(conn, name, self.worker, limit, skip_locked=self.pg,
                                   probe=probe)
            missing = {c.alert_id for c in claimed
                       if (c.alert_id, c.language, name) not in self._parts}
            if missing:
                if len(self._parts) > 10_000:
                    self._parts.clear()
                    self._buttons.clear()
                    self._paid.clear()
                if self.states[name].paid_pacer is not None:
                    channel = self.states[name].channel
                    for alert_id, (kind, severity) in ledger.alert_facts(conn,
                                                                         missing).items():
                        self._paid[(alert_id, name)] = channel.paid_for(kind, severity)
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
        if row.parts_sent:  # an earlier attempt sent these: resume after them
            if len(row.parts_sent) >= len(parts):
                return None
            return OutgoingMessage(recipients=row.recipients,
                                   parts=parts[len(row.parts_sent):],
                                   idempotency_key=f"{row.idempotency_key}:"
                                                   f"{len(row.parts_sent)}",
                                   paid=self._paid.get((row.alert_id, name), False))
        return OutgoingMessage(recipients=row.recipients, parts=parts,
                               idempotency_key=row.idempotency_key, reply_to=row.reply_to,
                               buttons=self._buttons.get((row.alert_id, row.language, name), ()),
                               paid=self._paid.get((row.alert_id, name), False))

    async def _send_one(self, name: str, row: Delivery, msg: OutgoingMessage | None) -> None:
        """Send one row and append its outcome. Whatever happens (even a bug in
        logging), the row gets an outcome: none would leave it in flight."""
        st = self.states[name]
        try:
            await self._send_and_judge(name, row, msg)
        except Exception as exc:
            with contextlib.suppress(Exception):
                log.error("delivery %s: unexpected %s while sending; queued again", row.id,
                          type(exc).__name__)
            st.outcomes.append(self.policy.retry(
                row, RetryLater(f"unexpected {type(exc).__name__} while sending")))

    async def _send_and_judge(self, name: str, row: Delivery,
                              msg: OutgoingMessage | None) -> None:
        st = self.states[name]
        if msg is None and row.parts_sent:  # every part went out before a retry
            st.outcomes.append(self.policy.sent(row, SendResult(message_ids=())))
            st.sent += 1
            return
        if msg is None:
            st.outcomes.append(self.policy.failed(row, "no rendering for this language and "
                                                       "channel"))
            return
        token, answered = st.health.begin(), True
        started = time.monotonic()
        try:
            result = await st.channel.send(msg)
        except Unreachable as exc:
            answered = False
            st.health.unreachable(str(exc))
            st.outcomes.append(self.policy.unreachable(row, exc, st.health.paused))
            st.retried += 1
            metrics.retried(name, rate_limited=False)
            return
        except RetryLater as exc:
            if exc.retry_after:
                st.pacer.pause(exc.retry_after)
            st.outcomes.append(self.policy.retry(row, exc))
            st.retried += 1
            metrics.retried(name, rate_limited=exc.rate_limited)
        except RecipientError as exc:
            st.outcomes.append(self.policy.failed(row, str(exc), deactivate=exc.recipients
                                                  or row.recipients))
            st.failed += 1
        except MessageRejected as exc:
            st.outcomes.append(self.policy.rejected(name, row, exc, st.rejections))
            st.failed += 1
        except ChannelFatal as exc:
            if st.fatal is None:
                log.error("channel %s stopped: %s (the other channels go on)", name, exc)
                st.health.stopped(str(exc))
            st.fatal = str(exc)
            st.outcomes.append(self.policy.untried(row, f"channel stopped: {exc}", exc=exc))
            return
        except ChannelError as exc:  # pragma: no cover - the four kinds cover all
            st.outcomes.append(self.policy.retry(row, RetryLater(str(exc))))
        else:
            st.outcomes.append(self.policy.sent(row, result))
            st.sent += 1
        finally:
            st.health.end(token, answered)
            metrics.send_seconds(name, time.monotonic() - started)
        st.health.reachable()  # the platform answered

    # --------------------------------------------------------------- outcomes

    async def _flush(self, name: str) -> None:
        """Record the outcomes so far. The list is taken here, on the event loop where
        the send tasks append to it, so an outcome can never be appended to a batch a
        worker thread is already writing (and lost, leaving its row in flight). If the
        database is away the batch goes back to the front of the list, to be recorded
        when it returns (:class:`DatabaseUnavailable` is raised)."""
        st = self.states[name]
        if not st.outcomes:
            return
        outcomes, st.outcomes = st.outcomes, []
        try:
            await self.db.call(self._record, name, outcomes)
        except DatabaseUnavailable:
            st.outcomes[:0] = outcomes
            raise

    async def _flush_at_end(self, name: str) -> None:
        """The last outcomes, and the claimed rows never sent back to the queue; while
        the database is away keep trying for a while (a lease's time)."""
        st = self.states[name]
        deadline = time.monotonic() + max(self.lease_ttl, 5.0)
        while True:
            try:
                await self._flush(name)
                await self.db.call(self._unclaim, name)
                return
            except DatabaseUnavailable:
                if time.monotonic() > deadline or self.gave_up is not None:
                    log.error("channel %s: %d outcomes could not be recorded (database "
                              "unavailable); their rows go back to the queue when the "
                              "next worker takes the channel over (they may arrive twice)",
                              name, len(st.outcomes))
                    return
                await asyncio.sleep(self.db.backoff)

    def _record(self, name: str, outcomes: list[Outcome]) -> None:
        with self.engine.begin() as conn:
            n = ledger.record(conn, name, outcomes)
        # committed: count them
        metrics.outcomes_recorded(self.engine, name, outcomes, self._first_sent)
        if n:
            log.warning("channel %s: %d subscribers deactivated (blocked or gone)", name, n)
