"""Earthquake information (VXSE51/52/53) and earthquake early warnings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import Kind
from bot.errors import UnknownWardError
from bot.render import terms
from bot.render.compose import Context, composer
from bot.render.kinds._common import param_int, param_str, when

_TITLES = {
    "intensity": "earthquake.title.intensity",
    "epicenter": "earthquake.title.epicenter",
}
_TSUNAMI = ("none", "slight", "warning", "possible", "unknown")


def intensity_name(ctx: Context, value: object) -> str | None:
    norm = terms.normalize_intensity(value)
    return ctx.t(f"intensity.{norm}") if norm is not None else None


def _ward_lines(ctx: Context, ward_intensity: Mapping[str, Any]) -> list[str]:
    """One line per intensity, strongest first: "6 Upper: Chuo Ward, Higashi Ward"."""
    groups: dict[str, list[str]] = {}
    known = set(ctx.config.ward_codes)
    for code, value in ward_intensity.items():
        norm = terms.normalize_intensity(value)
        try:
            ward = ctx.config.ward(str(code)).code
        except UnknownWardError:
            continue  # a ward of another city: not ours to show
        if norm is not None and ward in known:
            groups.setdefault(norm, []).append(ward)
    if not groups:
        return []
    lines = [ctx.t("earthquake.city_heading", city=ctx.config.city_display_name(ctx.language))]
    for norm in sorted(groups, key=terms.intensity_rank, reverse=True):
        order = [c for c in ctx.config.ward_codes if c in groups[norm]]
        lines.append(ctx.t("earthquake.ward_intensity", intensity=ctx.t(f"intensity.{norm}"),
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
    city_max = -1
    if not isinstance(ward_intensity, Mapping):
        ward_intensity = {}
    ward_lines = _ward_lines(ctx, ward_intensity)
    if ward_lines:
        lines.extend(ward_lines)
        city_max = max((terms.intensity_rank(v) for v in ward_intensity.values()), default=-1)
    else:
        # Reports that give the city as a whole (older codes, or no ward detail).
        city_name = intensity_name(ctx, p.get("city_intensity"))
        if city_name:
            city = ctx.config.city_display_name(ctx.language)
            lines.append(ctx.t("earthquake.city_heading", city=city))
            lines.append(ctx.t("earthquake.ward_intensity", intensity=city_name, wards=city))
            city_max = terms.intensity_rank(p.get("city_intensity"))
    tsunami = param_str(p, "tsunami")
    if tsunami in _TSUNAMI:
        lines.append(ctx.t(f"earthquake.tsunami.{tsunami}"))
    strongest = city_max if city_max >= 0 else terms.intensity_rank(p.get("max_intensity"))
    if strongest >= terms.intensity_rank("5-"):
        lines.append(ctx.t("earthquake.advice.strong"))
    elif strongest >= terms.intensity_rank("3"):
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
