"""JMA's warning system of 2026 (VPWW55-61): the 警戒レベル first.

The first line says the level, the warning and where, with what to do at that level
(the Cabinet Office's and JMA's wording of 警戒レベル: レベル5 緊急安全確保 — a
disaster may already be happening, secure your life now; レベル4 — everyone leaves
dangerous places; レベル3 — the elderly and others who need time leave; レベル2 —
check the hazard map). Kinds without a level (暴風, 波浪, 大雪, the other advisories)
say the warning and where, then the advice of its level. Then every kind with its
status, then the longer advice.
"""

from __future__ import annotations

from bot.domain import Kind, WarningItem, WarningStatus, WeatherWarning
from bot.render.compose import Context, composer
from bot.render.kinds.weather import is_lifted, warning_lines, warning_name


def _place(ctx: Context) -> str:
    return ctx.ward_names() or ctx.config.city_display_name(ctx.language)


def r06_lines(ctx: Context) -> list[str]:
    p = ctx.payload(WeatherWarning)
    items = [w for w in p.warnings if w.code != "00"]
    active = [w for w in items if not is_lifted(w)]
    if not active:
        return warning_lines(ctx)

    def strength(w: WarningItem) -> tuple[int, int]:
        return (w.alert_level or 0, w.level.rank)

    top = max(active, key=strength)
    name = warning_name(ctx, top.code, top.name_ja or None, top.level)
    level = p.top_alert_level
    if level is not None:
        first = ctx.t(f"r06.first.{level}", name=name, area=_place(ctx))
        advice = ctx.t(f"r06.advice.{level}")
    else:
        first = ctx.t("r06.first.nolevel", name=name, area=_place(ctx))
        advice = ctx.t(f"weather.advice.{top.level.value}")
    lines = [first]
    for w in sorted(items, key=lambda w: (int(is_lifted(w)), -strength(w)[0], -w.level.rank)):
        if w is top and len(items) == 1:
            continue  # the first line said it
        label = warning_name(ctx, w.code, w.name_ja or None, w.level)
        status = WarningStatus.LIFTED if is_lifted(w) else w.status
        key = (f"weather.status.{status.value}"
               if status in (WarningStatus.ISSUED, WarningStatus.CONTINUED, WarningStatus.LIFTED)
               else "weather.status.other")
        lines.append(ctx.t(key, name=label))
    lines.append(advice)
    return lines


@composer(Kind.LANDSLIDE, payload=WeatherWarning)
def r06_landslide(ctx: Context) -> list[str]:
    return r06_lines(ctx)
