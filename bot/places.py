"""Places by name: wards and shelters as an operator types them.

A ward is found by its JIS or JMA code, its name in any configured language, or
its romanised name with or without "-ku"/"Ward" (``43101``, ``中央区``, ``中央``,
``chuo``, ``Chuo-ku``, ``Chuo Ward``), case- and width-insensitively. A shelter
by its id or by (part of) its name. What is unknown or ambiguous is refused
with the choices, so that a tired operator never sends to the wrong place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from bot.config import Config, Ward
from bot.errors import ValidationError
from bot.shelters import Shelter, find_shelter, shelters

WHOLE_CITY = ("all", "city", "全市", "市内全域")
_SUFFIX = re.compile(r"[\s\-_]*(ku|ward|区)$")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _keys(ward: Ward) -> set[str]:
    keys = {_norm(ward.code), _norm(ward.jma_code)}
    for name in ward.names.values():
        n = _norm(name)
        keys.add(n)
        keys.add(re.sub(r"[（(].*?[)）]", "", n).strip())  # 中央区（ちゅうおうく）
    en = _norm(ward.names.get("en", ""))
    if en:
        stem = _SUFFIX.sub("", en)
        keys |= {stem, f"{stem}-ku", f"{stem}ku", f"{stem} ku", f"{stem} ward"}
    ja = _norm(ward.names.get("ja", ""))
    if ja.endswith("区"):
        keys.add(ja[:-1])
    return {k for k in keys if k}


def ward_choices(config: Config) -> str:
    return ", ".join(f"{w.code} {w.name('ja')} ({w.name('en')})" for w in config.wards)


def resolve_ward(config: Config, text: str) -> Ward:
    """The one ward ``text`` names; otherwise a ValidationError that lists the wards."""
    wanted = _norm(text)
    if not wanted:
        raise ValidationError(f"empty ward name; wards: {ward_choices(config)}")
    found = [w for w in config.wards if wanted in _keys(w)]
    if len(found) == 1:
        return found[0]
    partial = [] if wanted.isdigit() else [  # codes match whole, names also by prefix
        w for w in config.wards if any(k.startswith(wanted) for k in _keys(w))]
    if len(partial) == 1 and len(wanted) >= 3:
        return partial[0]
    if len(partial) > 1:
        raise ValidationError(f"ward {text!r} is ambiguous: "
                              + ", ".join(f"{w.code} {w.name('ja')}" for w in partial))
    raise ValidationError(f"unknown ward {text!r}; wards: {ward_choices(config)}, or 'all' "
                          "for the whole city (`bousai wards` lists them)")


def resolve_wards(config: Config, texts: Iterable[str] | None) -> tuple[str, ...]:
    """JIS codes in config order; nothing or ``all`` means the whole city."""
    items = [t for t in (texts or ()) if t is not None]
    if not items or any(_norm(t) in WHOLE_CITY for t in items):
        if len(items) > 1 and any(_norm(t) not in WHOLE_CITY for t in items):
            raise ValidationError("--ward all means the whole city; do not combine it with "
                                  "other wards")
        return config.ward_codes
    wanted = {resolve_ward(config, t).code for t in items}
    return tuple(code for code in config.ward_codes if code in wanted)


def shelter_ward(config: Config, shelter: Shelter) -> Ward | None:
    """The ward in the shelter's address (熊本市北区…)."""
    for w in config.wards:
        ja = w.names.get("ja", "")
        if ja and f"{config.city_name}{ja}" in shelter.address:
            return w
    return None


def search_shelters(text: str) -> list[Shelter]:
    """Shelters whose id is ``text`` or whose name contains it (width-insensitive)."""
    exact = find_shelter(text)
    if exact is not None:
        return [exact]
    wanted = _norm(text)
    if not wanted:
        return []
    table = shelters().values()
    same = [s for s in table if _norm(s.name) == wanted]
    return same or sorted((s for s in table if wanted in _norm(s.name)), key=lambda s: s.name)


def resolve_shelter(text: str) -> Shelter:
    """The one shelter ``text`` names (id or name); otherwise a ValidationError."""
    found = search_shelters(text)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValidationError(f"no shelter matches {text!r}; find it with `bousai shelters "
                              "search TEXT`")
    raise ValidationError(f"{len(found)} shelters match {text!r}: " + _list(found[:5])
                          + (" …" if len(found) > 5 else "") + "; give the id")


def _list(found: Sequence[Shelter]) -> str:
    return ", ".join(f"{s.id} {s.name}" for s in found)
