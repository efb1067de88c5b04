"""The suggested fix for the throughput bottleneck, kept here so the benchmark can
measure it: a python-telegram-bot request backend over aiohttp (already a
dependency) instead of PTB's default httpx backend, whose connection pool costs
about 2 ms of CPU per message at 64 concurrent requests (see bench/RESULTS.md).

Proposed for channels/telegram.py: ``Bot(token, ..., request=AiohttpRequest(pool_size))``.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
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

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        read = self._timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
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
        timeout = aiohttp.ClientTimeout(sock_read=read, sock_connect=connect)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:  # asyncio.TimeoutError is TimeoutError since 3.11
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
