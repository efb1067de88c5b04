"""A python-telegram-bot request backend over aiohttp.

PTB's default backend (httpx) spends about 2 ms of CPU per message in its
connection pool at the concurrency a broadcast needs, which caps one process
near 500 messages/s; this backend spends about 0.3 ms (bench/RESULTS.md). The
transport does the I/O only: PTB's :class:`~telegram.request.BaseRequest` turns
statuses into typed errors (STYLE.md, habit 1).
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 128, timeout: float = 10.0) -> None:
        self._pool_size = connection_pool_size
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _or_default(self, value: Any) -> float | None:
        if value is BaseRequest.DEFAULT_NONE:
            return self._timeout
        return None if value is None else float(value)

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            await self.initialize()
        assert self._session is not None
        data: Any = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData(request_data.json_parameters)
                for name, (filename, content, mime) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
            else:
                data = request_data.json_parameters
        read = self._or_default(read_timeout)
        timeout = aiohttp.ClientTimeout(sock_read=read,
                                        sock_connect=self._or_default(connect_timeout),
                                        total=None if read is None else read * 2 + 5)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout,
                                             allow_redirects=False) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
