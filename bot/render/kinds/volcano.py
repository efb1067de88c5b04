"""Volcanic warnings and eruption flashes (VFVO50/56) for 阿蘇山."""

from __future__ import annotations

from bot.domain import Kind
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds._common import param_int, param_str

# JMA volcanic warning codes with a name in the catalogs.
WARNING_CODES = ("01", "02", "03", "04", "05")


@composer(Kind.VOLCANO)
def volcano(ctx: Context) -> list[str]:
    p = ctx.alert.params
    name = terms.volcano_name(p.get("volcano_code"), ctx.language,
                              param_str(p, "volcano_name_ja")) or ""
    flash = p.get("flash") is True
    lines = [ctx.t("volcano.flash", volcano=name) if flash else ctx.t("volcano.title")]
    code = param_str(p, "warning_code")
    if code is not None and code.isdigit():
        code = code.zfill(2)
    if code in WARNING_CODES:
        lines.append(ctx.t("volcano.warning", volcano=name,
                           warning=ctx.t(f"volcano.warning.{code}")))
    elif param_str(p, "warning_name_ja") and ctx.language in ("ja", "ja-easy"):
        lines.append(ctx.t("volcano.warning", volcano=name, warning=p["warning_name_ja"]))
    level = param_int(p, "level")
    if level is not None and 1 <= level <= 5:
        lines.append(ctx.t("volcano.level", level=level,
                           level_name=ctx.t(f"volcano.level.{level}")))
    if flash:
        lines.append(ctx.t("volcano.advice.flash"))
    elif level is not None and level >= 4:
        lines.append(ctx.t("volcano.advice.evacuate"))
    elif level is not None and level >= 2:
        lines.append(ctx.t("volcano.advice.crater"))
    return lines
