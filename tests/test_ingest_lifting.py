"""解除 is a lift, 取消 is a cancel: how sources' follow-ups are typed at ingest."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import load_config
from bot.domain import MsgType
from bot.ingest.cap import parse_cap
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.lifting import cap_msg_type, says_ended
from bot.render import load_renderer
from tests.jma_helpers import one


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


@pytest.mark.parametrize(("texts", "ended"), [
    (["避難指示を解除しました。"], True),
    (["大雨警報は解除されました"], True),
    (["The evacuation order has been lifted."], True),
    (["Tsunami warning ended for the coast"], True),
    (["This alert has expired."], True),
    (["ALL CLEAR for Kita Ward"], True),
    (["The warning is no longer in effect."], True),
    # an instruction about the future is not an end
    (["警報が解除されるまで海に近づかないでください。"], False),
    (["Stay away from the river until the warning is lifted."], False),
    # a mistake is a cancel, whatever else the text says
    (["避難指示は誤って発信されました。解除します。"], False),
    (["This message was sent in error; the order is lifted."], False),
    # words that merely contain "ended"
    (["Residents are recommended to stay indoors.", "Intended for Kita Ward"], False),
    ([None, ""], False),
])
def test_says_ended(texts: list[str | None], ended: bool) -> None:
    assert says_ended(texts) is ended


def test_only_a_cap_cancel_becomes_a_lift() -> None:
    assert cap_msg_type(MsgType.CANCEL, ["All clear."]) is MsgType.LIFT
    assert cap_msg_type(MsgType.CANCEL, ["Sent by mistake."]) is MsgType.CANCEL
    assert cap_msg_type(MsgType.UPDATE, ["All clear."]) is MsgType.UPDATE
    assert cap_msg_type(MsgType.ALERT, ["解除"]) is MsgType.ALERT


# ------------------------------------------------------------------ JMA

def test_every_weather_warning_lifted_is_a_lift(kumamoto: Jurisdiction) -> None:
    nara = replace(kumamoto, warning_area="2920100")
    a = one("15_08_05_130412_VPWW53.xml", nara)
    assert a.msg_type is MsgType.LIFT
    assert a.references == "jma:気象警報・注意報:奈良県気象警報・注意報" == a.payload.event_key
    # some lifted, one downgraded and still in force: an alert as before
    assert one("15_08_04_160628_VPWW53.xml", nara).msg_type is MsgType.ALERT


def test_landslide_volcano_and_tsunami_lifts(kumamoto: Jurisdiction) -> None:
    fukuoka = replace(kumamoto, municipality_codes=frozenset({"4013000"}))
    assert one("17_01_01_190529_VXWW50.xml", fukuoka).msg_type is MsgType.LIFT
    kitakyushu = replace(kumamoto, municipality_codes=frozenset({"4010000"}))
    assert one("17_01_01_190529_VXWW50.xml", kitakyushu).msg_type is MsgType.ALERT
    assert one("45_03_01_200731_VFVO50.xml", kumamoto).msg_type is MsgType.LIFT
    lifted = one("32-39_12_13_250206_VTSE41.xml", kumamoto)  # 警報解除 on both coasts
    assert lifted.msg_type is MsgType.LIFT
    assert lifted.references == "jma:津波警報・注意報・予報:20160901071000"
    # 津波注意報を解除 elsewhere; the city's coasts only ever had a forecast
    assert one("32-39_11_13_250206_VTSE41.xml", kumamoto).msg_type is MsgType.ALERT


@pytest.mark.parametrize("name", ["38-39_03_01_210805_VTSE41.xml",
                                  "32-35_10_01_220510_VXSE51.xml",
                                  "67_01_04_140927_VFVO56.xml"])
def test_torikeshi_stays_a_cancel(name: str, kumamoto: Jurisdiction) -> None:
    assert one(name, kumamoto).msg_type is MsgType.CANCEL


# ------------------------------------------------------------------ CAP

REFS = "<references>bousai@city.kumamoto.example,KMM-1,2016-04-16T01:30:00+09:00</references>"


def _cancel(headline: str, description: str, note: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KMM-2</identifier><sender>bousai@city.kumamoto.example</sender>
  <sent>2016-04-16T09:00:00+09:00</sent><status>Actual</status>
  <msgType>Cancel</msgType><scope>Public</scope>{note and f"<note>{note}</note>"}{REFS}
  <info><language>ja-JP</language><category>Safety</category><event>避難指示</event>
    <urgency>Past</urgency><severity>Minor</severity><certainty>Observed</certainty>
    <headline>{headline}</headline><description>{description}</description>
    <instruction>避難指示が解除されるまで、避難先にとどまってください。</instruction>
    <area><areaDesc>熊本市北区</areaDesc>
      <geocode><valueName>JIS</valueName><value>43105</value></geocode></area></info>
</alert>""".encode()


def test_cap_cancel_saying_the_hazard_ended_is_a_lift(kumamoto: Jurisdiction) -> None:
    [a] = parse_cap(_cancel("避難指示の解除（北区）", "北区の避難指示を解除しました。"), kumamoto)
    assert a.msg_type is MsgType.LIFT
    assert a.references == "cap:bousai@city.kumamoto.example:KMM-1"
    text, _ = load_renderer(load_config()).text(a, "ja")
    assert text.split("\n")[0] == "【解除】避難指示（北区）"  # the sender's own word
    assert "北区の避難指示を解除しました。" in text


def test_cap_cancel_of_a_mistake_shows_only_its_note(kumamoto: Jurisdiction) -> None:
    """The instruction ("stay until lifted") is not read as an end, and a cancel shows
    the sender's <note>, never the <info> it may repeat from the cancelled alert."""
    data = _cancel("避難指示（北区）", "北区の一部に避難指示を発令しました。",
                   note="Sent in error during a drill.")
    [a] = parse_cap(data, kumamoto)
    assert a.msg_type is MsgType.CANCEL
    renderer = load_renderer(load_config())
    for language in ("ja", "en", "ko"):
        text, _ = renderer.text(a, language)
        assert "北区の一部に避難指示を発令しました。" not in text
        assert "避難先にとどまってください" not in text
        assert renderer.catalogs.text(language, "cancel.reason",
                                      reason="Sent in error during a drill.") in text
