"""Tsunami warnings, advisories and forecasts (VTSE41/51)."""

from __future__ import annotations

from bot.domain import Kind, Tsunami, TsunamiArea, TsunamiKind
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds._common import when

# Strongest first, for the title and the order of areas: a forecast (sea-level
# changes go on) is shown above a lift.
KINDS = (TsunamiKind.MAJOR_WARNING, TsunamiKind.WARNING, TsunamiKind.ADVISORY,
         TsunamiKind.FORECAST, TsunamiKind.LIFTED, TsunamiKind.NONE)
MAX_AREAS = 5
_CONDITIONS = {
    "ただちに津波来襲と予測": "tsunami.arrival.immediate",
    "津波到達中と推測": "tsunami.arrival.arrived",
    "第１波の到達を確認": "tsunami.arrival.confirmed",
    "第1波の到達を確認": "tsunami.arrival.confirmed",
}
_ADVICE = {TsunamiKind.MAJOR_WARNING: "tsunami.advice.warning",
           TsunamiKind.WARNING: "tsunami.advice.warning",
           TsunamiKind.ADVISORY: "tsunami.advice.advisory",
           TsunamiKind.FORECAST: "tsunami.advice.forecast",
           TsunamiKind.LIFTED: "tsunami.advice.lifted"}


def _height(ctx: Context, area: TsunamiArea) -> str | None:
    if area.height_m is not None:
        key = "tsunami.height_over" if area.height_over else "tsunami.height"
        return ctx.t(key, height=f"{area.height_m:g}")
    words = area.height_ja or ""
    if "巨大" in words:
        return ctx.t("tsunami.height.huge")
    if "高い" in words:
        return ctx.t("tsunami.height.high")
    return None


def _area_lines(ctx: Context, area: TsunamiArea) -> list[str]:
    name = terms.tsunami_area_name(area.code, ctx.language, area.name_ja or None)
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


@composer(Kind.TSUNAMI, payload=Tsunami)
def tsunami(ctx: Context) -> list[str]:
    areas = ctx.payload(Tsunami).areas
    local = [a for a in areas if a.code in terms.TSUNAMI_AREAS]
    shown = sorted(local or areas, key=lambda a: KINDS.index(a.kind))
    top = shown[0].kind if shown else TsunamiKind.FORECAST
    if top is TsunamiKind.NONE:
        top = TsunamiKind.FORECAST
    lines = [ctx.t(f"tsunami.title.{top.value}")]
    for area in shown[:MAX_AREAS]:
        lines.extend(_area_lines(ctx, area))
    if len(shown) > MAX_AREAS:
        lines.append(ctx.t("tsunami.more_areas", count=len(shown) - MAX_AREAS))
    lines.append(ctx.t(_ADVICE[top]))
    return lines
