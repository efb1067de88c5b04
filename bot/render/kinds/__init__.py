"""Composers for each alert kind; importing this package registers them.

One module per group of kinds. Composers read ``Alert.params`` defensively:
a missing or malformed value leaves out its line, it never stops rendering.
"""

from bot.render.kinds import city, earthquake, tsunami, volcano, weather

__all__ = ["city", "earthquake", "tsunami", "volcano", "weather"]
