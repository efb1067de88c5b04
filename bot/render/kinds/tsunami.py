"""Tsunami warnings, advisories and forecasts (VTSE41/51)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.domain import Kind
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds._common import param_str, when

# Strongest first.
KINDS = ("major_warning", "warning", "advisory", "forecast", "lifted", "none")
MAX_AREAS = 5
_CONDITIONS = {
    "ただちに津波来襲と予測": "tsunami.arrival.immediate",
    "津波到達中と推測": "tsunami.arrival.arrived",
    "第１波の到達を確認": "tsunami.arrival.confirmed",
    "第1波の到達を確認": "tsunami.arrival.confirmed",
}
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _rank(kind: object) -> int:
    return KINDS.index(str(kind)) if kind in KINDS else len(KINDS)


def _height(ctx: Context, area: Mapping[str, Any]) -> str | None:
    height = param_str(area, "height_m")
    if height:
        height = height.translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
        if _NUMBER.match(height):
            return ctx.t("tsunami.height", height=height)
        over = height.removesuffix("超").removesuffix("m").removeprefix(">")
        if _NUMBER.match(over):
            return ctx.t("tsunami.height_over", height=over)
    words = param_str(area, "height_ja") or ""
    if "巨大" in words:
        return ctx.t("tsunami.height.huge")
    if "高い" in words:
        return ctx.t("tsunami.height.high")
    return None


def _area_lines(ctx: Context, area: Mapping[str, Any]) -> list[str]:
    name = terms.tsunami_area_name(area.get("code"), ctx.language, param_str(area, "name_ja"))
    kind = str(area.get("kind"))
    if not name or kind not in KINDS:
        return []
    lines = [ctx.t("tsunami.area", area=name, kind=ctx.t(f"tsunami.kind.{kind}"))]
    condition = _CONDITIONS.get(param_str(area, "arrival_condition_ja") or "")
    if condition:
        lines.append(ctx.t(condition))
    else:
        t = when(ctx, area.get("first_arrival"))
        if t:
            lines.append(ctx.t("tsunami.arrival", time=t))
    height = _height(ctx, area)
    if height:
        lines.append(height)
    return lines


@composer(Kind.TSUNAMI)
def tsunami(ctx: Context) -> list[str]:
    raw = ctx.alert.params.get("areas")
    areas = [a for a in raw if isinstance(a, Mapping)] if isinstance(raw, list) else []
    local = [a for a in areas if str(a.get("code")) in terms.TSUNAMI_AREAS]
    shown = sorted(local or areas, key=lambda a: _rank(a.get("kind")))
    ranks = [_rank(a.get("kind")) for a in shown if _rank(a.get("kind")) < len(KINDS)]
    top = KINDS[min(ranks)] if ranks else "forecast"
    if top == "none":
        top = "forecast"
    lines = [ctx.t(f"tsunami.title.{top}")]
    for area in shown[:MAX_AREAS]:
        lines.extend(_area_lines(ctx, area))
    if len(shown) > MAX_AREAS:
        lines.append(ctx.t("tsunami.more_areas", count=len(shown) - MAX_AREAS))
    advice = {"major_warning": "tsunami.advice.warning", "warning": "tsunami.advice.warning",
              "advisory": "tsunami.advice.advisory", "forecast": "tsunami.advice.forecast",
              "lifted": "tsunami.advice.lifted"}.get(top)
    if advice:
        lines.append(ctx.t(advice))
    return lines
