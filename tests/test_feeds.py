"""Feed polling end to end: a local feed server, the real scheduler, the database."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.db.schema import alerts
from bot.fakes.feeds import FakeFeedServer
from bot.feeds import Feed, Poller, feed_status
from bot.intake import Intake
from bot.runtime import build_service
from bot.scheduler import FeedScheduler
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.conftest import FIXTURES

KUMAMOTO_QUAKE = FIXTURES / "jma" / "32-35_04_04_240613_VXSE53.xml"
OTHER_QUAKE = FIXTURES / "jma" / "32-35_06_06_100915_VXSE53.xml"


@pytest.fixture
def feed_server() -> Iterator[FakeFeedServer]:
    with FakeFeedServer() as server:
        yield server


def _wait(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _alert_rows(engine: sa.Engine) -> list[sa.Row]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return list(conn.execute(sa.select(alerts.c.id, alerts.c.source_id, alerts.c.status,
                                           alerts.c.kind)))


def test_new_document_becomes_an_alert_within_one_interval(
        env: dict[str, str], feed_server: FakeFeedServer) -> None:
    bousai("db", "upgrade")
    svc = build_service()
    interval = 1.0
    feed = Feed(name="test-eqvol", kind="jma", url=f"{feed_server.url}/feed.xml",
                interval=interval)
    poller = Poller(Intake.for_service(svc), [feed])
    scheduler = FeedScheduler(poller, [feed])
    scheduler.start()
    try:
        assert _wait(lambda: feed_server.hits["/feed.xml"] >= 1)
        assert _alert_rows(svc.engine) == []
        published = time.monotonic()
        feed_server.publish("kumamoto.xml", KUMAMOTO_QUAKE.read_bytes())
        assert _wait(lambda: len(_alert_rows(svc.engine)) == 1, timeout=interval * 3)
        elapsed = time.monotonic() - published
        assert elapsed <= interval + 0.5, f"took {elapsed:.2f}s for a {interval}s interval"
        row = _alert_rows(svc.engine)[0]
        assert row.kind == "earthquake"
        # The policy holds an intensity-1 report for an operator.
        assert row.status == "held"

        # Served again, unchanged or re-listed: nothing new, and the document is
        # not even fetched again.
        hits_before = feed_server.hits["/feed.xml"]
        assert _wait(lambda: feed_server.hits["/feed.xml"] >= hits_before + 2, timeout=5)
        assert feed_server.not_modified >= 1
        assert feed_server.hits["kumamoto.xml"] == 1
        feed_server.publish("kumamoto-again.xml", KUMAMOTO_QUAKE.read_bytes())
        assert _wait(lambda: feed_server.hits["kumamoto-again.xml"] == 1, timeout=5)
        time.sleep(0.2)
        assert len(_alert_rows(svc.engine)) == 1
    finally:
        scheduler.shutdown()
        svc.engine.dispose()


def test_failing_feed_is_reported_and_polling_goes_on(
        env: dict[str, str], feed_server: FakeFeedServer) -> None:
    bousai("db", "upgrade")
    svc = build_service()
    feed = Feed(name="flaky", kind="jma", url=f"{feed_server.url}/feed.xml", interval=30)
    poller = Poller(Intake.for_service(svc), [feed])
    try:
        feed_server.fail_next(1, 500)
        assert poller.poll("flaky") == 0
        status = feed_status(svc.engine)[0]
        assert status["consecutive_failures"] == 1
        assert "HTTP 500" in status["last_error"]
        assert status["last_success_at"] is None
        # Backing off: an immediate poll does nothing; a forced one goes through.
        assert poller.poll("flaky") == 0
        assert feed_server.hits["/feed.xml"] == 1
        feed_server.publish("q.xml", OTHER_QUAKE.read_bytes())
        assert poller.poll("flaky", force=True) == 1
        status = feed_status(svc.engine)[0]
        assert status["consecutive_failures"] == 0
        assert status["last_success_at"] is not None
        assert status["documents_seen"] == 1
    finally:
        poller.close()
        svc.engine.dispose()


def test_feeds_status_cli_shows_the_error(env: dict[str, str], feed_server: FakeFeedServer,
                                          tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from bot.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    head = text.split("# " + "-" * 72 + " feeds")[0]
    cfg = write_config(tmp_path, head + f'\n[[feeds]]\nname = "local"\nkind = "jma"\n'
                       f'url = "{feed_server.url}/feed.xml"\n')
    monkeypatch.setenv("BOUSAI_CONFIG", str(cfg))
    bousai("db", "upgrade")
    feed_server.fail_next(1, 503)
    bousai("feeds", "poll")
    rows = json_lines(bousai("feeds", "status", "--json").stdout)
    assert rows[0]["name"] == "local"
    assert rows[0]["consecutive_failures"] == 1 and "HTTP 503" in rows[0]["last_error"]
    feed_server.publish("q.xml", KUMAMOTO_QUAKE.read_bytes())
    bousai("feeds", "poll")
    rows = json_lines(bousai("feeds", "status", "--json").stdout)
    assert rows[0]["consecutive_failures"] == 0 and rows[0]["documents_seen"] == 1


def test_readiness_says_which_feed_is_failing(
        env: dict[str, str], feed_server: FakeFeedServer) -> None:
    from bot.feeds import readiness_check

    bousai("db", "upgrade")
    svc = build_service()
    feed = Feed(name="flaky", kind="jma", url=f"{feed_server.url}/feed.xml", interval=30)
    poller = Poller(Intake.for_service(svc), [feed])
    check = readiness_check(svc.engine, ["flaky"], failures=2)
    try:
        assert check().ok
        feed_server.fail_next(2, 503)
        poller.poll("flaky", force=True)
        assert check().ok, "one failed poll is a blip, not an outage"
        poller.poll("flaky", force=True)
        state = check()
        assert not state.ok and state.detail == "1 of 1 feeds failing: flaky (2 failed polls)"
        feed_server.publish("q.xml", OTHER_QUAKE.read_bytes())
        poller.poll("flaky", force=True)
        assert check().ok
    finally:
        poller.close()
        svc.engine.dispose()


def test_an_unchanged_feed_is_one_request_and_no_failure(
        env: dict[str, str], feed_server: FakeFeedServer) -> None:
    """304 Not Modified is the answer to a conditional request, not a redirect: one
    request, no failure, and the next poll is not pushed back."""
    bousai("db", "upgrade")
    svc = build_service()
    feed = Feed(name="quiet", kind="jma", url=f"{feed_server.url}/feed.xml", interval=2)
    poller = Poller(Intake.for_service(svc), [feed])
    try:
        feed_server.publish("q.xml", OTHER_QUAKE.read_bytes())
        assert poller.poll("quiet") == 1
        for n in range(2, 5):
            assert poller.poll("quiet") == 0
            assert feed_server.hits["/feed.xml"] == n
            assert feed_server.not_modified == n - 1
            status = feed_status(svc.engine)[0]
            assert status["consecutive_failures"] == 0 and status["last_error"] is None
    finally:
        poller.close()
        svc.engine.dispose()
