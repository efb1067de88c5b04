"""Console accounts (bot/accounts.py) on the real, migrated database: Argon2id hashes,
one answer for every wrong sign-in, throttling by name and by client on a clock the
tests move, rehashing, and an audit log that never holds a password or a hash."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from bot import accounts
from bot.accounts import Account, AccountNotFound, LoginRefused, Role
from bot.db.schema import audit_log, login_attempts, operator_accounts
from bot.errors import ValidationError

# The tests' clock starts now: a change made without `now=` (the real clock) comes
# before the failures the tests place at T0 + n minutes.
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)
PW = "correct horse battery staple"
WRONG = "name or password is wrong"


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def refused(engine: sa.Engine, name: str, password: str, client: str = "192.0.2.1",
            at: dt.datetime = T0) -> LoginRefused:
    with pytest.raises(LoginRefused) as info:
        accounts.authenticate(engine, name, password, client, now=at)
    return info.value


def stored(engine: sa.Engine, name: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(operator_accounts)
                            .where(operator_accounts.c.name == name)).one()


def audit_entries(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.id)))


@pytest.fixture
def sato(engine: sa.Engine) -> Account:
    return accounts.add(engine, "sato", PW, Role.ISSUER, by="admin", now=minutes(-1))


# ----------------------------------------------------------------- roles

@pytest.mark.parametrize(("role", "allowed"), [
    (Role.VIEWER, {"view"}),
    (Role.ISSUER, {"view", "issue"}),
    (Role.APPROVER, {"view", "issue", "approve"}),
])
def test_each_role_may_what_it_includes(role: Role, allowed: set[str]) -> None:
    assert {a for a in ("view", "issue", "approve") if role.may(a)} == allowed


def test_an_unknown_action_is_a_mistake_not_a_no() -> None:
    with pytest.raises(ValueError, match="aprove"):
        Role.APPROVER.may("aprove")


def test_roles_are_the_strings_the_database_and_cli_use() -> None:
    assert [str(r) for r in Role] == ["viewer", "issuer", "approver"]


# ----------------------------------------------------------------- adding and signing in

def test_the_password_is_kept_as_an_argon2id_hash(engine: sa.Engine, sato: Account) -> None:
    assert sato == Account(name="sato", role=Role.ISSUER, active=True)
    row = stored(engine, "sato")
    assert row.password_hash.startswith("$argon2id$")
    assert PW not in row.password_hash
    assert PasswordHasher().verify(row.password_hash, PW)
    assert (row.failed_logins, row.locked_until, row.last_login_at) == (0, None, None)
    assert row.password_changed_at == minutes(-1)


def test_the_right_password_signs_in_and_is_recorded(engine: sa.Engine, sato: Account) -> None:
    account = accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(1))
    assert account == sato
    assert stored(engine, "sato").last_login_at == minutes(1)
    last = audit_entries(engine)[-1]
    assert (last.operator, last.action) == ("sato", "sign_in")
    assert last.details["client"] == "192.0.2.1"


def test_wrong_password_unknown_name_and_disabled_account_get_one_answer(
        engine: sa.Engine, sato: Account) -> None:
    accounts.add(engine, "kato", PW, Role.VIEWER, now=T0)
    accounts.disable(engine, "kato", by="admin", now=T0)
    answers = {refused(engine, "sato", PW + "x").message,
               refused(engine, "nobody", PW).message,
               refused(engine, "kato", PW).message}
    assert answers == {WRONG}
    reasons = [r.details["reason"] for r in audit_entries(engine)
               if r.action == "sign_in_refused"]
    assert reasons == ["wrong_password", "unknown_name", "disabled"]


def test_an_unknown_name_costs_one_argon2_verification(
        engine: sa.Engine, sato: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[str] = []
    real: Callable[[str, str], bool] = accounts._verify

    def counting(hashed: str, password: str) -> bool:
        verified.append(hashed)
        return real(hashed, password)

    accounts._dummy_hash()  # made once per process, not on the first unknown name
    monkeypatch.setattr(accounts, "_verify", counting)
    refused(engine, "nobody", PW)
    refused(engine, "sato", "not the password at all")
    assert len(verified) == 2
    dummy, real_hash = verified
    assert dummy.startswith("$argon2id$") and dummy != real_hash
    # the same parameters, so the same work
    assert dummy.split("$")[2:4] == real_hash.split("$")[2:4]


def test_get_active_finds_active_accounts_only(engine: sa.Engine, sato: Account) -> None:
    assert accounts.get_active(engine, "sato") == sato
    assert accounts.get_active(engine, "nobody") is None
    accounts.disable(engine, "sato")
    assert accounts.get_active(engine, "sato") is None
    accounts.enable(engine, "sato")
    assert accounts.get_active(engine, "sato") == sato


def test_role_and_password_changes_take_effect(engine: sa.Engine, sato: Account) -> None:
    accounts.set_role(engine, "sato", Role.APPROVER, by="admin", now=minutes(1))
    assert accounts.get_active(engine, "sato") == Account("sato", Role.APPROVER, True)
    accounts.set_password(engine, "sato", "a new and longer password", by="admin",
                          now=minutes(2))
    assert refused(engine, "sato", PW, at=minutes(3)).message == WRONG
    assert accounts.authenticate(engine, "sato", "a new and longer password", "c",
                                 now=minutes(3)).role is Role.APPROVER
    assert stored(engine, "sato").password_changed_at == minutes(2)
    assert [a.name for a in accounts.list_accounts(engine)] == ["sato"]


# ----------------------------------------------------------------- mistakes

@pytest.mark.parametrize("name", ["", " sato", "sato tanaka", "-sato", "佐藤", "a" * 101,
                                  "sato\n"])
def test_a_name_that_cannot_be_an_operator_name_is_refused(engine: sa.Engine,
                                                           name: str) -> None:
    with pytest.raises(ValidationError, match="letters, digits"):
        accounts.add(engine, name, PW, Role.VIEWER)


@pytest.mark.parametrize(("password", "why"), [
    ("short pw", "at least 12"),
    ("k.tanaka-admin", "not be the operator name"),
    ("K.TANAKA-ADMIN ", "not be the operator name"),
    ("x" * 1025, "too long"),
])
def test_a_weak_password_is_refused(engine: sa.Engine, password: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        accounts.add(engine, "k.tanaka-admin", password, Role.VIEWER)
    assert accounts.list_accounts(engine) == []


def test_a_taken_name_and_an_unknown_role_are_refused(engine: sa.Engine, sato: Account) -> None:
    with pytest.raises(ValidationError, match="already has a console account"):
        accounts.add(engine, "sato", PW, Role.VIEWER)
    with pytest.raises(ValidationError, match="viewer, issuer, approver"):
        accounts.add(engine, "kato", PW, "admin")  # type: ignore[arg-type]


@pytest.mark.parametrize("change", [
    lambda e: accounts.set_password(e, "nobody", PW),
    lambda e: accounts.set_role(e, "nobody", Role.VIEWER),
    lambda e: accounts.disable(e, "nobody"),
    lambda e: accounts.enable(e, "nobody"),
])
def test_changing_an_unknown_account_names_it(engine: sa.Engine,
                                              change: Callable[[sa.Engine], None]) -> None:
    with pytest.raises(AccountNotFound, match="nobody") as info:
        change(engine)
    assert info.value.name == "nobody"


# ----------------------------------------------------------------- throttling

def test_five_failures_lock_the_name_even_for_the_right_password(engine: sa.Engine,
                                                                 sato: Account) -> None:
    for i in range(5):
        assert refused(engine, "sato", "wrong password " * 2, at=minutes(i)).message == WRONG
    row = stored(engine, "sato")
    assert (row.failed_logins, row.locked_until) == (5, minutes(19))
    throttled = refused(engine, "sato", PW, at=minutes(5))
    assert throttled.message == "too many failed sign-ins; try again in 14 minutes"
    assert throttled.retry_after == dt.timedelta(minutes=14)
    assert refused(engine, "sato", PW, at=minutes(18.5)).message == (
        "too many failed sign-ins; try again in 1 minute")
    # the lock ends 15 minutes after the fifth failure, and the counter starts again
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(19)) == sato
    row = stored(engine, "sato")
    assert (row.failed_logins, row.locked_until, row.last_login_at) == (0, None, minutes(19))


def test_failures_spread_over_more_than_15_minutes_do_not_lock(engine: sa.Engine,
                                                               sato: Account) -> None:
    for at in (0, 1, 2, 3, 16, 17, 18, 19):
        assert refused(engine, "sato", "wrong password!!", at=minutes(at)).message == WRONG
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(20)) == sato


def test_a_sign_in_resets_the_names_count(engine: sa.Engine, sato: Account) -> None:
    for i in range(4):
        refused(engine, "sato", "wrong password!!", at=minutes(i))
    accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(4))
    for i in range(4):
        refused(engine, "sato", "wrong password!!", at=minutes(5 + i))
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(9)) == sato


def test_unknown_names_lock_like_known_ones(engine: sa.Engine) -> None:
    for i in range(5):
        assert refused(engine, "ghost", "wrong password!!", at=minutes(i)).message == WRONG
    assert refused(engine, "ghost", "wrong password!!", at=minutes(5)).message.startswith(
        "too many failed sign-ins")


def test_more_than_20_failures_refuse_the_client(engine: sa.Engine, sato: Account) -> None:
    attacker, office = "203.0.113.9", "192.0.2.1"
    for i in range(20):  # four tries on each of five names: no name is locked
        refused(engine, f"guess{i // 4}", "wrong password!!", attacker, at=minutes(i / 2))
    # after 20 failures the client may still try; the 21st failure refuses it
    assert refused(engine, "sato", "wrong password!!", attacker, at=minutes(10)).message == WRONG
    throttled = refused(engine, "sato", PW, attacker, at=minutes(11))
    assert throttled.message == "too many failed sign-ins; try again in 14 minutes"
    # another client signs in to the same account
    assert accounts.authenticate(engine, "sato", PW, office, now=minutes(11)) == sato
    assert accounts.authenticate(engine, "sato", PW, attacker, now=minutes(25)) == sato


def test_enable_and_a_new_password_lift_a_lock(engine: sa.Engine, sato: Account) -> None:
    for i in range(5):
        refused(engine, "sato", "wrong password!!", at=minutes(i))
    accounts.enable(engine, "sato", by="admin", now=minutes(5))
    assert stored(engine, "sato").locked_until is None
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(5)) == sato
    for i in range(5):
        refused(engine, "sato", "wrong password!!", at=minutes(6 + i))
    accounts.set_password(engine, "sato", "another long password", now=minutes(11))
    assert accounts.authenticate(engine, "sato", "another long password", "192.0.2.1",
                                 now=minutes(11)) == sato


def test_old_failures_are_pruned(engine: sa.Engine, sato: Account) -> None:
    for i in range(3):
        refused(engine, f"ghost{i}", "wrong password!!", at=minutes(i))
    refused(engine, "ghost9", "wrong password!!", at=minutes(40))
    with engine.connect() as conn:
        kept = [r.at for r in conn.execute(sa.select(login_attempts))]
        keys = [r.name_key for r in conn.execute(sa.select(login_attempts))]
    assert kept == [minutes(40)]
    assert keys != ["ghost9"] and len(keys[0]) == 64  # the name as typed is not kept


# ----------------------------------------------------------------- rehash

def test_an_old_hash_is_replaced_at_sign_in(engine: sa.Engine, sato: Account) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PW)
    with engine.begin() as conn:
        conn.execute(sa.update(operator_accounts).values(password_hash=weak))
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(1)) == sato
    fresh = stored(engine, "sato").password_hash
    assert fresh != weak and fresh.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(fresh)
    assert PasswordHasher().verify(fresh, PW)
    assert audit_entries(engine)[-1].details["rehashed"] is True
    assert accounts.authenticate(engine, "sato", PW, "192.0.2.1", now=minutes(2)) == sato
    assert stored(engine, "sato").password_hash == fresh


# ----------------------------------------------------------------- audit

def test_every_change_and_sign_in_is_audited_without_a_secret(engine: sa.Engine) -> None:
    accounts.add(engine, "sato", PW, Role.VIEWER, by="admin", now=T0)
    # every step on the test's clock: a change restarts the name's count of failures
    accounts.set_role(engine, "sato", Role.APPROVER, by="admin", now=T0)
    accounts.set_password(engine, "sato", "second long password", by="admin", now=T0)
    accounts.disable(engine, "sato", by="admin", now=T0)
    accounts.enable(engine, "sato", by="admin", now=T0)
    accounts.authenticate(engine, "sato", "second long password", "192.0.2.1", now=minutes(1))
    for i in range(5):
        refused(engine, "sato", f"wrong password {i}!", at=minutes(2 + i))
    refused(engine, "sato", "second long password", at=minutes(8))
    refused(engine, PW, "typed the password as the name", at=minutes(9))

    rows = audit_entries(engine)
    assert [(r.operator, r.action) for r in rows] == [
        ("admin", "account_add"), ("admin", "account_role"), ("admin", "account_password"),
        ("admin", "account_disable"), ("admin", "account_enable"), ("sato", "sign_in"),
        *[("sato", "sign_in_refused")] * 6, ("?", "sign_in_refused")]
    assert rows[1].details == {"account": "sato", "role": "approver"}
    assert rows[-2].details["reason"] == "throttled"
    hashes = [stored(engine, "sato").password_hash]
    text = json.dumps([[r.operator, r.action, r.details] for r in rows])
    for secret in [PW, "second long password", "wrong password", "typed the password",
                   "$argon2", *hashes]:
        assert secret not in text
