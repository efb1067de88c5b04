"""The HTTP side of the service: health check and chat webhooks (Starlette).

Routes::

    GET  /healthz             200 {"status": "ok", "database": "ok"}; 503 when the
                              database does not answer
    GET  /readyz              200 when the database answers, its schema is current
                              and every readiness check (:mod:`bot.health`) is ok,
                              else 503; the body gives each check's state: {"status":
                              "ok", "checks": {"database": {"ok": true, "detail": ""},
                              "schema": {...}, ...}}
    GET  /metrics             Prometheus metrics (:mod:`bot.metrics`)
    POST /webhooks/line       LINE webhook (when a LINE handler is given)
    POST /webhooks/telegram   Telegram webhook (when a Telegram handler in webhook
                              mode is given)
    POST /internal/wake       another process made deliveries due (SQLite; see
                              :mod:`bot.wakeup`): 204 with the right
                              ``X-Bousai-Wake-Token``, else 403 and nothing woken

What the server refuses (stalled clients, too many connections, slow bodies) is
in :mod:`bot.webguard`, set by ``[http]`` in the configuration. A request that
passes the signature or secret check but cannot be understood gets 400 and one
warning line (at most one a minute per kind). Every webhook body is read with a
size limit (1 MiB by default: ``Content-Length`` over it is refused with 413
before reading, and a body that grows past it while streaming is refused too).
A LINE body is verified (``x-line-signature``, HMAC over the raw bytes) before
it is parsed: a missing or wrong signature is 401. A
Telegram request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to
``TELEGRAM_WEBHOOK_SECRET`` (constant-time comparison), else 403. Refusals are
logged with the client address only, never the body, a signature or a secret.
A handler that fails answers 500 with a generic body; the traceback goes to the
log.

Running it next to the dispatcher in ``bousai run`` (one asyncio loop)::

    from bot.signup.line import LineSignup
    from bot.signup.telegram import TelegramSignup
    from bot.web import create_app, serve

    stop = asyncio.Event()                     # set it from the SIGINT/SIGTERM handler
    tg = TelegramSignup.from_service(svc) if telegram enabled else None
    line = LineSignup.from_service(svc) if line enabled else None
    app = create_app(svc, telegram_handler=tg, line_handler=line)
    tasks = [serve(app, svc.settings.http_host, svc.settings.http_port, stop)]
    if tg is not None:
        tasks.append(tg.run(stop))             # polls getUpdates, or registers the webhook
    ...                                        # gather them with dispatcher.run()
    finally: await line.close()                # (tg.run closes its own bot)

:func:`serve` installs no signal handlers: the caller owns them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol

import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.errors import ConfigError, ValidationError
from bot.health import Check, SchemaCheck
from bot.metrics import metrics_route
from bot.service import Service
from bot.wakeup import PATH as WAKE_PATH
from bot.wakeup import TOKEN_HEADER as WAKE_HEADER
from bot.webguard import REFUSALS, HttpLimits, guarded_protocol, install_log_throttles

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


class LineHandler(Protocol):
    def verify(self, body: bytes, signature: str | None) -> bool: ...

    async def handle(self, payload: Mapping[str, Any]) -> None: ...


class TelegramHandler(Protocol):
    @property
    def webhook_enabled(self) -> bool: ...

    def check_secret(self, token: str | None) -> bool: ...

    async def handle_json(self, data: Mapping[str, Any]) -> None: ...


class WakeHandler(Protocol):
    token: str | None

    def check_token(self, given: str | None) -> bool: ...

    def wake(self) -> None: ...


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


class ClientGone(Exception):
    pass


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_body(request: Request, limit: int, timeout: float = 10.0) -> bytes:
    """The body, at most ``limit`` bytes within ``timeout`` seconds;
    :class:`BodyTooLarge` (raised before reading when ``Content-Length`` says so),
    :class:`BodyTimeout` or :class:`ClientGone` (hung up mid-body) otherwise."""
    try:
        async with asyncio.timeout(timeout):
            return await _read_body(request, limit)
    except TimeoutError:
        raise BodyTimeout from None
    except ClientDisconnect:
        raise ClientGone from None


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge
        except ValueError:
            raise BodyTooLarge from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request, limits: HttpLimits, what: str) -> bytes | Response:
    """The body, or the refusal to answer with (each kind logged once a minute)."""
    try:
        return await read_body(request, limits.max_body, limits.body_timeout)
    except BodyTooLarge:
        REFUSALS.warn("body-size", "%s: body over %d bytes refused (from %s)", what,
                      limits.max_body, _client(request))
        return _error(413, "request body too large")
    except BodyTimeout:
        REFUSALS.warn("body-time", "%s: body not received within %gs (from %s)", what,
                      limits.body_timeout, _client(request))
        return _error(408, "request body timed out")
    except ClientGone:
        REFUSALS.warn("body-gone", "%s: client hung up before the body was complete "
                      "(from %s)", what, _client(request))
        return _error(400, "incomplete body")


def create_app(svc: Service, *, telegram_handler: TelegramHandler | None = None,
               line_handler: LineHandler | None = None, max_body: int | None = None,
               limits: HttpLimits | None = None,
               wake_handler: WakeHandler | None = None) -> Starlette:
    engine = svc.engine
    limits = limits or HttpLimits()
    if max_body is not None:
        limits = dataclasses.replace(limits, max_body=max_body)

    def ping() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    async def healthz(request: Request) -> Response:
        try:
            await asyncio.to_thread(ping)
        except Exception as exc:  # any failure means "not healthy"
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    schema = SchemaCheck(engine)

    def ready() -> dict[str, Check]:
        try:
            ping()
            database = Check(ok=True)
            current = schema()
        except Exception as exc:  # any failure means "not ready"
            database = Check(ok=False, detail=f"unreachable ({type(exc).__name__})")
            current = Check(ok=False, detail="not checked: the database is unreachable")
        checks = svc.readiness.evaluate()
        seen = checks.pop("database", None)  # the dispatcher's view: both must be ok
        if seen is not None and not (seen.ok and database.ok):
            database = Check(ok=False, detail="; ".join(
                c.detail for c in (database, seen) if not c.ok and c.detail))
        elif seen is not None:
            database = seen
        return {"database": database, "schema": current, **checks}

    async def readyz(request: Request) -> Response:
        checks = await asyncio.to_thread(ready)
        ok = all(c.ok for c in checks.values())
        body = {"status": "ok" if ok else "not ready",
                "checks": {n: {"ok": c.ok, "detail": c.detail} for n, c in checks.items()}}
        return JSONResponse(body, status_code=200 if ok else 503)

    async def line_webhook(request: Request) -> Response:
        assert line_handler is not None
        body = await _body(request, limits, "line webhook")
        if isinstance(body, Response):
            return body
        if not line_handler.verify(body, request.headers.get("x-line-signature")):
            REFUSALS.warn("line-signature", "line webhook: missing or invalid signature "
                          "(from %s)", _client(request))
            return _error(401, "invalid signature")
        try:
            payload = json.loads(body)
        except ValueError:
            REFUSALS.warn("line-json", "line webhook: signed body is not JSON")
            return _error(400, "body is not JSON")
        if not isinstance(payload, dict):
            REFUSALS.warn("line-json", "line webhook: signed body is not a JSON object")
            return _error(400, "body is not a JSON object")
        try:
            await line_handler.handle(payload)
        except ValidationError as exc:
            REFUSALS.warn("line-unreadable", "line webhook: signed body refused: %s", exc)
            return _error(400, "not a LINE webhook body")
        except Exception:
            log.exception("line webhook: handling failed")
            return _error(500, "internal error")
        return JSONResponse({})

    async def telegram_webhook(request: Request) -> Response:
        assert telegram_handler is not None
        if not telegram_handler.check_secret(
                request.headers.get("x-telegram-bot-api-secret-token")):
            REFUSALS.warn("telegram-secret", "telegram webhook: missing or wrong secret token "
                          "(from %s)", _client(request))
            return _error(403, "forbidden")
        body = await _body(request, limits, "telegram webhook")
        if isinstance(body, Response):
            return body
        try:
            data = json.loads(body)
        except ValueError:
            REFUSALS.warn("telegram-json", "telegram webhook: body is not JSON")
            return _error(400, "body is not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) \
                or isinstance(data.get("update_id"), bool):
            REFUSALS.warn("telegram-unreadable", "telegram webhook: not a Telegram update")
            return _error(400, "not a Telegram update")
        try:
            await telegram_handler.handle_json(data)
        except ValidationError as exc:
            REFUSALS.warn("telegram-unreadable", "telegram webhook: update refused: %s", exc)
            return _error(400, "not a Telegram update")
        except Exception:
            log.exception("telegram webhook: update %d failed", data["update_id"])
            return _error(500, "internal error")
        return JSONResponse({})

    async def wake(request: Request) -> Response:
        assert wake_handler is not None
        if not wake_handler.check_token(request.headers.get(WAKE_HEADER)):
            REFUSALS.warn("wake-token", "wake: missing or wrong token (from %s)",
                          _client(request))
            return _error(403, "forbidden")
        wake_handler.wake()
        return Response(status_code=204)

    routes = [Route("/healthz", healthz, methods=["GET"]),
              Route("/readyz", readyz, methods=["GET"]), metrics_route(svc)]
    if line_handler is not None:
        routes.append(Route("/webhooks/line", line_webhook, methods=["POST"]))
    if telegram_handler is not None and telegram_handler.webhook_enabled:
        routes.append(Route("/webhooks/telegram", telegram_webhook, methods=["POST"]))
    if wake_handler is not None and wake_handler.token:
        routes.append(Route(WAKE_PATH, wake, methods=["POST"]))
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``bousai run`` owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(app: Starlette, host: str, port: int, stop: asyncio.Event,
                limits: HttpLimits | None = None,
                listening: Callable[[str, int], object] | None = None) -> None:
    """Serve ``app`` in the running loop until ``stop`` is set, then shut down
    gracefully (in-flight requests finish). Stop it with ``stop``, not by
    cancelling. A port that cannot be bound raises :class:`ConfigError`.
    ``limits``: what the server refuses (:mod:`bot.webguard`). ``listening(host,
    port)`` is called once the socket is bound (with the port it got, for port 0)."""
    limits = limits or HttpLimits()
    install_log_throttles()
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                            lifespan="off", server_header=False,
                            http=guarded_protocol(limits),
                            timeout_keep_alive=max(1, int(limits.keep_alive)),
                            limit_concurrency=limits.max_connections + 1,
                            h11_max_incomplete_event_size=limits.max_header_bytes,
                            backlog=min(2048, limits.max_connections * 2))
    server = _Server(config)

    async def watch() -> None:
        if listening is not None:
            while not server.started and not stop.is_set():
                await asyncio.sleep(0.01)
            if server.started:
                bound = [s.getsockname() for srv in server.servers for s in srv.sockets]
                listening(host, int(bound[0][1]) if bound else port)
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.ensure_future(watch())
    try:
        # Awaited here, not in a task of its own: uvicorn raises SystemExit when it
        # cannot bind, which a task would pass on to the event loop.
        await server.serve()
    except SystemExit:
        raise ConfigError(f"cannot listen on {host}:{port} (in use or not allowed)",
                          key="BOUSAI_HTTP_PORT") from None
    finally:
        watcher.cancel()
