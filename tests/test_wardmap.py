"""Point → ward over the wards' real boundaries (config/data/wards.geojson)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.shelters import shelters
from bot.wardmap import load_ward_map, ward_at, ward_map

CONFIG = load_config()


@pytest.mark.parametrize(("lat", "lon", "code"), [
    (32.8031, 130.7079, "43101"),  # 熊本市役所 (City Hall), 中央区手取本町
    (32.8061, 130.7058, "43101"),  # 熊本城 (Kumamoto Castle)
    (32.7898, 130.6887, "43103"),  # 熊本駅 (Kumamoto Station), 西区春日
    # the reference point near each ward office that CAP matching used before it
    # read the boundaries (bousai.toml's former [jurisdiction.ward_points])
    (32.8032, 130.7079, "43101"),
    (32.7903, 130.7680, "43102"),
    (32.7900, 130.6890, "43103"),
    (32.7170, 130.6960, "43104"),
    (32.8955, 130.6880, "43105"),
])
def test_real_places_fall_in_their_ward(lat: float, lon: float, code: str) -> None:
    assert ward_at(lat, lon) == code
    assert ward_at(lat, lon, CONFIG) == code


@pytest.mark.parametrize(("lat", "lon"), [
    (33.5902, 130.4017),  # 福岡市役所
    (32.8843, 131.1041),  # 阿蘇山 中岳 (outside the city)
    (32.8000, 130.5200),  # 有明海, off the coast of 西区
    (32.8800, 130.7900),  # 合志市 / 菊陽町, north-east of 東区
    (0.0, 0.0),
])
def test_points_outside_the_city_are_none(lat: float, lon: float) -> None:
    assert ward_at(lat, lon) is None


def test_every_ward_of_the_config_has_a_shape() -> None:
    assert set(ward_map(CONFIG).codes) == set(CONFIG.ward_codes)


def test_shelters_lie_in_the_ward_their_address_names() -> None:
    names = {w.code: w.names["ja"] for w in CONFIG.wards}
    checked, outside = 0, []
    for s in shelters().values():
        assert s.lat is not None and s.lon is not None
        code = ward_at(s.lat, s.lon)
        if code is None:
            outside.append(s.name)
            continue
        if "区" in s.address:  # 熊本城's address is only "本丸"
            assert f"熊本市{names[code]}" in s.address, (s.name, s.address, code)
            checked += 1
    assert outside == ["緑川右岸第1号緑地"]  # on the river edge (see config/data/SOURCES.md)
    assert checked >= 280


def _square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def _write(tmp_path: Path, features: list[dict[str, object]]) -> Path:
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path


def test_holes_and_multipolygons(tmp_path: Path) -> None:
    ring = {"type": "Feature", "properties": {"code": "A"},
            "geometry": {"type": "Polygon",
                         "coordinates": [_square(0, 0, 10, 10), _square(4, 4, 6, 6)]}}
    islands = {"type": "Feature", "properties": {"code": "B"},
               "geometry": {"type": "MultiPolygon",
                            "coordinates": [[_square(4.5, 4.5, 5.5, 5.5)],
                                            [_square(20, 20, 21, 21)]]}}
    m = load_ward_map(_write(tmp_path, [ring, islands]), ("A", "B"))
    assert m.ward_at(lat=1, lon=1) == "A"
    assert m.ward_at(lat=5, lon=5) == "B"  # in A's hole, on B's island
    assert m.ward_at(lat=4.2, lon=4.2) is None  # in the hole, not on the island
    assert m.ward_at(lat=20.5, lon=20.5) == "B"
    assert m.ward_at(lat=15, lon=15) is None


@pytest.mark.parametrize(("features", "codes", "message"), [
    ([{"type": "Feature", "properties": {},
       "geometry": {"type": "Polygon", "coordinates": [_square(0, 0, 1, 1)]}}],
     None, "properties.code"),
    ([{"type": "Feature", "properties": {"code": "X"},
       "geometry": {"type": "Point", "coordinates": [0, 0]}}], None, "Polygon or MultiPolygon"),
    ([{"type": "Feature", "properties": {"code": "X"},
       "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}], None,
     "three points"),
    ([{"type": "Feature", "properties": {"code": "X"},
       "geometry": {"type": "Polygon", "coordinates": [_square(0, 0, 1, 1)]}}],
     ("A",), "not in the configuration"),
    ([], ("A",), "no boundary for ward(s) A"),
])
def test_bad_boundaries_are_a_clear_error(tmp_path: Path, features: list[dict[str, object]],
                                          codes: tuple[str, ...] | None, message: str) -> None:
    path = _write(tmp_path, features)
    with pytest.raises(ConfigError) as err:
        load_ward_map(path, codes)
    assert message in str(err.value) and str(path) in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_ward_map(tmp_path / "nowhere.geojson")
