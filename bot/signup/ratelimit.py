"""Per-chat rate limit on replies: a token bucket for each chat, in memory.

A chat may send ``burst`` messages at once and then one every ``1 / rate``
seconds; beyond that its messages are dropped without a reply (and without a
database write), so a flood from one chat costs the service almost nothing and
never delays the others. Buckets of chats that have been quiet long enough to be
full again are forgotten, so memory stays bounded by the chats active in the
last ``burst / rate`` seconds (and at most ``max_chats``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate: float = 1.0, burst: int = 10, *, max_chats: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.max_chats = max_chats
        self.clock = clock
        self.dropped = 0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def allow(self, chat: str) -> bool:
        """Take one token for ``chat``; False when it has none left."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(chat, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            else:
                self.dropped += 1
            self._buckets[chat] = (tokens, now)
            self._forget(now)
        return allowed

    def _forget(self, now: float) -> None:
        full_after = self.burst / self.rate
        while self._buckets:
            chat, (_, at) = next(iter(self._buckets.items()))
            if now - at < full_after and len(self._buckets) <= self.max_chats:
                break
            del self._buckets[chat]

    def __len__(self) -> int:
        return len(self._buckets)
