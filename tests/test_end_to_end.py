"""One alert end to end: CLI → database → renderer → dispatcher → real
python-telegram-bot client → fake Telegram Bot API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.fakes.telegram import FakeTelegram
from tests.cli_helpers import bousai, json_lines

TOKEN = "424242:AAE-test-token-for-the-fake"


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        yield fake


def _three_subscribers() -> None:
    bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1001",
           "--language", "ja", "--ward", "43101")
    bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1002",
           "--language", "en", "--ward", "43101", "--ward", "43102")
    bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1003",
           "--language", "ja-easy", "--ward", "43101")
    bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1004",
           "--language", "en", "--ward", "43105")  # another ward: must not receive


def _issue_and_approve() -> int:
    out = bousai("alert", "issue", "--allow-fallback", "--kind", "city_notice", "--ward", "43101",
                 "--text-ja", "中央区の一部で断水しています。給水所は中央区役所です。",
                 "--text-en", "Water is cut off in part of Chuo Ward. Water is handed out at "
                 "the Chuo Ward Office.", "--yes", "--json", "--operator", "sato")
    issued = json_lines(out.stdout)[0]
    assert issued["status"] == "pending_approval"
    assert issued["plan"]["telegram"]["recipients"] == 3
    bousai("alert", "approve", "--yes", str(issued["id"]), "--operator", "tanaka")
    return int(issued["id"])


def test_alert_reaches_the_right_chats_in_their_languages(telegram: FakeTelegram) -> None:
    _three_subscribers()
    alert_id = _issue_and_approve()
    bousai("run", "--until-idle")

    by_chat = {m.chat_id: m.text for m in telegram.sent}
    assert set(by_chat) == {"1001", "1002", "1003"}
    assert len(telegram.sent) == 3
    assert "断水しています" in by_chat["1001"] and "対象地域：中央区" in by_chat["1001"]
    assert by_chat["1002"].startswith("[Notice from Kumamoto City]")
    assert "Water is cut off in part of Chuo Ward" in by_chat["1002"]
    assert "JST" in by_chat["1002"]
    assert "中央区（ちゅうおうく）" in by_chat["1003"]

    log = json_lines(bousai("deliveries", "log", "--alert", str(alert_id),
                            "--format", "jsonl").stdout)
    assert {r["recipients"][0] for r in log} == {"1001", "1002", "1003"}
    sent_ids = {m.chat_id: str(m.message_id) for m in telegram.sent}
    for r in log:
        assert r["status"] == "sent"
        assert r["provider_message_id"] == sent_ids[r["recipients"][0]]
        assert r["attempts"] == 1
    shown = json_lines(bousai("alert", "show", str(alert_id), "--json").stdout)[0]
    assert shown["status"] == "sent"


def test_blocked_chat_fails_and_subscriber_is_deactivated(telegram: FakeTelegram) -> None:
    _three_subscribers()
    telegram.block("1002")
    alert_id = _issue_and_approve()
    bousai("run", "--until-idle")

    log = {r["recipients"][0]: r for r in json_lines(
        bousai("deliveries", "log", "--alert", str(alert_id), "--format", "jsonl").stdout)}
    assert log["1002"]["status"] == "failed"
    assert "blocked" in log["1002"]["error"]
    assert log["1001"]["status"] == log["1003"]["status"] == "sent"
    subs = {s["user_id"]: s for s in json_lines(
        bousai("subscribers", "list", "--json", "--inactive").stdout)}
    assert subs["1002"]["active"] is False
    assert subs["1001"]["active"] is True
    assert {m.chat_id for m in telegram.sent} == {"1001", "1003"}


def test_retry_after_429_then_sent_once(telegram: FakeTelegram) -> None:
    _three_subscribers()
    telegram.fail_next(1, status=429, retry_after=1)
    alert_id = _issue_and_approve()
    bousai("run", "--until-idle")
    log = json_lines(bousai("deliveries", "log", "--alert", str(alert_id),
                            "--format", "jsonl").stdout)
    assert all(r["status"] == "sent" for r in log)
    assert sorted(r["attempts"] for r in log) == [1, 1, 2]
    assert sorted(m.chat_id for m in telegram.sent) == ["1001", "1002", "1003"]
