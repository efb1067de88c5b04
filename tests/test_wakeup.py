"""Wake-up across processes: a real `bousai run` with a 5 s poll, woken by another
process's commit (PostgreSQL NOTIFY; SQLite a loopback request with a token)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bot import wakeup
from bot.config import DEFAULT_CONFIG_PATH
from bot.db import make_engine
from bot.db.schema import leases
from bot.fakes.telegram import FakeTelegram
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.conftest import _is_pg

TOKEN = "778:wakeup-token"
BOUSAI = [sys.executable, "-m", "bot.cli"]
POLL = 5.0  # the service's poll: a message well before it was woken


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def service_env(env: dict[str, str], fake: FakeTelegram, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace("poll_interval_seconds = 0.2", f"poll_interval_seconds = {POLL}")
    text = text.replace("two_person_rule = true", "two_person_rule = false")
    text = text.split("# " + "-" * 72 + " feeds")[0]  # no feeds
    cfg = write_config(tmp_path, text)
    values = {"BOUSAI_CONFIG": str(cfg), "TELEGRAM_BOT_TOKEN": TOKEN,
              "TELEGRAM_API_BASE_URL": fake.url, "BOUSAI_HTTP_PORT": "0"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    bousai("db", "upgrade")
    path = tmp_path / "subs.jsonl"
    path.write_text("".join(json.dumps({"channel": "telegram", "user_id": str(810000 + i),
                                        "language": "ja", "wards": "43101"}) + "\n"
                            for i in range(3)), encoding="utf-8")
    bousai("subscribers", "import", str(path))
    return dict(os.environ)


class Service:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.out = log.open("wb")
        self.proc = subprocess.Popen([*BOUSAI, "run", "--no-poll-feeds"], env=env,
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.out.close()


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def service(service_env: dict[str, str], tmp_path: Path, db_url: str) -> Iterator[Service]:
    svc = Service(service_env, tmp_path / "run.log")
    engine = make_engine(db_url)

    def leased() -> bool:
        with engine.connect() as conn:
            return conn.execute(sa.select(leases.c.holder).where(
                leases.c.name == "channel:telegram")).scalar() is not None

    try:
        _wait_for(lambda: "other processes wake this one" in svc.text()
                  or svc.proc.poll() is not None, 30, "the service to listen")
        assert svc.proc.poll() is None, svc.text()
        _wait_for(leased, 30, "the channel lease")
        time.sleep(0.5)  # idle: the dispatcher is in its 5 s sleep
        yield svc
    finally:
        svc.stop()
        engine.dispose()


def _issue(text: str) -> tuple[int, float, float]:
    t0 = time.monotonic()
    out = bousai("alert", "issue", "--kind", "city_notice", "--ward", "43101", "--text-ja",
                 text, "--text-en", "A water truck is coming.", "--yes", "--json")
    return int(json_lines(out.stdout)[0]["id"]), t0, time.monotonic()


def _first_at(fake: FakeTelegram, before: int, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with fake.lock:
            if len(fake.sent) > before:
                return fake.sent[before].at
        time.sleep(0.005)
    return None


def test_an_alert_issued_in_another_process_goes_out_at_once(
        service: Service, fake: FakeTelegram) -> None:
    for i in range(3):
        before = len(fake.sent)
        _, started, done = _issue(f"給水車が来ます（{i}）。")
        at = _first_at(fake, before, 1.0 + (done - started))
        assert at is not None, f"alert {i}: nothing within 1 s; the poll is {POLL} s\n" \
                               + service.text()[-2000:]
        assert at - done < 1.0
        time.sleep(0.3)
    # the wake-ups came from outside the service, and its log never shows the token
    if not _is_pg():
        folder = next(Path(p) for p in Path(service.log.parent).rglob("*-wake"))
        token = json.loads(next(folder.glob("*.json")).read_text())["token"]
        assert token not in service.text()


def _wake_file(tmp_path: Path) -> dict[str, object]:
    folders = list(tmp_path.rglob("*-wake"))
    assert len(folders) == 1
    files = list(folders[0].glob("*.json"))
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert folders[0].stat().st_mode & 0o777 == 0o700
    return json.loads(files[0].read_text())  # type: ignore[no-any-return]


def _post(info: dict[str, object], token: str | None) -> int:
    conn = http.client.HTTPConnection(str(info["host"]), int(str(info["port"])), timeout=2)
    headers = {"Content-Length": "0"}
    if token is not None:
        headers[wakeup.TOKEN_HEADER] = token
    conn.request("POST", wakeup.PATH, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.skipif(_is_pg(), reason="the loopback wake is SQLite's; PostgreSQL uses NOTIFY")
def test_a_forged_wake_is_refused_and_wakes_nothing(
        service: Service, fake: FakeTelegram, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    info = _wake_file(tmp_path)
    # an alert committed without telling the service: it waits for the poll
    monkeypatch.setattr(wakeup, "notify_after_commit", lambda engine: None)
    before = len(fake.sent)
    _, _, done = _issue("給水車が来ます。")
    assert _post(info, None) == 403
    assert _post(info, "x" * 43) == 403
    assert _post(info, str(info["token"]) + "x") == 403
    time.sleep(0.8)
    assert len(fake.sent) == before, "a request without the token woke the service"
    t = time.monotonic()
    assert _post(info, str(info["token"])) == 204
    at = _first_at(fake, before, 1.0)
    assert at is not None and at - t < 1.0
    assert at - done < POLL - 1  # not the poll
    log = service.text()
    assert "wake: missing or wrong token" in log
    assert str(info["token"]) not in log


@pytest.mark.skipif(_is_pg(), reason="the loopback wake is SQLite's")
def test_the_wake_file_goes_when_the_service_stops(service: Service, tmp_path: Path) -> None:
    _wake_file(tmp_path)
    service.stop()
    assert not list(next(tmp_path.rglob("*-wake")).glob("*.json"))


@pytest.mark.skipif(not _is_pg(), reason="LISTEN/NOTIFY is PostgreSQL's (runs in the PG pass)")
def test_the_listener_comes_back_after_its_connection_is_killed(
        service: Service, fake: FakeTelegram, db_url: str) -> None:
    engine = make_engine(db_url)

    def listeners() -> set[int]:
        with engine.connect() as conn:
            return set(conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :a"),
                {"a": wakeup.APPLICATION}).scalars())

    try:
        _wait_for(listeners, 10, "the listening connection")
        old = listeners()
        with engine.connect() as conn:
            for pid in old:
                conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        _wait_for(lambda: "listening for new deliveries again" in service.text(), 15,
                  "the listener to reconnect\n" + service.text()[-2000:])
        assert listeners() - old
        time.sleep(0.3)
        before = len(fake.sent)
        _, started, done = _issue("給水車が来ます。")
        at = _first_at(fake, before, 1.0 + (done - started))
        assert at is not None and at - done < 1.0, service.text()[-2000:]
    finally:
        engine.dispose()


async def test_the_wake_endpoint_checks_the_token_and_wakes_once(engine: sa.Engine) -> None:
    from bot.runtime import build_service
    from bot.web import create_app

    woken: list[int] = []
    listener = wakeup.WakeListener(engine, lambda: woken.append(1))
    if listener.token is None:  # PostgreSQL: no HTTP wake
        listener.token = "t" * 43
    svc = build_service(engine=engine, check=False)

    async def post(app: object, token: str | None = None) -> int:
        headers = {wakeup.TOKEN_HEADER: token} if token is not None else {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                     base_url="http://test") as client:
            return (await client.post(wakeup.PATH, headers=headers)).status_code

    app = create_app(svc, wake_handler=listener)
    assert await post(app) == 403
    assert await post(app, "nope") == 403
    assert await post(app, listener.token[:-1]) == 403
    assert woken == []
    assert await post(app, listener.token) == 204
    assert woken == [1]
    # without a listener (`create_app` elsewhere) there is no such route
    assert await post(create_app(svc), listener.token) in (404, 405)


def test_a_rolled_back_transaction_wakes_nobody(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(wakeup, "_post_all", lambda folder, skip_pid: calls.append(folder))
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with pytest.raises(RuntimeError), eng.begin() as conn:
        wakeup.due(conn)
        raise RuntimeError("no")
    with eng.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    assert calls == []
    with eng.begin() as conn:
        wakeup.due(conn)
    assert calls == [tmp_path / "w.db-wake"]
    eng.dispose()


def _city_alert(h: Any) -> Any:
    import datetime as dt
    import uuid

    from bot.domain import Alert, Kind, Severity, Urgency

    return Alert(source="test", source_id=uuid.uuid4().hex, kind=Kind.CITY_NOTICE,
                 severity=Severity.MODERATE, urgency=Urgency.EXPECTED,
                 wards=h.config.ward_codes, headline_ja="給水", body_ja="給水車が来ます。",
                 issued=dt.datetime.now(dt.UTC))


def test_a_worker_without_the_lease_sends_nothing_however_often_woken(db_url: str) -> None:
    """Woken by every commit (NOTIFY reaches every worker), a worker that does not
    hold a channel's lease still leaves that channel's rows to the one that does."""
    import asyncio

    from tests.harness import harness

    with harness(db_url) as h:
        h.seed(40, channels=("telegram",))
        owner = h.dispatcher(worker="owner", poll_interval=0.05)
        other = h.dispatcher(worker="other", poll_interval=5.0)
        claimed: dict[str, int] = {"owner": 0, "other": 0}
        for who, d in (("owner", owner), ("other", other)):
            def counting(name: str, limit: int, probe: bool = False, *, _who: str = who,
                         _claim: Any = d._claim) -> Any:
                rows = _claim(name, limit, probe)
                claimed[_who] += len(rows) if name == "telegram" else 0
                return rows

            d._claim = counting  # type: ignore[method-assign]

        async def go() -> None:
            first = asyncio.create_task(owner.run())
            while not owner.states["telegram"].owns_lease:
                await asyncio.sleep(0.01)
            second = asyncio.create_task(other.run())
            await asyncio.sleep(0.2)
            await asyncio.to_thread(h.submit, _city_alert(h), operator="t")
            for _ in range(40):
                other.wake()
                await asyncio.sleep(0.01)
            deadline = asyncio.get_running_loop().time() + 10
            while len(h.telegram.sent) < 40 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
            owner.stop()
            other.stop()
            await asyncio.gather(first, second)
            for d in (owner, other):
                for st in d.states.values():
                    await st.channel.close()

        asyncio.run(go())
        assert claimed == {"owner": 40, "other": 0}, claimed
        assert len({m.chat_id for m in h.telegram.sent}) == 40


def test_a_wake_during_a_claim_is_not_lost(db_url: str) -> None:
    """An alert committed while the dispatcher is claiming (and finding nothing) goes
    out at once, not at the next poll."""
    import asyncio

    from tests.harness import harness

    with harness(db_url) as h:
        h.seed(3, channels=("telegram",))
        d = h.dispatcher(poll_interval=5.0)
        claim = d._claim
        sent_at: list[float] = []

        def slow_claim(name: str, limit: int, probe: bool = False) -> Any:
            rows = claim(name, limit, probe)
            if not rows and name == "telegram" and not sent_at:
                # the alert commits, and its wake-up arrives, while this claim runs
                h.submit(_city_alert(h), operator="t")
                loop.call_soon_threadsafe(d.wake)
                sent_at.append(time.monotonic())
            return rows

        d._claim = slow_claim  # type: ignore[method-assign]

        async def go() -> None:
            nonlocal loop
            loop = asyncio.get_running_loop()
            task = asyncio.create_task(d.run())
            deadline = time.monotonic() + 3
            while not h.telegram.sent and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            d.stop()
            await task
            for st in d.states.values():
                await st.channel.close()

        loop: Any = None
        asyncio.run(go())
        assert h.telegram.sent, "the wake-up that came during the claim was lost"
        assert h.telegram.sent[0].at - sent_at[0] < 1.0
