"""Rows written before payloads were typed: ``alerts.params`` without a ``"payload"`` key.

Until then ``params`` was a plain dict, shaped by each parser (documented in
:mod:`bot.ingest.jma`, :mod:`bot.ingest.cap`, :mod:`bot.ingest.rss`) and by the CLI.
Such a row is read by its alert's source and kind:

* source ``cap`` -> :class:`Cap`; the old row kept only the first info's event,
  sender name and web, every info's categories and languages, and the first
  certainty, so it becomes one :class:`CapInfo` per language (the first carrying
  those fields; the texts themselves are in ``Alert.texts`` as before).
* source ``rss``, or kind ``city_notice`` -> :class:`CityNotice`.
* a kind with a payload class of its own -> that class, when the row has any of
  its keys, else :class:`FreeText` (an earthquake typed at the CLI stored ``{}``).
  JMA's flat epicentre keys (``epicenter_code``, ``lat``, ``depth_km`` ...) become
  a :class:`Hypocentre`; magnitudes and tsunami heights stored as text ("7.3")
  become numbers; ``info_kind`` becomes ``report`` where it varies and is dropped
  where it was constant; a tsunami height "１０ｍ超" sets ``height_over``.
* ``reason_ja``, which the CLI added to a correction's or cancellation's copy of
  the original params, is dropped: it repeated the follow-up's body.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from bot.errors import ValidationError

Adapter = Callable[[Mapping[str, Any]], dict[str, Any]]

_JMA_BASE = ("event_key", "jma_info_kind", "jma_title", "jma_status", "publishing_office")
_QUAKE = ("origin_time", "epicenter_code", "epicenter_name_ja", "lat", "lon", "depth_km",
          "magnitude", "magnitude_ja")


def _pick(d: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: d[k] for k in keys if k in d}


def _number(value: Any, what: str) -> float | None:
    """'7.3' -> 7.3; None, '' and 'NaN' -> None (JMA's 'unknown')."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValidationError(f"legacy {what} {value!r} is not a number") from None
    return number if math.isfinite(number) else None


def _quake(d: Mapping[str, Any]) -> dict[str, Any]:
    out = _pick(d, ("origin_time", "magnitude_ja"))
    if "magnitude" in d:
        out["magnitude"] = _number(d["magnitude"], "magnitude")
    place = {"code": d.get("epicenter_code"), "name_ja": d.get("epicenter_name_ja"),
             "lat": d.get("lat"), "lon": d.get("lon"), "depth_km": d.get("depth_km")}
    if any(v is not None for v in place.values()):
        out["hypocentre"] = place
    return out


def _report(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"report": d["info_kind"]} if d.get("info_kind") is not None else {}


def _earthquake(d: Mapping[str, Any]) -> dict[str, Any]:
    return {**_pick(d, _JMA_BASE), **_report(d), **_quake(d), **_pick(d, (
        "max_intensity", "ward_intensity", "city_intensity", "area_intensity",
        "local_max_intensity", "pref_intensity", "tsunami", "tsunami_comment_ja"))}


def _tsunami_area(a: Any) -> Any:
    if not isinstance(a, Mapping):
        return a
    out = dict(a)
    out["height_m"] = _number(a.get("height_m"), "tsunami height")
    out["height_over"] = str(a.get("height_ja") or "").endswith("超")
    return out


def _tsunami_observation(o: Any) -> Any:
    if not isinstance(o, Mapping):
        return o
    return dict(o) | {"max_height_m": _number(o.get("max_height_m"), "tsunami height")}


def _tsunami(d: Mapping[str, Any]) -> dict[str, Any]:
    out = {**_pick(d, _JMA_BASE), **_report(d), **_quake(d), **_pick(d, (
        "all_areas_count", "local_kind", "highest_kind", "comment_ja", "text_ja"))}
    if "areas" in d:
        out["areas"] = [_tsunami_area(a) for a in d["areas"] or ()]
    if "observations" in d:
        out["observations"] = [_tsunami_observation(o) for o in d["observations"] or ()]
    return out


def _fields(*keys: str) -> Adapter:
    return lambda d: _pick(d, (*_JMA_BASE, *keys))


def _shelter(d: Mapping[str, Any]) -> dict[str, Any]:
    out = _pick(d, ("action",))
    if d.get("shelter_id") is not None:
        out["shelter_ids"] = [d["shelter_id"]]
    return out


_CAP_CATEGORIES = {c.casefold(): c for c in ("Geo", "Met", "Safety", "Security", "Rescue",
                                              "Fire", "Health", "Env", "Transport", "Infra",
                                              "CBRNE", "Other")}
_CAP_CERTAINTIES = {"observed": "Observed", "likely": "Likely", "very likely": "Likely",
                    "possible": "Possible", "unlikely": "Unlikely", "unknown": "Unknown"}


def _cap(d: Mapping[str, Any]) -> dict[str, Any]:
    out = _pick(d, ("event_key", "identifier", "sender", "sent", "status", "scope", "note",
                    "references_all"))
    categories = [_CAP_CATEGORIES[c.casefold()] for c in d.get("categories") or ()
                  if isinstance(c, str) and c.casefold() in _CAP_CATEGORIES]
    certainty = _CAP_CERTAINTIES.get(str(d.get("certainty") or "").casefold())
    languages = [x for x in d.get("languages") or () if isinstance(x, str)] or ["en"]
    first = {"language": languages[0], "event": d.get("event") or "",
             "categories": categories, "certainty": certainty,
             "sender_name": d.get("sender_name"), "web": d.get("web")}
    out["infos"] = [first, *({"language": x} for x in languages[1:])]
    return out


# kind -> (payload type, adapter); a row with none of _MARKERS is FreeText
LEGACY_BY_KIND: Mapping[str, tuple[str, Adapter]] = {
    "earthquake": ("earthquake", _earthquake),
    "eew": ("earthquake", _earthquake),
    "tsunami": ("tsunami", _tsunami),
    "weather_warning": ("weather_warning", _fields(
        "area_code", "area_name_ja", "warnings", "changed", "change_status_ja")),
    "landslide": ("landslide", _fields(
        "status", "municipality_codes", "municipality_names_ja", "target_area_ja",
        "all_municipalities_count", "changed", "text_ja")),
    "heavy_rain": ("heavy_rain", _fields("area_names_ja", "amounts", "text_ja")),
    "volcano": ("volcano", _fields(
        "volcano_code", "volcano_name_ja", "level", "level_name_ja", "previous_level",
        "warning_code", "warning_name_ja", "flash", "status", "event_time",
        "municipality_codes", "text_ja")),
    "evacuation": ("evacuation", lambda d: _pick(d, ("level",))),
    "shelter": ("shelter", _shelter),
    "lifeline": ("lifeline", lambda d: _pick(d, ("utility",))),
}
_MARKERS = frozenset({*_JMA_BASE, *_QUAKE, "info_kind", "max_intensity", "areas", "warnings",
                      "status", "volcano_code", "level", "amounts", "area_names_ja",
                      "shelter_id", "action", "utility"})


def upgrade(data: Mapping[str, Any], *, kind: str, source: str) -> tuple[str, dict[str, Any]]:
    """(payload type, today's JSON form) of an old row's params."""
    if source == "cap":
        return "cap", _cap(data)
    if source == "rss" or kind == "city_notice":
        return "city_notice", _pick(data, ("event_key", "feed_name", "link", "language"))
    entry = LEGACY_BY_KIND.get(kind)
    if entry is None or not _MARKERS.intersection(data):
        return "free_text", {}
    type_name, adapt = entry
    return type_name, adapt(data)
