"""A fake LibreTranslate server on 127.0.0.1, for tests and local runs.

``POST /translate`` with ``q``, ``source``, ``target``, ``format`` (JSON body, form
or query string, as LibreTranslate accepts) answers ``{"translatedText": "[vi] ..."}``:
the text wrapped with the target tag, so that tests can see that a translation
happened, with protection tokens (``[[T0]]``) left exactly as they came.

It can be told to fail (``down = True``: HTTP 500) or to be slow (``delay``
seconds before answering), and it counts the calls it receives.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.fakes.base import FakeServer
from bot.languages import process_languages


class FakeTranslator(FakeServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.down = False
        self.delay = 0.0
        self.calls = 0
        self.requests: list[dict[str, str]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/translate", self._translate)
        app.router.add_get("/languages", self._languages)

    async def _params(self, request: web.Request) -> dict[str, str]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                params.update(await request.post())
        return {k: str(v) for k, v in params.items()}

    async def _translate(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        with self.lock:
            self.calls += 1
            self.requests.append(params)
            down, delay = self.down, self.delay
        if delay:
            await asyncio.sleep(delay)
        if down:
            return web.json_response({"error": "translation engine is down"}, status=500)
        q, target = params.get("q", ""), params.get("target", "")
        if not q or not target:
            return web.json_response({"error": "Invalid request: missing q or target"},
                                     status=400)
        return web.json_response({"translatedText": f"[{target}] {q}"})

    async def _languages(self, request: web.Request) -> web.Response:
        table = process_languages().values()
        codes = tuple(dict.fromkeys(c for lang in table
                                    if (c := lang.translator_code("libre")) is not None))
        return web.json_response([{"code": c, "name": c, "targets": list(codes)}
                                  for c in codes])
