"""The city's wards as one inline SVG: a choropleth of a 0..1 value per ward
(share of subscribers, an alert's delivery progress), with labels, hover titles,
the shelters as dots and a small legend. No tiles, no scripts, no outside
requests: the whole map is one string the console writes into its page.

The boundaries are those of :func:`bot.wardmap.ward_map` (``[data].ward_boundaries``),
projected equirectangularly with the longitude scaled by cos(latitude) at the
city's middle (a degree east is that much shorter than a degree north), fitted to
``width`` with y pointing down. Each ring keeps only what shows: points at least
:data:`MIN_STEP` px from the last one kept, then Douglas-Peucker within the same
tolerance, written with one decimal in relative path commands. 熊本市's five wards
(22,000 points) come to 17 KB at 640 px, 55 KB with all 289 shelters. The drawn
wards are kept per ward map and width, so a page that refreshes draws them once.

Colours: a sequential light-to-dark blue scale (ColorBrewer "Blues", readable
with every common colour-vision deficiency and in greyscale), and an explicit
grey (:data:`NO_VALUE`) for a ward without a value. Open shelters are filled
orange dots, closed ones hollow dark rings, unknown ones small grey dots: the
shape tells them apart as well as the colour.

Every text (labels, titles, names, the caption) is XML-escaped.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import Config
from bot.wardmap import Polygon, Ring, WardMap, ward_map

MIN_STEP = 0.5  # px: a point closer than this to the last one kept is dropped
PAD = 8  # px around the map
LEGEND_HEIGHT = 30  # px below the map
# ColorBrewer Blues, 9 classes, light to dark (interpolated between stops).
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
         "#08519c", "#08306b")
NO_VALUE = "#bdbdbd"  # grey: a ward without a value
STROKE = "#4d4d4d"
SHELTER_STYLE = {  # class → (radius, fill, stroke)
    "open": (3.5, "#e66101", "#ffffff"),
    "closed": (3.0, "#ffffff", "#252525"),
    "unknown": (2.2, "#737373", "#ffffff"),
}
LEGEND_TEXT = {"none": "値なし no value", "open": "開設 open", "closed": "閉鎖 closed",
               "unknown": "不明 unknown"}


@dataclass(frozen=True)
class ShelterPoint:
    """A shelter to draw: ``open`` True (opened), False (closed) or None (unknown)."""

    id: str
    name: str
    lat: float
    lon: float
    open: bool | None  # None = unknown


def colour(value: float | None) -> str:
    """The fill for ``value`` (0..1, clamped); :data:`NO_VALUE` for None or NaN."""
    if value is None or math.isnan(value):
        return NO_VALUE
    v = min(1.0, max(0.0, float(value))) * (len(BLUES) - 1)
    i = min(int(v), len(BLUES) - 2)
    t = v - i
    a, b = _rgb(BLUES[i]), _rgb(BLUES[i + 1])
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG) of ``#rrggbb``, 0 (black) to 1 (white)."""
    def lin(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@dataclass(frozen=True)
class _Projection:
    lon0: float
    lat1: float  # the northern edge
    kx: float  # cos(latitude) at the middle
    scale: float  # px per degree of latitude

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (PAD + (lon - self.lon0) * self.kx * self.scale,
                PAD + (self.lat1 - lat) * self.scale)


def _projection(polygons: Sequence[Polygon], width: int) -> tuple[_Projection, float]:
    """The projection fitting every polygon into ``width``, and the map's height."""
    x0 = min(p.bbox[0] for p in polygons)
    y0 = min(p.bbox[1] for p in polygons)
    x1 = max(p.bbox[2] for p in polygons)
    y1 = max(p.bbox[3] for p in polygons)
    kx = math.cos(math.radians((y0 + y1) / 2))
    span = max((x1 - x0) * kx, 1e-9)
    scale = (width - 2 * PAD) / span
    return _Projection(lon0=x0, lat1=y1, kx=kx, scale=scale), (y1 - y0) * scale + 2 * PAD


def _simplify(points: Sequence[tuple[float, float]], tolerance: float
              ) -> list[tuple[float, float]]:
    """Douglas-Peucker on an open run of points: keep the ends and every point that
    lies farther than ``tolerance`` from the line of the points kept around it."""
    n = len(points)
    if n < 3:
        return list(points)
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        (ax, ay), (bx, by) = points[i], points[j]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        worst, at = -1.0, -1
        for k in range(i + 1, j):
            px, py = points[k]
            if length == 0:
                dist = math.hypot(px - ax, py - ay)
            else:
                dist = abs(dx * (ay - py) - dy * (ax - px)) / length
            if dist > worst:
                worst, at = dist, k
        if worst > tolerance:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _thin(points: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """A projected ring with what cannot be seen taken out, in tenths of a pixel:
    points closer than MIN_STEP to the last one kept are dropped, then every point
    within MIN_STEP of the line its neighbours make (Douglas-Peucker). The ring is
    split at its farthest point from the first, so both halves keep their ends."""
    near: list[tuple[float, float]] = []
    lx = ly = math.inf
    for x, y in points:
        if math.hypot(x - lx, y - ly) >= MIN_STEP:
            near.append((x, y))
            lx, ly = x, y
    if len(near) < 3:
        return []
    x0, y0 = near[0]
    far = max(range(len(near)), key=lambda k: math.hypot(near[k][0] - x0, near[k][1] - y0))
    kept = (_simplify(near[:far + 1], MIN_STEP)[:-1]
            + _simplify([*near[far:], near[0]], MIN_STEP)[:-1])
    out: list[tuple[int, int]] = []
    for x, y in kept:
        q = (round(x * 10), round(y * 10))
        if not out or q != out[-1]:
            out.append(q)
    while len(out) > 1 and out[-1] == out[0]:
        out.pop()
    return out


def _num(tenths: int) -> str:
    """A length in tenths of a pixel, written short: 15 → "1.5", -3 → "-.3", 20 → "2"."""
    sign = "-" if tenths < 0 else ""
    whole, frac = divmod(abs(tenths), 10)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole or ''}.{frac}"


def _subpath(points: list[tuple[int, int]]) -> str:
    (x, y), rest = points[0], points[1:]
    steps = []
    for px, py in rest:
        steps.append(f"{_num(px - x)} {_num(py - y)}")
        x, y = px, py
    return f"M{_num(points[0][0])} {_num(points[0][1])}l" + " ".join(steps) + "z"


def _ring_area(points: Sequence[tuple[float, float]]) -> float:
    return 0.5 * abs(sum(a[0] * b[1] - b[0] * a[1]
                         for a, b in zip(points, (*points[1:], points[0]), strict=True)))


def _label_point(ring: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """A point inside ``ring`` (projected) near its middle: on the horizontal line
    through the ring's centroid, the middle of the widest stretch inside it."""
    n = len(ring)
    a = cx = cy = 0.0
    for i in range(n):
        (x0, y0), (x1, y1) = ring[i], ring[(i + 1) % n]
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-9:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    cx, cy = cx / (3 * a), cy / (3 * a)
    crossings = sorted(
        x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        for (x0, y0), (x1, y1) in zip(ring, (*ring[1:], ring[0]), strict=True)
        if (y0 <= cy < y1) or (y1 <= cy < y0))
    spans = [(crossings[i + 1] - crossings[i], crossings[i])
             for i in range(0, len(crossings) - 1, 2)]
    if not spans:
        return cx, cy
    w, left = max(spans)
    return left + w / 2, cy


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class _Shape:
    """A ward drawn at one width: its path data and where its label goes."""

    code: str
    d: str
    label_at: tuple[float, float] | None


@dataclass(frozen=True)
class _Geometry:
    project: _Projection
    height: float  # of the map, without legend and caption
    shapes: tuple[_Shape, ...]


@functools.lru_cache(maxsize=16)
def _geometry(wm: WardMap, width: int) -> _Geometry:
    """The wards projected, thinned and written as path data, once per ward map (read
    once per file by :func:`~bot.wardmap.ward_map`) and width: about 0.1 s for 熊本市,
    which a page that refreshes need not pay again."""
    project, height = _projection([p for _, polys in wm.shapes for p in polys], width)
    shapes = []
    for code, polygons in wm.shapes:
        subpaths: list[str] = []
        biggest: tuple[float, list[tuple[float, float]]] = (-1.0, [])
        for poly in polygons:
            rings: tuple[Ring, ...] = (poly.outer, *poly.holes)
            for k, ring in enumerate(rings):
                projected = [project(lon, lat) for lon, lat in ring]
                thin = _thin(projected)
                if len(thin) < 3:
                    continue  # smaller than a pixel or so
                subpaths.append(_subpath(thin))
                if k == 0:
                    area = _ring_area(projected)
                    if area > biggest[0]:
                        biggest = (area, projected)
        shapes.append(_Shape(code=code, d="".join(subpaths),
                             label_at=_label_point(biggest[1]) if biggest[1] else None))
    return _Geometry(project=project, height=height, shapes=tuple(shapes))


def _ward_svg(shape: _Shape, value: float | None, label: str, title: str
              ) -> tuple[str, str]:
    """(the ward's <path>, its label's <text>) — the labels go on top of every path."""
    fill = colour(value)
    code = _esc(shape.code)
    path = (f'<path class="ward" data-ward="{code}" fill="{fill}" fill-rule="evenodd" '
            f'd="{shape.d}"><title>{_esc(title)}</title></path>')
    if not label or shape.label_at is None:
        return path, ""
    x, y = shape.label_at
    ink = "#ffffff" if luminance(fill) < 0.25 else "#111111"
    halo = "#111111" if ink == "#ffffff" else "#ffffff"
    text = (f'<text class="ward-label" data-ward="{code}" x="{x:.1f}" y="{y:.1f}" '
            f'text-anchor="middle" dominant-baseline="middle" font-size="12" fill="{ink}" '
            f'stroke="{halo}" stroke-width="2.5" stroke-opacity="0.6" paint-order="stroke">'
            f'{_esc(label)}</text>')
    return path, text


def _state(s: ShelterPoint) -> str:
    return "unknown" if s.open is None else "open" if s.open else "closed"


def _shelters_svg(shelters: Sequence[ShelterPoint], project: _Projection, width: int,
                  height: float) -> str:
    """One group per state (its fill and stroke shared), a dot per shelter inside
    the frame, whole pixels (a dot is 5 px wide)."""
    groups: dict[str, list[str]] = {"closed": [], "unknown": [], "open": []}
    for s in shelters:
        x, y = project(s.lon, s.lat)
        if not (0 <= x <= width and 0 <= y <= height):
            continue
        cls = _state(s)
        r = SHELTER_STYLE[cls][0]
        groups[cls].append(f'<circle class="shelter {cls}" data-shelter="{_esc(s.id)}" '
                           f'cx="{x:.0f}" cy="{y:.0f}" r="{r}"><title>{_esc(s.name)}'
                           f'</title></circle>')
    out = []
    for cls, dots in groups.items():  # open ones last: on top
        if dots:
            _, fill, stroke = SHELTER_STYLE[cls]
            out.append(f'<g class="shelters {cls}" fill="{fill}" stroke="{stroke}" '
                       f'stroke-width="1">{"".join(dots)}</g>')
    return "".join(out)


def _legend(top: float, width: int, shelters: bool) -> tuple[str, float]:
    """The colour scale, the grey of no value and (with ``shelters``) the three dots,
    on one line or, when the map is narrow, two; and its height."""
    y = top + 6
    parts = ['<g class="legend" font-size="11" fill="#111111">']
    x = float(PAD)
    for i in range(5):
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="22" height="12" '
                     f'fill="{colour(i / 4)}" stroke="{STROKE}" stroke-width="0.5"/>')
        x += 22
    parts.append(f'<text x="{PAD}" y="{y + 24:.1f}">0%</text>')
    parts.append(f'<text x="{x:.1f}" y="{y + 24:.1f}" text-anchor="end">100%</text>')
    x += 10
    parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="22" height="12" fill="{NO_VALUE}" '
                 f'stroke="{STROKE}" stroke-width="0.5"/>')
    parts.append(f'<text x="{x + 26:.1f}" y="{y + 10:.1f}">{_esc(LEGEND_TEXT["none"])}</text>')
    height = float(LEGEND_HEIGHT)
    if shelters:
        x += 130
        if x + 240 > width - PAD:  # no room left: a line of its own
            x, y, height = float(PAD), y + LEGEND_HEIGHT, height + LEGEND_HEIGHT - 8
        for cls in ("open", "closed", "unknown"):
            r, fill, _ = SHELTER_STYLE[cls]
            parts.append(f'<circle class="shelter-key {cls}" cx="{x + 4:.1f}" '
                         f'cy="{y + 6:.1f}" r="{r}" fill="{fill}" stroke="{STROKE}" '
                         f'stroke-width="1"/>')
            parts.append(f'<text x="{x + 11:.1f}" y="{y + 10:.1f}">'
                         f'{_esc(LEGEND_TEXT[cls])}</text>')
            x += 80
    parts.append("</g>")
    return "".join(parts), height


def ward_map_svg(config: Config, values: Mapping[str, float], *, labels: Mapping[str, str],
                 titles: Mapping[str, str] | None = None,
                 shelters: Sequence[ShelterPoint] = (), width: int = 640,
                 caption: str = "") -> str:
    """The wards of ``config`` as an inline ``<svg>``: each ward filled by its value in
    ``values`` (ward code → 0..1; a ward missing there is grey), labelled from
    ``labels`` (e.g. "中央区 42%"), with ``titles`` as hover text (default: the label),
    ``shelters`` as dots (those outside the map's frame are left out), a legend, and
    ``caption`` written under the map and used as its ``aria-label``."""
    geo = _geometry(ward_map(config), width)
    project, map_height = geo.project, geo.height
    legend, legend_height = _legend(map_height, width, bool(shelters))
    height = math.ceil(map_height + legend_height + (18 if caption else 0))
    paths: list[str] = []
    texts: list[str] = []
    for shape in geo.shapes:
        label = labels.get(shape.code, "")
        title = (titles or {}).get(shape.code) or label or shape.code
        path, text = _ward_svg(shape, values.get(shape.code), label, title)
        paths.append(path)
        if text:
            texts.append(text)
    aria = caption or "Map of the wards"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="ward-map" role="img" '
           f'aria-label="{_esc(aria)}" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
           f'<g class="wards" stroke="{STROKE}" stroke-width="0.8" stroke-linejoin="round">',
           *paths, "</g>"]
    out += ['<g class="labels" pointer-events="none">', *texts, "</g>"]
    out.append(_shelters_svg(shelters, project, width, map_height))
    out.append(legend)
    if caption:
        out.append(f'<text class="caption" x="{PAD}" y="{height - 5}" font-size="12" '
                   f'fill="#111111">{_esc(caption)}</text>')
    out.append("</svg>")
    return "".join(out)
