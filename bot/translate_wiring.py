"""Choose the machine translator for free text, if one is configured."""

from __future__ import annotations

import sqlalchemy as sa

from bot.config import Config, Settings
from bot.render.compose import Translate


def translator_for(config: Config, settings: Settings, engine: sa.Engine) -> Translate | None:
    section = config.raw.get("translation")
    if not section or not section.get("provider"):
        return None
    try:
        from bot.translate import make_translator
    except ImportError:  # pragma: no cover - the module ships with the package
        return None
    result: Translate | None = make_translator(config, settings, engine)
    return result
