"""The city's designated shelters (指定避難所), from the file ``[data].shelters`` of
the configuration (``config/data/shelters.csv`` for 熊本市).

熊本市's table is a copy of the Kumamoto prefectural disaster portal's list (see
``config/data/SOURCES.md``). Columns read: ``portal_shelter_id``, ``shelter_name``,
``address``, ``portal_latitude``, ``portal_longitude``, ``portal_capacity_persons``, and
where a city's table has it, ``hazards``: the hazards the shelter is designated for,
separated by ``;``, as :data:`HAZARDS` names them (the eight kinds of the national
指定緊急避難場所 list: 洪水, 崖崩れ・土石流及び地滑り, 高潮, 地震, 津波, 大規模な火事, 内水氾濫,
火山現象). 熊本市's table does not give them.
Shelter names and addresses are official Japanese names: they are shown as they
are, in every language, because they are what is written on the building and what
people ask for.

:func:`shelters` and :func:`find_shelter` read the file of this process's
configuration (``BOUSAI_CONFIG`` or the default); :func:`shelters_for` that of a
given :class:`~bot.config.Config`.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import DEFAULT_CONFIG_PATH, Config, DataFiles, process_config
from bot.errors import ConfigError

# The shipped table (熊本市); the configuration names the one in use.
SHELTERS_CSV = DataFiles.beside(DEFAULT_CONFIG_PATH).shelters


HAZARDS = ("flood", "landslide", "storm_surge", "earthquake", "tsunami", "fire",
           "inland_flood", "volcano")


@dataclass(frozen=True, kw_only=True, slots=True)
class Shelter:
    id: str
    name: str
    address: str
    lat: float | None
    lon: float | None
    capacity: int | None
    hazards: tuple[str, ...] = ()  # of HAZARDS, in that order; empty: not given

    def map_url(self, template: str) -> str | None:
        """The map link built from config ``[city].map_url`` ({lat}, {lon})."""
        if self.lat is None or self.lon is None:
            return None
        return template.format(lat=self.lat, lon=self.lon)


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n > 0 else None


def _hazards(value: str, path: Path, sid: str) -> tuple[str, ...]:
    given = {v.strip().lower() for v in value.split(";") if v.strip()}
    unknown = given - set(HAZARDS)
    if unknown:
        raise ConfigError(f"shelter {sid}: unknown hazard(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(HAZARDS)})", key="hazards", path=str(path))
    return tuple(h for h in HAZARDS if h in given)


def load_shelters(path: Path = SHELTERS_CSV) -> Mapping[str, Shelter]:
    """Shelters by ``portal_shelter_id``."""
    out: dict[str, Shelter] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            sid = (row.get("portal_shelter_id") or "").strip()
            if not sid:
                continue
            out[sid] = Shelter(
                id=sid,
                name=(row.get("shelter_name") or "").strip(),
                address=(row.get("address") or "").strip(),
                lat=_float(row.get("portal_latitude") or ""),
                lon=_float(row.get("portal_longitude") or ""),
                capacity=_int(row.get("portal_capacity_persons") or ""),
                hazards=_hazards(row.get("hazards") or "", path, sid),
            )
    return out


@functools.cache
def _load_cached(path: str) -> Mapping[str, Shelter]:
    return load_shelters(Path(path))


def shelters_for(config: Config) -> Mapping[str, Shelter]:
    """The shelters of ``config`` (its ``[data].shelters``), read once per file."""
    return _load_cached(str(config.data_files.shelters))


def shelters() -> Mapping[str, Shelter]:
    """The shelters of this process's configuration (``BOUSAI_CONFIG`` or the default)."""
    return shelters_for(process_config())


def find_shelter(shelter_id: object) -> Shelter | None:
    """The shelter with this id, or None (ids may come without leading zeros)."""
    if shelter_id is None:
        return None
    sid = str(shelter_id).strip()
    table = shelters()
    if sid in table:
        return table[sid]
    if sid.isdigit():
        return table.get(sid.zfill(8))
    return None
