"""``[push.dmdata]`` in the configuration, and the API key from the environment.

::

    [push.dmdata]
    enabled = true
    classifications = ["eew.warning"]      # DMDATA's classifications to receive
    # base_url = "https://api.dmdata.jp"   # REST API base; DMDATA_API_BASE_URL overrides
    app_name = "bousai-bot"
    keepalive_seconds = 90                 # silence this long: ping; twice: reconnect
    reconnect_initial_seconds = 1
    reconnect_max_seconds = 60
    max_bytes = 5000000                    # a document larger than this is refused

The API key is ``DMDATA_API_KEY`` (never in a file, never logged). A source that is
enabled without it stops start-up with one line saying so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config import Config, Secret
from bot.errors import ConfigError
from bot.push.dmdata_protocol import DEFAULT_BASE_URL

API_KEY_VAR = "DMDATA_API_KEY"
BASE_URL_VAR = "DMDATA_API_BASE_URL"
NAME = "dmdata"
_KNOWN = {"enabled", "classifications", "base_url", "app_name", "keepalive_seconds",
          "reconnect_initial_seconds", "reconnect_max_seconds", "max_bytes"}


@dataclass(frozen=True, kw_only=True)
class DmdataSettings:
    name: str = NAME
    base_url: str = DEFAULT_BASE_URL
    classifications: tuple[str, ...] = ("eew.warning",)
    app_name: str = "bousai-bot"
    api_key: Secret
    keepalive: float = 90.0
    reconnect_initial: float = 1.0
    reconnect_max: float = 60.0
    max_bytes: int = 5_000_000


def _number(table: Mapping[str, Any], key: str, default: float, path: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError("must be a positive number", key=f"push.dmdata.{key}", path=path)
    return float(value)


def load_dmdata(config: Config, environ: Mapping[str, str] | None = None, *,
                require_key: bool = True) -> DmdataSettings | None:
    """The push source's settings, or None when it is not configured or not enabled.
    ``require_key=False`` for commands that only show its state."""
    env = os.environ if environ is None else environ
    push = config.raw.get("push", {})
    table = push.get("dmdata") if isinstance(push, Mapping) else None
    if table is None:
        return None
    path = config.path
    if not isinstance(table, Mapping):
        raise ConfigError("must be a table", key="push.dmdata", path=path)
    for key in table:
        if key not in _KNOWN:
            raise ConfigError(f"unknown setting (known: {', '.join(sorted(_KNOWN))})",
                              key=f"push.dmdata.{key}", path=path)
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError("must be true or false", key="push.dmdata.enabled", path=path)
    if not enabled:
        return None
    classes = table.get("classifications", ["eew.warning"])
    if (not isinstance(classes, list) or not classes
            or not all(isinstance(c, str) and c for c in classes)):
        raise ConfigError("must be a non-empty list of DMDATA classifications, e.g. "
                          '["eew.warning"]', key="push.dmdata.classifications", path=path)
    base = env.get(BASE_URL_VAR) or table.get("base_url", DEFAULT_BASE_URL)
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise ConfigError("must be an http(s) URL", key="push.dmdata.base_url", path=path)
    app_name = table.get("app_name", "bousai-bot")
    if not isinstance(app_name, str) or not app_name:
        raise ConfigError("must be a non-empty string", key="push.dmdata.app_name", path=path)
    key = env.get(API_KEY_VAR, "").strip()
    if not key and require_key:
        raise ConfigError(f"[push.dmdata] is enabled but {API_KEY_VAR} is not set: set it to "
                          "your DMDATA.jp API key, or set enabled = false", path=path)
    max_bytes = table.get("max_bytes", 5_000_000)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ConfigError("must be a positive integer", key="push.dmdata.max_bytes", path=path)
    initial = _number(table, "reconnect_initial_seconds", 1.0, path)
    most = _number(table, "reconnect_max_seconds", 60.0, path)
    return DmdataSettings(base_url=base.rstrip("/"), classifications=tuple(classes),
                          app_name=app_name, api_key=Secret(key),
                          keepalive=_number(table, "keepalive_seconds", 90.0, path),
                          reconnect_initial=initial, reconnect_max=max(most, initial),
                          max_bytes=max_bytes)
