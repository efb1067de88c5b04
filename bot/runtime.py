"""Build the running service from configuration and environment."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import sqlalchemy as sa

from bot.config import Config, Settings, load_config, load_settings
from bot.db import check_schema, make_engine
from bot.logs import setup_logging
from bot.render import load_renderer
from bot.service import Service, channel_plans
from channels import registry
from channels.base import Channel


def build_channels(config: Config, settings: Settings) -> dict[str, Channel]:
    """The enabled channels, over their SDKs, pointed at their configured base URLs,
    with the limits their ``[channels.<name>]`` settings give (what the plans show)."""
    return {name: registry.build(name, settings, ch.options)
            for name, ch in config.channels.items() if ch.enabled}


def build_service(
    config: Config | None = None,
    settings: Settings | None = None,
    engine: sa.Engine | None = None,
    *,
    check: bool = True,
    environ: Mapping[str, str] | None = None,
    log_level: int = logging.INFO,
) -> Service:
    config = config or load_config()
    settings = settings or load_settings(environ)
    setup_logging(settings.log_format, level=log_level,
                  secrets=[s.get() for s in settings.secrets.values()])
    created = engine is None
    engine = engine or make_engine(settings.database_url)
    if check:
        try:
            check_schema(engine)
        except BaseException:
            if created:
                engine.dispose()
            raise
    from bot.translate import make_translator

    renderer = load_renderer(config, make_translator(config, settings, engine))
    plans = channel_plans(config)
    return Service(config=config, settings=settings, engine=engine, renderer=renderer,
                   plans=plans)
