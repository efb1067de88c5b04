"""A bad day for a platform, in-process and fast (tests/faults has the long runs with
real workers): an unreachable platform pauses the channel without spending anyone's
attempts, its state is visible (readiness, channel_states, `channels status`), a
timed-out send is marked, and a database outage is ridden out with the outcomes
kept until they can be written."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from bot.channel_health import DatabaseHealth, DatabaseUnavailable
from bot.db.schema import channel_states, deliveries
from bot.domain import Alert, Kind, Severity, Urgency
from bot.fakes.line import FakeLine
from bot.fakes.proxy import FaultProxy
from bot.store import deliveries as ledger
from channels.base import OutgoingMessage, Unreachable
from channels.line import LineChannel
from channels.telegram import TelegramChannel
from tests.cli_helpers import bousai, json_lines
from tests.harness import Harness, harness


def _alert(h: Harness) -> Alert:
    return Alert(source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
                 severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE,
                 wards=h.config.ward_codes, body_ja="避難所を開設しました。",
                 texts={"en": "Shelters are open."}, issued=dt.datetime.now(dt.UTC))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _msg(to: str) -> OutgoingMessage:
    return OutgoingMessage(recipients=(to,), parts=("test",), idempotency_key=str(uuid.uuid4()))


# ------------------------------------------------------------ classification

async def test_refused_connection_is_unreachable_and_never_arrived() -> None:
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    for channel in (TelegramChannel("1:t", base_url=url, timeout=2),
                    LineChannel("tok", base_url=url, timeout=2)):
        try:
            with pytest.raises(Unreachable) as caught:
                await channel.send(_msg("U" + "0" * 32 if channel.name == "line" else "42"))
        finally:
            await channel.close()
        assert caught.value.unknown is False, caught.value


async def test_a_send_that_times_out_may_have_arrived() -> None:
    with FakeLine(token="tok") as fake:
        fake.delay_next(3.0)
        channel = LineChannel("tok", base_url=fake.url, timeout=0.5)
        try:
            with pytest.raises(Unreachable) as caught:
                await channel.send(_msg("U" + "1" * 32))
        finally:
            await channel.close()
    assert caught.value.unknown is True


# ------------------------------------------------------------ dispatcher

def test_refused_platform_pauses_the_channel_and_costs_no_attempt(db_url: str) -> None:
    with harness(db_url, max_attempts=2) as h:
        seeded = h.seed(60, channels=("telegram",))
        with FaultProxy("127.0.0.1", int(h.telegram.url.rsplit(":", 1)[1])) as proxy:
            h.settings.base_urls["telegram"] = f"http://127.0.0.1:{proxy.port}"
            proxy.refuse()
            h.submit(_alert(h), operator="t", action="auto")
            dispatcher = h.dispatcher()
            seen: dict[str, object] = {}

            def outage_then_back() -> None:
                deadline = time.monotonic() + 20
                while not dispatcher.states["telegram"].health.paused:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                seen["check"] = dispatcher.states["telegram"].health.check()
                time.sleep(1.5)  # more than max_attempts failures' worth of sends
                with h.engine.connect() as conn:
                    seen["state"] = conn.execute(sa.select(channel_states.c.state).where(
                        channel_states.c.channel == "telegram")).scalar()
                proxy.restore()

            t = threading.Thread(target=outage_then_back)
            t.start()

            assert h.run_until_idle(dispatcher)
            t.join()
        check = seen["check"]
        assert not check.ok and "paused" in check.detail  # type: ignore[attr-defined]
        assert seen["state"] == "paused"
        # max_attempts = 2, yet nobody failed: the outage cost no attempt.
        assert {m.chat_id for m in h.telegram.sent} == {s.user_id for s in seeded["telegram"]}
        with h.engine.connect() as conn:
            statuses = {r[0] for r in conn.execute(sa.select(deliveries.c.status).where(
                deliveries.c.channel == "telegram"))}
            state = conn.execute(sa.select(channel_states.c.state).where(
                channel_states.c.channel == "telegram")).scalar()
        assert statuses == {"sent"}
        assert state == "sending"
        assert dispatcher.states["telegram"].health.check().ok


def test_a_timed_out_send_is_marked_in_the_ledger(db_url: str) -> None:
    with harness(db_url, telegram={"failure_rate": 0.0}) as h:
        seeded = h.seed(1, channels=("telegram",))
        h.config.channels["telegram"].options["timeout_seconds"] = 0.5
        with FaultProxy("127.0.0.1", int(h.telegram.url.rsplit(":", 1)[1])) as proxy:
            h.settings.base_urls["telegram"] = f"http://127.0.0.1:{proxy.port}"
            proxy.stall()
            h.submit(_alert(h), operator="t", action="auto")

            def restore_after_a_timeout() -> None:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with h.engine.connect() as conn:
                        if conn.execute(sa.select(deliveries.c.timeouts).where(
                                deliveries.c.channel == "telegram")).scalar():
                            break
                    time.sleep(0.05)
                proxy.restore()

            t = threading.Thread(target=restore_after_a_timeout)
            t.start()
            assert h.run_until_idle()
            t.join()
        got = [m.chat_id for m in h.telegram.sent]
        with h.engine.connect() as conn:
            row = conn.execute(sa.select(deliveries.c.status, deliveries.c.timeouts,
                                         deliveries.c.last_error).where(
                deliveries.c.channel == "telegram")).one()
        # One slow platform is not an outage: the timed-out send is retried with
        # back-off, and the ledger counts every send whose outcome was unknown: the
        # stalled requests may have been acted on when the platform woke up.
        assert row.status == "sent" and row.timeouts >= 1
        assert "may have arrived" in row.last_error
        assert 1 <= got.count(seeded["telegram"][0].user_id) <= row.timeouts + 1


def test_retry_ceiling_fails_rows_of_an_alert_without_expiry(db_url: str) -> None:
    with harness(db_url) as h:
        h.seed(4, channels=("telegram",))
        h.submit(_alert(h), operator="t", action="auto")
        with h.engine.begin() as conn:
            conn.execute(sa.update(deliveries).values(
                created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
            n = ledger.give_up_stale(conn, 86400)
            errors = {r[0] for r in conn.execute(sa.select(deliveries.c.last_error).where(
                deliveries.c.channel == "telegram"))}
        assert n >= 2
        assert errors == {"gave up: still not sent after 24 h of retrying"}


# ------------------------------------------------------------ database

async def test_database_outage_is_noticed_once_and_recovery_too(
        caplog: pytest.LogCaptureFixture) -> None:
    health = DatabaseHealth(limit=0.2)
    calls = {"n": 0}

    def flaky() -> int:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise sa.exc.OperationalError("UPDATE", {}, Exception("database is locked"))
        return 7

    for _ in range(3):
        with pytest.raises(DatabaseUnavailable):
            await health.call(flaky)
    assert not health.check().ok and "database is locked" in health.check().detail
    await asyncio.sleep(0.25)
    assert health.gave_up
    assert await health.call(flaky) == 7
    assert health.check().ok and not health.gave_up
    logged = [r.getMessage() for r in caplog.records if "database" in r.getMessage()]
    assert len(logged) == 2, logged  # one line down, one line back


async def test_a_statement_error_is_not_an_outage() -> None:
    def broken() -> None:
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(sa.exc.IntegrityError):
        await DatabaseHealth().call(broken)


def test_outcomes_wait_in_memory_while_the_database_is_away(db_url: str) -> None:
    with harness(db_url) as h:
        seeded = h.seed(30, channels=("telegram",))
        h.submit(_alert(h), operator="t", action="auto")
        dispatcher = h.dispatcher()
        real_record = dispatcher._record
        refused = {"n": 0}

        def record(name: str, outcomes: list) -> None:  # type: ignore[type-arg]
            if refused["n"] < 4:  # the database is locked for the first four writes
                refused["n"] += 1
                raise sa.exc.OperationalError("UPDATE", {}, Exception("database is locked"))
            real_record(name, outcomes)

        dispatcher._record = record  # type: ignore[method-assign]

        assert h.run_until_idle(dispatcher)
        assert refused["n"] == 4
        tg = [m.chat_id for m in h.telegram.sent]
        assert sorted(tg) == sorted(s.user_id for s in seeded["telegram"])  # each once
        with h.engine.connect() as conn:
            statuses = {r[0] for r in conn.execute(sa.select(deliveries.c.status).where(
                deliveries.c.channel == "telegram"))}
        assert statuses == {"sent"}


# ------------------------------------------------------------ operators

def test_channels_status_shows_a_paused_channel(env: dict[str, str], engine: sa.Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.leases import try_acquire

    with engine.begin() as conn:
        try_acquire(conn, "channel:telegram", "host:1", 60)
        conn.execute(sa.insert(channel_states).values(
            channel="telegram", state="paused", since=dt.datetime.now(dt.UTC),
            detail="telegram unreachable: ClientConnectorError", worker="host:1",
            updated_at=dt.datetime.now(dt.UTC)))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:t")
    rows = {r["name"]: r for r in json_lines(bousai("channels", "status", "--json").stdout)}
    assert rows["telegram"]["state"] == "paused"
    assert rows["telegram"]["worker"] == "host:1"
    assert "ClientConnectorError" in rows["telegram"]["detail"]
    text = bousai("channels", "status").stdout
    assert "paused" in text and "ClientConnectorError" in text

