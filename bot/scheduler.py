"""The scheduler: one APScheduler 3 interval job per feed, in exactly one process.

On PostgreSQL the process that holds a session-level advisory lock runs the
feed jobs; when it dies its connection closes, the lock is released, and
another process takes over at its next try. On SQLite there is one process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.feeds import Feed, Poller

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x626F7573  # "bous"


class SchedulerLock:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._conn: sa.Connection | None = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        if self._conn is not None:
            return True
        conn = self.engine.connect()
        got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                {"k": ADVISORY_KEY}).scalar())
        conn.commit()
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # closing the session releases the lock
            self._conn = None


class FeedScheduler:
    def __init__(self, poller: Poller, feeds: list[Feed], *, retry_lock_every: float = 5.0,
                 on_error: Callable[[str, Exception], None] | None = None) -> None:
        self.poller = poller
        self.feeds = feeds
        self.lock = SchedulerLock(poller.engine)
        self.retry_lock_every = retry_lock_every
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max(2, min(8, len(feeds))))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            timezone="UTC",
        )
        self._started_jobs = False
        self._stop = threading.Event()

    def start(self) -> None:
        self.scheduler.start()
        self.scheduler.add_job(self._ensure_leader, "interval", seconds=self.retry_lock_every,
                               id="leader")
        self._ensure_leader()

    def _ensure_leader(self) -> None:
        if self._started_jobs or self._stop.is_set():
            return
        if not self.lock.try_acquire():
            return
        log.info("this process runs the feed scheduler (%d feeds)", len(self.feeds))
        for feed in self.feeds:
            self.scheduler.add_job(self.poller.poll, "interval", seconds=feed.interval,
                                   args=[feed.name], id=f"feed:{feed.name}",
                                   next_run_time=dt.datetime.now(dt.UTC))
        self._started_jobs = True

    def poll_all_once(self) -> None:
        """Poll every feed once now, if this process is the leader."""
        if self.lock.try_acquire():
            for feed in self.feeds:
                self.poller.poll(feed.name, force=True)

    @property
    def is_leader(self) -> bool:
        return self._started_jobs

    def shutdown(self) -> None:
        self._stop.set()
        self.poller.stop()  # a poll in progress ends within a tenth of a second
        self.scheduler.shutdown(wait=True)
        self.lock.release()
        self.poller.close()
