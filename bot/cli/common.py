"""What every command shares: building the service, operator identity, errors, JSON."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from bot import timeinput
from bot.errors import BousaiError, ValidationError
from bot.render.timefmt import jst  # noqa: F401  (re-exported for the CLI modules)
from bot.timeinput import MAX_EXPIRES, MAX_SEND_AT, SEND_AT_SLACK  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from bot.service import Service

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    from bot.logs import redact

    typer.echo(f"error: {redact(message)}", err=True)
    return typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn every error into one clear line on stderr and a non-zero exit; the
    traceback goes to the log at DEBUG (BOUSAI_LOG_LEVEL=DEBUG shows it)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except BousaiError as exc:
            raise fail(str(exc)) from None
        except Exception as exc:
            log.debug("%s failed", fn.__name__, exc_info=True)
            raise fail(explain(exc)) from None

    return wrapper


def explain(exc: Exception) -> str:
    """One line for an error that is not ours: what happened and what to do."""
    import sqlalchemy as sa

    if isinstance(exc, OverflowError):
        return "a number is out of range (ids and counts are at most 2147483647)"
    if isinstance(exc, sa.exc.NoSuchModuleError | sa.exc.ArgumentError):
        return ("BOUSAI_DATABASE_URL is not a supported database URL; use "
                "sqlite:///PATH or postgresql://USER@HOST/DB")
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return (f"the database cannot be reached ({reason}); check BOUSAI_DATABASE_URL and "
                "that the database server is running")
    if isinstance(exc, sa.exc.SQLAlchemyError):
        return f"database error: {type(exc).__name__}; run `bousai db upgrade` and try again"
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return f"cannot use{where}: {exc.strerror or exc}"
    return (f"unexpected error: {type(exc).__name__}: {str(exc)[:200]} "
            "(BOUSAI_LOG_LEVEL=DEBUG shows the details)")


def operator_name(explicit: str | None) -> str:
    if explicit:
        return explicit
    env = os.environ.get("BOUSAI_OPERATOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, int | str):
        return value.value
    return value


def echo_json(value: Any) -> None:
    from bot.logs import redact

    sys.stdout.write(redact(json.dumps(to_jsonable(value), ensure_ascii=False)) + "\n")


def parse_since(value: str | None) -> dt.datetime | None:
    """ISO 8601 time, or a duration back from now: 30m, 6h, 2d."""
    if not value:
        return None
    back = timeinput.offset(value, signed=False)
    if back is not None:
        return dt.datetime.now(dt.UTC) - back
    return parse_time(value, "--since", " or 30m/6h/2d")


def parse_when(value: str | None, option: str, *, latest: dt.timedelta, what: str,
               not_before: dt.datetime | None = None,
               slack: dt.timedelta = dt.timedelta(0)) -> dt.datetime | None:
    """:func:`bot.timeinput.parse_when`, a mistake as the command's one line."""
    try:
        return timeinput.parse_when(value, option, latest=latest, what=what,
                                    not_before=not_before, slack=slack)
    except ValidationError as exc:
        raise fail(str(exc)) from None


@contextmanager
def service_context(check: bool = True, log_level: int | None = None) -> Iterator[Service]:
    """The service for one command. Commands log warnings and errors only (their
    output is the answer); ``bousai run`` logs at INFO. BOUSAI_LOG_LEVEL overrides."""
    from bot.runtime import build_service

    level = os.environ.get("BOUSAI_LOG_LEVEL", "").upper()
    resolved = getattr(logging, level, None) if level else None
    svc = build_service(check=check, log_level=resolved if isinstance(resolved, int)
                        else (log_level or logging.WARNING))
    try:
        yield svc
    finally:
        svc.engine.dispose()


def one_of(value: str | None, allowed: Iterable[str], option: str) -> str | None:
    """``value`` if it is one of ``allowed`` (None passes); otherwise one line that
    lists the valid values."""
    choices = list(allowed)
    if value is None or value in choices:
        return value
    raise fail(f"{option} {value!r} is not known; use one of: {', '.join(choices)}")


def parse_time(value: str | None, option: str, hint: str = "") -> dt.datetime | None:
    """:func:`bot.timeinput.parse_time`, a mistake as the command's one line."""
    try:
        return timeinput.parse_time(value, option, hint)
    except ValidationError as exc:
        raise fail(str(exc)) from None
