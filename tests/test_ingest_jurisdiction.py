"""Jurisdiction built from the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.ingest.jurisdiction import Jurisdiction
from tests.config_helpers import write_config


def test_kumamoto_from_default_config() -> None:
    j = Jurisdiction.from_config(load_config())
    assert j.city_jis_code == "43100" and j.warning_area == "4310000"
    assert j.ward_codes == ("43101", "43102", "43103", "43104", "43105")
    assert j.ward_by_jma("4310500").code == "43105"  # type: ignore[union-attr]
    assert j.tsunami_areas == ("712", "740")
    assert j.volcano_codes == frozenset({"503"})
    assert j.is_city_code("4310000") and j.is_city_code("4320100")
    assert not j.is_city_code("4320200")
    assert j.wards_named_in("熊本市東区と熊本市西区") == ("43102", "43103")
    assert j.wards_for_geocode("jis", "43104") == ("43104",)
    assert j.wards_for_geocode("JIS", "43100") == j.ward_codes


@pytest.mark.parametrize(("snippet", "key"), [
    ('tsunami_areas = "712"\n', "jurisdiction.tsunami_areas"),
    # Reference points are gone: CAP areas are matched against the ward boundaries, and
    # a configuration that still has them is told so rather than silently ignored.
    ("[jurisdiction.ward_points]\n43101 = { lat = 32.8, lon = 130.7 }\n",
     "jurisdiction.ward_points"),
])
def test_bad_jurisdiction_config_names_the_key(tmp_path: Path, snippet: str, key: str) -> None:
    base = Path(load_config().path).read_text(encoding="utf-8").split("[jurisdiction]")[0]
    path = write_config(tmp_path, base + "[jurisdiction]\n" + snippet)
    with pytest.raises(ConfigError) as info:
        Jurisdiction.from_config(load_config(path))
    assert info.value.key == key


def test_ward_points_are_refused_with_the_reason(tmp_path: Path) -> None:
    base = Path(load_config().path).read_text(encoding="utf-8").split("[jurisdiction]")[0]
    path = write_config(tmp_path, base + "[jurisdiction.ward_points]\n"
                                          "43101 = { lat = 32.8, lon = 130.7 }\n")
    with pytest.raises(ConfigError, match=r"no longer read.*boundaries"):
        Jurisdiction.from_config(load_config(path))


@pytest.mark.parametrize(("table", "key"), [
    ('[[kinds]]\nwords = ["flood"]\nkind = "flood"\n', "kinds[0].kind"),
    ('[[kinds]]\nwords = ["x"]\ncategories = ["Weather"]\nkind = "other"\n',
     "kinds[0].categories"),
    ('[[kinds]]\nwords = ["x"]\nresponses = ["Run"]\nkind = "other"\n',
     "kinds[0].responses"),
    ('[[kinds]]\nword = ["x"]\nkind = "other"\n', "kinds[0].word"),
    ('[[kinds]]\nkind = "other"\n', "kinds[0]"),
    ('[[kinds]]\nwords = "flood"\nkind = "other"\n', "kinds[0].words"),
    ('kinds = "x"\n', "kinds"),
    ('[categories]\nMeteo = "weather_warning"\n', "categories.Meteo"),
    ('[categories]\nMet = "weather"\n', "categories.Met"),
    ('[category]\nMet = "weather_warning"\n', "category"),
])
def test_bad_cap_kinds_name_the_key_and_file(tmp_path: Path, table: str, key: str) -> None:
    text = Path(load_config().path).read_text(encoding="utf-8")
    kinds = tmp_path / "kinds.toml"
    kinds.write_text(table, encoding="utf-8")
    path = write_config(tmp_path, text.replace('cap_kinds = "data/cap_kinds.toml"',
                                               f'cap_kinds = "{kinds}"'))
    with pytest.raises(ConfigError) as info:
        Jurisdiction.from_config(load_config(path))
    assert info.value.key == key and info.value.path == str(kinds)


def test_an_empty_cap_kinds_table_makes_every_cap_alert_other(tmp_path: Path) -> None:
    text = Path(load_config().path).read_text(encoding="utf-8")
    kinds = tmp_path / "kinds.toml"
    kinds.write_text("# nothing\n", encoding="utf-8")
    path = write_config(tmp_path, text.replace('cap_kinds = "data/cap_kinds.toml"',
                                               f'cap_kinds = "{kinds}"'))
    j = Jurisdiction.from_config(load_config(path))
    assert j.cap_kinds.rules == () and j.cap_kinds.categories == ()
