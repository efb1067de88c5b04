"""Menus: Telegram's command menu per language (setMyCommands through
python-telegram-bot) and LINE's rich menus (line-bot-sdk MessagingApi and
MessagingApiBlob) against the fake servers; the actions they send."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    RichMenuRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from PIL import Image
from telegram import Bot, BotCommand
from telegram.error import BadRequest

from bot.fakes.line import FakeLine, signed_body, user_id, webhook_event
from bot.fakes.telegram import FakeTelegram
from bot.runtime import build_service
from bot.service import Service
from bot.signup.actions import MENU_COMMANDS, parse_action
from bot.signup.line import LineSignup
from bot.signup.menus import menu_language, rich_menu_request, telegram_code
from bot.web import create_app
from tests.cli_helpers import bousai
from tests.test_signup_telegram import TOKEN, buttons, polling, until, write_config

SECRET = "line-channel-secret-for-tests"
ALICE = user_id(0xA11CE)


@pytest.fixture
def fakes(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
          ) -> Iterator[tuple[FakeTelegram, FakeLine]]:
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(tmp_path)))
    with FakeTelegram(token=TOKEN) as tg, FakeLine() as line:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", tg.url)
        monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", line.token)
        monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)
        monkeypatch.setenv("LINE_API_BASE_URL", line.url)
        bousai("db", "upgrade")
        yield tg, line


@pytest.fixture
def svc(fakes: tuple[FakeTelegram, FakeLine]) -> Iterator[Service]:
    service = build_service()
    yield service
    service.engine.dispose()


# ------------------------------------------------------------------ Telegram

def test_telegram_language_codes() -> None:
    assert [telegram_code(t) for t in ("ja", "ja-easy", "zh-Hans", "zh-Hant", "tl", "my")] == [
        "ja", None, "zh", None, "tl", "my"]


async def test_command_menu_is_set_in_every_language(fakes: tuple[FakeTelegram, FakeLine],
                                                     svc: Service) -> None:
    tg, _ = fakes
    async with polling(svc) as signup:
        deadline = time.monotonic() + 10
        while len(tg.command_menus) < 4:
            assert time.monotonic() < deadline, tg.command_menus
            await asyncio.sleep(0.02)
        # read back through the real client, as an operator would check
        vi = await signup.bot.get_my_commands(language_code="vi")
        fallback = await signup.bot.get_my_commands()
    assert set(tg.command_menus) == {("default", ""), ("default", "ja"), ("default", "en"),
                                     ("default", "vi")}  # ja-easy shares "ja"
    assert [c.command for c in vi] == list(MENU_COMMANDS)
    assert {c.command: c.description for c in vi}["latest"] == "Cảnh báo đang có hiệu lực"
    ja = {c["command"]: c["description"] for c in tg.command_menus[("default", "ja")]}
    assert ja["safety"] == "無事か、助けが必要かを知らせる" and ja["start"].startswith("登録")
    assert menu_language(svc.config) == "en"
    assert {c.command: c.description for c in fallback}["shelters"] == "Nearest shelters"


async def test_fake_refuses_what_the_bot_api_refuses(fakes: tuple[FakeTelegram, FakeLine]
                                                     ) -> None:
    tg, _ = fakes
    async with Bot(TOKEN, base_url=f"{tg.url}/bot") as bot:
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Latest", "upper case is refused")])
        with pytest.raises(BadRequest, match=r"(?i)bot_command_description_invalid"):
            await bot.set_my_commands([BotCommand("latest", "x" * 257)])
        with pytest.raises(BadRequest, match="language code"):
            await bot.set_my_commands([BotCommand("latest", "ok")], language_code="vie")
        assert await bot.set_my_commands([BotCommand("latest", "ok")], language_code="vi")
        assert await bot.delete_my_commands(language_code="vi")
    assert tg.command_menus == {}


async def test_menu_commands_on_telegram(fakes: tuple[FakeTelegram, FakeLine],
                                         svc: Service) -> None:
    tg, _ = fakes
    async with polling(svc):
        tg.user_message(7001, "/start vi-43101")
        await until(tg, 7001, 1)
        tg.user_message(7001, "/settings")
        settings = (await until(tg, 7001, 2))[1]
        assert "Quận Chuo" in settings.text
        assert buttons(settings) == {"action=language": "Ngôn ngữ", "action=area": "Khu vực",
                                     "action=kinds": "Loại tin"}
        tg.user_taps(7001, "action=language", message_id=settings.message_id)
        picker = (await until(tg, 7001, 3))[2]
        assert "lang:ja" in buttons(picker)
        # The menu's /latest: the alerts in force in the user's ward (none here).
        tg.user_message(7001, "/latest")
        latest = (await until(tg, 7001, 4))[3].text
        assert latest == "Hiện không có cảnh báo nào có hiệu lực tại Quận Chuo."
        # /safety: whom to call, in the user's language.
        tg.user_message(7001, "/safety")
        contacts = (await until(tg, 7001, 5))[4].text.splitlines()
        assert contacts[:2] == ["Cứu hỏa và cấp cứu: 119", "Cảnh sát: 110"], contacts


def test_parse_action() -> None:
    assert parse_action("action=latest") == ("latest", {})
    assert parse_action("action=shelters&ward=43101") == ("shelters", {"ward": "43101"})
    for bad in ("lang:vi", "action=", "action=LATEST", "action=a b", "action=x&&&"):
        assert parse_action(bad) is None, bad


# ------------------------------------------------------------------ LINE

@pytest.fixture
async def line_signup(svc: Service) -> AsyncIterator[LineSignup]:
    handler = LineSignup.from_service(svc)
    yield handler
    await handler.close()


async def post(client: httpx.AsyncClient, *events: dict[str, Any]) -> None:
    body, signature = signed_body(list(events), SECRET)
    response = await client.post("/webhooks/line", content=body, headers={
        "x-line-signature": signature, "content-type": "application/json"})
    assert response.status_code == 200


def created(line: FakeLine) -> int:
    return sum(1 for m, p, s in line.rich_menu_calls if (m, p, s) == ("POST", "/v2/bot/richmenu",
                                                                      200))


async def test_rich_menus_are_created_once_and_reused_on_restart(
        fakes: tuple[FakeTelegram, FakeLine], svc: Service, line_signup: LineSignup) -> None:
    _, line = fakes
    assert await line_signup.setup_menus()
    ids = dict(line_signup.menus.ids)
    assert set(ids) == {"ja", "ja-easy", "en", "vi"} and created(line) == 4
    for lang, menu_id in ids.items():
        menu = line.rich_menus[menu_id]
        assert menu["name"].startswith(f"bousai {lang} ")
        assert [a["action"]["data"] for a in menu["areas"]] == [
            "action=latest", "action=shelters", "action=safety", "action=settings"]
        with Image.open(io.BytesIO(line.rich_menu_images[menu_id])) as image:
            assert image.format == "PNG" and image.size == (2500, 1686)
    assert line.rich_menus[ids["vi"]]["areas"][0]["action"]["displayText"] == "Tin mới nhất"
    assert line.rich_menus[ids["ja"]]["chatBarText"] == "メニュー"
    assert line.default_rich_menu == ids["en"]

    again = LineSignup.from_service(svc)  # a restart
    try:
        assert await again.setup_menus()
    finally:
        await again.close()
    assert again.menus.ids == ids and created(line) == 4 and len(line.rich_menus) == 4


async def test_a_language_change_links_that_languages_menu(
        fakes: tuple[FakeTelegram, FakeLine], svc: Service, line_signup: LineSignup) -> None:
    _, line = fakes
    assert await line_signup.setup_menus()
    ids = line_signup.menus.ids
    app = create_app(svc, line_handler=line_signup)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bousai.test") as client:
        await post(client, webhook_event("follow", ALICE))
        assert ALICE not in line.user_rich_menus  # the default until a language is chosen
        await post(client, webhook_event("postback", ALICE, data="lang:vi"))
        assert line.user_rich_menus[ALICE] == ids["vi"]
        await post(client, webhook_event("postback", ALICE, data="ward:43101"))
        await post(client, webhook_event("postback", ALICE, data="action=settings"))
        reply = [r for r in line.requests if r.endpoint == "reply"][-1]
        assert "Quận Chuo" in reply.texts[0]
        items = reply.messages[-1]["quickReply"]["items"]
        assert [i["action"]["data"] for i in items] == ["action=language", "action=area",
                                                        "action=kinds"]
        await post(client, webhook_event("postback", ALICE, data="action=safety"))
        safety = [r for r in line.requests if r.endpoint == "reply"][-1]
        assert "119" in safety.texts[0] and "110" in safety.texts[0]  # whom to call
        await post(client, webhook_event("postback", ALICE, data="lang:ja"))
        assert line.user_rich_menus[ALICE] == ids["ja"]
        await post(client, webhook_event("message", ALICE, text="erase"))
        assert ALICE not in line.user_rich_menus  # erased: back to the default menu


async def test_fake_line_validates_rich_menus_like_line(fakes: tuple[FakeTelegram, FakeLine],
                                                        svc: Service) -> None:
    _, line = fakes
    client = AsyncApiClient(Configuration(host=line.url, access_token=line.token))
    api, blob = AsyncMessagingApi(client), AsyncMessagingApiBlob(client)
    try:
        body = rich_menu_request(svc.renderer.catalogs, "en", "bousai test")
        body["areas"][3]["bounds"]["width"] += 1  # one pixel past the right edge
        with pytest.raises(ApiException) as bad:
            await api.create_rich_menu(RichMenuRequest.from_dict(body))
        assert bad.value.status == 400 and "areas[3].bounds" in str(bad.value.body)
        body["areas"][3]["bounds"]["width"] -= 1
        menu_id = (await api.create_rich_menu(RichMenuRequest.from_dict(body))).rich_menu_id
        with pytest.raises(ApiException) as no_image:
            await api.set_default_rich_menu(menu_id)
        assert no_image.value.status == 400 and "upload richmenu image" in str(no_image.value.body)
        small = io.BytesIO()
        Image.new("RGB", (1200, 810)).save(small, format="PNG")
        with pytest.raises(ApiException) as wrong_size:
            await blob.set_rich_menu_image(menu_id, small.getvalue(),
                                           _headers={"Content-Type": "image/png"})
        assert wrong_size.value.status == 400
        with pytest.raises(ApiException) as unknown:
            await api.link_rich_menu_id_to_user(ALICE, "richmenu-" + "0" * 32)
        assert unknown.value.status == 404
    finally:
        await client.close()


async def test_rich_menus_without_fonts_are_logged_and_sign_up_goes_on(
        fakes: tuple[FakeTelegram, FakeLine], svc: Service, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    _, line = fakes
    handler = LineSignup.from_service(svc)
    handler.menus.font_dir = tmp_path  # no fonts there
    try:
        assert not await handler.setup_menus()
    finally:
        await handler.close()
    assert "fonts-noto" in caplog.text
    assert line.rich_menus == {}  # the menu whose picture failed was deleted again
