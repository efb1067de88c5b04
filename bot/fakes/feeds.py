"""A local feed server: a JMA-style Atom feed and the documents it links to.

``publish(name, body, title)`` adds a document and an entry at the top of the
feed. The feed answers conditional requests (ETag / If-None-Match → 304) as
JMA's server does, and can be told to fail, to misbehave as a hostile or broken
server would: ``link(url)`` lists an entry pointing anywhere, ``redirect(path, to)``
answers ``path`` with a 302 to ``to``, ``trickle(path, every)`` sends ``path`` one
byte every ``every`` seconds.
"""

from __future__ import annotations

import asyncio
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
        self.redirects: dict[str, str] = {}
        self.trickles: dict[str, float] = {}
        self.links: list[tuple[str, str]] = []  # (title, url) entries linking anywhere

    def link(self, url: str, title: str = "震源・震度に関する情報") -> None:
        with self.lock:
            self.links.insert(0, (title, url))

    def redirect(self, path: str, to: str) -> None:
        with self.lock:
            self.redirects[path] = to

    def trickle(self, path: str, every: float) -> None:
        with self.lock:
            self.trickles[path] = every

    def publish(self, name: str, body: bytes, title: str = "震源・震度に関する情報") -> str:
        with self.lock:
            self.documents[name] = body
            updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.entries.insert(0, (name, title, updated))
        return f"{self.url}/data/{name}"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self.lock:
            self._fail.extend([status] * count)

    def stop(self) -> None:
        with self.lock:
            self.trickles.clear()  # stalled answers end, so the server stops at once
        super().stop()

    def feed_xml(self) -> bytes:
        with self.lock:
            entries = list(self.entries)
        parts = ['<?xml version="1.0" encoding="utf-8"?>',
                 '<feed xmlns="http://www.w3.org/2005/Atom" lang="ja">',
                 "<title>高頻度（地震火山）</title>",
                 f"<id>{self.url}/feed.xml</id>",
                 f"<updated>{entries[0][2] if entries else '2026-01-01T00:00:00Z'}</updated>"]
        with self.lock:
            links = [(title, url, entries[0][2] if entries else "2026-01-01T00:00:00Z")
                     for title, url in self.links]
        for title, href, updated in links:
            href = escape(href)
            parts.append(f"<entry><title>{escape(title)}</title><id>{href}</id>"
                         f"<updated>{updated}</updated><author><name>気象庁</name></author>"
                         f'<link type="application/xml" href="{href}"/>'
                         f"<content type=\"text\">{escape(title)}</content></entry>")
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

    async def _misbehave(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        with self.lock:
            target = self.redirects.get(request.path)
            every = self.trickles.get(request.path)
        if target is not None:
            return web.Response(status=302, headers={"Location": target})
        if every is None:
            return None
        resp = web.StreamResponse(headers={"Content-Type": "application/xml"})
        await resp.prepare(request)
        try:
            for i in range(len(body)):
                await resp.write(body[i:i + 1])
                waited = 0.0
                while waited < every:
                    with self.lock:
                        if request.path not in self.trickles:  # untold: end now
                            return resp
                    await asyncio.sleep(0.05)
                    waited += 0.05
        except (ConnectionError, asyncio.CancelledError):
            pass
        return resp

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        odd = await self._misbehave(request, self.feed_xml())
        if odd is not None:
            return odd
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

    async def _doc(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        with self.lock:
            self.hits[name] += 1
            body = self.documents.get(name)
        if body is None:
            return web.Response(status=404)
        odd = await self._misbehave(request, body)
        if odd is not None:
            return odd
        return web.Response(body=body, content_type="application/xml")
