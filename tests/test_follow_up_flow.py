"""Liftings and cancellations on their way through the lifecycle: what is prepared
for every language, and which alert a feed's 解除 follows up."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from bot.domain import Alert, Evacuation, EvacuationLevel, Kind, MsgType, Severity
from bot.freshness import Freshness
from bot.ingest.jurisdiction import Jurisdiction
from bot.intake import Intake
from bot.policy import default_action, load_rules
from bot.store import alerts as alert_store
from tests.harness import Harness, harness
from tests.jma_helpers import load

ORDER_EN = "Everyone near the Shirakawa river in Chuo Ward must evacuate now."


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    with harness(db_url) as hh:
        yield hh


def _order() -> Alert:
    return Alert(source="cli", source_id="order-1", kind=Kind.EVACUATION,
                 payload=Evacuation(level=EvacuationLevel.EVACUATE), wards=("43101",),
                 severity=Severity.EXTREME, issued=dt.datetime.now(dt.UTC),
                 headline_ja="中央区に避難指示", body_ja="白川周辺の方は直ちに避難してください。",
                 texts={"en": ORDER_EN})


@pytest.mark.parametrize("msg_type", [MsgType.CANCEL, MsgType.LIFT])
def test_follow_ups_carry_none_of_the_originals_words(h: Harness, msg_type: MsgType) -> None:
    """``bousai alert cancel|lift`` without translations: the original's English text
    (its instructions) must not come back as the follow-up's text."""
    h.seed(4, channels=("telegram",))
    life = h.service.lifecycle
    original = h.submit(_order(), operator="sato")
    text_ja = "誤って送信しました。" if msg_type is MsgType.CANCEL else "避難指示を解除しました。"
    prepared = life.follow_up(original, msg_type, text_ja=text_ja)
    assert prepared.alert.texts == {}
    cats = h.service.renderer.catalogs
    for r in prepared.renderings:
        text = "\n".join(r.parts)
        assert ORDER_EN not in text
        assert "白川周辺の方は直ちに避難してください。" not in text
        assert cats.text(r.language, "evacuation.action.4") not in text
        assert text_ja in text


def test_a_correction_keeps_the_originals_translations(h: Harness) -> None:
    life = h.service.lifecycle
    original = h.submit(_order(), operator="sato")
    prepared = life.follow_up(original, MsgType.UPDATE, text_ja="避難先を変更しました。")
    assert prepared.alert.texts == {"en": ORDER_EN}  # today's behaviour, unchanged


def test_jma_lift_follows_the_warning_residents_received(h: Harness) -> None:
    """奈良県's 2011 series: a 大雨特別警報 goes out, two unchanged reissues are ignored,
    then every warning for the city is 解除. The lift refers to the report that went
    out, not to the newest (ignored) one, and that report is lifted."""
    nara = dataclasses.replace(Jurisdiction.from_config(h.config), warning_area="2920100")
    intake = Intake(service=h.service, jurisdiction=nara, rules=load_rules(h.config),
                    default=default_action(h.config), freshness=Freshness.from_config(h.config))

    def as_it_came(name: str) -> dict[str, Any]:
        """Each report judged as of five minutes after it was issued (a 2011 replay)."""
        doc = load(name)
        intake.as_of = intake.parse(doc, name)[0].issued + dt.timedelta(minutes=5)
        return intake.process(doc, name)[0]

    records = [as_it_came(name) for name in (
        "15_08_01_130412_VPWW53.xml", "15_08_02_130412_VPWW53.xml",
        "15_08_03_160628_VPWW53.xml", "15_08_05_130412_VPWW53.xml")]
    issued, reissue, _, lift = records
    assert (issued["policy"], reissue["policy"]) == ("auto", "ignore")
    assert lift["msg_type"] == "lift" and lift["policy"] == "follow"
    with h.engine.connect() as conn:
        row = alert_store.get_row(conn, lift["id"])
        assert row.ref_alert_id == issued["id"]
        assert row.status == "queued"
        assert alert_store.get_row(conn, issued["id"]).status == "lifted"
        assert alert_store.get_row(conn, reissue["id"]).status == "ignored"
    # A second 解除 of the same series (another office's copy, a resend) goes where the
    # first went and leaves the lifted report as it is, instead of failing the intake.
    again = dataclasses.replace(intake.parse(load("15_08_05_130412_VPWW53.xml"), "x")[0],
                                source_id="nara-lift-again")
    record = intake.store(again, intake.decide(again), "again")
    with h.engine.connect() as conn:
        assert alert_store.get_row(conn, record["id"]).ref_alert_id == issued["id"]
        assert alert_store.get_row(conn, issued["id"]).status == "lifted"
