"""Weather warnings (VPWW53/54; VPWW55-61 in weather_r06), landslide alerts (VXWW50),
record short-term heavy rain."""

from __future__ import annotations

from bot.domain import (
    HeavyRain,
    Kind,
    Landslide,
    LandslideStatus,
    WarningItem,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.render.compose import Context, composer
from bot.render.kinds._common import source_text_ja

_SHOWN_STATUSES = (WarningStatus.ISSUED, WarningStatus.CONTINUED, WarningStatus.LIFTED)


def warning_name(ctx: Context, code: str, name_ja: str | None, level: WarningLevel | None
                 ) -> str:
    """The official name of warning ``code`` in this language; an unknown code
    shows the level's generic name with JMA's Japanese name."""
    name = ctx.opt(f"warning.{code.strip()}")
    if name:
        return name
    if name_ja and ctx.language in ("ja", "ja-easy"):
        return name_ja
    generic = ctx.t(f"weather.level.{level.value}") if level is not None else ""
    if name_ja:
        return ctx.t("weather.unknown_name", level=generic, name=name_ja) if generic else name_ja
    return generic or code


def is_lifted(w: WarningItem) -> bool:
    return w.status is WarningStatus.LIFTED or w.code == "00"


@composer(Kind.WEATHER_WARNING, payload=WeatherWarning)
def weather_warning(ctx: Context) -> list[str]:
    if ctx.payload(WeatherWarning).system == "r06":
        from bot.render.kinds.weather_r06 import r06_lines

        return r06_lines(ctx)
    return warning_lines(ctx)


def warning_lines(ctx: Context) -> list[str]:
    """VPWW53/54 (and an R06 report whose kinds are all lifted): title, kinds, advice."""
    items = [w for w in ctx.payload(WeatherWarning).warnings if w.code != "00"]
    active = [w.level for w in items if not is_lifted(w)]
    top = max(active, key=lambda level: level.rank) if active else None
    lines = [ctx.t(f"weather.title.{top.value}" if top else "weather.title.lifted")]

    def order(w: WarningItem) -> tuple[int, int]:
        return (int(is_lifted(w)), -w.level.rank)

    for w in sorted(items, key=order):
        name = warning_name(ctx, w.code, w.name_ja or None, w.level)
        status = WarningStatus.LIFTED if is_lifted(w) else w.status
        key = (f"weather.status.{status.value}" if status in _SHOWN_STATUSES
               else "weather.status.other")
        lines.append(ctx.t(key, name=name))
    if not ctx.alert.wards:
        lines.append(ctx.t("weather.area", area=ctx.config.city_display_name(ctx.language)))
    lines.append(ctx.t(f"weather.advice.{top.value}" if top else "weather.advice.lifted"))
    return lines


@composer(Kind.LANDSLIDE, payload=Landslide)
def landslide(ctx: Context) -> list[str]:
    p = ctx.payload(Landslide)
    lifted = p.status is LandslideStatus.LIFTED
    lines = [ctx.t("landslide.title")]
    lines.append(ctx.t("landslide.lifted" if lifted else "landslide.body"))
    return lines + source_text_ja(ctx, p.text_ja)


@composer(Kind.HEAVY_RAIN, payload=HeavyRain)
def heavy_rain(ctx: Context) -> list[str]:
    """The first line: the largest amount and where in the city (the wards JMA named,
    else the city); then the title and the advice."""
    p = ctx.payload(HeavyRain)
    amounts = [a.amount_mm for a in p.amounts if a.amount_mm is not None]
    lines = []
    if amounts:
        area = ctx.ward_names() or ctx.config.city_display_name(ctx.language)
        lines.append(ctx.t("heavy_rain.first", amount=f"{max(amounts):g}", area=area))
    lines += [ctx.t("heavy_rain.title"), ctx.t("heavy_rain.body")]
    return lines + source_text_ja(ctx, p.text_ja)
