"""Every chat platform the service knows, by name.

The registry only maps names to channel classes; each class declares its own
facts (:class:`~channels.base.ChannelSpec`). Classes are imported on first use.
The channel modules import their SDK only when they talk to the platform, so
reading specs and limits here (configuration, planning, every ``bousai``
command) costs no SDK import.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from channels.base import Channel, ChannelEnvironment, ChannelSpec, Limits

_CLASSES = {
    "telegram": ("channels.telegram", "TelegramChannel"),
    "tg_channels": ("channels.tg_channels", "TelegramChannelsChannel"),
    "line": ("channels.line", "LineChannel"),
    "x": ("channels.x", "XChannel"),
}


class UnknownChannel(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown channel {name!r} (known: {', '.join(names())})")
        self.name = name


def names() -> tuple[str, ...]:
    """Every platform's name, in a stable order."""
    return tuple(_CLASSES)


def subscriber_names() -> tuple[str, ...]:
    """The platforms people subscribe on (not the broadcast channels)."""
    return tuple(n for n in names() if spec(n).takes_subscribers)


def channel_class(name: str) -> type[Channel]:
    try:
        module, attr = _CLASSES[name]
    except KeyError:
        raise UnknownChannel(name) from None
    cls: type[Channel] = getattr(importlib.import_module(module), attr)
    assert cls.spec.name == name, f"{module}.{attr} declares {cls.spec.name!r}, not {name!r}"
    return cls


def spec(name: str) -> ChannelSpec:
    return channel_class(name).spec


def specs() -> dict[str, ChannelSpec]:
    return {name: spec(name) for name in names()}


def effective_limits(name: str, options: Mapping[str, Any]) -> Limits:
    """The limits a channel built from ``options`` (its ``[channels.<name>]`` table)
    has: the same code :func:`build` uses."""
    return channel_class(name).limits_for(options)


def build(name: str, settings: ChannelEnvironment, options: Mapping[str, Any]) -> Channel:
    """The channel as this deployment configures it (see ``Channel.from_settings``)."""
    return channel_class(name).from_settings(settings, options)
