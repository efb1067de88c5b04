"""A fake X API v2 server: ``POST /2/tweets`` (https://docs.x.com/x-api/posts/creation-of-a-post).

Like X it

- wants an OAuth 1.0a ``Authorization`` header and verifies its HMAC-SHA1
  signature with the consumer and access-token secrets it was given (401 with
  X's problem JSON otherwise; ``verify_signature=False`` only checks presence);
- takes ``{"text": ..., "reply": {"in_reply_to_tweet_id": ...}}`` and answers
  ``{"data": {"id": ..., "text": ...}}`` with snowflake-like increasing ids;
- refuses the same text from the account twice within 24 hours with 403
  ``You are not allowed to create a Tweet with duplicate content.``;
- refuses a reply to a post it does not know with 403 (deleted or not visible);
- refuses text over 280 weighted characters with 400 ``Your Tweet text is too
  long.`` (or, with ``too_long_status=403``, the 403 some accounts get);
- answers 429 with ``x-rate-limit-*`` headers over ``window_budget`` posts per
  ``window_seconds`` (X's 15-minute windows), and with ``x-user-limit-24hour-*``
  headers over ``posts_per_day``.

Test controls: :meth:`fail_next` (any status; 429 carries a reset),
:meth:`delay_next`, :meth:`garble_next` (a 201 without the post, as a wrong
proxy might answer), :meth:`seed_post` (an existing post to reply to).
``requests`` records every request with its answer, ``posts`` what was posted.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from oauthlib.oauth1 import Client as OAuthClient
from oauthlib.oauth1.rfc5849 import signature as oauth_sig
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header, unescape

from bot.fakes.base import FakeServer
from channels.lengths import weighted_length

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
REPLY_GONE_DETAIL = "You attempted to reply to a Tweet that is deleted or not visible to you."
TOO_LONG_DETAIL = ("Your Tweet text is too long. For more information on how Twitter determines "
                   "text length see https://github.com/twitter/twitter-text.")
_FIRST_ID = 1_790_000_000_000_000_000


@dataclass
class XPost:
    id: str
    text: str
    in_reply_to: str | None = None
    at: float = field(default_factory=time.time)


@dataclass
class XRequest:
    body: dict[str, Any]
    status: int = 0
    at: float = field(default_factory=time.time)


class FakeX(FakeServer):
    def __init__(
        self,
        api_key: str = "x-consumer-key",
        api_secret: str = "x-consumer-secret",
        access_token: str = "1-x-access-token",
        access_token_secret: str = "x-access-token-secret",
        *,
        verify_signature: bool = True,
        window_budget: int | None = None,
        window_seconds: int = 900,
        posts_per_day: int | None = None,
        too_long_status: int = 400,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.api_key = api_key
        self.api_secret = api_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret
        self.verify_signature = verify_signature
        self.window_budget = window_budget
        self.window_seconds = window_seconds
        self.posts_per_day = posts_per_day
        self.too_long_status = too_long_status
        self.posts: list[XPost] = []
        self.requests: list[XRequest] = []
        self.too_many = 0
        self._ids = itertools.count(_FIRST_ID, 4_194_304)  # 2**22: a snowflake's ms step
        self._fail_queue: deque[tuple[int, float, int | None]] = deque()
        self._window: deque[float] = deque()

    # ------------------------------------------------------------ test controls

    def fail_next(self, count: int = 1, status: int = 503, *, reset_in: int = 60,
                  after: int = 0) -> None:
        """After ``after`` more posts go through, the next ``count`` answer ``status``;
        a 429 says the window resets ``reset_in`` seconds from now (``x-rate-limit-reset``)."""
        with self.lock:
            for _ in range(after):
                self._fail_queue.append((0, 0.0, None))
            for _ in range(count):
                self._fail_queue.append((status, 0.0, reset_in))

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` posts are answered (normally) after ``seconds``."""
        with self.lock:
            for _ in range(count):
                self._fail_queue.append((0, seconds, None))

    def garble_next(self, count: int = 1) -> None:
        """The next ``count`` posts answer 201 with a body that holds no post."""
        with self.lock:
            for _ in range(count):
                self._fail_queue.append((201, 0.0, None))

    def seed_post(self, text: str) -> str:
        """A post that already exists on the timeline (to reply to); returns its id."""
        with self.lock:
            post = XPost(id=str(next(self._ids)), text=text)
            self.posts.append(post)
            return post.id

    def thread(self, first_id: str) -> list[XPost]:
        """The chain of posts starting at ``first_id``, each replying to the one before."""
        with self.lock:
            chain = [p for p in self.posts if p.id == first_id]
            while chain:
                nxt = [p for p in self.posts if p.in_reply_to == chain[-1].id]
                if not nxt:
                    break
                chain.append(nxt[0])
            return chain

    # ---------------------------------------------------------------- routes

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2/tweets", self._create)

    @staticmethod
    def _problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
                 headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({"title": title, "detail": detail, "type": type_,
                                  "status": status}, status=status, headers=headers)

    def _authentic(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return False
        if not self.verify_signature:
            return True
        try:
            oauth = {k: unescape(v) for k, v in parse_authorization_header(header)}
        except ValueError:
            return False
        if (oauth.get("oauth_consumer_key") != self.api_key
                or oauth.get("oauth_token") != self.access_token
                or oauth.get("oauth_signature_method") != "HMAC-SHA1"):
            return False
        params = oauth_sig.collect_parameters(uri_query=request.query_string,
                                              headers={"Authorization": header})
        base = oauth_sig.signature_base_string(
            request.method, oauth_sig.base_string_uri(str(request.url.with_query(None))),
            oauth_sig.normalize_parameters(params))
        expected = oauth_sig.sign_hmac_sha1_with_client(base, OAuthClient(
            self.api_key, client_secret=self.api_secret,
            resource_owner_key=self.access_token,
            resource_owner_secret=self.access_token_secret))
        return hmac.compare_digest(expected, oauth.get("oauth_signature", ""))

    def _rate_headers(self, now: float, remaining: int) -> dict[str, str]:
        limit = self.window_budget if self.window_budget is not None else 300
        reset = int((self._window[0] if self._window else now) + self.window_seconds)
        return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(reset)}

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        record = XRequest(body=body if isinstance(body, dict) else {})
        with self.lock:
            self.requests.append(record)
        response = await self._answer(request, record.body)
        record.status = response.status
        return response

    async def _answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if not self._authentic(request):
            return self._problem(401, "Unauthorized", "Unauthorized")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return web.json_response({
                "errors": [{"message": "Your Tweet text is empty."}],
                "title": "Invalid Request", "status": 400,
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"}, status=400)
        if weighted_length(text) > 280:
            if self.too_long_status == 403:
                return self._problem(403, "Forbidden", "Your Tweet text is too long.")
            return web.json_response({
                "errors": [{"message": TOO_LONG_DETAIL}],
                "title": "Invalid Request", "status": 400,
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"}, status=400)
        injected = await self._injected()
        if injected is not None:
            return injected
        reply = body.get("reply") or {}
        reply_to = str(reply["in_reply_to_tweet_id"]) if reply.get("in_reply_to_tweet_id") \
            else None
        now = time.time()
        with self.lock:
            if reply_to is not None and all(p.id != reply_to for p in self.posts):
                return self._problem(403, "Forbidden", REPLY_GONE_DETAIL)
            if any(p.text == text and now - p.at < 86400 for p in self.posts):
                return self._problem(403, "Forbidden", DUPLICATE_DETAIL)
            limited = self._over_budget(now)
            if limited is not None:
                return limited
            post = XPost(id=str(next(self._ids)), text=text, in_reply_to=reply_to, at=now)
            self.posts.append(post)
            remaining = (self.window_budget - len(self._window)
                         if self.window_budget is not None else 299)
            headers = self._rate_headers(now, remaining)
        return web.json_response({"data": {"id": post.id, "text": text,
                                           "edit_history_tweet_ids": [post.id]}},
                                 status=201, headers=headers)

    def _over_budget(self, now: float) -> web.Response | None:
        """Apply the 15-minute window and the 24-hour cap; count the post if allowed."""
        while self._window and now - self._window[0] >= self.window_seconds:
            self._window.popleft()
        if self.window_budget is not None and len(self._window) >= self.window_budget:
            self.too_many += 1
            return self._problem(429, "Too Many Requests", "Too Many Requests",
                                 headers=self._rate_headers(now, 0))
        if self.posts_per_day is not None:
            today = [p for p in self.posts if now - p.at < 86400]
            if len(today) >= self.posts_per_day:
                self.too_many += 1
                reset = int(today[0].at + 86400)
                return self._problem(429, "Too Many Requests", "Too Many Requests", headers={
                    "x-user-limit-24hour-limit": str(self.posts_per_day),
                    "x-user-limit-24hour-remaining": "0",
                    "x-user-limit-24hour-reset": str(reset),
                    **self._rate_headers(now, max(0, (self.window_budget or 300)
                                                  - len(self._window))),
                })
        self._window.append(now)
        return None

    async def _injected(self) -> web.Response | None:
        with self.lock:
            if not self._fail_queue:
                return None
            status, delay, reset_in = self._fail_queue.popleft()
        if delay:
            await asyncio.sleep(delay)
        if not status:
            return None
        if status == 201:
            return web.json_response({"garbled": True}, status=201)
        if status == 429:
            with self.lock:
                self.too_many += 1
            return self._problem(429, "Too Many Requests", "Too Many Requests", headers={
                "x-rate-limit-limit": str(self.window_budget or 300),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(time.time()) + int(reset_in or 0))})
        titles = {401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error",
                  503: "Service Unavailable"}
        title = titles.get(status, "Error")
        return self._problem(status, title, title)
