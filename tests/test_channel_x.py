"""X specifics: threads, duplicate content, rate-limit resets, resuming a broken thread."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.fakes.x import FakeX
from channels.base import ChannelFatal, MessageRejected, OutgoingMessage, RetryLater
from channels.x import TIMELINE, ThreadAborted, ThreadIncomplete, ThreadRejected, XChannel

CREDS = ("x-consumer-key", "x-consumer-secret", "1-x-access-token", "x-access-token-secret")
PARTS = ("(1/3) 大雨特別警報 Heavy rain emergency warning",
         "(2/3) 熊本市北区・西区 Kita and Nishi wards",
         "(3/3) 避難所 Shelters: https://www.city.kumamoto.jp/")


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX(*CREDS) as server:
        yield server


@pytest.fixture
async def x(fake: FakeX) -> AsyncIterator[XChannel]:
    channel = XChannel(*CREDS, base_url=fake.url, timeout=2)
    try:
        yield channel
    finally:
        await channel.close()


def msg(*parts: str, reply_to: str | None = None, key: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(recipients=(TIMELINE,), parts=parts, reply_to=reply_to,
                           idempotency_key=key or str(uuid.uuid4()))


async def test_parts_form_a_reply_chain(x: XChannel, fake: FakeX) -> None:
    result = await x.send(msg(*PARTS))
    thread = fake.thread(result.message_ids[0])
    assert [p.id for p in thread] == list(result.message_ids)
    assert [p.text for p in thread] == list(PARTS)
    assert [p.in_reply_to for p in thread] == [None, *result.message_ids[:2]]


async def test_the_first_part_replies_to_the_original(x: XChannel, fake: FakeX) -> None:
    original = fake.seed_post("震度5強 Seismic intensity 5+")
    result = await x.send(msg("訂正 Correction", "(2/2) details", reply_to=original))
    assert [p.id for p in fake.thread(original)] == [original, *result.message_ids]


async def test_a_deleted_original_still_gets_the_follow_up(x: XChannel, fake: FakeX) -> None:
    result = await x.send(msg("取消 Cancelled", reply_to="1234"))
    assert [(p.text, p.in_reply_to) for p in fake.posts] == [("取消 Cancelled", None)]
    assert result.message_ids == (fake.posts[0].id,)


async def test_sending_again_returns_the_same_ids_as_duplicate(x: XChannel, fake: FakeX) -> None:
    message = msg(*PARTS)
    first = await x.send(message)
    again = await x.send(message)
    assert again.duplicate is True
    assert again.message_ids == first.message_ids
    assert len(fake.posts) == 3


async def test_duplicate_content_after_a_restart_is_duplicate(fake: FakeX) -> None:
    message = msg(*PARTS)
    for _ in range(2):  # a fresh channel each time: nothing remembered in memory
        channel = XChannel(*CREDS, base_url=fake.url)
        try:
            result = await channel.send(message)
        finally:
            await channel.close()
    assert result.duplicate is True
    assert result.message_ids == ()
    assert [r.status for r in fake.requests] == [201, 201, 201, 403, 403, 403]
    assert [p.text for p in fake.posts] == list(PARTS)


async def test_rate_limit_reset_gives_the_delay(x: XChannel, fake: FakeX) -> None:
    fake.fail_next(1, 429, reset_in=600)
    before = time.time()
    with pytest.raises(RetryLater) as info:
        await x.send(msg("warning"))
    assert info.value.retry_after is not None
    assert 598 <= info.value.retry_after <= 600 + (time.time() - before)
    assert fake.posts == []


async def test_window_budget_and_daily_cap() -> None:
    with FakeX(*CREDS, window_budget=2, window_seconds=900) as fake:
        channel = XChannel(*CREDS, base_url=fake.url)
        try:
            await channel.send(msg("one", "two"))
            with pytest.raises(RetryLater) as info:
                await channel.send(msg("three"))
        finally:
            await channel.close()
    assert info.value.retry_after is not None and 890 <= info.value.retry_after <= 900
    with FakeX(*CREDS, posts_per_day=1) as fake:
        channel = XChannel(*CREDS, base_url=fake.url,
                           limits=XChannel.limits_for({"posts_per_day": 1}))
        try:
            await channel.send(msg("one"))
            with pytest.raises(RetryLater) as info:
                await channel.send(msg("two"))
        finally:
            await channel.close()
    assert channel.limits.posts_per_day == 1
    assert info.value.retry_after is not None and 86390 <= info.value.retry_after <= 86400
    assert [p.text for p in fake.posts] == ["one"]


async def test_a_broken_thread_says_what_went_out_and_resumes(x: XChannel, fake: FakeX) -> None:
    message = msg("p1", "p2", "p3", "p4")
    fake.fail_next(1, 503, after=2)
    with pytest.raises(ThreadIncomplete) as info:
        await x.send(message)
    sent = tuple(p.id for p in fake.posts)
    assert info.value.sent_ids == sent and len(sent) == 2
    assert "part 3 of 4" in str(info.value) and sent[1] in str(info.value)
    assert x.posted(message.idempotency_key) == sent

    result = await x.send(message)
    assert result.duplicate is False
    assert [p.text for p in fake.posts] == ["p1", "p2", "p3", "p4"]
    assert [p.id for p in fake.thread(sent[0])] == list(result.message_ids)


async def test_a_broken_thread_after_a_restart_posts_only_the_rest(fake: FakeX) -> None:
    message = msg("p1", "p2", "p3")
    fake.fail_next(1, 503, after=1)
    for _ in range(2):
        channel = XChannel(*CREDS, base_url=fake.url)
        try:
            try:
                result = await channel.send(message)
            except ThreadIncomplete:
                pass
        finally:
            await channel.close()
    assert [p.text for p in fake.posts] == ["p1", "p2", "p3"]
    assert result.duplicate is False
    assert len(result.message_ids) == 2  # p1's id is unknown after the restart


async def test_a_fatal_error_mid_thread_names_the_posted_parts(x: XChannel, fake: FakeX) -> None:
    fake.fail_next(1, 401, after=1)
    with pytest.raises(ThreadAborted) as info:
        await x.send(msg("p1", "p2"))
    assert isinstance(info.value, ChannelFatal)
    assert info.value.sent_ids == (fake.posts[0].id,)


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retry_later(x: XChannel, fake: FakeX, status: int) -> None:
    fake.fail_next(1, status)
    with pytest.raises(RetryLater):
        await x.send(msg("warning"))


async def test_timeout_is_retry_later(fake: FakeX) -> None:
    channel = XChannel(*CREDS, base_url=fake.url, timeout=0.3)
    fake.delay_next(1.0)
    try:
        with pytest.raises(RetryLater, match="unreachable"):
            await channel.send(msg("warning"))
    finally:
        await channel.close()


async def test_a_read_only_app_is_fatal(x: XChannel, fake: FakeX) -> None:
    fake.fail_next(1, 403)
    with pytest.raises(ChannelFatal, match="403"):
        await x.send(msg("warning"))


async def test_too_long_as_a_403_is_rejected_not_fatal() -> None:
    # Some accounts get "Your Tweet text is too long." as a 403, not a 400.
    with FakeX(*CREDS, too_long_status=403) as fake:
        channel = XChannel(*CREDS, base_url=fake.url)
        try:
            with pytest.raises(MessageRejected, match="too long") as info:
                await channel.send(msg("あ" * 141))
            await channel.send(msg("短い"))  # the channel goes on
        finally:
            await channel.close()
    assert type(info.value) is MessageRejected
    assert [p.text for p in fake.posts] == ["短い"]


async def test_a_rejected_part_mid_thread_names_the_posted_parts(x: XChannel,
                                                                 fake: FakeX) -> None:
    with pytest.raises(ThreadRejected) as info:
        await x.send(msg("p1", "p2" + "あ" * 140))
    assert isinstance(info.value, MessageRejected)
    assert info.value.sent_ids == (fake.posts[0].id,)


async def test_a_thread_resumed_costs_only_the_posts_still_to_go(x: XChannel,
                                                                fake: FakeX) -> None:
    message = msg("p1", "p2", "p3")
    assert x.requests_for(message) == 3
    fake.fail_next(1, 503, after=1)
    with pytest.raises(ThreadIncomplete):
        await x.send(message)
    assert x.requests_for(message) == 2
    await x.send(message)
    assert x.requests_for(message) == 0


async def test_only_the_timeline_is_a_recipient(x: XChannel, fake: FakeX) -> None:
    with pytest.raises(ValueError, match="timeline"):
        await x.send(OutgoingMessage(recipients=("@someone",), parts=("hi",),
                                     idempotency_key="k"))
    assert fake.requests == []


def test_credentials_are_required_and_not_shown() -> None:
    with pytest.raises(ChannelFatal):
        XChannel(CREDS[0], "", CREDS[2], CREDS[3])
    assert all(c not in repr(XChannel(*CREDS)) for c in CREDS)
    assert XChannel(*CREDS).base_url == "https://api.twitter.com"
