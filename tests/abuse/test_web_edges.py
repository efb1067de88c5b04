"""Clients that stall and webhooks that lie (issue cases 4 and 5), over real sockets
against ``bot.web.serve`` on 127.0.0.1, at a small scale."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.fakes.line import FakeLine, signed_body, user_id, webhook_event
from bot.fakes.telegram import FakeTelegram
from bot.runtime import build_service
from bot.service import Service
from bot.signup.line import LineSignup
from bot.signup.telegram import TelegramSignup
from bot.web import create_app, serve
from bot.webguard import HttpLimits
from tests.cli_helpers import bousai, json_lines
from tests.test_signup_telegram import TOKEN, write_config

LINE_SECRET = "line-channel-secret-for-tests"
TG_SECRET = "tg-webhook-secret_0123456789"
BOB = user_id(0xB0B)
LIMITS = HttpLimits(header_timeout=1.0, body_timeout=1.0, keep_alive=1.0, max_connections=20,
                    max_body=64 * 1024, line_max_event_age=300)


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(svc: Service) -> AsyncIterator[str]:
    tg = TelegramSignup.from_service(svc)
    line = LineSignup.from_service(svc)
    app = create_app(svc, telegram_handler=tg, line_handler=line, limits=LIMITS)
    port = _free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop, limits=LIMITS))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as c:
        for _ in range(200):
            try:
                await c.get("/healthz")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
    yield url
    stop.set()
    await asyncio.wait_for(task, 10)
    await tg.close()
    await line.close()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def _stall(port: int, data: bytes) -> socket.socket:
    s = socket.socket()
    s.setblocking(False)
    await asyncio.get_running_loop().sock_connect(s, ("127.0.0.1", port))
    await asyncio.get_running_loop().sock_sendall(s, data)
    return s


async def _closed_by_server(s: socket.socket, within: float) -> bool:
    try:
        data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(s, 4096), within)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    # a refusal answer (408) or plain EOF both end the stall
    return data == b"" or data.startswith(b"HTTP/1.1 4")


async def test_stalled_clients_cannot_starve_the_server(
        server: str, caplog: pytest.LogCaptureFixture) -> None:
    port = _port(server)
    with caplog.at_level(logging.WARNING):
        half_sent = [await _stall(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                     for _ in range(40)]  # twice max_connections
        body_stall = await _stall(port, b"POST /webhooks/line HTTP/1.1\r\nHost: x\r\n"
                                        b"Content-Length: 1000\r\n\r\n{\"events\":")
        # The server still answers: refused connections were closed at once.
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=server) as c:
            for _ in range(60):
                try:
                    r = await c.get("/healthz", timeout=2.0)
                    break
                except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                    await asyncio.sleep(0.1)
        assert r.status_code == 200
        assert time.monotonic() - started < 3.0
        # Every stalled connection is closed by the server within its deadline.
        results = await asyncio.gather(*(_closed_by_server(s, 4.0)
                                         for s in [*half_sent, body_stall]))
        assert all(results)
    for s in [*half_sent, body_stall]:
        s.close()
    # One line per kind of refusal, not one per connection.
    lines = [r for r in caplog.records if r.name == "bot.web"]
    assert 1 <= len(lines) <= 6, [r.getMessage() for r in lines]


async def test_a_client_hanging_up_mid_body_logs_one_line_not_a_traceback(
        server: str, caplog: pytest.LogCaptureFixture) -> None:
    port = _port(server)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            s = await _stall(port, b"POST /webhooks/line HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Length: 1000\r\n\r\n{\"ev")
            s.close()
        await asyncio.sleep(0.5)
    assert "Traceback" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)


async def _post_line(url: str, events: list[dict[str, Any]]) -> httpx.Response:
    body, signature = signed_body(events, LINE_SECRET)
    async with httpx.AsyncClient(base_url=url) as c:
        return await c.post("/webhooks/line", content=body,
                            headers={"x-line-signature": signature})


def _subscribers() -> dict[str, dict[str, Any]]:
    return {s["user_id"]: s for s in json_lines(
        bousai("subscribers", "list", "--json", "--inactive").stdout)}


async def test_replayed_and_stale_line_events_are_not_handled_again(
        server: str, fakes: tuple[FakeTelegram, FakeLine]) -> None:
    subscribe = webhook_event("message", BOB, text="en-43101")
    assert (await _post_line(server, [subscribe])).status_code == 200
    unfollow = webhook_event("unfollow", BOB)
    assert (await _post_line(server, [unfollow])).status_code == 200
    assert _subscribers()[BOB]["active"] is False
    replies = len(fakes[1].requests)
    # A captured, correctly signed body replayed three times: handled once only.
    for _ in range(3):
        assert (await _post_line(server, [subscribe])).status_code == 200
    redelivered = dict(subscribe, deliveryContext={"isRedelivery": True})
    assert (await _post_line(server, [redelivered])).status_code == 200
    assert _subscribers()[BOB]["active"] is False
    assert len(fakes[1].requests) == replies
    # An event stamped 1970, with a new id: refused.
    old = webhook_event("message", BOB, text="en-43101", timestamp=1000)
    assert (await _post_line(server, [old])).status_code == 200
    assert _subscribers()[BOB]["active"] is False


async def test_unreadable_bodies_with_a_valid_secret_are_400(
        server: str, caplog: pytest.LogCaptureFixture) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    async with httpx.AsyncClient(base_url=server) as c:
        with caplog.at_level(logging.WARNING):
            r = await c.post("/webhooks/telegram", headers=headers, json={
                "update_id": 5, "message": {"message_id": "x", "chat": 7, "date": "soon"}})
    assert r.status_code == 400
    assert "Traceback" not in caplog.text
    body, signature = signed_body([], LINE_SECRET)
    async with httpx.AsyncClient(base_url=server) as c:
        bad = b'{"destination": "x", "events": "none"}'
        from bot.fakes.line import sign

        r = await c.post("/webhooks/line", content=bad,
                         headers={"x-line-signature": sign(bad, LINE_SECRET)})
        ok = await c.post("/webhooks/line", content=body,
                          headers={"x-line-signature": signature})
    assert r.status_code == 400 and ok.status_code == 200
