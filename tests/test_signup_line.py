"""LINE sign-up: signed webhook bodies POSTed to the Starlette app, replies through
the real line-bot-sdk client to the fake LINE Messaging API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.fakes.line import FakeLine, LineRequest, signed_body, user_id, webhook_event
from bot.runtime import build_service
from bot.service import Service
from bot.signup.line import LineSignup
from bot.web import create_app
from tests.cli_helpers import bousai, json_lines
from tests.test_signup_telegram import write_config

SECRET = "line-channel-secret-for-tests"
ALICE = user_id(0xA11CE)
BOB = user_id(0xB0B)


@pytest.fixture
def line(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
         ) -> Iterator[FakeLine]:
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(tmp_path)))
    with FakeLine() as fake:
        monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", fake.token)
        monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)
        monkeypatch.setenv("LINE_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        yield fake


@pytest.fixture
def svc(line: FakeLine) -> Iterator[Service]:
    service = build_service()
    yield service
    service.engine.dispose()


@pytest.fixture
async def signup(svc: Service) -> AsyncIterator[LineSignup]:
    handler = LineSignup.from_service(svc)
    yield handler
    await handler.close()


@pytest.fixture
async def client(svc: Service, signup: LineSignup) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(svc, line_handler=signup)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bousai.test") as c:
        yield c


async def post(client: httpx.AsyncClient, *events: dict[str, Any]) -> httpx.Response:
    body, signature = signed_body(list(events), SECRET)
    return await client.post("/webhooks/line", content=body,
                             headers={"x-line-signature": signature,
                                      "content-type": "application/json"})


def last_reply(fake: FakeLine) -> LineRequest:
    replies = [r for r in fake.requests if r.endpoint == "reply"]
    assert replies, "the bot did not reply"
    assert replies[-1].status == 200
    return replies[-1]


def quick_replies(request: LineRequest) -> dict[str, str]:
    """postback data → label of the last message's quick-reply buttons."""
    items = request.messages[-1]["quickReply"]["items"]
    return {i["action"]["data"]: i["action"]["label"] for i in items}


def subscribers(*flags: str) -> dict[str, dict[str, Any]]:
    return {s["user_id"]: s for s in json_lines(
        bousai("subscribers", "list", "--json", *flags).stdout)}


async def test_follow_then_two_postbacks_subscribes(line: FakeLine,
                                                    client: httpx.AsyncClient) -> None:
    assert (await post(client, webhook_event("follow", ALICE))).status_code == 200
    welcome = last_reply(line)
    text = welcome.texts[0]
    assert "熊本市" in text and "Kumamoto City" in text and "くまもとし" in text
    langs = quick_replies(welcome)
    assert langs["lang:en"] == "English" and langs["lang:ja-easy"] == "やさしい日本語"
    assert subscribers() == {}

    assert (await post(client, webhook_event("postback", ALICE, data="lang:ja"))
            ).status_code == 200
    wards = quick_replies(last_reply(line))
    assert wards["ward:43102"] == "東区" and wards["ward:all"] == "市全体"

    assert (await post(client, webhook_event("postback", ALICE, data="ward:all"))
            ).status_code == 200
    assert "登録しました" in last_reply(line).texts[0]
    sub = subscribers()[ALICE]
    assert sub["channel"] == "line" and sub["language"] == "ja"
    assert sub["wards"] == ["43101", "43102", "43103", "43104", "43105"]

    assert (await post(client, webhook_event("unfollow", ALICE))).status_code == 200
    assert ALICE not in subscribers()
    assert subscribers("--inactive")[ALICE]["active"] is False


async def test_text_commands_in_japanese_and_typed_payload(line: FakeLine,
                                                           client: httpx.AsyncClient) -> None:
    await post(client, webhook_event("message", BOB, text="vi-43101"))
    assert subscribers()[BOB]["language"] == "vi"
    await post(client, webhook_event("postback", BOB, data="lang:en"))
    assert subscribers()[BOB]["language"] == "en"
    await post(client, webhook_event("message", BOB, text="停止"))
    assert "Send start to subscribe again" in last_reply(line).texts[0]
    assert BOB not in subscribers()
    await post(client, webhook_event("message", BOB, text="ＨＥＬＰ"))
    assert "stop" in last_reply(line).texts[0]
    await post(client, webhook_event("message", BOB, text="ことば"))
    assert "lang:ja-easy" in quick_replies(last_reply(line))
    await post(client, webhook_event("message", BOB, text="what?"))
    assert "help" in last_reply(line).texts[0]
    await post(client, webhook_event("message", BOB, text="削除"))
    assert BOB not in subscribers("--inactive")


async def test_long_lists_are_paged_within_quick_reply_limits(
        line: FakeLine, signup: LineSignup, client: httpx.AsyncClient) -> None:
    signup.conversation.max_buttons = 3  # as if the city had more languages than LINE shows
    await post(client, webhook_event("follow", ALICE))
    first = quick_replies(last_reply(line))
    assert list(first) == ["lang:ja", "lang:ja-easy", "langs:1"]
    await post(client, webhook_event("postback", ALICE, data="langs:1"))
    assert list(quick_replies(last_reply(line))) == ["lang:en", "lang:vi", "langs:0"]


async def test_unknown_events_and_group_sources_are_ignored(line: FakeLine,
                                                            client: httpx.AsyncClient) -> None:
    beacon = webhook_event("follow", ALICE)
    beacon["type"] = "beacon"
    group = webhook_event("follow", BOB)
    group["source"] = {"type": "group", "groupId": "C" + "0" * 32, "userId": BOB}
    sticker = webhook_event("message", ALICE)
    sticker["message"] = {"type": "sticker", "id": "1", "packageId": "1", "stickerId": "1"}
    response = await post(client, beacon, group, sticker)
    assert response.status_code == 200
    assert [r for r in line.requests if r.endpoint == "reply"] == []
    assert subscribers("--inactive") == {}


async def test_expired_reply_token_still_saves(line: FakeLine, client: httpx.AsyncClient) -> None:
    line.fail_next(1, status=400, message="Invalid reply token")
    assert (await post(client, webhook_event("message", ALICE, text="en-43105"))
            ).status_code == 200
    assert subscribers()[ALICE]["wards"] == ["43105"]
