"""Volcanic warnings and eruption flashes (VFVO50/56) for 阿蘇山."""

from __future__ import annotations

from bot.domain import Kind, Volcano
from bot.render import terms
from bot.render.compose import Context, composer

# JMA volcanic warning codes with a name in the catalogs.
WARNING_CODES = ("01", "02", "03", "04", "05")


@composer(Kind.VOLCANO, payload=Volcano)
def volcano(ctx: Context) -> list[str]:
    p = ctx.payload(Volcano)
    name = terms.volcano_name(p.volcano_code, ctx.language, p.volcano_name_ja) or ""
    lines = [ctx.t("volcano.flash", volcano=name) if p.flash else ctx.t("volcano.title")]
    code = (p.warning_code or "").strip()
    if code.isdigit():
        code = code.zfill(2)
    if code in WARNING_CODES:
        lines.append(ctx.t("volcano.warning", volcano=name,
                           warning=ctx.t(f"volcano.warning.{code}")))
    elif p.warning_name_ja and ctx.language in ("ja", "ja-easy"):
        lines.append(ctx.t("volcano.warning", volcano=name, warning=p.warning_name_ja))
    level = p.level
    if level is not None:
        lines.append(ctx.t("volcano.level", level=level,
                           level_name=ctx.t(f"volcano.level.{level}")))
    if p.flash:
        lines.append(ctx.t("volcano.advice.flash"))
    elif level is not None and level >= 4:
        lines.append(ctx.t("volcano.advice.evacuate"))
    elif level is not None and level >= 2:
        lines.append(ctx.t("volcano.advice.crater"))
    return lines
