"""Crash recovery and several workers: real `bousai run` processes, killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import DEFAULT_CONFIG_PATH
from bot.db import make_engine
from bot.db.schema import deliveries, leases
from bot.fakes.telegram import FakeTelegram
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.conftest import _is_pg

TOKEN = "777:recovery-token"
BOUSAI = [sys.executable, "-m", "bot.cli"]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def service_env(env: dict[str, str], fake: FakeTelegram, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace("messages_per_second = 30", "messages_per_second = 400")
    text = text.split("# " + "-" * 72 + " feeds")[0]  # no feeds: nothing to reach
    cfg = write_config(tmp_path, text)
    values = {"BOUSAI_CONFIG": str(cfg), "TELEGRAM_BOT_TOKEN": TOKEN,
              "TELEGRAM_API_BASE_URL": fake.url}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    bousai("db", "upgrade")
    return dict(os.environ)


def _subscribers(tmp_path: Path, n: int) -> list[str]:
    ids = [str(900000 + i) for i in range(n)]
    path = tmp_path / "subs.jsonl"
    langs = ["ja", "en", "ja-easy"]
    path.write_text("".join(json.dumps({"channel": "telegram", "user_id": u,
                                        "language": langs[i % 3], "wards": "43101"}) + "\n"
                            for i, u in enumerate(ids)), encoding="utf-8")
    bousai("subscribers", "import", str(path))
    return ids


def _issue() -> int:
    out = bousai("alert", "issue", "--kind", "city_notice", "--ward", "43101", "--text-ja",
                 "給水車が来ます。", "--text-en", "A water truck is coming.", "--yes", "--json",
                 "--operator", "a")
    alert_id = int(json_lines(out.stdout)[0]["id"])
    bousai("alert", "approve", "--yes", str(alert_id), "--operator", "b")
    return alert_id


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    env = env | {"BOUSAI_HTTP_PORT": "0"}  # each worker its own web port
    return subprocess.Popen([*BOUSAI, "run", "--no-poll-feeds", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def _in_flight(db_url: str) -> int:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
            deliveries.c.status == "in_flight")).scalar_one()
    engine.dispose()
    return int(n)


def test_sigkill_mid_fan_out_then_restart_reaches_everyone(
        service_env: dict[str, str], fake: FakeTelegram, tmp_path: Path, db_url: str) -> None:
    ids = _subscribers(tmp_path, 5000)
    alert_id = _issue()
    proc = _start(service_env)
    try:
        _wait_for(lambda: len(fake.sent) >= 1500, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    sent_at_kill = len(fake.sent)
    in_flight = _in_flight(db_url)
    assert sent_at_kill < 5000, "the kill came too late to test anything"

    restart = subprocess.run([*BOUSAI, "run", "--until-idle", "--no-poll-feeds"],
                             env=service_env, capture_output=True, timeout=120)
    assert restart.returncode == 0, restart.stderr.decode()

    got = Counter(m.chat_id for m in fake.sent)
    assert set(got) == set(ids), f"{len(set(ids) - set(got))} subscribers never reached"
    doubled = sum(n - 1 for n in got.values())
    assert doubled <= in_flight, f"{doubled} duplicates, only {in_flight} were in flight"
    log = json_lines(bousai("deliveries", "log", "--alert", str(alert_id),
                            "--format", "jsonl").stdout)
    assert Counter(r["status"] for r in log) == Counter({"sent": 5000})


@pytest.mark.skipif(not _is_pg(), reason="several workers need PostgreSQL; SQLite keeps the "
                                         "one-process mode (this test runs in the PG pass)")
def test_three_workers_share_one_alert_and_take_over_a_dead_lease(
        service_env: dict[str, str], fake: FakeTelegram, tmp_path: Path, db_url: str) -> None:
    ids = _subscribers(tmp_path, 3000)
    workers = [_start(service_env) for _ in range(3)]
    engine = make_engine(db_url)

    def holder() -> str | None:
        with engine.connect() as conn:
            return conn.execute(sa.select(leases.c.holder).where(
                leases.c.name == "channel:telegram")).scalar()

    try:
        _wait_for(lambda: holder() is not None, timeout=30)
        first = holder()
        assert first is not None
        _issue()
        _wait_for(lambda: len(fake.sent) >= 800, timeout=60)
        pid = int(first.rsplit(":", 1)[1])
        victim = next(w for w in workers if w.pid == pid)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        in_flight = _in_flight(db_url)
        _wait_for(lambda: holder() not in (None, first), timeout=15)
        new_holder = holder()
        assert new_holder is not None and new_holder != first
        assert int(new_holder.rsplit(":", 1)[1]) in {w.pid for w in workers if w is not victim}
        _wait_for(lambda: len({m.chat_id for m in fake.sent}) >= 3000, timeout=90)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
        engine.dispose()
    got = Counter(m.chat_id for m in fake.sent)
    assert set(got) == set(ids)
    assert sum(n - 1 for n in got.values()) <= in_flight
