"""/metrics: a real send through the fake platforms, scraped over HTTP during and
after it; the counters match the delivery ledger, and a scrape without a database
still answers."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.db.schema import alerts, deliveries, renderings
from bot.domain import Alert, Kind, Severity, Urgency
from bot.fakes.feeds import FakeFeedServer
from bot.feeds import Feed, Poller
from bot.intake import Intake
from bot.service import Service
from bot.web import create_app
from tests.harness import Harness, harness

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard.json"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(svc: Service) -> tuple[httpx.Response, Samples]:
    app = create_app(svc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        r = await c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return r, samples


def by(samples: Samples, name: str, *keys: str) -> Counter[tuple[str, ...]]:
    """``name``'s samples summed by the labels ``keys``."""
    out: Counter[tuple[str, ...]] = Counter()
    for (n, labels), value in samples.items():
        if n == name:
            d = dict(labels)
            out[tuple(d[k] for k in keys)] += value
    return out


def delta(after: Samples, before: Samples, name: str, *keys: str) -> Counter[tuple[str, ...]]:
    """What ``name`` grew by between two scrapes (counters are per process: other
    tests in this process counted too)."""
    out = by(after, name, *keys)
    out.subtract(by(before, name, *keys))
    return Counter({k: v for k, v in out.items() if v})


def _alert(h: Harness) -> Alert:
    return Alert(source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
                 severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE,
                 wards=h.config.ward_codes, body_ja="避難所を開設しました。",
                 texts={"en": "Shelters are open."}, issued=dt.datetime.now(dt.UTC))


def _ledger(h: Harness) -> tuple[Counter[tuple[str, ...]], Counter[tuple[str, ...]]]:
    """(rows, recipients) by channel, language and status."""
    rows: Counter[tuple[str, ...]] = Counter()
    recipients: Counter[tuple[str, ...]] = Counter()
    d = deliveries
    with h.engine.connect() as conn:
        for ch, lang, status, n, r in conn.execute(sa.select(
                d.c.channel, d.c.language, d.c.status, sa.func.count(),
                sa.func.sum(d.c.recipient_count)).group_by(d.c.channel, d.c.language,
                                                           d.c.status)):
            rows[(ch, lang, status)] = int(n)
            recipients[(ch, lang, status)] = int(r)
    return rows, recipients


def _as_ledger(counted: Counter[tuple[str, ...]]) -> Counter[tuple[str, ...]]:
    """Final outcomes as the ledger's statuses: gone (unsubscribed) rows are failed."""
    out: Counter[tuple[str, ...]] = Counter()
    for (ch, lang, outcome), n in counted.items():
        if outcome in ("sent", "failed", "gone"):
            out[(ch, lang, "failed" if outcome == "gone" else outcome)] += int(n)
    return out


async def test_counters_match_the_ledger_during_and_after_a_real_send(db_url: str) -> None:
    with harness(db_url, telegram_rate=25) as h:
        seeded = h.seed(80)
        blocked = seeded["telegram"][0].user_id
        h.telegram.block(blocked)
        h.telegram.fail_next(2, 429, retry_after=1)
        _, before = await scrape(h.service)
        alert_id = h.submit(_alert(h), operator="test", action="auto")
        dispatcher = h.dispatcher()
        task = asyncio.create_task(dispatcher.run(until_idle=True))
        try:
            during: Samples = {}
            for _ in range(100):  # ~40 Telegram chats at 25/s, after a 1 s pause
                await asyncio.sleep(0.05)
                _, during = await scrape(h.service)
                sent = delta(during, before, "bousai_deliveries_total", "channel", "outcome")
                queued = by(during, "bousai_queue_depth", "channel")
                if sent[("telegram", "sent")] and queued[("telegram",)]:
                    break
            else:
                pytest.fail("no scrape saw Telegram both sending and queued")
            assert by(during, "bousai_lease_holder", "channel", "holder")[
                ("telegram", dispatcher.worker)] == 1
            assert during[("bousai_scrape_database_up", frozenset())] == 1
            assert await task
        finally:
            if not task.done():
                dispatcher.stop()
                await task
            for st in dispatcher.states.values():
                await st.channel.close()

        _, after = await scrape(h.service)
        rows, recipients = _ledger(h)
        counted = delta(after, before, "bousai_deliveries_total", "channel", "language",
                        "outcome")
        counted_recipients = delta(after, before, "bousai_delivery_recipients_total",
                                   "channel", "language", "outcome")
        assert _as_ledger(counted) == +rows
        assert _as_ledger(counted_recipients) == +recipients
        assert rows[("telegram", seeded["telegram"][0].language, "failed")] == 1
        assert sum(n for (ch, _, o), n in counted.items() if o == "gone") == 1
        # the two 429s: retried, counted as rate limited, and sent in the end
        assert sum(n for (ch, _, o), n in counted.items() if o == "retry") == 2
        assert delta(after, before, "bousai_rate_limited_total", "channel") == {
            ("telegram",): 2}
        assert delta(after, before, "bousai_retries_total", "channel") == {("telegram",): 2}
        # one platform call per recorded outcome
        calls = delta(after, before, "bousai_send_seconds_count", "channel")
        per_channel: Counter[tuple[str, ...]] = Counter()
        for (ch, _, _o), n in counted.items():
            per_channel[(ch,)] += n
        assert calls == per_channel
        # one acceptance-to-first-send per channel that sent the alert
        firsts = delta(after, before, "bousai_accept_to_first_send_seconds_count", "channel")
        assert firsts == {(ch,): 1 for ch in ("telegram", "line", "x")}
        assert by(after, "bousai_queue_depth", "channel") == Counter()
        assert by(after, "bousai_lease_holder", "channel") == Counter()  # released
        with h.engine.connect() as conn:
            statuses = Counter({(s,): n for s, n in conn.execute(
                sa.select(alerts.c.status, sa.func.count()).group_by(alerts.c.status))})
            stored = conn.execute(sa.select(renderings.c.language).where(
                renderings.c.alert_id == alert_id)).scalars().all()
        assert by(after, "bousai_alerts", "status") == statuses
        sources = delta(after, before, "bousai_renderings_total", "source")
        assert sum(sources.values()) == len(stored)
        assert sources[("operator",)] == stored.count("en")  # the English text given


async def test_feed_age_errors_and_a_scrape_without_database(
        db_url: str, tmp_path: Path) -> None:
    with harness(db_url) as h, FakeFeedServer() as server:
        feed = Feed(name="local", kind="jma", url=f"{server.url}/feed.xml", interval=30)
        poller = Poller(Intake.for_service(h.service), [feed])
        try:
            _, before = await scrape(h.service)
            server.fail_next(1, 503)
            poller.poll("local", force=True)
            _, failing = await scrape(h.service)
            assert failing[("bousai_feed_last_success_age_seconds",
                            frozenset({("feed", "local")}))] == float("inf")
            assert by(failing, "bousai_feed_consecutive_failures", "feed") == {("local",): 1}
            assert delta(failing, before, "bousai_feed_errors_total", "feed") == {
                ("local",): 1}
            poller.poll("local", force=True)
            _, ok = await scrape(h.service)
            age = ok[("bousai_feed_last_success_age_seconds", frozenset({("feed", "local")}))]
            assert 0 <= age < 10
            assert by(ok, "bousai_feed_consecutive_failures", "feed") == {("local",): 0}
        finally:
            poller.close()

        broken = sa.create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
        try:
            response, down = await scrape(dataclasses.replace(h.service, engine=broken))
        finally:
            broken.dispose()
        assert down[("bousai_scrape_database_up", frozenset())] == 0
        names = {n for n, _ in down}
        assert not names & {"bousai_queue_depth", "bousai_alerts", "bousai_lease_holder",
                            "bousai_feed_last_success_age_seconds"}
        assert "# HELP bousai_deliveries_total" in response.text  # in-process families stay


def test_every_family_the_module_lists_is_registered_or_collected() -> None:
    registered = {s.name for fam in metrics.REGISTRY.collect() for s in fam.samples} | {
        fam.name for fam in metrics.REGISTRY.collect()}
    for name in metrics.PROCESS_FAMILIES:
        base = name.removesuffix("_total")
        assert base in registered or name in registered, name
    doc = metrics.__doc__ or ""
    for name in metrics.NAMES:
        assert name in doc, f"{name} is not in bot/metrics.py's docstring"


def _exprs(panels: list[dict]) -> Iterator[str]:  # type: ignore[type-arg]
    for panel in panels:
        yield from (t["expr"] for t in panel.get("targets", []))
        yield from _exprs(panel.get("panels", []))


def test_the_dashboard_names_only_metrics_the_service_exposes() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert board["schemaVersion"] >= 36
    assert any(i["name"] == "DS_PROMETHEUS" and i["pluginId"] == "prometheus"
               for i in board["__inputs"])
    exprs = list(_exprs(board["panels"]))
    assert len(exprs) >= 8
    used = set()
    for expr in exprs:
        for name in re.findall(r"\bbousai_[a-z_]+", expr):
            used.add(name)
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name in metrics.NAMES or base in metrics.NAMES, (name, expr)
    # every family has a panel
    bases = {re.sub(r"_(bucket|count|sum)$", "", n) for n in used}
    assert bases >= set(metrics.NAMES) - {"bousai_scrape_database_up",
                                           "bousai_delivery_recipients_total",
                                           "bousai_feed_consecutive_failures"}
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
