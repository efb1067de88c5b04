"""Configuration: the city's TOML file, plus secrets and endpoints from the environment.

The TOML file (``config/bousai.toml``, or ``BOUSAI_CONFIG``) holds everything
city-specific; its ``[data]`` section names the city's data files (languages table,
shelters, ward boundaries, the kinds of CAP alerts), relative to the TOML file.
Secrets never come from a file; :class:`Secret` hides its value from
``repr``/``str`` so that it cannot reach a log line or an error message.
Every problem raises :class:`~bot.errors.ConfigError` naming the key and file.
"""

from __future__ import annotations

import functools
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, UnknownLanguageError, UnknownWardError
from bot.languages import Language, find_language, load_languages
from channels import registry
from channels.base import BadOption, FanoutMode

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _data_dir(name: str) -> Path:
    """``templates/`` or ``config/``: beside the package in a checkout, else installed."""
    here = PROJECT_ROOT / name
    if here.is_dir():
        return here
    return Path(sys.prefix) / "share" / "bousai" / name


TEMPLATES_DIR = _data_dir("templates")
DEFAULT_CONFIG_PATH = _data_dir("config") / "bousai.toml"
# [data] files, relative to the configuration file, as in the shipped bousai.toml;
# a key left out of [data] means the shipped file.
DATA_FILES = {"languages": "data/languages.toml", "shelters": "data/shelters.csv",
              "ward_boundaries": "data/wards.geojson", "cap_kinds": "data/cap_kinds.toml"}


class Secret:
    """A secret value that never shows itself in repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, kw_only=True)
class Ward:
    code: str
    jma_code: str
    names: Mapping[str, str]

    def name(self, language: str, fallback: tuple[str, ...] = ("en", "ja")) -> str:
        for tag in (language, *fallback):
            if tag in self.names:
                return self.names[tag]
        return self.code


@dataclass(frozen=True, kw_only=True)
class DataFiles:
    """The city's data files (``[data]``), as absolute paths."""

    languages: Path
    shelters: Path
    ward_boundaries: Path
    cap_kinds: Path

    @classmethod
    def beside(cls, config_path: Path) -> DataFiles:
        """The default files, relative to ``config_path``."""
        base = config_path.parent
        return cls(**{key: base / rel for key, rel in DATA_FILES.items()})


@dataclass(frozen=True, kw_only=True)
class ChannelSettings:
    name: str
    enabled: bool
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    """How long and how hard a row is retried ([delivery] in the configuration).

    A row is retried until its alert expires, or for ``retry_for_seconds`` when the
    alert has no expiry; ``max_attempts`` (none by default) optionally caps the
    attempts the platform answered with a transient error. A platform that cannot
    be reached pauses the channel (probing at most every ``pause_max_seconds``) and
    costs rows no attempt. ``database_outage_limit_seconds``: ``bousai run`` exits
    after the database has failed that long without a break. ``poll_interval_seconds``:
    how often an idle ``bousai run`` looks for due rows that no wake-up announced
    (other processes wake it at once, see :mod:`bot.wakeup`).
    """

    max_attempts: int | None = None
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    retry_for_seconds: float = 86400.0
    pause_max_seconds: float = 30.0
    database_outage_limit_seconds: float = 600.0
    poll_interval_seconds: float = 0.2


@dataclass(frozen=True, kw_only=True)
class Config:
    path: str
    city_name: str
    city_names: Mapping[str, str]
    city_jis_code: str
    jma_warning_area: str
    timezone: str
    map_url: str
    languages: tuple[str, ...]
    default_language: str
    fallback_languages: tuple[str, ...]
    wards: tuple[Ward, ...]
    channels: Mapping[str, ChannelSettings]
    delivery: DeliverySettings
    raw: Mapping[str, Any]
    data_files: DataFiles = field(default_factory=lambda: DataFiles.beside(DEFAULT_CONFIG_PATH))
    language_table: Mapping[str, Language] = field(default_factory=dict)

    def language(self, tag: str) -> Language:
        """What the languages table says about ``tag`` (see :mod:`bot.languages`)."""
        found = find_language(tag, self.language_table or None)
        if found is None:
            raise UnknownLanguageError(tag, self.path)
        return found

    def ward(self, code: str) -> Ward:
        for w in self.wards:
            if w.code == code or w.jma_code == code:
                return w
        raise UnknownWardError(code, self.path)

    def check_wards(self, codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """JIS codes for ``codes`` (JIS or JMA), in config order; unknown codes raise."""
        wanted = {self.ward(c).code for c in codes}
        return tuple(w.code for w in self.wards if w.code in wanted)

    def check_language(self, tag: str) -> str:
        if tag not in self.languages:
            raise UnknownLanguageError(tag, self.path)
        return tag

    @property
    def ward_codes(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.wards)

    def city_display_name(self, language: str) -> str:
        for tag in (language, *self.fallback_languages, "ja"):
            if tag in self.city_names:
                return self.city_names[tag]
        return self.city_name

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError("must be a table", key=name, path=self.path)
        return value


def _get(table: Mapping[str, Any], key: str, kind: type, path: str, prefix: str = "") -> Any:
    full = f"{prefix}{key}"
    if key not in table:
        raise ConfigError("missing setting", key=full, path=path)
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            f"must be {kind.__name__}, got {type(value).__name__}", key=full, path=path
        )
    return value


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the configuration file."""
    p = Path(path or os.environ.get("BOUSAI_CONFIG") or DEFAULT_CONFIG_PATH)
    spath = str(p)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path=spath) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=spath) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=spath) from None

    city = _get(raw, "city", dict, spath)
    langs = _get(raw, "languages", dict, spath)
    enabled = tuple(_get(langs, "enabled", list, spath, "languages."))
    if not enabled or not all(isinstance(t, str) and t for t in enabled):
        raise ConfigError("must list at least one language tag", key="languages.enabled",
                          path=spath)
    default = _get(langs, "default", str, spath, "languages.")
    if default not in enabled:
        raise ConfigError(f"{default!r} is not in languages.enabled", key="languages.default",
                          path=spath)
    fallback = tuple(langs.get("fallback", ["en", "ja-easy"]))
    for tag in fallback:
        if tag not in enabled:
            raise ConfigError(f"{tag!r} is not in languages.enabled", key="languages.fallback",
                              path=spath)

    ward_rows = _get(raw, "wards", list, spath)
    if not ward_rows:
        raise ConfigError("at least one ward is needed", key="wards", path=spath)
    wards = []
    seen: set[str] = set()
    for i, row in enumerate(ward_rows):
        prefix = f"wards[{i}]."
        if not isinstance(row, dict):
            raise ConfigError("must be a table", key=f"wards[{i}]", path=spath)
        code = _get(row, "code", str, spath, prefix)
        jma_code = _get(row, "jma_code", str, spath, prefix)
        names = _get(row, "names", dict, spath, prefix)
        for tag in enabled:
            if not isinstance(names.get(tag), str) or not names[tag]:
                raise ConfigError(f"ward {code} has no name in {tag!r}",
                                  key=f"{prefix}names.{tag}", path=spath)
        if code in seen or jma_code in seen:
            raise ConfigError(f"ward code {code} appears twice", key=f"{prefix}code", path=spath)
        seen.update({code, jma_code})
        wards.append(Ward(code=code, jma_code=jma_code, names=dict(names)))

    channels_raw = raw.get("channels", {})
    if not isinstance(channels_raw, dict):
        raise ConfigError("must be a table", key="channels", path=spath)
    channels = {}
    for name, table in channels_raw.items():
        if name not in registry.names():
            raise ConfigError(f"unknown channel ({', '.join(registry.names())})",
                              key=f"channels.{name}", path=spath)
        if not isinstance(table, dict):
            raise ConfigError("must be a table", key=f"channels.{name}", path=spath)
        enabled_flag = _get(table, "enabled", bool, spath, f"channels.{name}.")
        try:  # rates, budgets, timeout: what the channel will be built with
            registry.channel_class(name).check_options(table)
            registry.channel_class(name).check_languages(table, enabled)
            _check_kinds(table)
        except BadOption as exc:
            raise ConfigError(str(exc), key=f"channels.{name}.{exc.key}", path=spath) from None
        if registry.channel_class(name).spec.fanout is FanoutMode.BROADCAST \
                and "languages" in table:
            _check_post_languages(table["languages"], enabled, f"channels.{name}.languages",
                                  spath)
        channels[name] = ChannelSettings(name=name, enabled=enabled_flag, options=dict(table))

    data_files = _data_files(raw, p, spath)
    table = load_languages(data_files.languages)
    for tag in enabled:
        if tag not in table:
            raise ConfigError(f"{tag!r} is enabled in {spath} but has no entry here",
                              key=f"languages.{tag}", path=str(data_files.languages))

    d = raw.get("delivery", {})
    defaults = DeliverySettings()
    delivery = DeliverySettings(
        max_attempts=_get(d, "max_attempts", int, spath, "delivery.") if "max_attempts" in d
        else None,
        **{key: _get(d, key, float, spath, "delivery.") if key in d else getattr(defaults, key)
           for key in ("backoff_base_seconds", "backoff_max_seconds", "retry_for_seconds",
                       "pause_max_seconds", "database_outage_limit_seconds",
                       "poll_interval_seconds")},
    )
    if not 0 < delivery.poll_interval_seconds <= 60:
        raise ConfigError("must be more than 0 and at most 60 seconds",
                          key="delivery.poll_interval_seconds", path=spath)
    city_names = city.get("names", {})
    return Config(
        path=spath,
        city_name=_get(city, "name", str, spath, "city."),
        city_names=dict(city_names) if isinstance(city_names, dict) else {},
        city_jis_code=_get(city, "jis_code", str, spath, "city."),
        jma_warning_area=_get(city, "jma_warning_area", str, spath, "city."),
        timezone=city.get("timezone", "Asia/Tokyo"),
        map_url=city.get("map_url", "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}"),
        languages=enabled,
        default_language=default,
        fallback_languages=fallback,
        wards=tuple(wards),
        channels=channels,
        delivery=delivery,
        raw=raw,
        data_files=data_files,
        language_table=table,
    )


def _check_post_languages(value: Any, enabled: tuple[str, ...], key: str, path: str) -> None:
    """The languages a broadcast channel posts in: enabled tags, each once, in the order
    that decides which go first when a budget runs short."""
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise ConfigError(f"must be a list of language tags, got {value!r}", key=key, path=path)
    for tag in value:
        if tag not in enabled:
            raise ConfigError(f"{tag!r} is not in languages.enabled", key=key, path=path)
    if len(set(value)) != len(value):
        raise ConfigError("lists a language twice", key=key, path=path)


def _check_kinds(table: Mapping[str, Any]) -> None:
    """Alert kinds a channel's table names (``kinds``, ``paid_broadcast_kinds``)."""
    from bot.domain import Kind

    known = {k.value for k in Kind}
    for key in ("kinds", "paid_broadcast_kinds"):
        for kind in table.get(key) or ():
            if kind not in known:
                raise BadOption(key, f"unknown alert kind {kind!r} (known: "
                                     f"{', '.join(sorted(known))})")


@functools.cache
def _config_at(path: str) -> Config:
    return load_config(path)


def process_config() -> Config:
    """This process's configuration (``BOUSAI_CONFIG``, else the default file), read
    once: for module-level lookups whose public signature takes no configuration
    (shelters, official terms, time formats). Code that has a Config uses that one."""
    return _config_at(os.environ.get("BOUSAI_CONFIG") or str(DEFAULT_CONFIG_PATH))


def _data_files(raw: Mapping[str, Any], path: Path, spath: str) -> DataFiles:
    """``[data]``: each file relative to the configuration file, and present; a key
    left out means the file shipped with bousai-bot (熊本市's)."""
    section = raw.get("data", {})
    if not isinstance(section, dict):
        raise ConfigError("must be a table", key="data", path=spath)
    for key in section:
        if key not in DATA_FILES:
            raise ConfigError(f"unknown data file ({', '.join(DATA_FILES)})", key=f"data.{key}",
                              path=spath)
    files = {}
    shipped = DataFiles.beside(DEFAULT_CONFIG_PATH)
    for key in DATA_FILES:
        file = (path.parent / _get(section, key, str, spath, "data.") if key in section
                else getattr(shipped, key))
        if not file.is_file():
            raise ConfigError(f"file not found: {file} (paths are relative to the "
                              "configuration file)", key=f"data.{key}", path=spath)
        files[key] = file
    return DataFiles(**files)


# ---------------------------------------------------------------- environment
# Which variables hold each channel's secrets and base URL is declared on the
# channel class (channels.base.ChannelSpec); the registry lists the channels.


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Secrets and endpoints, from the environment only. ``secrets`` by variable
    name; ``base_urls`` by channel name (a channel missing there uses its default)."""

    database_url: str
    secrets: Mapping[str, Secret]
    base_urls: Mapping[str, str]
    http_host: str
    http_port: int
    log_format: str

    def secret(self, name: str) -> Secret:
        return self.secrets.get(name, Secret(""))

    def base_url(self, channel: str) -> str:
        """Where ``channel``'s API is: its ``*_API_BASE_URL``, else the platform's own."""
        return self.base_urls.get(channel) or registry.spec(channel).base_url

    def require_channel_secrets(self, config: Config) -> None:
        """Every enabled channel has its secrets, or start-up stops here."""
        for name, ch in config.channels.items():
            if not ch.enabled:
                continue
            for var in registry.spec(name).secret_vars:
                if not self.secret(var):
                    raise ConfigError(
                        f"channel {name!r} is enabled in {config.path} but {var} is not set "
                        "in the environment",
                        key=f"channels.{name}.enabled",
                    )


def default_database_url() -> str:
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'bousai' / 'bousai.db'}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    specs = registry.specs()
    secrets = {var: Secret(env.get(var, "")) for spec in specs.values()
               for var in spec.secret_vars}
    base_urls = {name: (env.get(spec.base_url_var) or spec.base_url).rstrip("/")
                 for name, spec in specs.items()}
    port_s = env.get("BOUSAI_HTTP_PORT", "8080")
    try:
        port = int(port_s)
    except ValueError:
        raise ConfigError(f"must be a port number, got {port_s!r}", key="BOUSAI_HTTP_PORT") \
            from None
    fmt = env.get("BOUSAI_LOG_FORMAT", "text")
    if fmt not in ("text", "json"):
        raise ConfigError("must be 'text' or 'json'", key="BOUSAI_LOG_FORMAT")
    return Settings(
        database_url=env.get("BOUSAI_DATABASE_URL") or default_database_url(),
        secrets=secrets,
        base_urls=base_urls,
        http_host=env.get("BOUSAI_HTTP_HOST", "127.0.0.1"),
        http_port=port,
        log_format=fmt,
    )
