"""Prometheus metrics: what the service did (counters, histograms kept in this
process) and what the database says now (gauges read at scrape time).

Every family lives in :data:`REGISTRY`, a registry this module owns (not
``prometheus_client``'s global one), so tests read it directly and nothing else in
the process adds to ``/metrics``. Serve it with :func:`metrics_route` (``GET
/metrics``) or :func:`render`.

Counted in this process (reset when it restarts; ``rate()`` copes)::

    bousai_deliveries_total{channel,language,outcome}
        delivery rows whose outcome the dispatcher recorded. outcome: sent; failed
        (the platform refused the message, or attempts ran out); gone (the
        recipients blocked the bot or left: failed and unsubscribed); retry (the
        platform said "not now": 5xx, 429, timeout; the row waits and is sent
        again); requeued (never reached the platform: channel paused or stopped,
        connection refused; the row goes back without spending an attempt).
        Rows cancelled or expired by the lifecycle and housekeeping (in bulk,
        outside the dispatcher) are not counted here; ``bousai_alerts`` and the
        ledger show them.
    bousai_delivery_recipients_total{channel,language,outcome}
        the same outcomes counted in recipients (a LINE multicast row is up to 500)
    bousai_send_seconds{channel}                  histogram: one platform call
    bousai_accept_to_first_send_seconds{channel}  histogram: from the alert's
        acceptance (its delivery rows' ``created_at``) to its first sent delivery
        on that channel; observed once per alert and channel per process
    bousai_rate_limited_total{channel}   sends the platform answered 429
    bousai_retries_total{channel}        sends the platform answered "not now" or
                                         did not answer (5xx, 429, timeouts,
                                         unreachable): tried again unless the
                                         row's attempts ran out
    bousai_renderings_total{source}      renderings stored when alerts are
        accepted (one per language and channel). source: catalog (vetted
        templates), operator (a text in that language given with the alert),
        machine (machine-translated)
    bousai_feed_errors_total{feed}       failed polls of a feed

Read from the database at each scrape (one grouped query per family)::

    bousai_queue_depth{channel,priority}             pending deliveries
    bousai_feed_last_success_age_seconds{feed}       seconds since the feed's last
        successful poll (+Inf when it never succeeded)
    bousai_feed_consecutive_failures{feed}           failed polls in a row
    bousai_lease_holder{channel,holder}              1 per unexpired channel lease
    bousai_alerts{status}                            alerts by lifecycle status
    bousai_scrape_database_up                        1 if those queries answered;
        0 when the database did not (the families above are then left out and
        ``/metrics`` still answers 200)

Hot path: the dispatcher's calls here are label lookups and increments; the
only query is the acceptance time of an alert's first send on a channel (once
per alert and channel), after its outcomes were committed. Nothing here raises
into the caller.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.db.schema import utcnow
from bot.domain import DeliveryStatus
from bot.store import gauges

if TYPE_CHECKING:
    from bot.domain import Alert
    from bot.render import Rendering
    from bot.service import Service
    from bot.store.deliveries import Outcome

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

DELIVERIES = Counter("bousai_deliveries", "Delivery rows by recorded outcome",
                     ["channel", "language", "outcome"], registry=REGISTRY)
DELIVERY_RECIPIENTS = Counter("bousai_delivery_recipients",
                              "Recipients of delivery rows by recorded outcome",
                              ["channel", "language", "outcome"], registry=REGISTRY)
SEND_SECONDS = Histogram("bousai_send_seconds", "One platform call's latency",
                         ["channel"], registry=REGISTRY,
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
ACCEPT_TO_FIRST_SEND = Histogram(
    "bousai_accept_to_first_send_seconds",
    "From an alert's acceptance to its first sent delivery on a channel",
    ["channel"], registry=REGISTRY,
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600))
RATE_LIMITED = Counter("bousai_rate_limited", "Sends the platform answered 429",
                       ["channel"], registry=REGISTRY)
RETRIES = Counter("bousai_retries", "Sends to be tried again", ["channel"],
                  registry=REGISTRY)
RENDERINGS = Counter("bousai_renderings", "Renderings stored, by where the text came from",
                     ["source"], registry=REGISTRY)
FEED_ERRORS = Counter("bousai_feed_errors", "Failed polls of a feed", ["feed"],
                      registry=REGISTRY)

# every family name this module exposes (the dashboard test checks against it)
DB_FAMILIES = ("bousai_queue_depth", "bousai_feed_last_success_age_seconds",
               "bousai_feed_consecutive_failures", "bousai_lease_holder", "bousai_alerts",
               "bousai_scrape_database_up")
PROCESS_FAMILIES = ("bousai_deliveries_total", "bousai_delivery_recipients_total",
                    "bousai_send_seconds", "bousai_accept_to_first_send_seconds",
                    "bousai_rate_limited_total", "bousai_retries_total",
                    "bousai_renderings_total", "bousai_feed_errors_total")
NAMES = PROCESS_FAMILIES + DB_FAMILIES

CHANNEL_LEASE = "channel:"

_first_lock = threading.Lock()


# ------------------------------------------------------------------ hot path


def outcome_label(o: Outcome) -> str:
    """The ``outcome`` label of a recorded :class:`~bot.store.deliveries.Outcome`."""
    if o.status is DeliveryStatus.SENT:
        return "sent"
    if o.status is DeliveryStatus.FAILED:
        return "gone" if o.deactivate else "failed"
    if o.status is DeliveryStatus.PENDING:
        return "requeued" if o.attempts is not None else "retry"
    return o.status.value


def outcomes_recorded(engine: sa.Engine, channel: str, outcomes: Sequence[Outcome],
                      first_sent: set[tuple[int, str]]) -> None:
    """Count outcomes the dispatcher has just committed; observe the acceptance-to-
    first-send time of alerts sent on ``channel`` for the first time. ``first_sent``:
    the (alert, channel) pairs already observed (the dispatcher's; this adds to it).
    Never raises."""
    try:
        first: dict[int, dt.datetime] = {}
        for o in outcomes:
            label = outcome_label(o)
            DELIVERIES.labels(channel, o.language, label).inc()
            DELIVERY_RECIPIENTS.labels(channel, o.language, label).inc(o.recipients)
            if label == "sent" and o.sent_at is not None and \
                    (o.alert_id, channel) not in first_sent:
                if o.alert_id not in first or o.sent_at < first[o.alert_id]:
                    first[o.alert_id] = o.sent_at
        if first:
            _first_sends(engine, channel, first, first_sent)
    except Exception as exc:  # metrics never break sending
        log.debug("metrics: outcomes not counted (%s)", type(exc).__name__)


def _first_sends(engine: sa.Engine, channel: str, first: dict[int, dt.datetime],
                 first_sent: set[tuple[int, str]]) -> None:
    with _first_lock:
        new = {a: t for a, t in first.items() if (a, channel) not in first_sent}
        if len(first_sent) > 100_000:
            first_sent.clear()
        first_sent.update((a, channel) for a in new)
    if not new:
        return
    with engine.connect() as conn:
        accepted = gauges.accepted_at(conn, channel, new)
    for alert_id, created in accepted.items():
        ACCEPT_TO_FIRST_SEND.labels(channel).observe(
            max(0.0, (new[alert_id] - _aware(created)).total_seconds()))


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite through an aggregate: the stored text
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def send_seconds(channel: str, seconds: float) -> None:
    SEND_SECONDS.labels(channel).observe(seconds)


def retried(channel: str, rate_limited: bool) -> None:
    RETRIES.labels(channel).inc()
    if rate_limited:
        RATE_LIMITED.labels(channel).inc()


def feed_failed(feed: str) -> None:
    FEED_ERRORS.labels(feed).inc()


def rendering_source(alert: Alert, rendering: Rendering) -> str:
    if rendering.machine_translated:
        return "machine"
    if alert.texts.get(rendering.language):
        return "operator"
    return "catalog"


def renderings_stored(alert: Alert, rendered: Iterable[Rendering]) -> None:
    try:
        for r in rendered:
            RENDERINGS.labels(rendering_source(alert, r)).inc()
    except Exception as exc:  # metrics never break an acceptance
        log.debug("metrics: renderings not counted (%s)", type(exc).__name__)


# ------------------------------------------------------------------ scrape time


class DatabaseCollector:
    """The gauges read from the database at each scrape; with the database away,
    only ``bousai_scrape_database_up 0``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            families = self._read()
        except Exception as exc:  # a scrape must answer while the database does not
            log.warning("metrics: database not read (%s)", type(exc).__name__)
            families = []
        up = GaugeMetricFamily("bousai_scrape_database_up",
                               "1 if the database answered this scrape's queries")
        up.add_metric([], 1.0 if families else 0.0)
        yield from families
        yield up

    def _read(self) -> list[Metric]:
        now = utcnow()
        queue = GaugeMetricFamily("bousai_queue_depth", "Pending deliveries",
                                  labels=["channel", "priority"])
        age = GaugeMetricFamily("bousai_feed_last_success_age_seconds",
                                "Seconds since the feed's last successful poll",
                                labels=["feed"])
        failures = GaugeMetricFamily("bousai_feed_consecutive_failures",
                                     "Failed polls of the feed in a row", labels=["feed"])
        holders = GaugeMetricFamily("bousai_lease_holder", "1 per unexpired channel lease",
                                    labels=["channel", "holder"])
        by_status = GaugeMetricFamily("bousai_alerts", "Alerts by lifecycle status",
                                      labels=["status"])
        with self.engine.connect() as conn:
            for channel, priority, n in gauges.queue_depth(conn):
                queue.add_metric([channel, str(priority)], float(n))
            for name, last, failed in gauges.feeds(conn):
                age.add_metric([name], math.inf if last is None
                               else max(0.0, (now - _aware(last)).total_seconds()))
                failures.add_metric([name], float(failed))
            for channel, holder in gauges.lease_holders(conn, CHANNEL_LEASE, now):
                holders.add_metric([channel, holder], 1.0)
            for status, n in gauges.alerts_by_status(conn):
                by_status.add_metric([status], float(n))
        return [queue, age, failures, holders, by_status]


class _Scrape:
    def __init__(self, engine: sa.Engine) -> None:
        self.database = DatabaseCollector(engine)

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self.database.collect()


def render(svc: Service) -> tuple[bytes, str]:
    """The exposition (text format) of every family, and its content type."""
    return generate_latest(_Scrape(svc.engine)), CONTENT_TYPE_LATEST


def metrics_route(svc: Service) -> Route:
    """``GET /metrics`` for a Starlette app (the queries run in a worker thread)."""
    import asyncio

    async def metrics(request: Request) -> Response:
        body, content_type = await asyncio.to_thread(render, svc)
        return Response(body, media_type=content_type)

    return Route("/metrics", metrics, methods=["GET"])
