"""Times an operator types: ``--send-at``, ``--expires``, ``--as-of``, ``--since`` at the
CLI and the same fields in the web console. An ISO time (JST when it has no zone) or
an offset from now (+30m, +2h, 1d); a mistake is a :class:`ValidationError` whose
message says what to type instead (the CLI prints it as its one line)."""

from __future__ import annotations

import datetime as dt

from bot.errors import ValidationError

#: how far ahead an operator may schedule a send (``--send-at``) and an expiry (``--expires``)
MAX_SEND_AT = dt.timedelta(days=30)
MAX_EXPIRES = dt.timedelta(days=365)
#: a --send-at this little in the past is taken as "now" (the time it took to type)
SEND_AT_SLACK = dt.timedelta(minutes=5)
_UNITS = {"m": 60, "h": 3600, "d": 86400}
_MAX_OFFSET_DAYS = 36_500


def offset(value: str, *, signed: bool) -> dt.timedelta | None:
    """A duration such as 30m, 6h, 2d (``+2h`` too when ``signed``), or None when
    ``value`` is not one; a hundred years at most (``+99999999d`` is a hundred years,
    which the caller's window then refuses)."""
    v = value.strip()
    if signed and v.startswith("+"):
        v = v[1:]
    if not (v[-1:] in _UNITS and v[:-1].isascii() and v[:-1].isdigit()):
        return None
    days = min(int(v[:-1]) * _UNITS[v[-1]] / 86400, _MAX_OFFSET_DAYS)
    return dt.timedelta(days=days)


def parse_when(value: str | None, option: str, *, latest: dt.timedelta, what: str,
               not_before: dt.datetime | None = None,
               slack: dt.timedelta = dt.timedelta(0)) -> dt.datetime | None:
    """A time ahead, for --send-at and --expires: an ISO time (JST when it has no
    zone) or an offset from now (+30m, +2h, 1d), at most ``latest`` from now, and
    not before ``not_before`` (default: now, less ``slack``)."""
    if not value:
        return None
    now = dt.datetime.now(dt.UTC)
    example = f"+2h or {_example(now)}"
    ahead = offset(value, signed=True)
    when = now + ahead if ahead is not None else parse_time(
        value, option, " or an offset from now such as +2h")
    assert when is not None
    if when - now > latest:
        raise ValidationError(f"{option} {value!r} is more than {_days(latest)} ahead: {what} "
                              f"at most {_days(latest)} from now (e.g. {example})")
    if when < (not_before if not_before is not None else now - slack):
        said = "before --send-at" if not_before is not None else "in the past"
        raise ValidationError(f"{option} {value!r} is {said}: give a later time "
                              f"(e.g. {example})")
    return when


def _days(delta: dt.timedelta) -> str:
    return "a year" if delta.days == 365 else f"{delta.days} days"


def _example(now: dt.datetime) -> str:
    """Tomorrow at 09:00 JST, as an ISO time an operator can copy."""
    from bot.render.timefmt import JST

    day = now.astimezone(JST).date() + dt.timedelta(days=1)
    return f"{day.isoformat()}T09:00+09:00"



def parse_time(value: str | None, option: str, hint: str = "") -> dt.datetime | None:
    """An ISO 8601 time (JST when it has no zone), for options such as --as-of, in
    UTC. A time beyond the calendar in UTC (9999-12-31T23:59-14:00) is taken as
    the calendar's last (or first) moment, so that it meets the caller's window
    rather than an overflow."""
    if not value:
        return None
    from bot.render.timefmt import JST

    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{option} {value!r}: use an ISO time such as "
                   f"{_example(dt.datetime.now(dt.UTC))}{hint}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=JST)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        edge = dt.datetime.max if parsed.year > 1 else dt.datetime.min
        return edge.replace(tzinfo=dt.UTC)
