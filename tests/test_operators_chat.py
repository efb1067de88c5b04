"""The operators' chat: alerts that wait for a person are posted to a Telegram group
with Approve / Reject; only listed operators may press, the two-person rule holds,
every press is audited; the emergency override sends at once and says so there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import DEFAULT_CONFIG_PATH
from bot.fakes.telegram import FakeTelegram
from bot.runtime import build_service
from bot.signup.telegram import TelegramSignup
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.conftest import FIXTURES

TOKEN = "424242:AAE-test-token-for-the-fake"
GROUP = -100777
TANAKA, SATO, STRANGER = 501, 502, 999


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
             ) -> Iterator[FakeTelegram]:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace('telegram_chat_id = ""', f'telegram_chat_id = "{GROUP}"')
    text = text.replace("[operators.accounts]\n", "[operators.accounts]\n"
                        f'tanaka = ["telegram:{TANAKA}"]\nsato = ["telegram:{SATO}"]\n')
    text = text.split("# " + "-" * 72 + " feeds")[0]  # no feeds to reach
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(tmp_path, text)))
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1001",
               "--language", "en", "--ward", "43101")
        yield fake


def _tap(from_id: int, data: str, chat_id: int = GROUP, text: str = "…") -> None:
    """A press, answered by the service's Telegram handler as `bousai run` would."""
    svc = build_service()
    signup = TelegramSignup.from_service(svc)
    update: dict[str, Any] = {"update_id": int(time.monotonic_ns() % 10**9),
                              "callback_query": {
        "id": f"cb{time.monotonic_ns()}", "chat_instance": "1", "data": data,
        "from": {"id": from_id, "is_bot": False, "first_name": "Op"},
        "message": {"message_id": 7, "date": int(time.time()), "text": text,
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"}}}}

    async def go() -> None:
        try:
            await signup.handle_json(update)
        finally:
            await signup.close()

    asyncio.run(go())
    svc.engine.dispose()


def _status(alert_id: int) -> str:
    return str(json_lines(bousai("alert", "show", str(alert_id), "--json").stdout)[0]
               ["status"])


def test_a_waiting_alert_is_approved_from_the_chat_by_a_second_operator(
        telegram: FakeTelegram) -> None:
    issued = json_lines(bousai("alert", "issue", "--kind", "city_notice", "--ward", "chuo",
                               "--text-ja", "給水所を開設しました。", "--text-en",
                               "A water station is open.", "--yes", "--json",
                               "--operator", "sato").stdout)[0]
    alert_id = issued["id"]
    assert issued["status"] == "pending_approval"
    posted = telegram.messages_to(GROUP)
    assert len(posted) == 1
    text = posted[0].text
    assert "Waits for a second operator (issued by sato)" in text
    assert "給水所を開設しました。" in text and "A water station is open." in text
    assert "where: 中央区" in text and "recipients: 1" in text
    buttons = [b["callback_data"] for row in posted[0].reply_markup["inline_keyboard"]
               for b in row]
    assert buttons == [f"op:approve:{alert_id}", f"op:reject:{alert_id}"]

    _tap(STRANGER, f"op:approve:{alert_id}")  # not an operator
    _tap(SATO, f"op:approve:{alert_id}")  # the issuer: two-person rule
    _tap(TANAKA, f"op:approve:{alert_id}", chat_id=TANAKA)  # not in the operators' chat
    assert _status(alert_id) == "pending_approval"
    answers = [a.get("text", "") for a in telegram.callback_answers]
    assert answers[0].startswith("refused: not an operator account")
    assert "two-person rule" in answers[1] and answers[2].startswith("refused")

    _tap(TANAKA, f"op:approve:{alert_id}", text=text)
    assert _status(alert_id) == "queued"
    assert telegram.callback_answers[-1]["text"] == "approved by tanaka; queued"
    assert telegram.edits[-1]["text"].endswith("→ approved by tanaka; queued")
    bousai("run", "--until-idle")
    received = telegram.messages_to("1001")
    assert len(received) == 1 and "A water station is open." in received[0].text

    audit = json_lines(bousai("audit", "--json").stdout)
    presses = [(a["operator"], a["action"], a["details"]["outcome"].split()[0]) for a in audit
               if a["action"].startswith("chat_")]
    assert presses == [(f"telegram:{STRANGER}", "chat_approve", "refused:"),
                       ("sato", "chat_approve", "refused:"),
                       ("tanaka", "chat_approve", "refused:"),
                       ("tanaka", "chat_approve", "approved")]


def test_reject_from_the_chat(telegram: FakeTelegram) -> None:
    alert_id = json_lines(bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "x",
                                 "--text-en", "x", "--yes", "--json", "--operator", "sato"
                                 ).stdout)[0]["id"]
    _tap(TANAKA, f"op:reject:{alert_id}")
    assert _status(alert_id) == "rejected"


def test_a_held_feed_alert_is_announced(telegram: FakeTelegram) -> None:
    quake = FIXTURES / "jma" / "32-35_04_04_240613_VXSE53.xml"
    rec = json_lines(bousai("ingest", "--json", "--as-of", "2010-01-25T16:20",
                            str(quake)).stdout)[0]
    assert rec["status"] == "held"
    posted = telegram.messages_to(GROUP)
    assert len(posted) == 1 and "Held for an operator (rule default" in posted[0].text
    # A stale one (replayed history) is held without bothering the operators.
    bousai("ingest", "--json", str(FIXTURES / "jma" / "32-35_04_06_240613_VXSE53.xml"))
    assert len(telegram.messages_to(GROUP)) == 1


def test_the_emergency_override(telegram: FakeTelegram) -> None:
    refused = bousai("alert", "issue", "--kind", "evacuation", "--level", "4", "--ward",
                     "chuo", "--text-ja", "避難", "--text-en", "Evacuate", "--yes",
                     "--emergency", "--reason", "river overflowing", expect=1)
    assert "only for evacuation level 5" in refused.stderr
    refused = bousai("alert", "issue", "--kind", "evacuation", "--level", "5", "--text-ja",
                     "避難", "--text-en", "Evacuate", "--yes", "--emergency", expect=1)
    assert "--emergency needs --reason" in refused.stderr
    out = json_lines(bousai("alert", "issue", "--kind", "evacuation", "--level", "5",
                            "--ward", "chuo", "--text-ja",
                            "白川が氾濫しました。直ちに命を守る行動を。",
                            "--text-en", "The Shirakawa has overflowed.", "--yes", "--json",
                            "--emergency", "--reason", "levee breach at 03:10",
                            "--operator", "sato").stdout)[0]
    assert out["status"] == "queued"  # no second person needed
    audit = json_lines(bousai("audit", "--json").stdout)
    assert [(a["operator"], a["details"]["reason"]) for a in audit
            if a["action"] == "emergency_override"] == [("sato", "levee breach at 03:10")]
    posted = telegram.messages_to(GROUP)
    assert len(posted) == 1 and "EMERGENCY OVERRIDE by sato: levee breach" in posted[0].text
    assert posted[0].reply_markup is None
