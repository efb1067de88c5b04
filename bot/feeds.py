"""Feed polling: JMA Atom feeds, CAP indexes and city RSS/Atom, with conditional requests.

Each configured feed (``[[feeds]]`` in the configuration) is polled by its own
APScheduler interval job. A poll sends If-None-Match / If-Modified-Since, reads
at most ``max_bytes`` within ``timeout`` seconds, and for an index (JMA Atom,
CAP index) fetches each entry's document once: documents already seen are
remembered in ``feed_documents``. A feed that fails backs off exponentially and
is reported in ``feed_state`` (``bousai feeds status``); it never stops the others.

``/readyz`` (:func:`readiness_check`) says not ready while a feed has failed several
polls in a row, while a poll hangs, or while a feed has had no successful poll for
its ``stale_after_seconds`` (default: three intervals, at least 180 s; a feed that
has not succeeded since the service started counts from the start).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from bot import metrics
from bot.config import Config
from bot.db.schema import utcnow
from bot.errors import ConfigError, IngestError
from bot.fetching import USER_AGENT, Fetched, FetchError, HostRules, fetch, fetch_url
from bot.fetching import client as http_client
from bot.health import Check
from bot.ingest.cap import parse_cap_index
from bot.ingest.rss import parse_jma_feed
from bot.intake import Intake
from bot.store import feeds as feed_store

log = logging.getLogger(__name__)

KINDS = ("jma", "cap", "rss")
__all__ = [
    "USER_AGENT",
    "Feed",
    "FetchError",
    "Fetched",
    "Poller",
    "feed_status",
    "fetch",
    "fetch_url",
    "load_feeds",
    "readiness_check",
]
REJECTED = "rejected: "  # a document's outcome that starts so was refused, with the reason
MIN_STALENESS = 180.0  # the shortest default stale_after_seconds


@dataclass(frozen=True, kw_only=True)
class Feed:
    name: str
    kind: str  # jma (JMA Atom feed) | cap (CAP document or index) | rss (city notices)
    url: str
    interval: float = 60.0
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    catch_up: bool = False  # long-term feed: read once at start-up
    allowed_hosts: tuple[str, ...] = ()  # besides the feed's own host: where links may go
    max_redirects: int = 3
    stale_after: float | None = None  # seconds without a successful poll: not ready

    @property
    def staleness(self) -> float:
        """Seconds without a successful poll after which ``/readyz`` calls it stale."""
        return self.stale_after if self.stale_after is not None \
            else max(3 * self.interval, MIN_STALENESS)

    @property
    def rules(self) -> HostRules:
        return HostRules.for_url(self.url, self.allowed_hosts, self.max_redirects)


def load_feeds(config: Config) -> list[Feed]:
    rows = config.raw.get("feeds", [])
    if not isinstance(rows, list):
        raise ConfigError("must be an array of tables", key="feeds", path=config.path)
    feeds = []
    names = set()
    for i, row in enumerate(rows):
        key = f"feeds[{i}]"
        if not isinstance(row, dict):
            raise ConfigError("must be a table", key=key, path=config.path)
        for need in ("name", "kind", "url"):
            if not isinstance(row.get(need), str) or not row[need]:
                raise ConfigError("missing setting", key=f"{key}.{need}", path=config.path)
        if row["kind"] not in KINDS:
            raise ConfigError(f"must be one of {', '.join(KINDS)}", key=f"{key}.kind",
                              path=config.path)
        if row["name"] in names:
            raise ConfigError("feed names must be unique", key=f"{key}.name", path=config.path)
        names.add(row["name"])
        hosts = row.get("allowed_hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
            raise ConfigError("must be a list of host names (host or host:port)",
                              key=f"{key}.allowed_hosts", path=config.path)
        numbers = {}
        for setting, default in (("interval_seconds", 60), ("timeout_seconds", 20),
                                 ("max_bytes", 5_000_000), ("max_redirects", 3)):
            value = row.get(setting, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 \
                    or (value == 0 and setting != "max_redirects"):
                raise ConfigError(f"must be a positive number, got {value!r}",
                                  key=f"{key}.{setting}", path=config.path)
            numbers[setting] = value
        stale = row.get("stale_after_seconds")
        if stale is not None and (isinstance(stale, bool) or not isinstance(stale, int | float)
                                  or stale <= 0):
            raise ConfigError(f"must be a positive number of seconds, got {stale!r}",
                              key=f"{key}.stale_after_seconds", path=config.path)
        feeds.append(Feed(name=row["name"], kind=row["kind"], url=row["url"],
                          interval=float(numbers["interval_seconds"]),
                          timeout=float(numbers["timeout_seconds"]),
                          max_bytes=int(numbers["max_bytes"]),
                          catch_up=bool(row.get("catch_up", False)),
                          allowed_hosts=tuple(hosts),
                          max_redirects=int(numbers["max_redirects"]),
                          stale_after=float(stale) if stale is not None else None))
    return feeds


class Poller:
    """Polls feeds and hands documents to :class:`~bot.intake.Intake`."""

    def __init__(self, intake: Intake, feeds: list[Feed], *,
                 on_accept: Callable[[], object] | None = None,
                 client: httpx.Client | None = None) -> None:
        self.intake = intake
        self.engine = intake.service.engine
        self.feeds = {f.name: f for f in feeds}
        self.on_accept = on_accept
        timeout = max((f.timeout for f in feeds), default=20.0)
        self.client = client or http_client(timeout)
        self.stopping = threading.Event()
        self.polling: dict[str, float] = {}  # feed name -> monotonic start of its poll
        self.started_at = utcnow()  # staleness of a feed not polled since counts from here

    def stop(self) -> None:
        """End any poll in progress within a tenth of a second (SIGTERM)."""
        self.stopping.set()

    def close(self) -> None:
        self.stop()
        self.client.close()

    # --------------------------------------------------------------- state

    def _state(self, feed: Feed) -> dict[str, Any]:
        return feed_store.state(self.engine, feed.name, feed.url)

    def _update(self, name: str, **values: Any) -> None:
        feed_store.update(self.engine, name, **values)

    def _seen(self, feed: str, key: str) -> bool:
        return feed_store.seen(self.engine, feed, key)

    def _remember(self, feed: str, key: str, outcome: str) -> None:
        feed_store.remember(self.engine, feed, key, outcome)

    # ---------------------------------------------------------------- poll

    def poll(self, name: str, *, force: bool = False) -> int:
        """Poll one feed; returns how many new documents it processed. Never raises."""
        feed = self.feeds[name]
        state = self._state(feed)
        now = utcnow()
        if not force and state["next_poll_at"] is not None and state["next_poll_at"] > now:
            return 0
        if self.stopping.is_set():
            return 0
        self.polling[name] = time.monotonic()
        try:
            fetched = fetch(self.client, feed.url, max_bytes=feed.max_bytes, rules=feed.rules,
                            deadline=feed.timeout, etag=state.get("etag"),
                            last_modified=state.get("last_modified"), stop=self.stopping)
            new = 0 if fetched.status == 304 else self._process(feed, fetched.body)
        except Exception as exc:
            failures = int(state.get("consecutive_failures") or 0) + 1
            delay = min(feed.interval * 2 ** (failures - 1), 1800.0)
            reason = exc.reason if isinstance(exc, IngestError) else f"{type(exc).__name__}: " \
                f"{exc}"
            log.warning("feed %s failed (%d in a row, next try in %.0fs): %s", name, failures,
                        delay, reason, extra={"feed": name})
            metrics.feed_failed(name)
            self._update(name, last_error_at=now, last_error=reason[:2000],
                         consecutive_failures=failures,
                         next_poll_at=now + dt.timedelta(seconds=delay))
            return 0
        finally:
            self.polling.pop(name, None)
        self._update(name, url=feed.url, etag=fetched.etag, last_modified=fetched.last_modified,
                     last_success_at=now, consecutive_failures=0, next_poll_at=None,
                     documents_added=new)
        return new

    def _process(self, feed: Feed, body: bytes) -> int:
        if feed.kind == "rss":
            return self._handle(feed, feed.url, body, key=None)
        if feed.kind == "jma":
            links = [(e.id or e.link, e.link) for e in parse_jma_feed(body) if e.link]
        else:
            try:
                links = [(u, u) for u in parse_cap_index(body)]
            except IngestError:
                links = []
            if not links:  # a single CAP document rather than an index
                return self._handle(feed, feed.url, body, key=None)
        new = 0
        for key, url in links:
            if self.stopping.is_set():
                break
            if self._seen(feed.name, key):
                continue
            refused = feed.rules.refusal(url)
            if refused:
                self._reject(feed, key, url, f"link refused: {refused}")
                continue
            try:
                doc = fetch(self.client, url, max_bytes=feed.max_bytes, rules=feed.rules,
                            deadline=feed.timeout, stop=self.stopping).body
            except IngestError as exc:
                log.warning("feed %s: document %s not fetched: %s", feed.name, url, exc.reason,
                            extra={"feed": feed.name})
                continue  # not remembered: tried again at the next poll
            try:
                new += self._handle(feed, url, doc, key=key)
            except sa.exc.SQLAlchemyError:
                raise  # the database, not the document: the poll fails and is retried
            except Exception as exc:  # this document only: the others go on
                self._reject(feed, key, url, f"{type(exc).__name__}: {exc}")
        return new

    def _reject(self, feed: Feed, key: str, url: str, reason: str) -> None:
        """Remember one document as refused, with the reason; it is not fetched again
        and holds no other document back."""
        log.warning("feed %s: document %s rejected: %s", feed.name, url, reason,
                    extra={"feed": feed.name})
        self._remember(feed.name, key, REJECTED + reason)

    def _handle(self, feed: Feed, origin: str, data: bytes, key: str | None) -> int:
        records = self.intake.process(data, origin)
        new = sum(1 for rec in records if not rec.get("duplicate"))
        accepted = any(rec.get("action") == "auto" for rec in records)
        errors = [rec["error"] for rec in records if rec.get("error")]
        outcome = "; ".join(rec.get("error") or f"{rec.get('kind')}:{rec.get('action')}"
                            for rec in records) or "no alerts"
        if errors and len(errors) == len(records):
            outcome = REJECTED + outcome
        if key is not None:
            self._remember(feed.name, key, outcome)
        if accepted and self.on_accept is not None:
            self.on_accept()
        return new


def feed_status(engine: sa.Engine) -> list[dict[str, Any]]:
    """Each feed's state with ``rejected`` (documents refused) and ``last_rejected``."""
    refused = feed_store.rejections(engine)
    return [row | refused.get(row["name"], {"rejected": 0, "last_rejected": None})
            for row in feed_store.status(engine)]


def readiness_check(engine: sa.Engine, names: list[str], *, failures: int = 3,
                    poller: Poller | None = None) -> Callable[[], Check]:
    """A :mod:`bot.health` check: not ready while any of the feeds ``names`` has
    failed ``failures`` polls in a row (one failed poll is a blip; three is an outage
    the operators must see) or, with ``poller``, while a poll has run past its
    feed's deadline (a hung feed) or a feed has had no successful poll for its
    :attr:`Feed.staleness` (counted from the poller's start when it has not
    succeeded since). Documents refused are named in the detail."""
    def check() -> Check:
        rows = {r["name"]: r for r in feed_status(engine)}
        failing = [f"{n} ({rows[n]['consecutive_failures']} failed polls)" for n in names
                   if (rows.get(n) or {}).get("consecutive_failures", 0) >= failures]
        if poller is not None:
            failing.extend(_stale(poller, names, rows))
            now = time.monotonic()
            for n, started in list(poller.polling.items()):
                feed = poller.feeds.get(n)
                if feed is not None and now - started > feed.timeout + 5:
                    failing.append(f"{n} (poll hung for {now - started:.0f}s)")
        refused = "; ".join(f"{n}: {rows[n]['rejected']} documents rejected, last "
                            f"{rows[n]['last_rejected']}" for n in names
                            if (rows.get(n) or {}).get("rejected"))
        if not failing:
            detail = f"{len(names)} feeds polling"
            return Check(ok=True, detail=f"{detail}; {refused}" if refused else detail)
        detail = f"{len(failing)} of {len(names)} feeds failing: {', '.join(failing)}"
        return Check(ok=False, detail=f"{detail}; {refused}" if refused else detail)
    return check


def _stale(poller: Poller, names: list[str], rows: dict[str, dict[str, Any]]) -> list[str]:
    """The feeds among ``names`` with no successful poll for their staleness, each
    with how long it has been."""
    now = utcnow()
    out = []
    for n in names:
        feed = poller.feeds.get(n)
        if feed is None:
            continue
        last = (rows.get(n) or {}).get("last_success_at")
        since = poller.started_at if last is None or last < poller.started_at else last
        age = (now - since).total_seconds()
        if age > feed.staleness:
            what = "no successful poll since start" if last is None or \
                last < poller.started_at else "last successful poll"
            out.append(f"{n} ({what} {age:.0f}s ago; stale after {feed.staleness:g}s)")
    return out
