"""Feed polling: JMA Atom feeds, CAP indexes and city RSS/Atom, with conditional requests.

Each configured feed (``[[feeds]]`` in the configuration) is polled by its own
APScheduler interval job. A poll sends If-None-Match / If-Modified-Since, reads
at most ``max_bytes`` within ``timeout`` seconds, and for an index (JMA Atom,
CAP index) fetches each entry's document once: documents already seen are
remembered in ``feed_documents``. A feed that fails backs off exponentially and
is reported in ``feed_state`` (``bousai feeds status``); it never stops the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from bot.config import Config
from bot.db.schema import utcnow
from bot.errors import ConfigError, IngestError
from bot.health import Check
from bot.ingest.cap import parse_cap_index
from bot.ingest.rss import parse_jma_feed
from bot.intake import Intake
from bot.store import feeds as feed_store

log = logging.getLogger(__name__)

KINDS = ("jma", "cap", "rss")
USER_AGENT = "bousai-bot/0.1 (+https://github.com/bousai-bot)"


@dataclass(frozen=True, kw_only=True)
class Feed:
    name: str
    kind: str  # jma (JMA Atom feed) | cap (CAP document or index) | rss (city notices)
    url: str
    interval: float = 60.0
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    catch_up: bool = False  # long-term feed: read once at start-up


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
        feeds.append(Feed(name=row["name"], kind=row["kind"], url=row["url"],
                          interval=float(row.get("interval_seconds", 60)),
                          timeout=float(row.get("timeout_seconds", 20)),
                          max_bytes=int(row.get("max_bytes", 5_000_000)),
                          catch_up=bool(row.get("catch_up", False))))
    return feeds


class FetchError(IngestError):
    pass


@dataclass
class Fetched:
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None


def fetch(client: httpx.Client, url: str, *, max_bytes: int, etag: str | None = None,
          last_modified: str | None = None) -> Fetched:
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 304:
                return Fetched(304, b"", etag, last_modified)
            if resp.status_code != 200:
                raise FetchError(f"HTTP {resp.status_code}", source=url)
            size = int(resp.headers.get("content-length") or 0)
            if size > max_bytes:
                raise FetchError(f"document of {size} bytes is over the {max_bytes}-byte limit",
                                 source=url)
            chunks, total = [], 0
            for chunk in resp.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise FetchError(f"document is over the {max_bytes}-byte limit", source=url)
                chunks.append(chunk)
            return Fetched(200, b"".join(chunks), resp.headers.get("etag"),
                           resp.headers.get("last-modified"))
    except httpx.TimeoutException:
        raise FetchError("timed out", source=url) from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}", source=url) from None


def fetch_url(url: str, *, max_bytes: int = 5_000_000, timeout: float = 20.0) -> bytes:
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        return fetch(client, url, max_bytes=max_bytes).body


class Poller:
    """Polls feeds and hands documents to :class:`~bot.intake.Intake`."""

    def __init__(self, intake: Intake, feeds: list[Feed], *,
                 on_accept: Callable[[], object] | None = None,
                 client: httpx.Client | None = None) -> None:
        self.intake = intake
        self.engine = intake.service.engine
        self.feeds = {f.name: f for f in feeds}
        self.on_accept = on_accept
        self.client = client or httpx.Client(timeout=20.0, follow_redirects=True)

    def close(self) -> None:
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
        try:
            fetched = fetch(self.client, feed.url, max_bytes=feed.max_bytes,
                            etag=state.get("etag"), last_modified=state.get("last_modified"))
            new = 0 if fetched.status == 304 else self._process(feed, fetched.body)
        except Exception as exc:
            failures = int(state.get("consecutive_failures") or 0) + 1
            delay = min(feed.interval * 2 ** (failures - 1), 1800.0)
            reason = exc.reason if isinstance(exc, IngestError) else f"{type(exc).__name__}: " \
                f"{exc}"
            log.warning("feed %s failed (%d in a row, next try in %.0fs): %s", name, failures,
                        delay, reason, extra={"feed": name})
            self._update(name, last_error_at=now, last_error=reason[:2000],
                         consecutive_failures=failures,
                         next_poll_at=now + dt.timedelta(seconds=delay))
            return 0
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
            if self._seen(feed.name, key):
                continue
            try:
                doc = fetch(self.client, url, max_bytes=feed.max_bytes).body
            except IngestError as exc:
                log.warning("feed %s: document %s not fetched: %s", feed.name, url, exc.reason,
                            extra={"feed": feed.name})
                continue  # not remembered: tried again at the next poll
            new += self._handle(feed, url, doc, key=key)
        return new

    def _handle(self, feed: Feed, origin: str, data: bytes, key: str | None) -> int:
        records = self.intake.process(data, origin)
        new = sum(1 for rec in records if not rec.get("duplicate"))
        accepted = any(rec.get("action") == "auto" for rec in records)
        outcome = "; ".join(rec.get("error") or f"{rec.get('kind')}:{rec.get('action')}"
                            for rec in records) or "no alerts"
        if key is not None:
            self._remember(feed.name, key, outcome)
        if accepted and self.on_accept is not None:
            self.on_accept()
        return new


def feed_status(engine: sa.Engine) -> list[dict[str, Any]]:
    return feed_store.status(engine)


def readiness_check(engine: sa.Engine, names: list[str], *,
                    failures: int = 3) -> Callable[[], Check]:
    """A :mod:`bot.health` check: not ready while any of the feeds ``names`` has
    failed ``failures`` polls in a row (one failed poll is a blip; three is an outage
    the operators must see)."""
    def check() -> Check:
        rows = {r["name"]: r for r in feed_store.status(engine)}
        failing = [n for n in names
                   if (rows.get(n) or {}).get("consecutive_failures", 0) >= failures]
        if not failing:
            return Check(ok=True, detail=f"{len(names)} feeds polling")
        worst = ", ".join(f"{n} ({rows[n]['consecutive_failures']} failed polls)"
                          for n in failing)
        return Check(ok=False, detail=f"{len(failing)} of {len(names)} feeds failing: {worst}")
    return check
