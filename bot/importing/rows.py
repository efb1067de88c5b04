"""Checking subscriber records: each row becomes a :class:`Subscriber` or a list of
what is wrong with it, and the file as a whole is checked for the same user twice.

Every field is checked on its own so that one line can say everything wrong with a
row: the channel, the platform's user-id form (no control, NUL or bidirectional-text
characters, which would let a forged id look like another on an operator's
screen), a known language, known wards and kinds, and ``test``/``active`` as
true or false. JSON values must have the right type: a ``user_id`` is text or a
whole number, ``wards`` and ``kinds`` are text or lists of text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from bot.domain import Kind, Subscriber
from bot.errors import ValidationError
from bot.importing.files import FIELDS, Record, show, type_name
from channels import registry

_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0", "")
_BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "LRM", "RLM", "ALM"}


@dataclass(frozen=True, slots=True)
class Bad:
    """A row that cannot be imported, and everything wrong with it."""

    record: Record
    problems: tuple[str, ...]

    def line(self, name: str) -> str:
        return f"{name}:{self.record.line}: {'; '.join(self.problems)}"


@dataclass(slots=True)
class Checked:
    """The rows that can be imported and those that cannot, in file order."""

    good: list[tuple[Record, Subscriber]] = field(default_factory=list)
    bad: list[Bad] = field(default_factory=list)

    @property
    def subscribers(self) -> list[Subscriber]:
        return [sub for _, sub in self.good]


def check_records(config: Config, records: Iterable[Record]) -> Checked:
    """Check every record, then the file for the same user on several rows (all of
    them are refused: which one was meant cannot be known)."""
    rows: list[tuple[Record, Subscriber | None, list[str]]] = []
    lines: dict[tuple[str, str], list[int]] = {}
    wards: dict[str, str | None] = {}  # a ward as written -> its code: looked up once
    for rec in records:
        if rec.fields is None:
            rows.append((rec, None, [rec.problem or "cannot be read"]))
            continue
        sub, problems = check_fields(config, rec.fields, wards)
        rows.append((rec, sub, problems))
        if sub is not None:
            lines.setdefault((sub.channel, sub.user_id), []).append(rec.line)
    out = Checked()
    for rec, sub, problems in rows:
        if sub is not None:
            others = [n for n in lines[(sub.channel, sub.user_id)] if n != rec.line]
            if others:
                problems = [f"{sub.channel} user {show(sub.user_id)} is also on line"
                            f"{'s' if len(others) > 1 else ''} "
                            f"{', '.join(map(str, others))}: keep one row per user"]
        if problems:
            out.bad.append(Bad(rec, tuple(problems)))
        else:
            assert sub is not None
            out.good.append((rec, sub))
    return out


def check_fields(config: Config, fields: Mapping[str, Any],
                 ward_cache: dict[str, str | None] | None = None
                 ) -> tuple[Subscriber | None, list[str]]:
    """The subscriber ``fields`` describe, or None and what is wrong (one phrase each).
    ``ward_cache`` keeps ward lookups across the rows of one file."""
    problems: list[str] = []
    unknown = [k for k in fields if k not in FIELDS]
    if unknown:
        problems.append(f"unknown field {', '.join(show(str(k)) for k in unknown)} "
                        f"(fields: {', '.join(FIELDS[:-1])})")
    channel = _text(fields, "channel", problems)
    channel = channel.lower() if channel is not None else None
    if channel is not None and channel not in registry.subscriber_names():
        problems.append(f"channel {show(channel)} is not one of "
                        f"{', '.join(registry.subscriber_names())}")
        channel = None
    user_id = _user_id(fields.get("user_id"), channel, problems)
    language = _text(fields, "language", problems)
    if language is not None and language not in config.languages:
        problems.append(f"unknown language {show(language)} (languages: "
                        f"{' '.join(config.languages)})")
    wards = _wards(config, fields.get("wards"), problems,
                   {} if ward_cache is None else ward_cache)
    kinds = _kinds(fields.get("kinds"), problems)
    test = _flag(fields, "test", False, problems)
    active = _flag(fields, "active", True, problems)
    if problems or channel is None or user_id is None or language is None:
        return None, problems
    try:
        return Subscriber(channel=channel, user_id=user_id, language=language, wards=wards,
                          kinds=kinds, test=test, active=active), []
    except (ValidationError, ValueError) as exc:
        return None, [str(exc)]



def _text(fields: Mapping[str, Any], key: str, problems: list[str]) -> str | None:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(f"{key} is missing")
        return None
    if not isinstance(value, str):
        problems.append(f"{key} must be text, not {type_name(value)}")
        return None
    return value.strip()


def _user_id(value: Any, channel: str | None, problems: list[str]) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append("user_id is missing" + (" (null)" if value is None else ""))
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.append(f"user_id must be text or a whole number, not {type_name(value)}")
        return None
    text = str(value).strip()
    for ch in text:
        why = forbidden(ch)
        if why:
            problems.append(f"user_id {show(text)} contains {why}")
            return None
    if channel is not None:
        wrong = registry.spec(channel).check_user_id(text)
        if wrong:
            problems.append(f"user_id {show(text)} {wrong}")
            return None
    return text


def forbidden(ch: str) -> str | None:
    """Why ``ch`` may not be in an id (a control, NUL, bidirectional-text or invisible
    character), or None."""
    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "")
    if ch == "\0":
        return f"a NUL character ({code})"
    if unicodedata.bidirectional(ch) in _BIDI:
        return f"a bidirectional-text control {code} {name}".rstrip()
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"a control character {code}"
    if category[0] in "CZ" and ch != " ":
        return f"an invisible character {code} {name}".rstrip()
    return None


def _words(value: Any, key: str, example: str, problems: list[str]) -> list[str] | None:
    """A list of words from text ("a b", "a;b", "a,b") or a JSON list of text."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.replace(";", " ").replace(",", " ").split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    what = type_name(value) if not isinstance(value, list) else "a list with " + next(
        type_name(v) for v in value if not isinstance(v, str))
    problems.append(f"{key} must be text or a list of text such as {example}, not {what}")
    return None


def _wards(config: Config, value: Any, problems: list[str],
           cache: dict[str, str | None]) -> tuple[str, ...]:
    """JIS codes of the wards named (codes or names as ``bousai wards`` lists them);
    none or ``all``: the whole city."""
    from bot.places import WHOLE_CITY, resolve_ward

    words = _words(value, "wards", '"43101 43104" or ["43101"]', problems)
    if not words or [w.casefold() for w in words] in ([w] for w in WHOLE_CITY):
        return config.ward_codes
    wanted = set()
    for word in words:
        if word not in cache:
            try:
                cache[word] = resolve_ward(config, word).code
            except ValidationError:
                cache[word] = None
        code = cache[word]
        if code is None:
            problems.append(f"unknown or ambiguous ward {show(word)} (`bousai wards` "
                            "lists them; 'all' alone for the whole city)")
        else:
            wanted.add(code)
    return tuple(code for code in config.ward_codes if code in wanted)


def _kinds(value: Any, problems: list[str]) -> tuple[Kind, ...]:
    words = _words(value, "kinds", '"earthquake tsunami" or ["earthquake"]', problems)
    kinds = []
    for word in words or []:
        try:
            kinds.append(Kind(word))
        except ValueError:
            problems.append(f"unknown kind {show(word)} (kinds: "
                            f"{' '.join(k.value for k in Kind)})")
    return tuple(kinds)


def _flag(fields: Mapping[str, Any], key: str, default: bool, problems: list[str]) -> bool:
    value = fields.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        word = value.strip().lower()
        return default if not word else word in _TRUE
    problems.append(f"{key} must be true or false, not {type_name(value)}")
    return default
