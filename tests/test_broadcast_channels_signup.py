"""Links to the Telegram broadcast channels: in the Telegram sign-up replies (after
subscribing, in /help), in the subscriber's language, and on each language's poster."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import TEMPLATES_DIR, ChannelSettings, load_config
from bot.fakes.telegram import FakeTelegram
from bot.posters.make import PosterMaker
from bot.render.catalog import Catalogs
from bot.runtime import build_service
from bot.service import Service
from tests.cli_helpers import bousai
from tests.test_posters import FONT_DIR, _tools_present, pdf_text, qr_links
from tests.test_signup_telegram import polling, serving, until, write_config

CHANNELS = """
[channels.tg_channels]
enabled = true
[channels.tg_channels.chats]
ja = "@kumamoto_bousai_ja"
en = "@kumamoto_bousai_en"
vi = "@kumamoto_bousai_vi"
"""


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> Iterator[FakeTelegram]:
    with serving(monkeypatch, write_config(tmp_path, line=CHANNELS)) as fake:
        yield fake


@pytest.fixture
def svc(telegram: FakeTelegram) -> Iterator[Service]:
    service = build_service()
    yield service
    service.engine.dispose()


async def test_subscribed_and_help_replies_link_the_languages_channel(
        telegram: FakeTelegram, svc: Service) -> None:
    cats = svc.renderer.catalogs
    async with polling(svc):
        for chat, lang in ((6001, "vi"), (6002, "en"), (6003, "ja"), (6004, "ja-easy")):
            telegram.user_message(chat, f"/start {lang}-43101")
        done = {lang: (await until(telegram, chat, 1))[0].text
                for chat, lang in ((6001, "vi"), (6002, "en"), (6003, "ja"),
                                   (6004, "ja-easy"))}
        telegram.user_message(6002, "/help")
        help_en = (await until(telegram, 6002, 2))[1].text
    for lang in ("vi", "en", "ja"):
        expected = cats.text(lang, "signup.channel",
                             link=f"https://t.me/kumamoto_bousai_{lang}")
        assert expected in done[lang], (lang, done[lang])
    assert "Tham gia tại đây: https://t.me/kumamoto_bousai_vi" in done["vi"]
    assert "https://t.me/kumamoto_bousai_ja" in done["ja"] and "Telegramチャンネル" in done["ja"]
    assert "t.me/kumamoto_bousai" not in done["ja-easy"]  # no channel in that language
    assert "Join it here: https://t.me/kumamoto_bousai_en" in help_en
    assert "/stop" in help_en


def test_each_languages_poster_carries_its_channel(tmp_path: Path) -> None:
    _tools_present()
    config = load_config()
    channels = {**config.channels,
                "telegram": ChannelSettings(name="telegram", enabled=True,
                                            options={"username": "bousai_test_bot"}),
                "tg_channels": ChannelSettings(
                    name="tg_channels", enabled=True,
                    options={"chats": {"vi": "@kumamoto_bousai_vi",
                                       "en": "-1001234567890"}})}
    city = dataclasses.replace(config, channels=channels)
    catalogs = Catalogs.load(TEMPLATES_DIR, city.languages, city.fallback_languages)
    made = {p.language: p for p in PosterMaker(city, catalogs, FONT_DIR).make(
        ["vi", "en", "ja"], None, tmp_path / "out", multilingual=False, previews=False)}
    vi = made["vi"]
    assert "https://t.me/kumamoto_bousai_vi" in vi.links
    assert "@kumamoto_bousai_vi" in pdf_text(vi.pdf)
    assert qr_links(vi.pdf, tmp_path) == {"https://t.me/bousai_test_bot?start=vi",
                                          "https://t.me/kumamoto_bousai_vi"}
    # a channel known only by its id has no public link; a language without one, none
    assert made["en"].links == ("https://t.me/bousai_test_bot?start=en",)
    assert made["ja"].links == ("https://t.me/bousai_test_bot?start=ja",)


def test_channels_members_counts_each_language(telegram: FakeTelegram) -> None:
    from tests.cli_helpers import json_lines

    telegram.add_channel("@kumamoto_bousai_ja", members=1200)
    telegram.add_channel("@kumamoto_bousai_en", members=30)
    rows = {r["language"]: r for r in json_lines(
        bousai("channels", "members", "--json").stdout)}
    assert rows["ja"]["members"] == 1200
    assert rows["ja"]["link"] == "https://t.me/kumamoto_bousai_ja"
    assert rows["en"]["members"] == 30
    assert rows["vi"]["members"] is None  # no such channel: the reason, the rest go on
    assert "no member count for @kumamoto_bousai_vi" in rows["vi"]["error"]
    assert "chat not found" in rows["vi"]["error"].lower()
    text = bousai("channels", "members").stdout
    assert "total        1230  members in 3 channels" in text


def test_channels_members_when_not_enabled(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    result = bousai("channels", "members", expect=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "the Telegram broadcast channels are not enabled" in lines[0]
