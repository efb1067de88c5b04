"""The languages table: what the service knows about each language it can offer.

The table is data (``config/data/languages.toml``, named by ``[data].languages`` in
``bousai.toml``): for each language tag its own name, Babel locale, field of JMA's
multilingual dictionary, machine-translation codes and native-review status. No
module keeps its own per-language dict; a new language is a new entry in the file.

Code that has the :class:`~bot.config.Config` at hand reads ``config.language(tag)``.
Module-level lookups whose public signature takes no configuration (official terms,
time formats, translator codes of a bare ``TranslationSettings``) read the table of
this process's configuration, :func:`process_languages` (``BOUSAI_CONFIG`` or the
default file).
"""

from __future__ import annotations

import functools
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from babel import Locale, UnknownLocaleError

from bot.errors import ConfigError

# JMA's multilingual epicenter dictionary; its field names are the valid ``jma_field``s.
JMA_DICTIONARY = Path(__file__).resolve().parent / "data" / "epicenters.json"

_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
REQUIRED = ("name", "babel_locale", "reviewed", "translator_codes")
V = TypeVar("V")


@dataclass(frozen=True, kw_only=True)
class Language:
    tag: str
    name: str  # the language's name in itself
    babel_locale: str
    jma_field: str | None  # None: JMA's dictionary has no names in this language
    reviewed: bool
    translator_codes: Mapping[str, str] = field(default_factory=dict)
    machine_translation: bool = True

    def translator_code(self, provider: str) -> str | None:
        """This language's code at ``provider``; None when free text is never
        machine-translated into it or the provider does not support it."""
        if not self.machine_translation:
            return None
        return self.translator_codes.get(provider)


@functools.cache
def jma_fields() -> frozenset[str]:
    """The language fields of JMA's multilingual dictionary."""
    with JMA_DICTIONARY.open(encoding="utf-8") as fh:
        data: Mapping[str, Mapping[str, str]] = json.load(fh)
    return frozenset(next(iter(data.values())))


def _value(table: Mapping[str, Any], key: str, kind: type, prefix: str, path: str) -> Any:
    if key not in table:
        raise ConfigError("missing setting", key=prefix + key, path=path)
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"must be a non-empty {kind.__name__}" if kind is str
                          else f"must be {kind.__name__}, got {type(value).__name__}",
                          key=prefix + key, path=path)
    return value


def parse_language(tag: str, table: object, path: str) -> Language:
    """One ``[languages.<tag>]`` entry; a missing or wrong field raises
    :class:`ConfigError` naming ``languages.<tag>.<field>`` and the file."""
    prefix = f"languages.{tag}."
    if not _TAG.match(tag):
        raise ConfigError("not a language tag such as 'vi' or 'zh-Hans'",
                          key=f"languages.{tag}", path=path)
    if not isinstance(table, Mapping):
        raise ConfigError("must be a table", key=f"languages.{tag}", path=path)
    name = _value(table, "name", str, prefix, path)
    locale = _value(table, "babel_locale", str, prefix, path)
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise ConfigError(f"Babel does not know the locale {locale!r}",
                          key=prefix + "babel_locale", path=path) from None
    jma_field = table.get("jma_field")
    if jma_field is not None and jma_field not in jma_fields():
        raise ConfigError(f"{jma_field!r} is not a field of JMA's dictionary "
                          f"({', '.join(sorted(jma_fields()))})",
                          key=prefix + "jma_field", path=path)
    reviewed = _value(table, "reviewed", bool, prefix, path)
    codes = _value(table, "translator_codes", dict, prefix, path)
    for provider, code in codes.items():
        if not isinstance(code, str) or not code:
            raise ConfigError("must be a non-empty string",
                              key=f"{prefix}translator_codes.{provider}", path=path)
    mt = table.get("machine_translation", True)
    if not isinstance(mt, bool):
        raise ConfigError("must be true or false", key=prefix + "machine_translation",
                          path=path)
    known = {*REQUIRED, "jma_field", "machine_translation"}
    for key in table:
        if key not in known:
            raise ConfigError(f"unknown setting ({', '.join(sorted(known))})",
                              key=prefix + key, path=path)
    return Language(tag=tag, name=name, babel_locale=locale, jma_field=jma_field,
                    reviewed=reviewed, translator_codes=dict(codes), machine_translation=mt)


def load_languages(path: str | os.PathLike[str]) -> dict[str, Language]:
    """The ``[languages.<tag>]`` tables of a languages file, by tag, in file order."""
    spath = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("languages file not found", path=spath) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=spath) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=spath) from None
    tables = raw.get("languages")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError("needs one [languages.<tag>] table per language", key="languages",
                          path=spath)
    return {tag: parse_language(tag, table, spath) for tag, table in tables.items()}


def process_languages() -> Mapping[str, Language]:
    """The languages table of this process's configuration (``BOUSAI_CONFIG``, else
    the default file), read once."""
    from bot.config import process_config  # bot.config imports this module

    return process_config().language_table


def find_language(tag: str, table: Mapping[str, Language] | None = None) -> Language | None:
    """``tag``'s entry in ``table`` (default: :func:`process_languages`), or None."""
    return (process_languages() if table is None else table).get(tag)


class LazyMapping(Mapping[str, V]):
    """A read-only mapping computed on each use from data files (the languages table,
    the catalogs), for module-level names that must not read files at import."""

    def __init__(self, build: Callable[[], Mapping[str, V]]) -> None:
        self._build = build

    def __getitem__(self, key: str) -> V:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())

    def __repr__(self) -> str:
        return f"LazyMapping({dict(self._build())!r})"
