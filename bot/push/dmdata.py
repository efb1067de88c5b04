"""A push source: DMDATA.jp API v2 over a WebSocket (the protocol is in
:mod:`bot.push.dmdata_protocol`).

:class:`DmdataSource` starts a socket with the REST API, connects with the
``dmdata.v2`` sub-protocol, answers every ping with a pong, pings the server itself
after ``keepalive`` seconds of silence and connects again after twice that, and
after any failure (refused start, dropped connection, an ``error`` message that
closes) tries again with exponential back-off (``reconnect_initial`` doubling up to
``reconnect_max``; reset once a socket is running).

Each data message's document is handed to the same :class:`~bot.intake.Intake`
as the feeds' documents, outside the event loop (a worker thread). Nothing is
handed over twice: DMDATA's message id is remembered in ``feed_documents`` (as a
feed's entry id is), and the intake itself recognises a document it has stored
before by its JMA identity, whatever id it came with. A document that cannot be
read (not base64, not gzip, not XML) is refused with one log line naming the
message id and the reason, remembered, and the connection goes on.

The state (connected since, last message, reconnects, last error) is in
``feed_state`` under the source's name, which ``bousai feeds status`` shows. The
API key is sent as HTTP Basic credentials only; it never reaches a log line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx

from bot.db.schema import utcnow
from bot.domain import Alert, EarlyWarning, EewArea, Intensity, Kind
from bot.errors import IngestError
from bot.health import Check
from bot.intake import Intake
from bot.push import dmdata_protocol as proto
from bot.push.settings import DmdataSettings
from bot.store import feeds as feed_store

if TYPE_CHECKING:
    from channels.base import Channel

log = logging.getLogger(__name__)


HAND_OVER_ATTEMPTS = 5


class Closed(Exception):
    """The socket ended; the reason is the message."""


@dataclass
class State:
    connected_since: dt.datetime | None = None
    last_message_at: dt.datetime | None = None
    reconnects: int = 0
    last_error: str | None = None
    documents: int = 0


class DmdataSource:
    def __init__(self, intake: Intake, settings: DmdataSettings, *,
                 on_accept: Callable[[], object] | None = None) -> None:
        self.intake = intake
        self.engine = intake.service.engine
        self.settings = settings
        self.name = settings.name
        self.on_accept = on_accept
        self.state = State()
        self._ping_ids = itertools.count(1)
        self._attempts = 0

    # ------------------------------------------------------------- running

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, read, and connect again until ``stop`` is set. Never raises."""
        try:
            await asyncio.to_thread(feed_store.state, self.engine, self.name,
                                    self.settings.base_url)
        except Exception as exc:  # recorded later, when the database answers again
            log.warning("%s: state not read: %s", self.name, type(exc).__name__)
        await asyncio.to_thread(self.warm_up)
        delay = self.settings.reconnect_initial
        while not stop.is_set():
            try:
                socket = await self._start_socket()
                await self._session(socket, stop)
                reason = "connection closed"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure leads to a reconnect
                if isinstance(exc, IngestError):
                    reason = exc.reason
                elif isinstance(exc, Closed):
                    reason = str(exc)
                else:
                    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if stop.is_set():
                break
            if self._attempts == 0:  # the socket ran: start the back-off again
                delay = self.settings.reconnect_initial
            self._attempts += 1
            self.state.reconnects += 1
            await self._disconnected(reason, delay)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, self.settings.reconnect_max)
        await self._record(connected_since=None)

    async def _start_socket(self) -> proto.Socket:
        s = self.settings
        async with httpx.AsyncClient(timeout=15.0) as client:
            try:
                resp = await client.post(
                    f"{s.base_url}/v2/socket", auth=(s.api_key.get(), ""),
                    json=proto.start_request(s.classifications, s.app_name))
            except httpx.HTTPError as exc:  # the message names the host, not the key
                raise proto.ProtocolError(f"socket start failed: {type(exc).__name__}") \
                    from None
        return proto.parse_socket_start(resp.status_code, resp.text)

    async def _session(self, socket: proto.Socket, stop: asyncio.Event) -> None:
        protocols = socket.protocols or (proto.SUBPROTOCOL,)
        async with aiohttp.ClientSession() as http, http.ws_connect(
                socket.url, protocols=protocols, autoping=True, max_msg_size=0) as ws:
            if ws.protocol not in protocols:
                raise proto.ProtocolError(f"server did not accept sub-protocol "
                                          f"{proto.SUBPROTOCOL}")
            stopper = asyncio.ensure_future(stop.wait())
            silent = 0
            try:
                while not stop.is_set():
                    receive = asyncio.ensure_future(ws.receive())
                    done, _ = await asyncio.wait({receive, stopper},
                                                 timeout=self.settings.keepalive,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if receive not in done:
                        receive.cancel()
                        if stop.is_set():
                            return
                        silent += 1
                        if silent >= 2:
                            raise Closed(f"no message for {2 * self.settings.keepalive:.0f}s")
                        await ws.send_str(json.dumps(
                            {"type": "ping", "pingId": f"bousai-{next(self._ping_ids)}"}))
                        continue
                    silent = 0
                    msg = receive.result()
                    if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                    aiohttp.WSMsgType.CLOSING):
                        raise Closed(f"closed by the server (code {ws.close_code})")
                    if msg.type is aiohttp.WSMsgType.ERROR:
                        raise Closed(f"connection error: {ws.exception()}")
                    if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        await self._on_message(ws, msg.data)
            finally:
                stopper.cancel()

    async def _on_message(self, ws: aiohttp.ClientWebSocketResponse, raw: str | bytes) -> None:
        now = utcnow()
        self.state.last_message_at = now
        try:
            message = proto.parse_message(raw)
        except proto.ProtocolError as exc:
            log.warning("%s: message refused: %s", self.name, exc.reason,
                        extra={"feed": self.name})
            return
        kind = message["type"]
        if kind == "ping":
            await ws.send_str(json.dumps(proto.pong(message)))
            await self._record(last_success_at=now)
        elif kind == "start":
            self._attempts = 0
            self.state.connected_since = now
            log.info("%s: connected (socket %s, classifications %s)", self.name,
                     message.get("socketId"), ", ".join(message.get("classifications") or []),
                     extra={"feed": self.name})
            await self._record(connected_since=now, last_success_at=now,
                               consecutive_failures=0)
        elif kind == "data":
            await self._on_data(message)
        elif kind == "error":
            text = f"server error {message.get('code')}: {message.get('error')}"
            log.warning("%s: %s", self.name, text, extra={"feed": self.name})
            self.state.last_error = text
            await self._record(last_error_at=now, last_error=text)
            if message.get("close"):
                raise Closed(text)

    async def _on_data(self, message: dict[str, Any]) -> None:
        try:
            doc = proto.decode_data(message, max_bytes=self.settings.max_bytes)
        except proto.DocumentError as exc:
            log.warning("%s: document refused: %s", self.name, exc.reason,
                        extra={"feed": self.name})
            if exc.message_id:
                await asyncio.to_thread(feed_store.remember, self.engine, self.name,
                                        exc.message_id, f"refused: {exc.reason}")
            return
        for attempt in range(1, HAND_OVER_ATTEMPTS + 1):
            try:
                new, accepted = await asyncio.to_thread(self.hand_over, doc)
                break
            except Exception as exc:  # the database, say: the document must not be lost
                if attempt == HAND_OVER_ATTEMPTS:
                    log.error("%s: document %s (%s) NOT stored after %d attempts: %s: %s",
                              self.name, doc.id, doc.type, attempt, type(exc).__name__, exc,
                              extra={"feed": self.name})
                    raise Closed(f"document {doc.id} not stored") from None
                log.warning("%s: document %s not stored yet (%s); trying again", self.name,
                            doc.id, type(exc).__name__, extra={"feed": self.name})
                await asyncio.sleep(0.2 * attempt)
        if new:
            self.state.documents += 1
        if accepted and self.on_accept is not None:
            self.on_accept()  # on the loop: the dispatcher's wake is not thread-safe

    def hand_over(self, doc: proto.Document) -> tuple[bool, bool]:
        """Give one document to the intake, once: (it was new, an alert of it was
        accepted to go out). Runs in a worker thread (the intake renders and writes
        the database)."""
        if feed_store.seen(self.engine, self.name, doc.id):
            log.info("%s: document %s already handed over", self.name, doc.id,
                     extra={"feed": self.name})
            return False, False
        origin = f"{self.name}:{doc.type or 'document'}:{doc.id}"
        records = self.intake.process(doc.body, origin)
        outcome = "; ".join(r.get("error") or f"{r.get('kind')}:{r.get('action')}"
                            for r in records) or "no alerts"
        feed_store.remember(self.engine, self.name, doc.id, outcome)
        new = sum(1 for r in records if not r.get("duplicate") and not r.get("error"))
        feed_store.update(self.engine, self.name, last_success_at=utcnow(),
                          documents_added=new)
        return new > 0, any(r.get("action") == "auto" for r in records)

    @staticmethod
    async def open_channels(channels: Iterable[Channel]) -> None:
        """Open every channel's client now (Telegram's getMe, the SDKs' HTTP clients
        and TLS contexts): opened lazily, the first send would pay for it, more than
        a second on a busy machine. A channel that fails here is left to fail at its
        first send, where the dispatcher reports it."""
        for channel in channels:
            try:
                await channel.start()
            except Exception as exc:
                log.warning("channel %s did not open: %s", channel.name, type(exc).__name__)

    def warm_up(self) -> None:
        """Render an early warning once in every language before the first arrives:
        the first render of a process loads each locale's date formats (more than a
        second for sixteen languages), which must not delay a real warning."""
        svc = self.intake.service
        now = utcnow()
        sample = Alert(source="dmdata", source_id="warm-up", kind=Kind.EEW, issued=now,
                       payload=EarlyWarning(origin_time=now, areas=(EewArea(
                           code="0", intensity_from=Intensity.FIVE_LOWER),)))
        limits = {name: plan.limits for name, plan in svc.plans.items()}
        started = time.perf_counter()
        try:
            for language in svc.config.languages:
                svc.renderer.render_all(sample, language, limits)
        except Exception as exc:  # a warm-up that fails costs time later, nothing else
            log.warning("%s: warm-up failed: %s", self.name, type(exc).__name__)
        log.info("%s: renderer warmed up in %.2fs", self.name, time.perf_counter() - started)

    # --------------------------------------------------------------- state

    async def _disconnected(self, reason: str, delay: float) -> None:
        now = utcnow()
        self.state.connected_since = None
        self.state.last_error = reason
        log.warning("%s: disconnected (%s); connecting again in %.2fs (%d reconnects)",
                    self.name, reason, delay, self.state.reconnects, extra={"feed": self.name})
        await self._record(connected_since=None, last_error_at=now, last_error=reason[:2000],
                           reconnects=self.state.reconnects,
                           consecutive_failures=self._attempts)

    async def _record(self, **values: Any) -> None:
        try:
            await asyncio.to_thread(feed_store.update, self.engine, self.name, **values)
        except Exception as exc:  # the database being away must not end the source
            log.warning("%s: state not recorded: %s", self.name, type(exc).__name__)

    def readiness(self) -> Check:
        """Ready while a socket is running."""
        st = self.state
        if st.connected_since is not None:
            return Check(ok=True, detail=f"connected since {st.connected_since:%H:%M:%S} UTC, "
                                         f"{st.reconnects} reconnects")
        return Check(ok=False, detail=f"not connected ({st.reconnects} reconnects; last error: "
                                      f"{st.last_error or 'none yet'})")
