"""Liftings and cancellations on their way through the lifecycle: what is prepared
for every language, and which alert a feed's 解除 follows up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.domain import Alert, Evacuation, EvacuationLevel, Kind, MsgType, Severity
from tests.harness import Harness, harness

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
    prepared = life.follow_up(original, msg_type, text_ja=text_ja,
                              reason=text_ja if msg_type is MsgType.CANCEL else None)
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
