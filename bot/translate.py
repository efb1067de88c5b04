"""Machine translation of free text (operator notices, source text), never of templates.

One callable, :class:`Translator`, matches :data:`bot.render.compose.Translate`:
``translator(text, source, target)`` returns the translation, or None when the
provider fails, is slow, or does not know the language; it never raises, so the
renderer falls back (official text, else a note and English/Japanese).

- The provider is deep-translator's Google, DeepL, Microsoft or LibreTranslate
  client, chosen in ``[translation]`` of the configuration. The API key comes from
  the environment variable named there; ``TRANSLATE_API_BASE_URL`` overrides the
  base URL (a self-hosted LibreTranslate, or a fake in tests).
- Glossary terms (ward and city names, shelter names, warning and intensity
  names) are replaced with opaque tokens before translation and come back as the
  official term of the target language; a translation that loses a token is refused.
- Each call has a deadline (``timeout_seconds``); results are cached in the
  ``translation_cache`` table by provider, languages and SHA-256 of the text.
- A language with ``machine_translation = false`` in the languages table (やさしい
  日本語, ``ja-easy``) is never machine-translated; each provider's language codes
  are in that table too (``translator_codes``).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.config import Config
from bot.errors import ConfigError
from bot.languages import Language, LazyMapping, process_languages
from bot.render import terms
from bot.render.catalog import Catalogs
from bot.store import translations as cache

log = logging.getLogger(__name__)

PROVIDERS = ("google", "deepl", "microsoft", "libre")


def _provider_codes() -> Mapping[str, Mapping[str, str]]:
    table = process_languages()
    return {p: {tag: code for tag, lang in table.items()
                if (code := lang.translator_code(p)) is not None} for p in PROVIDERS}


# Each provider's code for our language tags, from the languages table
# (``translator_codes``); a tag missing here is not supported by that provider, and
# the call returns None. Read on use: the table is data.
PROVIDER_CODES: Mapping[str, Mapping[str, str]] = LazyMapping(_provider_codes)

Backend = Callable[[str, str, str], str]  # (text, source code, target code) -> translation


@dataclass(frozen=True, kw_only=True)
class TranslationSettings:
    provider: str = "libre"
    base_url: str = ""
    timeout_seconds: float = 5.0
    api_key_env: str = "BOUSAI_TRANSLATE_API_KEY"
    enabled: bool = True
    codes: Mapping[str, str] = field(default_factory=dict)  # overrides of the languages table
    # The configuration's languages table; None: this process's (bot.languages).
    languages: Mapping[str, Language] | None = None

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str] | None = None
                    ) -> TranslationSettings:
        env = os.environ if environ is None else environ
        raw = config.section("translation")
        provider = str(raw.get("provider", "libre"))
        if provider not in PROVIDERS:
            raise ConfigError(f"unknown provider {provider!r} ({', '.join(PROVIDERS)})",
                              key="translation.provider", path=config.path)
        timeout = raw.get("timeout_seconds", 5.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError("must be a positive number of seconds",
                              key="translation.timeout_seconds", path=config.path)
        codes = raw.get("codes", {})
        if not isinstance(codes, Mapping):
            raise ConfigError("must be a table", key="translation.codes", path=config.path)
        for tag, lang in config.language_table.items():
            for name in lang.translator_codes:
                if name not in PROVIDERS:
                    raise ConfigError(f"unknown provider {name!r} ({', '.join(PROVIDERS)})",
                                      key=f"languages.{tag}.translator_codes.{name}",
                                      path=str(config.data_files.languages))
        return cls(
            provider=provider,
            base_url=env.get("TRANSLATE_API_BASE_URL") or str(raw.get("base_url", "")),
            timeout_seconds=float(timeout),
            api_key_env=str(raw.get("api_key_env", "BOUSAI_TRANSLATE_API_KEY")),
            enabled=bool(raw.get("enabled", True)),
            codes={str(k): str(v) for k, v in codes.items()},
            languages=config.language_table or None,
        )

    def _language(self, tag: str) -> Language | None:
        table = self.languages if self.languages is not None else process_languages()
        return table.get(tag)

    def translatable(self, tag: str) -> bool:
        """False for a language that free text is never machine-translated into."""
        lang = self._language(tag)
        return lang is None or lang.machine_translation

    def code(self, tag: str) -> str | None:
        """``tag``'s code at the provider: ``[translation].codes``, else the languages
        table; None when the provider does not support it."""
        lang = self._language(tag)
        return self.codes.get(tag) or (lang.translator_code(self.provider) if lang else None)


# ---------------------------------------------------------------- glossary

_MARK = "[[T{0}]]"
_TOKEN_RE = re.compile(r"\[\[\s*T\s*(\d+)\s*\]\]")


@dataclass(frozen=True)
class Glossary:
    """Japanese official terms and their official names in each language."""

    entries: Mapping[str, Mapping[str, str]]  # term in Japanese -> language -> term

    def protect(self, text: str) -> tuple[str, list[str]]:
        """``text`` with every term replaced by ``[[T<n>]]``; the terms in order of n."""
        found: list[str] = []
        if not self.entries:
            return text, found
        pattern = "|".join(re.escape(t) for t in sorted(self.entries, key=len, reverse=True))

        def sub(m: re.Match[str]) -> str:
            found.append(m.group(0))
            return _MARK.format(len(found) - 1)

        return re.sub(pattern, sub, text), found

    def restore(self, text: str, found: list[str], target: str) -> str | None:
        """Tokens replaced by the target-language terms; None if a token was lost."""
        seen: set[int] = set()

        def sub(m: re.Match[str]) -> str:
            i = int(m.group(1))
            if i >= len(found):
                return m.group(0)
            seen.add(i)
            names = self.entries[found[i]]
            return names.get(target) or names.get("en") or found[i]

        restored = _TOKEN_RE.sub(sub, text)
        if seen != set(range(len(found))) or _TOKEN_RE.search(restored):
            return None
        return restored


# Catalog messages that are official terms (warning names, intensities ...).
GLOSSARY_KEYS = ("warning.", "intensity.", "tsunami.kind.major_warning", "tsunami.kind.warning",
                 "tsunami.kind.advisory", "term.")


def build_glossary(config: Config, catalogs: Catalogs | None = None,
                   shelter_names: Iterable[str] = ()) -> Glossary:
    entries: dict[str, dict[str, str]] = {}

    def add(ja: str, names: Mapping[str, str]) -> None:
        if ja and len(ja) >= 2:
            entries[ja] = {tag: names.get(tag) or ja for tag in config.languages}

    add(config.city_name, config.city_names)
    for ward in config.wards:
        add(ward.names.get("ja", ""), ward.names)
    for table in (terms.TSUNAMI_AREAS, terms.VOLCANOES):
        for names in table.values():
            add(names["ja"], names)
    for name in shelter_names:
        add(name, {})
    ja = catalogs.by_language.get("ja") if catalogs is not None else None
    if catalogs is not None and ja is not None:
        for key, ja_term in ja.messages.items():
            if key.startswith(GLOSSARY_KEYS) and "{" not in ja_term:
                add(ja_term, {tag: catalogs.text(tag, key) for tag in config.languages
                              if catalogs.has(tag, key)})
    return Glossary(entries)


# ---------------------------------------------------------------- providers


def deep_translator_backend(settings: TranslationSettings, api_key: str) -> Backend:
    """A call into deep-translator's client for the configured provider."""
    from deep_translator import (
        DeeplTranslator,
        GoogleTranslator,
        LibreTranslator,
        MicrosoftTranslator,
    )

    class _Libre(LibreTranslator):
        # deep-translator's list of LibreTranslate languages is fixed and short;
        # the server knows what it supports, so pass our codes through.
        def _map_language_to_code(self, *languages: str) -> Iterable[str]:
            yield from languages

    def call(text: str, source: str, target: str) -> str:
        p = settings.provider
        if p == "google":
            result = GoogleTranslator(source=source, target=target).translate(text)
        elif p == "deepl":
            result = DeeplTranslator(source=source, target=target, api_key=api_key,
                                     use_free_api=api_key.endswith(":fx")).translate(text)
        elif p == "microsoft":
            result = MicrosoftTranslator(source=source, target=target,
                                         api_key=api_key).translate(text)
        else:
            base = settings.base_url.rstrip("/") + "/" if settings.base_url else None
            # A self-hosted LibreTranslate needs no key, but the client insists on one.
            result = _Libre(source=source, target=target, api_key=api_key or "-",
                            custom_url=base).translate(text)
        if not isinstance(result, str):
            raise TypeError(f"provider returned {type(result).__name__}")
        return result

    return call


# ---------------------------------------------------------------- the callable


class Translator:
    """``translator(text, source, target) -> str | None``; see the module docstring."""

    def __init__(self, settings: TranslationSettings, *, engine: Engine | None = None,
                 glossary: Glossary | None = None, backend: Backend | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.settings = settings
        self.engine = engine
        self.glossary = glossary or Glossary({})
        self._backend = backend or deep_translator_backend(
            settings, env.get(settings.api_key_env, ""))
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="translate")
        # Circuit breaker: after a failure, calls return None at once for a while,
        # so that an alert in sixteen languages never waits sixteen timeouts.
        self._down_until = 0.0
        self.retry_after_failure = 60.0

    def __repr__(self) -> str:  # never the key
        return f"Translator(provider={self.settings.provider!r})"

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __call__(self, text: str, source: str, target: str) -> str | None:
        if not text.strip():
            return text
        if not self.settings.translatable(target) or not self.settings.enabled:
            return None
        if source == target:
            return text
        src, dst = self.settings.code(source), self.settings.code(target)
        if src is None or dst is None:
            log.info("translation %s->%s not supported by %s", source, target,
                     self.settings.provider)
            return None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        cached = self._cached(source, target, digest)
        if cached is not None:
            return cached
        protected, found = self.glossary.protect(text)
        raw = self._call(protected, src, dst)
        if raw is None:
            return None
        result = self.glossary.restore(raw, found, target)
        if result is None:
            log.warning("translation %s->%s by %s lost a protected term; not used",
                        source, target, self.settings.provider)
            return None
        self._store(source, target, digest, text, result)
        return result

    def _call(self, text: str, src: str, dst: str) -> str | None:
        if time.monotonic() < self._down_until:
            return None
        result = self._call_provider(text, src, dst)
        if result is None:
            self._down_until = time.monotonic() + self.retry_after_failure
        return result

    def _call_provider(self, text: str, src: str, dst: str) -> str | None:
        try:
            future = self._pool.submit(self._backend, text, src, dst)
        except RuntimeError:  # pool shut down
            return None
        try:
            return future.result(timeout=self.settings.timeout_seconds)
        except concurrent.futures.TimeoutError:
            future.cancel()
            log.warning("translation by %s timed out after %.1fs", self.settings.provider,
                        self.settings.timeout_seconds)
        except Exception as exc:  # any provider failure means: fall back
            log.warning("translation by %s failed: %s", self.settings.provider,
                        type(exc).__name__)
        return None

    # ------------------------------------------------------------ cache

    def _cached(self, source: str, target: str, digest: str) -> str | None:
        if self.engine is None:
            return None
        return cache.get(self.engine, self.settings.provider, source, target, digest)

    def _store(self, source: str, target: str, digest: str, text: str, result: str) -> None:
        if self.engine is not None:
            cache.put(self.engine, self.settings.provider, source, target, digest, text, result)


def load_translator(config: Config, engine: Engine | None, catalogs: Catalogs | None = None,
                    environ: Mapping[str, str] | None = None) -> Translator:
    """The translator for this configuration, with the glossary of the city."""
    from bot.shelters import shelters_for

    settings = TranslationSettings.from_config(config, environ)
    glossary = build_glossary(config, catalogs, (s.name for s in shelters_for(config).values()))
    return Translator(settings, engine=engine, glossary=glossary, environ=environ)


def make_translator(config: Config, settings: object = None, engine: Engine | None = None,
                    environ: Mapping[str, str] | None = None) -> Translator | None:
    """The service's translator, or None when machine translation is not set up:
    disabled, LibreTranslate without an endpoint, or DeepL/Microsoft without a key.
    (``settings`` is the service's :class:`bot.config.Settings`; endpoints and keys are
    read from the environment here.)"""
    from bot.config import TEMPLATES_DIR

    env = os.environ if environ is None else environ
    ts = TranslationSettings.from_config(config, env)
    if not ts.enabled:
        return None
    if ts.provider == "libre" and not ts.base_url:
        log.debug("machine translation off: no LibreTranslate endpoint configured")
        return None
    if ts.provider in ("deepl", "microsoft") and not env.get(ts.api_key_env):
        log.debug("machine translation off: %s is not set", ts.api_key_env)
        return None
    catalogs = Catalogs.load(TEMPLATES_DIR, config.languages, config.fallback_languages)
    return load_translator(config, engine, catalogs, env)
