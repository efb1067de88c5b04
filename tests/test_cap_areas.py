"""CAP areas select exactly the wards they touch, by the wards' real boundaries
(config/data/wards.geojson), not by a reference point and radius per ward."""

from __future__ import annotations

import math

import pytest

from bot.config import load_config
from bot.geo import distance_km, km_per_degree, segment_distance, segments_meet
from bot.ingest.cap import parse_cap
from bot.ingest.jurisdiction import Jurisdiction
from bot.wardmap import Polygon, WardMap, ward_at, ward_map

CHUO, HIGASHI, NISHI, MINAMI, KITA = "43101", "43102", "43103", "43104", "43105"


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


def cap_area(inner: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>AREA-1</identifier><sender>bousai@city.kumamoto.example</sender>
  <sent>2024-07-12T05:10:00+09:00</sent><status>Actual</status>
  <msgType>Alert</msgType><scope>Public</scope>
  <info><language>ja-JP</language><category>Geo</category><event>土砂災害</event>
    <urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>
    <headline>テスト</headline>
    <area><areaDesc>テスト地域</areaDesc>{inner}</area></info>
</alert>""".encode()


def square(lat0: float, lat1: float, lon0: float, lon1: float) -> str:
    pts = [(lat0, lon0), (lat0, lon1), (lat1, lon1), (lat1, lon0), (lat0, lon0)]
    return "<polygon>" + " ".join(f"{la},{lo}" for la, lo in pts) + "</polygon>"


def wards_of(kumamoto: Jurisdiction, inner: str) -> tuple[tuple[str, ...], bool]:
    [a] = parse_cap(cap_area(inner), kumamoto)
    return a.wards, a.in_jurisdiction


def test_a_3_km_circle_inside_higashi_selects_only_higashi(kumamoto: Jurisdiction) -> None:
    # 3 km across (radius 1.5 km), centred 1.6 km inside 東区's boundary (健軍 area).
    # The reference points matched 東区 and 西区, whose point is 7 km away.
    assert ward_at(32.7785, 130.7655) == HIGASHI
    assert wards_of(kumamoto, "<circle>32.7785,130.7655 1.5</circle>") == ((HIGASHI,), True)


def test_a_3_km_radius_circle_reaches_chuo_but_not_nishi(kumamoto: Jurisdiction) -> None:
    # Around the point the configuration used for 東区 (1.4 km from 中央区): the
    # reference points matched 中央区, 東区 and 西区; 西区 is more than 6 km away.
    assert wards_of(kumamoto, "<circle>32.7903,130.7680 3</circle>") == (
        (CHUO, HIGASHI), True)


def test_a_polygon_over_chuo_selects_only_chuo(kumamoto: Jurisdiction) -> None:
    # the area of tests/fixtures/cap/kumamoto_landslide.cap (水前寺・大江 area)
    assert wards_of(kumamoto, square(32.790, 32.808, 130.711, 130.733)) == ((CHUO,), True)


def test_a_polygon_straddling_chuo_and_kita_selects_both(kumamoto: Jurisdiction) -> None:
    assert ward_at(32.815, 130.720) == CHUO and ward_at(32.840, 130.720) == KITA
    assert wards_of(kumamoto, square(32.815, 32.840, 130.712, 130.728)) == (
        (CHUO, KITA), True)


def test_a_polygon_outside_the_city_selects_none(kumamoto: Jurisdiction) -> None:
    # South-east of the city, beyond 東区 and 南区 (the reference points matched both).
    assert wards_of(kumamoto, square(32.74, 32.75, 130.74, 130.76)) == ((), False)
    # and a circle in the sea off 西区
    assert wards_of(kumamoto, "<circle>32.80,130.52 2</circle>") == ((), False)


def test_an_area_around_the_whole_city_selects_every_ward(kumamoto: Jurisdiction) -> None:
    everything = kumamoto.ward_codes
    assert wards_of(kumamoto, square(32.5, 33.1, 130.4, 131.0)) == (everything, True)
    assert wards_of(kumamoto, "<circle>32.80,130.70 30</circle>") == (everything, True)


def test_a_thin_strip_crossing_a_ward_with_no_corner_inside(kumamoto: Jurisdiction) -> None:
    # A north-south strip 200 m wide through 東区 whose corners all lie outside the
    # city: only edge crossings can find the wards it passes through.
    strip = square(32.70, 32.88, 130.800, 130.802)
    corners = [(32.70, 130.800), (32.70, 130.802), (32.88, 130.802), (32.88, 130.800)]
    assert all(ward_at(la, lo) is None for la, lo in corners)
    wards, inside = wards_of(kumamoto, strip)
    assert HIGASHI in wards and inside
    assert CHUO not in wards and NISHI not in wards


def test_geocodes_and_shapes_add_up(kumamoto: Jurisdiction) -> None:
    inner = ("<circle>32.74,130.66 1.5</circle>"
             "<geocode><valueName>JIS</valueName><value>43105</value></geocode>")
    assert wards_of(kumamoto, inner) == ((MINAMI, KITA), True)


# ------------------------------------------------------------------ the geometry


def test_km_per_degree_at_kumamoto() -> None:
    kx, ky = km_per_degree(32.8)
    assert 93.6 < kx < 93.8 and 110.8 < ky < 111.0
    # one degree of longitude along the parallel, against the great circle
    assert math.isclose(kx, distance_km(32.8, 130.0, 32.8, 130.001) * 1000, rel_tol=3e-3)


def test_segments_and_distances() -> None:
    assert segments_meet((0, 0), (2, 2), (0, 2), (2, 0))        # crossing
    assert segments_meet((0, 0), (1, 1), (1, 1), (2, 0))        # touching at an end
    assert segments_meet((0, 0), (2, 0), (1, 0), (3, 0))        # overlapping, collinear
    assert not segments_meet((0, 0), (1, 0), (2, 0), (3, 0))    # collinear, apart
    assert not segments_meet((0, 0), (1, 1), (0, 1), (0.4, 0.6))
    assert segment_distance((0, 1), (-1, 0), (1, 0)) == 1
    assert segment_distance((3, 4), (0, 0), (0, 0)) == 5
    assert math.isclose(segment_distance((2, 1), (-1, 0), (1, 0)), math.sqrt(2))


def _ring(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))


def test_a_ward_with_a_hole() -> None:
    """A ward (lon 0..1, lat 0..1 around 32.8°N) with a hole in the middle: an area
    inside the hole touches no land of the ward, one crossing the hole's edge does."""
    outer = _ring(130.0, 32.0, 131.0, 33.0)
    hole = _ring(130.4, 32.4, 130.6, 32.6)
    poly = Polygon(outer=outer, holes=(hole,), bbox=(130.0, 32.0, 131.0, 33.0))
    wm = WardMap(shapes=(("1", (poly,)),))
    assert wm.wards_meeting_polygon([(32.45, 130.45), (32.45, 130.55), (32.55, 130.5)]) == ()
    assert wm.wards_meeting_polygon([(32.45, 130.45), (32.45, 130.65), (32.55, 130.5)]) == (
        "1",)
    assert wm.wards_meeting_circle(32.5, 130.5, 5) == ()      # 5 km: within the hole
    assert wm.wards_meeting_circle(32.5, 130.5, 12) == ("1",)  # reaches its edge
    assert wm.wards_meeting_circle(31.9, 130.5, 5) == ()      # 11 km south of the ward
    assert wm.wards_meeting_circle(31.9, 130.5, 12) == ("1",)
    # a polygon enclosing the whole ward
    assert wm.wards_meeting_polygon([(31, 129), (31, 132), (34, 132), (34, 129)]) == ("1",)
    assert wm.wards_meeting_polygon([(31, 129), (31, 130)]) == ()  # not a polygon


def test_the_wards_have_edges_in_runs() -> None:
    for _code, polygons in ward_map().shapes:
        for p in polygons:
            edges = sum(len(run) - 1 for _box, run in p.runs)
            rings = (p.outer, *p.holes)
            assert edges == sum(len(r) - (r[0] == r[-1]) for r in rings)
