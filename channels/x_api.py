"""tweepy's asynchronous client with a configurable base URL (used by channels/x.py).

tweepy writes ``https://api.twitter.com`` into its request method, so
:class:`XApiClient` overrides that one method (the transport) and keeps the rest
of tweepy (endpoints, OAuth signing, error classes). With the default base URL
it sends exactly what tweepy sends. It also keeps tweepy's debug log of request
headers out, since those carry the consumer key and access token. This module
imports tweepy; channels/x.py imports it only when the channel first talks to X.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuthClient
from tweepy.asynchronous import AsyncClient
from tweepy.errors import (
    BadRequest,
    Forbidden,
    HTTPException,
    NotFound,
    TooManyRequests,
    TwitterServerError,
    Unauthorized,
)
from yarl import URL

log = logging.getLogger("channels.x")


class XApiClient(AsyncClient):
    """tweepy's AsyncClient with a configurable base URL and a session it does not own."""

    def __init__(self, *, base_url: str, session: aiohttp.ClientSession,
                 **credentials: str) -> None:
        super().__init__(return_type=dict, **credentials)
        self.base_url = base_url.rstrip("/")
        self.session = session

    async def request(
        self, method: str, route: str, params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None, user_auth: bool = False,
    ) -> aiohttp.ClientResponse:
        # Mirrors tweepy.asynchronous.client.AsyncBaseClient.request (tweepy 4.14-4.17).
        url = self.base_url + route
        headers = {"User-Agent": self.user_agent}
        if json is not None:
            headers["Content-Type"] = "application/json"
        query_params: dict[str, Any] | None = params
        if user_auth:
            oauth = OAuthClient(self.consumer_key, self.consumer_secret,
                                self.access_token, self.access_token_secret)
            url = str(URL(url).with_query(sorted((params or {}).items())))
            signed_url, headers, _ = oauth.sign(url, method, headers=headers)
            before, _, query = signed_url.partition("?")
            target: str | URL = URL(f"{before}?{query.replace(':', '%3A')}" if query else before,
                                    encoded=True)
            query_params = None
        else:
            target = url
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        log.debug("X API request: %s %s", method, route)
        async with self.session.request(method, target, params=query_params, json=json,
                                        headers=headers, allow_redirects=False) as response:
            await response.read()
        log.debug("X API response: %s %s", response.status, response.reason)
        if 200 <= response.status < 300:
            return response
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = None
        data: dict[str, Any] = body if isinstance(body, dict) else {}
        status = response.status
        if status == 429:
            reset = response.headers.get("x-rate-limit-reset")
            raise TooManyRequests(response, response_json=data,
                                  reset_time=int(reset) if reset and reset.isdigit() else None)
        error_class = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound}.get(
            status, TwitterServerError if status >= 500 else HTTPException)
        raise error_class(response, response_json=data)
