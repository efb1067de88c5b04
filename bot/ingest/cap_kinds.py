"""The kind of a CAP alert (what subscribers choose), from a table in the city's data.

The file named by ``[data] cap_kinds`` in ``bousai.toml`` (``config/data/cap_kinds.toml``):

* ``[[kinds]]`` rules, tried in order; the first whose conditions all hold gives
  ``kind``. Conditions (at least one): ``words`` (some ``<event>`` of the alert, in
  any of its languages, contains one of them; a word in Latin letters must start a
  word there, so "rain" matches "Rainfall" but not "terrain"), ``categories`` (some
  ``<category>`` is one of these CAP categories), ``responses`` (some
  ``<responseType>`` is one of these).
* ``[categories]``: the kind of an alert no rule matched, by its first
  ``<category>`` listed here (CAP's twelve: Geo, Met, Safety, Security, Rescue, Fire,
  Health, Env, Transport, Infra, CBRNE, Other).
* Anything else is ``other``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.domain import CapCategory, CapInfo, CapResponse, Kind
from bot.errors import ConfigError

_RULE_KEYS = frozenset({"kind", "words", "categories", "responses"})


def _pattern(word: str) -> re.Pattern[str]:
    escaped = re.escape(word.casefold())
    return re.compile(rf"(?<![^\W\d_]){escaped}" if word.isascii() else escaped)


@dataclass(frozen=True, kw_only=True)
class KindRule:
    kind: Kind
    words: tuple[str, ...] = ()
    categories: frozenset[CapCategory] = frozenset()
    responses: frozenset[CapResponse] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", tuple(_pattern(w) for w in self.words))

    def matches(self, events: str, categories: Iterable[CapCategory],
                responses: Iterable[CapResponse]) -> bool:
        return ((not self.patterns or any(p.search(events) for p in self.patterns))
                and (not self.categories or not self.categories.isdisjoint(categories))
                and (not self.responses or not self.responses.isdisjoint(responses)))


@dataclass(frozen=True, kw_only=True)
class CapKinds:
    rules: tuple[KindRule, ...] = ()
    categories: tuple[tuple[CapCategory, Kind], ...] = ()

    def kind(self, infos: Sequence[CapInfo]) -> Kind:
        events = "\n".join(i.event for i in infos).casefold()
        categories = [c for i in infos for c in i.categories]
        responses = [r for i in infos for r in i.response_types]
        for rule in self.rules:
            if rule.matches(events, categories, responses):
                return rule.kind
        by_category = dict(self.categories)
        return next((by_category[c] for c in categories if c in by_category), Kind.OTHER)

    @classmethod
    def from_config(cls, cfg: Config) -> CapKinds:
        return cls.load(cfg.data_files.cap_kinds)

    @classmethod
    def load(cls, path: Path) -> CapKinds:
        spath = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"CAP kinds cannot be read: {exc}", path=spath) from None
        for key in data:
            if key not in ("kinds", "categories"):
                raise ConfigError("unknown table (known: kinds, categories)", key=key,
                                  path=spath)
        rows = data.get("kinds", [])
        if not isinstance(rows, list):
            raise ConfigError("must be an array of tables", key="kinds", path=spath)
        rules = tuple(_rule(row, f"kinds[{i}]", spath) for i, row in enumerate(rows))
        table = data.get("categories", {})
        if not isinstance(table, Mapping):
            raise ConfigError("must be a table", key="categories", path=spath)
        categories = tuple((_member(CapCategory, name, f"categories.{name}", spath),
                            _member(Kind, kind, f"categories.{name}", spath))
                           for name, kind in table.items())
        return cls(rules=rules, categories=categories)


def _member(vocabulary: Any, value: Any, key: str, path: str) -> Any:
    known = [str(m.value) for m in vocabulary]
    if not isinstance(value, str) or value not in known:
        raise ConfigError(f"unknown value {value!r} (known: {', '.join(known)})", key=key,
                          path=path)
    return vocabulary(value)


def _strings(row: Mapping[str, Any], key: str, where: str, path: str) -> list[str]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError("must be a list of non-empty strings", key=f"{where}.{key}",
                          path=path)
    return [v.strip() for v in value]


def _rule(row: Any, where: str, path: str) -> KindRule:
    if not isinstance(row, Mapping):
        raise ConfigError("must be a table", key=where, path=path)
    for key in row:
        if key not in _RULE_KEYS:
            raise ConfigError(f"unknown key (known: {', '.join(sorted(_RULE_KEYS))})",
                              key=f"{where}.{key}", path=path)
    kind = _member(Kind, row.get("kind"), f"{where}.kind", path)
    words = _strings(row, "words", where, path)
    categories = [_member(CapCategory, c, f"{where}.categories", path)
                  for c in _strings(row, "categories", where, path)]
    responses = [_member(CapResponse, r, f"{where}.responses", path)
                 for r in _strings(row, "responses", where, path)]
    if not (words or categories or responses):
        raise ConfigError("a rule needs words, categories or responses", key=where, path=path)
    return KindRule(kind=kind, words=tuple(words), categories=frozenset(categories),
                    responses=frozenset(responses))
