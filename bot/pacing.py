"""Pacing: keep each channel under its platform's published rate.

A :class:`Pacer` spaces requests evenly at ``rate`` per second (a token bucket
with a capacity of one), so that no sliding one-second window ever holds more
than the platform allows. A message that costs several requests (a three-part
Telegram message, an X thread) takes that many consecutive slots, so the next
message waits until all of them have passed; its requests go out one after the
other as the platform answers. :meth:`Pacer.pause` holds every sender back when
the platform answers 429 with a delay.

A sender that wakes late (timers fire up to a millisecond late, a database
thread holds the interpreter for a few) keeps its cadence: the next slot is
counted from the last slot, not from the late wake-up, for up to ``catch_up``
seconds, half of what the margin leaves (15 ms at 0.97). Without it every late
wake-up is lost for good: at 300 requests/s (3.4 ms apart) the pace fell to
0.92 of the limit (bench/RESULTS.md, "Time to the last subscriber"). A turn never
comes before its slot, and no slot is set more than ``catch_up`` in the past, so
the turns in any one-second window number at most ``rate · margin · (1 +
catch_up) + 1``, under the limit whenever ``margin · (1 + catch_up) < 1``; the
other half of the margin is left for the network's jitter.
"""

from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, rate: float | None, *, margin: float = 0.97) -> None:
        """``rate`` per second, scaled by ``margin`` to absorb network jitter;
        ``None`` means no limit."""
        self.limit = rate
        self.interval = 0.0 if not rate else 1.0 / (rate * margin)
        self.catch_up = (1.0 / margin - 1.0) / 2  # seconds; 0 with no margin
        self.charged = 0  # requests paced so far
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    @property
    def rate(self) -> float | None:
        return None if self.interval == 0 else 1.0 / self.interval

    async def acquire(self, requests: int = 1) -> None:
        """Wait for the turn of the next ``requests`` requests, and charge them."""
        self.charged += requests
        if requests <= 0 or (self.interval == 0 and self._paused_until == 0):
            return
        async with self._lock:
            now = time.monotonic()
            start = max(now - self.catch_up, self._next, self._paused_until)
            self._next = start + self.interval * requests
        delay = start - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def paused_for(self) -> float:
        """Seconds left of a pause the platform asked for (0 when none)."""
        return max(0.0, self._paused_until - time.monotonic())

    def pause(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
