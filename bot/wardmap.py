"""Which ward a point lies in, and which wards an area touches, from the wards'
real boundaries.

The boundaries are a GeoJSON FeatureCollection named by ``[data].ward_boundaries``
in the configuration (``config/data/wards.geojson`` for 熊本市, from 国土数値情報; see
``config/data/SOURCES.md``): one feature per ward, ``properties.code`` its JIS code
as in ``[[wards]]``, geometry a Polygon or MultiPolygon in longitude/latitude (WGS84).
Pure Python (:mod:`bot.geo`): ray casting over the rings, holes excluded; an area
(a CAP polygon or circle) touches a ward when their edges meet or one lies inside
the other. Each polygon keeps a bounding box, and its edges in runs of
:data:`RUN` with a box each, so that most of a ward is ruled out at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from bot.config import Config, process_config
from bot.errors import ConfigError
from bot.geo import (
    Point,
    bbox,
    boxes_meet,
    in_ring,
    km_per_degree,
    segment_distance,
    segments_meet,
)

Ring = tuple[Point, ...]  # (lon, lat) points, closed or not
Box = tuple[float, float, float, float]
RUN = 32  # edges per run


def _runs(ring: Ring) -> tuple[tuple[Box, Ring], ...]:
    """The ring's edges, closed, in runs of RUN edges, each with its bounding box."""
    closed = ring if ring[0] == ring[-1] else (*ring, ring[0])
    return tuple((bbox(closed[i:i + RUN + 1]), closed[i:i + RUN + 1])
                 for i in range(0, len(closed) - 1, RUN))


@dataclass(frozen=True)
class Polygon:
    outer: Ring
    holes: tuple[Ring, ...]
    bbox: Box  # min lon, min lat, max lon, max lat
    runs: tuple[tuple[Box, Ring], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.runs:
            object.__setattr__(self, "runs", tuple(
                run for ring in (self.outer, *self.holes) for run in _runs(ring)))

    def contains(self, lat: float, lon: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        return in_ring(lon, lat, self.outer) and not any(
            in_ring(lon, lat, hole) for hole in self.holes)

    def meets_polygon(self, ring: Ring) -> bool:
        """Does the polygon ``ring`` ((lon, lat) points) share any point with this one?
        Edges that meet, else one inside the other (then any vertex of it is)."""
        box = bbox(ring)
        if not boxes_meet(box, self.bbox):
            return False
        if self.contains(ring[0][1], ring[0][0]) or in_ring(*self.outer[0], ring):
            return True
        closed = ring if ring[0] == ring[-1] else (*ring, ring[0])
        for a, b in pairwise(closed):
            edge_box = bbox((a, b))
            for run_box, run in self.runs:
                if boxes_meet(edge_box, run_box) and any(
                        segments_meet(a, b, c, d) for c, d in pairwise(run)):
                    return True
        return False

    def meets_circle(self, lat: float, lon: float, radius_km: float) -> bool:
        """Does the circle (centre, radius in km) share any point with this polygon?"""
        if self.contains(lat, lon):
            return True
        kx, ky = km_per_degree(lat)
        kx = max(kx, 1e-9)  # at a pole a degree of longitude has no length
        reach: Box = (lon - radius_km / kx, lat - radius_km / ky,
                      lon + radius_km / kx, lat + radius_km / ky)
        if not boxes_meet(reach, self.bbox):
            return False

        def km(p: Point) -> Point:
            return ((p[0] - lon) * kx, (p[1] - lat) * ky)

        for run_box, run in self.runs:
            if boxes_meet(reach, run_box):
                pts = [km(p) for p in run]
                if any(segment_distance((0.0, 0.0), a, b) <= radius_km
                       for a, b in pairwise(pts)):
                    return True
        return False


@dataclass(frozen=True)
class WardMap:
    """Polygons of each ward, by JIS ward code, in file order."""

    shapes: tuple[tuple[str, tuple[Polygon, ...]], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.shapes)

    def ward_at(self, lat: float, lon: float) -> str | None:
        """The code of the ward containing (lat, lon), or None outside every ward."""
        for code, polygons in self.shapes:
            if any(p.contains(lat, lon) for p in polygons):
                return code
        return None

    def wards_meeting_polygon(self, points: Sequence[tuple[float, float]]) -> tuple[str, ...]:
        """Codes of the wards a polygon of (lat, lon) points touches, as CAP writes
        them (three points at least; closed or not)."""
        ring: Ring = tuple((lon, lat) for lat, lon in points)
        if len(ring) < 3:
            return ()
        return tuple(code for code, polygons in self.shapes
                     if any(p.meets_polygon(ring) for p in polygons))

    def wards_meeting_circle(self, lat: float, lon: float, radius_km: float
                             ) -> tuple[str, ...]:
        """Codes of the wards a circle (centre, radius in km) touches."""
        return tuple(code for code, polygons in self.shapes
                     if any(p.meets_circle(lat, lon, radius_km) for p in polygons))


def _ring(points: object, where: str, path: str) -> Ring:
    if not isinstance(points, list) or len(points) < 3:
        raise ConfigError(f"{where}: a ring needs at least three points", path=path)
    try:
        return tuple((float(p[0]), float(p[1])) for p in points)
    except (TypeError, ValueError, IndexError):
        raise ConfigError(f"{where}: points must be [longitude, latitude]", path=path) from None


def _polygon(rings: object, where: str, path: str) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise ConfigError(f"{where}: a polygon needs an outer ring", path=path)
    outer = _ring(rings[0], where, path)
    return Polygon(outer=outer, holes=tuple(_ring(r, where, path) for r in rings[1:]),
                   bbox=bbox(outer))


def _polygons(geometry: object, where: str, path: str) -> Iterable[Polygon]:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        return (_polygon(coords, where, path),)
    if kind == "MultiPolygon" and isinstance(coords, list):
        return tuple(_polygon(c, where, path) for c in coords)
    raise ConfigError(f"{where}: geometry must be a Polygon or MultiPolygon", path=path)


def load_ward_map(path: str | Path, ward_codes: Sequence[str] | None = None) -> WardMap:
    """The boundaries in a GeoJSON file; with ``ward_codes``, each of those wards must
    have a feature and every feature must be one of them."""
    spath = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("ward boundaries file not found", path=spath) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"ward boundaries cannot be read: {exc}", path=spath) from None
    features = data.get("features") if isinstance(data, dict) else None
    if data.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise ConfigError("must be a GeoJSON FeatureCollection", path=spath)
    shapes: dict[str, list[Polygon]] = {}
    for i, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        code = props.get("code") if isinstance(props, dict) else None
        where = f"features[{i}]"
        if not isinstance(code, str) or not code:
            raise ConfigError(f"{where}: properties.code (the ward's JIS code) is missing",
                              path=spath)
        if ward_codes is not None and code not in ward_codes:
            raise ConfigError(f"{where}: ward {code} is not in the configuration's [[wards]]",
                              path=spath)
        shapes.setdefault(code, []).extend(_polygons(feature.get("geometry"), where, spath))
    missing = [c for c in ward_codes or () if c not in shapes]
    if missing:
        raise ConfigError(f"no boundary for ward(s) {', '.join(missing)}", path=spath)
    return WardMap(shapes=tuple((code, tuple(polys)) for code, polys in shapes.items()))


@functools.cache
def _cached(path: str, ward_codes: tuple[str, ...]) -> WardMap:
    return load_ward_map(path, ward_codes)


def ward_map(config: Config | None = None) -> WardMap:
    """The ward boundaries of ``config`` (default: this process's), read once."""
    cfg = config or process_config()
    return _cached(str(cfg.data_files.ward_boundaries), cfg.ward_codes)


def ward_at(lat: float, lon: float, config: Config | None = None) -> str | None:
    """The JIS code of the ward of ``config`` (default: this process's) containing the
    point (WGS84 latitude, longitude), or None when it is outside the city."""
    return ward_map(config).ward_at(lat, lon)
