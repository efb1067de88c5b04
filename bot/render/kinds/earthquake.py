"""Earthquake information (VXSE51/52/53) and earthquake early warnings."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain import Earthquake, EarthquakeReport, Intensity, Kind
from bot.errors import UnknownWardError
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds._common import when

_TITLES = {
    EarthquakeReport.INTENSITY: "earthquake.title.intensity",
    EarthquakeReport.EPICENTER: "earthquake.title.epicenter",
}


def intensity_name(ctx: Context, value: Intensity | None) -> str | None:
    return ctx.t(f"intensity.{value.code}") if value is not None else None


def _ward_lines(ctx: Context, ward_intensity: Mapping[str, Intensity]) -> list[str]:
    """One line per intensity, strongest first: "6 Upper: Chuo Ward, Higashi Ward"."""
    groups: dict[Intensity, list[str]] = {}
    known = set(ctx.config.ward_codes)
    for code, value in ward_intensity.items():
        try:
            ward = ctx.config.ward(code).code
        except UnknownWardError:
            continue  # a ward of another city: not ours to show
        if ward in known:
            groups.setdefault(value, []).append(ward)
    if not groups:
        return []
    lines = [ctx.t("earthquake.city_heading", city=ctx.config.city_display_name(ctx.language))]
    for value in sorted(groups, reverse=True):
        order = [c for c in ctx.config.ward_codes if c in groups[value]]
        lines.append(ctx.t("earthquake.ward_intensity", intensity=intensity_name(ctx, value),
                           wards=ctx.ward_names(order)))
    return lines


def _epicenter(ctx: Context, p: Earthquake) -> str | None:
    hypo = p.hypocentre
    if hypo is None:
        return None
    return terms.epicenter_name(hypo.code, ctx.language, hypo.name_ja)


@composer(Kind.EARTHQUAKE, payload=Earthquake)
def earthquake(ctx: Context) -> list[str]:
    p = ctx.payload(Earthquake)
    lines = [ctx.t(_TITLES.get(p.report, "earthquake.title") if p.report
                   else "earthquake.title")]
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
    city_max: Intensity | None = None
    ward_lines = _ward_lines(ctx, p.ward_intensity)
    if ward_lines:
        lines.extend(ward_lines)
        city_max = Intensity.highest(p.ward_intensity.values())
    elif p.city_intensity is not None:
        # Reports that give the city as a whole (older codes, or no ward detail).
        city = ctx.config.city_display_name(ctx.language)
        lines.append(ctx.t("earthquake.city_heading", city=city))
        lines.append(ctx.t("earthquake.ward_intensity",
                           intensity=intensity_name(ctx, p.city_intensity), wards=city))
        city_max = p.city_intensity
    lines.append(ctx.t(f"earthquake.tsunami.{p.tsunami.value}"))
    strongest = city_max if city_max is not None else p.max_intensity
    if strongest is not None and strongest >= Intensity.FIVE_LOWER:
        lines.append(ctx.t("earthquake.advice.strong"))
    elif strongest is not None and strongest >= Intensity.THREE:
        lines.append(ctx.t("earthquake.advice.moderate"))
    return lines


@composer(Kind.EEW)
def eew(ctx: Context) -> list[str]:
    lines = [ctx.t("eew.title"), ctx.t("eew.body")]
    p = ctx.alert.payload
    epicenter = _epicenter(ctx, p) if isinstance(p, Earthquake) else None
    if epicenter:
        lines.append(ctx.t("earthquake.epicenter", epicenter=epicenter))
    return lines
