"""/readyz tells the truth: a stale feed (real feed server, real poller and
scheduler) and a schema that is not current make it 503, with the reason."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from alembic import command

from bot.config import load_config
from bot.db.engine import _alembic_config, head_revision
from bot.db.schema import utcnow
from bot.errors import ConfigError
from bot.fakes.feeds import FakeFeedServer
from bot.feeds import Feed, Poller, feed_status, load_feeds, readiness_check
from bot.intake import Intake
from bot.runtime import build_service
from bot.scheduler import FeedScheduler
from bot.service import Service
from bot.web import create_app
from tests.cli_helpers import bousai


@pytest.fixture
def svc(env: dict[str, str]) -> Iterator[Service]:
    bousai("db", "upgrade")
    service = build_service()
    yield service
    service.engine.dispose()


async def _ready(svc: Service) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(svc)),
                                 base_url="http://t") as c:
        return await c.get("/readyz")


async def _until(svc: Service, status: int, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = await _ready(svc)
        if r.status_code == status:
            body: dict[str, Any] = r.json()
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"/readyz stayed {r.status_code}: {r.text}")
        await asyncio.sleep(0.1)


async def test_readyz_goes_503_when_a_feed_goes_stale_and_back_when_it_recovers(
        svc: Service) -> None:
    with FakeFeedServer() as server:
        feed = Feed(name="quick", kind="jma", url=f"{server.url}/feed.xml", interval=0.5,
                    stale_after=1.5)
        poller = Poller(Intake.for_service(svc), [feed])
        # failed polls in a row are another check: here only staleness is looked at
        svc.readiness.register("feeds", readiness_check(svc.engine, ["quick"], failures=99,
                                                        poller=poller))
        scheduler = FeedScheduler(poller, [feed])
        scheduler.start()
        try:
            deadline = time.monotonic() + 10
            while not any(r["last_success_at"] for r in feed_status(svc.engine)):
                assert time.monotonic() < deadline, "the feed was never polled"
                await asyncio.sleep(0.05)
            ok = await _until(svc, 200)
            assert ok["checks"]["feeds"] == {"ok": True, "detail": "1 feeds polling"}
            # the next polls fail; backing off (0.5, 1, 2 s), the feed goes stale
            server.fail_next(3, 503)
            stale = await _until(svc, 503)
            detail = stale["checks"]["feeds"]["detail"]
            assert stale["checks"]["feeds"]["ok"] is False
            assert detail.startswith("1 of 1 feeds failing: quick (last successful poll ")
            assert detail.endswith("s ago; stale after 1.5s)")
            assert stale["checks"]["database"]["ok"] and stale["checks"]["schema"]["ok"]
            # the fourth poll succeeds: ready again
            back = await _until(svc, 200)
            assert back["checks"]["feeds"]["ok"] is True
            assert server.hits["/feed.xml"] >= 5
        finally:
            await asyncio.to_thread(scheduler.shutdown)


async def test_a_feed_that_never_succeeded_is_stale_counted_from_the_start(
        svc: Service) -> None:
    with FakeFeedServer() as server:
        feed = Feed(name="down", kind="jma", url=f"{server.url}/feed.xml", interval=30,
                    stale_after=3.0)
        poller = Poller(Intake.for_service(svc), [feed])
        svc.readiness.register("feeds", readiness_check(svc.engine, ["down"], poller=poller))
        try:
            server.fail_next(1, 503)
            poller.poll("down")
            assert (await _ready(svc)).status_code == 200  # not stale yet
            since_start = (utcnow() - poller.started_at).total_seconds()
            await asyncio.sleep(3.2 - since_start)
            body = (await _ready(svc)).json()
            assert body["status"] == "not ready"
            assert "down (no successful poll since start" in body["checks"]["feeds"]["detail"]
        finally:
            poller.close()


async def test_readyz_says_the_schema_is_not_current(svc: Service) -> None:
    cfg = _alembic_config()
    head = head_revision()
    with svc.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "0006_push_state")
    r = await _ready(svc)
    assert r.status_code == 503
    schema = r.json()["checks"]["schema"]
    assert schema["ok"] is False
    assert schema["detail"] == ("the database is at revision 0006_push_state, the code "
                                f"needs {head}: run `bousai db upgrade`")
    with svc.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "head")
    r = await _ready(svc)
    assert r.status_code == 200 and r.json()["checks"]["schema"] == {
        "ok": True, "detail": f"at {head}"}


def test_stale_after_seconds_is_read_from_the_configuration() -> None:
    def feeds(**row: Any) -> list[Feed]:
        base = {"name": "f", "kind": "jma", "url": "https://example.org/f.xml"}
        config = dataclasses.replace(load_config(), raw={"feeds": [base | row]})
        return load_feeds(config)

    assert feeds()[0].staleness == 180.0
    assert feeds(interval_seconds=120)[0].staleness == 360.0
    assert feeds(stale_after_seconds=90)[0].staleness == 90.0
    with pytest.raises(ConfigError, match="stale_after_seconds"):
        feeds(stale_after_seconds=0)
