"""Messages from the city: evacuation information, shelters, lifelines, drills."""

from __future__ import annotations

from bot.domain import Evacuation, Kind, Lifeline, Shelter, ShelterAction
from bot.render.compose import Context, composer
from bot.render.kinds._common import free_lines
from bot.shelters import find_shelter


@composer(Kind.EVACUATION, payload=Evacuation)
def evacuation(ctx: Context) -> list[str]:
    level = int(ctx.payload(Evacuation).level)
    lines = [ctx.t(f"evacuation.title.{level}"), ctx.t(f"evacuation.action.{level}")]
    return lines + free_lines(ctx)


@composer(Kind.SHELTER, payload=Shelter)
def shelter(ctx: Context) -> list[str]:
    p = ctx.payload(Shelter)
    lines = [ctx.t(f"shelter.title.{p.action.value}")]
    for shelter_id in p.shelter_ids:
        found = find_shelter(shelter_id)
        if found is None:
            continue
        lines.append(ctx.t("shelter.name", name=found.name))
        if found.address:
            lines.append(ctx.t("shelter.address", address=found.address))
        url = found.map_url(ctx.config.map_url)
        if url:
            lines.append(ctx.t("shelter.map", url=url))
    if p.action is ShelterAction.OPENED:
        lines.append(ctx.t("shelter.advice.opened"))
    return lines + free_lines(ctx)


@composer(Kind.LIFELINE, payload=Lifeline)
def lifeline(ctx: Context) -> list[str]:
    utility = ctx.payload(Lifeline).utility
    return [ctx.t(f"lifeline.title.{utility.value}"), *free_lines(ctx)]


@composer(Kind.DRILL)
def drill(ctx: Context) -> list[str]:
    city = ctx.config.city_display_name(ctx.language)
    return [ctx.t("drill.title", city=city), *free_lines(ctx)]
