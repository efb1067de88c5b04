"""Feeds that lie or stall (issue cases 1-3): one bad document is rejected against
itself, a hung feed is cut off at its deadline and shown, links and redirects stay
on the feed's own host."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.db.schema import alerts
from bot.fakes.feeds import FakeFeedServer
from bot.feeds import Feed, Poller, feed_status, readiness_check
from bot.intake import Intake
from bot.runtime import build_service
from bot.scheduler import FeedScheduler
from bot.service import Service
from tests.cli_helpers import bousai
from tests.conftest import FIXTURES

QUAKE_A = FIXTURES / "jma" / "32-35_04_04_240613_VXSE53.xml"
QUAKE_B = FIXTURES / "jma" / "32-35_06_06_100915_VXSE53.xml"


@pytest.fixture
def feed_server() -> Iterator[FakeFeedServer]:
    with FakeFeedServer() as server:
        yield server


@pytest.fixture
def svc(env: dict[str, str]) -> Iterator[Service]:
    bousai("db", "upgrade")
    service = build_service()
    yield service
    service.engine.dispose()


def _source_ids(svc: Service) -> set[str]:
    with svc.engine.connect() as conn:
        return {r.source_id for r in conn.execute(sa.select(alerts.c.source_id))}


def _year_9999(data: bytes) -> bytes:
    text = data.decode("utf-8")
    start = text.index("<ReportDateTime>") + len("<ReportDateTime>")
    # in JST this is the year 10000: datetime raises OverflowError
    return (text[:start] + "9999-12-31T23:59:59-09:00" + text[start + 25:]).encode("utf-8")


def test_one_bad_document_is_rejected_and_never_blocks_the_feed(
        svc: Service, feed_server: FakeFeedServer) -> None:
    feed_server.publish("a.xml", QUAKE_A.read_bytes())
    feed_server.publish("bad.xml", _year_9999(QUAKE_A.read_bytes()))
    feed_server.publish("b.xml", QUAKE_B.read_bytes().replace(b"<EventID>", b"<EventID>9"))
    feed = Feed(name="jma", kind="jma", url=f"{feed_server.url}/feed.xml", interval=30)
    poller = Poller(Intake.for_service(svc), [feed])
    check = readiness_check(svc.engine, ["jma"], poller=poller)
    try:
        poller.poll("jma", force=True)
        status = feed_status(svc.engine)[0]
        assert status["consecutive_failures"] == 0, status["last_error"]
        assert status["next_poll_at"] is None  # no back-off: the feed is fine
        assert len(_source_ids(svc)) == 2  # A and B stored
        assert status["rejected"] == 1 and "bad.xml" in status["last_rejected"]
        assert "outside the calendar" in status["last_rejected"]  # the reason, named
        # The bad document is not fetched again at the next poll.
        poller.poll("jma", force=True)
        assert feed_server.hits["bad.xml"] == 1
        # Visible to operators: /readyz's detail and `feeds status`.
        result = check()
        assert result.ok and "1 documents rejected" in result.detail
    finally:
        poller.close()


def test_hung_feed_is_cut_at_its_deadline_and_shown(
        svc: Service, feed_server: FakeFeedServer) -> None:
    feed_server.trickle("/feed.xml", every=5.0)
    feed = Feed(name="slow", kind="jma", url=f"{feed_server.url}/feed.xml", interval=30,
                timeout=1.0)
    poller = Poller(Intake.for_service(svc), [feed])
    try:
        started = time.monotonic()
        poller.poll("slow", force=True)
        assert time.monotonic() - started < 2.5
        status = feed_status(svc.engine)[0]
        assert status["consecutive_failures"] == 1
        assert "1s" in status["last_error"] or "timed out" in status["last_error"]
    finally:
        poller.close()


def test_shutdown_ends_a_poll_in_progress_within_a_second(
        svc: Service, feed_server: FakeFeedServer) -> None:
    feed_server.trickle("/feed.xml", every=5.0)
    feed = Feed(name="slow", kind="jma", url=f"{feed_server.url}/feed.xml", interval=30,
                timeout=30.0)
    poller = Poller(Intake.for_service(svc), [feed])
    check = readiness_check(svc.engine, ["slow"], poller=poller)
    scheduler = FeedScheduler(poller, [feed])
    scheduler.start()
    deadline = time.monotonic() + 5
    while "slow" not in poller.polling and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "slow" in poller.polling
    poller.polling["slow"] -= 60  # as if it had hung for a minute
    assert not check().ok and "hung" in check().detail
    started = time.monotonic()
    done = threading.Event()
    threading.Thread(target=lambda: (scheduler.shutdown(), done.set()), daemon=True).start()
    assert done.wait(5)
    assert time.monotonic() - started < 1.0


def test_links_and_redirects_stay_on_the_feeds_host(
        svc: Service, feed_server: FakeFeedServer) -> None:
    with FakeFeedServer() as elsewhere:
        elsewhere.publish("evil.xml", QUAKE_A.read_bytes())
        feed_server.link(f"{elsewhere.url}/data/evil.xml")  # entry linking to another host
        feed = Feed(name="jma", kind="jma", url=f"{feed_server.url}/feed.xml", interval=30)
        poller = Poller(Intake.for_service(svc), [feed])
        try:
            poller.poll("jma", force=True)
            assert elsewhere.hits["evil.xml"] == 0
            assert _source_ids(svc) == set()
            status = feed_status(svc.engine)[0]
            assert status["rejected"] == 1 and "not the feed's own host" in \
                status["last_rejected"]
            # The feed itself redirecting to another host: refused, nothing fetched.
            feed_server.redirect("/feed.xml", f"{elsewhere.url}/feed.xml")
            poller.poll("jma", force=True)
            assert elsewhere.hits["/feed.xml"] == 0
            assert "not the feed's own host" in feed_status(svc.engine)[0]["last_error"]
        finally:
            poller.close()
        # Allowed when the configuration names the host.
        host = elsewhere.url.split("//")[1]
        allowed = Feed(name="jma2", kind="jma", url=f"{feed_server.url}/feed.xml",
                       interval=30, allowed_hosts=(host,))
        poller = Poller(Intake.for_service(svc), [allowed])
        try:
            poller.poll("jma2", force=True)
            assert elsewhere.hits["/feed.xml"] == 1
        finally:
            poller.close()


def test_ingest_url_refuses_an_off_host_redirect(
        svc: Service, feed_server: FakeFeedServer) -> None:
    with FakeFeedServer() as elsewhere:
        elsewhere.publish("evil.xml", QUAKE_A.read_bytes())
        feed_server.redirect("/data/x.xml", f"{elsewhere.url}/data/evil.xml")
        feed_server.documents["x.xml"] = b""
        result = bousai("ingest", f"{feed_server.url}/data/x.xml", expect=1)
        assert "not the feed's own host" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        assert elsewhere.hits["evil.xml"] == 0
        assert _source_ids(svc) == set()
