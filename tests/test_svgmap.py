"""The ward map as inline SVG (bot/console/svgmap.py): 熊本市's five wards from the
real boundaries, parsed back as XML, with shelter states read from a real database."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from typing import Any

import defusedxml.ElementTree as ET

from bot.config import load_config
from bot.console.svgmap import NO_VALUE, PAD, ShelterPoint, luminance, ward_map_svg
from bot.domain import Alert, Kind
from bot.domain import payloads as pl
from bot.shelters import shelters_for
from bot.store.console import shelter_states
from bot.wardmap import ward_map
from tests.harness import harness

CONFIG = load_config()
NS = "{http://www.w3.org/2000/svg}"
CODES = ("43101", "43102", "43103", "43104", "43105")
VALUES = {"43101": 0.2, "43102": 0.9, "43103": 0.5, "43104": 0.0}  # 43105: no value
LIMIT = 60_000  # bytes


def _labels() -> dict[str, str]:
    return {c: f"{CONFIG.ward(c).name('ja')} {round(v * 100)}%" for c, v in VALUES.items()}


def _points(states: dict[str, bool]) -> list[ShelterPoint]:
    return [ShelterPoint(id=s.id, name=s.name, lat=s.lat, lon=s.lon, open=states.get(s.id))
            for s in shelters_for(CONFIG).values() if s.lat is not None and s.lon is not None]


def _absolute(d: str) -> list[tuple[float, float]]:
    """The points of a path written as "Mx y l dx dy dx dy … z", repeated."""
    out = []
    for sub in re.findall(r"M([^l]+)l([^z]*)z", d):
        x, y = (float(v) for v in sub[0].split())
        out.append((x, y))
        steps = [float(v) for v in re.findall(r"-?[\d.]+", sub[1])]
        for dx, dy in zip(steps[::2], steps[1::2], strict=True):
            x, y = x + dx, y + dy
            out.append((x, y))
    return out


def _by(root: Any, tag: str, cls: str) -> list[Any]:
    return [e for e in root.iter(NS + tag) if cls in (e.get("class") or "").split()]


def test_five_wards_filled_by_value_labelled_and_titled() -> None:
    titles = {c: f"{CONFIG.ward(c).name('ja')}: {n} subscribers" for n, c in enumerate(CODES)}
    svg = ward_map_svg(CONFIG, VALUES, labels=_labels(), titles=titles,
                       caption="Share of subscribers")
    root = ET.fromstring(svg)
    assert root.tag == NS + "svg"
    assert root.get("role") == "img" and root.get("aria-label") == "Share of subscribers"
    paths = {p.get("data-ward"): p for p in _by(root, "path", "ward")}
    assert tuple(sorted(paths)) == CODES
    for code, path in paths.items():
        assert path.find(NS + "title").text == titles[code]
        assert path.get("d").startswith("M") and path.get("d").endswith("z")
    fills = {c: p.get("fill") for c, p in paths.items()}
    assert fills["43105"] == NO_VALUE
    # the higher the value, the darker the fill
    ranked = sorted(VALUES, key=VALUES.__getitem__)
    lum = [luminance(fills[c]) for c in ranked]
    assert lum == sorted(lum, reverse=True) and len(set(lum)) == len(lum)
    labels = {t.get("data-ward"): t.text for t in _by(root, "text", "ward-label")}
    assert labels == _labels()
    assert root.find(f".//{NS}g[@class='legend']") is not None


def test_projection_fits_the_width_with_the_latitude_correction_and_labels_inside() -> None:
    width = 500
    svg = ward_map_svg(CONFIG, VALUES, labels=_labels(), width=width)
    root = ET.fromstring(svg)
    polygons = [p for _, polys in ward_map(CONFIG).shapes for p in polys]
    lon0, lat0 = min(p.bbox[0] for p in polygons), min(p.bbox[1] for p in polygons)
    lon1, lat1 = max(p.bbox[2] for p in polygons), max(p.bbox[3] for p in polygons)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    scale = (width - 2 * PAD) / ((lon1 - lon0) * kx)
    assert root.get("viewBox").split()[2] == str(width)
    assert float(root.get("height")) > (lat1 - lat0) * scale + 2 * PAD  # map + legend
    points = [pt for path in _by(root, "path", "ward") for pt in _absolute(path.get("d"))]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    # fitted to the width; the height follows from cos(latitude) (within a pixel)
    assert abs(min(xs) - PAD) < 1 and abs(max(xs) - (width - PAD)) < 1
    assert abs(min(ys) - PAD) < 1 and abs(max(ys) - (PAD + (lat1 - lat0) * scale)) < 1
    # each label, taken back to longitude and latitude, lies in its own ward
    wm = ward_map(CONFIG)
    for text in _by(root, "text", "ward-label"):
        x, y = float(text.get("x")), float(text.get("y"))
        lon = lon0 + (x - PAD) / (kx * scale)
        lat = lat1 - (y - PAD) / scale
        assert wm.ward_at(lat, lon) == text.get("data-ward")


def test_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & 中央区'
    shelter = ShelterPoint(id='1"><b>', name="<i>避難所</i> & 'co'", lat=32.8031,
                           lon=130.7079, open=None)
    svg = ward_map_svg(CONFIG, {"43101": 1.0}, labels={"43101": hostile},
                       titles={"43101": hostile}, shelters=[shelter], caption=hostile)
    assert "<script" not in svg and "<i>" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert root.get("aria-label") == hostile
    [label] = _by(root, "text", "ward-label")
    assert label.text == hostile
    [dot] = _by(root, "circle", "shelter")
    assert dot.get("data-shelter") == shelter.id
    assert dot.find(NS + "title").text == shelter.name
    assert dot.get("class") == "shelter unknown"
    assert not [e for e in root.iter() if e.tag in (NS + "script", NS + "i", NS + "b")]


def test_shelters_open_and_closed_from_the_database_and_the_size_limit(db_url: str) -> None:
    table = shelters_for(CONFIG)
    opened, closed = list(table)[:3], list(table)[3:5]
    with harness(db_url) as h:
        for sids, action in ((tuple(opened), "opened"), (tuple(closed), "closed")):
            h.submit(Alert(source="cli", source_id=str(uuid.uuid4()), kind=Kind.SHELTER,
                           wards=(), body_ja="避難所のお知らせ", texts={"en": "Shelters."},
                           payload=pl.Shelter(shelter_ids=sids, action=pl.ShelterAction(action)),
                           issued=dt.datetime.now(dt.UTC)), operator="test")
        with h.engine.connect() as conn:
            states = shelter_states(conn)
    assert states == {**dict.fromkeys(opened, True), **dict.fromkeys(closed, False)}
    points = _points(states)
    svg = ward_map_svg(CONFIG, VALUES, labels=_labels(), shelters=points,
                       caption="避難所と登録者の割合")
    size = len(svg.encode("utf-8"))
    assert size < LIMIT, size
    root = ET.fromstring(svg)
    dots = _by(root, "circle", "shelter")
    assert len(dots) == len(points) == 289  # every shelter of 熊本市 lies in the frame
    state_of = {d.get("data-shelter"): d.get("class").split()[1] for d in dots}
    assert {k for k, v in state_of.items() if v == "open"} == set(opened)
    assert {k for k, v in state_of.items() if v == "closed"} == set(closed)
    assert sum(v == "unknown" for v in state_of.values()) == 289 - 5
    names = {d.get("data-shelter"): d.find(NS + "title").text for d in dots}
    assert names[opened[0]] == table[opened[0]].name
    # nothing is fetched from anywhere: the only URL is the SVG namespace
    assert set(re.findall(r"https?://[^\s\"'<>]+", svg)) == {"http://www.w3.org/2000/svg"}


def test_size_stays_under_the_limit_at_wide_maps_without_shelters() -> None:
    for width in (320, 640, 1000):
        svg = ward_map_svg(CONFIG, VALUES, labels=_labels(), width=width)
        assert len(svg.encode()) < LIMIT / 2, width
        assert ET.fromstring(svg).get("width") == str(width)
