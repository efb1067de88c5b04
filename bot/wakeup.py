"""Waking the running service when another process makes deliveries due.

``bousai alert issue --yes``, ``bousai alert approve``, follow-ups, resends and
``bousai ingest`` commit their delivery rows in their own process; ``bousai run``
would otherwise find them at its next poll (``Dispatcher.poll_interval``). One
code path for both databases:

* Inside the transaction that makes rows due, the writer calls :func:`due`.
  On PostgreSQL that is ``SELECT pg_notify('bousai_deliveries', '')``: the
  notification is delivered when (and only if) the transaction commits. On SQLite
  it marks the connection; when the connection goes back to the pool after a
  commit, :func:`notify_after_commit` runs (the pool hook :func:`install` sets up
  for every SQLite file engine, see :func:`bot.db.make_engine`).
* In ``bousai run``, a :class:`WakeListener` calls ``Dispatcher.wake()``. On
  PostgreSQL it LISTENs on a connection of its own (reconnecting with back-off
  when it drops). On SQLite the service's web server answers
  ``POST /internal/wake`` (:mod:`bot.web`) for a caller that shows the random
  token the service wrote, readable by its owner only (0600), into
  ``<database>-wake/<pid>.json`` beside the database file; the file also says
  where the server listens. A request without the token is refused (403).

A notification is a hint, never the record: the rows are in the database, and
the dispatcher's poll still finds them if a notification is lost (the service
not running, a dropped connection, a full listen queue). Failures to notify are
logged at DEBUG only; the token never appears in a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import http.client
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

CHANNEL = "bousai_deliveries"  # the PostgreSQL notification channel
TOKEN_HEADER = "X-Bousai-Wake-Token"  # noqa: S105 (a header name)
PATH = "/internal/wake"
APPLICATION = "bousai-wake"  # the listening connection's application_name
POST_TIMEOUT = 0.2  # seconds; past it the poll finds the rows
_FLAG = "bousai.wake"  # on a SQLite connection: rows became due in this transaction

# Wake folders this process's own service serves → its thread-safe wake: a commit
# in the service itself (a feed, the web) wakes its dispatcher directly.
_local: dict[Path, Callable[[], object]] = {}
_local_lock = threading.Lock()


# ------------------------------------------------------------------ writers

def due(conn: sa.Connection) -> None:
    """Delivery rows became due in ``conn``'s transaction: wake the service once it
    commits (nothing happens if it rolls back)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    else:
        conn.info[_FLAG] = True


def wake_dir(engine: sa.Engine) -> Path | None:
    """Where the running service leaves its wake files: beside a SQLite database
    file (None for PostgreSQL and in-memory databases)."""
    url = engine.url
    if not url.drivername.startswith("sqlite") or not url.database \
            or url.database == ":memory:":
        return None
    db = Path(url.database).resolve()
    return db.with_name(db.name + "-wake")


def install(engine: sa.Engine) -> None:
    """For a SQLite file engine: after a commit that made rows due, when the
    connection returns to the pool, :func:`notify_after_commit`."""
    if wake_dir(engine) is None:
        return

    @sa.event.listens_for(engine, "rollback")
    def _rolled_back(conn: sa.Connection) -> None:
        conn.info.pop(_FLAG, None)

    @sa.event.listens_for(engine.pool, "checkin")
    def _checked_in(_dbapi: Any, record: Any) -> None:
        if record is not None and record.info.pop(_FLAG, False):
            notify_after_commit(engine)


def notify_after_commit(engine: sa.Engine) -> None:
    """Tell the running service(s) on this database that rows are due. On
    PostgreSQL the commit already did (:func:`due`); on SQLite: the service in this
    process directly, the others over their loopback wake endpoint."""
    folder = wake_dir(engine)
    if folder is None:
        return
    with _local_lock:
        local = _local.get(folder)
    if local is None:
        _post_all(folder, skip_pid=None)
        return
    local()
    if any(p.stem != str(os.getpid()) for p in _files(folder)):
        # other workers on the same database: never block the service's own thread
        threading.Thread(target=_post_all, args=(folder, os.getpid()), daemon=True,
                         name="bousai-wake").start()


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(folder.glob("*.json"))
    except OSError:
        return []


def _post_all(folder: Path, skip_pid: int | None) -> None:
    for path in _files(folder):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            pid, host, port, token = (int(info["pid"]), str(info["host"]), int(info["port"]),
                                      str(info["token"]))
        except (OSError, ValueError, KeyError, TypeError):
            log.debug("wake: %s is not readable; skipped", path.name)
            continue
        if pid == skip_pid:
            continue
        try:
            status = _post(host, port, token)
        except OSError as exc:
            log.debug("wake: the service %d did not answer (%s); it polls", pid,
                      type(exc).__name__)
            if not _alive(pid):
                with contextlib.suppress(OSError):
                    path.unlink()  # left behind by a service that was killed
            continue
        if status != 204:
            log.debug("wake: the service %d answered %d; it polls", pid, status)


def _post(host: str, port: int, token: str) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=POST_TIMEOUT)
    try:
        conn.request("POST", PATH, headers={TOKEN_HEADER: token, "Content-Length": "0"})
        return conn.getresponse().status
    finally:
        conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


# ----------------------------------------------------------------- the service

class WakeListener:
    """``bousai run``'s side: calls ``wake`` (on the service's loop) when another
    process has made deliveries due. Use :meth:`run` as a task; on SQLite, give the
    web server :attr:`token` and call :meth:`serving` once it listens."""

    def __init__(self, engine: sa.Engine, wake: Callable[[], object], *,
                 reconnect_max: float = 10.0, check_every: float = 5.0) -> None:
        self.engine = engine
        self._wake = wake
        self.pg = engine.dialect.name == "postgresql"
        self.folder = wake_dir(engine)
        self.token = secrets.token_urlsafe(32) if self.folder is not None else None
        self.reconnect_max = reconnect_max
        self.check_every = check_every
        self.listening = asyncio.Event()  # PostgreSQL: LISTEN is in place
        self.connections = 0  # PostgreSQL: listening connections opened so far
        self.woken = 0  # wake-ups received from other processes
        self._file: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """A wake-up from another process (on the loop)."""
        self.woken += 1
        self._wake()

    def check_token(self, given: str | None) -> bool:
        return (self.token is not None and given is not None
                and hmac.compare_digest(given.encode(), self.token.encode()))

    def serving(self, host: str, port: int) -> None:
        """SQLite: the web server listens on ``host``:``port``; publish the wake file
        (0600, in a 0700 folder) so that other processes can reach it."""
        if self.folder is None or self.token is None:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        with _local_lock:
            _local[self.folder] = lambda: loop.call_soon_threadsafe(self._wake)
        self.folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.folder, 0o700)
        if host in ("", "0.0.0.0", "::", "localhost"):  # noqa: S104 (reached on loopback)
            host = "127.0.0.1"
        path = self.folder / f"{os.getpid()}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "host": host, "port": port, "token": self.token}, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        self._file = path
        log.info("other processes wake this one at http://%s:%d%s", host, port, PATH)

    def close(self) -> None:
        if self.folder is not None:
            with _local_lock:
                _local.pop(self.folder, None)
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.unlink()
            self._file = None

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: on PostgreSQL, LISTEN (reconnecting); on SQLite, keep the
        wake file until the end."""
        try:
            if not self.pg:
                await stop.wait()
                return
            task = asyncio.create_task(self._listen_pg())
            await stop.wait()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            self.close()

    async def _listen_pg(self) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        delay = 0.2
        down = False
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    url, autocommit=True, connect_timeout=5, application_name=APPLICATION)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connections += 1
                    self.listening.set()
                    if down:
                        log.info("listening for new deliveries again")
                        self._wake()  # anything committed while away
                    elif self.connections == 1:
                        log.info("other processes wake this one by NOTIFY %s", CHANNEL)
                    down, delay = False, 0.2
                    while True:
                        async for _note in conn.notifies(timeout=self.check_every):
                            self.wake()
                        await conn.execute("SELECT 1")  # a dead connection shows here
            except (psycopg.Error, OSError) as exc:
                self.listening.clear()
                if not down:
                    log.warning("listening for new deliveries stopped (%s); retrying, the "
                                "poll goes on meanwhile", type(exc).__name__)
                down = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max)
