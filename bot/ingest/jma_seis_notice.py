"""JMA seismic notices: VYSE50/51/52 南海トラフ地震臨時情報・関連解説情報, VYSE60
北海道・三陸沖後発地震注意情報, VXSE62 長周期地震動に関する観測情報, VXSE61 顕著な地震の
震源要素更新のお知らせ and VXSE56 地震の活動状況等に関する情報.

Conventions are documented in :mod:`bot.ingest.jma`; what is particular here:

* Megaquake notices form one series per information name, whatever their EventID
  (JMA gives each 臨時情報 its own): ``event_key`` = ``jma:南海トラフ地震臨時情報``,
  ``jma:南海トラフ地震関連解説情報`` or ``jma:北海道・三陸沖後発地震注意情報``. A
  later notice replaces the earlier one (調査中 -> 巨大地震警戒); 調査終了, and a
  関連解説情報 saying that the call to prepare has ended (呼びかけ … 終了), are a
  *lift* of the series' latest 臨時情報; a 取消 refers to the series.
* 顕著な地震の震源要素更新のお知らせ is an *update* of the earthquake report with the
  same EventID: ``references`` = ``jma:地震情報:{EventID}`` (the 震源・震度に関する
  情報, which JMA always issues for a 顕著な地震). Its 取消 refers to the update's own
  event key: there is no alert of that key to withdraw, so it is recorded only.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from bot.domain import (
    Alert,
    HypocentreUpdate,
    Intensity,
    Kind,
    LongPeriodMotion,
    MegaquakeLevel,
    MegaquakeNotice,
    MegaquakeRegion,
    MsgType,
    SeismicActivity,
    Severity,
    Urgency,
)
from bot.errors import IngestError
from bot.ingest.jma_common import SOURCE, Head, head_fields, make_alert, squash
from bot.ingest.jma_seis import earthquake_fields
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, text

_LEVELS = {
    "調査中": MegaquakeLevel.INVESTIGATING,
    "巨大地震警戒": MegaquakeLevel.WARNING,
    "巨大地震注意": MegaquakeLevel.ADVISORY,
    "調査終了": MegaquakeLevel.ENDED,
    "臨時解説": MegaquakeLevel.COMMENTARY,
    "定例解説": MegaquakeLevel.COMMENTARY,
}
_SEVERITY = {MegaquakeLevel.WARNING: Severity.SEVERE, MegaquakeLevel.ADVISORY: Severity.MODERATE,
             MegaquakeLevel.SUBSEQUENT: Severity.MODERATE}
NANKAI_EXTRA = "南海トラフ地震臨時情報"
NANKAI_COMMENTARY = "南海トラフ地震関連解説情報"
HOKKAIDO = "北海道・三陸沖後発地震注意情報"
# How long residents are asked to prepare after a 巨大地震警戒 / 巨大地震注意 / 後発地震注意
# (the national plans: one week; a 警戒 is followed by a week of 注意).
PREPARE_FOR = timedelta(days=7)
_CALL_ENDED = re.compile(r"呼びかけ[^。]{0,40}(?:終了|終え)")
_KEYWORD = re.compile(r"（([^）]+)）\s*$")


def series_key(info_name: str) -> str:
    """The event key every notice of one information name shares."""
    return f"jma:{info_name}"


def _info_name(h: Head) -> str:
    """南海トラフ地震臨時情報 / 関連解説情報 / 北海道・三陸沖後発地震注意情報, from the body
    (EarthquakeInfo/InfoKind), else the head title without its keyword or number."""
    name = text(h.body, "EarthquakeInfo", "InfoKind")
    if not name:
        name = _KEYWORD.sub("", h.title.strip()) or h.control_title.strip()
    return name


def parse_megaquake(h: Head, jur: Jurisdiction) -> list[Alert]:
    info = child(h.body, "EarthquakeInfo")
    name = _info_name(h)
    hokkaido = name.startswith("北海道・三陸沖")
    region = MegaquakeRegion.HOKKAIDO_SANRIKU if hokkaido else MegaquakeRegion.NANKAI
    keyword = text(info, "InfoSerial", "Name")
    code = text(info, "InfoSerial", "Code")
    if not keyword:  # a cancellation has no EarthquakeInfo: the keyword is in the title
        m = _KEYWORD.search(h.title)
        keyword = m.group(1) if m else ""
    if hokkaido:
        level = MegaquakeLevel.SUBSEQUENT
    elif keyword in _LEVELS:
        level = _LEVELS[keyword]
    elif h.msg_type is MsgType.CANCEL or name == NANKAI_COMMENTARY:
        level = MegaquakeLevel.COMMENTARY if name == NANKAI_COMMENTARY else \
            MegaquakeLevel.INVESTIGATING
    else:
        raise IngestError(f"{name}: unknown keyword {keyword!r} (code {code!r}); known: "
                          f"{', '.join(_LEVELS)}", source=SOURCE)
    body_text = squash(text(info, "Text")) or squash(text(h.body, "Text"))
    if level is MegaquakeLevel.COMMENTARY and (
            _CALL_ENDED.search(h.headline) or _CALL_ENDED.search(body_text)):
        level = MegaquakeLevel.CALL_ENDED
    in_area = jur.japan_kuril_trench_area if hokkaido else jur.nankai_trough_area
    own_series = series_key(name)
    refers_to = series_key(NANKAI_EXTRA) if level is MegaquakeLevel.CALL_ENDED else own_series
    payload = MegaquakeNotice(
        **{**head_fields(h), "event_key": own_series}, region=region, level=level, code=code,
        keyword_ja=keyword, info_name_ja=name, city_in_area=in_area, text_ja=body_text,
        next_advisory_ja=squash(text(h.body, "NextAdvisory")))
    ends = level in (MegaquakeLevel.ENDED, MegaquakeLevel.CALL_ENDED)
    prepare = level in (MegaquakeLevel.WARNING, MegaquakeLevel.ADVISORY,
                        MegaquakeLevel.SUBSEQUENT)
    in_jur = in_area or h.msg_type is MsgType.CANCEL
    alert = make_alert(
        h, kind=Kind.EARTHQUAKE, payload=payload, body_ja=h.headline or body_text,
        severity=_SEVERITY.get(level, Severity.MINOR),
        urgency=Urgency.FUTURE if prepare else Urgency.PAST,
        wards=jur.ward_codes if in_jur else (), areas=(), in_jurisdiction=in_jur,
        expires=h.report_time + PREPARE_FOR if prepare else None, all_lifted=ends)
    if alert.msg_type is not MsgType.ALERT:
        alert = dataclasses.replace(alert, references=refers_to)
    return [alert]


def _class(value: str, where: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if value not in ("0", "1", "2", "3", "4"):
        raise IngestError(f"{where}: long-period ground motion class {value!r} is not 0-4",
                          source=SOURCE)
    return int(value)


def parse_long_period(h: Head, jur: Jurisdiction) -> list[Alert]:
    body = h.body
    observation = child(body, "Intensity", "Observation")
    area_class: dict[str, int] = {}
    names: dict[str, str] = {}
    local_ints: list[Intensity] = []
    for pref in children(observation, "Pref"):
        for area in children(pref, "Area"):
            code = text(area, "Code")
            value = _class(text(area, "MaxLgInt"), f"area {code}")
            if code in jur.seismic_areas and value is not None:
                area_class[code] = value
                names[code] = text(area, "Name")
                if text(area, "MaxInt"):
                    local_ints.append(Intensity.parse(text(area, "MaxInt")))
    local = max(area_class.values()) if area_class else None
    max_int = text(observation, "MaxInt")
    payload = LongPeriodMotion(
        **head_fields(h), **earthquake_fields(body),
        max_intensity=Intensity.parse(max_int) if max_int else None,
        max_class=_class(text(observation, "MaxLgInt"), "MaxLgInt"),
        area_class=area_class, area_names_ja=names, local_class=local,
        local_intensity=Intensity.highest(local_ints),
        free_comment_ja=squash(text(body, "Comments", "FreeFormComment")))
    in_jur = local is not None or h.msg_type is MsgType.CANCEL
    severity = {4: Severity.EXTREME, 3: Severity.SEVERE, 2: Severity.MODERATE}.get(
        local or 0, Severity.MINOR)
    summary = h.headline
    return [make_alert(h, kind=Kind.EARTHQUAKE, payload=payload, body_ja=summary,
                       severity=severity, urgency=Urgency.PAST,
                       wards=jur.ward_codes if in_jur else (), areas=tuple(area_class),
                       in_jurisdiction=in_jur)]


def quake_key(event_id: str) -> str:
    """The event key of the 震源・震度に関する情報 (VXSE53) of an earthquake."""
    return f"jma:地震情報:{event_id}"


def parse_hypocentre_update(h: Head, jur: Jurisdiction) -> list[Alert]:
    body = h.body
    fields = earthquake_fields(body)
    payload = HypocentreUpdate(
        **head_fields(h), **fields, updated_at=h.target_time,
        free_comment_ja=squash(text(body, "Comments", "FreeFormComment")))
    if h.msg_type is MsgType.ALERT and payload.hypocentre is None:
        raise IngestError("顕著な地震の震源要素更新のお知らせ without Body/Earthquake/Hypocenter",
                          source=SOURCE)
    alert = make_alert(h, kind=Kind.EARTHQUAKE, payload=payload, body_ja=h.headline,
                       severity=Severity.MINOR, urgency=Urgency.PAST, wards=jur.ward_codes,
                       areas=(), in_jurisdiction=True)
    if alert.msg_type is MsgType.ALERT:  # an update of the earthquake's own report
        alert = dataclasses.replace(alert, msg_type=MsgType.UPDATE,
                                    references=quake_key(h.event_id))
    return [alert]


_NANKAI_COPY = re.compile(r"^(?:南海トラフ地震臨時情報|南海トラフ地震関連解説情報)")


def parse_activity(h: Head, jur: Jurisdiction) -> list[Alert]:
    body_text = squash(text(h.body, "Text"))
    subject = body_text.splitlines()[0] if body_text else ""
    copy = bool(_NANKAI_COPY.match(subject)) or "南海トラフ地震に関連する情報" in h.headline
    mentions = any(word and word in body_text for word in jur.place_words)
    payload = SeismicActivity(**head_fields(h), subject_ja=subject, text_ja=body_text,
                              nankai_copy=copy, mentions_city=mentions)
    in_jur = (mentions and not copy) or h.msg_type is MsgType.CANCEL
    return [make_alert(h, kind=Kind.EARTHQUAKE, payload=payload, body_ja=body_text,
                       severity=Severity.MINOR, urgency=Urgency.UNKNOWN,
                       wards=jur.ward_codes if in_jur else (), areas=(),
                       in_jurisdiction=in_jur)]
