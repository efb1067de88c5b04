"""What an operator at the disaster headquarters meets at 3 a.m.: every mistake gets
one clear line and a non-zero exit, every command's help has an example, failed
deliveries can be sent again (but not to people who blocked the bot), and
subscribers can be counted and erased. Real database, real CLI, fake Telegram."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli.deliveries import GroupCounts, RateMeter, Snapshot, percentile, render_snapshot
from bot.config import DEFAULT_CONFIG_PATH
from bot.fakes.telegram import FakeTelegram
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config

TOKEN = "424242:AAE-test-token-for-the-fake"


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        yield fake


def _subscribe(*chats: tuple[str, str, str]) -> None:
    for chat, language, ward in chats:
        bousai("subscribers", "add", "--channel", "telegram", "--user-id", chat,
               "--language", language, "--ward", ward)


def _issue(*, operator: str = "sato", ward: str = "43101") -> int:
    out = bousai("alert", "issue", "--allow-fallback", "--kind", "city_notice", "--ward", ward,
                 "--text-ja", "中央区の一部で断水しています。", "--yes", "--json",
                 "--operator", operator)
    return int(json_lines(out.stdout)[0]["id"])


def _issue_and_approve() -> int:
    alert_id = _issue()
    bousai("alert", "approve", "--yes", str(alert_id), "--operator", "tanaka")
    return alert_id


def _one_error_line(result: object, *needles: str) -> str:
    stderr: str = result.stderr  # type: ignore[attr-defined]
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ----------------------------------------------------------------- error paths

@pytest.mark.parametrize("command", [
    ("alert", "show", "999"),
    ("alert", "approve", "999", "--operator", "tanaka"),
    ("alert", "reject", "999", "--reason", "x"),
    ("alert", "cancel", "999", "--reason", "誤り"),
    ("alert", "update", "999", "--text-ja", "訂正"),
    ("alert", "preview", "999"),
    ("alert", "resend-failed", "999"),
    ("deliveries", "watch", "999"),
    ("deliveries", "watch", "999", "--once"),
])
def test_unknown_alert_id_is_one_clear_line(telegram: FakeTelegram,
                                            command: tuple[str, ...]) -> None:
    result = bousai(*command, expect=1)
    _one_error_line(result, "no alert with id 999")
    assert result.stdout == ""


def test_approval_errors(telegram: FakeTelegram) -> None:
    _subscribe(("1001", "en", "43101"))
    alert_id = _issue(operator="sato")
    _one_error_line(bousai("alert", "approve", "--yes", str(alert_id), "--operator", "sato",
                           expect=1),
                    "two-person rule")
    bousai("alert", "approve", "--yes", str(alert_id), "--operator", "tanaka")
    # Approving twice, or approving an alert that has gone out, is refused.
    _one_error_line(bousai("alert", "approve", "--yes", str(alert_id), "--operator", "suzuki",
                           expect=1), f"alert {alert_id} is queued")
    bousai("run", "--until-idle")
    _one_error_line(bousai("alert", "approve", "--yes", str(alert_id), "--operator", "suzuki",
                           expect=1), f"alert {alert_id} is sent", "waiting for approval")
    _one_error_line(bousai("alert", "reject", str(alert_id), "--reason", "x", expect=1),
                    f"alert {alert_id} is sent")
    # Under the two-person rule a cancellation waits for a second operator too.
    cancel = json_lines(bousai("alert", "cancel", str(alert_id), "--reason", "誤り",
                               "--operator", "tanaka", "--yes", "--json").stdout)[0]
    assert cancel["status"] == "pending_approval"
    follow_id = int(cancel["follow_up"])
    _one_error_line(bousai("alert", "approve", "--yes", str(follow_id), "--operator", "tanaka",
                           expect=1), "two-person rule")
    bousai("alert", "approve", "--yes", str(follow_id), "--operator", "suzuki")
    _one_error_line(bousai("alert", "approve", "--yes", str(alert_id), "--operator", "suzuki",
                           expect=1), f"alert {alert_id} is cancelled")
    _one_error_line(bousai("alert", "cancel", str(alert_id), "--reason", "again",
                           expect=1), "already cancelled")
    _one_error_line(bousai("alert", "resend-failed", str(alert_id), expect=1),
                    "cancelled")
    approvals = [a for a in json_lines(bousai("audit", "--json").stdout)
                 if a["action"] == "approve"]
    assert [(a["operator"], a["alert_id"]) for a in approvals] == [("tanaka", alert_id),
                                                                   ("suzuki", follow_id)]


def test_database_not_upgraded(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                               tmp_path: Path) -> None:
    # Always an empty SQLite file: on PostgreSQL, bot/runtime.py build_service leaves its
    # engine's connections open when check_schema refuses (reported), and psycopg's
    # ResourceWarning for them would fail whichever test the garbage collector picks.
    monkeypatch.setenv("BOUSAI_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for command in (("alert", "list"), ("alert", "show", "1"), ("audit",),
                    ("alert", "approve", "--yes", "1"), ("alert", "issue", "--kind", "drill",
                                                "--text-ja", "訓練", "--yes"),
                    ("deliveries", "stats"), ("deliveries", "watch", "1", "--once"),
                    ("alert", "resend-failed", "1"), ("subscribers", "stats")):
        _one_error_line(bousai(*command, expect=1), "bousai db upgrade")


def test_bad_ward_and_bad_input(telegram: FakeTelegram) -> None:
    _one_error_line(bousai("alert", "issue", "--allow-fallback", "--kind", "evacuation",
                           "--level", "4",
                           "--ward", "99999", "--text-ja", "避難", "--yes", expect=1),
                    "unknown ward '99999'", "43104 南区 (Minami Ward)", "bousai wards")
    _one_error_line(bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1",
                           "--language", "en", "--ward", "4310", expect=1),
                    "unknown or ambiguous ward '4310'", "bousai wards")
    _one_error_line(bousai("alert", "issue", "--allow-fallback", "--kind", "evacuation",
                           "--level", "7",
                           "--text-ja", "避難", "--yes", expect=1), "--level 3, 4 or 5")
    _one_error_line(bousai("audit", "--since", "yesterday", expect=1), "--since")
    _one_error_line(bousai("deliveries", "stats", "--since", "soon", expect=1), "--since")
    assert json_lines(bousai("alert", "list", "--json").stdout) == []


# -------------------------------------------------------------- resend-failed

@pytest.fixture
def one_attempt(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default configuration with max_attempts = 1: a transient error fails the row."""
    text = Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8")
    assert "# max_attempts = 8" in text
    path = write_config(tmp_path, text.replace("# max_attempts = 8", "max_attempts = 1"))
    monkeypatch.setenv("BOUSAI_CONFIG", str(path))


def test_resend_failed_skips_blocked_and_resends_transient(
        one_attempt: None, telegram: FakeTelegram) -> None:
    _subscribe(("3001", "en", "43101"), ("3002", "en", "43101"), ("3003", "ja", "43101"))
    telegram.block("3002")
    telegram.fail_next(1, status=500)  # one of 3001/3003 meets a server error
    alert_id = _issue_and_approve()
    bousai("run", "--until-idle")
    rows = {r["recipients"][0]: r for r in json_lines(
        bousai("deliveries", "log", "--alert", str(alert_id), "--format", "jsonl").stdout)}
    failed = {chat for chat, r in rows.items() if r["status"] == "failed"}
    assert "3002" in failed and len(failed) == 2
    (transient,) = failed - {"3002"}
    assert "gave up after 1 attempts" in rows[transient]["error"]
    assert len(telegram.sent) == 1
    watch = bousai("deliveries", "watch", str(alert_id), "--once").stdout
    assert "blocked" in watch and "gave up" in watch and "done: 1 sent, 2 failed" in watch

    dry = bousai("alert", "resend-failed", str(alert_id), "--dry-run").stdout
    assert "would queue 1" in dry and "1 skipped" in dry
    out = bousai("alert", "resend-failed", str(alert_id), "--operator", "tanaka")
    assert f"alert {alert_id}: 1 failed deliveries queued again; 1 skipped" in out.stdout
    row = json_lines(bousai("deliveries", "log", "--alert", str(alert_id), "--status",
                            "pending", "--format", "jsonl").stdout)
    assert [r["recipients"] for r in row] == [[transient]]
    assert row[0]["attempts"] == 0 and row[0]["error"].startswith("before resend: ")
    assert json_lines(bousai("alert", "show", str(alert_id), "--json").stdout)[0][
        "status"] == "queued"

    bousai("run", "--until-idle")
    rows = {r["recipients"][0]: r for r in json_lines(
        bousai("deliveries", "log", "--alert", str(alert_id), "--format", "jsonl").stdout)}
    assert rows[transient]["status"] == "sent" and rows[transient]["attempts"] == 1
    assert rows[transient]["error"] is None
    assert rows["3002"]["status"] == "failed"
    assert sorted(m.chat_id for m in telegram.sent) == sorted({"3001", "3003"})
    assert json_lines(bousai("alert", "show", str(alert_id), "--json").stdout)[0][
        "status"] == "sent"

    # Only the blocked chat is left: nothing to resend, said in one line.
    _one_error_line(bousai("alert", "resend-failed", str(alert_id), expect=1),
                    "nothing to resend", "blocked the bot")
    resends = [a for a in json_lines(bousai("audit", "--json").stdout)
               if a["action"] == "resend"]
    assert [(a["operator"], a["alert_id"], a["details"]) for a in resends] == [
        ("tanaka", alert_id, {"deliveries": 1, "skipped": 1})]


def test_resend_failed_refuses_when_nothing_failed(telegram: FakeTelegram) -> None:
    _subscribe(("1001", "en", "43101"))
    pending = _issue()
    _one_error_line(bousai("alert", "resend-failed", str(pending), expect=1),
                    "no failed deliveries")
    bousai("alert", "approve", "--yes", str(pending), "--operator", "tanaka")
    bousai("run", "--until-idle")
    _one_error_line(bousai("alert", "resend-failed", str(pending), expect=1),
                    "no failed deliveries")
    assert not [a for a in json_lines(bousai("audit", "--json").stdout)
                if a["action"] == "resend"]


# ------------------------------------------------------------------ subscribers

def test_subscriber_stats_and_erase(telegram: FakeTelegram) -> None:
    _subscribe(("4001", "en", "43101"), ("4002", "ja", "43101"), ("4003", "en", "43102"))
    telegram.block("4003")
    alert_id = _issue(ward="43101")
    bousai("alert", "approve", "--yes", str(alert_id), "--operator", "tanaka")
    second = _issue(ward="43102")
    bousai("alert", "approve", "--yes", str(second), "--operator", "tanaka")
    bousai("run", "--until-idle")

    stats = json_lines(bousai("subscribers", "stats", "--json").stdout)[0]
    assert stats["total"] == 3 and stats["active"] == 2 and stats["inactive"] == 1
    assert stats["by_channel"]["telegram"] == {"active": 2, "inactive": 1}
    assert stats["by_language"]["en"] == {"active": 1, "inactive": 1}
    assert stats["by_ward"] == {"43101": 2}

    out = bousai("subscribers", "erase", "--channel", "telegram", "--user-id", "4001",
                 "--operator", "kimura")
    assert "erased" in out.stdout
    users = {s["user_id"] for s in json_lines(
        bousai("subscribers", "list", "--json", "--inactive").stdout)}
    assert users == {"4002", "4003"}
    log = json_lines(bousai("deliveries", "log", "--format", "jsonl").stdout)
    assert len(log) == 3
    assert all("4001" not in r["recipients"] for r in log)
    assert sum(r["recipients"] == ["(erased)"] for r in log) == 1
    assert "4001" not in bousai("deliveries", "log", "--format", "csv").stdout
    erased = [a for a in json_lines(bousai("audit", "--json").stdout)
              if a["action"] == "subscriber_erase"]
    assert len(erased) == 1 and erased[0]["operator"] == "kimura"
    assert "4001" not in str(erased[0])
    _one_error_line(bousai("subscribers", "erase", "--channel", "telegram", "--user-id",
                           "4001", expect=1), "no telegram subscriber")


def test_watch_follows_a_live_send_and_exits_when_done(telegram: FakeTelegram) -> None:
    """`deliveries watch` (no --once) while a dispatcher sends in another thread."""
    from bot.dispatcher import Dispatcher
    from bot.runtime import build_channels, build_service

    _subscribe(("5001", "en", "43101"), ("5002", "ja", "43101"), ("5003", "ja-easy", "43101"))
    alert_id = _issue_and_approve()
    errors: list[BaseException] = []

    def send() -> None:
        svc = build_service()
        try:
            channels = build_channels(svc.config, svc.settings)
            dispatcher = Dispatcher(svc.engine, channels, delivery=svc.config.delivery)

            async def go() -> None:
                await asyncio.sleep(0.6)  # let watch see the queue first
                await dispatcher.run(until_idle=True)
                for ch in channels.values():
                    await ch.close()

            asyncio.run(go())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            svc.engine.dispose()

    thread = threading.Thread(target=send)
    thread.start()
    try:
        out = bousai("deliveries", "watch", str(alert_id), "--interval", "0.2").stdout
    finally:
        thread.join(30)
    assert not errors
    assert "done: 3 sent, 0 failed" in out
    assert len(telegram.sent) == 3


# ----------------------------------------------------- watch rendering, percentiles

def _render(snap: Snapshot, rate: float | None) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(render_snapshot(snap, rate))
    return console.export_text()


def test_render_snapshot_in_progress_and_done() -> None:
    groups = {("telegram", "en"): GroupCounts(sent=120, pending=80, failed=2),
              ("telegram", "vi"): GroupCounts(sent=30, pending=20)}
    errors = ("Forbidden: bot was blocked by the user", "Timed out")
    snap = Snapshot(alert_id=7, alert_status="queued", at=10.0, groups=groups,
                    errors=errors)
    text = _render(snap, 25.0)
    assert "alert 7 (queued: sending)" in text
    assert "telegram" in text and " vi " in text and "150" in text  # total sent
    assert "25.0 recipients/s" in text and "100 pending" in text
    assert "time remaining 4s" in text
    assert text.index("blocked") < text.index("Timed out")
    assert "time remaining unknown" in _render(snap, None)
    done = Snapshot(alert_id=7, alert_status="sent", at=11.0,
                    groups={("telegram", "en"): GroupCounts(sent=200, failed=2)}, errors=())
    assert done.done and "done: 200 sent, 2 failed" in _render(done, 0.0)
    waiting = Snapshot(alert_id=8, alert_status="pending_approval", at=0.0, groups={},
                       errors=())
    assert not waiting.done and "waiting for approval" in _render(waiting, None)
    idle = Snapshot(alert_id=9, alert_status="queued", at=0.0, errors=(),
                    groups={("line", "en"): GroupCounts(pending=5)}, unattended=("line",))
    assert "no worker is sending on line: is `bousai run` running?" in _render(idle, None)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    scheduled = Snapshot(alert_id=9, alert_status="queued", at=0.0, errors=(),
                         groups={("line", "en"): GroupCounts(pending=5)}, send_at=later)
    assert "alert 9 (queued: scheduled for" in _render(scheduled, None)
    paused = Snapshot(alert_id=9, alert_status="queued", at=0.0, errors=(),
                      groups={("telegram", "en"): GroupCounts(pending=5)},
                      halted=("telegram paused since 10:02 JST: telegram unreachable: "
                              "ClientConnectorError",))
    text = _render(paused, None)
    assert "telegram paused since 10:02 JST" in text
    assert "nothing is lost" in text


def test_rate_meter_uses_recent_change_in_sent() -> None:
    meter = RateMeter(window=5.0)

    def snap(t: float, sent: int) -> Snapshot:
        return Snapshot(alert_id=1, alert_status="queued", at=t, errors=(),
                        groups={("telegram", "en"): GroupCounts(sent=sent, pending=1)})

    assert meter.add(snap(0.0, 0)) is None
    assert meter.add(snap(1.0, 30)) == pytest.approx(30.0)
    for t in range(2, 10):
        rate = meter.add(snap(float(t), 30 + (t - 1) * 10))
    assert rate == pytest.approx(10.0)  # the first, faster second has left the window


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 99) == 3.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 90) == pytest.approx(90.1)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 100) == 100.0
