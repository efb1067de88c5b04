"""Composers for each alert kind; importing this package registers them.

One module per group of kinds. Each composer reads the typed payload it
registered for (``ctx.payload(Earthquake)``); values the report did not give are
None or empty and leave out their line, they never stop rendering.
"""

from bot.render.kinds import (
    cap,
    city,
    earthquake,
    eew,
    safety,
    seismic_notice,
    tsunami,
    typhoon,
    volcano,
    weather,
    weather_r06,
)

__all__ = ["cap", "city", "earthquake", "eew", "safety", "seismic_notice", "tsunami",
           "typhoon", "volcano", "weather", "weather_r06"]
