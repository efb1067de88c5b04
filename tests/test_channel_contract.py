"""One contract for every channel: Telegram, LINE and X, each through its real SDK
client pointed at its fake server. A test here states what any channel must do;
the harness says how each platform is set up and where its fake records sends."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.fakes.line import FakeLine, user_id
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX
from channels.base import (
    Channel,
    ChannelError,
    ChannelFatal,
    FanoutMode,
    MessageRejected,
    OutgoingMessage,
    RecipientError,
    RetryLater,
)
from channels.lengths import LengthUnit, measure, utf16_length, weighted_length
from channels.line import LineChannel
from channels.telegram import TelegramChannel
from channels.x import TIMELINE, XChannel

TG_TOKEN = "123456:TEST-TOKEN"
LINE_TOKEN = "line-test-token"
X_CREDS = ("x-consumer-key", "x-consumer-secret", "1-x-access-token", "x-access-token-secret")


@dataclass
class Harness:
    """How to drive one platform's channel and read its fake."""

    name: str
    fake: Any
    channel: Channel
    recipient: str
    secrets: tuple[str, ...]
    opened: list[Channel] = field(default_factory=list)

    def message(self, *parts: str, recipient: str | None = None) -> OutgoingMessage:
        return OutgoingMessage(recipients=(recipient or self.recipient,), parts=parts,
                               idempotency_key=str(uuid.uuid4()))

    def delivered(self) -> list[str]:
        """Texts the fake accepted for our recipient, in order."""
        if self.name == "telegram":
            return [m.text for m in self.fake.messages_to(self.recipient)]
        if self.name == "line":
            return list(self.fake.messages_to(self.recipient))
        return [p.text for p in self.fake.posts]

    def inject_rate_limit(self, seconds: int) -> None:
        """The platform's next answer is a 429 asking us to wait ``seconds``."""
        if self.name == "telegram":
            self.fake.fail_next(1, 429, retry_after=seconds)
        elif self.name == "line":
            self.fake.fail_next(1, 429, retry_after=seconds)
        else:
            self.fake.fail_next(1, 429, reset_in=seconds)

    def inject_server_error(self) -> None:
        """The platform's next answer is a 500."""
        self.fake.fail_next(1, 500)

    def inject_garbled_answer(self) -> None:
        """The next answer is a success whose body is not what the API promises (as a
        wrong proxy or base URL might give): the SDK or the channel fails untyped."""
        self.fake.garble_next()

    def block_recipient(self) -> None:
        self.fake.block(self.recipient)

    def requests_seen(self) -> int:
        """Send requests the fake received (accepted or not)."""
        if self.name == "telegram":
            return sum(1 for method, _ in self.fake.requests if method == "sendMessage")
        return len(self.fake.requests)

    def wrong_credentials(self) -> Channel:
        """The same channel with a token/secret the platform does not accept."""
        if self.name == "telegram":
            ch: Channel = TelegramChannel("654321:WRONG-TOKEN", base_url=self.fake.url)
        elif self.name == "line":
            ch = LineChannel("wrong-line-token", base_url=self.fake.url)
        else:
            ch = XChannel(X_CREDS[0], "wrong-consumer-secret", X_CREDS[2], X_CREDS[3],
                          base_url=self.fake.url)
        self.opened.append(ch)
        return ch


@pytest.fixture(params=["telegram", "line", "x"])
def fake(request: pytest.FixtureRequest) -> Iterator[Any]:
    server: Any
    if request.param == "telegram":
        server = FakeTelegram(TG_TOKEN)
    elif request.param == "line":
        server = FakeLine(LINE_TOKEN)
    else:
        server = FakeX(*X_CREDS)
    with server:
        yield server


@pytest.fixture
async def harness(fake: Any) -> AsyncIterator[Harness]:
    h: Harness
    if isinstance(fake, FakeTelegram):
        h = Harness("telegram", fake, TelegramChannel(TG_TOKEN, base_url=fake.url, timeout=5),
                    "1001", (TG_TOKEN, "654321:WRONG-TOKEN"))
    elif isinstance(fake, FakeLine):
        h = Harness("line", fake, LineChannel(LINE_TOKEN, base_url=fake.url, timeout=5),
                    user_id(1), (LINE_TOKEN, "wrong-line-token"))
    else:
        h = Harness("x", fake, XChannel(*X_CREDS, base_url=fake.url, timeout=5), TIMELINE,
                    (*X_CREDS, "wrong-consumer-secret"))
    await h.channel.start()
    try:
        yield h
    finally:
        for ch in (h.channel, *h.opened):
            await ch.close()


def assert_no_secret(err: BaseException, secrets: tuple[str, ...]) -> None:
    """Neither the error nor anything chained to it (as a log would print it) names a secret."""
    rendered = "".join(traceback.format_exception(err))
    for secret in secrets:
        assert secret not in rendered


# ------------------------------------------------------------------ sending


async def test_single_part_is_recorded_exactly(harness: Harness) -> None:
    result = await harness.channel.send(harness.message("津波警報 Tsunami warning"))
    assert harness.delivered() == ["津波警報 Tsunami warning"]
    assert result.provider_message_id
    assert result.duplicate is False


async def test_multi_part_is_recorded_in_order(harness: Harness) -> None:
    parts = ("(1/3) 熊本地方で震度6弱", "(2/3) 避難所: 熊本市役所", "(3/3) https://example.jp/bousai")
    result = await harness.channel.send(harness.message(*parts))
    assert harness.delivered() == list(parts)
    assert result.message_ids


# ------------------------------------------------------------------- errors


# Each case raises exactly the class named (not a subclass, not a sibling): the
# dispatcher's reaction (retry, deactivate, fail the row, stop the channel) hangs on it.


async def test_rate_limit_is_retry_later_with_platform_delay(harness: Harness) -> None:
    harness.inject_rate_limit(42)
    with pytest.raises(RetryLater) as info:
        await harness.channel.send(harness.message("warning"))
    assert type(info.value) is RetryLater
    assert info.value.retry_after is not None
    assert 40.5 <= info.value.retry_after <= 42
    assert info.value.channel == harness.name
    assert harness.delivered() == []


# X has no per-recipient error: a post goes to the account's own timeline, so only
# the platforms that address users take part in this test.
@pytest.mark.parametrize("fake", ["telegram", "line"], indirect=True)
async def test_blocked_recipient_is_recipient_error(harness: Harness) -> None:
    harness.block_recipient()
    with pytest.raises(RecipientError) as info:
        await harness.channel.send(harness.message("warning"))
    assert type(info.value) is RecipientError
    assert info.value.recipients == (harness.recipient,)
    assert harness.delivered() == []


async def test_wrong_credentials_are_channel_fatal(harness: Harness) -> None:
    with pytest.raises(ChannelFatal) as info:
        await harness.wrong_credentials().send(harness.message("warning"))
    assert type(info.value) is ChannelFatal
    assert_no_secret(info.value, harness.secrets)
    assert harness.delivered() == []


async def test_server_error_is_retry_later(harness: Harness) -> None:
    harness.inject_server_error()
    with pytest.raises(RetryLater) as info:
        await harness.channel.send(harness.message("warning"))
    assert type(info.value) is RetryLater
    assert harness.delivered() == []


async def test_too_long_is_message_rejected_and_the_channel_goes_on(harness: Harness) -> None:
    text = fill_to(harness.channel, "あ") + "あ"
    with pytest.raises(MessageRejected) as info:
        await harness.channel.send(harness.message(text))
    assert type(info.value) is MessageRejected
    assert info.value.channel == harness.name
    assert "too long" in str(info.value) or "Length must be" in str(info.value)
    await harness.channel.send(harness.message("short"))
    assert harness.delivered() == ["short"]


async def test_an_untyped_failure_is_channel_fatal_with_its_traceback_logged(
        harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    harness.inject_garbled_answer()
    with caplog.at_level(logging.ERROR, logger="channels"):
        with pytest.raises(ChannelFatal) as info:
            await harness.channel.send(harness.message("warning"))
    assert type(info.value) is ChannelFatal
    assert "unexpected" in str(info.value)
    [record] = [r for r in caplog.records if r.name == "channels.base"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert_no_secret(info.value, harness.secrets)


async def test_what_the_pacer_charges_is_what_the_platform_receives(harness: Harness) -> None:
    message = harness.message("(1/3) 熊本地方で震度6弱", "(2/3) 避難所", "(3/3) 以上")
    cost = harness.channel.requests_for(message)
    await harness.channel.send(message)
    assert cost == harness.requests_seen()
    assert cost == (1 if harness.name == "line" else 3)


# ------------------------------------------------------------------- limits


async def test_limits_are_declared_and_consistent(harness: Harness) -> None:
    spec = type(harness.channel).spec
    assert spec.name == harness.channel.name == harness.name
    assert isinstance(spec.fanout, FanoutMode)
    assert spec.secret_vars and all(v.isupper() for v in spec.secret_vars)
    assert spec.base_url.startswith("https://") and spec.base_url_var.endswith("_API_BASE_URL")
    limits = harness.channel.limits
    assert limits == spec.limits == type(harness.channel).limits_for({})
    assert isinstance(limits.length_unit, LengthUnit)
    assert limits.text_limit > 0
    assert limits.recipients_per_request >= 1
    assert limits.parts_per_request >= 1
    assert limits.max_parts is None or limits.max_parts >= limits.parts_per_request
    assert limits.requests_per_second > 0
    assert limits.posts_per_day is None or limits.posts_per_day > 0
    assert harness.channel.measure("安全 https://example.jp/x") == measure(
        "安全 https://example.jp/x", limits.length_unit)


async def test_recipients_over_the_limit_are_refused_before_sending(harness: Harness) -> None:
    n = harness.channel.limits.recipients_per_request + 1
    message = OutgoingMessage(recipients=tuple(user_id(i) for i in range(n)), parts=("x",),
                              idempotency_key=str(uuid.uuid4()))
    with pytest.raises(ValueError, match="recipient"):
        await harness.channel.send(message)
    assert harness.delivered() == []


def fill_to(channel: Channel, unit_text: str, tail: str = "") -> str:
    """Repeat ``unit_text`` then ``tail`` so that the text measures exactly text_limit."""
    limit = channel.limits.text_limit
    room = limit - channel.measure(tail)
    step = channel.measure(unit_text)
    assert room % step == 0
    text = unit_text * (room // step) + tail
    assert channel.measure(text) == limit
    return text


@pytest.mark.parametrize("unit", ["あ", "😀"])
async def test_a_part_exactly_at_the_limit_is_accepted(harness: Harness, unit: str) -> None:
    text = fill_to(harness.channel, unit)
    await harness.channel.send(harness.message(text))
    assert harness.delivered() == [text]


async def test_a_part_over_the_limit_is_refused_by_the_fake(harness: Harness) -> None:
    text = fill_to(harness.channel, "あ") + "あ"
    with pytest.raises(ChannelError) as info:
        await harness.channel.send(harness.message(text))
    assert type(info.value) is MessageRejected
    assert harness.requests_seen() == 1  # the platform itself refused it
    assert harness.delivered() == []


async def test_a_url_counts_as_its_platform_measures_it(harness: Harness) -> None:
    url = "https://www.city.kumamoto.jp/bousai/" + "a" * 60
    text = fill_to(harness.channel, "あ", tail=" " + url)
    await harness.channel.send(harness.message(text))
    assert harness.delivered() == [text]


def test_weighted_length_counts_cjk_twice_and_urls_as_23() -> None:
    assert weighted_length("abc") == 3
    assert weighted_length("熊本") == 4
    assert weighted_length("ひらがなカタカナ한국") == 20
    assert weighted_length("https://www.city.kumamoto.jp/" + "x" * 100) == 23
    assert weighted_length("見て https://t.co/x") == 2 * 2 + 1 + 23
    assert weighted_length("“quoted”—") == 9  # general punctuation weighs 1
    assert weighted_length("😀") == 2
    assert utf16_length("😀") == 2
    assert measure("é", LengthUnit.WEIGHTED) == weighted_length("é")
