"""Earthquake information (VXSE51/52/53) and earthquake early warnings.

Every line says something the report says, in the city's terms:

* The first line (all a phone notification shows) is the key fact for a reader in
  the city: the city's strongest intensity and the wards that had it, and what to do
  now when that intensity calls for it; for a report without the city, where the
  earthquake was; for a report about a volcanic eruption, that it was an eruption.
* Advice follows the city's own intensity, never the maximum somewhere else:
  :data:`STRONG` (震度5弱) or more: the full aftershock and damage advice;
  :data:`MODERATE` (震度4): be careful of aftershocks; less: no advice. 震度4 is where
  policy starts sending by itself, and where JMA's guidance speaks of things falling
  from shelves; at 5弱 furniture falls and damage begins. A 震度速報, which names
  areas and not cities, is judged by the area that contains the city.
* Nothing about the coast or a tsunami unless JMA said it: JMA's fixed comments
  (``jma_comment.<code>``) are carried in every language and its free comment in
  Japanese with a label. Whether the city's own coasts are under a tsunami notice is
  for the tsunami report, which names the coasts.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain import Earthquake, EarthquakeReport, Intensity, Kind, TsunamiOutlook
from bot.errors import UnknownWardError
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds._common import comment_lines, original_ja, when

_TITLES = {
    EarthquakeReport.INTENSITY: "earthquake.title.intensity",
    EarthquakeReport.EPICENTER: "earthquake.title.epicenter",
}
STRONG = Intensity.FIVE_LOWER  # the city shook this hard or more: full advice
MODERATE = Intensity.FOUR  # ... or this hard: be careful of aftershocks


def intensity_name(ctx: Context, value: Intensity | None) -> str | None:
    return ctx.t(f"intensity.{value.code}") if value is not None else None


def _city_wards(ctx: Context, ward_intensity: Mapping[str, Intensity]
                ) -> dict[Intensity, list[str]]:
    """The city's wards by intensity, each list in configuration order."""
    groups: dict[Intensity, list[str]] = {}
    known = set(ctx.config.ward_codes)
    for code, value in ward_intensity.items():
        try:
            ward = ctx.config.ward(code).code
        except UnknownWardError:
            continue  # a ward of another city: not ours to show
        if ward in known:
            groups.setdefault(value, []).append(ward)
    return {value: [c for c in ctx.config.ward_codes if c in wards]
            for value, wards in groups.items()}


def _ward_lines(ctx: Context, groups: Mapping[Intensity, list[str]]) -> list[str]:
    """One line per intensity, strongest first: "6 Upper: Chuo Ward, Higashi Ward"."""
    if not groups:
        return []
    lines = [ctx.t("earthquake.city_heading", city=ctx.config.city_display_name(ctx.language))]
    for value in sorted(groups, reverse=True):
        lines.append(ctx.t("earthquake.ward_intensity", intensity=intensity_name(ctx, value),
                           wards=ctx.ward_names(groups[value])))
    return lines


def _epicenter(ctx: Context, p: Earthquake) -> str | None:
    hypo = p.hypocentre
    if hypo is None:
        return None
    return terms.epicenter_name(hypo.code, ctx.language, hypo.name_ja)


def _lead(ctx: Context, p: Earthquake, groups: Mapping[Intensity, list[str]]
          ) -> tuple[str | None, Intensity | None]:
    """(first line, the city's intensity that advice follows)."""
    city = ctx.config.city_display_name(ctx.language)
    local: Intensity | None = None
    fact = None
    if groups:
        local = max(groups)
        fact = ctx.t("earthquake.fact.wards", intensity=intensity_name(ctx, local),
                     wards=ctx.ward_names(groups[local]))
    elif p.city_intensity is not None:  # the city as a whole (older codes)
        local = p.city_intensity
        fact = ctx.t("earthquake.fact.wards", intensity=intensity_name(ctx, local), wards=city)
    elif p.area_intensity:  # 震度速報: the area that contains the city
        local = Intensity.highest(p.area_intensity.values())
        fact = ctx.t("earthquake.fact.area", intensity=intensity_name(ctx, local), city=city)
    if fact is not None and local is not None and local >= MODERATE:
        action = ctx.t("earthquake.now.strong" if local >= STRONG else "earthquake.now.moderate")
        return ctx.t("earthquake.lead.action", fact=fact, action=action), local
    if fact is None:
        epicenter = _epicenter(ctx, p)
        top = intensity_name(ctx, p.max_intensity)
        if epicenter and top:
            fact = ctx.t("earthquake.fact.epicenter_max", epicenter=epicenter, intensity=top)
        elif epicenter:
            fact = ctx.t("earthquake.fact.epicenter", epicenter=epicenter)
        elif top:
            fact = ctx.t("earthquake.fact.max", intensity=top)
    return (ctx.t("earthquake.lead", fact=fact) if fact else None), local


def _tsunami_lines(ctx: Context, p: Earthquake) -> list[str]:
    """What JMA said about a tsunami and anything else, in its fixed comments."""
    if p.comments:
        return comment_lines(ctx, p.comments)[0]
    # A report stored before comments were kept: only the outlooks that advise nothing.
    if p.tsunami in (TsunamiOutlook.NONE, TsunamiOutlook.SLIGHT):
        return [ctx.t(f"earthquake.tsunami.{p.tsunami.value}")]
    return original_ja(ctx, p.tsunami_comment_ja)


def _eruption(ctx: Context, p: Earthquake) -> list[str]:
    """A 遠地地震に関する情報 that JMA issued for a large volcanic eruption: no
    earthquake, no epicenter, no magnitude; the place and JMA's words."""
    place = _epicenter(ctx, p) or ""
    lines = [ctx.t("earthquake.lead.eruption", place=place)]
    t = when(ctx, p.origin_time)
    if t:
        lines.append(ctx.t("earthquake.eruption.time", time=t))
    lines.extend(comment_lines(ctx, p.comments)[0])
    lines.append(ctx.t("jma_comment.eruption_note"))
    return lines + original_ja(ctx, p.free_comment_ja)


@composer(Kind.EARTHQUAKE, payload=Earthquake)
def earthquake(ctx: Context) -> list[str]:
    p = ctx.payload(Earthquake)
    if p.volcanic_eruption:
        return _eruption(ctx, p)
    groups = _city_wards(ctx, p.ward_intensity)
    lead, local = _lead(ctx, p, groups)
    lines = [lead] if lead else []
    lines.append(ctx.t(_TITLES.get(p.report, "earthquake.title") if p.report
                       else "earthquake.title"))
    t = when(ctx, p.origin_time)
    if t:
        lines.append(ctx.t("earthquake.time", time=t))
    epicenter = _epicenter(ctx, p)
    if epicenter:
        lines.append(ctx.t("earthquake.epicenter", epicenter=epicenter))
    if p.magnitude is not None:
        lines.append(ctx.t("earthquake.magnitude", magnitude=f"{p.magnitude:.1f}"))
    depth = p.hypocentre.depth_km if p.hypocentre else None
    if depth is not None:
        lines.append(ctx.t("earthquake.depth_shallow") if depth == 0
                     else ctx.t("earthquake.depth", depth=depth))
    max_name = intensity_name(ctx, p.max_intensity)
    if max_name:
        lines.append(ctx.t("earthquake.max_intensity", intensity=max_name))
    if groups:
        lines.extend(_ward_lines(ctx, groups))
    elif p.city_intensity is not None:
        # Reports that give the city as a whole (older codes, or no ward detail).
        city = ctx.config.city_display_name(ctx.language)
        lines.append(ctx.t("earthquake.city_heading", city=city))
        lines.append(ctx.t("earthquake.ward_intensity",
                           intensity=intensity_name(ctx, p.city_intensity), wards=city))
    lines.extend(_tsunami_lines(ctx, p))
    if local is not None and local >= STRONG:
        lines.append(ctx.t("earthquake.advice.strong"))
    elif local is not None and local >= MODERATE:
        lines.append(ctx.t("earthquake.advice.moderate"))
    return lines + original_ja(ctx, p.free_comment_ja)
