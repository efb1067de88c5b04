"""What the operators' web console reads: plain, frozen page data from a few grouped
queries each (never one query per row), on SQLite and PostgreSQL alike.

==========================  ==========================================================
function                    returns
==========================  ==========================================================
:func:`now_page`            alerts waiting for a decision, alerts in force or sending,
                            each with its delivery progress (:class:`NowPage`)
:func:`alert_page`          one alert: renderings, ledger rows (filtered, paged),
                            audit trail, follow-ups (:class:`AlertPage`)
:func:`feeds_and_channels`  feed state, rejected documents, channel senders, leases,
                            the last rate limit seen, X budget (:class:`FeedsChannels`)
:func:`subscribers_page`    active subscribers by channel, language, ward, kind and
                            per day (:class:`SubscribersPage`)
:func:`ward_shares`         ward → share of active subscribers (for the map)
:func:`ward_progress`       ward → an alert's delivery progress (for the map)
:func:`shelter_states`      shelter id → open (True) or closed (False)
==========================  ==========================================================

Delivery progress counts recipients (``recipient_count``: one per chat, up to 500
in a LINE multicast, one per X post), with the ledger's statuses in four buckets
(:data:`BUCKETS`): ``sent``; ``pending`` (pending, in flight); ``failed`` (failed,
and expired: not reached, and no operator decided so); ``cancelled`` (stopped on
purpose: a cancellation, a correction, an X language over budget). Cancelled
recipients count in no percentage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.config import Config, process_config
from bot.db.schema import (
    alerts,
    audit_log,
    channel_states,
    deliveries,
    feed_documents,
    feed_state,
    leases,
    renderings,
    subscriber_wards,
    subscribers,
    utcnow,
)
from bot.domain import AlertStatus, DeliveryStatus, Kind, MsgType, Severity, ShelterAction
from bot.errors import AlertNotFound, BousaiError
from bot.operators import level_of
from bot.store import alerts as alert_store
from bot.store.deliveries import ERASED

d = deliveries
S = AlertStatus

#: ledger status → progress bucket
BUCKETS: Mapping[str, str] = {
    DeliveryStatus.SENT.value: "sent",
    DeliveryStatus.PENDING.value: "pending",
    DeliveryStatus.IN_FLIGHT.value: "pending",
    DeliveryStatus.FAILED.value: "failed",
    DeliveryStatus.EXPIRED.value: "failed",
    DeliveryStatus.CANCELLED.value: "cancelled",
}
RATE_WINDOW = 60.0  # seconds of sends the rate is measured over
ACTIVE_FOR = dt.timedelta(hours=24)  # a sent alert stays on the "now" page this long
WAITING = (S.PENDING_APPROVAL.value, S.HELD.value)
#: a shelter alert in one of these states reached (or is reaching) residents
SHELTER_ACCEPTED = (S.QUEUED.value, S.SENT.value, S.LIFTED.value)
#: what a platform's rate limit answer leaves in ``last_error`` (LINE and X write
#: "rate limit (429)"; Telegram's RetryAfter "Flood control exceeded. Retry in N
#: seconds"; the Bot API's own text "Too Many Requests: retry after N")
RATE_LIMIT_MARKERS = ("429", "retry after", "retry in", "flood control", "too many requests")


# ------------------------------------------------------------------ progress


@dataclass(frozen=True, kw_only=True)
class Progress:
    """Recipients of one alert on one channel in one language, by bucket.
    ``rate``: recipients sent per second over the last :data:`RATE_WINDOW` seconds;
    ``eta_seconds``: pending / rate (None when nothing was sent in that window)."""

    channel: str
    language: str
    sent: int = 0
    pending: int = 0
    failed: int = 0
    cancelled: int = 0
    rate: float = 0.0
    eta_seconds: float | None = None


@dataclass(frozen=True, kw_only=True)
class AlertProgress:
    """One alert's delivery: ``rows`` per (channel, language), sorted, and their sums.
    ``percent_done``: recipients with an outcome (sent or failed) among those not
    cancelled, 0-100 (None: no recipients); ``percent_sent`` likewise for sent."""

    rows: tuple[Progress, ...] = ()
    sent: int = 0
    pending: int = 0
    failed: int = 0
    cancelled: int = 0
    rate: float = 0.0
    eta_seconds: float | None = None
    percent_done: float | None = None
    percent_sent: float | None = None


def _eta(pending: int, rate: float) -> float | None:
    if pending <= 0:
        return 0.0
    return pending / rate if rate > 0 else None


def _progress(conn: sa.Connection, alert_ids: Sequence[int], now: dt.datetime
              ) -> dict[int, AlertProgress]:
    """Progress of each of ``alert_ids`` (an alert without rows has an empty one):
    two grouped queries."""
    if not alert_ids:
        return {}
    ids = sorted(set(alert_ids))
    counts: dict[int, dict[tuple[str, str], dict[str, int]]] = {i: {} for i in ids}
    for aid, ch, lang, status, n in conn.execute(
            sa.select(d.c.alert_id, d.c.channel, d.c.language, d.c.status,
                      sa.func.sum(d.c.recipient_count))
            .where(d.c.alert_id.in_(ids))
            .group_by(d.c.alert_id, d.c.channel, d.c.language, d.c.status)):
        bucket = BUCKETS.get(str(status), "pending")
        cell = counts[int(aid)].setdefault((str(ch), str(lang)), {})
        cell[bucket] = cell.get(bucket, 0) + int(n or 0)
    rates: dict[tuple[int, str, str], float] = {}
    for aid, ch, lang, n in conn.execute(
            sa.select(d.c.alert_id, d.c.channel, d.c.language, sa.func.sum(d.c.recipient_count))
            .where(d.c.alert_id.in_(ids), d.c.status == DeliveryStatus.SENT.value,
                   d.c.sent_at > now - dt.timedelta(seconds=RATE_WINDOW), d.c.sent_at <= now)
            .group_by(d.c.alert_id, d.c.channel, d.c.language)):
        rates[(int(aid), str(ch), str(lang))] = int(n or 0) / RATE_WINDOW
    out = {}
    for aid, cells in counts.items():
        rows = []
        for (ch, lang), c in sorted(cells.items()):
            rate = rates.get((aid, ch, lang), 0.0)
            rows.append(Progress(channel=ch, language=lang, sent=c.get("sent", 0),
                                 pending=c.get("pending", 0), failed=c.get("failed", 0),
                                 cancelled=c.get("cancelled", 0), rate=rate,
                                 eta_seconds=_eta(c.get("pending", 0), rate)))
        out[aid] = _total(tuple(rows))
    return out


def _total(rows: tuple[Progress, ...]) -> AlertProgress:
    sent = sum(r.sent for r in rows)
    pending = sum(r.pending for r in rows)
    failed = sum(r.failed for r in rows)
    rate = sum(r.rate for r in rows)
    live = sent + pending + failed
    # Channels send side by side: the alert is done when its slowest channel is.
    etas = [r.eta_seconds for r in rows if r.pending]
    eta = 0.0 if not etas else None if None in etas else max(e for e in etas if e is not None)
    return AlertProgress(
        rows=rows, sent=sent, pending=pending, failed=failed,
        cancelled=sum(r.cancelled for r in rows), rate=rate, eta_seconds=eta,
        percent_done=100.0 * (sent + failed) / live if live else None,
        percent_sent=100.0 * sent / live if live else None)


# ------------------------------------------------------------------ alerts


@dataclass(frozen=True, kw_only=True)
class AlertSummary:
    """An alert as the console lists it. ``severity`` is the CAP severity's name
    (unknown … extreme); ``level`` the payload's level where it has one (evacuation
    3-5, volcanic alert level 1-5), else None; ``progress`` None for alerts that
    have no delivery rows to show (waiting ones)."""

    id: int
    source: str
    kind: str
    msg_type: str
    severity: str
    level: int | None
    wards: tuple[str, ...]
    headline_ja: str
    body_ja: str
    status: str
    status_reason: str | None
    test: bool
    created_by: str | None
    approved_by: str | None
    issued: dt.datetime
    expires: dt.datetime | None
    send_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    ref_alert_id: int | None
    progress: AlertProgress | None = None


def _level(row: Any) -> int | None:
    try:
        return level_of(alert_store.row_to_alert(row))
    except (BousaiError, ValueError):  # a row this version cannot read: no level shown
        return None


def _severity(value: int) -> str:
    try:
        return Severity(int(value)).name.lower()
    except ValueError:
        return str(value)


def _summary(row: Any, progress: AlertProgress | None = None) -> AlertSummary:
    return AlertSummary(
        id=int(row.id), source=str(row.source), kind=str(row.kind), msg_type=str(row.msg_type),
        severity=_severity(row.severity), level=_level(row), wards=tuple(row.wards or ()),
        headline_ja=str(row.headline_ja), body_ja=str(row.body_ja), status=str(row.status),
        status_reason=row.status_reason, test=bool(row.test), created_by=row.created_by,
        approved_by=row.approved_by, issued=row.issued, expires=row.expires,
        send_at=row.send_at, created_at=row.created_at, updated_at=row.updated_at,
        ref_alert_id=row.ref_alert_id, progress=progress)


@dataclass(frozen=True, kw_only=True)
class NowPage:
    """``waiting``: alerts held or pending approval, newest first. ``active``: alerts
    being sent (queued, scheduled ones included) or sent, finished (their
    ``updated_at``) within :data:`ACTIVE_FOR` of ``now`` and not expired by then,
    newest first, each with its progress; test alerts included (``test``).
    Cancelled, lifted, failed and expired alerts are in neither."""

    now: dt.datetime
    waiting: tuple[AlertSummary, ...]
    active: tuple[AlertSummary, ...]


def now_page(conn: sa.Connection, *, now: dt.datetime) -> NowPage:
    """The console's first page (four queries)."""
    waiting = conn.execute(sa.select(alerts).where(alerts.c.status.in_(WAITING))
                           .order_by(alerts.c.id.desc())).all()
    active = conn.execute(sa.select(alerts).where(sa.or_(
        alerts.c.status == S.QUEUED.value,
        sa.and_(alerts.c.status == S.SENT.value, alerts.c.updated_at >= now - ACTIVE_FOR,
                sa.or_(alerts.c.expires.is_(None), alerts.c.expires > now)),
    )).order_by(alerts.c.id.desc())).all()
    progress = _progress(conn, [int(r.id) for r in active], now)
    return NowPage(now=now, waiting=tuple(_summary(r) for r in waiting),
                   active=tuple(_summary(r, progress[int(r.id)]) for r in active))


@dataclass(frozen=True, kw_only=True)
class RenderingRow:
    """A stored rendering: the parts sent on ``channel`` in ``language``."""

    language: str
    channel: str
    parts: tuple[str, ...]
    machine_translated: bool
    buttons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class LedgerRow:
    """A delivery row. ``recipient``: the chat of a per-chat row, the account or
    channel chat of a broadcast post ("timeline" for X); None for a multicast of
    several (``recipient_count`` of them) or an erased subscriber's row."""

    id: int
    channel: str
    language: str
    recipient: str | None
    recipient_count: int
    status: str
    attempts: int
    timeouts: int
    last_error: str | None
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class FilterChoices:
    """The values present among the alert's delivery rows, sorted."""

    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    id: int
    at: dt.datetime
    operator: str
    action: str
    details: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class AlertPage:
    """One alert. ``deliveries``: the ledger rows matching the filters, in id order,
    ``limit`` from ``offset``; ``matching``: how many match in all. ``audit``: its
    audit trail, oldest first. ``follow_ups``: alerts referring to it (updates,
    liftings, cancellations), oldest first, each with its progress."""

    alert: AlertSummary
    source_id: str
    references: str | None
    areas: tuple[str, ...]
    texts: Mapping[str, str]
    renderings: tuple[RenderingRow, ...]
    deliveries: tuple[LedgerRow, ...]
    matching: int
    limit: int
    offset: int
    filters: FilterChoices
    audit: tuple[AuditEntry, ...]
    follow_ups: tuple[AlertSummary, ...]


def _ledger_filter(alert_id: int, status: str | None, channel: str | None,
                   language: str | None, error: str | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [d.c.alert_id == alert_id]
    if status:
        conds.append(d.c.status == status)
    if channel:
        conds.append(d.c.channel == channel)
    if language:
        conds.append(d.c.language == language)
    if error:
        conds.append(d.c.last_error.contains(error, autoescape=True))
    return conds


def alert_page(conn: sa.Connection, alert_id: int, *, status: str | None = None,
               channel: str | None = None, language: str | None = None,
               error: str | None = None, limit: int = 200, offset: int = 0,
               now: dt.datetime | None = None) -> AlertPage:
    """Everything about one alert; ``error`` keeps rows whose last error contains it.
    :class:`~bot.errors.AlertNotFound` (a LookupError) when there is no such alert."""
    now = now or utcnow()
    row = alert_store.get_row(conn, alert_id)
    rendered = tuple(
        RenderingRow(language=str(r.language), channel=str(r.channel), parts=tuple(r.parts),
                     machine_translated=bool(r.machine_translated),
                     buttons=tuple((str(b[0]), str(b[1])) for b in r.buttons or ()))
        for r in conn.execute(sa.select(renderings).where(renderings.c.alert_id == alert_id)
                              .order_by(renderings.c.language, renderings.c.channel)))
    conds = _ledger_filter(alert_id, status, channel, language, error)
    page = conn.execute(
        sa.select(d.c.id, d.c.channel, d.c.language, d.c.recipient, d.c.recipient_count,
                  d.c.status, d.c.attempts, d.c.timeouts, d.c.last_error, d.c.sent_at,
                  d.c.next_attempt_at, d.c.updated_at)
        .where(*conds).order_by(d.c.id).limit(max(0, limit)).offset(max(0, offset))).all()
    # Broadcast posts keep their target only in ``recipients``: one query for the page.
    lone = [int(r.id) for r in page if r.recipient is None and r.recipient_count == 1]
    targets = {int(i): rs[0] for i, rs in conn.execute(
        sa.select(d.c.id, d.c.recipients).where(d.c.id.in_(lone)))
        if rs and rs[0] != ERASED} if lone else {}
    ledger_rows = tuple(LedgerRow(
        id=int(r.id), channel=str(r.channel), language=str(r.language),
        recipient=r.recipient if r.recipient is not None else targets.get(int(r.id)),
        recipient_count=int(r.recipient_count), status=str(r.status), attempts=int(r.attempts),
        timeouts=int(r.timeouts or 0), last_error=r.last_error, sent_at=r.sent_at,
        next_attempt_at=r.next_attempt_at, updated_at=r.updated_at) for r in page)
    matching = int(conn.execute(sa.select(sa.func.count()).select_from(d).where(*conds))
                   .scalar_one())
    combos = conn.execute(sa.select(d.c.status, d.c.channel, d.c.language)
                          .where(d.c.alert_id == alert_id)
                          .group_by(d.c.status, d.c.channel, d.c.language)).all()
    filters = FilterChoices(statuses=tuple(sorted({str(c[0]) for c in combos})),
                            channels=tuple(sorted({str(c[1]) for c in combos})),
                            languages=tuple(sorted({str(c[2]) for c in combos})))
    trail = tuple(AuditEntry(id=int(a.id), at=a.at, operator=str(a.operator),
                             action=str(a.action), details=dict(a.details or {}))
                  for a in conn.execute(sa.select(audit_log).where(
                      audit_log.c.alert_id == alert_id).order_by(audit_log.c.id)))
    follows = conn.execute(sa.select(alerts).where(alerts.c.ref_alert_id == alert_id)
                           .order_by(alerts.c.id)).all()
    progress = _progress(conn, [alert_id, *(int(f.id) for f in follows)], now)
    return AlertPage(
        alert=_summary(row, progress[alert_id]), source_id=str(row.source_id),
        references=row.references, areas=tuple(row.areas or ()), texts=dict(row.texts or {}),
        renderings=rendered, deliveries=ledger_rows, matching=matching, limit=limit,
        offset=offset, filters=filters, audit=trail,
        follow_ups=tuple(_summary(f, progress[int(f.id)]) for f in follows))


# ------------------------------------------------------------------ feeds, channels


@dataclass(frozen=True, kw_only=True)
class FeedRow:
    """A feed's state. ``age_seconds``: since its last success (None: never);
    ``backoff_seconds``: until ``next_poll_at`` when that is still ahead (the
    back-off after failures), else 0; ``rejected``: documents it refused, the
    newest refusal in ``last_rejected`` ("doc key: reason")."""

    name: str
    url: str
    last_success_at: dt.datetime | None
    age_seconds: float | None
    last_error_at: dt.datetime | None
    last_error: str | None
    documents_seen: int
    consecutive_failures: int
    next_poll_at: dt.datetime | None
    backoff_seconds: float
    connected_since: dt.datetime | None = None  # push sources only
    reconnects: int | None = None
    rejected: int = 0
    last_rejected: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rejection:
    feed: str
    doc_key: str
    outcome: str
    seen_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ChannelRow:
    """A channel's sender. ``state`` (sending, paused, stopped; None: no worker has
    written one) as its worker last wrote it; the lease (``channel:<name>``) and
    whether it is still held at ``now``; the queue (rows pending, in flight, open
    with an unknown earlier outcome).

    The last rate limit (429): nothing records when a platform last answered 429;
    the ledger keeps the answer only in ``last_error`` of rows still open or
    failed (a row sent later has it replaced). ``rate_limited_rows`` counts those
    rows, ``last_rate_limited_at`` is the newest one's ``updated_at`` (when that
    answer was recorded) and ``last_rate_limit_error`` its text."""

    channel: str
    state: str | None
    since: dt.datetime | None
    detail: str | None
    worker: str | None
    state_updated_at: dt.datetime | None
    lease_holder: str | None
    lease_expires_at: dt.datetime | None
    lease_held: bool
    pending: int = 0
    in_flight: int = 0
    unknown_outcome: int = 0
    rate_limited_rows: int = 0
    last_rate_limited_at: dt.datetime | None = None
    last_rate_limit_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class FeedsChannels:
    """``x_budget``: :func:`bot.xbudget.report` (spent, budget and ``left`` per
    window) and ``x_left`` :func:`bot.xbudget.left` (day, month: money; posts_24h:
    posts; None: no limit); both None when X is not configured."""

    now: dt.datetime
    feeds: tuple[FeedRow, ...]
    rejections: tuple[Rejection, ...]
    channels: tuple[ChannelRow, ...]
    x_budget: Mapping[str, Any] | None = None
    x_left: Mapping[str, float | int | None] | None = None


def _rate_limited() -> sa.ColumnElement[bool]:
    text = sa.func.lower(d.c.last_error)
    return sa.or_(*(text.contains(m, autoescape=True) for m in RATE_LIMIT_MARKERS))


def _feeds(conn: sa.Connection, now: dt.datetime, recent: int
           ) -> tuple[tuple[FeedRow, ...], tuple[Rejection, ...]]:
    fd = feed_documents
    refused = fd.c.outcome.like("rejected: %")
    per_feed = {str(f): (int(n), m) for f, n, m in conn.execute(
        sa.select(fd.c.feed, sa.func.count(), sa.func.max(fd.c.seen_at)).where(refused)
        .group_by(fd.c.feed))}
    newest = sa.select(fd.c.feed, sa.func.max(fd.c.seen_at).label("at")).where(
        refused).group_by(fd.c.feed).subquery()
    last: dict[str, str] = {}
    for feed, key, outcome in conn.execute(
            sa.select(fd.c.feed, fd.c.doc_key, fd.c.outcome)
            .join(newest, sa.and_(fd.c.feed == newest.c.feed, fd.c.seen_at == newest.c.at))
            .where(refused).order_by(fd.c.feed, fd.c.doc_key)):
        last.setdefault(str(feed), f"{key}: {outcome}")
    rejections = tuple(Rejection(feed=str(r.feed), doc_key=str(r.doc_key),
                                 outcome=str(r.outcome), seen_at=r.seen_at)
                       for r in conn.execute(sa.select(fd).where(refused).order_by(
                           fd.c.seen_at.desc(), fd.c.feed, fd.c.doc_key).limit(recent)))
    feeds = []
    for r in conn.execute(sa.select(feed_state).order_by(feed_state.c.name)):
        wait = (r.next_poll_at - now).total_seconds() if r.next_poll_at else 0.0
        feeds.append(FeedRow(
            name=str(r.name), url=str(r.url), last_success_at=r.last_success_at,
            age_seconds=(now - r.last_success_at).total_seconds()
            if r.last_success_at else None,
            last_error_at=r.last_error_at, last_error=r.last_error,
            documents_seen=int(r.documents_seen or 0),
            consecutive_failures=int(r.consecutive_failures or 0),
            next_poll_at=r.next_poll_at, backoff_seconds=max(0.0, wait),
            connected_since=r.connected_since, reconnects=r.reconnects,
            rejected=per_feed.get(str(r.name), (0, None))[0], last_rejected=last.get(str(r.name))))
    return tuple(feeds), rejections


def _channels(conn: sa.Connection, names: Iterable[str], now: dt.datetime
              ) -> tuple[ChannelRow, ...]:
    states = {str(r.channel): r for r in conn.execute(sa.select(channel_states))}
    held = {str(r.name).removeprefix("channel:"): r for r in conn.execute(
        sa.select(leases).where(leases.c.name.like("channel:%")))}
    queue: dict[str, dict[str, int]] = {}
    unknown = sa.func.sum(sa.case((d.c.timeouts > 0, 1), else_=0))
    for ch, status, n, u in conn.execute(
            sa.select(d.c.channel, d.c.status, sa.func.count(), unknown)
            .where(d.c.status.in_((DeliveryStatus.PENDING.value,
                                   DeliveryStatus.IN_FLIGHT.value)))
            .group_by(d.c.channel, d.c.status)):
        q = queue.setdefault(str(ch), {"pending": 0, "in_flight": 0, "unknown_outcome": 0})
        q[str(status)] = int(n)
        q["unknown_outcome"] += int(u or 0)
    # Rows that still carry a rate-limit answer are open or failed (the status index).
    carrying = sa.and_(d.c.status.in_((DeliveryStatus.PENDING.value,
                                       DeliveryStatus.IN_FLIGHT.value,
                                       DeliveryStatus.FAILED.value)), _rate_limited())
    limited = sa.select(d.c.channel, sa.func.count().label("n"),
                        sa.func.max(d.c.updated_at).label("at")).where(carrying).group_by(
        d.c.channel).subquery()
    rl: dict[str, tuple[int, dt.datetime, str | None]] = {}
    for ch, n, at, err in conn.execute(
            sa.select(limited.c.channel, limited.c.n, limited.c.at, d.c.last_error)
            .join(d, sa.and_(d.c.channel == limited.c.channel, d.c.updated_at == limited.c.at))
            .where(carrying).order_by(limited.c.channel, d.c.id.desc())):
        rl.setdefault(str(ch), (int(n), at, err))
    out = []
    for name in sorted(set(names) | set(states) | set(held) | set(queue)):
        st, lease, q = states.get(name), held.get(name), queue.get(name, {})
        n, at, err = rl.get(name, (0, None, None))
        out.append(ChannelRow(
            channel=name, state=st.state if st else None, since=st.since if st else None,
            detail=st.detail if st else None, worker=st.worker if st else None,
            state_updated_at=st.updated_at if st else None,
            lease_holder=lease.holder if lease else None,
            lease_expires_at=lease.expires_at if lease else None,
            lease_held=bool(lease and lease.expires_at >= now),
            pending=q.get("pending", 0), in_flight=q.get("in_flight", 0),
            unknown_outcome=q.get("unknown_outcome", 0), rate_limited_rows=n,
            last_rate_limited_at=at, last_rate_limit_error=err))
    return tuple(out)


def feeds_and_channels(conn: sa.Connection, *, now: dt.datetime, config: Config | None = None,
                       recent_rejections: int = 20) -> FeedsChannels:
    """Feeds, the newest ``recent_rejections`` refused documents, every channel (those
    configured, and any a worker, lease or queued row names) and the X budget of
    ``config`` (default: this process's configuration)."""
    from bot import xbudget  # imports the X channel (and its SDK): only when asked

    cfg = config or process_config()
    feeds, rejections = _feeds(conn, now, recent_rejections)
    channels = _channels(conn, (n for n, c in cfg.channels.items() if c.enabled), now)
    budget = left = None
    if xbudget.CHANNEL in cfg.channels:
        spent = xbudget.spent(conn, cfg, now=now)
        budget, left = xbudget.report(cfg, spent), xbudget.left(cfg, spent)
    return FeedsChannels(now=now, feeds=feeds, rejections=rejections, channels=channels,
                         x_budget=budget, x_left=left)


# ------------------------------------------------------------------ subscribers


@dataclass(frozen=True, kw_only=True)
class Day:
    """One calendar day: ``active`` subscribers at its end (see
    :func:`subscribers_page` for how that is estimated), ``new`` sign-ups in it."""

    day: dt.date
    active: int
    new: int


@dataclass(frozen=True, kw_only=True)
class SubscribersPage:
    """Active subscribers (``test`` ones included; ``test_active`` says how many).
    ``by_ward``: those who chose each ward (a subscriber of several counts in each);
    ``whole_city``: those who chose none (they receive every ward's alerts);
    ``by_kind``: Kind value → those who receive it; ``days``: oldest first, the last
    one the day of ``now``."""

    now: dt.datetime
    active: int
    inactive: int
    test_active: int
    by_channel: Mapping[str, int]
    by_language: Mapping[str, int]
    by_ward: Mapping[str, int]
    whole_city: int
    by_kind: Mapping[str, int]
    days: tuple[Day, ...] = field(default=())


def _no_wards() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(subscriber_wards.c.subscriber_id == subscribers.c.id)


def _ward_counts(conn: sa.Connection) -> tuple[dict[str, int], int, int]:
    """(ward → active subscribers who chose it, active with no ward, active in all)."""
    s = subscribers
    by_ward = {str(w): int(n) for w, n in conn.execute(
        sa.select(subscriber_wards.c.ward, sa.func.count())
        .select_from(subscriber_wards.join(s, s.c.id == subscriber_wards.c.subscriber_id))
        .where(s.c.active.is_(True)).group_by(subscriber_wards.c.ward))}
    city = conn.execute(sa.select(sa.func.count()).select_from(s).where(
        s.c.active.is_(True), _no_wards())).scalar_one()
    total = conn.execute(sa.select(sa.func.count()).select_from(s).where(
        s.c.active.is_(True))).scalar_one()
    return by_ward, int(city), int(total)


def subscribers_page(conn: sa.Connection, *, now: dt.datetime, days: int = 30) -> SubscribersPage:
    """Subscriber counts, and the last ``days`` calendar days (in the time zone of
    ``now``: pass it as city time for the city's days).

    Per day, ``active`` is estimated: subscribers created by the day's end that are
    active now or were last changed after it. The database keeps no history: a
    subscriber who stopped is taken to have stopped when their row last changed,
    and one who stopped and came back counts as active since they first signed up;
    erased subscribers are gone from every day. ``new``: rows created that day
    (a subscriber who signed up again keeps their first date)."""
    s = subscribers
    by_channel: dict[str, int] = {}
    inactive = 0
    # (channel, active) from the (channel, active, language) index alone
    for ch, active, n in conn.execute(
            sa.select(s.c.channel, s.c.active, sa.func.count())
            .group_by(s.c.channel, s.c.active)):
        if active:
            by_channel[str(ch)] = int(n)
        else:
            inactive += int(n)
    test_active = int(conn.execute(sa.select(sa.func.count()).select_from(s).where(
        s.c.active.is_(True), s.c.test.is_(True))).scalar_one())
    by_language = {str(lang): int(n) for lang, n in conn.execute(
        sa.select(s.c.language, sa.func.count()).where(s.c.active.is_(True))
        .group_by(s.c.language))}
    by_ward, whole_city, total = _ward_counts(conn)
    # by distinct mask (a few hundred at most), the bits counted here
    by_kind = {k.value: 0 for k in Kind}
    for mask, n in conn.execute(sa.select(s.c.kinds_mask, sa.func.count())
                                .where(s.c.active.is_(True)).group_by(s.c.kinds_mask)):
        for k in Kind:
            if int(mask) & k.bit:
                by_kind[k.value] += int(n)
    return SubscribersPage(now=now, active=total, inactive=inactive, test_active=test_active,
                           by_channel=by_channel, by_language=by_language, by_ward=by_ward,
                           whole_city=whole_city, by_kind=by_kind,
                           days=_days(conn, now, days))


def _local_day(conn: sa.Connection, column: Any, now: dt.datetime) -> Any:
    """The calendar day of a stored UTC time in ``now``'s time zone, as SQL. SQLite
    shifts by ``now``'s UTC offset (a zone with summer time is off by an hour around
    the change; the city's Asia/Tokyo has none); PostgreSQL converts by zone name."""
    zone = getattr(now.tzinfo, "key", None)
    if conn.dialect.name == "postgresql" and zone:
        return sa.func.date(sa.func.timezone(zone, column))
    minutes = int((now.utcoffset() or dt.timedelta()).total_seconds() // 60)
    if conn.dialect.name == "postgresql":
        return sa.func.date(column + sa.text(f"interval '{minutes} minutes'"))
    return sa.func.date(column, f"{minutes:+d} minutes")


def _days(conn: sa.Connection, now: dt.datetime, days: int) -> tuple[Day, ...]:
    """Three grouped queries: the subscribers who were active throughout (a count),
    and, of the few whose rows changed within the window (signed up, or stopped), how
    many were made and how many stopped on each calendar day of ``now``'s zone (the
    database groups them; no row leaves it)."""
    if days <= 0:
        return ()
    s = subscribers
    today = now.date()
    dates = [today - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    first = dt.datetime.combine(dates[0], dt.time(), now.tzinfo)
    # Every row outside ``changed`` was created before the window and is active now
    # or stopped before it: at each day's end it counts exactly when it is active.
    changed = sa.or_(s.c.created_at >= first,
                     sa.and_(s.c.active.is_(False), s.c.updated_at >= first))
    steady = int(conn.execute(sa.select(sa.func.count()).select_from(s).where(
        s.c.active.is_(True), ~changed)).scalar_one())

    def per_day(column: Any, *where: Any) -> dict[dt.date, int]:
        day = _local_day(conn, column, now).label("day")
        return {dt.date.fromisoformat(str(d)[:10]): int(n) for d, n in conn.execute(
            sa.select(day, sa.func.count()).where(changed, *where).group_by(day))}

    made = per_day(s.c.created_at)
    # a stopped row no longer counts from max(created, updated)
    stopped = sa.case((s.c.updated_at > s.c.created_at, s.c.updated_at),
                      else_=s.c.created_at)
    gone = per_day(stopped, s.c.active.is_(False))
    made_by = sum(n for d, n in made.items() if d < dates[0])
    gone_by = sum(n for d, n in gone.items() if d < dates[0])
    out = []
    for day in dates:
        made_by += made.get(day, 0)
        gone_by += gone.get(day, 0)
        out.append(Day(day=day, active=steady + made_by - gone_by, new=made.get(day, 0)))
    return tuple(out)


# ------------------------------------------------------------------ map values


def ward_shares(conn: sa.Connection, config: Config) -> dict[str, float]:
    """Ward code → share (0..1) of active subscribers who receive that ward's alerts:
    those who chose it plus those who chose no ward (the whole city). Every ward of
    ``config`` is there; all 0.0 when there is no active subscriber."""
    by_ward, whole_city, total = _ward_counts(conn)
    return {code: (by_ward.get(code, 0) + whole_city) / total if total else 0.0
            for code in config.ward_codes}


def ward_progress(conn: sa.Connection, alert_id: int, *, config: Config | None = None
                  ) -> dict[str, float]:
    """Ward code → the alert's delivery progress there (0..1): recipients sent among
    those sent, pending or failed (cancelled ones left out) of its deliveries to
    subscribers of that ward. A per-chat row counts for the wards of the subscriber
    it went to, a multicast for those of each member, a subscriber with no ward for
    every ward the alert targets; a broadcast post (X, a Telegram channel) counts
    for every ward the alert targets (all of ``config``'s for a city-wide alert;
    default: this process's configuration). A ward with nothing to count is left
    out (no value on the map). Rows of erased subscribers count nowhere."""
    row = conn.execute(sa.select(alerts.c.wards).where(alerts.c.id == alert_id)).first()
    if row is None:
        raise AlertNotFound(alert_id)
    targeted = tuple(row.wards or ()) or (config or process_config()).ward_codes
    s, sw = subscribers, subscriber_wards
    counts: dict[str, dict[str, int]] = {}

    def add(ward: str, status: str, n: int) -> None:
        bucket = BUCKETS.get(status, "pending")
        cell = counts.setdefault(ward, {})
        cell[bucket] = cell.get(bucket, 0) + n

    ward_of = sa.func.coalesce(sw.c.ward, "")  # "": a subscriber with no ward
    per_chat = (d.join(s, sa.and_(s.c.channel == d.c.channel, s.c.user_id == d.c.recipient))
                .outerjoin(sw, sw.c.subscriber_id == s.c.id))
    for ward, status, n in conn.execute(
            sa.select(ward_of, d.c.status, sa.func.sum(d.c.recipient_count))
            .select_from(per_chat)
            .where(d.c.alert_id == alert_id, d.c.recipient.is_not(None))
            .group_by(ward_of, d.c.status)):
        for w in ([str(ward)] if ward else targeted):
            add(w, str(status), int(n or 0))
    if conn.dialect.name == "postgresql":
        members = sa.func.json_array_elements_text(d.c.recipients).table_valued(
            "value").lateral()
    else:
        members = sa.func.json_each(d.c.recipients).table_valued("value")
    batch = (d.join(members, sa.true())
             .join(s, sa.and_(s.c.channel == d.c.channel, s.c.user_id == members.c.value))
             .outerjoin(sw, sw.c.subscriber_id == s.c.id))
    for ward, status, n in conn.execute(
            sa.select(ward_of, d.c.status, sa.func.count()).select_from(batch)
            .where(d.c.alert_id == alert_id, d.c.recipient.is_(None),
                   d.c.recipient_count > 1)
            .group_by(ward_of, d.c.status)):
        for w in ([str(ward)] if ward else targeted):
            add(w, str(status), int(n or 0))
    erased = sa.cast(d.c.recipients, sa.Text).contains(ERASED, autoescape=True)
    for status, n in conn.execute(
            sa.select(d.c.status, sa.func.sum(d.c.recipient_count))
            .where(d.c.alert_id == alert_id, d.c.recipient.is_(None),
                   d.c.recipient_count == 1, ~erased)
            .group_by(d.c.status)):
        for w in targeted:
            add(w, str(status), int(n or 0))
    out = {}
    for ward, cell in counts.items():
        live = cell.get("sent", 0) + cell.get("pending", 0) + cell.get("failed", 0)
        if live:
            out[ward] = cell.get("sent", 0) / live
    return out


# ------------------------------------------------------------------ shelters


def shelter_states(conn: sa.Connection) -> dict[str, bool]:
    """Shelter id → open (True) or closed (False), from the shelter alerts that went
    out (queued, sent, or lifted later), tests and cancelled ones left out; the last
    by issue time decides. An alert or correction says what its ``action`` says; a
    lifting of an opening closes its shelters (a follow-up repeats its original's
    payload, so its own ``action`` is not read); a cancellation decides nothing
    (its original, now cancelled, no longer counts). Shelters no alert named are
    not in the answer (unknown)."""
    rows = conn.execute(
        sa.select(alerts).where(alerts.c.kind == Kind.SHELTER.value,
                                alerts.c.test.is_(False),
                                alerts.c.status.in_(SHELTER_ACCEPTED),
                                alerts.c.msg_type != MsgType.CANCEL.value)
        .order_by(alerts.c.issued, alerts.c.id)).all()
    out: dict[str, bool] = {}
    for row in rows:
        try:
            payload = alert_store.row_to_alert(row).payload
        except (BousaiError, ValueError):
            continue  # a row this version cannot read
        ids = getattr(payload, "shelter_ids", None)
        action = getattr(payload, "action", None)
        if not ids or action not in tuple(ShelterAction):
            continue
        opened = action is ShelterAction.OPENED
        if row.msg_type == MsgType.LIFT.value:
            if not opened:
                continue  # the end of a closure says nothing clear
            opened = False
        for sid in ids:
            out[str(sid)] = opened
    return out
