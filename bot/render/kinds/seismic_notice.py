"""Seismic notices beyond the earthquake report: megaquake notices (南海トラフ地震臨時
情報, 北海道・三陸沖後発地震注意情報), long-period ground motion (長周期地震動), JMA's
revised hypocentre (震源要素更新) and its free-text seismic-activity information.

* Megaquake notices: the first line names the notice with JMA's keyword, says that a
  megaquake is more likely than usual and whether the city is in the designated
  area, and what that asks of residents for a week (警戒: prepare, and evacuate in
  advance where the city says so; 注意: be ready to evacuate at once). The advice
  lines say what the national plans ask of residents of the designated areas; the
  period is JMA's issue time plus one week. 調査終了 is a lift of the earlier notice
  (:mod:`bot.render.follow_ups` puts its first line); the body says what JMA found.
* Long-period ground motion: the class in the city's seismic area and JMA's words
  for it (階級1 やや大きな揺れ … 階級4 極めて大きな揺れ, with JMA's description of
  what people on high floors experience), then advice for people in high-rise
  buildings.
* A revised hypocentre is an update of the earthquake message residents received:
  its first line says what changed.
* Seismic-activity information is JMA's free text: a line in the reader's language
  says what it is, then JMA's Japanese text, labelled as the original.
"""

from __future__ import annotations

from bot.domain import (
    HypocentreUpdate,
    LongPeriodMotion,
    MegaquakeLevel,
    MegaquakeNotice,
    MegaquakeRegion,
    SeismicActivity,
)
from bot.render import terms
from bot.render.compose import Context, payload_composer
from bot.render.kinds._common import original_ja, source_text_ja, when
from bot.render.kinds.earthquake import intensity_name

_L = MegaquakeLevel
_KEYWORDS = {_L.INVESTIGATING: "investigating", _L.WARNING: "warning", _L.ADVISORY: "advisory",
             _L.ENDED: "ended"}
_ADVICE = {_L.WARNING: "megaquake.advice.warning", _L.ADVISORY: "megaquake.advice.advisory",
           _L.SUBSEQUENT: "megaquake.advice.advisory", _L.ENDED: "megaquake.advice.ended",
           _L.CALL_ENDED: "megaquake.advice.ended"}


def _name(ctx: Context, p: MegaquakeNotice) -> str:
    if p.level in (_L.COMMENTARY, _L.CALL_ENDED):
        return ctx.t("megaquake.name.commentary")
    name = ctx.t(f"megaquake.name.{p.region.value}")
    key = _KEYWORDS.get(p.level)
    return ctx.t("megaquake.name.keyword", name=name, keyword=ctx.t(f"megaquake.keyword.{key}")) \
        if key else name


@payload_composer(MegaquakeNotice)
def megaquake(ctx: Context) -> list[str]:
    p = ctx.payload(MegaquakeNotice)
    city = ctx.config.city_display_name(ctx.language)
    name = _name(ctx, p)
    prepares = p.level in (_L.WARNING, _L.ADVISORY, _L.SUBSEQUENT)
    if prepares and not p.city_in_area:
        lead = ctx.t("megaquake.lead.outside", name=name, city=city)
    elif p.region is MegaquakeRegion.HOKKAIDO_SANRIKU:
        lead = ctx.t("megaquake.lead.subsequent", name=name, city=city)
    else:
        lead = ctx.t(f"megaquake.lead.{p.level.value}", name=name, city=city)
    # An end is sent as a lift, whose own first line names what ended (follow_ups):
    # the finding then comes right under it.
    lines = [name, lead] if p.level in (_L.ENDED, _L.CALL_ENDED) else [lead]
    if prepares and p.city_in_area:
        until = when(ctx, ctx.alert.expires)
        if until:
            lines.append(ctx.t("megaquake.period", time=until))
    advice = _ADVICE.get(p.level)
    if advice and (p.city_in_area or not prepares):
        lines.append(ctx.t(advice))
    if p.level in (_L.COMMENTARY, _L.CALL_ENDED):
        return lines + original_ja(ctx, ctx.alert.headline_ja or p.text_ja)
    return lines + source_text_ja(ctx, ctx.alert.headline_ja)


def _quake_lines(ctx: Context, p: LongPeriodMotion | HypocentreUpdate) -> list[str]:
    lines = []
    t = when(ctx, p.origin_time)
    if t:
        lines.append(ctx.t("earthquake.time", time=t))
    hypo = p.hypocentre
    epicenter = terms.epicenter_name(hypo.code, ctx.language, hypo.name_ja) if hypo else None
    if epicenter:
        lines.append(ctx.t("earthquake.epicenter", epicenter=epicenter))
    if p.magnitude is not None:
        lines.append(ctx.t("earthquake.magnitude", magnitude=f"{p.magnitude:.1f}"))
    depth = hypo.depth_km if hypo else None
    if depth is not None:
        lines.append(ctx.t("earthquake.depth_shallow") if depth == 0
                     else ctx.t("earthquake.depth", depth=depth))
    return lines


@payload_composer(LongPeriodMotion)
def long_period(ctx: Context) -> list[str]:
    p = ctx.payload(LongPeriodMotion)
    city = ctx.config.city_display_name(ctx.language)
    local = p.local_class
    if local:
        lines = [ctx.t("longperiod.lead", level=local, city=city,
                       shaking=ctx.t(f"longperiod.class.{local}"))]
    else:
        lines = [ctx.t("longperiod.lead.elsewhere", level=p.max_class or 0, city=city)]
    lines.append(ctx.t("longperiod.title"))
    lines.extend(_quake_lines(ctx, p))
    top = intensity_name(ctx, p.max_intensity)
    if top:
        lines.append(ctx.t("earthquake.max_intensity", intensity=top))
    if local:
        lines.append(ctx.t(f"longperiod.desc.{local}"))
        if local >= 2:
            lines.append(ctx.t("longperiod.advice"))
    return lines


@payload_composer(HypocentreUpdate)
def hypocentre_update(ctx: Context) -> list[str]:
    p = ctx.payload(HypocentreUpdate)
    hypo = p.hypocentre
    epicenter = terms.epicenter_name(hypo.code, ctx.language, hypo.name_ja) if hypo else None
    t = when(ctx, p.origin_time) or ""
    if p.magnitude is not None:
        lead = ctx.t("hypocentre_update.lead", time=t, epicenter=epicenter or "",
                     magnitude=f"{p.magnitude:.1f}")
    else:
        lead = ctx.t("hypocentre_update.lead.no_magnitude", time=t, epicenter=epicenter or "")
    return [lead, *_quake_lines(ctx, p)[1:]]


@payload_composer(SeismicActivity)
def activity(ctx: Context) -> list[str]:
    p = ctx.payload(SeismicActivity)
    city = ctx.config.city_display_name(ctx.language)
    return [ctx.t("activity.lead", city=city), *original_ja(ctx, p.text_ja)]
