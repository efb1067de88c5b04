"""What the web server refuses, so that no client can starve it (or the service).

* **Connections**: at most ``max_connections`` open at once; one more is closed as
  soon as it is accepted (its file descriptor is back at once: the dispatcher and
  the database keep theirs).
* **Headers**: a connection that has not sent complete request headers within
  ``header_timeout`` seconds (after connecting, or after its last response) is
  closed; headers over ``max_header_bytes`` are refused by h11 (431/400).
* **Body**: a body must arrive within ``body_timeout`` seconds (408) and be at most
  ``max_body`` bytes (413); a client that hangs up mid-body gets one warning line.
* **Keep-alive**: an idle connection is closed after ``keep_alive`` seconds.

Each kind of refusal is logged at most once a minute (with how many were not
logged), so a flood of bad clients cannot flood the log either.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.config import Config
from bot.errors import ConfigError

log = logging.getLogger("bot.web")


@dataclass(frozen=True, kw_only=True)
class HttpLimits:
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    keep_alive: float = 5.0
    max_connections: int = 200
    max_body: int = 1024 * 1024
    max_header_bytes: int = 16 * 1024
    line_max_event_age: float = 600.0  # LINE events older than this are refused

    @classmethod
    def from_config(cls, config: Config) -> HttpLimits:
        """``[http]`` in the configuration: ``header_timeout_seconds``,
        ``body_timeout_seconds``, ``keep_alive_seconds``, ``max_connections``,
        ``max_body_bytes``, ``max_header_bytes``, ``line_max_event_age_seconds``."""
        section = config.section("http")
        values: dict[str, Any] = {}
        for key, field_name, integer in (
                ("header_timeout_seconds", "header_timeout", False),
                ("body_timeout_seconds", "body_timeout", False),
                ("keep_alive_seconds", "keep_alive", False),
                ("max_connections", "max_connections", True),
                ("max_body_bytes", "max_body", True),
                ("max_header_bytes", "max_header_bytes", True),
                ("line_max_event_age_seconds", "line_max_event_age", False)):
            if key not in section:
                continue
            value = section[key]
            kinds = (int,) if integer else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
                kind = "a positive whole number" if integer else "a positive number"
                raise ConfigError(f"must be {kind}, got {value!r}", key=f"http.{key}",
                                  path=config.path)
            values[field_name] = value
        return cls(**values)


class Throttled:
    """One log line per kind of refusal per ``every`` seconds."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._dropped: dict[str, int] = {}
        self._lock = threading.Lock()

    def warn(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.every:
                self._dropped[kind] = self._dropped.get(kind, 0) + 1
                return
            self._last[kind] = now
            dropped = self._dropped.pop(kind, 0)
        suffix = f" ({dropped} more since the last such line)" if dropped else ""
        log.warning(message + suffix, *args)


REFUSALS = Throttled()


class ThrottleFilter(logging.Filter):
    """For loggers we do not own (asyncio's "accept() out of system resource",
    uvicorn's errors): the same message at most once a minute."""

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        key = f"{record.name}:{record.msg}"
        last = _seen.get(key)
        if last is not None and now - last < 60.0:
            return False
        _seen[key] = now
        return True


_seen: dict[str, float] = {}


def guarded_protocol(limits: HttpLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the connection cap and the header deadline."""

    class Guarded(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= limits.max_connections:
                self.transport = transport
                REFUSALS.warn("connections", "web: connection refused, %d already open "
                              "(max_connections)", len(self.connections))
                transport.abort()
                return
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(limits.header_timeout, self._expire)

        def _expire(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if self.cycle is None or self.cycle.response_complete:
                REFUSALS.warn("headers", "web: closed a connection that sent no complete "
                              "request within %gs (from %s)", limits.header_timeout,
                              self.client[0] if self.client else "unknown")
                self.transport.abort()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            super().connection_lost(exc)

    return Guarded


def install_log_throttles() -> None:
    for name in ("asyncio", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ThrottleFilter) for f in logger.filters):
            logger.addFilter(ThrottleFilter())
