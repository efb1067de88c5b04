"""Residents in the chat on LINE: a location message event (type location with
latitude, longitude and address, as LINE sends it), a typed ward name, the word and
the postback for the alerts in force; replies through line-bot-sdk to the fake LINE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.fakes.line import FakeLine, webhook_event
from bot.runtime import build_service
from bot.service import Service
from bot.signup.line import LineSignup
from bot.web import create_app
from tests.cli_helpers import bousai
from tests.test_residents_telegram import HIGASHI, evacuation, submit
from tests.test_signup_line import ALICE, SECRET, last_reply, post, quick_replies
from tests.test_signup_telegram import subscribers, write_config


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
async def client(svc: Service) -> AsyncIterator[httpx.AsyncClient]:
    handler = LineSignup.from_service(svc)
    app = create_app(svc, line_handler=handler)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bousai.test") as c:
        yield c
    await handler.close()


async def test_line_location_message_typed_ward_and_latest(
        line: FakeLine, svc: Service, client: httpx.AsyncClient) -> None:
    submit(svc, evacuation("ev-higashi", ("43102",), 4, 30, "東区に避難指示。"))
    event = webhook_event("location", ALICE, latitude=HIGASHI[0], longitude=HIGASHI[1],
                          address="熊本県熊本市東区東町4丁目", title="自宅")
    assert event["type"] == "message" and event["message"]["type"] == "location"
    assert (await post(client, event)).status_code == 200
    reply = last_reply(line)
    text = reply.texts[0]
    assert text.startswith("この場所は熊本市東区です。")
    assert "この区に発表中の情報：\n• 【警戒レベル4 避難指示】" in text
    assert "1. 東町中学校 — 0.5 km — 開設の発表なし" in text
    assert quick_replies(reply) == {"addward:43102:ja": "東区の情報を受け取る"}

    await post(client, webhook_event("postback", ALICE, data="addward:43102:ja"))
    assert subscribers()[ALICE]["wards"] == ["43102"]
    await post(client, webhook_event("message", ALICE, text="南区"))
    typed = last_reply(line).texts[0]
    assert typed.startswith("この場所は熊本市南区です。")
    assert "近くの避難所3か所を知るには、位置情報を送ってください。" in typed.splitlines()
    assert "1. " not in typed  # a typed name is not a position: no distances
    for ask in (webhook_event("message", ALICE, text="発表中"),
                webhook_event("postback", ALICE, data="cmd:latest")):
        await post(client, ask)
        latest = last_reply(line)
        assert latest.texts[0] == "東区に発表中の情報：1件（新しい順）"
        assert latest.texts[1].startswith("【警戒レベル4 避難指示】")
