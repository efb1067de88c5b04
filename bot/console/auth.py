"""Who is signed in, what they may do, and the CSRF token every form carries.

The session is a signed cookie (Starlette's ``SessionMiddleware``: itsdangerous,
keyed by ``BOUSAI_CONSOLE_SECRET``, ``SameSite=Strict``, ``HttpOnly``, ``Secure``
with ``secure_cookies``). It holds the operator's name, a CSRF token and the time of
sign-in, never a password. On every request the account is read again
(:func:`bot.accounts.get_active`), so disabling an operator or changing a role
takes effect at their next click.

Every POST must carry the session's CSRF token, in the form field ``csrf`` or the
``X-CSRF-Token`` header (htmx sends the header); without it the answer is 403 and
nothing is done. Signing in replaces the session (no fixation) and a new token is
drawn.

Roles (:class:`bot.accounts.Role`): ``viewer`` sees; ``issuer`` also issues,
updates, lifts and cancels; ``approver`` also approves and rejects.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from typing import Any

from starlette.requests import Request

from bot.accounts import Account, get_active
from bot.service import Service

SESSION_KEYS = ("op", "csrf", "since")


class NotSignedIn(Exception):
    """No valid session: the page redirects to the sign-in form."""


class Forbidden(PermissionError):
    """Signed in, but the role does not allow it; the message says which role does."""


class BadCsrf(PermissionError):
    """A form without the session's CSRF token."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, drawn on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, form: Any) -> None:
    expected = request.session.get("csrf")
    given = form.get("csrf") if form is not None else None
    given = given or request.headers.get("x-csrf-token")
    if not isinstance(expected, str) or not isinstance(given, str) \
            or not hmac.compare_digest(expected.encode(), given.encode()):
        raise BadCsrf("this form has expired or did not come from the console; reload the "
                      "page and try again")


def sign_in(request: Request, account: Account) -> None:
    request.session.clear()
    request.session.update({"op": account.name, "since": int(time.time()),
                            "csrf": secrets.token_urlsafe(32)})


def sign_out(request: Request) -> None:
    request.session.clear()


async def operator(svc: Service, request: Request, max_age: float) -> Account:
    """The signed-in operator's account, read again now; :class:`NotSignedIn` when
    there is no session, it is older than ``max_age`` seconds, or the account was
    disabled."""
    name = request.session.get("op")
    since = request.session.get("since")
    if not isinstance(name, str) or not isinstance(since, int) \
            or time.time() - since > max_age:
        raise NotSignedIn
    account = await asyncio.to_thread(get_active, svc.engine, name)
    if account is None:
        request.session.clear()
        raise NotSignedIn
    return account


def require(account: Account, action: str) -> None:
    """:class:`Forbidden` unless ``account``'s role allows ``action`` (view, issue,
    approve)."""
    if not account.role.may(action):
        needed = {"issue": "issuer or approver", "approve": "approver"}.get(action, action)
        raise Forbidden(f"{account.name} is a {account.role.value}; this needs the role "
                        f"{needed} (`bousai operators role {account.name} …`)")
