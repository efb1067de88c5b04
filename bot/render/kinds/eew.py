"""Earthquake early warnings (緊急地震速報): seconds before the shaking, so short.

The first line is all a phone's notification shows and all a reader has time for:
strong shaking is expected in the city, protect yourself now (JMA's own warning
sentence is 強い揺れに警戒してください). Then the title, the city's forecast
intensity (JMA's range, 「〜以上」 as "or more"), JMA's note when the shaking has
probably already arrived, the epicenter and magnitude, and what to do. A forecast
(予報), sent only when the configuration asks for it, says "shaking expected" and
no more. A warning typed by staff (any payload) keeps the title and the advice.
"""

from __future__ import annotations

from bot.domain import EarlyWarning, Earthquake, EewArea, Intensity, Kind
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds.earthquake import intensity_name

_ARRIVED = "既に主要動到達と推測"


def _range(ctx: Context, low: Intensity | None, high: Intensity | None, over: bool
           ) -> str | None:
    name = intensity_name(ctx, low)
    if name is None:
        return None
    if over:
        return ctx.t("eew.intensity_over", intensity=name)
    if high is None or high == low:
        return name
    return f"{name} – {intensity_name(ctx, high)}"


def _strongest(areas: tuple[EewArea, ...]) -> EewArea | None:
    known = [a for a in areas if a.intensity_from is not None]
    return max(known, key=lambda a: (a.intensity_to or a.intensity_from, a.to_over),
               default=None)


@composer(Kind.EEW)
def eew(ctx: Context) -> list[str]:
    p = ctx.alert.payload
    city = ctx.config.city_display_name(ctx.language)
    if not isinstance(p, EarlyWarning):
        lines = [ctx.t("eew.lead", city=city), ctx.t("eew.title")]
        if isinstance(p, Earthquake) and p.hypocentre is not None:
            lines.append(ctx.t("earthquake.epicenter", epicenter=terms.epicenter_name(
                p.hypocentre.code, ctx.language, p.hypocentre.name_ja)))
        return [*lines, ctx.t("eew.body")]
    lines = [ctx.t("eew.lead.forecast" if p.forecast else "eew.lead", city=city),
             ctx.t("eew.title")]
    area = _strongest(p.areas)
    if area is not None:
        expected = _range(ctx, area.intensity_from, area.intensity_to, area.to_over)
        if expected:
            lines.append(ctx.t("eew.expected", city=city, intensity=expected))
        if area.condition_ja == _ARRIVED:
            lines.append(ctx.t("eew.arrived"))
    if p.hypocentre is not None:
        lines.append(ctx.t("earthquake.epicenter", epicenter=terms.epicenter_name(
            p.hypocentre.code, ctx.language, p.hypocentre.name_ja)))
    if p.magnitude is not None:
        lines.append(ctx.t("earthquake.magnitude", magnitude=f"{p.magnitude:.1f}"))
    if not p.forecast:
        lines.append(ctx.t("eew.body"))
    return lines
