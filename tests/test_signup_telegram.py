"""Telegram sign-up through the real python-telegram-bot client and the fake Bot API:
/start → language button → ward button, deep links, /stop, /erase, /kinds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.domain import Kind
from bot.fakes.telegram import FakeTelegram, SentMessage
from bot.runtime import build_service
from bot.service import Service
from bot.signup.common import match_language, parse_payload
from bot.signup.telegram import TelegramSignup
from tests.cli_helpers import bousai, json_lines

TOKEN = "424242:AAE-test-token-for-the-fake"
WARD_NAMES = {
    "43101": ("中央区", "中央区（ちゅうおうく）", "Chuo Ward", "Quận Chuo"),
    "43102": ("東区", "東区（ひがしく）", "Higashi Ward", "Quận Higashi"),
    "43103": ("西区", "西区（にしく）", "Nishi Ward", "Quận Nishi"),
    "43104": ("南区", "南区（みなみく）", "Minami Ward", "Quận Minami"),
    "43105": ("北区", "北区（きたく）", "Kita Ward", "Quận Kita"),
}


def write_config(tmp_path: Path, telegram: str = "", line: str = "") -> Path:
    """A small city configuration with Japanese, やさしい日本語, English and Vietnamese."""
    wards = "\n".join(
        f'[[wards]]\ncode = "{code}"\njma_code = "{code}00"\n'
        f'names = {{ ja = "{ja}", ja-easy = "{easy}", en = "{en}", vi = "{vi}" }}\n'
        for code, (ja, easy, en, vi) in WARD_NAMES.items())
    text = f"""
[city]
name = "熊本市"
jis_code = "43100"
jma_warning_area = "4310000"

[city.names]
ja = "熊本市"
ja-easy = "熊本市（くまもとし）"
en = "Kumamoto City"
vi = "Thành phố Kumamoto"

[languages]
enabled = ["ja", "ja-easy", "en", "vi"]
default = "ja"
fallback = ["en", "ja-easy"]

{wards}
[channels.telegram]
enabled = true
username = "bousai_test_bot"
{telegram}

[channels.line]
enabled = true
basic_id = "@123bousai"
{line}
"""
    path = tmp_path / "bousai.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def serving(monkeypatch: pytest.MonkeyPatch, config: Path) -> Iterator[FakeTelegram]:
    """The fake Bot API, the service pointed at it with ``config``, the database
    upgraded."""
    monkeypatch.setenv("BOUSAI_CONFIG", str(config))
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        yield fake


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> Iterator[FakeTelegram]:
    with serving(monkeypatch, write_config(tmp_path)) as fake:
        yield fake


@pytest.fixture
def svc(telegram: FakeTelegram) -> Iterator[Service]:
    service = build_service()
    yield service
    service.engine.dispose()


@asynccontextmanager
async def polling(svc: Service) -> AsyncIterator[TelegramSignup]:
    signup = TelegramSignup.from_service(svc, poll_timeout=1)
    stop = asyncio.Event()
    task = asyncio.create_task(signup.run(stop))
    try:
        yield signup
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def until(fake: FakeTelegram, chat: int, count: int, timeout: float = 10
                ) -> list[SentMessage]:
    """Wait until the bot has sent ``count`` messages to ``chat``."""
    deadline = time.monotonic() + timeout
    while len(fake.messages_to(chat)) < count:
        assert time.monotonic() < deadline, (
            f"expected {count} messages to {chat}, got {fake.messages_to(chat)}")
        await asyncio.sleep(0.02)
    return fake.messages_to(chat)


def buttons(message: SentMessage) -> dict[str, str]:
    """callback_data → label of the message's inline keyboard."""
    markup: Any = message.reply_markup
    assert isinstance(markup, dict), "the message has no inline keyboard"
    return {b["callback_data"]: b["text"] for row in markup["inline_keyboard"] for b in row}


def subscribers(*flags: str) -> dict[str, dict[str, Any]]:
    return {s["user_id"]: s for s in json_lines(
        bousai("subscribers", "list", "--json", *flags).stdout)}


async def test_three_taps_from_start_to_subscribed(telegram: FakeTelegram, svc: Service) -> None:
    async with polling(svc):
        telegram.user_message(5001, "/start")
        welcome = (await until(telegram, 5001, 1))[0]
        langs = buttons(welcome)
        assert set(langs) == {"lang:ja", "lang:ja-easy", "lang:en", "lang:vi"}
        assert langs["lang:ja"] == "日本語" and langs["lang:en"] == "English"
        assert "Kumamoto City" in welcome.text and "熊本市" in welcome.text
        assert subscribers() == {}  # nothing is sent before an area is chosen

        telegram.user_taps(5001, "lang:vi", message_id=welcome.message_id)
        wards = buttons((await until(telegram, 5001, 2))[1])
        assert wards["ward:43101"] == "Quận Chuo"
        assert "ward:all" in wards

        telegram.user_taps(5001, "ward:43101")
        done = (await until(telegram, 5001, 3))[2]
    assert "Quận Chuo" in done.text
    assert len(telegram.callback_answers) == 2
    sub = subscribers()["5001"]
    assert sub["channel"] == "telegram"
    assert sub["language"] == "vi"
    assert sub["wards"] == ["43101"]
    assert set(sub["kinds"]) == {k.value for k in Kind}  # every kind
    assert sub["active"] is True


async def test_deep_link_subscribes_at_once(telegram: FakeTelegram, svc: Service) -> None:
    async with polling(svc):
        telegram.user_message(5002, "/start vi-43101")
        telegram.user_message(5003, "/start ja-easy-43102")
        telegram.user_message(5004, "/start en-all")
        await until(telegram, 5002, 1)
        reply = (await until(telegram, 5003, 1))[0]
        await until(telegram, 5004, 1)
    assert "東区（ひがしく）" in reply.text and "とうろく" in reply.text
    subs = subscribers()
    assert subs["5002"]["language"] == "vi" and subs["5002"]["wards"] == ["43101"]
    assert subs["5003"]["language"] == "ja-easy" and subs["5003"]["wards"] == ["43102"]
    assert subs["5004"]["wards"] == sorted(WARD_NAMES)


async def test_stop_deactivates_and_erase_deletes(telegram: FakeTelegram, svc: Service) -> None:
    async with polling(svc):
        telegram.user_message(5005, "/start en-43103")
        await until(telegram, 5005, 1)
        telegram.user_message(5005, "/stop")
        stopped = (await until(telegram, 5005, 2))[1]
        assert "/start" in stopped.text
        assert "5005" not in subscribers()
        assert subscribers("--inactive")["5005"]["active"] is False

        telegram.user_message(5005, "/status")
        status = (await until(telegram, 5005, 3))[2]
        assert "not receiving" in status.text and "Nishi Ward" in status.text

        telegram.user_message(5005, "/erase")
        erased = (await until(telegram, 5005, 4))[3]
    assert "deleted" in erased.text
    assert "5005" not in subscribers("--inactive")


async def test_kinds_presets_and_toggles(telegram: FakeTelegram, svc: Service) -> None:
    async with polling(svc):
        telegram.user_message(5006, "/start en-43104")
        await until(telegram, 5006, 1)
        telegram.user_message(5006, "/kinds")
        picker = (await until(telegram, 5006, 2))[1]
        assert set(buttons(picker)) == {"kinds:all", "kinds:urgent", "kinds:custom"}
        telegram.user_taps(5006, "kinds:urgent")
        saved = (await until(telegram, 5006, 3))[2]
        assert "Warnings and evacuation only" in saved.text
        urgent = set(subscribers()["5006"]["kinds"])
        assert {"earthquake", "tsunami", "evacuation"} <= urgent
        assert "city_notice" not in urgent

        telegram.user_taps(5006, "kinds:custom")
        toggles = (await until(telegram, 5006, 4))[3]
        assert buttons(toggles)["kind:earthquake"].startswith("✓")
        telegram.user_taps(5006, "kind:earthquake", message_id=toggles.message_id)
        deadline = time.monotonic() + 10
        while not telegram.edits:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
    edited = telegram.edits[-1]
    row_buttons = [b for row in edited["reply_markup"]["inline_keyboard"] for b in row]
    label = {b["callback_data"]: b["text"] for b in row_buttons}
    assert not label["kind:earthquake"].startswith("✓")
    assert "earthquake" not in subscribers()["5006"]["kinds"]


async def test_help_unknown_and_language_change(telegram: FakeTelegram, svc: Service) -> None:
    async with polling(svc):
        telegram.user_message(5007, "/start ja-43105")
        await until(telegram, 5007, 1)
        telegram.user_message(5007, "/help")
        telegram.user_message(5007, "hello?")
        telegram.user_message(5007, "/language")
        msgs = await until(telegram, 5007, 4)
        assert "/stop" in msgs[1].text and "停止" in msgs[1].text
        assert "/help" in msgs[2].text
        assert "lang:en" in buttons(msgs[3])
        telegram.user_taps(5007, "lang:en")
        changed = (await until(telegram, 5007, 5))[4]
    assert "Saved" in changed.text and "Kita Ward" in changed.text
    sub = subscribers()["5007"]
    assert sub["language"] == "en" and sub["wards"] == ["43105"] and sub["active"] is True


async def test_group_chats_and_stale_buttons_are_harmless(telegram: FakeTelegram,
                                                          svc: Service) -> None:
    async with polling(svc):
        telegram.push_update({"message": {
            "message_id": 1, "date": int(time.time()), "text": "/start vi-43101",
            "chat": {"id": -100123, "type": "group", "title": "g"},
            "from": {"id": 5008, "is_bot": False, "first_name": "U"}}})
        telegram.user_taps(5009, "ward:43101")  # never started
        telegram.user_taps(5009, "bogus")
        telegram.user_message(5010, "/start vi-43101")  # processed after the others
        await until(telegram, 5010, 1)
    assert telegram.messages_to(-100123) == []
    assert set(subscribers("--inactive")) == {"5010"}


def test_payloads_and_language_tags(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    assert parse_payload("vi-43101", config) is not None
    p = parse_payload("vi-43101", config)
    assert p is not None and p.language == "vi" and p.wards == ("43101",)
    p = parse_payload("ja-easy-43102_43103", config)
    assert p is not None and p.language == "ja-easy" and p.wards == ("43102", "43103")
    p = parse_payload("en", config)
    assert p is not None and p.wards is None
    for bad in ("", "xx-43101", "vi-99999", "vi-", "-43101", "vi-43101" * 10):
        assert parse_payload(bad, config) is None

    def langs(tag: str) -> str | None:
        return match_language(tag, config.languages)

    assert langs("VI") == "vi" and langs("en-US") == "en" and langs("ja") == "ja"
    assert langs("fr") is None


async def test_telegram_out_of_reach_at_start_up_is_waited_out(
        telegram: FakeTelegram, svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """getMe refused (Telegram down when the service starts): sign-up retries with
    backoff instead of ending, and answers once Telegram is back."""
    from bot.fakes.proxy import FaultProxy

    host, port = telegram.url.removeprefix("http://").rsplit(":", 1)
    with FaultProxy(host, int(port)) as proxy:
        proxy.refuse()
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://{proxy.url_host}")
        service = build_service()
        try:
            signup = TelegramSignup.from_service(service, poll_timeout=1)
            stop = asyncio.Event()
            task = asyncio.create_task(signup.run(stop))
            await asyncio.sleep(1.5)  # at least one refused getMe
            assert not task.done(), "sign-up gave up while Telegram was out of reach"
            proxy.restore()
            telegram.user_message(5100, "/start")
            assert (await until(telegram, 5100, 1))[0].text
            stop.set()
            await asyncio.wait_for(task, 10)
        finally:
            service.engine.dispose()
