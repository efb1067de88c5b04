"""Operator accounts for the web console: names, Argon2id password hashes, roles, and
sign-in with throttling. Nothing here knows about HTTP; the console calls
:func:`authenticate` on sign-in and :func:`get_active` on every request.

    BousaiError (bot.errors)
    ├── ValidationError(ValueError)      bad name, name taken, weak password, unknown role
    ├── AccountNotFound(LookupError)     no account with that name (carries ``name``)
    └── LoginRefused(PermissionError)    a sign-in refused; ``message`` is safe to show

Throttling counts failed sign-ins in ``login_attempts`` (shared by every process):
5 failures for one name within 15 minutes lock that name for 15 minutes, and more
than 20 failures from one client address within 15 minutes refuse that client for
15 minutes. A refused (throttled) attempt is not counted again, so a lock ends 15
minutes after the failure that set it, or at a successful sign-in elsewhere (say
from another client) or any change to the account (`bousai operators enable` is
the way to lift a lock at once). Unknown names are throttled like known ones,
and every attempt that gets as far as the password costs one Argon2 verification
(a dummy hash for unknown names), so neither the answer nor its timing says which
names exist. Two processes racing may let a failure or two past a limit.

Every change to an account and every sign-in (made or refused) is written to the
audit log; never a password or a hash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import math
import re
from typing import Any, NoReturn

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.db.schema import login_attempts, operator_accounts, utcnow
from bot.errors import BousaiError, ValidationError
from bot.store.alerts import audit


class Role(enum.StrEnum):
    """What an operator may do in the console; each role includes the ones before it."""

    VIEWER = "viewer"
    ISSUER = "issuer"
    APPROVER = "approver"

    def may(self, action: str) -> bool:
        """Whether this role may ``action``: "view"; "issue" (issue, update, lift,
        cancel); "approve" (approve, reject). An unknown action is a ValueError."""
        if action not in _ACTIONS:
            raise ValueError(f"unknown action {action!r}; use one of: {', '.join(_ACTIONS)}")
        return action in _ACTIONS_OF[self]


_ACTIONS = ("view", "issue", "approve")
_ACTIONS_OF = {Role.VIEWER: {"view"}, Role.ISSUER: {"view", "issue"},
               Role.APPROVER: {"view", "issue", "approve"}}


@dataclasses.dataclass(frozen=True)
class Account:
    """Who is signed in to the console, and as what."""

    name: str
    role: Role
    active: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountDetails:
    """An account as `bousai operators list` shows it."""

    name: str
    role: Role
    active: bool
    failed_logins: int
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    password_changed_at: dt.datetime
    created_at: dt.datetime

    @property
    def account(self) -> Account:
        return Account(name=self.name, role=self.role, active=self.active)


class AccountNotFound(BousaiError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no console account {name!r}; `bousai operators list` shows them")
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


class LoginRefused(BousaiError, PermissionError):
    """A sign-in refused. ``message`` is one line to show to whoever tried; it is the
    same for an unknown name, a wrong password and a disabled account.
    ``retry_after`` is set when the refusal is throttling."""

    def __init__(self, message: str, *, retry_after: dt.timedelta | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


WRONG = "name or password is wrong"


@dataclasses.dataclass(frozen=True)
class Throttle:
    """``failures`` failed sign-ins within ``within`` refuse further ones for ``lock``
    after the last of them."""

    failures: int
    within: dt.timedelta
    lock: dt.timedelta


BY_NAME = Throttle(failures=5, within=dt.timedelta(minutes=15), lock=dt.timedelta(minutes=15))
#: "more than 20 failures": the 21st locks the client
BY_CLIENT = Throttle(failures=21, within=dt.timedelta(minutes=15),
                     lock=dt.timedelta(minutes=15))
#: how far back failures matter (rows older than this are pruned)
LOOK_BACK = max(t.within + t.lock for t in (BY_NAME, BY_CLIENT))

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # Argon2 takes any length; a form field does not need more
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_CLIENT_MAX = 100

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash made with the same parameters as real ones, verified for unknown names so
    that they take as long as known ones."""
    return _hasher.hash("no account has this password, it only spends the time")


# ------------------------------------------------------------------ validation

def validate_name(name: str) -> str:
    """``name`` if it can be an operator name: 1–100 ASCII letters, digits, ``.``,
    ``_``, ``-``, starting with a letter or digit (what OS user names and
    ``--operator`` values look like)."""
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"operator name {name[:40]!r} is not allowed: use 1-100 letters, digits, '.', "
            "'_' or '-', starting with a letter or digit (e.g. sato or k.tanaka)")
    return name


def validate_password(name: str, password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"the password is too short: use at least {MIN_PASSWORD} "
                              "characters (a few unrelated words make a good one)")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"the password is too long: use at most {MAX_PASSWORD} "
                              "characters")
    if password.strip().casefold() == name.casefold():
        raise ValidationError("the password must not be the operator name; choose another")
    return password


def parse_role(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError(f"unknown role {str(value)[:40]!r}; use one of: "
                              f"{', '.join(r.value for r in Role)}") from None


# ------------------------------------------------------------------ managing accounts

def add(engine: sa.Engine, name: str, password: str, role: Role, *, by: str | None = None,
        now: dt.datetime | None = None) -> Account:
    """Create an active account. ``by`` is who does it (the audit row's operator;
    default: the new account's name)."""
    validate_name(name)
    role = parse_role(role)
    validate_password(name, password)
    at = now or utcnow()
    hashed = _hasher.hash(password)
    taken = ValidationError(f"operator {name!r} already has a console account; "
                            f"`bousai operators password {name}` sets a new password")
    try:
        with engine.begin() as conn:
            if _row(conn, name) is not None:
                raise taken
            conn.execute(sa.insert(operator_accounts).values(
                name=name, password_hash=hashed, role=role.value, active=True,
                failed_logins=0, locked_until=None, password_changed_at=at,
                last_login_at=None, created_at=at, updated_at=at))
            audit(conn, by or name, "account_add", account=name, role=role.value)
    except sa.exc.IntegrityError:  # added by another process meanwhile
        raise taken from None
    return Account(name=name, role=role, active=True)


def set_password(engine: sa.Engine, name: str, password: str, *, by: str | None = None,
                 now: dt.datetime | None = None) -> None:
    """A new password; it also lifts a sign-in lock on the name."""
    validate_password(name, password)
    at = now or utcnow()
    _change(engine, name, "account_password", by,
            {"password_hash": _hasher.hash(password), "password_changed_at": at,
             "updated_at": at})


def set_role(engine: sa.Engine, name: str, role: Role, *, by: str | None = None,
             now: dt.datetime | None = None) -> None:
    role = parse_role(role)
    _change(engine, name, "account_role", by,
            {"role": role.value, "updated_at": now or utcnow()}, role=role.value)


def disable(engine: sa.Engine, name: str, *, by: str | None = None,
            now: dt.datetime | None = None) -> None:
    """The account can no longer sign in, and :func:`get_active` stops finding it (its
    console sessions end at their next request)."""
    _change(engine, name, "account_disable", by, {"active": False, "updated_at": now or utcnow()})


def enable(engine: sa.Engine, name: str, *, by: str | None = None,
           now: dt.datetime | None = None) -> None:
    """The account can sign in again; this also lifts a sign-in lock on the name."""
    _change(engine, name, "account_enable", by,
            {"active": True, "updated_at": now or utcnow()})


def _change(engine: sa.Engine, name: str, action: str, by: str | None,
            values: dict[str, Any], **details: Any) -> None:
    """Any change restarts the name's count of failed sign-ins (see _counted_since)."""
    with engine.begin() as conn:
        done = conn.execute(sa.update(operator_accounts)
                            .where(operator_accounts.c.name == name)
                            .values(failed_logins=0, locked_until=None, **values))
        if not done.rowcount:
            raise AccountNotFound(name)
        audit(conn, by or name, action, account=name, **details)


def list_accounts(engine: sa.Engine) -> list[Account]:
    """Every account, active or not, by name."""
    return [d.account for d in describe_accounts(engine)]


def describe_accounts(engine: sa.Engine) -> list[AccountDetails]:
    """Every account with its sign-in state, by name."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(operator_accounts).order_by(operator_accounts.c.name))
        return [_details(r) for r in rows]


def describe(engine: sa.Engine, name: str) -> AccountDetails | None:
    with engine.connect() as conn:
        row = _row(conn, name)
    return _details(row) if row is not None else None


def get_active(engine: sa.Engine, name: str) -> Account | None:
    """The account if it exists and is active (one query; a sign-in lock does not
    count: it only stops new sign-ins)."""
    c = operator_accounts.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(c.name, c.role).where(
            c.name == name, c.active.is_(True))).first()
    return Account(name=row.name, role=Role(row.role), active=True) if row else None


def _row(conn: sa.Connection, name: str) -> Any:
    return conn.execute(sa.select(operator_accounts)
                        .where(operator_accounts.c.name == name)).first()


def _details(r: Any) -> AccountDetails:
    return AccountDetails(name=r.name, role=Role(r.role), active=bool(r.active),
                          failed_logins=int(r.failed_logins), locked_until=r.locked_until,
                          last_login_at=r.last_login_at,
                          password_changed_at=r.password_changed_at, created_at=r.created_at)


# ------------------------------------------------------------------ signing in

def authenticate(engine: sa.Engine, name: str, password: str, client: str, *,
                 now: dt.datetime | None = None) -> Account:
    """The account for ``name`` if ``password`` is its password and neither the name
    nor ``client`` (the caller's address) is throttled; otherwise :class:`LoginRefused`.
    The Argon2 verification runs outside any transaction."""
    at = now or utcnow()
    client = (client or "-")[:_CLIENT_MAX]
    key = _name_key(name)
    known = _NAME.fullmatch(name) is not None
    with engine.connect() as conn:
        row = _row(conn, name) if known else None
        since = _counted_since(row)
        until = max((u for u in (_locked_until(conn, login_attempts.c.name_key == key,
                                               BY_NAME, at, since),
                                 _locked_until(conn, login_attempts.c.client == client,
                                               BY_CLIENT, at)) if u is not None),
                    default=None)
    if until is not None:
        _refuse_throttled(engine, name if row is not None else None, client, until, at)
    if row is None or len(password) > MAX_PASSWORD:
        _verify(_dummy_hash(), password[:MAX_PASSWORD])
        reason = "unknown_name" if row is None else "wrong_password"
    elif not _verify(row.password_hash, password):
        reason = "wrong_password"
    elif not row.active:
        reason = "disabled"
    else:
        return _signed_in(engine, row, password, client, at)
    _record_failure(engine, name, row is not None, client, key, reason, at, since)
    raise LoginRefused(WRONG)


def _counted_since(row: Any) -> dt.datetime | None:
    """A name's failures count from its last sign-in or change to the account (enable
    and a new password lift a lock this way); failures stay in ``login_attempts``
    for the clients' counts."""
    if row is None:
        return None
    return max(t for t in (row.last_login_at, row.updated_at) if t is not None)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _signed_in(engine: sa.Engine, row: Any, password: str, client: str,
               at: dt.datetime) -> Account:
    c = operator_accounts.c
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": at}
    rehashed = _hasher.check_needs_rehash(row.password_hash)
    if rehashed:
        values["password_hash"] = _hasher.hash(password)
    with engine.begin() as conn:
        conn.execute(sa.update(operator_accounts).where(c.name == row.name)
                     .values(**{k: v for k, v in values.items() if k != "password_hash"}))
        if rehashed:  # not over a password changed meanwhile
            conn.execute(sa.update(operator_accounts).where(
                c.name == row.name, c.password_hash == row.password_hash)
                .values(password_hash=values["password_hash"]))
        audit(conn, row.name, "sign_in", account=row.name, client=client,
              **({"rehashed": True} if rehashed else {}))
    return Account(name=row.name, role=Role(row.role), active=True)


def _record_failure(engine: sa.Engine, typed: str, exists: bool, client: str, key: str,
                    reason: str, at: dt.datetime, since: dt.datetime | None) -> None:
    """One failed sign-in: a row for the throttle, the mirror on the account (the same
    statements whether or not the account exists, so the time taken says nothing),
    and the audit row. An unknown name is audited as ``?``: what was typed may be a
    password."""
    with engine.begin() as conn:
        conn.execute(sa.delete(login_attempts).where(login_attempts.c.at < at - LOOK_BACK))
        conn.execute(sa.insert(login_attempts).values(client=client, name_key=key, at=at))
        times = _failure_times(conn, login_attempts.c.name_key == key, BY_NAME, at, since)
        recent = [t for t in times if at - t <= BY_NAME.within]
        conn.execute(sa.update(operator_accounts)
                     .where(operator_accounts.c.name == typed)
                     .values(failed_logins=len(recent),
                             locked_until=_lock_end(times, BY_NAME, at)))
        name = typed if exists else None
        audit(conn, name or "?", "sign_in_refused", account=name, client=client,
              reason=reason)


def _refuse_throttled(engine: sa.Engine, name: str | None, client: str, until: dt.datetime,
                      at: dt.datetime) -> NoReturn:
    with engine.begin() as conn:
        audit(conn, name or "?", "sign_in_refused", account=name, client=client,
              reason="throttled", until=until)
    wait = until - at
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    raise LoginRefused(f"too many failed sign-ins; try again in {minutes} "
                       f"minute{'s' if minutes != 1 else ''}", retry_after=wait)


def _name_key(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def _failure_times(conn: sa.Connection, where: sa.ColumnElement[bool], throttle: Throttle,
                   at: dt.datetime, since: dt.datetime | None = None) -> list[dt.datetime]:
    """Failures that ``where`` picks, oldest first, within the throttle's look-back and
    after ``since``."""
    start = at - throttle.within - throttle.lock
    if since is not None and since > start:
        start = since
    return [t for (t,) in conn.execute(
        sa.select(login_attempts.c.at).where(where, login_attempts.c.at > start,
                                             login_attempts.c.at <= at)
        .order_by(login_attempts.c.at))]


def _lock_end(times: list[dt.datetime], throttle: Throttle, at: dt.datetime
              ) -> dt.datetime | None:
    """When the lock that ``times`` (failures, oldest first) set ends, if it is still on
    at ``at``: ``throttle.failures`` of them within ``throttle.within`` lock for
    ``throttle.lock`` after the last of those."""
    n = throttle.failures
    ends = [times[i + n - 1] + throttle.lock for i in range(len(times) - n + 1)
            if times[i + n - 1] - times[i] <= throttle.within]
    end = max(ends, default=None)
    return end if end is not None and end > at else None


def _locked_until(conn: sa.Connection, where: sa.ColumnElement[bool], throttle: Throttle,
                  at: dt.datetime, since: dt.datetime | None = None) -> dt.datetime | None:
    return _lock_end(_failure_times(conn, where, throttle, at, since), throttle, at)
