"""``[push.dmdata]``: settings, operators' mistakes, ``bousai feeds status``, ``bousai
run`` and ``/readyz`` with the push source."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG_PATH, load_config
from bot.errors import ConfigError
from bot.fakes.dmdata import FakeDmdata
from bot.push.settings import load_dmdata
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.harness import harness

ON = """[push.dmdata]
enabled = true
classifications = ["eew.warning"]
"""


def config_with(tmp_path: Path, section: str) -> Path:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    start = text.index("[push.dmdata]")
    end = text.index("[translation]")
    return write_config(tmp_path, text[:start] + section + "\n" + text[end:])


def test_off_by_default_and_read_when_enabled(tmp_path: Path) -> None:
    assert load_dmdata(load_config(), {"DMDATA_API_KEY": "k"}) is None
    path = config_with(tmp_path, ON + 'base_url = "http://127.0.0.1:9/"\nkeepalive_seconds = 30\n')
    s = load_dmdata(load_config(path), {"DMDATA_API_KEY": "secret-key"})
    assert s is not None
    assert (s.base_url, s.classifications, s.keepalive) == ("http://127.0.0.1:9",
                                                           ("eew.warning",), 30.0)
    assert s.api_key.get() == "secret-key" and "secret-key" not in repr(s)
    env = {"DMDATA_API_KEY": "k", "DMDATA_API_BASE_URL": "http://fake:1"}
    assert load_dmdata(load_config(path), env).base_url == "http://fake:1"  # type: ignore[union-attr]


@pytest.mark.parametrize(("extra", "message"), [
    ('classifications = []\n', "push.dmdata.classifications"),
    ('base_url = "ftp://x"\n', "push.dmdata.base_url"),
    ('keepalive_seconds = 0\n', "push.dmdata.keepalive_seconds"),
    ('apikey = "x"\n', "push.dmdata.apikey"),
])
def test_bad_settings_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    section = ON.replace('classifications = ["eew.warning"]\n', "") + extra \
        if extra.startswith("classifications") else ON + extra
    path = config_with(tmp_path, section)
    with pytest.raises(ConfigError, match=message):
        load_dmdata(load_config(path), {"DMDATA_API_KEY": "k"})


def test_enabled_without_the_key_is_one_line(env: dict[str, str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DMDATA_API_KEY", raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:unused")  # the other settings are fine
    monkeypatch.setenv("BOUSAI_CONFIG", str(config_with(tmp_path, ON)))
    bousai("db", "upgrade")
    result = bousai("run", expect=1)
    line = result.stderr.strip()
    assert line.count("\n") == 0 and "Traceback" not in line
    assert "DMDATA_API_KEY is not set" in line and "enabled = false" in line
    # Showing the state needs no key.
    shown = json_lines(bousai("feeds", "status", "--json").stdout)
    push = next(r for r in shown if r["kind"] == "push")
    assert push["name"] == "dmdata" and push["connected_since"] is None


def test_run_starts_the_source_and_readyz_counts_it(db_url: str) -> None:
    from bot.cli.run import _start_push
    from bot.push.settings import DmdataSettings

    with harness(db_url) as h, FakeDmdata(api_key="k") as fake:
        svc = h.service
        settings = DmdataSettings(base_url=fake.url, api_key=__import__(
            "bot.config", fromlist=["Secret"]).Secret("k"), reconnect_initial=0.05)

        async def go() -> None:
            stop = asyncio.Event()
            channels = {st.channel.name: st.channel
                        for st in h.dispatcher().states.values()}
            task = asyncio.ensure_future(await _start_push(svc, settings, channels,
                                                           lambda: None, stop))
            assert not svc.readiness.evaluate()["dmdata"].ok
            for _ in range(500):
                if svc.readiness.evaluate()["dmdata"].ok:
                    break
                await asyncio.sleep(0.01)
            check = svc.readiness.evaluate()["dmdata"]
            assert check.ok and "connected since" in check.detail
            await asyncio.to_thread(fake.drop)
            for _ in range(500):
                if fake.connections == 2 and svc.readiness.evaluate()["dmdata"].ok:
                    break
                await asyncio.sleep(0.01)
            assert "1 reconnects" in svc.readiness.evaluate()["dmdata"].detail
            stop.set()
            await task
            for ch in channels.values():
                await ch.close()

        asyncio.run(go())
