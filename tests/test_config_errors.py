"""Bad settings stop start-up with one line that names the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG_PATH, load_config, load_settings
from bot.errors import ConfigError
from tests.cli_helpers import bousai
from tests.config_helpers import write_config


def test_enabled_channel_without_token_names_the_variable(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    result = bousai("run", "--until-idle", expect=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "TELEGRAM_BOT_TOKEN" in lines[0] and "telegram" in lines[0]


def test_unknown_ward_code(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    result = bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1",
                    "--language", "en", "--ward", "99999", expect=1)
    assert result.stderr.strip().count("\n") == 0
    assert "unknown or ambiguous ward '99999' (`bousai wards` lists them" in result.stderr
    result = bousai("alert", "issue", "--allow-fallback", "--kind", "city_notice", "--ward",
                    "4310", "--text-ja",
                    "x", "--yes", expect=1)
    assert "unknown ward '4310'" in result.stderr and "43101 中央区" in result.stderr


def test_malformed_config_file(env: dict[str, str], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[city\nname = 'x'\n", encoding="utf-8")
    monkeypatch.setenv("BOUSAI_CONFIG", str(bad))
    result = bousai("subscribers", "list", expect=1)
    assert str(bad) in result.stderr and "not valid TOML" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(("mutation", "key"), [
    (lambda s: s.replace('jma_warning_area = "4310000"', ""), "city.jma_warning_area"),
    (lambda s: s.replace('enabled = true', 'enabled = "yes"', 1), "channels.telegram.enabled"),
    (lambda s: s.replace('default = "ja"', 'default = "fr"'), "languages.default"),
    (lambda s: s.replace('jma_code = "4310200"', 'jma_code = "4310100"'), "wards[1].code"),
    (lambda s: s.replace("poll_interval_seconds = 0.2", "poll_interval_seconds = 0"),
     "delivery.poll_interval_seconds"),
    (lambda s: s.replace("poll_interval_seconds = 0.2", 'poll_interval_seconds = "fast"'),
     "delivery.poll_interval_seconds"),
])
def test_bad_setting_names_key_and_file(tmp_path: Path, mutation, key: str) -> None:  # type: ignore[no-untyped-def]
    path = write_config(tmp_path, mutation(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert key in str(err.value) and str(path) in str(err.value)


def test_secrets_never_show() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "123:very-secret"})
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.secret("TELEGRAM_BOT_TOKEN"))
    assert settings.secret("TELEGRAM_BOT_TOKEN").get() == "123:very-secret"
