"""Property-based: mutated real documents make every parser either succeed or raise
IngestError, never anything else."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_config
from bot.errors import IngestError
from bot.ingest import detect_and_parse
from bot.ingest.cap import parse_cap, parse_cap_index
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.rss import parse_city_feed, parse_jma_feed

FIX = Path(__file__).resolve().parent / "fixtures"
JUR = Jurisdiction.from_config(load_config())
SEEDS = {
    name: (FIX / name).read_bytes() for name in (
        "jma/32-35_01_01_100806_VXSE51.xml", "jma/32-35_01_02_240613_VXSE52.xml",
        "jma/32-35_04_04_240613_VXSE53.xml", "jma/38-39_02_01_250206_VTSE41.xml",
        "jma/32-39_12_08_250206_VTSE51.xml", "jma/15_15_01_220314_VPWW54.xml",
        "jma/15_08_05_130412_VPWW53.xml", "jma/17_01_01_190529_VXWW50.xml",
        "jma/45_02_01_200522_VFVO50.xml", "jma/67_01_03_140927_VFVO56.xml",
        "jma/handmade_VPOA50_kumamoto.xml", "jma/32-35_10_01_220510_VXSE51.xml",
        "cap/canada.cap", "cap/earthquake.cap", "cap/noaa_errors.cap", "cap/weather.cap",
        "cap/wcatwc-warning.cap", "cap/amber.atom", "cap/weather_index.atom",
        "cap/kumamoto_landslide.cap", "cap/kumamoto_edxl.xml", "cap/kumamoto_alerts.xml",
        "cap/kumamoto_inundation_cap11.cap",
        "rss/city_notices.rss", "rss/jma_eqvol.atom", "rss/city_notices_en.atom",
    )
}
SEEDS["jma/15_11_01_150916_VPWW54.xml"] = gzip.decompress(
    (FIX / "jma/15_11_01_150916_VPWW54.xml.gz").read_bytes())

PARSERS: list[Callable[[bytes], object]] = [
    lambda d: parse_jma(d, JUR),
    lambda d: parse_cap(d, JUR),
    parse_cap_index,
    lambda d: parse_city_feed(d, feed_name="fuzz", jurisdiction=JUR),
    parse_jma_feed,
    lambda d: detect_and_parse(d, JUR, origin="fuzz"),
]
_ELEMENT = re.compile(rb"<([A-Za-z_][\w:.-]*)[^<>]*>[^<]*</\1>")


def run_all(data: bytes) -> None:
    for parse in PARSERS:
        try:
            parse(data)
        except IngestError:
            pass


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "delete", "insert", "text"]))
        if not data:
            break
        if op == "flip":
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif op == "delete":
            matches = list(_ELEMENT.finditer(bytes(data)))
            if matches:
                m = draw(st.sampled_from(matches))
                data = data[: m.start()] + data[m.end():]
        elif op == "insert":
            i = draw(st.integers(0, len(data)))
            data = data[:i] + draw(st.binary(max_size=20)) + data[i:]
        else:  # replace an element's text with random text
            matches = list(_ELEMENT.finditer(bytes(data)))
            if matches:
                m = draw(st.sampled_from(matches))
                tag = m.group(1)
                junk = draw(st.text(max_size=12)).replace("<", "").replace("&", "")
                new = b"<" + tag + b">" + junk.encode() + b"</" + tag + b">"
                data = data[: m.start()] + new + data[m.end():]
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(mutated())
def test_mutated_documents_only_raise_ingest_error(data: bytes) -> None:
    run_all(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_ingest_error(data: bytes) -> None:
    run_all(data)


def test_every_seed_is_accepted_by_some_parser() -> None:
    for name, data in SEEDS.items():
        ok = 0
        for parse in PARSERS:
            try:
                parse(data)
                ok += 1
            except IngestError:
                pass
        assert ok, name
