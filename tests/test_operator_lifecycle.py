"""THE operator lifecycle, through the real CLI, database, dispatcher and the
python-telegram-bot client talking to the fake Telegram Bot API server:

issue (alice) → own approval refused → approve (bob) → send to the two wards only →
cancel (bob) → the cancellation goes out as a reply to each chat's original message →
ledger, audit log, watch and stats tell the story."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.fakes.telegram import FakeTelegram
from tests.cli_helpers import bousai, json_lines

TOKEN = "424242:AAE-test-token-for-the-fake"

# chat id → (language, wards); 43101 中央区 and 43104 南区 are the alert's wards.
SUBSCRIBERS = {
    "2001": ("ja", ["43101"]),
    "2002": ("en", ["43104"]),
    "2003": ("ja-easy", ["43101", "43102"]),
    "2004": ("en", ["43105"]),  # 北区: must not receive
    "2005": ("ja", ["43103"]),  # 西区: must not receive
}
REACHED = {"2001", "2002", "2003"}


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        for chat, (language, wards) in SUBSCRIBERS.items():
            bousai("subscribers", "add", "--channel", "telegram", "--user-id", chat,
                   "--language", language, *[a for w in wards for a in ("--ward", w)])
        yield fake


def test_issue_refuse_approve_send_cancel_reply_audit(telegram: FakeTelegram) -> None:
    # Operator A issues an evacuation level 4 for 中央区 and 南区.
    issued = json_lines(bousai(
        "alert", "issue", "--allow-fallback", "--kind", "evacuation", "--level", "4",
        "--ward", "43101", "--ward", "43104",
        "--text-ja",
        "白川の水位が上がっています。中央区と南区の浸水想定区域の方は避難してください。",
        "--yes", "--json", "--operator", "alice").stdout)[0]
    alert_id = int(issued["id"])
    assert issued["status"] == "pending_approval"
    assert issued["operator"] == "alice"
    assert issued["wards"] == ["43101", "43104"]
    assert issued["plan"]["telegram"]["recipients"] == len(REACHED)

    # Operator A cannot approve their own alert: one clear line, nothing sent.
    refused = bousai("alert", "approve", "--yes", str(alert_id), "--operator", "alice", expect=1)
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "two-person rule" in lines[0] and "alice" in lines[0]
    assert json_lines(bousai("alert", "show", str(alert_id), "--json").stdout)[0][
        "status"] == "pending_approval"
    watch = bousai("deliveries", "watch", str(alert_id), "--once").stdout
    assert "waiting for approval" in watch

    # Operator B approves; the dispatcher sends through the fake Telegram server.
    approved = bousai("alert", "approve", "--yes", str(alert_id), "--operator", "bob")
    assert f"alert {alert_id} approved" in approved.stdout
    bousai("run", "--until-idle")

    originals = {m.chat_id: m for m in telegram.sent}
    assert set(originals) == REACHED
    assert len(telegram.sent) == len(REACHED)
    assert all(m.reply_to_message_id is None for m in telegram.sent)
    shown = json_lines(bousai("alert", "show", str(alert_id), "--json").stdout)[0]
    assert shown["status"] == "sent" and shown["approved_by"] == "bob"
    assert shown["created_by"] == "alice"

    # watch --once: per channel and language, with the counts.
    watch = bousai("deliveries", "watch", str(alert_id), "--once").stdout
    assert "telegram" in watch and "done: 3 sent, 0 failed" in watch
    for language in ("ja", "en", "ja-easy"):
        assert language in watch
    # A finished alert: watch without --once exits at once, successfully.
    assert "done: 3 sent" in bousai("deliveries", "watch", str(alert_id)).stdout

    # Operator B cancels; under the two-person rule the cancellation waits for A,
    # then goes to the chats the original reached.
    cancelled = json_lines(bousai("alert", "cancel", str(alert_id), "--reason",
                                  "誤った地域に送信しました。", "--yes",
                                  "--operator", "bob", "--json").stdout)[0]
    follow_id = int(cancelled["follow_up"])
    assert cancelled["cancelled"] == alert_id and follow_id != alert_id
    assert cancelled["status"] == "pending_approval"
    bousai("run", "--until-idle")
    assert len(telegram.sent) == len(REACHED)  # nothing goes out before approval
    bousai("alert", "approve", "--yes", str(follow_id), "--operator", "alice")
    bousai("run", "--until-idle")
    assert json_lines(bousai("alert", "show", str(alert_id), "--json").stdout)[0][
        "status"] == "cancelled"

    replies = [m for m in telegram.sent if m.chat_id in originals
               and m is not originals[m.chat_id]]
    assert {m.chat_id for m in replies} == REACHED
    assert len(telegram.sent) == 2 * len(REACHED)
    for m in replies:
        assert m.reply_to_message_id == originals[m.chat_id].message_id, m
    assert not telegram.messages_to("2004") and not telegram.messages_to("2005")

    # The ledger: both alerts, every row sent, with the platform's message ids.
    log = json_lines(bousai("deliveries", "log", "--format", "jsonl").stdout)
    by_alert: dict[int, dict[str, dict[str, object]]] = {}
    for r in log:
        by_alert.setdefault(int(r["alert_id"]), {})[r["recipients"][0]] = r
    assert set(by_alert) == {alert_id, follow_id}
    for aid in (alert_id, follow_id):
        assert set(by_alert[aid]) == REACHED
        for chat, r in by_alert[aid].items():
            assert r["status"] == "sent" and r["channel"] == "telegram"
            sent_msgs = [m for m in telegram.messages_to(chat)
                         if (m.reply_to_message_id is None) == (aid == alert_id)]
            assert r["provider_message_id"] == str(sent_msgs[0].message_id)

    # The audit log, oldest first: issue (alice), approve (bob), the follow-up's issue
    # and the cancel (bob); the refused approval is not an approval.
    audit = json_lines(bousai("audit", "--json").stdout)
    steps = [(a["action"], a["operator"], a["alert_id"]) for a in audit]
    assert steps == [("issue", "alice", alert_id), ("approve", "bob", alert_id),
                     ("issue", "bob", follow_id), ("approve", "alice", follow_id),
                     ("cancel", "bob", alert_id)]
    assert audit[-1]["details"]["follow_up"] == follow_id
    assert [a["id"] for a in audit] == sorted(a["id"] for a in audit)
    text = bousai("audit", "--alert", str(alert_id)).stdout
    assert "alice" in text and "approve" in text and "JST" in text
    assert json_lines(bousai("audit", "--since", "1d", "--json").stdout) == audit
    assert bousai("audit", "--since", "2000-01-01T00:00+09:00", "--json").stdout.strip()

    # Statistics: six rows, all sent, with latencies.
    stats = json_lines(bousai("deliveries", "stats", "--json").stdout)[0]
    tg = stats["channels"]["telegram"]
    assert tg["rows"] == tg["sent"] == tg["recipients"] == 2 * len(REACHED)
    assert tg["failed"] == tg["pending"] == 0
    assert tg["delivery_rate"] == 1.0
    lat = tg["latency_seconds"]
    assert lat["p50"] is not None and 0 <= lat["p50"] <= lat["p90"] <= lat["p99"] < 120
    assert tg["attempts_avg"] == 1.0
    assert "telegram" in bousai("deliveries", "stats").stdout
