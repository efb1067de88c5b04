"""Earthquake information (VXSE51/52/53) and earthquake early warnings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import Intensity, Kind
from bot.errors import UnknownWardError, ValidationError
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds._common import param_int, param_str, when

_TITLES = {
    "intensity": "earthquake.title.intensity",
    "epicenter": "earthquake.title.epicenter",
}
_TSUNAMI = ("none", "slight", "warning", "possible", "unknown")


def _intensity(value: object) -> Intensity | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        return Intensity.parse(value)
    except ValidationError:
        return None


def intensity_name(ctx: Context, value: object) -> str | None:
    found = _intensity(value)
    return ctx.t(f"intensity.{found.code}") if found is not None else None


def _ward_lines(ctx: Context, ward_intensity: Mapping[str, Any]) -> list[str]:
    """One line per intensity, strongest first: "6 Upper: Chuo Ward, Higashi Ward"."""
    groups: dict[Intensity, list[str]] = {}
    known = set(ctx.config.ward_codes)
    for code, value in ward_intensity.items():
        norm = _intensity(value)
        try:
            ward = ctx.config.ward(str(code)).code
        except UnknownWardError:
            continue  # a ward of another city: not ours to show
        if norm is not None and ward in known:
            groups.setdefault(norm, []).append(ward)
    if not groups:
        return []
    lines = [ctx.t("earthquake.city_heading", city=ctx.config.city_display_name(ctx.language))]
    for norm in sorted(groups, reverse=True):
        order = [c for c in ctx.config.ward_codes if c in groups[norm]]
        lines.append(ctx.t("earthquake.ward_intensity", intensity=ctx.t(f"intensity.{norm.code}"),
                           wards=ctx.ward_names(order)))
    return lines


@composer(Kind.EARTHQUAKE)
def earthquake(ctx: Context) -> list[str]:
    p = ctx.alert.params
    lines = [ctx.t(_TITLES.get(str(p.get("info_kind")), "earthquake.title"))]
    t = when(ctx, p.get("origin_time"))
    if t:
        lines.append(ctx.t("earthquake.time", time=t))
    epicenter = terms.epicenter_name(p.get("epicenter_code"), ctx.language,
                                     param_str(p, "epicenter_name_ja"))
    if epicenter:
        lines.append(ctx.t("earthquake.epicenter", epicenter=epicenter))
    magnitude = param_str(p, "magnitude")
    if magnitude and magnitude.lower() not in ("nan", "none"):
        lines.append(ctx.t("earthquake.magnitude", magnitude=magnitude))
    depth = param_int(p, "depth_km")
    if depth is not None:
        lines.append(ctx.t("earthquake.depth_shallow") if depth == 0
                     else ctx.t("earthquake.depth", depth=depth))
    max_name = intensity_name(ctx, p.get("max_intensity"))
    if max_name:
        lines.append(ctx.t("earthquake.max_intensity", intensity=max_name))
    ward_intensity = p.get("ward_intensity")
    city_max: Intensity | None = None
    if not isinstance(ward_intensity, Mapping):
        ward_intensity = {}
    ward_lines = _ward_lines(ctx, ward_intensity)
    if ward_lines:
        lines.extend(ward_lines)
        city_max = Intensity.highest(_intensity(v) for v in ward_intensity.values())
    else:
        # Reports that give the city as a whole (older codes, or no ward detail).
        city_name = intensity_name(ctx, p.get("city_intensity"))
        if city_name:
            city = ctx.config.city_display_name(ctx.language)
            lines.append(ctx.t("earthquake.city_heading", city=city))
            lines.append(ctx.t("earthquake.ward_intensity", intensity=city_name, wards=city))
            city_max = _intensity(p.get("city_intensity"))
    tsunami = param_str(p, "tsunami")
    if tsunami in _TSUNAMI:
        lines.append(ctx.t(f"earthquake.tsunami.{tsunami}"))
    strongest = city_max if city_max is not None else _intensity(p.get("max_intensity"))
    if strongest is None:
        pass
    elif strongest >= Intensity.FIVE_LOWER:
        lines.append(ctx.t("earthquake.advice.strong"))
    elif strongest >= Intensity.THREE:
        lines.append(ctx.t("earthquake.advice.moderate"))
    return lines


@composer(Kind.EEW)
def eew(ctx: Context) -> list[str]:
    lines = [ctx.t("eew.title"), ctx.t("eew.body")]
    epicenter = terms.epicenter_name(ctx.alert.params.get("epicenter_code"), ctx.language,
                                     param_str(ctx.alert.params, "epicenter_name_ja"))
    if epicenter:
        lines.append(ctx.t("earthquake.epicenter", epicenter=epicenter))
    return lines
