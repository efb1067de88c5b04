"""A TCP proxy that injects network faults between the service and a server (a fake
platform, or PostgreSQL), for the fault suite (tests/faults, bench/faults.py).

    with FaultProxy("127.0.0.1", upstream_port) as proxy:
        proxy.refuse()   # connections refused, open ones reset: the server is "down"
        proxy.stall()    # connections accepted, nothing forwarded: a frozen server
        proxy.restore()  # back to forwarding; a stall delivers what it held, in order

A stall behaves like a server process under SIGSTOP: the bytes a client sent are
held, not lost, and reach the server when the stall ends (a request that timed out
on the client may still be acted on). The proxy runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

FORWARD, REFUSE, STALL = "forward", "refuse", "stall"


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = port
        self.mode = FORWARD
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # ------------------------------------------------------------------ control

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def refuse(self) -> None:
        """Close the listening socket (new connections are refused) and reset the
        open ones."""
        self._call(self._refuse)

    def stall(self) -> None:
        """Accept connections but forward nothing until :meth:`restore`."""
        self._call(self._stall)

    def restore(self) -> None:
        self._call(self._restore)

    def stop(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._call(self._refuse)
                self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    @property
    def url_host(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ event loop

    def _call(self, fn: Any) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(fn(), self._loop).result(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._loop.run_until_complete(self._listen())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _refuse(self) -> None:
        self.mode = REFUSE
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()

    async def _stall(self) -> None:
        if self.mode == REFUSE:
            await self._listen()
        self.mode = STALL
        assert self._flowing is not None
        self._flowing.clear()

    async def _restore(self) -> None:
        if self.mode == REFUSE:
            await self._listen()
        self.mode = FORWARD
        assert self._flowing is not None
        self._flowing.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer),
                             return_exceptions=True)
        self._writers.difference_update((writer, up_writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while True:
                data = await reader.read(65536)
                await self._flowing.wait()  # a stall holds the bytes, in order
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()
