"""Which ward a point lies in, from the wards' real boundaries.

The boundaries are a GeoJSON FeatureCollection named by ``[data].ward_boundaries``
in the configuration (``config/data/wards.geojson`` for 熊本市, from 国土数値情報; see
``config/data/SOURCES.md``): one feature per ward, ``properties.code`` its JIS code
as in ``[[wards]]``, geometry a Polygon or MultiPolygon in longitude/latitude (WGS84).
Pure Python: ray casting over the rings, holes excluded, with a bounding box per
polygon so that most wards are ruled out at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config, process_config
from bot.errors import ConfigError

Ring = tuple[tuple[float, float], ...]  # (lon, lat) points, closed or not


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd rule: a ray from the point towards +longitude crosses the ring an
    odd number of times when the point is inside."""
    inside = False
    x0, y0 = ring[-1]
    for x1, y1 in ring:
        if (y1 > lat) != (y0 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
        x0, y0 = x1, y1
    return inside


@dataclass(frozen=True)
class Polygon:
    outer: Ring
    holes: tuple[Ring, ...]
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, lat: float, lon: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        return _in_ring(lon, lat, self.outer) and not any(
            _in_ring(lon, lat, hole) for hole in self.holes)


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
    lons, lats = [p[0] for p in outer], [p[1] for p in outer]
    return Polygon(outer=outer, holes=tuple(_ring(r, where, path) for r in rings[1:]),
                   bbox=(min(lons), min(lats), max(lons), max(lats)))


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
