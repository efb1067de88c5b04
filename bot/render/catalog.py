"""Translation catalogs: one gettext ``.po`` file per language in ``templates/``.

``msgid`` is a stable message key (``earthquake.title``), ``msgstr`` the text with
``{placeholders}`` in Python brace format; every language must use exactly the
placeholders of the Japanese message. A catalog's header field
``X-Native-Review`` says whether a native speaker has reviewed it ("yes"/"no"), as
does ``reviewed`` in the languages table (tests keep the two equal).

A message missing in a language falls back along the configured fallback list
(``en``, then ``ja-easy``), never to a neighbouring language, and the gap is
recorded in :attr:`Catalogs.gaps` so that it can be reported.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from bot.errors import ConfigError
from bot.render.korean import attach_particles

log = logging.getLogger(__name__)


def placeholders(text: str) -> frozenset[str]:
    """The ``{names}`` used in ``text``."""
    names = set()
    for _literal, name, _spec, _conv in string.Formatter().parse(text):
        if name is not None:
            names.add(name)
    return frozenset(names)


@dataclass(frozen=True)
class Catalog:
    language: str
    messages: Mapping[str, str]
    reviewed: bool
    path: Path


def load_catalog(path: Path, language: str) -> Catalog:
    try:
        with path.open("rb") as fh:
            po = read_po(fh, locale=None, abort_invalid=True)
    except FileNotFoundError:
        raise ConfigError(f"no catalog for language {language!r}", path=str(path)) from None
    except Exception as exc:
        raise ConfigError(f"catalog cannot be read: {exc}", path=str(path)) from None
    messages = {}
    for msg in po:
        if msg.id and isinstance(msg.id, str) and isinstance(msg.string, str) and msg.string:
            if not msg.fuzzy:
                messages[msg.id] = msg.string
    # Babel keeps only standard header fields, so read ours from the file itself.
    header = re.search(r'^"X-Native-Review:\s*(\w+)', path.read_text(encoding="utf-8"),
                       re.MULTILINE | re.IGNORECASE)
    reviewed = header is not None and header.group(1).lower() == "yes"
    return Catalog(language=language, messages=messages, reviewed=reviewed, path=path)


@dataclass
class Catalogs:
    by_language: Mapping[str, Catalog]
    fallback: tuple[str, ...] = ("en", "ja-easy")
    gaps: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def load(
        cls, directory: Path, languages: Iterable[str],
        fallback: tuple[str, ...] = ("en", "ja-easy"),
    ) -> Catalogs:
        by_language = {tag: load_catalog(directory / f"{tag}.po", tag) for tag in languages}
        return cls(by_language=by_language, fallback=fallback)

    def reviewed(self, language: str) -> bool:
        """Whether a native speaker has reviewed this language's catalog."""
        cat = self.by_language.get(language)
        return cat is not None and cat.reviewed

    def has(self, language: str, key: str) -> bool:
        cat = self.by_language.get(language)
        return cat is not None and key in cat.messages

    def raw(self, language: str, key: str) -> tuple[str, str]:
        """(text, language it came from) for ``key``, following the fallback chain."""
        for tag in (language, *self.fallback, "ja"):
            cat = self.by_language.get(tag)
            if cat is not None and key in cat.messages:
                if tag != language and (language, key) not in self.gaps:
                    self.gaps.add((language, key))
                    log.warning("message %s missing in %s; using %s", key, language, tag)
                return cat.messages[key], tag
        raise KeyError(f"message {key!r} exists in no catalog")

    def text(self, language: str, key: str, /, **values: Any) -> str:
        template, _ = self.raw(language, key)
        if values and ")" in template:
            template = attach_particles(template, values)  # Korean 을/를 ...
        return template.format(**values) if values or "{" in template else template

    def optional(self, language: str, key: str, /, **values: Any) -> str | None:
        """Like :meth:`text`, but None if no catalog has ``key``."""
        try:
            return self.text(language, key, **values)
        except KeyError:
            return None
