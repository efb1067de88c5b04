"""Machine translation of free text: a fake LibreTranslate, protected terms, the
database cache, and the renderer's fallback when the translator is down or slow."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import Config, load_config
from bot.db import make_engine, upgrade
from bot.db.schema import translation_cache
from bot.domain import Alert, Kind
from bot.errors import ConfigError
from bot.fakes.translator import FakeTranslator
from bot.render import Renderer, load_renderer
from bot.translate import (
    Glossary,
    TranslationSettings,
    Translator,
    build_glossary,
    load_translator,
)
from tests.config_helpers import write_config

JST = dt.timezone(dt.timedelta(hours=9))
NOTICE_JA = "中央区と東区に避難指示。大雨特別警報が発表されました。TKUプラザを開設しました。"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def renderer(config: Config) -> Renderer:
    return load_renderer(config)


@pytest.fixture
def fake() -> Iterator[FakeTranslator]:
    with FakeTranslator() as server:
        yield server


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'bousai.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def translator(config: Config, renderer: Renderer, fake: FakeTranslator,
               engine: sa.Engine | None, timeout: float = 2.0) -> Translator:
    env = {"TRANSLATE_API_BASE_URL": fake.url}
    t = load_translator(config, engine, renderer.catalogs, environ=env)
    object.__setattr__(t.settings, "timeout_seconds", timeout)
    return t


def notice() -> Alert:
    return Alert(source="operator", source_id="n1", kind=Kind.CITY_NOTICE,
                 issued=dt.datetime(2026, 7, 1, 9, 0, tzinfo=JST), body_ja=NOTICE_JA)


def test_protected_terms_come_back_exact_and_the_cache_is_used(
        config: Config, renderer: Renderer, fake: FakeTranslator, engine: sa.Engine) -> None:
    t = translator(config, renderer, fake, engine)
    out = t(NOTICE_JA, "ja", "vi")
    assert out is not None and out.startswith("[vi] ")
    for term in ("Quận Chuo", "Quận Higashi", "Chỉ thị sơ tán",
                 "Cảnh báo đặc biệt mưa lớn", "TKUプラザ"):
        assert term in out
    assert "[[" not in out and "中央区" not in out and "避難指示" not in out
    # what the provider saw: tokens instead of the terms
    sent = fake.requests[0]
    assert sent["source"] == "ja" and sent["target"] == "vi"
    assert "中央区" not in sent["q"] and "[[T0]]" in sent["q"]
    assert fake.calls == 1

    assert t(NOTICE_JA, "ja", "vi") == out
    fresh = translator(config, renderer, fake, engine)  # new process, same database
    assert fresh(NOTICE_JA, "ja", "vi") == out
    assert fake.calls == 1
    with engine.connect() as conn:
        rows = conn.execute(sa.select(translation_cache)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["provider"] == "libre" and rows[0]["target_lang"] == "vi"
    assert len(rows[0]["source_hash"]) == 64
    t.close()
    fresh.close()


def test_renderer_marks_machine_translation(config: Config, renderer: Renderer,
                                            fake: FakeTranslator, engine: sa.Engine) -> None:
    t = translator(config, renderer, fake, engine)
    r = Renderer(config, renderer.catalogs, t)
    text, mt = r.text(notice(), "ne")
    assert mt
    assert "[ne] " in text and "चुओ वार्ड" in text
    assert renderer.catalogs.text("ne", "note.machine_translated") in text
    t.close()


def test_translator_down_falls_back_with_a_note(config: Config, renderer: Renderer,
                                                fake: FakeTranslator, engine: sa.Engine) -> None:
    fake.down = True
    t = translator(config, renderer, fake, engine)
    assert t(NOTICE_JA, "ja", "vi") is None
    r = Renderer(config, renderer.catalogs, t)
    text, mt = r.text(notice(), "vi")
    assert not mt
    assert NOTICE_JA in text
    assert renderer.catalogs.text("vi", "note.translation_unavailable") in text
    # The circuit breaker: after the first failure nothing waits on the translator.
    assert fake.calls == 1
    start = time.monotonic()
    for lang in ("th", "ne", "my", "km", "mn"):
        assert t(NOTICE_JA, "ja", lang) is None
    assert time.monotonic() - start < 0.5 and fake.calls == 1
    # Once the breaker's window has passed, it tries again.
    t._down_until = 0.0
    assert t(NOTICE_JA, "ja", "id") is None
    assert fake.calls == 2
    with engine.connect() as conn:  # failures are not cached
        assert conn.execute(sa.select(sa.func.count()).select_from(translation_cache)
                            ).scalar() == 0
    t.close()


def test_slow_translator_times_out(config: Config, renderer: Renderer,
                                   fake: FakeTranslator) -> None:
    fake.delay = 3.0
    t = translator(config, renderer, fake, None, timeout=0.3)
    start = time.monotonic()
    assert t(NOTICE_JA, "ja", "th") is None
    assert time.monotonic() - start < 2.0
    t.close()


def test_easy_japanese_is_never_machine_translated(config: Config, renderer: Renderer,
                                                   fake: FakeTranslator) -> None:
    t = translator(config, renderer, fake, None)
    assert t(NOTICE_JA, "ja", "ja-easy") is None
    assert t("", "ja", "vi") == ""
    assert fake.calls == 0
    text, mt = Renderer(config, renderer.catalogs, t).text(notice(), "ja-easy")
    assert NOTICE_JA in text and not mt
    t.close()


def test_language_codes_per_provider() -> None:
    libre = TranslationSettings(provider="libre")
    google = TranslationSettings(provider="google")
    microsoft = TranslationSettings(provider="microsoft")
    deepl = TranslationSettings(provider="deepl")
    assert google.code("zh-Hans") == "zh-CN" and google.code("zh-Hant") == "zh-TW"
    assert google.code("tl") == "tl" and google.code("my") == "my"
    assert libre.code("zh-Hant") == "zh-Hant"
    assert microsoft.code("tl") == "fil" and microsoft.code("mn") == "mn-Cyrl"
    assert deepl.code("my") is None
    assert TranslationSettings(provider="libre", codes={"zh-Hans": "zh"}).code("zh-Hans") == "zh"


def test_unsupported_language_returns_none_without_a_call(fake: FakeTranslator) -> None:
    t = Translator(TranslationSettings(provider="deepl"), backend=lambda *a: "x")
    assert t("テスト", "ja", "km") is None
    t.close()


def test_a_lost_token_is_refused(config: Config, renderer: Renderer) -> None:
    glossary = build_glossary(config, renderer.catalogs)
    t = Translator(TranslationSettings(), glossary=glossary,
                   backend=lambda text, s, d: text.replace("[[T0]]", "Chuo"))
    assert t("中央区で火災", "ja", "en") is None
    ok = Translator(TranslationSettings(), glossary=glossary,
                    backend=lambda text, s, d: text.replace("[[T0]]", "[[ T0 ]]") + " fire")
    assert ok("中央区で火災", "ja", "en") == "Chuo Wardで火災 fire"
    t.close()
    ok.close()


def test_provider_exceptions_never_escape() -> None:
    def boom(text: str, s: str, d: str) -> str:
        raise RuntimeError("provider exploded")

    t = Translator(TranslationSettings(provider="google"), backend=boom)
    assert t("テスト", "ja", "en") is None
    t.close()


def test_glossary_prefers_longest_terms(config: Config, renderer: Renderer) -> None:
    g = build_glossary(config, renderer.catalogs)
    protected, found = g.protect("大雨特別警報と大雨警報")
    assert found == ["大雨特別警報", "大雨警報"]
    assert g.restore(protected, found, "en") == "Heavy Rain Emergency WarningとHeavy Rain Warning"
    assert Glossary({}).protect("x") == ("x", [])


def test_settings_from_config(config: Config, tmp_path: Path) -> None:
    s = TranslationSettings.from_config(config, {"TRANSLATE_API_BASE_URL": "http://127.0.0.1:9"})
    assert s.provider in ("google", "deepl", "microsoft", "libre")
    assert s.base_url == "http://127.0.0.1:9"
    text = Path(config.path).read_text(encoding="utf-8")
    bad = write_config(tmp_path, text.replace('provider = "libre"', 'provider = "babelfish"'),
                       "bad.toml")
    with pytest.raises(ConfigError, match=r"translation\.provider"):
        TranslationSettings.from_config(load_config(bad), {})


def test_the_key_is_never_shown(config: Config, renderer: Renderer) -> None:
    t = load_translator(config, None, renderer.catalogs,
                        environ={"BOUSAI_TRANSLATE_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(t)
    t.close()


def test_make_translator_is_off_until_configured(config: Config, fake: FakeTranslator) -> None:
    from bot.translate import make_translator

    assert make_translator(config, None, None, environ={}) is None
    t = make_translator(config, None, None, environ={"TRANSLATE_API_BASE_URL": fake.url})
    assert t is not None
    assert t("中央区", "ja", "ko") == "[ko] 주오구"
    t.close()
