"""Official terms in every language: JMA epicenter names, tsunami coasts, volcanoes.

Epicenter names come from JMA's multilingual dictionary (``bot/data/epicenters.json``,
see ``bot/data/SOURCES.md``) and are used as written there (runs of spaces, which a
few entries have, read as one); the dictionary
field of each language is in the languages table (:mod:`bot.languages`).

Tsunami coasts (``term.tsunami_area.<JMA code>``) and volcanoes
(``term.volcano.<JMA code>``) are catalog messages in ``templates/*.po``, as are
intensity and warning names (``intensity.5-``, ``warning.03``), so that translators
review them with the rest of the text; this module reads them and normalises codes.
The intensity scale itself is :class:`bot.domain.Intensity`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping

from bot.config import TEMPLATES_DIR
from bot.languages import JMA_DICTIONARY, LazyMapping, process_languages
from bot.render.catalog import load_catalog

EPICENTERS_JSON = JMA_DICTIONARY
_SPACES = re.compile(r" {2,}")  # a few entries have doubled spaces (no-break ones are kept)
TSUNAMI_AREA_KEY = "term.tsunami_area."
VOLCANO_KEY = "term.volcano."


def _dictionary_fields() -> Mapping[str, str]:
    return {tag: lang.jma_field for tag, lang in process_languages().items() if lang.jma_field}


# Our language tags -> field names in JMA's multilingual dictionary (languages table).
DICTIONARY_FIELDS: Mapping[str, str] = LazyMapping(_dictionary_fields)


@functools.cache
def _epicenters() -> Mapping[str, Mapping[str, str]]:
    with EPICENTERS_JSON.open(encoding="utf-8") as fh:
        data: Mapping[str, Mapping[str, str]] = json.load(fh)
    return data


def epicenter_name(code: object, language: str, fallback_ja: str | None = None) -> str | None:
    """JMA's name of epicenter area ``code`` in ``language``.

    Unknown code or language: the English name, else the Japanese name from the
    message (``fallback_ja``), else None.
    """
    entry = _epicenters().get(str(code).strip()) if code is not None else None
    if entry:
        lang = process_languages().get(language)
        for field_name in (lang.jma_field if lang else None, "english", "japanese"):
            if field_name and (entry.get(field_name) or "").strip():
                return _SPACES.sub(" ", entry[field_name].strip())
    return fallback_ja or None


@functools.cache
def _catalog_terms(prefix: str) -> Mapping[str, Mapping[str, str]]:
    """code -> language -> term, for every catalog message ``<prefix><code>``."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(TEMPLATES_DIR.glob("*.po")):
        catalog = load_catalog(path, path.stem)
        for key, text in catalog.messages.items():
            if key.startswith(prefix):
                out.setdefault(key.removeprefix(prefix), {})[path.stem] = text
    return out


# Tsunami forecast areas (JMA codes) with names in the catalogs: the city's coasts.
TSUNAMI_AREAS: Mapping[str, Mapping[str, str]] = LazyMapping(
    lambda: _catalog_terms(TSUNAMI_AREA_KEY))
# Volcanoes (JMA codes) with names in the catalogs: those watched for the city.
VOLCANOES: Mapping[str, Mapping[str, str]] = LazyMapping(lambda: _catalog_terms(VOLCANO_KEY))


def _lookup(table: Mapping[str, Mapping[str, str]], code: object, language: str,
            fallback_ja: str | None) -> str | None:
    names = table.get(str(code).strip()) if code is not None else None
    if names:
        return names.get(language) or names.get("en") or names.get("ja")
    return fallback_ja or None


def tsunami_area_name(code: object, language: str, fallback_ja: str | None = None) -> str | None:
    return _lookup(TSUNAMI_AREAS, code, language, fallback_ja)


def volcano_name(code: object, language: str, fallback_ja: str | None = None) -> str | None:
    return _lookup(VOLCANOES, code, language, fallback_ja)
