"""The city's jurisdiction, in the code systems of every source.

Built once from the configuration (``[city]``, ``[[wards]]`` and
``[jurisdiction]`` in ``config/bousai.toml``) and handed to the parsers, which
use it to set ``Alert.in_jurisdiction`` and ``Alert.wards``:

========================  ==========================================================
``city_jis_code``         JIS municipality code of the city (``[city] jis_code``)
``warning_area``          JMA 気象警報・注意報 area of the city (``[city] jma_warning_area``)
``wards``                 :class:`WardRef` per ward: JIS code, JMA earthquake city code,
                          Japanese name
``shapes``                the wards' boundaries (:class:`~bot.wardmap.WardMap`, from
                          ``[data] ward_boundaries``): a CAP polygon or circle concerns
                          exactly the wards it touches
``pref_code``             地震情報／都道府県等 code of the prefecture
``seismic_areas``         地震情報／細分区域 codes that contain the city
``epicenter_codes``       震央地名 codes counted as local
``municipality_codes``    市町村等 codes of the city (土砂災害警戒情報, 火山, 大雨)
``legacy_city_codes``     codes the city had before its wards existed (old reports)
``tsunami_areas``         津波予報区 codes of the city's coasts
``volcano_codes``         火山名 codes the city watches
``typhoon_areas``         台風の暴風域に入る確率 area codes of the city (熊本市 430011)
``point``                 (lat, lon) the typhoon forecast circles are measured against
``cap_geocode_names``     CAP ``<geocode><valueName>`` values that are understood
``cap_city_geocodes``     CAP geocode values that mean the whole city
``cap_kinds``             the kind of a CAP alert from its words (``[data] cap_kinds``,
                          see :mod:`bot.ingest.cap_kinds`)
``nankai_trough_area``    the city is in the 南海トラフ地震防災対策推進地域 (bool)
``japan_kuril_trench_area`` the city is in the 日本海溝・千島海溝周辺海溝型地震防災対策推進地域
``place_words``           words that name the city's area in JMA's free text (VXSE56)
========================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.config import Config
from bot.errors import ConfigError
from bot.ingest.cap_kinds import CapKinds
from bot.wardmap import WardMap, ward_map


@dataclass(frozen=True, kw_only=True, slots=True)
class WardRef:
    code: str  # JIS, e.g. "43101"
    jma_code: str  # JMA earthquake "city" code, e.g. "4310100"
    name_ja: str  # "中央区"


@dataclass(frozen=True, kw_only=True, slots=True)
class Jurisdiction:
    city_jis_code: str
    city_name_ja: str
    warning_area: str
    wards: tuple[WardRef, ...]
    pref_code: str = ""
    seismic_areas: frozenset[str] = frozenset()
    epicenter_codes: frozenset[str] = frozenset()
    municipality_codes: frozenset[str] = frozenset()
    legacy_city_codes: frozenset[str] = frozenset()
    tsunami_areas: tuple[str, ...] = ()
    volcano_codes: frozenset[str] = frozenset()
    typhoon_areas: frozenset[str] = frozenset()
    point: tuple[float, float] | None = None
    cap_geocode_names: frozenset[str] = frozenset()
    cap_city_geocodes: frozenset[str] = frozenset()
    shapes: WardMap = field(default_factory=lambda: WardMap(shapes=()), repr=False)
    cap_kinds: CapKinds = field(default_factory=CapKinds, repr=False)
    nankai_trough_area: bool = False
    japan_kuril_trench_area: bool = False
    place_words: tuple[str, ...] = ()

    # ------------------------------------------------------------ construction

    @classmethod
    def from_config(cls, cfg: Config) -> Jurisdiction:
        section = cfg.section("jurisdiction")
        if "ward_points" in section:
            raise ConfigError("is no longer read: CAP areas are matched against the wards' "
                              "boundaries ([data] ward_boundaries); remove it",
                              key="jurisdiction.ward_points", path=cfg.path)
        wards = [WardRef(code=w.code, jma_code=w.jma_code, name_ja=w.names.get("ja", w.code))
                 for w in cfg.wards]

        def codes(key: str) -> tuple[str, ...]:
            value = section.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError("must be a list of non-empty strings",
                                  key=f"jurisdiction.{key}", path=cfg.path)
            return tuple(value)

        pref = section.get("pref_code", "")
        if not isinstance(pref, str):
            raise ConfigError("must be a string", key="jurisdiction.pref_code", path=cfg.path)
        def flag(key: str) -> bool:
            value = section.get(key, False)
            if not isinstance(value, bool):
                raise ConfigError("must be true or false", key=f"jurisdiction.{key}",
                                  path=cfg.path)
            return value

        city_names = cfg.city_names
        point = section.get("city_point")
        if point is not None and not (
                isinstance(point, list) and len(point) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
                and -90 <= point[0] <= 90 and -180 <= point[1] <= 180):
            raise ConfigError("must be [latitude, longitude] in degrees, e.g. [32.8032, 130.7079]",
                              key="jurisdiction.city_point", path=cfg.path)
        return cls(
            city_jis_code=cfg.city_jis_code,
            city_name_ja=city_names.get("ja", cfg.city_name) if city_names else cfg.city_name,
            warning_area=cfg.jma_warning_area,
            wards=tuple(wards),
            pref_code=pref,
            seismic_areas=frozenset(codes("seismic_areas")),
            epicenter_codes=frozenset(codes("epicenter_codes")),
            municipality_codes=frozenset((*codes("municipality_codes"), cfg.jma_warning_area)),
            legacy_city_codes=frozenset(codes("legacy_city_codes")),
            tsunami_areas=codes("tsunami_areas"),
            volcano_codes=frozenset(codes("volcano_codes")),
            typhoon_areas=frozenset(codes("typhoon_areas")),
            point=(float(point[0]), float(point[1])) if point is not None else None,
            cap_geocode_names=frozenset(n.casefold() for n in codes("cap_geocode_names")),
            cap_city_geocodes=frozenset((*codes("cap_city_geocodes"), cfg.city_jis_code)),
            shapes=ward_map(cfg),
            cap_kinds=CapKinds.from_config(cfg),
            nankai_trough_area=flag("nankai_trough_area"),
            japan_kuril_trench_area=flag("japan_kuril_trench_area"),
            place_words=codes("place_words"),
        )

    # ------------------------------------------------------------------ lookups

    @property
    def ward_codes(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.wards)

    def ward_by_jma(self, jma_code: str) -> WardRef | None:
        return next((w for w in self.wards if w.jma_code == jma_code), None)

    def is_city_code(self, code: str) -> bool:
        """Is ``code`` one of the codes JMA uses for the city as a whole?"""
        return code in self.municipality_codes or code in self.legacy_city_codes

    def wards_named_in(self, text: str) -> tuple[str, ...]:
        """JIS codes of the wards whose name (e.g. 熊本市北区 or 北区) appears in ``text``."""
        found = []
        for w in self.wards:
            if f"{self.city_name_ja}{w.name_ja}" in text or (
                w.name_ja and w.name_ja in text and self.city_name_ja in text
            ):
                found.append(w.code)
        return tuple(found)

    def ordered(self, codes: Iterable[str]) -> tuple[str, ...]:
        wanted = set(codes)
        return tuple(w.code for w in self.wards if w.code in wanted)

    # ------------------------------------------------------------ CAP geometry

    def wards_for_geocode(self, value_name: str, value: str) -> tuple[str, ...]:
        if value_name.strip().casefold() not in self.cap_geocode_names:
            return ()
        value = value.strip()
        if value in self.cap_city_geocodes:
            return self.ward_codes
        return tuple(w.code for w in self.wards if value in (w.code, w.jma_code))

    def wards_for_polygon(self, points: Sequence[tuple[float, float]]) -> tuple[str, ...]:
        """Wards a CAP polygon ((lat, lon) points) touches, by their boundaries."""
        return self.ordered(self.shapes.wards_meeting_polygon(points))

    def wards_for_circle(self, lat: float, lon: float, radius_km: float) -> tuple[str, ...]:
        """Wards a CAP circle (centre, radius in km) touches, by their boundaries."""
        return self.ordered(self.shapes.wards_meeting_circle(lat, lon, radius_km))
