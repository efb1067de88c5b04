"""Seismic notices end to end: JMA XML → intake (policy) → lifecycle → dispatcher → the
real python-telegram-bot client → the fake Telegram Bot API server.

* A 南海トラフ地震臨時情報（巨大地震警戒） goes out by itself; the later 調査終了 (another
  EventID, the same series) is sent as its follow-up: a reply to it in every chat,
  and the warning is marked lifted.
* A 顕著な地震の震源要素更新のお知らせ follows up the earthquake report of the same
  EventID that went out, as a reply to it; it does not stop what of that report is
  still to be sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from bot.intake import Intake
from bot.store import alerts as alert_store
from tests.harness import Harness, harness
from tests.jma_helpers import load


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    with harness(db_url) as hh:
        yield hh


def recent(name: str, day: str) -> bytes:
    """The sample with its day ``day`` moved to yesterday (JST): a 巨大地震警戒 asks
    residents to prepare for a week, and a notice past that week is never sent."""
    yesterday = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=9) - dt.timedelta(days=1)).date()
    return load(name).replace(day.encode(), yesterday.isoformat().encode())


def ingest(intake: Intake, name: str, doc: bytes | None = None) -> dict[str, Any]:
    """One document, judged as of five minutes after it was issued (a replay)."""
    doc = doc if doc is not None else load(name)
    intake.as_of = intake.parse(doc, name)[0].issued + dt.timedelta(minutes=5)
    [record] = intake.process(doc, name)
    return record


def by_chat(h: Harness, since: int = 0) -> dict[str, Any]:
    return {m.chat_id: m for m in h.telegram.sent[since:]}


def test_megaquake_warning_and_its_end_reach_telegram(h: Harness) -> None:
    subs = h.seed(3, channels=("telegram",))["telegram"]
    languages = {s.user_id: s.language for s in subs}
    intake = Intake.for_service(h.service)

    warning = ingest(intake, "warning", recent("74_01_04_200512_VYSE50.xml", "2020-05-12"))
    assert (warning["policy"], warning["rule"], warning["status"]) == (
        "auto", "nankai-megaquake-warning", "queued")
    assert h.run_until_idle()
    first = by_chat(h)
    assert set(first) == set(languages)
    cats = h.service.renderer.catalogs
    for chat, message in first.items():
        lead = message.text.splitlines()[0]
        assert cats.text(languages[chat], "megaquake.keyword.warning") in lead
        assert cats.text(languages[chat], "megaquake.name.nankai") in lead
    english = next(m for c, m in first.items() if languages[c] == "en")
    assert english.text.startswith("Nankai Trough Earthquake Extra Information")
    assert "evacuate in advance for one week" in english.text

    ended = ingest(intake, "ended", recent("74_01_07_200512_VYSE50.xml", "2020-05-12"))
    assert (ended["msg_type"], ended["policy"], ended["action"]) == ("lift", "follow", "auto")
    with h.engine.connect() as conn:
        assert alert_store.get_row(conn, ended["id"]).ref_alert_id == warning["id"]
        assert alert_store.get_row(conn, warning["id"]).status == "lifted"
    assert h.run_until_idle()
    second = by_chat(h, len(first))
    assert set(second) == set(first)
    for chat, message in second.items():  # a reply to the warning in the same chat
        assert message.reply_to_message_id == first[chat].message_id
    english_end = next(m for c, m in second.items() if languages[c] == "en").text
    assert english_end.startswith("LIFTED: Nankai Trough Earthquake Extra Information")
    assert "Investigation Completed" in english_end
    assert "evacuate in advance" not in english_end


def test_hypocentre_update_follows_the_earthquake_alert(h: Harness) -> None:
    subs = h.seed(3, channels=("telegram",), wards=("43104",))["telegram"]
    languages = {s.user_id: s.language for s in subs}
    intake = Intake.for_service(h.service)
    # 駿河湾 2009-08-11, with 震度1 in 南区 (a Kumamoto variant): held by policy (under
    # 震度4), approved by an operator; its deliveries are still pending when JMA's
    # revised hypocentre arrives.
    quake = ingest(intake, "variants/kumamoto_32-35_07_06_240613_VXSE53.xml")
    assert (quake["policy"], quake["status"]) == ("hold", "held")
    h.service.lifecycle.approve(quake["id"], "sato")

    update = ingest(intake, "32-35_07_09_240613_VXSE61.xml")
    assert update["msg_type"] == "update" and update["references"] == (
        "jma:地震情報:20090811050711")
    assert (update["policy"], update["action"], update["status"]) == (
        "follow", "auto", "queued")
    with h.engine.connect() as conn:
        assert alert_store.get_row(conn, update["id"]).ref_alert_id == quake["id"]
    assert h.run_until_idle()
    sent = h.telegram.sent
    assert len(sent) == 6  # the earthquake report was not stopped by the update
    originals = {m.chat_id: m for m in sent if m.reply_to_message_id is None}
    replies = {m.chat_id: m for m in sent if m.reply_to_message_id is not None}
    assert set(originals) == set(replies) == set(languages)
    for chat, reply in replies.items():
        assert reply.reply_to_message_id == originals[chat].message_id
        assert reply.at >= originals[chat].at
    english = next(m for c, m in replies.items() if languages[c] == "en").text
    assert english.startswith("UPDATE: JMA revised the location and magnitude of the "
                              "earthquake at Aug 11, 2009, 5:07\u202fAM JST: Suruga Bay, "
                              "magnitude 6.5.")


def test_hypocentre_update_of_an_earthquake_never_sent_is_recorded_only(h: Harness) -> None:
    intake = Intake.for_service(h.service)
    update = ingest(intake, "32-35_07_09_240613_VXSE61.xml")
    assert update["action"] == "ignore"
    assert update["note"] == "the alert it refers to was never sent"
    assert update["status"] == "ignored"
