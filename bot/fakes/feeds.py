"""A local feed server: a JMA-style Atom feed and the documents it links to.

``publish(name, body, title)`` adds a document and an entry at the top of the
feed. The feed answers conditional requests (ETag / If-None-Match → 304) as
JMA's server does, and can be told to fail.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from bot.fakes.base import FakeServer


class FakeFeedServer(FakeServer):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.documents: dict[str, bytes] = {}
        self.entries: list[tuple[str, str, str]] = []  # (name, title, updated)
        self.hits: Counter[str] = Counter()
        self.not_modified = 0
        self._fail: deque[int] = deque()

    def publish(self, name: str, body: bytes, title: str = "震源・震度に関する情報") -> str:
        with self.lock:
            self.documents[name] = body
            updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.entries.insert(0, (name, title, updated))
        return f"{self.url}/data/{name}"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self.lock:
            self._fail.extend([status] * count)

    def feed_xml(self) -> bytes:
        with self.lock:
            entries = list(self.entries)
        parts = ['<?xml version="1.0" encoding="utf-8"?>',
                 '<feed xmlns="http://www.w3.org/2005/Atom" lang="ja">',
                 "<title>高頻度（地震火山）</title>",
                 f"<id>{self.url}/feed.xml</id>",
                 f"<updated>{entries[0][2] if entries else '2026-01-01T00:00:00Z'}</updated>"]
        for name, title, updated in entries:
            href = escape(f"{self.url}/data/{name}")
            parts.append(f"<entry><title>{escape(title)}</title><id>{href}</id>"
                         f"<updated>{updated}</updated><author><name>気象庁</name></author>"
                         f'<link type="application/xml" href="{href}"/>'
                         f"<content type=\"text\">{escape(title)}</content></entry>")
        parts.append("</feed>")
        return "\n".join(parts).encode("utf-8")

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/feed.xml", self._feed)
        app.router.add_get("/data/{name}", self._doc)

    async def _feed(self, request: web.Request) -> web.Response:
        with self.lock:
            self.hits["/feed.xml"] += 1
            status = self._fail.popleft() if self._fail else None
        if status is not None:
            return web.Response(status=status, text="Internal Server Error")
        body = self.feed_xml()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            with self.lock:
                self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/atom+xml",
                            headers={"ETag": etag})

    async def _doc(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        with self.lock:
            self.hits[name] += 1
            body = self.documents.get(name)
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="application/xml")
