"""Choose the machine translator for free text, if one is configured."""

from __future__ import annotations

import sqlalchemy as sa

from bot.config import Config, Settings
from bot.render.compose import Translate


def translator_for(config: Config, settings: Settings, engine: sa.Engine) -> Translate | None:
    """The configured translator, or None when translation is off or has nowhere to go."""
    if not config.section("translation"):
        return None
    from bot.translate import make_translator

    return make_translator(config, settings, engine)
