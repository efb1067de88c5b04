"""The web endpoints: health, webhook authentication (LINE signature, Telegram secret
token), body size limits, error answers, and uvicorn running in the caller's loop."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bot.errors import ConfigError
from bot.fakes.line import FakeLine, signed_body, user_id, webhook_event
from bot.fakes.telegram import FakeTelegram
from bot.runtime import build_service
from bot.service import Service
from bot.signup.line import LineSignup
from bot.signup.telegram import TelegramSignup
from bot.web import create_app, serve
from tests.cli_helpers import bousai, json_lines
from tests.test_signup_telegram import TOKEN, write_config

LINE_SECRET = "line-channel-secret-for-tests"
TG_SECRET = "tg-webhook-secret_0123456789"
ALICE = user_id(0xA11CE)


@pytest.fixture
def fakes(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
          ) -> Iterator[tuple[FakeTelegram, FakeLine]]:
    config = write_config(tmp_path, telegram='webhook = true\n'
                          'webhook_url = "https://bousai.example.org/webhooks/telegram"')
    monkeypatch.setenv("BOUSAI_CONFIG", str(config))
    with FakeTelegram(token=TOKEN) as tg, FakeLine() as line:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", tg.url)
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", TG_SECRET)
        monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", line.token)
        monkeypatch.setenv("LINE_CHANNEL_SECRET", LINE_SECRET)
        monkeypatch.setenv("LINE_API_BASE_URL", line.url)
        bousai("db", "upgrade")
        yield tg, line


@pytest.fixture
def svc(fakes: tuple[FakeTelegram, FakeLine]) -> Iterator[Service]:
    service = build_service()
    yield service
    service.engine.dispose()


@pytest.fixture
async def handlers(svc: Service) -> AsyncIterator[tuple[TelegramSignup, LineSignup]]:
    tg = TelegramSignup.from_service(svc)
    line = LineSignup.from_service(svc)
    yield tg, line
    await tg.close()
    await line.close()


@pytest.fixture
async def client(svc: Service, handlers: tuple[TelegramSignup, LineSignup]
                 ) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(svc, telegram_handler=handlers[0], line_handler=handlers[1],
                     max_body=64 * 1024)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bousai.test") as c:
        yield c


def stored() -> list[dict[str, Any]]:
    return json_lines(bousai("subscribers", "list", "--json", "--inactive").stdout)


def tg_update(chat: int, text: str) -> dict[str, Any]:
    return {"update_id": 77, "message": {
        "message_id": 1, "date": int(time.time()), "text": text,
        "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "U"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


async def test_healthz_reports_an_unreachable_database(svc: Service, tmp_path: Path) -> None:
    broken = sa.create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    app = create_app(dataclasses.replace(svc, engine=broken))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        r = await c.get("/healthz")
    broken.dispose()
    assert r.status_code == 503 and r.json()["database"] == "unreachable"


async def test_forged_line_signature_is_refused_and_nothing_stored(
        client: httpx.AsyncClient, fakes: tuple[FakeTelegram, FakeLine],
        caplog: pytest.LogCaptureFixture) -> None:
    body, _ = signed_body([webhook_event("message", ALICE, text="en-43101")], LINE_SECRET)
    _, forged = signed_body([webhook_event("message", ALICE, text="en-43101")], "not-the-secret")
    with caplog.at_level(logging.INFO):
        r1 = await client.post("/webhooks/line", content=body,
                               headers={"x-line-signature": forged})
        r2 = await client.post("/webhooks/line", content=body)
    assert r1.status_code == r2.status_code == 401
    assert stored() == []
    assert fakes[1].requests == []
    logged = caplog.text
    assert "signature" in logged
    assert forged not in logged and "en-43101" not in logged and LINE_SECRET not in logged


async def test_signed_line_body_is_handled(client: httpx.AsyncClient) -> None:
    body, signature = signed_body([webhook_event("message", ALICE, text="en-43101")],
                                  LINE_SECRET)
    r = await client.post("/webhooks/line", content=body, headers={"x-line-signature": signature})
    assert r.status_code == 200
    assert [s["user_id"] for s in stored()] == [ALICE]


async def test_telegram_webhook_needs_the_secret_token(
        client: httpx.AsyncClient, fakes: tuple[FakeTelegram, FakeLine],
        caplog: pytest.LogCaptureFixture) -> None:
    update = tg_update(6001, "/start en-43101")
    with caplog.at_level(logging.INFO):
        missing = await client.post("/webhooks/telegram", json=update)
        wrong = await client.post("/webhooks/telegram", json=update,
                                  headers={"x-telegram-bot-api-secret-token": TG_SECRET + "x"})
    assert missing.status_code == wrong.status_code == 403
    assert stored() == []
    assert TG_SECRET not in caplog.text
    ok = await client.post("/webhooks/telegram", json=update,
                           headers={"x-telegram-bot-api-secret-token": TG_SECRET})
    assert ok.status_code == 200
    assert [(s["user_id"], s["wards"]) for s in stored()] == [("6001", ["43101"])]
    assert "Chuo Ward" in fakes[0].messages_to(6001)[0].text


@pytest.mark.parametrize("path", ["/webhooks/line", "/webhooks/telegram"])
async def test_oversized_bodies_are_refused_and_nothing_stored(
        client: httpx.AsyncClient, path: str) -> None:
    events = [webhook_event("message", ALICE, text="en-43101" + " " * 70_000)]
    body, signature = signed_body(events, LINE_SECRET)
    headers = {"x-line-signature": signature, "x-telegram-bot-api-secret-token": TG_SECRET}
    declared = await client.post(path, content=body, headers=headers)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    streamed = await client.post(path, content=chunks(), headers=headers)
    assert declared.status_code == streamed.status_code == 413
    assert stored() == []


async def test_malformed_bodies_are_400(client: httpx.AsyncClient) -> None:
    body = b"not json"
    from channels.line import sign

    r = await client.post("/webhooks/line", content=body,
                          headers={"x-line-signature": sign(body, LINE_SECRET)})
    assert r.status_code == 400
    r = await client.post("/webhooks/telegram", content=b"[1, 2]",
                          headers={"x-telegram-bot-api-secret-token": TG_SECRET})
    assert r.status_code == 400


class ExplodingLine:
    """A LINE handler whose processing fails, to see what the web layer answers."""

    def verify(self, body: bytes, signature: str | None) -> bool:
        return True

    async def handle(self, payload: Mapping[str, Any]) -> None:
        raise RuntimeError("database password is hunter2")


async def test_handler_errors_are_500_without_internals(svc: Service) -> None:
    app = create_app(svc, line_handler=ExplodingLine())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        r = await c.post("/webhooks/line", content=json.dumps({"events": []}))
    assert r.status_code == 500
    assert "hunter2" not in r.text and "RuntimeError" not in r.text


async def test_telegram_route_exists_only_in_webhook_mode(svc: Service) -> None:
    app = create_app(svc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        assert (await c.post("/webhooks/telegram", json={})).status_code == 404
        assert (await c.post("/webhooks/line", content=b"{}")).status_code == 404


def test_webhook_mode_needs_a_secret(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramSignup.from_service(svc)


async def test_run_in_webhook_mode_registers_the_webhook(
        svc: Service, fakes: tuple[FakeTelegram, FakeLine]) -> None:
    tg = TelegramSignup.from_service(svc)
    stop = asyncio.Event()
    task = asyncio.create_task(tg.run(stop))
    deadline = time.monotonic() + 10
    while fakes[0].webhook_url is None:
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert fakes[0].webhook_url == "https://bousai.example.org/webhooks/telegram"
    assert fakes[0].webhook_secret == TG_SECRET


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_runs_in_the_callers_loop_until_stopped(svc: Service) -> None:
    port = _free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(create_app(svc), "127.0.0.1", port, stop))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
        deadline = time.monotonic() + 10
        while True:
            try:
                r = await c.get("/healthz")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and not task.done()
                await asyncio.sleep(0.05)
    assert r.status_code == 200
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_serve_on_a_busy_port_is_a_clear_error(svc: Service) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ConfigError, match="cannot listen"):
            await asyncio.wait_for(serve(create_app(svc), "127.0.0.1", port, asyncio.Event()),
                                   10)


async def test_readyz_lists_every_check_and_fails_when_one_is_not_ready(
        svc: Service) -> None:
    from bot.health import Check

    state = {"ok": True}
    svc.readiness.register("feeds", lambda: Check(ok=state["ok"], detail="2 feeds polling"))
    app = create_app(svc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        ok = await c.get("/readyz")
        state["ok"] = False
        bad = await c.get("/readyz")
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    assert ok.json()["checks"]["database"]["ok"] is True
    assert ok.json()["checks"]["feeds"] == {"ok": True, "detail": "2 feeds polling"}
    assert bad.status_code == 503 and bad.json()["checks"]["feeds"]["ok"] is False


async def test_readyz_counts_a_broken_check_as_not_ready(svc: Service) -> None:
    def broken() -> Check:
        raise RuntimeError("boom")

    from bot.health import Check
    svc.readiness.register("channels", broken)
    app = create_app(svc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["channels"] == {"ok": False, "detail": "check failed (RuntimeError)"}
