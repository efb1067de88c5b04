"""Telegram broadcast channels (one public channel per language) and paid broadcasts,
through python-telegram-bot against the fake Telegram server."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.schema import deliveries
from bot.domain import Alert, Kind, MsgType, Severity, Urgency
from bot.store.alerts import get_alert
from channels.tg_channels import TelegramChannelsChannel, channel_link
from tests.harness import Harness, harness

LANGS = ("ja", "en", "vi", "zh-Hans")


def _chat(lang: str) -> str:
    return f"@kumamoto_bousai_{lang.replace('-', '_').lower()}"


@contextmanager
def channels_harness(db_url: str, *, langs: tuple[str, ...] = LANGS,
                     options: dict[str, Any] | None = None, **kw: Any) -> Iterator[Harness]:
    opts = {"chats": {lang: _chat(lang) for lang in langs}, **(options or {})}
    with harness(db_url, tg_channels=opts, **kw) as h:
        for i, lang in enumerate(langs):
            h.telegram.add_channel(_chat(lang), members=100 * (i + 1))
        yield h


def _alert(h: Harness, **kw: Any) -> Alert:
    values: dict[str, Any] = dict(
        source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
        severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE, wards=h.config.ward_codes,
        body_ja="避難所を開設しました。", texts={"en": "Shelters are open."},
        issued=dt.datetime.now(dt.UTC))
    values.update(kw)
    return Alert(**values)


def _rows(h: Harness, alert_id: int, channel: str) -> list[sa.Row[Any]]:
    with h.engine.connect() as conn:
        return list(conn.execute(sa.select(deliveries).where(
            deliveries.c.alert_id == alert_id, deliveries.c.channel == channel)))


def test_one_post_per_language_channel_beside_the_per_chat_messages(db_url: str) -> None:
    with channels_harness(db_url) as h:
        h.seed(8, channels=("telegram",))
        alert_id = h.submit(_alert(h), operator="test")
        assert h.run_until_idle()
        rows = _rows(h, alert_id, "tg_channels")
        assert sorted(r.language for r in rows) == sorted(LANGS)
        assert {r.language: list(r.recipients) for r in rows} == \
            {lang: [_chat(lang)] for lang in LANGS}
        assert {r.status for r in rows} == {"sent"}
        for lang in LANGS:
            posts = h.telegram.messages_to(_chat(lang))
            assert len(posts) == 1, lang
            assert posts[0].reply_to_message_id is None
        assert "Shelters are open." in h.telegram.messages_to(_chat("en"))[0].text
        assert "避難所を開設しました。" in h.telegram.messages_to(_chat("ja"))[0].text
        # the per-chat bot still reaches every subscriber
        assert Counter(r.status for r in _rows(h, alert_id, "telegram")) == {"sent": 8}


def test_follow_up_replies_to_the_post_in_each_channel(db_url: str) -> None:
    with channels_harness(db_url) as h:
        original = h.submit(_alert(h), operator="test")
        assert h.run_until_idle()
        first = {lang: h.telegram.messages_to(_chat(lang))[0].message_id for lang in LANGS}
        with h.engine.connect() as conn:
            orig = get_alert(conn, original)
        cancel = h.submit(_alert(h, msg_type=MsgType.CANCEL, references=orig.source_id,
                                 body_ja="誤報でした。",
                                 texts={"en": "That was a false alarm."}), operator="test")
        assert h.run_until_idle()
        assert {r.status for r in _rows(h, cancel, "tg_channels")} == {"sent"}
        for lang in LANGS:
            posts = h.telegram.messages_to(_chat(lang))
            assert len(posts) == 2
            assert posts[1].reply_to_message_id == first[lang], lang
        assert "false alarm" in h.telegram.messages_to(_chat("en"))[1].text


def test_ward_targeted_alerts_and_other_kinds_stay_per_chat(db_url: str) -> None:
    with channels_harness(db_url, options={"kinds": ["earthquake", "city_notice"]}) as h:
        h.seed(4, channels=("telegram",))
        ward = h.submit(_alert(h, wards=(h.config.ward_codes[0],)), operator="test")
        other = h.submit(_alert(h, kind=Kind.SHELTER), operator="test")
        assert h.run_until_idle()
        assert _rows(h, ward, "tg_channels") == []
        assert _rows(h, other, "tg_channels") == []
        assert _rows(h, ward, "telegram")  # the ward's subscribers still get it
        assert all(not h.telegram.messages_to(_chat(lang)) for lang in LANGS)


def test_a_channel_the_bot_cannot_post_to_fails_that_language_only(db_url: str) -> None:
    opts = {"chats": {"ja": "@kumamoto_bousai_ja", "en": "@kumamoto_bousai_en",
                      "vi": "@no_such_channel_vi"}}
    with harness(db_url, tg_channels=opts) as h:
        h.telegram.add_channel("@kumamoto_bousai_ja", members=10)
        h.telegram.add_channel("@kumamoto_bousai_en", members=10, admin=False)
        h.seed(3, channels=("telegram",))
        alert_id = h.submit(_alert(h), operator="test")
        assert h.run_until_idle()
        rows = {r.language: r for r in _rows(h, alert_id, "tg_channels")}
        assert rows["ja"].status == "sent"
        assert rows["en"].status == "failed"
        assert "cannot post to @kumamoto_bousai_en" in rows["en"].last_error
        assert "bot is not a member of the channel chat" in rows["en"].last_error
        assert "administrator" in rows["en"].last_error
        assert rows["vi"].status == "failed"
        assert "chat not found" in rows["vi"].last_error.lower()
        assert len(h.telegram.messages_to("@kumamoto_bousai_ja")) == 1
        # nothing else lost: every subscriber got the per-chat message
        assert Counter(r.status for r in _rows(h, alert_id, "telegram")) == {"sent": 3}


def test_member_counts_through_get_chat_member_count(db_url: str) -> None:
    with channels_harness(db_url) as h:
        cid = h.telegram.add_channel(None, members=42)
        channel = TelegramChannelsChannel.from_settings(h.settings, {"chats": {}})

        async def counts() -> dict[str, int]:
            try:
                out = {lang: await channel.member_count(_chat(lang)) for lang in LANGS}
                out["id"] = await channel.member_count(str(cid))
                return out
            finally:
                await channel.close()

        got = asyncio.run(counts())
        assert got == {"ja": 100, "en": 200, "vi": 300, "zh-Hans": 400, "id": 42}

        async def unknown() -> None:
            try:
                await channel.member_count("@nobody_here")
            finally:
                await channel.close()

        from channels.base import RecipientError

        with pytest.raises(RecipientError,
                           match=r"(?i)no member count for @nobody_here: chat not found"):
            asyncio.run(unknown())


def test_channel_links() -> None:
    assert channel_link("@kumamoto_bousai_vi") == "https://t.me/kumamoto_bousai_vi"
    assert channel_link("-1001234567890") is None


# ------------------------------------------------------------------ paid broadcast


def test_paid_broadcast_only_for_the_kinds_the_city_marks(db_url: str) -> None:
    with harness(db_url, telegram_rate=30,
                 telegram={"rate_limit": 30, "paid_rate_limit": 1000},
                 telegram_options={"paid_broadcast": True,
                                   "paid_broadcast_kinds": ["evacuation"]}) as h:
        h.seed(120, channels=("telegram",))
        from bot.domain import Evacuation, EvacuationLevel

        paid = h.submit(_alert(h, kind=Kind.EVACUATION,
                               payload=Evacuation(level=EvacuationLevel.EVACUATE),
                               severity=Severity.EXTREME), operator="test")
        import time

        t0 = time.monotonic()
        assert h.run_until_idle()
        paid_took = time.monotonic() - t0
        assert Counter(r.status for r in _rows(h, paid, "telegram")) == {"sent": 120}
        assert all(m.paid for m in h.telegram.sent)
        assert h.telegram.stars_spent == 12.0
        assert h.telegram.too_many == 0
        # 120 messages at 30/s would take 4 s; paid, well under one
        assert paid_took < 2.0, paid_took

        free = h.submit(_alert(h), operator="test")
        n = len(h.telegram.sent)
        t0 = time.monotonic()
        assert h.run_until_idle()
        free_took = time.monotonic() - t0
        assert Counter(r.status for r in _rows(h, free, "telegram")) == {"sent": 120}
        assert not any(m.paid for m in h.telegram.sent[n:])
        assert h.telegram.too_many == 0
        assert free_took > 3.0, free_took  # the free 30/s


def test_fake_refuses_more_than_the_free_rate_without_paid_broadcast() -> None:
    """The fake applies the higher limit only to paid messages (allow_paid_broadcast)."""
    from bot.fakes.telegram import FakeTelegram
    from channels.base import OutgoingMessage, RetryLater
    from channels.telegram import TelegramChannel

    async def burst(url: str, paid: bool) -> int:
        ch = TelegramChannel("9:T", base_url=url)
        refused = 0
        try:
            for i in range(40):
                try:
                    await ch.send(OutgoingMessage(recipients=(str(1000 + i),), parts=("x",),
                                                  idempotency_key=str(i), paid=paid))
                except RetryLater:
                    refused += 1
        finally:
            await ch.close()
        return refused

    with FakeTelegram(token="9:T", rate_limit=30) as tg:
        assert asyncio.run(burst(tg.url, paid=True)) == 0
        assert asyncio.run(burst(tg.url, paid=False)) > 0


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(("old", "new", "message"), [
    ('vi = "@kumamoto_bousai_vi"', 'vi = "@ab"',
     "channels.tg_channels.chats.vi: '@ab' is not a channel chat"),
    ('vi = "@kumamoto_bousai_vi"', 'vi = "kumamoto_bousai_vi"',
     "channels.tg_channels.chats.vi: 'kumamoto_bousai_vi' is not a channel chat"),
    ('vi = "@kumamoto_bousai_vi"', 'xx = "@kumamoto_bousai_xx"',
     "channels.tg_channels.chats.xx: 'xx' is not in languages.enabled"),
    ('[channels.tg_channels.chats]',
     'languages = ["ja", "vi", "fr"]\n[channels.tg_channels.chats]',
     "channels.tg_channels.languages: fr has no channel"),
    ('kinds = ["earthquake",', 'kinds = ["quake",',
     "channels.tg_channels.kinds: unknown alert kind 'quake'"),
    ('# paid_broadcast_kinds = ["eew", "tsunami", "evacuation"]',
     'paid_broadcast_kinds = ["eew", "tsunamis"]',
     "channels.telegram.paid_broadcast_kinds: unknown alert kind 'tsunamis'"),
    ('# paid_broadcast_min_severity = "extreme"', 'paid_broadcast_min_severity = "high"',
     "channels.telegram.paid_broadcast_min_severity: must be one of unknown, minor"),
])
def test_config_errors_are_one_line(tmp_path: Any, old: str, new: str, message: str) -> None:
    from bot.config import DEFAULT_CONFIG_PATH, load_config
    from bot.errors import ConfigError
    from tests.config_helpers import write_config

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert old in text
    path = write_config(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    shown = str(info.value)
    assert "\n" not in shown
    key, _, what = message.partition(": ")
    assert shown.startswith(f"{key} in "), shown
    assert what in shown, shown


def test_a_bad_chat_stops_the_cli_with_one_line(env: dict[str, str], tmp_path: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import DEFAULT_CONFIG_PATH
    from tests.cli_helpers import bousai
    from tests.config_helpers import write_config

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
        'en = "@kumamoto_bousai_en"', 'en = "https://t.me/kumamoto_bousai_en"', 1)
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(tmp_path, text)))
    result = bousai("subscribers", "list", expect=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "channels.tg_channels.chats.en" in lines[0]
    assert "is not a channel chat" in lines[0]


def test_the_plan_shows_the_paid_broadcast_and_its_cost_in_stars(
        env: dict[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from bot.config import DEFAULT_CONFIG_PATH
    from tests.cli_helpers import bousai, json_lines
    from tests.config_helpers import write_config

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
        "paid_broadcast = false\n# paid_broadcast_kinds = [\"eew\", \"tsunami\", \"evacuation\"]",
        "paid_broadcast = true\npaid_broadcast_kinds = [\"evacuation\"]", 1)
    assert "paid_broadcast_kinds = [\"evacuation\"]" in text
    start = text.index("[channels.tg_channels]")
    at = text.index("enabled = false", start)
    text = text[:at] + "enabled = true" + text[at + len("enabled = false"):]
    text = text.split("# " + "-" * 72 + " feeds")[0]
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(tmp_path, text)))
    bousai("db", "upgrade")
    subs = tmp_path / "subs.jsonl"
    subs.write_text("".join(json.dumps({"channel": "telegram", "user_id": str(5000 + i),
                                        "language": "en", "wards": "43101"}) + "\n"
                            for i in range(300)), encoding="utf-8")
    bousai("subscribers", "import", str(subs))
    common = ("--ward", "43101", "--text-ja", "避難してください。", "--text-en",
              "Evacuate now.", "--yes", "--operator", "sato", "--allow-fallback")
    out = bousai("alert", "issue", "--kind", "evacuation", "--level", "4", *common)
    assert "paid broadcast: up to 30 Stars (0.1 per message sent this way; " \
           "10s without it)" in out.stderr, out.stderr
    assert "300 requests, 0.3s at 1000/s" in out.stderr
    assert "tg_channels 0 channel posts" in out.stderr  # ward-targeted: per chat only
    plan = json_lines(bousai("alert", "issue", "--kind", "evacuation", "--level", "4",
                             *common, "--json").stdout)[0]["plan"]["telegram"]
    assert plan["paid_broadcast"]["cost"] == 30.0
    out = bousai("alert", "issue", "--kind", "city_notice", *common)
    assert "paid broadcast" not in out.stderr
    assert "300 requests, 10s at 30/s" in out.stderr
    city_wide = bousai("alert", "issue", "--kind", "city_notice", *common[2:])
    assert "tg_channels 16 channel posts, 16 requests, 0.5s at 30/s" in city_wide.stderr


def test_every_channel_name_fits_the_channel_columns() -> None:
    """PostgreSQL refuses a channel name longer than the columns that store it
    (SQLite would not notice)."""
    from bot.db import schema
    from channels import registry

    for table in (schema.deliveries, schema.subscribers, schema.renderings,
                  schema.channel_states):
        length = table.c.channel.type.length
        for name in registry.names():
            assert len(name) <= length, (table.name, name, length)


def test_nobody_subscribes_to_the_broadcast_channels(env: dict[str, str]) -> None:
    from tests.cli_helpers import bousai

    bousai("db", "upgrade")
    result = bousai("subscribers", "add", "--channel", "tg_channels", "--user-id",
                    "@kumamoto_bousai_vi", "--language", "vi", expect=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "channel 'tg_channels' is not one of telegram, line, x" in lines[0]


def test_a_channel_by_its_numeric_id(db_url: str) -> None:
    with harness(db_url, tg_channels={"chats": {"en": "-1009876543210"}}) as h:
        h.telegram.add_channel(None, chat_id=-1009876543210, members=5)
        alert_id = h.submit(_alert(h), operator="test")
        assert h.run_until_idle()
        (row,) = _rows(h, alert_id, "tg_channels")
        assert row.status == "sent" and list(row.recipients) == ["-1009876543210"]
        (post,) = h.telegram.messages_to(-1009876543210)
        assert "Shelters are open." in post.text


def test_fake_channel_replies_by_reply_to_message_id() -> None:
    """The older reply_to_message_id works in channels too; a reply to a message that
    is not there is refused unless allow_sending_without_reply."""
    import httpx

    from bot.fakes.telegram import FakeTelegram

    with FakeTelegram(token="7:T") as tg:
        tg.add_channel("@kumamoto_bousai_en", members=3)
        url = f"{tg.url}/bot7:T/sendMessage"
        first = httpx.post(url, json={"chat_id": "@kumamoto_bousai_en", "text": "a"}).json()
        assert first["result"]["chat"]["type"] == "channel"
        reply = httpx.post(url, json={"chat_id": "@kumamoto_bousai_en", "text": "b",
                                      "reply_to_message_id": first["result"]["message_id"]})
        assert reply.json()["result"]["reply_to_message"]["message_id"] == \
            first["result"]["message_id"]
        missing = httpx.post(url, json={"chat_id": "@kumamoto_bousai_en", "text": "c",
                                        "reply_to_message_id": 999})
        assert missing.status_code == 400
        assert missing.json()["description"] == "Bad Request: message to be replied not found"
        lenient = httpx.post(url, json={"chat_id": "@kumamoto_bousai_en", "text": "d",
                                        "reply_parameters": {"message_id": 999,
                                                             "allow_sending_without_reply":
                                                                 True}})
        assert lenient.status_code == 200
        count = httpx.post(f"{tg.url}/bot7:T/getChatMemberCount",
                           json={"chat_id": "@kumamoto_bousai_en"}).json()
        assert count == {"ok": True, "result": 3}
        assert [m.reply_to_message_id for m in tg.messages_to("@kumamoto_bousai_en")] == \
            [None, first["result"]["message_id"], None]
