"""Typed records and their JSON form.

A :class:`Record` is a frozen, keyword-only, slotted dataclass whose fields are
checked against their annotations when it is built: a value of the wrong type
raises :class:`~bot.errors.ValidationError` naming the field. A field also takes
its JSON form (an ISO 8601 string for a datetime, the value of an enum member, a
list for a tuple, an object for a nested record), which is all :meth:`from_json`
needs; :meth:`to_json` writes that form back, so ``from_json(to_json(x)) == x``.

The annotations a field may have: ``str``, ``int``, ``float`` (finite), ``bool``,
``datetime`` (timezone-aware), an :class:`enum.Enum`, a :class:`Record`,
``tuple[X, ...]``, ``tuple[X, Y]``, ``Mapping[str, X]`` and ``X | None``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from bot.domain.intensity import Intensity
from bot.errors import ValidationError


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Record:
    """Base of payloads and of the records inside them."""

    def __post_init__(self) -> None:
        name = type(self).__name__
        for field, tp in _fields(type(self)):
            value = _coerce(getattr(self, field.name), tp, f"{name}.{field.name}")
            object.__setattr__(self, field.name, value)
        self._check()

    def _check(self) -> None:
        """Rules across fields; a subclass raises ValidationError when one fails."""

    def to_json(self) -> dict[str, Any]:
        return {field.name: _encode(getattr(self, field.name)) for field, _ in _fields(type(self))}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Build from the JSON form. Keys this version does not know are left out
        (a row written by a newer version still loads); known keys are checked."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"{cls.__name__} must be a JSON object, got "
                                  f"{type(data).__name__}")
        fields = _fields(cls)
        for field, _ in fields:
            if (field.name not in data and field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING):
                raise ValidationError(f"{cls.__name__}.{field.name} is required")
        names = {field.name for field, _ in fields}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Payload(Record):
    """The structured values of an alert (``Alert.payload``).

    ``TYPE`` names the class in the stored JSON (key ``"payload"``); ``KINDS`` are
    the :class:`~bot.domain.Kind` values an alert with this payload may have
    (None: any kind). ``event_key`` names the series of reports an update or
    cancellation refers to (JMA: ``jma:{InfoKind}:{EventID}``; CAP:
    ``cap:{sender}:{identifier}``; RSS: ``rss:{feed}:{entry}``); the store finds
    originals by it, so it stays a top-level key of the JSON.
    """

    TYPE: ClassVar[str] = ""
    KINDS: ClassVar[frozenset[str] | None] = None
    # False: addressed to each subscriber, never posted on a public timeline (X).
    PUBLIC: ClassVar[bool] = True

    event_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"payload": self.TYPE, **Record.to_json(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        tag = data.get("payload") if isinstance(data, Mapping) else None
        if tag is not None and tag != cls.TYPE:
            raise ValidationError(f"a {tag!r} payload is not a {cls.TYPE!r} payload")
        loaded: Self = super(Payload, cls).from_json(data)
        return loaded


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class JmaPayload(Payload):
    """What every JMA report carries besides its body (Control and Head)."""

    jma_info_kind: str | None = None  # Head/InfoKind, e.g. 震源・震度情報
    jma_title: str | None = None  # Head/Title
    jma_status: str | None = None  # Control/Status: 通常, 訓練 (drill), 試験 (test)
    publishing_office: str | None = None


_FIELDS: dict[type, tuple[tuple[dataclasses.Field[Any], Any], ...]] = {}


def _fields(cls: type[Record]) -> tuple[tuple[dataclasses.Field[Any], Any], ...]:
    """(field, resolved annotation) of a record class, worked out once per class."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _FIELDS[cls] = tuple((f, hints[f.name]) for f in dataclasses.fields(cls))
    return found


def _fail(where: str, want: str, value: object) -> ValidationError:
    return ValidationError(f"{where} must be {want}, got {type(value).__name__} {value!r}")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(tp)):
            return None
        if len(options) != 1:
            raise TypeError(f"{where}: only 'X | None' unions are supported, not {tp!r}")
        tp, origin = options[0], typing.get_origin(options[0])
    if value is None:
        raise ValidationError(f"{where} is required")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise _fail(where, "a list", value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise _fail(where, f"a list of {len(args)}", value)
        pairs = enumerate(zip(value, args, strict=True))
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in pairs)
    if origin is Mapping or origin is dict:
        key_type, value_type = typing.get_args(tp)
        if not isinstance(value, Mapping):
            raise _fail(where, "an object", value)
        return {_coerce(k, key_type, f"{where} key"): _coerce(v, value_type, f"{where}[{k!r}]")
                for k, v in value.items()}
    if not isinstance(tp, type):
        raise TypeError(f"{where}: unsupported annotation {tp!r}")
    if issubclass(tp, Record):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            try:
                return tp.from_json(value)
            except ValidationError as exc:
                raise ValidationError(f"{where}: {exc}") from None
        raise _fail(where, f"a {tp.__name__}", value)
    if tp is Intensity:
        try:
            return Intensity.parse(value)
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc}") from None
    if issubclass(tp, enum.Enum):
        if isinstance(value, tp):
            return value
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            return tp(value)
        except ValueError:
            known = ", ".join(repr(m.value) for m in tp)
            raise ValidationError(f"{where}: {value!r} is not one of {known}") from None
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(where, "true or false", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(where, "an integer", value)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise _fail(where, "a finite number", value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _fail(where, "a string", value)
        return value
    if tp is dt.datetime:
        return _datetime(value, where)
    raise TypeError(f"{where}: unsupported annotation {tp!r}")


def _datetime(value: Any, where: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _fail(where, "an ISO 8601 time", value) from None
    if not isinstance(value, dt.datetime):
        raise _fail(where, "a time", value)
    if value.tzinfo is None:
        raise ValidationError(f"{where} must be timezone-aware, got naive {value.isoformat()}")
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    return value
