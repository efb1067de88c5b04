"""The per-chat reply limit: a burst, then a steady rate; memory bounded."""

from __future__ import annotations

from bot.signup.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate_per_chat() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.allow("b")  # another chat is not held back
    clock.now = 1.0
    assert limiter.allow("a") and not limiter.allow("a")
    clock.now = 10.0
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.dropped == 4


def test_quiet_chats_are_forgotten_and_memory_is_capped() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, max_chats=100, clock=clock)
    for i in range(1000):
        limiter.allow(f"chat{i}")
    assert len(limiter) <= 100
    clock.now = 5.0  # everyone's bucket is full again
    limiter.allow("new")
    assert len(limiter) == 1
