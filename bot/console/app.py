"""The console's Starlette application: sessions, pages, forms, static files, and the
health and metrics endpoints of :func:`bot.web.create_app` beside them.

Every page handler is ``async (Page) -> Response``, wrapped by :func:`page`, which
signs the operator in (or redirects to ``/login``), checks the role, checks the
CSRF token of a POST, and turns our errors into one line on a page: a mistake
(:class:`~bot.errors.BousaiError`, an unknown ward or shelter) is 400 with the
message; a refused role or token is 403; an unknown alert is 404; anything else is
500 with a generic line, the traceback going to the log. No business rule lives
here: forms call :mod:`bot.lifecycle.manual` and the lifecycle, pages call
:mod:`bot.store.console`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.accounts import Account, LoginRefused, authenticate
from bot.console import auth
from bot.console.i18n import LANGUAGES, pick, words
from bot.console.settings import ConsoleSettings
from bot.errors import AlertNotFound, BousaiError, OperatorError
from bot.render.timefmt import jst
from bot.service import Service

log = logging.getLogger("bot.console")

HERE = Path(__file__).resolve().parent
MAX_FORM = 256 * 1024  # a form's body; the longest field is 5,000 characters
COOKIE = "bousai_console"
LANG_COOKIE = "bousai_console_lang"
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["jst"] = jst
    env.filters["pct"] = lambda v: f"{100 * float(v or 0):.0f}%"
    return env


@dataclass
class Page:
    """One request, seen by a handler: the service, the signed-in account, the form
    (POST) and how to answer with a template."""

    request: Request
    svc: Service
    account: Account
    lang: str
    form: FormData | None
    console: Console

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return self.console.render(self.request, template, status, account=self.account,
                                   lang=self.lang, **values)

    async def run(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Blocking work (database, lifecycle, translator) off the event loop."""
        return await asyncio.to_thread(fn, *args, **kw)

    def t(self, key: str) -> str:
        return words(self.lang)(key)

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default


Handler = Callable[[Page], Awaitable[Response]]


class Console:
    def __init__(self, svc: Service, settings: ConsoleSettings) -> None:
        self.svc = svc
        self.settings = settings
        self.env = _environment()

    def render(self, request: Request, template: str, status: int = 200, *,
               account: Account | None, lang: str, **values: Any) -> HTMLResponse:
        body = self.env.get_template(template).render(
            t=words(lang), lang=lang, languages=LANGUAGES, account=account,
            csrf=auth.csrf_token(request), path=request.url.path,
            city=self.svc.config.city_name, **values)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def lang_of(self, request: Request) -> str:
        return pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))

    def page(self, handler: Handler, action: str = "view"
             ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            lang = self.lang_of(request)
            try:
                account = await auth.operator(self.svc, request,
                                              self.settings.session_hours * 3600)
            except auth.NotSignedIn:
                if request.method != "GET" or request.headers.get("hx-request"):
                    return self.problem(request, None, lang, 401, "sign_in",
                                        "your session has ended; sign in again")
                target = quote(request.url.path + (f"?{request.url.query}"
                                                   if request.url.query else ""))
                return RedirectResponse(f"/login?next={target}", status_code=303)
            form = None
            try:
                if request.method == "POST":
                    form = await read_form(request, 200)
                    auth.check_csrf(request, form)
                auth.require(account, action)
                return await handler(Page(request, self.svc, account, lang, form, self))
            except FormTooLarge as exc:
                return self.problem(request, account, lang, 413, "problem", str(exc))
            except (auth.BadCsrf, auth.Forbidden, OperatorError) as exc:
                return self.problem(request, account, lang, 403, "forbidden", str(exc))
            except AlertNotFound as exc:
                return self.problem(request, account, lang, 404, "not_found", str(exc))
            except (BousaiError, LookupError, ValueError) as exc:
                return self.problem(request, account, lang, 400, "problem", str(exc))
            except Exception:
                log.exception("console: %s %s failed", request.method, request.url.path)
                return self.problem(request, account, lang, 500, "problem",
                                    "internal error; the log has the details")
        return endpoint

    def problem(self, request: Request, account: Account | None, lang: str, status: int,
                title: str, message: str) -> HTMLResponse:
        return self.render(request, "problem.html", status, account=account, lang=lang,
                           title=title, message=message)

    # ------------------------------------------------------------ sign-in

    async def login_form(self, request: Request) -> Response:
        return self.render(request, "login.html", account=None, lang=self.lang_of(request),
                           next=_safe_next(request.query_params.get("next")), message="")

    async def login(self, request: Request) -> Response:
        lang = self.lang_of(request)
        try:
            form = await read_form(request, 10)
            auth.check_csrf(request, form)
        except FormTooLarge as exc:
            return self.problem(request, None, lang, 413, "problem", str(exc))
        except auth.BadCsrf as exc:
            return self.problem(request, None, lang, 403, "forbidden", str(exc))
        name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
        client = request.client.host if request.client else "unknown"
        try:
            account = await asyncio.to_thread(authenticate, self.svc.engine, name, password,
                                              client)
        except LoginRefused as exc:
            return self.render(request, "login.html", 401, account=None, lang=lang,
                               next=_safe_next(str(form.get("next") or "")),
                               message=str(exc.message))
        auth.sign_in(request, account)
        return RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)

    async def logout(self, request: Request) -> Response:
        try:
            form = await read_form(request, 10)
            auth.check_csrf(request, form)
        except FormTooLarge as exc:
            return self.problem(request, None, self.lang_of(request), 413, "problem",
                                str(exc))
        except auth.BadCsrf as exc:
            return self.problem(request, None, self.lang_of(request), 403, "forbidden",
                                str(exc))
        auth.sign_out(request)
        return RedirectResponse("/login", status_code=303)

    async def set_lang(self, request: Request) -> Response:
        lang = request.path_params["lang"]
        back = _safe_next(request.query_params.get("next"))
        response = RedirectResponse(back, status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict",
                                httponly=True, secure=self.settings.secure_cookies)
        return response


class FormTooLarge(ValueError):
    pass


async def read_form(request: Request, max_fields: int) -> FormData:
    """The posted form, refused before reading when it declares no length (a chunked
    body) or more than :data:`MAX_FORM` bytes: the server then never reads more than
    the declared length."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_FORM:
        raise FormTooLarge(f"a form must declare its length and be at most {MAX_FORM} "
                           "bytes")
    return await request.form(max_files=0, max_fields=max_fields)


def _safe_next(target: str | None) -> str:
    """Only a path on this console (no scheme, no host, no //) to go back to."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return "/"
    return target


def create_console(svc: Service, settings: ConsoleSettings) -> Starlette:
    """The console app; ``settings.secret`` must be set (:meth:`require_secret`)."""
    from bot.console import actions, pages
    from bot.web import create_app

    secret = settings.require_secret()
    console = Console(svc, settings)
    routes: list[BaseRoute] = [
        Route("/login", console.login_form, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/lang/{lang}", console.set_lang, methods=["GET"]),
        *pages.routes(console),
        *actions.routes(console),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        Mount("", app=create_app(svc)),  # /healthz, /readyz, /metrics
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=secret, session_cookie=COOKIE,
                             max_age=int(settings.session_hours * 3600), same_site="strict",
                             https_only=settings.secure_cookies)]
    return Starlette(routes=routes, middleware=middleware)
