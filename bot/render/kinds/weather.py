"""Weather warnings (VPWW53/54), landslide alerts (VXWW50), record short-term heavy rain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import Kind
from bot.render.compose import Context, composer
from bot.render.kinds._common import param_str, source_text_ja

LEVELS = ("emergency", "warning", "advisory")
_STATUSES = ("issued", "continued", "lifted")
_LIFTED = ("lifted", "解除")


def warning_name(ctx: Context, code: object, name_ja: str | None, level: str | None) -> str:
    """The official name of warning ``code`` in this language; an unknown code
    shows the level's generic name with JMA's Japanese name."""
    name = ctx.opt(f"warning.{str(code).strip()}") if code is not None else None
    if name:
        return name
    if name_ja and ctx.language in ("ja", "ja-easy"):
        return name_ja
    generic = ctx.t(f"weather.level.{level}") if level in LEVELS else ""
    if name_ja:
        return f"{generic} ({name_ja})" if generic else name_ja
    return generic or str(code)


def _is_lifted(w: Mapping[str, Any]) -> bool:
    return str(w.get("status")) in _LIFTED or str(w.get("code")) == "00"


@composer(Kind.WEATHER_WARNING)
def weather_warning(ctx: Context) -> list[str]:
    raw = ctx.alert.params.get("warnings")
    items = [w for w in raw if isinstance(w, Mapping)] if isinstance(raw, list) else []
    items = [w for w in items if str(w.get("code")) != "00"]
    active = [w for w in items if not _is_lifted(w)]
    levels = [str(w.get("level")) for w in active if w.get("level") in LEVELS]
    top = min(levels, key=LEVELS.index) if levels else None
    lines = [ctx.t(f"weather.title.{top}" if top else "weather.title.lifted")]

    def order(w: Mapping[str, Any]) -> tuple[int, int]:
        lvl = str(w.get("level"))
        return (int(_is_lifted(w)), LEVELS.index(lvl) if lvl in LEVELS else len(LEVELS))

    for w in sorted(items, key=order):
        name = warning_name(ctx, w.get("code"), param_str(w, "name_ja"), param_str(w, "level"))
        status = "lifted" if _is_lifted(w) else str(w.get("status"))
        key = f"weather.status.{status}" if status in _STATUSES else "weather.status.other"
        lines.append(ctx.t(key, name=name))
    if not ctx.alert.wards:
        lines.append(ctx.t("weather.area", area=ctx.config.city_display_name(ctx.language)))
    lines.append(ctx.t(f"weather.advice.{top}" if top else "weather.advice.lifted"))
    return lines


@composer(Kind.LANDSLIDE)
def landslide(ctx: Context) -> list[str]:
    lifted = str(ctx.alert.params.get("status")) in _LIFTED
    lines = [ctx.t("landslide.title")]
    lines.append(ctx.t("landslide.lifted" if lifted else "landslide.body"))
    return lines + source_text_ja(ctx)


@composer(Kind.HEAVY_RAIN)
def heavy_rain(ctx: Context) -> list[str]:
    return [ctx.t("heavy_rain.title"), ctx.t("heavy_rain.body"), *source_text_ja(ctx)]
