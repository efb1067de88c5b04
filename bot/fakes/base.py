"""Run an aiohttp application on 127.0.0.1 in a background thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web


class FakeServer:
    """Base of the fake platforms: subclasses add routes in :meth:`routes`.

    ``with Server() as s: s.url`` starts it on a free port and stops it on exit.
    State is guarded by ``self.lock``: handlers run on the server's thread while
    tests read from theirs.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._start_error is not None:
            raise RuntimeError(f"{type(self).__name__} did not start") from self._start_error
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            app = web.Application(client_max_size=8 * 1024 * 1024)
            self.routes(app)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            loop.run_until_complete(site.start())
            server = getattr(site, "_server", None)
            if self.port == 0 and server is not None and server.sockets:
                self.port = server.sockets[0].getsockname()[1]
            self._runner = runner
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
