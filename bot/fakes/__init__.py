"""Local fake platform servers that speak each platform's HTTP API.

The tests and ``bousai demo`` point the real SDK clients at these through the
base-URL settings. Each server records what it received so that a test can
assert on it, and can be told to fail the way the real platform fails.
"""

from bot.fakes.base import FakeServer

__all__ = ["FakeServer"]
