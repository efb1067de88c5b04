"""``bousai signup-links``: deep links and QR codes that decode to them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.cli_helpers import bousai
from tests.test_signup_telegram import write_config


@pytest.fixture
def config(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    monkeypatch.setenv("BOUSAI_CONFIG", str(path))
    return path


def decode(path: Path) -> list[str]:
    with Image.open(path) as image:
        return [r.text for r in zxingcpp.read_barcodes(image)]


def test_qr_png_decodes_to_the_deep_link(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "posters"
    result = bousai("signup-links", "--language", "vi", "--ward", "43101", "--out", str(out))
    assert "2 links" in result.stdout
    assert decode(out / "telegram-vi-43101.png") == ["https://t.me/bousai_test_bot?start=vi-43101"]
    assert decode(out / "line-add-friend.png") == ["https://line.me/R/ti/p/@123bousai"]
    svg = (out / "telegram-vi-43101.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    with (out / "index.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0] == {"channel": "telegram", "language": "vi", "ward": "43101",
                       "ward_name": "Quận Chuo",
                       "url": "https://t.me/bousai_test_bot?start=vi-43101",
                       "png": "telegram-vi-43101.png", "svg": "telegram-vi-43101.svg"}
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Quận Chuo" in html and 'src="telegram-vi-43101.svg"' in html


def test_every_language_and_ward_by_default(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "all"
    bousai("signup-links", "--out", str(out))
    with (out / "index.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["channel"] == "telegram"]
    assert len(rows) == 4 * 6  # 4 languages × (5 wards + whole city)
    whole = next(r for r in rows if r["language"] == "ja-easy" and r["ward"] == "all")
    assert whole["url"].endswith("?start=ja-easy-all")
    assert decode(out / whole["png"]) == [whole["url"]]


def test_unknown_ward_or_language_is_a_clear_error(config: Path, tmp_path: Path) -> None:
    result = bousai("signup-links", "--ward", "99999", "--out", str(tmp_path / "x"), expect=1)
    assert "99999" in result.stderr
    result = bousai("signup-links", "--language", "xx", "--out", str(tmp_path / "x"), expect=1)
    assert "xx" in result.stderr
