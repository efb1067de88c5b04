"""Typhoon reports (VPTA50 storm probability, VPTW60-62 analysis and forecast).

The first line: which typhoon, where in the city, how likely or when, what to do.
"""

from __future__ import annotations

from bot.domain import Kind, Typhoon
from bot.render.compose import Context, composer


def typhoon_label(ctx: Context, p: Typhoon) -> str:
    if not p.number:
        return ctx.t("typhoon.label.td")
    return ctx.t("typhoon.label", number=p.number_short)


@composer(Kind.WEATHER_WARNING, payload=Typhoon)
def typhoon(ctx: Context) -> list[str]:
    p = ctx.payload(Typhoon)
    area = ctx.ward_names() or ctx.config.city_display_name(ctx.language)
    label = typhoon_label(ctx, p)
    lines: list[str] = []
    if p.report == "probability":
        top = p.max_percent or 0
        first = min((s for s in p.probabilities if s.percent == top), key=lambda s: s.hours,
                    default=None)
        lines.append(ctx.t("typhoon.prob.first", typhoon=label, area=area, percent=top,
                           hours=first.hours if first else 120))
        spans = [ctx.t("typhoon.prob.span", hours=s.hours, percent=s.percent)
                 for s in p.probabilities]
        if spans:
            lines.append(ctx.t("list.separator").join(spans))
    else:
        if p.reach_area_ja == "暴風域":
            lines.append(ctx.t("typhoon.track.first.storm", typhoon=label, area=area))
        elif p.reach_area_ja == "暴風警戒域":
            lines.append(ctx.t("typhoon.track.first.warning_area", typhoon=label, area=area,
                               time=ctx.when(p.reach_time)))
        else:
            lines.append(ctx.t("typhoon.track.first.circle", typhoon=label, area=area,
                               time=ctx.when(p.reach_time)))
        if p.pressure_hpa is not None and p.max_wind_ms is not None:
            lines.append(ctx.t("typhoon.track.detail", pressure=p.pressure_hpa,
                               wind=p.max_wind_ms))
    lines.append(ctx.t("typhoon.advice"))
    return lines
