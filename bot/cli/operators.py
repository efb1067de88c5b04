"""``bousai operators``: console accounts (who may sign in to the web console, and as
what role). The accounts themselves live in :mod:`bot.accounts`; the operators'
Telegram chat is :mod:`bot.operators`, a different thing."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import (
    echo_json,
    fail,
    handle_errors,
    jst,
    one_of,
    operator_name,
    service_context,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

app = typer.Typer(
    help="Console accounts: who may sign in to the web console, and what they may do "
    "(viewer: look; issuer: also issue, update, lift and cancel alerts; approver: also "
    "approve and reject).\n\nExample: bousai operators add sato --role issuer",
    no_args_is_help=True,
)

_ROLES = ("viewer", "issuer", "approver")
ROLE_HELP = "viewer (look), issuer (also issue/update/lift/cancel) or approver (also approve)"
PASSWORD_STDIN = Annotated[bool, typer.Option(
    "--password-stdin", help="read the password from the first line of stdin (for scripts)")]
OPERATOR = Annotated[str | None, typer.Option(
    help="who does this, for the audit log (default BOUSAI_OPERATOR or the OS user)")]


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise fail("--password-stdin found no password on stdin; pipe one line in, "
                       "e.g. printf '%s\\n' \"$PASSWORD\" | bousai operators add NAME "
                       "--role viewer --password-stdin")
        return password
    try:
        first: str = typer.prompt("Password", hide_input=True)
        second: str = typer.prompt("Repeat the password", hide_input=True)
    except (typer.Abort, EOFError):  # end of input or Ctrl-C at a prompt
        raise fail("no password was given; run the command again and type it twice, "
                   "or pipe it in with --password-stdin") from None
    if first != second:
        raise fail("the two passwords differ; run the command again and type the same "
                   "password twice")
    return first


def _existing(engine: sa.Engine, name: str) -> None:
    """Before asking for a password: the account must be there."""
    from bot import accounts

    if accounts.describe(engine, name) is None:
        raise accounts.AccountNotFound(name)


@app.command("add")
@handle_errors
def add(
    name: Annotated[str, typer.Argument(
        metavar="NAME", help="the operator name (as in the audit log)")],
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    password_stdin: PASSWORD_STDIN = False,
    operator: OPERATOR = None,
) -> None:
    """Give an operator a console account.

    Asks for the password twice (not shown): at least 12 characters, not the name.
    In scripts, --password-stdin reads it from the first line of stdin instead.

    Example: bousai operators add sato --role issuer
    """
    from bot import accounts

    one_of(role, _ROLES, "--role")
    accounts.validate_name(name)
    with service_context() as svc:
        if accounts.describe(svc.engine, name) is not None:
            raise fail(f"operator {name!r} already has a console account; "
                       f"`bousai operators password {name}` sets a new password")
        account = accounts.add(svc.engine, name, _password(password_stdin),
                               accounts.Role(role), by=operator_name(operator))
    typer.echo(f"added {account.name} as {account.role}; they can sign in to the console now")


@app.command("password")
@handle_errors
def password(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the operator name")],
    password_stdin: PASSWORD_STDIN = False,
    operator: OPERATOR = None,
) -> None:
    """Set a new password for an account.

    Asks for it twice (not shown). This also lifts a lock after failed sign-ins.

    Example: bousai operators password sato
    """
    from bot import accounts

    with service_context() as svc:
        _existing(svc.engine, name)
        accounts.set_password(svc.engine, name, _password(password_stdin),
                              by=operator_name(operator))
    typer.echo(f"new password set for {name}")


@app.command("role")
@handle_errors
def role(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the operator name")],
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=ROLE_HELP)],
    operator: OPERATOR = None,
) -> None:
    """Change what an account may do: viewer, issuer or approver.

    Example: bousai operators role sato approver
    """
    from bot import accounts

    one_of(new_role, _ROLES, "ROLE")
    with service_context() as svc:
        accounts.set_role(svc.engine, name, accounts.Role(new_role), by=operator_name(operator))
    typer.echo(f"{name} is now {new_role}")


@app.command("disable")
@handle_errors
def disable(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the operator name")],
    operator: OPERATOR = None,
) -> None:
    """Stop an account from signing in.

    Its open console sessions end at their next request; `bousai operators enable`
    undoes it.

    Example: bousai operators disable sato
    """
    from bot import accounts

    with service_context() as svc:
        accounts.disable(svc.engine, name, by=operator_name(operator))
    typer.echo(f"{name} can no longer sign in to the console")


@app.command("enable")
@handle_errors
def enable(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the operator name")],
    operator: OPERATOR = None,
) -> None:
    """Let a disabled account sign in again.

    This also lifts a lock after too many failed sign-ins.

    Example: bousai operators enable sato
    """
    from bot import accounts

    with service_context() as svc:
        accounts.enable(svc.engine, name, by=operator_name(operator))
    typer.echo(f"{name} can sign in to the console")


@app.command("list")
@handle_errors
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Console accounts: name, role, state and last sign-in.

    Times are JST (--json gives UTC ISO times); a sign-in lock is shown while it is on.

    Example: bousai operators list --json
    """
    import datetime as dt

    from bot import accounts

    with service_context() as svc:
        found = accounts.describe_accounts(svc.engine)
    now = dt.datetime.now(dt.UTC)
    for a in found:
        locked = a.locked_until if a.locked_until and a.locked_until > now else None
        if as_json:
            echo_json({"name": a.name, "role": a.role.value, "active": a.active,
                       "last_login_at": a.last_login_at, "locked_until": locked})
            continue
        state = "active" if a.active else "disabled"
        lock = f"  locked until {jst(locked)}" if locked else ""
        typer.echo(f"{a.name:<16} {a.role.value:<9} {state:<9} "
                   f"last sign-in {jst(a.last_login_at, 'never')}{lock}")
    if not found and not as_json:
        typer.echo("no console accounts; add one with "
                   "`bousai operators add NAME --role viewer`", err=True)
