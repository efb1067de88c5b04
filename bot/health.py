"""Readiness: whether the service can do its job now, as ``GET /readyz`` reports it.

``/healthz`` answers "is the process alive and the database reachable"; ``/readyz``
answers "are alerts getting in and out". Each part of the service that can be
unready (feeds, push sources, channels, the database) registers a named check on
the service's :class:`Readiness`::

    svc.readiness.register("feeds", lambda: Check(ok=not failing, detail="2 of 4 failing"))

A check is a plain function, called in a worker thread on each request; it must be
cheap and must not raise (a check that raises counts as not ready, with the
exception's type as its detail). ``/readyz`` answers 200 when every check is ok,
else 503, with every check's state in the body.

Besides the registered checks, ``/readyz`` (:func:`bot.web.create_app`) checks that
the database answers and that its schema is current (:class:`SchemaCheck`: the
database's Alembic revision is the head of ``bot/migrations``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""


class Readiness:
    """Named readiness checks; thread-safe to register from any component."""

    def __init__(self) -> None:
        self._checks: dict[str, Callable[[], Check]] = {}
        self._lock = threading.Lock()

    def register(self, name: str, check: Callable[[], Check]) -> None:
        with self._lock:
            self._checks[name] = check

    def unregister(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._checks)

    def evaluate(self) -> dict[str, Check]:
        """Every check's state, by name (a check that raises is not ready)."""
        with self._lock:
            checks = dict(self._checks)
        out: dict[str, Check] = {}
        for name, fn in sorted(checks.items()):
            try:
                out[name] = fn()
            except Exception as exc:  # a broken check must not break the endpoint
                log.warning("readiness check %s failed: %s", name, type(exc).__name__)
                out[name] = Check(ok=False, detail=f"check failed ({type(exc).__name__})")
        return out


@functools.cache
def _head() -> str | None:
    from bot.db.engine import head_revision

    return head_revision()


class SchemaCheck:
    """Whether the database's schema is the one this code needs (its Alembic revision
    is the migrations' head). A current schema is remembered for ``ttl`` seconds (one
    small query a minute); one that is not is read again at each call, so readiness
    returns as soon as ``bousai db upgrade`` has run."""

    def __init__(self, engine: sa.Engine, ttl: float = 60.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._current_until = float("-inf")

    def __call__(self) -> Check:
        from bot.db.engine import current_revision

        if time.monotonic() < self._current_until:
            return Check(ok=True, detail=f"at {_head()}")
        head = _head()
        current = current_revision(self.engine)
        if current != head:
            state = "has no schema" if current is None else f"is at revision {current}"
            return Check(ok=False, detail=f"the database {state}, the code needs {head}: "
                                          "run `bousai db upgrade`")
        self._current_until = time.monotonic() + self.ttl
        return Check(ok=True, detail=f"at {head}")
