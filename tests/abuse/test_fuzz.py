"""Fuzz and abuse: hypothesis-mutated JMA, CAP and Atom documents through the whole
intake (parse, decide, store), and mutated Telegram updates and LINE events with
valid secrets and signatures through the web application. Every case ends in a
refusal or a stored alert: never an exception, a 500 or a row left in flight.

Kept short for CI (a few seconds per property); ``BOUSAI_FUZZ_EXAMPLES=500`` runs
more examples locally."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db.schema import deliveries
from bot.fakes.line import FakeLine, user_id, webhook_event
from bot.fakes.telegram import FakeTelegram
from bot.intake import Intake
from bot.runtime import build_service
from bot.service import Service
from bot.signup.line import LineSignup
from bot.signup.telegram import TelegramSignup
from bot.web import create_app
from channels.line import sign
from tests.cli_helpers import bousai
from tests.test_ingest_fuzz import SEEDS
from tests.test_signup_telegram import TOKEN, write_config

EXAMPLES = int(os.environ.get("BOUSAI_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
LINE_SECRET = "line-channel-secret-for-fuzz"
TG_SECRET = "tg-webhook-secret_fuzz_0123456789"

_TIME = re.compile(rb">(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)?)<")
EXTREME_TIMES = [b"9999-12-31T23:59:59-09:00", b"0001-01-01T00:00:00+09:00",
                 b"2026-02-30T25:61:00+09:00", b"99999-01-01T00:00:00Z", b"1970-01-01T00:00:00Z"]


# The seeds small enough for hypothesis to show a failing example readably.
SMALL = sorted(name for name, data in SEEDS.items() if len(data) < 64 * 1024)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real document with a few bytes flipped, inserted or cut off."""
    data = bytearray(SEEDS[draw(st.sampled_from(SMALL))])
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "truncate", "insert"]))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            data = data[:i]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=12))
    return bytes(data)


@st.composite
def extreme_times(draw: st.DrawFn) -> bytes:
    """A real document with one of its times replaced by an extreme or invalid one."""
    data = SEEDS[draw(st.sampled_from(SMALL))]
    matches = list(_TIME.finditer(data))
    if not matches:
        return data
    m = draw(st.sampled_from(matches))
    return data[: m.start(1)] + draw(st.sampled_from(EXTREME_TIMES)) + data[m.end(1):]


@pytest.fixture
def intake(env: dict[str, str]) -> Iterator[Callable[[bytes], None]]:
    """A checker over the whole intake (a function: hypothesis shows its arguments)."""
    bousai("db", "upgrade")
    svc = build_service()
    whole = Intake.for_service(svc)
    yield lambda data: _check_intake(whole, data)
    svc.engine.dispose()


def _check_intake(intake: Intake, data: bytes) -> None:
    records = intake.process(data, "fuzz")
    assert records, "every document gets a record: a refusal or an alert"
    for rec in records:
        assert rec.get("error") or rec.get("id") is not None or rec.get("duplicate"), rec
    with intake.service.engine.connect() as conn:
        stuck = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
            deliveries.c.status == "in_flight")).scalar()
    assert stuck == 0


@FUZZ
@given(data=st.one_of(mutated(), extreme_times()))
def test_mutated_documents_through_the_whole_intake(intake: Callable[[bytes], None],
                                                    data: bytes) -> None:
    intake(data)


# ------------------------------------------------------------------ webhooks

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def _mutate(draw: st.DrawFn, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with a few fields, at any depth, replaced or removed."""
    out = json.loads(json.dumps(value))
    for _ in range(draw(st.integers(1, 3))):
        node = out
        while True:
            keys = sorted(node) if isinstance(node, dict) else []
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            if isinstance(node[key], dict) and draw(st.booleans()):
                node = node[key]
                continue
            if draw(st.booleans()):
                node[key] = draw(JSON)
            else:
                del node[key]
            break
    return out


def _update(chat: int) -> dict[str, Any]:
    return {"update_id": 99, "message": {
        "message_id": 1, "date": 1_700_000_000, "text": "/start en-43101",
        "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "U", "language_code": "en"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


@pytest.fixture
def post(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
         ) -> Iterator[Callable[[str, bytes, dict[str, str]], int]]:
    config = write_config(tmp_path, telegram='webhook = true\n'
                          'webhook_url = "https://bousai.example.org/webhooks/telegram"')
    monkeypatch.setenv("BOUSAI_CONFIG", str(config))
    with FakeTelegram(token=TOKEN) as tg, FakeLine() as line:
        for k, v in {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg.url,
                     "TELEGRAM_WEBHOOK_SECRET": TG_SECRET, "LINE_CHANNEL_SECRET": LINE_SECRET,
                     "LINE_CHANNEL_ACCESS_TOKEN": line.token,
                     "LINE_API_BASE_URL": line.url}.items():
            monkeypatch.setenv(k, v)
        bousai("db", "upgrade")
        svc: Service = build_service()
        loop = asyncio.new_event_loop()
        tg_signup = TelegramSignup.from_service(svc)
        line_signup = LineSignup.from_service(svc)
        app = create_app(svc, telegram_handler=tg_signup, line_handler=line_signup)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://bousai.test")

        def send(path: str, body: bytes, headers: dict[str, str]) -> int:
            r = loop.run_until_complete(client.post(path, content=body, headers=headers))
            return r.status_code

        try:
            yield send
        finally:
            loop.run_until_complete(client.aclose())
            loop.run_until_complete(tg_signup.close())
            loop.run_until_complete(line_signup.close())
            loop.close()
            svc.engine.dispose()


@FUZZ
@given(data=st.data())
def test_mutated_telegram_updates_never_get_a_500(
        post: Callable[[str, bytes, dict[str, str]], int], data: st.DataObject) -> None:
    update = data.draw(st.builds(lambda d: d, st.just(_update(7001))).flatmap(
        lambda u: st.composite(lambda draw: _mutate(draw, u))()))
    status = post("/webhooks/telegram", json.dumps(update).encode(),
                  {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                   "Content-Type": "application/json"})
    assert status in (200, 400), (status, update)


@FUZZ
@given(data=st.data())
def test_mutated_line_events_with_valid_signatures_never_get_a_500(
        post: Callable[[str, bytes, dict[str, str]], int], data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["follow", "unfollow", "message", "postback"]))
    event = webhook_event(kind, user_id(0xF00), **({"text": "en-43101"} if kind == "message"
                                                   else {"data": "lang=en"}
                                                   if kind == "postback" else {}))
    event = data.draw(st.composite(lambda draw: _mutate(draw, event))())
    body = json.dumps({"destination": user_id(1), "events": [event]}).encode()
    status = post("/webhooks/line", body, {"x-line-signature": sign(body, LINE_SECRET)})
    assert status in (200, 400), (status, event)
