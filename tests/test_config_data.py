"""The city's data files ([data]) and the languages table: read from config, not code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG_PATH, Config, load_config
from bot.domain import Alert, Kind
from bot.errors import ConfigError, UnknownLanguageError
from bot.languages import load_languages
from bot.render import load_renderer
from bot.render.timefmt import format_jst
from bot.shelters import shelters_for
from bot.translate import TranslationSettings, Translator
from tests.config_helpers import write_config

SHIPPED = DEFAULT_CONFIG_PATH.parent / "data"
LANGUAGES_TOML = (SHIPPED / "languages.toml").read_text(encoding="utf-8")
BOUSAI_TOML = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
ISSUED = dt.datetime(2016, 4, 16, 1, 25, tzinfo=dt.timezone(dt.timedelta(hours=9)))

FRENCH = """
[languages.fr]  # French
name = "Français"
babel_locale = "fr"
reviewed = false
translator_codes = { google = "fr", deepl = "fr", microsoft = "fr", libre = "fr" }
"""
FRENCH_NAMES = {"Kumamoto City": "Ville de Kumamoto", "Chuo Ward": "Arrondissement de Chūō",
                "Higashi Ward": "Arrondissement de Higashi",
                "Nishi Ward": "Arrondissement de Nishi",
                "Minami Ward": "Arrondissement de Minami", "Kita Ward": "Arrondissement de Kita"}


def city_dir(tmp_path: Path, bousai: str = BOUSAI_TOML, languages: str = LANGUAGES_TOML) -> Path:
    """A configuration folder of its own: bousai.toml, data/languages.toml, and the
    shipped shelters, ward boundaries and CAP kinds."""
    data = tmp_path / "city" / "data"
    data.mkdir(parents=True)
    (data / "languages.toml").write_text(languages, encoding="utf-8")
    for name in ("shelters.csv", "wards.geojson", "cap_kinds.toml"):
        (data / name).symlink_to(SHIPPED / name)
    path = tmp_path / "city" / "bousai.toml"
    path.write_text(bousai, encoding="utf-8")
    return path


def with_french(text: str) -> str:
    """The shipped bousai.toml with French enabled and named in every names table."""
    text = text.replace('"km", "mn",\n]', '"km", "mn", "fr",\n]')

    def add_fr(m: re.Match[str]) -> str:
        return f'{m.group(0)}\nfr = "{FRENCH_NAMES[m.group(1)]}"'

    # names only: not the broadcast channels' chats (en = "@…"), which need no French
    return re.sub(r'^en = "([^"@][^"]*)"$', add_fr, text, flags=re.M)


def test_the_shipped_config_names_its_data_files() -> None:
    config = load_config()
    assert config.data_files.languages == SHIPPED / "languages.toml"
    assert config.data_files.shelters == SHIPPED / "shelters.csv"
    assert config.data_files.ward_boundaries == SHIPPED / "wards.geojson"
    assert config.data_files.cap_kinds == SHIPPED / "cap_kinds.toml"
    assert config.raw["data"] == {"languages": "data/languages.toml",
                                  "shelters": "data/shelters.csv",
                                  "ward_boundaries": "data/wards.geojson",
                                  "cap_kinds": "data/cap_kinds.toml"}
    assert set(config.language_table) >= set(config.languages)
    tl = config.language("tl")
    assert (tl.babel_locale, tl.jma_field, tl.translator_code("microsoft")) == \
        ("fil", "tagalog", "fil")
    assert config.language("ja-easy").translator_code("google") is None
    assert len(shelters_for(config)) == 289
    with pytest.raises(UnknownLanguageError):
        config.language("xx")


def test_a_seventeenth_language_needs_no_code(tmp_path: Path) -> None:
    path = city_dir(tmp_path, with_french(BOUSAI_TOML), LANGUAGES_TOML + FRENCH)
    config = load_config(path)
    assert config.languages[-1] == "fr" and config.check_language("fr") == "fr"
    assert config.data_files.languages == path.parent / "data" / "languages.toml"
    fr = config.language("fr")
    assert (fr.name, fr.babel_locale, fr.jma_field, fr.reviewed) == \
        ("Français", "fr", None, False)
    assert config.ward("43101").name("fr") == "Arrondissement de Chūō"
    assert config.city_display_name("fr") == "Ville de Kumamoto"
    # the translator codes come from the table, for the configured provider and others
    settings = TranslationSettings.from_config(config, {})
    assert settings.provider == "libre" and settings.code("fr") == "fr"
    for provider in ("google", "deepl", "microsoft"):
        other = TranslationSettings(provider=provider, languages=config.language_table)
        assert other.code("fr") == "fr"
    calls: list[tuple[str, str, str]] = []

    def backend(text: str, source: str, target: str) -> str:
        calls.append((text, source, target))
        return "Ouverture des abris."

    t = Translator(settings, backend=backend)
    assert t("避難所を開設しました。", "ja", "fr") == "Ouverture des abris."
    assert calls == [("避難所を開設しました。", "ja", "fr")]
    t.close()
    # dates in the language's own format, from its Babel locale
    assert format_jst(ISSUED, "fr", fr.babel_locale) == "16 avr. 2016, 01:25 JST"


def test_the_renderer_takes_the_babel_locale_from_the_table(tmp_path: Path) -> None:
    table = LANGUAGES_TOML.replace('babel_locale = "pt_BR"', 'babel_locale = "pt_PT"')
    config = load_config(city_dir(tmp_path, languages=table))
    assert config.language("pt").babel_locale == "pt_PT"
    notice = Alert(source="operator", source_id="n-1", kind=Kind.CITY_NOTICE, issued=ISSUED,
                   headline_ja="お知らせ", body_ja="給水を再開しました。",
                   texts={"pt": "O abastecimento de água foi retomado."})
    text, _ = load_renderer(config).text(notice, "pt")
    assert format_jst(ISSUED, "pt", "pt_PT") in text
    assert format_jst(ISSUED, "pt", "pt_BR") not in text


def _without(field: str) -> str:
    block = LANGUAGES_TOML.split("[languages.vi]")[1].split("\n\n")[0]
    kept = "\n".join(line for line in block.split("\n") if not line.startswith(f"{field} ="))
    return LANGUAGES_TOML.replace(block, kept)


@pytest.mark.parametrize("field", ["name", "babel_locale", "reviewed", "translator_codes"])
def test_a_missing_required_field_names_the_key(tmp_path: Path, field: str) -> None:
    path = city_dir(tmp_path, languages=_without(field))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == f"languages.vi.{field}"
    assert err.value.path == str(path.parent / "data" / "languages.toml")
    assert f"languages.vi.{field} in {err.value.path}: missing setting" in str(err.value)


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ('babel_locale = "vi"', 'babel_locale = "xx_YY"', "languages.vi.babel_locale",
     "Babel does not know"),
    ('jma_field = "vietnamese"', 'jma_field = "viet"', "languages.vi.jma_field",
     "not a field of JMA's dictionary"),
    ('name = "Tiếng Việt"', 'name = ""', "languages.vi.name", "non-empty"),
    ('reviewed = false\ntranslator_codes = { google = "vi"',
     'reviewed = "no"\ntranslator_codes = { google = "vi"', "languages.vi.reviewed", "bool"),
    ('name = "Tiếng Việt"', 'name = "Tiếng Việt"\nnative = true', "languages.vi.native",
     "unknown setting"),
])
def test_a_wrong_field_names_the_key(tmp_path: Path, old: str, new: str, key: str,
                                     message: str) -> None:
    assert old in LANGUAGES_TOML
    with pytest.raises(ConfigError) as err:
        load_config(city_dir(tmp_path, languages=LANGUAGES_TOML.replace(old, new, 1)))
    assert err.value.key == key and message in str(err.value)


def test_an_enabled_language_without_an_entry_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(city_dir(tmp_path, with_french(BOUSAI_TOML)))
    assert err.value.key == "languages.fr" and "is enabled" in str(err.value)


def test_an_unknown_translation_provider_is_named(tmp_path: Path) -> None:
    table = LANGUAGES_TOML.replace('{ google = "vi",', '{ babelfish = "vi", google = "vi",')
    config = load_config(city_dir(tmp_path, languages=table))
    with pytest.raises(ConfigError) as err:
        TranslationSettings.from_config(config, {})
    assert err.value.key == "languages.vi.translator_codes.babelfish"


@pytest.mark.parametrize("key", ["languages", "shelters", "ward_boundaries"])
def test_a_missing_data_file_is_named(tmp_path: Path, key: str) -> None:
    text = re.sub(rf'^{key} = "[^"]+"', f'{key} = "nowhere/{key}.x"', BOUSAI_TOML, flags=re.M)
    path = city_dir(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == f"data.{key}"
    assert str(path.parent / "nowhere" / f"{key}.x") in str(err.value)


def test_data_files_default_to_the_shipped_ones(tmp_path: Path) -> None:
    text = BOUSAI_TOML.split("[data]")[0] + "[languages]" + BOUSAI_TOML.split("[languages]")[1]
    config: Config = load_config(write_config(tmp_path, text, "no-data.toml"))
    assert config.data_files == load_config().data_files
    assert load_languages(config.data_files.languages) == dict(config.language_table)
    with pytest.raises(ConfigError, match=r"data\.maps.*unknown data file"):
        load_config(write_config(tmp_path, BOUSAI_TOML.replace("[data]\n", '[data]\nmaps = "x"\n')))


def test_packaging_installs_every_config_and_data_file() -> None:
    """pyproject's data-files put config/ under share/bousai/config with the same layout,
    so that the relative [data] paths resolve in an installed copy too."""
    import fnmatch
    import tomllib

    root = DEFAULT_CONFIG_PATH.parent.parent
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    data_files: dict[str, list[str]] = pyproject["tool"]["setuptools"]["data-files"]

    def installed_in(rel: str) -> list[str]:  # setuptools globs do not cross folders
        folder, name = rel.rsplit("/", 1)
        return [target for target, patterns in data_files.items() for pattern in patterns
                if pattern.rsplit("/", 1)[0] == folder
                and fnmatch.fnmatch(name, pattern.rsplit("/", 1)[1])]

    for file in [*(root / "config").rglob("*"), *(root / "templates").rglob("*")]:
        if file.is_file():
            rel = file.relative_to(root).as_posix()
            assert installed_in(rel) == [f"share/bousai/{rel.rsplit('/', 1)[0]}"], rel
