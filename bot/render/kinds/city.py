"""Messages from the city: evacuation information, shelters, lifelines, drills."""

from __future__ import annotations

from bot.domain import Kind
from bot.render.compose import Context, composer
from bot.render.kinds._common import free_lines, param_int, param_str
from bot.shelters import find_shelter

UTILITIES = ("water", "power", "gas", "supplies")


@composer(Kind.EVACUATION)
def evacuation(ctx: Context) -> list[str]:
    level = param_int(ctx.alert.params, "level")
    if level in (3, 4, 5):
        lines = [ctx.t(f"evacuation.title.{level}"), ctx.t(f"evacuation.action.{level}")]
    else:
        lines = [ctx.t("evacuation.title")]
    return lines + free_lines(ctx)


@composer(Kind.SHELTER)
def shelter(ctx: Context) -> list[str]:
    p = ctx.alert.params
    action = param_str(p, "action")
    lines = [ctx.t(f"shelter.title.{action}" if action in ("opened", "closed")
                   else "shelter.title")]
    found = find_shelter(p.get("shelter_id"))
    if found is not None:
        lines.append(ctx.t("shelter.name", name=found.name))
        if found.address:
            lines.append(ctx.t("shelter.address", address=found.address))
        url = found.map_url(ctx.config.map_url)
        if url:
            lines.append(ctx.t("shelter.map", url=url))
    if action == "opened":
        lines.append(ctx.t("shelter.advice.opened"))
    return lines + free_lines(ctx)


@composer(Kind.LIFELINE)
def lifeline(ctx: Context) -> list[str]:
    utility = param_str(ctx.alert.params, "utility")
    key = f"lifeline.title.{utility}" if utility in UTILITIES else "lifeline.title"
    return [ctx.t(key), *free_lines(ctx)]


@composer(Kind.DRILL)
def drill(ctx: Context) -> list[str]:
    city = ctx.config.city_display_name(ctx.language)
    return [ctx.t("drill.title", city=city), *free_lines(ctx)]
