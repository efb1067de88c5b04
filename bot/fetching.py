"""Fetching a document over HTTP, with the rules every fetch here keeps.

* **Hosts**: a request goes only to a host a :class:`HostRules` allows (the feed's
  own host and port, plus ``allowed_hosts`` from the configuration), over http or
  https. Redirects are followed by hand, each target checked against the same
  rules, at most ``max_redirects`` of them; a feed entry linking elsewhere is
  refused the same way.
* **Deadline**: one overall deadline per request covers connecting, waiting for the
  first byte and reading the whole body; a server that trickles a byte at a time
  is cut off at the deadline, not after one timeout per byte.
* **Size**: at most ``max_bytes``, refused early when ``Content-Length`` says so.
* **Stop**: a fetch returns within a tenth of a second of its ``stop`` event being
  set (SIGTERM), leaving the stalled read to its own thread.

Every refusal is a :class:`FetchError` (an :class:`~bot.errors.IngestError`) with
one line that says why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from bot.errors import IngestError

USER_AGENT = "bousai-bot/0.1 (+https://github.com/bousai-bot)"
MAX_REDIRECTS = 3

T = TypeVar("T")


class FetchError(IngestError):
    pass


@dataclass
class Fetched:
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


@dataclass(frozen=True)
class HostRules:
    """Which hosts a fetch may reach: ``home`` (the feed's or the command's own URL,
    same host and port) and ``allowed`` entries, each ``host`` (default port) or
    ``host:port``."""

    home: str
    allowed: frozenset[str] = field(default_factory=frozenset)
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def for_url(cls, url: str, allowed: Iterable[str] = (),
                max_redirects: int = MAX_REDIRECTS) -> HostRules:
        return cls(home=url, allowed=frozenset(a.lower() for a in allowed),
                   max_redirects=max_redirects)

    def refusal(self, url: str) -> str | None:
        """None when ``url`` may be fetched, else why not."""
        scheme, host, port = _origin(url)
        if scheme not in ("http", "https") or not host:
            return f"not an http(s) URL: {url[:200]}"
        if (host, port) == _origin(self.home)[1:]:
            return None
        if (port is None and host in self.allowed) or f"{host}:{port}" in self.allowed:
            return None
        where = host if port is None else f"{host}:{port}"
        return (f"{where} is not the feed's own host nor in allowed_hosts "
                f"(refused {url[:200]})")


def fetch(client: httpx.Client, url: str, *, max_bytes: int, rules: HostRules,
          deadline: float, etag: str | None = None, last_modified: str | None = None,
          stop: threading.Event | None = None) -> Fetched:
    """GET ``url`` under ``rules`` within ``deadline`` seconds overall."""
    return run_with_deadline(
        lambda: _fetch(client, url, max_bytes=max_bytes, rules=rules, etag=etag,
                       last_modified=last_modified, until=time.monotonic() + deadline,
                       stop=stop),
        deadline=deadline, stop=stop, source=url)


def run_with_deadline(work: Callable[[], T], *, deadline: float,
                      stop: threading.Event | None, source: str) -> T:
    """``work()`` in a daemon thread; :class:`FetchError` when it has not finished
    after ``deadline`` seconds or ``stop`` is set (the thread is left to end on its
    own timeouts, and holds no one up: it is a daemon)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"fetch {source[:60]}", daemon=True)
    thread.start()
    end = time.monotonic() + deadline
    while thread.is_alive():
        if stop is not None and stop.is_set():
            raise FetchError("stopped: the service is shutting down", source=source)
        left = end - time.monotonic()
        if left <= 0:
            raise FetchError(f"no complete answer within {deadline:g}s", source=source)
        thread.join(min(0.1, left))
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _fetch(client: httpx.Client, url: str, *, max_bytes: int, rules: HostRules,
           etag: str | None, last_modified: str | None, until: float,
           stop: threading.Event | None) -> Fetched:
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    first = url
    for _hop in range(rules.max_redirects + 1):
        refused = rules.refusal(url)
        if refused:
            raise FetchError(refused, source=first)
        try:
            with client.stream("GET", url, headers=headers, follow_redirects=False) as resp:
                if resp.status_code == 304:  # before is_redirect: httpx counts 304 as one
                    return Fetched(304, b"", etag, last_modified)
                if resp.is_redirect:
                    location = resp.headers.get("location", "")
                    if not location:
                        raise FetchError(f"HTTP {resp.status_code} without a Location",
                                         source=first)
                    url = urljoin(url, location)
                    continue
                if resp.status_code != 200:
                    raise FetchError(f"HTTP {resp.status_code}", source=first)
                declared = resp.headers.get("content-length") or "0"
                size = int(declared) if declared.isdigit() else 0
                if size > max_bytes:
                    raise FetchError(f"document of {size} bytes is over the "
                                     f"{max_bytes}-byte limit", source=first)
                chunks, total = [], 0
                for chunk in resp.iter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise FetchError(f"document is over the {max_bytes}-byte limit",
                                         source=first)
                    if time.monotonic() > until or (stop is not None and stop.is_set()):
                        raise FetchError("deadline passed while reading", source=first)
                    chunks.append(chunk)
                return Fetched(200, b"".join(chunks), resp.headers.get("etag"),
                               resp.headers.get("last-modified"))
        except httpx.TimeoutException:
            raise FetchError("timed out", source=first) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}", source=first) from None
    raise FetchError(f"more than {rules.max_redirects} redirects", source=first)


def client(timeout: float) -> httpx.Client:
    """The HTTP client feeds and ``bousai ingest`` use: per-operation timeout
    ``timeout``, redirects never followed by the library (see :func:`fetch`)."""
    return httpx.Client(timeout=timeout, follow_redirects=False)


def fetch_url(url: str, *, max_bytes: int = 5_000_000, timeout: float = 20.0,
              allowed_hosts: Iterable[str] = ()) -> bytes:
    """One document for ``bousai ingest URL``: the URL's own host (and
    ``allowed_hosts``) only, within ``timeout`` seconds overall."""
    with client(timeout) as c:
        return fetch(c, url, max_bytes=max_bytes, rules=HostRules.for_url(url, allowed_hosts),
                     deadline=timeout).body
