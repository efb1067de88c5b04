"""Residents in the chat on Telegram, through python-telegram-bot and the fake Bot API:
a shared location (Message.location) answered with its ward, the alerts in force and the
three nearest shelters (open or closed as the city's shelter alerts say); outside the
city; subscribing to wards from locations; /latest."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import DEFAULT_CONFIG_PATH
from bot.db.schema import audit_log
from bot.db.schema import subscribers as subscribers_table
from bot.domain import Alert, Evacuation, EvacuationLevel, Kind, MsgType, Shelter, ShelterAction
from bot.fakes.telegram import FakeTelegram
from bot.runtime import build_service
from bot.service import Service
from tests.cli_helpers import bousai
from tests.test_signup_telegram import TOKEN, buttons, polling, subscribers, until, write_config


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(tmp_path)))
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        yield fake


@pytest.fixture
def svc(telegram: FakeTelegram) -> Iterator[Service]:
    service = build_service()
    yield service
    service.engine.dispose()


HIGASHI = (32.78, 130.76)  # 東区, near 東町中学校
CHUO = (32.7904, 130.7416)  # 中央区, near 熊本武道館
TOKYO = (35.681, 139.767)
NOW = dt.datetime.now(dt.UTC)


def table_nearest(lat: float, lon: float) -> list[tuple[str, str, float, str, str]]:
    """The three nearest shelters computed here from the shelter table itself
    (haversine on the mean Earth radius): (id, name, km, latitude, longitude)."""
    path = DEFAULT_CONFIG_PATH.parent / "data" / "shelters.csv"
    rows = []
    with path.open(encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            if not r["portal_latitude"]:
                continue
            la, lo = math.radians(float(r["portal_latitude"])), math.radians(
                float(r["portal_longitude"]))
            a = (math.sin((la - math.radians(lat)) / 2) ** 2 + math.cos(math.radians(lat))
                 * math.cos(la) * math.sin((lo - math.radians(lon)) / 2) ** 2)
            rows.append((r["portal_shelter_id"], r["shelter_name"],
                         2 * 6371.0088 * math.asin(math.sqrt(a)), r["portal_latitude"],
                         r["portal_longitude"]))
    return sorted(rows, key=lambda r: (r[2], r[0]))[:3]


def submit(svc: Service, alert: Alert) -> int:
    return svc.lifecycle.submit(alert, operator="tester", action="auto").id


def evacuation(source_id: str, wards: tuple[str, ...], level: int, minutes_ago: int,
               text: str) -> Alert:
    return Alert(source="cli", source_id=source_id, kind=Kind.EVACUATION,
                 payload=Evacuation(level=EvacuationLevel(level)), wards=wards,
                 body_ja=text, texts={"en": f"(en) {text}"},
                 issued=NOW - dt.timedelta(minutes=minutes_ago))


def shelter_alert(shelter_id: str, action: ShelterAction, minutes_ago: int) -> Alert:
    return Alert(source="cli", source_id=f"shelter-{shelter_id}-{action}-{minutes_ago}",
                 kind=Kind.SHELTER,
                 payload=Shelter(shelter_ids=(shelter_id,), action=action), wards=("43102",),
                 issued=NOW - dt.timedelta(minutes=minutes_ago))


async def test_a_location_in_higashi_gets_its_ward_and_the_three_nearest_shelters(
        telegram: FakeTelegram, svc: Service) -> None:
    expected = table_nearest(*HIGASHI)
    assert [e[1] for e in expected] == ["東町中学校", "健軍東小学校", "健軍文化ホール"]
    async with polling(svc):
        telegram.user_location(6001, *HIGASHI)
        reply = (await until(telegram, 6001, 1))[0]
    lines = reply.text.splitlines()
    assert lines[0] == "This location is in Higashi Ward, Kumamoto City."
    assert "No alerts are in force here now." in lines
    shown = [ln for ln in lines if ln[:2] in ("1.", "2.", "3.")]
    assert shown == [f"{i}. {name} — {km:.1f} km — opening not announced"
                     for i, (_, name, km, _, _) in enumerate(expected, 1)]
    assert "Address: 熊本県熊本市東区東町4丁目15-1" in lines
    maps = [ln for ln in lines if ln.startswith("Map: ")]
    assert maps == [f"Map: https://www.openstreetmap.org/?mlat={float(la)}&mlon={float(lo)}"
                    for _, _, _, la, lo in expected]
    assert lines[-1] == "Your location is not saved."
    assert buttons(reply) == {"addward:43102:en": "Alerts for Higashi Ward"}
    assert subscribers() == {}  # nothing stored for a location


async def test_shelter_state_follows_the_city_shelter_alerts(telegram: FakeTelegram,
                                                             svc: Service) -> None:
    first_id = table_nearest(*HIGASHI)[0][0]
    opened = submit(svc, shelter_alert(first_id, ShelterAction.OPENED, 10))
    async with polling(svc):
        telegram.user_location(6002, *HIGASHI)
        text = (await until(telegram, 6002, 1))[0].text
        assert "1. 東町中学校 — 0.5 km — open" in text
        assert "2. 健軍東小学校 — 0.6 km — opening not announced" in text
        # The opening is lifted (the shelter closed).
        lift = svc.lifecycle.follow_up(opened, MsgType.LIFT, text_ja="閉鎖しました。")
        svc.lifecycle.submit(lift, operator="tester", action="auto")
        telegram.user_location(6002, *HIGASHI)
        text = (await until(telegram, 6002, 2))[1].text
        assert "1. 東町中学校 — 0.5 km — closed" in text
        # A newer opening opens it again; a cancelled one says nothing.
        submit(svc, shelter_alert(first_id, ShelterAction.OPENED, 1))
        wrong = submit(svc, Alert(source="cli", source_id="wrong", kind=Kind.SHELTER,
                                  payload=Shelter(shelter_ids=(first_id,),
                                                  action=ShelterAction.CLOSED),
                                  wards=("43102",), issued=NOW))
        cancel = svc.lifecycle.follow_up(wrong, MsgType.CANCEL, text_ja="誤りでした。")
        svc.lifecycle.submit(cancel, operator="tester", action="auto")
        telegram.user_location(6002, *HIGASHI)
        text = (await until(telegram, 6002, 3))[2].text
    assert "1. 東町中学校 — 0.5 km — open" in text


async def test_outside_the_city_and_a_forged_location(telegram: FakeTelegram,
                                                      svc: Service) -> None:
    async with polling(svc):
        telegram.user_location(6003, *TOKYO)
        telegram.user_location(6004, 95.0, 130.0, language_code="vi")  # not a place on Earth
        outside = (await until(telegram, 6003, 1))[0]
        forged = (await until(telegram, 6004, 1))[0]
    assert outside.text.startswith("This location is outside Kumamoto City.")
    assert outside.reply_markup is None
    assert forged.text.startswith("Vị trí này nằm ngoài Thành phố Kumamoto.")


async def test_subscribe_from_locations_keeps_several_wards_and_no_position(
        telegram: FakeTelegram, svc: Service) -> None:
    async with polling(svc):
        telegram.user_location(6005, *HIGASHI)
        await until(telegram, 6005, 1)
        telegram.user_taps(6005, "addward:43102:en")
        done = (await until(telegram, 6005, 2))[1]
        assert "You are subscribed" in done.text and "Higashi Ward" in done.text
        assert subscribers()["6005"]["wards"] == ["43102"]
        telegram.user_location(6005, *CHUO)  # work, in 中央区
        reply = (await until(telegram, 6005, 3))[2]
        assert reply.text.startswith("This location is in Chuo Ward")
        telegram.user_taps(6005, "addward:43101:en")
        saved = (await until(telegram, 6005, 4))[3]
    assert "Area: Chuo Ward, Higashi Ward" in saved.text
    assert subscribers()["6005"]["wards"] == ["43101", "43102"]
    with svc.engine.connect() as conn:
        stored = repr([*conn.execute(sa.select(subscribers_table)),
                       *conn.execute(sa.select(audit_log))])
    assert "32.78" not in stored and "130.76" not in stored and "130.74" not in stored
    actions = [r.details for r in _audit(svc) if r.action == "chat_location"]
    assert actions == [{"channel": "telegram"}] * 2


def _audit(svc: Service) -> list[Any]:
    with svc.engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.id)))


async def test_latest_lists_alerts_in_force_newest_first_without_the_cancelled(
        telegram: FakeTelegram, svc: Service) -> None:
    evac = submit(svc, evacuation("ev-higashi", ("43102",), 4, 30, "東区に避難指示。"))
    fix = svc.lifecycle.follow_up(evac, MsgType.UPDATE, text_ja="東区全域に避難指示。",
                                  texts={"en": "(en) Evacuation order for all of Higashi."})
    svc.lifecycle.submit(fix, operator="tester", action="auto")
    submit(svc, shelter_alert(table_nearest(*HIGASHI)[0][0], ShelterAction.OPENED, 20))
    submit(svc, evacuation("ev-minami", ("43104",), 3, 10, "南区に高齢者等避難。"))
    wrong = submit(svc, evacuation("ev-city", (), 5, 5, "市全域に緊急安全確保。"))
    cancel = svc.lifecycle.follow_up(wrong, MsgType.CANCEL, text_ja="誤って送信しました。")
    svc.lifecycle.submit(cancel, operator="tester", action="auto")
    async with polling(svc):
        telegram.user_message(6006, "/start en-43102")
        await until(telegram, 6006, 1)
        telegram.user_message(6006, "/latest")
        got = (await until(telegram, 6006, 4))[1:]
        telegram.user_message(6007, "/latest")  # not subscribed: the whole city
        city = await until(telegram, 6007, 4)
    assert got[0].text == "Alerts in force for Higashi Ward: 2 (newest first)"
    assert got[1].text.startswith("[Shelter opened]\nShelter: 東町中学校")
    assert got[2].text.startswith("[CORRECTION]")
    assert "(en) Evacuation order for all of Higashi." in got[2].text
    assert all("緊急安全確保" not in m.text and "Emergency" not in m.text for m in got)
    assert city[0].text.startswith("Alerts in force for Kumamoto City: 3 (newest first)")
    assert "Send /start to get alerts for your ward." in city[0].text
    assert "(en) 南区に高齢者等避難。" in city[1].text  # newest first: 南区 10 minutes ago
    details = [r.details for r in _audit(svc) if r.action == "chat_command"]
    assert {"channel": "telegram", "command": "latest"} in details
    assert all("/" not in str(d) for d in details)  # the command's name, never the text


async def test_area_toggles_several_wards(telegram: FakeTelegram, svc: Service) -> None:
    async with polling(svc):
        telegram.user_message(6008, "/start en-43101")  # home
        await until(telegram, 6008, 1)
        telegram.user_message(6008, "/area")
        picker = (await until(telegram, 6008, 2))[1]
        assert buttons(picker)["wardt:43101"] == "✓ Chuo Ward"
        assert buttons(picker)["wardt:43104"] == "Minami Ward"
        telegram.user_taps(6008, "wardt:43104", message_id=picker.message_id)  # work
        telegram.user_taps(6008, "wardt:43105", message_id=picker.message_id)  # school
        telegram.user_taps(6008, "wardt:43101", message_id=picker.message_id)  # moved
        telegram.user_taps(6008, "wardt:43104", message_id=picker.message_id)
        telegram.user_taps(6008, "wardt:43105", message_id=picker.message_id)  # the last one
        for _ in range(200):
            if len(telegram.edits) >= 5:
                break
            await asyncio.sleep(0.02)
        assert "✓ Kita Ward" in str(telegram.edits[-1]["reply_markup"])
        telegram.user_taps(6008, "wardt:done", message_id=picker.message_id)
        saved = (await until(telegram, 6008, 3))[2]
    assert subscribers()["6008"]["wards"] == ["43105"]  # the last ward stays on
    assert "Area: Kita Ward" in saved.text


async def test_a_flood_from_one_chat_gets_a_few_answers_and_nothing_breaks(
        telegram: FakeTelegram, svc: Service) -> None:
    for _ in range(1000):
        telegram.user_message(6666, "/help")
    telegram.user_message(6009, "/help")
    async with polling(svc) as signup:
        await until(telegram, 6009, 1)
        await asyncio.sleep(0.3)
        flood = len(telegram.messages_to(6666))
        dropped = signup.residents.limiter.dropped
    assert 10 <= flood <= 15  # the burst, then one a second
    assert dropped == 1000 - flood
    assert "/latest" in telegram.messages_to(6009)[0].text
    commands = [r for r in _audit(svc) if r.action == "chat_command"]
    assert len(commands) == flood + 1  # dropped messages cost no database write
