"""`bousai operators`: an operator gets a console account from the CLI and signs in
with it (bot.accounts on the same database); every mistake is one line and a
non-zero exit, and no password is ever printed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot import accounts
from bot.accounts import Account, LoginRefused, Role
from bot.db import make_engine
from bot.db.schema import audit_log
from tests.cli_helpers import bousai, json_lines

PW = "correct horse battery staple"


@pytest.fixture
def engine(env: dict[str, str]) -> Iterator[sa.Engine]:
    """The database the CLI uses, migrated by the CLI."""
    bousai("db", "upgrade")
    eng = make_engine(env["BOUSAI_DATABASE_URL"])
    yield eng
    eng.dispose()


def one_error_line(result: Any, *needles: str) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_add_with_password_stdin_then_sign_in(engine: sa.Engine) -> None:
    out = bousai("operators", "add", "sato", "--role", "issuer", "--password-stdin",
                 input=PW + "\n")
    assert "added sato as issuer" in out.stdout
    assert PW not in out.output
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1") == Account(
        "sato", Role.ISSUER, True)
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.action == "account_add")).one()
    assert (row.operator, row.details) == ("tester", {"account": "sato", "role": "issuer"})


def test_add_asks_twice_without_showing_the_password(engine: sa.Engine) -> None:
    out = bousai("operators", "add", "tanaka", "--role", "approver", "--operator", "admin",
                 input=f"{PW}\n{PW}\n")
    assert "Password" in out.stdout and "Repeat" in out.stdout
    assert PW not in out.output
    assert accounts.authenticate(engine, "tanaka", PW, "192.0.2.1").role is Role.APPROVER


def test_two_different_passwords_are_one_line_and_no_account(engine: sa.Engine) -> None:
    result = bousai("operators", "add", "sato", "--role", "viewer",
                    input=f"{PW}\n{PW}!\n", expect=1)
    one_error_line(result, "passwords differ", "type the same password twice")
    assert accounts.list_accounts(engine) == []


@pytest.mark.parametrize(("args", "stdin", "needles"), [
    (("add", "sato", "--role", "admin"), PW, ("--role 'admin'", "viewer, issuer, approver")),
    (("add", "sato", "--role", "viewer"), "short", ("too short", "at least 12")),
    (("add", "sato", "--role", "viewer"), "", ("no password on stdin", "printf")),
    (("add", "sato san", "--role", "viewer"), PW, ("not allowed", "letters, digits")),
    (("role", "nobody", "viewer"), None, ("no console account 'nobody'",
                                          "bousai operators list")),
    (("role", "kato", "boss"), None, ("ROLE 'boss'", "viewer, issuer, approver")),
    (("disable", "nobody"), None, ("no console account 'nobody'",)),
    (("enable", "nobody"), None, ("no console account 'nobody'",)),
    (("password", "nobody"), PW, ("no console account 'nobody'",)),
    (("password", "kato"), "kato pw", ("too short",)),
])
def test_each_mistake_is_one_line(engine: sa.Engine, args: tuple[str, ...], stdin: str | None,
                                  needles: tuple[str, ...]) -> None:
    accounts.add(engine, "kato", PW, Role.VIEWER)
    extra = ("--password-stdin",) if stdin is not None and args[0] in ("add", "password") else ()
    result = bousai("operators", *args, *extra,
                    input=None if stdin is None else stdin + "\n", expect=1)
    one_error_line(result, *needles)
    assert PW not in result.output


def test_a_name_that_has_an_account_is_refused_before_the_password(engine: sa.Engine) -> None:
    accounts.add(engine, "sato", PW, Role.VIEWER)
    result = bousai("operators", "add", "sato", "--role", "viewer", expect=1)
    one_error_line(result, "already has a console account", "bousai operators password sato")
    assert "Password" not in result.stdout


def test_the_password_is_the_name_is_refused(engine: sa.Engine) -> None:
    result = bousai("operators", "add", "administrator", "--role", "viewer",
                    "--password-stdin", input="Administrator\n", expect=1)
    one_error_line(result, "must not be the operator name")


def test_disable_enable_role_and_password(engine: sa.Engine) -> None:
    bousai("operators", "add", "sato", "--role", "viewer", "--password-stdin", input=PW + "\n")
    bousai("operators", "disable", "sato")
    with pytest.raises(LoginRefused, match="name or password is wrong"):
        accounts.authenticate(engine, "sato", PW, "192.0.2.1")
    assert accounts.get_active(engine, "sato") is None
    bousai("operators", "enable", "sato")
    bousai("operators", "role", "sato", "approver")
    assert accounts.get_active(engine, "sato") == Account("sato", Role.APPROVER, True)
    new = "a different long password"
    bousai("operators", "password", "sato", input=f"{new}\n{new}\n")
    with pytest.raises(LoginRefused):
        accounts.authenticate(engine, "sato", PW, "192.0.2.1")
    assert accounts.authenticate(engine, "sato", new, "192.0.2.1").name == "sato"
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))]
    assert actions == ["account_add", "account_disable", "sign_in_refused", "account_enable",
                       "account_role", "account_password", "sign_in_refused", "sign_in"]


def test_list_shows_role_state_and_last_sign_in(engine: sa.Engine) -> None:
    assert "no console accounts" in bousai("operators", "list").stderr
    accounts.add(engine, "sato", PW, Role.ISSUER)
    accounts.add(engine, "tanaka", PW, Role.APPROVER)
    accounts.disable(engine, "tanaka")
    signed_in = accounts.authenticate(engine, "sato", PW, "192.0.2.1")
    assert signed_in.name == "sato"
    text = bousai("operators", "list").stdout.splitlines()
    assert text[0].split()[:3] == ["sato", "issuer", "active"] and "JST" in text[0]
    assert text[1].split()[:3] == ["tanaka", "approver", "disabled"]
    assert "never" in text[1]
    rows = json_lines(bousai("operators", "list", "--json").stdout)
    assert [(r["name"], r["role"], r["active"]) for r in rows] == [
        ("sato", "issuer", True), ("tanaka", "approver", False)]
    assert rows[0]["last_login_at"].endswith("+00:00") and rows[1]["last_login_at"] is None
    assert "password" not in " ".join(rows[0]) and "$argon2" not in str(rows)


def test_list_shows_a_lock(engine: sa.Engine) -> None:
    accounts.add(engine, "sato", PW, Role.ISSUER)
    for _ in range(5):
        with pytest.raises(LoginRefused):
            accounts.authenticate(engine, "sato", "wrong password!!", "192.0.2.1")
    assert "locked until" in bousai("operators", "list").stdout
    assert json_lines(bousai("operators", "list", "--json").stdout)[0]["locked_until"]
    bousai("operators", "enable", "sato")
    assert "locked" not in bousai("operators", "list").stdout
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1").name == "sato"


@pytest.mark.parametrize("command", ["add", "password", "role", "disable", "enable", "list"])
def test_every_command_has_an_example(env: dict[str, str], command: str) -> None:
    assert "Example: bousai operators" in bousai("operators", command, "--help").stdout


@pytest.mark.parametrize("typed", ["", f"{PW}\n"])
def test_no_password_at_the_prompt_is_one_line(engine: sa.Engine, typed: str) -> None:
    result = bousai("operators", "add", "sato", "--role", "viewer", input=typed, expect=1)
    one_error_line(result, "no password was given", "--password-stdin")
    assert accounts.list_accounts(engine) == []
