"""The delivery ledger: the only code that speaks SQL to ``deliveries`` and ``renderings``.

Writers are the lifecycle (renderings, stopping and reopening rows, follow-up
targets), fan-out (:mod:`bot.store.fanout`, new rows) and the dispatcher
(claims and outcomes). Readers are the operator commands (progress, log,
statistics, budgets). Every function takes the caller's connection, so the
caller decides the transaction; none commits on its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot import wakeup
from bot.db.schema import alerts, deliveries, renderings, utcnow
from bot.domain import Delivery, DeliveryStatus
from bot.logs import redact
from bot.render import Rendering
from bot.store import subscribers as subs_store

d = deliveries
PENDING = DeliveryStatus.PENDING.value
IN_FLIGHT = DeliveryStatus.IN_FLIGHT.value
OPEN = (PENDING, IN_FLIGHT)
ERASED = "(erased)"


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """What became of one claimed row; the dispatcher builds these, :func:`record`
    writes them in batches."""

    id: int
    status: DeliveryStatus
    last_error: str | None = None
    provider_message_id: str | None = None
    message_ids: tuple[str, ...] = ()
    sent_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    attempts: int | None = None  # set to put back an attempt that did not happen
    timeouts: int | None = None  # set when a send's outcome is unknown (timed out)
    deactivate: tuple[str, ...] = ()  # recipients who blocked the bot or left
    # the row's alert, language and number of recipients (counted by bot.metrics)
    alert_id: int = 0
    language: str = ""
    recipients: int = 0


# ------------------------------------------------------------------ renderings


def write_renderings(conn: sa.Connection, alert_id: int, rendered: Iterable[Rendering]) -> None:
    """Replace the alert's renderings with ``rendered``."""
    now = utcnow()
    rows = [{"alert_id": alert_id, "language": r.language, "channel": r.channel,
             "parts": list(r.parts), "machine_translated": r.machine_translated,
             "buttons": [list(b) for b in r.buttons] or None,
             "created_at": now} for r in rendered]
    conn.execute(sa.delete(renderings).where(renderings.c.alert_id == alert_id))
    if rows:
        conn.execute(sa.insert(renderings), rows)


def load_parts(conn: sa.Connection, channel: str, alert_ids: Iterable[int]
               ) -> dict[tuple[int, str], tuple[str, ...]]:
    """(alert id, language) → the parts to send on ``channel``."""
    return {(r.alert_id, r.language): tuple(r.parts) for r in conn.execute(
        sa.select(renderings.c.alert_id, renderings.c.language, renderings.c.parts).where(
            renderings.c.channel == channel, renderings.c.alert_id.in_(set(alert_ids))))}


def load_buttons(conn: sa.Connection, channel: str, alert_ids: Iterable[int]
                 ) -> dict[tuple[int, str], tuple[tuple[str, str], ...]]:
    """(alert id, language) → the reply buttons under the message, where it has any."""
    return {(r.alert_id, r.language): tuple((str(b[0]), str(b[1])) for b in r.buttons)
            for r in conn.execute(sa.select(renderings.c.alert_id, renderings.c.language,
                                            renderings.c.buttons).where(
                renderings.c.channel == channel, renderings.c.buttons.is_not(None),
                renderings.c.alert_id.in_(set(alert_ids)))) if r.buttons}


def alert_facts(conn: sa.Connection, alert_ids: Iterable[int]) -> dict[int, tuple[str, int]]:
    """alert id → (kind, severity): what a channel's paid broadcasts are decided on."""
    return {int(r.id): (str(r.kind), int(r.severity)) for r in conn.execute(
        sa.select(alerts.c.id, alerts.c.kind, alerts.c.severity).where(
            alerts.c.id.in_(set(alert_ids))))}


def stored_renderings(conn: sa.Connection, alert_id: int) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(renderings).where(renderings.c.alert_id == alert_id)
                             .order_by(renderings.c.language, renderings.c.channel)))


# ------------------------------------------------------------------ follow-ups


def stop_pending(conn: sa.Connection, alert_id: int, reason: str) -> int:
    """Stop the alert's rows that have not been claimed; returns how many."""
    return int(conn.execute(sa.update(d).where(d.c.alert_id == alert_id, d.c.status == PENDING)
                            .values(status=DeliveryStatus.CANCELLED.value, updated_at=utcnow(),
                                    last_error=reason)).rowcount or 0)


def reopen_stopped(conn: sa.Connection, alert_id: int, reason: str) -> int:
    """Undo :func:`stop_pending` with the same ``reason`` (a held cancellation that was
    rejected): those rows go back in the queue."""
    now = utcnow()
    n = int(conn.execute(sa.update(d).where(
        d.c.alert_id == alert_id, d.c.status == DeliveryStatus.CANCELLED.value,
        d.c.last_error == reason).values(status=PENDING, last_error=None, next_attempt_at=now,
                                         updated_at=now)).rowcount or 0)
    if n:
        wakeup.due(conn)
    return n


def reached(conn: sa.Connection, alert_id: int, broadcast: Iterable[str], *,
            pending: bool = False) -> dict[tuple[str, str], int]:
    """Where the alert went out (or is going out right now), for its follow-ups:
    (channel, user id) → delivery id for chats and multicasts, (channel, language)
    → delivery id for the ``broadcast`` channels. ``pending``: also where it is still
    to go (a follow-up that adds to the original, which keeps its pending sends; the
    dispatcher holds each reply until its original has an outcome)."""
    public = set(broadcast)
    out: dict[tuple[str, str], int] = {}
    statuses = [DeliveryStatus.SENT.value, IN_FLIGHT, *([PENDING] if pending else [])]
    for r in conn.execute(sa.select(d.c.id, d.c.channel, d.c.language, d.c.recipients).where(
            d.c.alert_id == alert_id, d.c.status.in_(statuses))):
        if r.channel in public:
            out[(r.channel, r.language)] = int(r.id)
        else:
            for user in r.recipients:
                out[(r.channel, user)] = int(r.id)
    return out


# ------------------------------------------------------------------ dispatcher


def requeue_in_flight(conn: sa.Connection, channel: str) -> int:
    """A new owner of the channel's lease puts its predecessor's rows back."""
    return int(conn.execute(sa.update(d).where(d.c.channel == channel, d.c.status == IN_FLIGHT)
                            .values(status=PENDING, claimed_by=None, updated_at=utcnow())
                            ).rowcount or 0)


def unclaim(conn: sa.Connection, channel: str, worker: str) -> int:
    """Rows ``worker`` claimed and never sent go back, their attempt undone."""
    return int(conn.execute(sa.update(d).where(
        d.c.channel == channel, d.c.claimed_by == worker, d.c.status == IN_FLIGHT).values(
        status=PENDING, claimed_by=None, attempts=sa.func.max(d.c.attempts - 1, 0)
        if conn.dialect.name == "sqlite" else sa.func.greatest(d.c.attempts - 1, 0),
        updated_at=utcnow())).rowcount or 0)


def give_up_stale(conn: sa.Connection, seconds: float) -> int:
    """Open rows older than ``seconds`` (delivery.retry_for_seconds) fail: the ceiling
    on retrying for alerts without an expiry."""
    now = utcnow()
    return int(conn.execute(sa.update(d).where(
        d.c.status == PENDING, d.c.created_at < now - dt.timedelta(seconds=seconds)).values(
        status=DeliveryStatus.FAILED.value, updated_at=now,
        last_error=f"gave up: still not sent after {seconds / 3600:g} h of retrying"
        )).rowcount or 0)


def has_work(conn: sa.Connection, channel: str, horizon: float) -> bool:
    soon = utcnow() + dt.timedelta(seconds=horizon)
    return conn.execute(sa.select(d.c.id).where(
        d.c.channel == channel,
        sa.or_(sa.and_(d.c.status == PENDING, d.c.next_attempt_at <= soon),
               d.c.status == IN_FLIGHT)).limit(1)).first() is not None


def _expired_alerts(now: dt.datetime) -> sa.Select[tuple[int]]:
    return sa.select(alerts.c.id).where(alerts.c.expires.is_not(None), alerts.c.expires < now)


def claim(conn: sa.Connection, channel: str, worker: str, limit: int, *,
          skip_locked: bool, probe: bool = False) -> list[Delivery]:
    """Mark up to ``limit`` due rows in flight for ``worker``, most urgent first, and
    return them with their reply targets resolved (see :func:`_resolve_replies`).
    ``probe`` (a paused channel testing the platform): rows whose last send timed
    out come last, so that probing does not resend a message that may have arrived."""
    now = utcnow()
    order = (d.c.timeouts, d.c.priority.desc(), d.c.id) if probe else (d.c.priority.desc(),
                                                                         d.c.id)
    inner = (sa.select(d.c.id)
             .where(d.c.channel == channel, d.c.status == PENDING, d.c.next_attempt_at <= now,
                    # an expired alert is never sent, even before housekeeping marks it
                    d.c.alert_id.not_in(_expired_alerts(now)))
             .order_by(*order).limit(limit))
    if skip_locked:
        # PostgreSQL: the rows are picked once, in a CTE (one with FOR UPDATE is never
        # folded into the UPDATE). As ``id IN (subquery)``, a claim right after a large
        # fan-out sometimes ran for 20 s among 18,000 queued rows (over 4 min among
        # 60,000) while sending stood still (bench/last_subscriber.py; a stack dump
        # showed the worker waiting on that one UPDATE). The likely cause is a plan
        # made from statistics of the still-empty table that runs the sorted, locking
        # subquery more than once; with the CTE the stalls are gone.
        picked = inner.with_for_update(skip_locked=True).cte("picked")
        target: sa.ColumnElement[bool] = d.c.id == picked.c.id
    else:
        target = d.c.id.in_(inner.scalar_subquery())
    stmt = (sa.update(d).where(target)
            .values(status=IN_FLIGHT, claimed_by=worker, attempts=d.c.attempts + 1,
                    updated_at=now)
            .returning(d.c.id, d.c.alert_id, d.c.language, d.c.recipients, d.c.reply_to,
                       d.c.idempotency_key, d.c.attempts, d.c.priority, d.c.reply_to_delivery,
                       d.c.message_ids, d.c.timeouts))
    claimed = [Delivery(id=r.id, alert_id=r.alert_id, channel=channel, language=r.language,
                        recipients=tuple(r.recipients), reply_to=r.reply_to,
                        idempotency_key=r.idempotency_key, attempts=r.attempts,
                        priority=r.priority, reply_to_delivery=r.reply_to_delivery,
                        timeouts=r.timeouts, status=DeliveryStatus.IN_FLIGHT,
                        parts_sent=tuple(r.message_ids or ()))
               for r in conn.execute(stmt)]
    claimed = _resolve_replies(conn, claimed, now)
    claimed.sort(key=lambda c: (-c.priority, c.id or 0))
    return claimed


def _resolve_replies(conn: sa.Connection, claimed: list[Delivery], now: dt.datetime
                     ) -> list[Delivery]:
    """Follow-ups reply to the original's message: wait while the original is still
    being sent; drop the follow-up where the original never arrived."""
    pending = {c.id for c in claimed if c.reply_to_delivery is not None and not c.reply_to}
    if not pending:
        return claimed
    targets = {c.reply_to_delivery for c in claimed if c.id in pending}
    originals = {r.id: r for r in conn.execute(
        sa.select(d.c.id, d.c.status, d.c.provider_message_id).where(d.c.id.in_(targets)))}
    keep: list[Delivery] = []
    wait: list[int] = []
    drop: list[int] = []
    resolved: list[dict[str, Any]] = []
    for c in claimed:
        if c.id not in pending:
            keep.append(c)
            continue
        o = originals.get(c.reply_to_delivery)
        assert c.id is not None
        if o is None or o.status in (DeliveryStatus.FAILED.value,
                                     DeliveryStatus.CANCELLED.value,
                                     DeliveryStatus.EXPIRED.value):
            drop.append(c.id)
        elif o.status == DeliveryStatus.SENT.value:
            keep.append(dataclasses.replace(c, reply_to=o.provider_message_id))
            resolved.append({"b_id": c.id, "b_reply": o.provider_message_id})
        else:
            wait.append(c.id)
    if wait:
        conn.execute(sa.update(d).where(d.c.id.in_(wait)).values(
            status=PENDING, claimed_by=None, attempts=d.c.attempts - 1,
            next_attempt_at=now + dt.timedelta(seconds=0.5)))
    if drop:
        conn.execute(sa.update(d).where(d.c.id.in_(drop)).values(
            status=DeliveryStatus.CANCELLED.value, claimed_by=None, updated_at=now,
            last_error="the original message did not reach this recipient"))
    if resolved:
        conn.execute(sa.update(d).where(d.c.id == sa.bindparam("b_id")).values(
            reply_to=sa.bindparam("b_reply")), resolved)
    return keep


def record(conn: sa.Connection, channel: str, outcomes: Sequence[Outcome]) -> int:
    """Write outcomes, grouped by status into executemany batches, and deactivate the
    recipients who blocked the bot or left; returns how many were deactivated."""
    now = utcnow()
    groups: dict[DeliveryStatus, list[Outcome]] = {}
    deactivate: list[str] = []
    for o in outcomes:
        deactivate.extend(o.deactivate)
        groups.setdefault(o.status, []).append(o)
    for status, rows in groups.items():
        values: dict[str, Any] = {"status": status.value, "claimed_by": None,
                                  "updated_at": now, "last_error": sa.bindparam("b_err")}
        if status is DeliveryStatus.SENT:
            values |= {"provider_message_id": sa.bindparam("b_pmid"),
                       "message_ids": sa.bindparam("b_mids"), "sent_at": sa.bindparam("b_at")}
        if status is DeliveryStatus.PENDING:
            values["next_attempt_at"] = sa.bindparam("b_next")
            if any(r.message_ids for r in rows):  # parts sent before the retry
                values["message_ids"] = sa.bindparam("b_mids")
            if any(r.attempts is not None for r in rows):
                values["attempts"] = sa.func.coalesce(sa.bindparam("b_att", type_=sa.Integer),
                                                      d.c.attempts)
        if any(r.timeouts is not None for r in rows):
            values["timeouts"] = sa.func.coalesce(sa.bindparam("b_to", type_=sa.Integer),
                                                  d.c.timeouts)
        stmt = sa.update(d).where(d.c.id == sa.bindparam("b_id")).values(**values)
        conn.execute(stmt, [{"b_id": r.id,
                             "b_err": redact(r.last_error) if r.last_error else None,
                             "b_pmid": r.provider_message_id, "b_mids": list(r.message_ids) or None,
                             "b_at": r.sent_at, "b_next": r.next_attempt_at,
                             "b_att": r.attempts, "b_to": r.timeouts} for r in rows])
    return subs_store.set_active(conn, channel, deactivate, False) if deactivate else 0


def expire_due(conn: sa.Connection) -> int:
    """Pending rows of alerts past their expiry become ``expired``."""
    now = utcnow()
    return int(conn.execute(sa.update(d).where(
        d.c.status == PENDING, d.c.alert_id.in_(_expired_alerts(now))).values(
        status=DeliveryStatus.EXPIRED.value, updated_at=now,
        last_error="alert expired before it could be sent")).rowcount or 0)


def finished(conn: sa.Connection, alert_ids: sa.Select[tuple[int]]
             ) -> list[tuple[int, Mapping[str, int]]]:
    """Of the alerts ``alert_ids`` selects, those with no open row: (id, rows by status)."""
    open_rows = sa.select(d.c.id).where(d.c.alert_id == alerts.c.id, d.c.status.in_(OPEN))
    done = sa.select(alerts.c.id).where(alerts.c.id.in_(alert_ids), ~sa.exists(open_rows))
    out: dict[int, dict[str, int]] = {int(i): {} for (i,) in conn.execute(done)}
    if out:
        for aid, status, n in conn.execute(
                sa.select(d.c.alert_id, d.c.status, sa.func.count()).where(
                    d.c.alert_id.in_(list(out))).group_by(d.c.alert_id, d.c.status)):
            out[int(aid)][str(status)] = int(n)
    return sorted(out.items())


# ------------------------------------------------------------------ operators


def progress(conn: sa.Connection, alert_id: int) -> dict[str, dict[str, dict[str, Any]]]:
    """channel → language → status → {rows, recipients}."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for ch, lang, status, n, recips in conn.execute(sa.select(
            d.c.channel, d.c.language, d.c.status, sa.func.count(),
            sa.func.sum(d.c.recipient_count)).where(d.c.alert_id == alert_id).group_by(
            d.c.channel, d.c.language, d.c.status)):
        out.setdefault(ch, {}).setdefault(lang, {})[status] = {
            "rows": int(n), "recipients": int(recips or 0)}
    return out


def recipients_by_status(conn: sa.Connection, alert_id: int
                         ) -> list[tuple[str, str, str, int]]:
    """(channel, language, status, recipients) of one alert."""
    return [(ch, lang, st, int(n or 0)) for ch, lang, st, n in conn.execute(
        sa.select(d.c.channel, d.c.language, d.c.status, sa.func.sum(d.c.recipient_count))
        .where(d.c.alert_id == alert_id).group_by(d.c.channel, d.c.language, d.c.status))]


def latest_errors(conn: sa.Connection, alert_id: int, limit: int
                  ) -> list[tuple[str, str, int]]:
    """(channel, error, rows) of the alert's failed or open rows, newest error first."""
    newest = sa.func.max(d.c.updated_at)
    return [(str(ch), str(err), int(n)) for ch, err, n, _ in conn.execute(
        sa.select(d.c.channel, d.c.last_error, sa.func.count(), newest)
        .where(d.c.alert_id == alert_id, d.c.last_error.is_not(None),
               d.c.status.in_((DeliveryStatus.FAILED.value, *OPEN)))
        .group_by(d.c.channel, d.c.last_error)
        .order_by(newest.desc(), d.c.last_error).limit(limit))]


def log_rows(conn: sa.Connection, *, alert_id: int | None = None, status: str | None = None,
             channel: str | None = None, since: dt.datetime | None = None
             ) -> Iterator[sa.Row[Any]]:
    """The ledger in id order, streamed."""
    query = sa.select(d).order_by(d.c.id)
    if alert_id is not None:
        query = query.where(d.c.alert_id == alert_id)
    if status:
        query = query.where(d.c.status == status)
    if channel:
        query = query.where(d.c.channel == channel)
    if since is not None:
        query = query.where(d.c.updated_at >= since)
    yield from conn.execute(query.execution_options(yield_per=2000))


def stats_rows(conn: sa.Connection, since: dt.datetime | None) -> Iterator[sa.Row[Any]]:
    query: sa.Select[Any] = sa.select(d.c.channel, d.c.status, d.c.recipient_count,
                                      d.c.attempts, d.c.created_at, d.c.sent_at)
    if since is not None:
        query = query.where(d.c.created_at >= since)
    yield from conn.execute(query.execution_options(yield_per=5000))


def failed_rows(conn: sa.Connection, alert_id: int) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(d.c.id, d.c.channel, d.c.recipients).where(
        d.c.alert_id == alert_id, d.c.status == DeliveryStatus.FAILED.value).order_by(d.c.id)))


def reopen_failed(conn: sa.Connection, ids: Sequence[int]) -> int:
    """Failed rows back in the queue; attempts start over and the old error is kept
    as "before resend: …" until the new outcome replaces it."""
    now = utcnow()
    n = 0
    for i in range(0, len(ids), 5000):
        n += int(conn.execute(sa.update(d).where(
            d.c.id.in_(ids[i:i + 5000]), d.c.status == DeliveryStatus.FAILED.value).values(
            status=PENDING, attempts=0, next_attempt_at=now, claimed_by=None, updated_at=now,
            last_error=sa.literal("before resend: ") + sa.func.coalesce(d.c.last_error, ""))
        ).rowcount or 0)
    if n:
        wakeup.due(conn)
    return n


@dataclass(frozen=True, kw_only=True, slots=True)
class Posts:
    """Posts on a broadcast channel: ``at`` when (sent, or last touched for a row
    that posted part of a thread), ``parts`` the texts posted (each part of a
    thread is one post) or, for a queued row, the parts still to go."""

    at: dt.datetime
    alert_id: int
    language: str
    parts: tuple[str, ...]
    queued: bool = False


def lock_posts(conn: sa.Connection, channel: str) -> None:
    """Until the caller's transaction ends, no other transaction passes this point for
    ``channel``: two alerts accepted at once by two processes cannot both plan on the
    same budget. PostgreSQL: a transaction-scoped advisory lock; SQLite needs none
    (its writers are one at a time, and the caller has written already)."""
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"bousai:posts:{channel}".encode()) - 2**31
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def posts_made(conn: sa.Connection, channel: str, since: dt.datetime) -> list[Posts]:
    """What the ledger says was posted on ``channel`` since ``since``: every row
    with message ids (a sent post or thread, or the parts of a thread that went out
    before a failure) and sent rows without ids (counted as one post), and every
    queued row (pending or in flight) with the parts it has still to post. The
    texts come from the rendering the row sends, so a post with a link is known."""
    when = sa.func.coalesce(d.c.sent_at, d.c.updated_at)
    r = renderings
    # The parts per matching row through the rendering's unique index (a join lets the
    # planner hash every rendering of the channel, a year of them).
    parts_of = sa.select(r.c.parts).where(r.c.alert_id == d.c.alert_id,
                                          r.c.language == d.c.language,
                                          r.c.channel == d.c.channel).scalar_subquery()
    query = (sa.select(d.c.alert_id, d.c.language, d.c.status, d.c.message_ids, when,
                       parts_of)
             .where(d.c.channel == channel,
                    sa.or_(when >= since, d.c.status.in_(OPEN))).order_by(d.c.id))
    out = []
    for alert_id, language, status, ids, at, parts in conn.execute(query):
        ids, parts = list(ids or ()), tuple(parts or ("",))
        if status in OPEN:
            rest = parts[len(ids):]
            if rest:
                out.append(Posts(at=at, alert_id=alert_id, language=language, parts=rest,
                                 queued=True))
            if not ids or at < since:
                continue
        elif not ids and status != DeliveryStatus.SENT.value:
            continue
        n = len(ids) or 1  # a sent row without ids (X said all was posted already): one
        posted = parts[:n] + ("",) * max(0, n - len(parts))
        out.append(Posts(at=at, alert_id=alert_id, language=language, parts=posted))
    return out


def anonymise(conn: sa.Connection, channel: str, user_id: str) -> int:
    """Erase ``user_id`` from the ledger: per-chat rows through the recipient index in
    one UPDATE; the few batches (LINE multicasts) that name the user lose the member."""
    n = int(conn.execute(sa.update(d).where(d.c.channel == channel, d.c.recipient == user_id)
                         .values(recipient=None, recipients=[ERASED])).rowcount or 0)
    needle = sa.cast(d.c.recipients, sa.Text).contains(user_id)
    for row in conn.execute(sa.select(d.c.id, d.c.recipients).where(
            d.c.channel == channel, d.c.recipient_count > 1, needle)):
        if user_id in row.recipients:
            kept = [ERASED if r == user_id else r for r in row.recipients]
            conn.execute(sa.update(d).where(d.c.id == row.id).values(recipients=kept))
            n += 1
    return n
