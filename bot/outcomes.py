"""The retry policy: what becomes of a claimed row after its send (or non-send).

A row is retried until the message no longer matters: until its alert expires
(housekeeping then marks it ``expired``), or for ``delivery.retry_for_seconds``
when the alert has no expiry. It fails earlier only for a permanent reason (a
blocked user, a rejected message) or, when an operator set ``max_attempts``, after
that many transient answers from the platform (5xx, 429).

An unreachable platform is not the row's fault: the row goes back with its attempt
undone. A send that timed out may have arrived: the row is marked (``timeouts``),
and within an outage sent at most once more before the platform answers again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import random
from typing import Any

from bot.config import DeliverySettings
from bot.db.schema import utcnow
from bot.domain import Delivery, DeliveryStatus
from bot.store.deliveries import Outcome
from channels.base import ChannelError, MessageRejected, RetryLater, SendResult, Unreachable

log = logging.getLogger("bot.dispatcher")


def row_id(row: Delivery) -> int:
    assert row.id is not None
    return row.id


def _row(row: Delivery) -> dict[str, Any]:
    """The fields every outcome of ``row`` carries: its id, and what bot.metrics counts."""
    return {"id": row_id(row), "alert_id": row.alert_id, "language": row.language,
            "recipients": len(row.recipients)}


class RetryPolicy:
    def __init__(self, delivery: DeliverySettings) -> None:
        self.delivery = delivery

    @staticmethod
    def parts(row: Delivery, exc: ChannelError | None = None) -> tuple[str, ...]:
        """Ids of the message's parts that went out so far: those of earlier attempts
        and those this attempt sent before it failed (a retry resumes after them)."""
        return row.parts_sent + (exc.sent_ids if exc is not None else ())

    def sent(self, row: Delivery, result: SendResult) -> Outcome:
        log.debug("delivery %d sent", row.id, extra={"delivery_id": row.id,
                                                     "alert_id": row.alert_id})
        note = None
        if result.duplicate:
            note = "duplicate: already accepted by the platform"
        elif row.timeouts:
            note = "sent; an earlier send timed out and may have arrived too"
        ids = row.parts_sent + tuple(result.message_ids)
        return Outcome(**_row(row), status=DeliveryStatus.SENT,
                       provider_message_id=ids[0] if ids else result.provider_message_id,
                       message_ids=ids, sent_at=utcnow(), last_error=note)

    def failed(self, row: Delivery, error: str, deactivate: tuple[str, ...] = ()) -> Outcome:
        with contextlib.suppress(Exception):  # a broken log handler must not lose the row
            log.warning("delivery %d failed: %s", row.id, error,
                        extra={"delivery_id": row.id, "alert_id": row.alert_id})
        return Outcome(**_row(row), status=DeliveryStatus.FAILED, last_error=error,
                       deactivate=deactivate)

    def retry(self, row: Delivery, exc: RetryLater) -> Outcome:
        """The platform answered "not now" (5xx, 429): back-off, attempt spent."""
        cap = self.delivery.max_attempts
        if cap is not None and row.attempts >= cap:
            return self.failed(row, f"gave up after {row.attempts} attempts: {exc}")
        backoff = min(self.delivery.backoff_max_seconds,
                      self.delivery.backoff_base_seconds * 2 ** min(row.attempts - 1, 30))
        delay = max(exc.retry_after or 0.0, backoff * random.uniform(0.5, 1.0))
        return Outcome(**_row(row), status=DeliveryStatus.PENDING,
                       next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                       message_ids=self.parts(row, exc), last_error=str(exc))

    def unreachable(self, row: Delivery, exc: Unreachable, outage: bool) -> Outcome:
        """The platform could not be reached. A refused connection never reached it:
        the attempt is undone. A timed-out send may have arrived: the row is marked
        (``timeouts``); within an ``outage`` (the channel paused) its attempt is undone
        and it is sent once more when the platform answers again, and a row that
        timed out twice in an outage is held back past the next probes rather than
        risk a third copy. Outside an outage a timeout is an ordinary retry."""
        if not exc.unknown:
            return self.untried(row, f"not sent, platform unreachable: {exc}",
                                delay=self.delivery.backoff_base_seconds, exc=exc)
        note = f"outcome unknown, it may have arrived: {exc}"
        if not outage:
            return dataclasses.replace(self.retry(row, exc), timeouts=row.timeouts + 1,
                                       last_error=note)
        hold = self.delivery.pause_max_seconds if row.timeouts else 0.0
        return Outcome(**_row(row), status=DeliveryStatus.PENDING,
                       next_attempt_at=utcnow() + dt.timedelta(seconds=hold),
                       attempts=max(0, row.attempts - 1), timeouts=row.timeouts + 1,
                       message_ids=self.parts(row, exc), last_error=note)

    def untried(self, row: Delivery, why: str | None, delay: float = 0.0,
                exc: ChannelError | None = None) -> Outcome:
        """A claimed row that was not sent (or not all of it: ``exc.sent_ids``) goes
        back, its attempt undone."""
        return Outcome(**_row(row), status=DeliveryStatus.PENDING,
                       next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                       attempts=max(0, row.attempts - 1), message_ids=self.parts(row, exc),
                       last_error=why)

    def rejected(self, channel: str, row: Delivery, exc: MessageRejected,
                 reported: set[tuple[int, str, str]]) -> Outcome:
        """The platform refused the message itself: the rendering is wrong for this
        channel. The recipients keep their subscription; the operator must look (an
        ERROR once per alert, language and reason: ``reported`` remembers them)."""
        seen = (row.alert_id, row.language, str(exc))
        if seen not in reported:
            if len(reported) > 1000:
                reported.clear()
            reported.add(seen)
            log.error("channel %s rejected alert %d's %s message: %s (a rendering that "
                      "does not fit the channel; its recipients stay subscribed)",
                      channel, row.alert_id, row.language, exc,
                      extra={"delivery_id": row.id, "alert_id": row.alert_id})
        return Outcome(**_row(row), status=DeliveryStatus.FAILED,
                       last_error=f"rejected: {exc}")
