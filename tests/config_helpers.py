"""Writing a modified copy of the default configuration for a test.

``[data]`` names the city's data files relative to ``bousai.toml``, so a copy of the
file needs the data folder beside it: :func:`write_config` puts the copy in its own
folder with a link to the shipped ``config/data``.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import DEFAULT_CONFIG_PATH


def write_config(tmp_path: Path, text: str, name: str = "bousai.toml") -> Path:
    """``text`` as ``<tmp_path>/config/<name>`` beside ``data`` (the shipped data files)."""
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    data = folder / "data"
    if not data.exists():
        data.symlink_to(DEFAULT_CONFIG_PATH.parent / "data", target_is_directory=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
