"""Plane geometry at city scale, for matching areas (CAP polygons and circles)
against the wards' boundaries in :mod:`bot.wardmap`.

Points are (longitude, latitude) in degrees, as in GeoJSON. Whether two segments
cross, or a point lies in a ring, does not change under the local linear map from
degrees to kilometres, so those tests work on degrees directly; distances use the
kilometres per degree of the WGS84 ellipsoid at the place concerned (at 32.8°N, about
93.7 km per degree of longitude and 110.9 km per degree of latitude), which is within
a fraction of a per cent of the geodesic distance over a city's extent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]  # (longitude, latitude)

WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
_E2 = WGS84_F * (2 - WGS84_F)
EARTH_RADIUS_KM = 6371.0088  # mean radius, for the great-circle distance


def km_per_degree(lat: float) -> tuple[float, float]:
    """(km per degree of longitude, km per degree of latitude) at latitude ``lat``:
    the prime-vertical and meridional radii of curvature of the WGS84 ellipsoid."""
    phi = math.radians(lat)
    w = 1 - _E2 * math.sin(phi) ** 2
    prime_vertical = WGS84_A_KM / math.sqrt(w)
    meridional = WGS84_A_KM * (1 - _E2) / w ** 1.5
    return (prime_vertical * math.cos(phi) * math.pi / 180, meridional * math.pi / 180)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance on the mean sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def in_ring(x: float, y: float, ring: Sequence[Point]) -> bool:
    """Even-odd rule: a ray from (x, y) towards +x crosses the ring (closed or not)
    an odd number of times when the point is inside."""
    inside = False
    x0, y0 = ring[-1]
    for x1, y1 in ring:
        if (y1 > y) != (y0 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
        x0, y0 = x1, y1
    return inside


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return (min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]))


def segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Do segments ab and cd have a point in common (crossing or touching)?"""
    d1, d2 = _orient(c, d, a), _orient(c, d, b)
    d3, d4 = _orient(a, b, c), _orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return ((d1 == 0 and _on_segment(c, d, a)) or (d2 == 0 and _on_segment(c, d, b))
            or (d3 == 0 and _on_segment(a, b, c)) or (d4 == 0 and _on_segment(a, b, d)))


def segment_distance(p: Point, a: Point, b: Point) -> float:
    """Distance from p to segment ab, all in the same plane units (e.g. km)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx
                                                    + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def bbox(points: Sequence[Point]) -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def boxes_meet(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
               ) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
