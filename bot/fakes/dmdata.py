"""A local DMDATA.jp API v2: ``POST /v2/socket`` and the WebSocket it names.

It speaks the protocol of :mod:`bot.push.dmdata_protocol`: the REST call checks the
API key (HTTP Basic user name) and answers with a ticket and a WebSocket URL on this
server; the WebSocket requires the ``dmdata.v2`` sub-protocol and a ticket not used
before, sends ``start``, answers the client's pings and counts its pongs. Tests (and
the demo) drive it:

``push(xml)``            send a document to every open socket as a data message
                         (gzip + base64, as DMDATA does); returns the message id
``push_message(dict)``   send any message (a broken document, an error …)
``ping()``               send a ping to every socket; ``pongs`` counts the answers
``drop()``               close every socket (the client must connect again)
``refuse_next(n)``       answer the next n socket starts with an error
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import gzip
import itertools
import json
import re
import secrets
import time
from collections import deque
from typing import Any

from aiohttp import BasicAuth, web

from bot.fakes.base import FakeServer
from bot.push.dmdata_protocol import SUBPROTOCOL


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"responseId": secrets.token_hex(8), "status": "error",
                              "error": {"message": message, "code": status}}, status=status)


class FakeDmdata(FakeServer):
    def __init__(self, api_key: str = "test-dmdata-key", **kw: Any) -> None:
        super().__init__(**kw)
        self.api_key = api_key
        self.tickets: dict[str, dict[str, Any]] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_starts = 0
        self.connections = 0
        self.pongs = 0
        self.client_pings = 0
        self.requests: list[dict[str, Any]] = []  # bodies of POST /v2/socket
        self._ids = itertools.count(1)
        self._refuse: deque[int] = deque()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/socket", self._start)
        app.router.add_get("/v2/websocket", self._websocket)

    # ---------------------------------------------------------------- REST

    async def _start(self, request: web.Request) -> web.Response:
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            return _error(401, "Unauthorized.")
        if auth.login != self.api_key:
            return _error(401, "Unauthorized.")
        with self.lock:
            if self._refuse:
                return _error(self._refuse.popleft(), "Service unavailable.")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "Bad request.")
        classes = body.get("classifications") if isinstance(body, dict) else None
        if not isinstance(classes, list) or not classes:
            return _error(400, "classifications is required.")
        ticket = secrets.token_urlsafe(24)
        with self.lock:
            self.socket_starts += 1
            self.requests.append(body)
            socket_id = 1000 + self.socket_starts
            self.tickets[ticket] = {"id": socket_id, "classifications": classes,
                                    "appName": body.get("appName")}
        return web.json_response({
            "responseId": secrets.token_hex(8), "responseTime": _now(), "status": "ok",
            "ticket": ticket,
            "websocket": {"id": socket_id,
                          "url": f"ws://{self.host}:{self.port}/v2/websocket?ticket={ticket}",
                          "protocol": [SUBPROTOCOL], "expiration": 300},
            "classifications": classes, "test": "no", "types": None,
            "formats": ["xml", "a/n", "binary"], "appName": body.get("appName")})

    # ----------------------------------------------------------- WebSocket

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        with self.lock:
            info = self.tickets.pop(request.query.get("ticket", ""), None)
        if info is None:
            return _error(403, "Ticket is invalid or already used.")
        ws = web.WebSocketResponse(protocols=(SUBPROTOCOL,), autoping=True)
        await ws.prepare(request)
        if ws.ws_protocol != SUBPROTOCOL:
            await ws.send_str(json.dumps({"type": "error", "error": "sub-protocol dmdata.v2 "
                                          "is required", "code": 4400, "close": True}))
            await ws.close()
            return ws
        with self.lock:
            self.sockets.append(ws)
            self.connections += 1
        await ws.send_str(json.dumps({
            "type": "start", "socketId": info["id"], "classifications": info["classifications"],
            "types": None, "test": "no", "formats": ["xml", "a/n", "binary"],
            "appName": info["appName"], "time": _now()}))
        try:
            async for msg in ws:
                try:
                    data = json.loads(msg.data)
                except (ValueError, TypeError):
                    continue
                if data.get("type") == "pong":
                    with self.lock:
                        self.pongs += 1
                elif data.get("type") == "ping":
                    with self.lock:
                        self.client_pings += 1
                    await ws.send_str(json.dumps({"type": "pong", "pingId": data.get("pingId")}))
        finally:
            with self.lock:
                if ws in self.sockets:
                    self.sockets.remove(ws)
        return ws

    # ------------------------------------------------------ driving it (tests)

    def _run(self, coro: Any) -> Any:
        assert self._loop is not None, "server not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _send_all(self, text: str) -> int:
        with self.lock:
            sockets = list(self.sockets)
        for ws in sockets:
            await ws.send_str(text)
        return len(sockets)

    def data_message(self, xml: bytes, *, type_: str = "VXSE43",
                     classification: str = "eew.warning", message_id: str | None = None
                     ) -> dict[str, Any]:
        mid = message_id or f"{next(self._ids):08x}" + secrets.token_hex(12)
        return {"type": "data", "version": "2.0", "id": mid, "classification": classification,
                "passing": [{"name": "fake", "time": _now()}],
                "head": {"type": type_, "author": "気象庁", "time": _now(), "designation": None,
                         "test": False, "xml": True},
                "format": "xml", "compression": "gzip", "encoding": "base64",
                "body": base64.b64encode(gzip.compress(xml)).decode("ascii")}

    def push(self, xml: bytes, **kw: Any) -> str:
        """Send ``xml`` as a data message to every open socket; the message id."""
        message = self.data_message(xml, **kw)
        self.push_message(message)
        return str(message["id"])

    def push_message(self, message: dict[str, Any]) -> int:
        """Send ``message`` as is; how many sockets it went to."""
        return int(self._run(self._send_all(json.dumps(message, ensure_ascii=False))))

    def ping(self) -> int:
        return int(self._run(self._send_all(json.dumps(
            {"type": "ping", "pingId": secrets.token_hex(6)}))))

    def drop(self) -> None:
        async def close_all() -> None:
            with self.lock:
                sockets = list(self.sockets)
            for ws in sockets:
                await ws.close(code=1001)  # going away
        self._run(close_all())

    def refuse_next(self, count: int = 1, status: int = 503) -> None:
        with self.lock:
            self._refuse.extend([status] * count)

    def open_sockets(self) -> int:
        with self.lock:
            return len(self.sockets)

    def wait_for(self, condition: Any, timeout: float = 10.0) -> bool:
        """Poll ``condition()`` until true (tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return True
            time.sleep(0.01)
        return bool(condition())


_TIME = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\+09:00|Z)")


def as_if_now(xml: bytes, now: dt.datetime | None = None) -> bytes:
    """``xml`` (a JMA report) with every time moved so that its ReportDateTime is
    ``now``: a sample document replayed as a live one (tests, the demo, bench)."""
    found = re.search(rb"<ReportDateTime>([^<]+)</ReportDateTime>", xml)
    if found is None:
        return xml
    report = dt.datetime.fromisoformat(found.group(1).decode())
    delta = (now or dt.datetime.now(dt.UTC)) - report

    def shift(m: re.Match[bytes]) -> bytes:
        zone = m.group(2).decode()
        tz = dt.UTC if zone == "Z" else dt.timezone(dt.timedelta(hours=9))
        value = dt.datetime.fromisoformat(m.group(1).decode()).replace(tzinfo=tz) + delta
        return value.strftime("%Y-%m-%dT%H:%M:%S").encode() + m.group(2)

    return _TIME.sub(shift, xml)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
