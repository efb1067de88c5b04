"""Tsunami warnings, advisories and forecasts (VTSE41), tsunami information (VTSE51) and
offshore observations (VTSE52).

The wording of each coast follows the class in force for it in the report (大津波警報 >
津波警報 > 津波注意報 > 津波予報), never the report's type: a 津波情報 sent while a
大津波警報 is in force says Major Tsunami Warning. The city's coasts are the forecast
areas of ``[jurisdiction] tsunami_areas`` in the configuration.

* The first line (all a phone notification shows) names the highest class on the
  city's coasts, those coasts, and what to do now; when no coast of the city is in
  the report, it says so and what is in force elsewhere.
* Advice is given only for a class that covers one of the city's coasts. JMA's fixed
  comments that speak to people on coasts under some class (＜大津波警報＞ …, ただちに
  避難してください …) are carried only when a city coast is under that class; JMA's
  explanation of the class replaces our own advice line when the report has it.
* A higher class elsewhere in Japan is named with JMA's area names, so that a reader
  is not told "forecast" alone while a major warning is in force on other coasts.
* Offshore observations go out only as a follow-up of a warning the city's coasts
  were under (:mod:`bot.ingest.jma_tsunami_offshore`): the first line gives the
  highest wave observed offshore and repeats what to do; JMA's estimate for the city's
  coasts, when the report has one, follows; stations keep JMA's (Japanese) names.
"""

from __future__ import annotations

from bot.domain import CoastEstimate, Kind, OffshoreTsunami, Tsunami, TsunamiArea, TsunamiKind
from bot.render import terms
from bot.render.compose import Context, composer, payload_composer
from bot.render.kinds._common import city_coasts, comment_lines, original_ja, when

_MW, _W, _A, _F, _L, _N = (TsunamiKind.MAJOR_WARNING, TsunamiKind.WARNING, TsunamiKind.ADVISORY,
                           TsunamiKind.FORECAST, TsunamiKind.LIFTED, TsunamiKind.NONE)
# Strongest first, for the first line and the order of areas: a forecast (sea-level
# changes go on) is shown above a lift.
KINDS = (_MW, _W, _A, _F, _L, _N)
MAX_AREAS = 5
_CONDITIONS = {
    "ただちに津波来襲と予測": "tsunami.arrival.immediate",
    "津波到達中と推測": "tsunami.arrival.arrived",
    "第１波の到達を確認": "tsunami.arrival.confirmed",
    "第1波の到達を確認": "tsunami.arrival.confirmed",
}
_ADVICE = {_MW: "tsunami.advice.warning", _W: "tsunami.advice.warning",
           _A: "tsunami.advice.advisory", _F: "tsunami.advice.forecast",
           _L: "tsunami.advice.lifted"}
# JMA's own explanation of each class (WarningComment); it replaces our advice line.
_CLASS_COMMENT = {_MW: "0121", _W: "0122", _A: "0123", _F: "0124"}
_HIGH = frozenset({_MW, _W, _A})
# JMA adds these fixed comments when any coast of Japan is under one of these classes;
# they are carried only when one of the city's coasts is. Other codes (0107 no coast
# is under a warning or advisory, 0150 Nankai Trough information) are always carried.
_FOR_KINDS: dict[str, frozenset[TsunamiKind]] = {
    **dict.fromkeys(("0121", "0141", "0144", "0145"), frozenset({_MW})),
    **dict.fromkeys(("0122", "0146", "0147"), frozenset({_W})),
    **dict.fromkeys(("0131", "0149", "0142", "0143", "0109"), frozenset({_MW, _W})),
    **dict.fromkeys(("0123", "0110"), frozenset({_A})),
    "0124": frozenset({_F}),
    **dict.fromkeys(("0111", "0112", "0113", "0114", "0115", "0132", "0148"), _HIGH),
    **dict.fromkeys(("0101", "0102", "0103", "0104", "0105"), frozenset({_F, _L})),
}


def _height(ctx: Context, area: TsunamiArea | CoastEstimate) -> str | None:
    if area.height_m is not None:
        key = "tsunami.height_over" if area.height_over else "tsunami.height"
        return ctx.t(key, height=f"{area.height_m:g}")
    words = area.height_ja or ""
    if "巨大" in words:
        return ctx.t("tsunami.height.huge")
    if "高い" in words:
        return ctx.t("tsunami.height.high")
    return None


def _area_name(ctx: Context, area: TsunamiArea) -> str | None:
    return terms.tsunami_area_name(area.code, ctx.language, area.name_ja or None)


def _area_lines(ctx: Context, area: TsunamiArea) -> list[str]:
    name = _area_name(ctx, area)
    if not name:
        return []
    lines = [ctx.t("tsunami.area", area=name, kind=ctx.t(f"tsunami.kind.{area.kind.value}"))]
    condition = _CONDITIONS.get(area.arrival_condition_ja or "")
    if condition:
        lines.append(ctx.t(condition))
    else:
        t = when(ctx, area.first_arrival)
        if t:
            lines.append(ctx.t("tsunami.arrival", time=t))
    height = _height(ctx, area)
    if height:
        lines.append(height)
    return lines


def _names(ctx: Context, names: list[str]) -> str:
    return ctx.t("list.separator").join(names)


def _elsewhere(p: Tsunami, others: list[TsunamiArea]) -> tuple[TsunamiKind | None, list[str]]:
    """The highest class outside the city's coasts and JMA's names of its areas."""
    kinds = [k for k in (p.elsewhere_kind, *(a.kind for a in others)) if k is not None]
    top = max(kinds, key=lambda k: k.rank) if kinds else None
    names = list(p.elsewhere_areas_ja) if p.elsewhere_kind is top else []
    names += [a.name_ja or a.code for a in others if a.kind is top and a.name_ja not in names]
    return top, names


@composer(Kind.TSUNAMI, payload=Tsunami)
def tsunami(ctx: Context) -> list[str]:
    p = ctx.payload(Tsunami)
    coasts = city_coasts(ctx)
    local = sorted((a for a in p.areas if a.code in coasts and a.kind is not _N),
                   key=lambda a: KINDS.index(a.kind))
    # Areas a payload holds beyond the city's coasts (the configuration changed since).
    others = [a for a in p.areas if a.code not in coasts]
    top = local[0].kind if local else None
    far, far_names = _elsewhere(p, others)
    city = ctx.config.city_display_name(ctx.language)
    lines = []
    if top is not None:
        names = [n for a in local if a.kind is top and (n := _area_name(ctx, a))]
        lines.append(ctx.t(f"tsunami.lead.{top.value}", areas=_names(ctx, names)))
    elif far is not None and far is not _N:
        lines.append(ctx.t("tsunami.lead.elsewhere",
                           kind=ctx.t(f"tsunami.kind.{far.value}"), city=city))
    else:  # a cancellation, or a report with no area at all
        lines.append(ctx.t("tsunami.title.information"))
    for area in local[:MAX_AREAS]:
        lines.extend(_area_lines(ctx, area))
    if len(local) > MAX_AREAS:
        lines.append(ctx.t("tsunami.more_areas", count=len(local) - MAX_AREAS))
    if far is not None and far in _HIGH and (top is None or far.rank > top.rank):
        shown = far_names[:MAX_AREAS]
        lines.append(ctx.t("tsunami.elsewhere", kind=ctx.t(f"tsunami.kind.{far.value}"),
                           areas=_names(ctx, shown)))
        if len(far_names) > MAX_AREAS:
            lines.append(ctx.t("tsunami.more_areas", count=len(far_names) - MAX_AREAS))
    in_force = {a.kind for a in local}
    said, carried = comment_lines(
        ctx, p.comments, lambda code: code not in _FOR_KINDS or bool(_FOR_KINDS[code] & in_force))
    lines.extend(said)
    if top is not None and _CLASS_COMMENT.get(top) not in carried:
        lines.append(ctx.t(_ADVICE[top]))
    return lines + original_ja(ctx, p.free_comment_ja)


@payload_composer(OffshoreTsunami)
def offshore(ctx: Context) -> list[str]:
    p = ctx.payload(OffshoreTsunami)
    measured = [s for s in p.stations if s.max_height_m is not None]
    top = max(measured, key=lambda s: s.max_height_m or 0.0) if measured else None
    if top is not None:
        lines = [ctx.t("tsunami.offshore.lead", height=f"{top.max_height_m:g}",
                       station=top.name_ja)]
    else:
        lines = [ctx.t("tsunami.offshore.lead.observing",
                       station=p.stations[0].name_ja if p.stations else "")]
    shown = sorted(measured, key=lambda s: -(s.max_height_m or 0.0))[:MAX_AREAS]
    for st in shown:
        lines.append(ctx.t("tsunami.offshore.station", station=st.name_ja,
                           height=f"{st.max_height_m:g}"))
    coasts = city_coasts(ctx)
    for estimate in (e for e in p.estimates if e.code in coasts):
        name = terms.tsunami_area_name(estimate.code, ctx.language, estimate.name_ja or None)
        height = _height(ctx, estimate)
        if name and height:
            lines.append(ctx.t("tsunami.offshore.estimate", area=name))
            lines.append(height)
    said, _ = comment_lines(ctx, p.comments)
    return lines + said + original_ja(ctx, p.free_comment_ja)
