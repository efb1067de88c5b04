"""LINE specifics: the 500-recipient cap, retry keys, quota, errors, webhook signatures."""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import FollowEvent, MessageEvent, PostbackEvent, UnfollowEvent

import channels.line as line_module
from bot.fakes.line import MONTHLY_LIMIT_MESSAGE, FakeLine, signed_body, user_id, webhook_event
from channels.base import (
    ChannelFatal,
    MessageRejected,
    OutgoingMessage,
    RecipientError,
    RetryLater,
)
from channels.line import LineChannel, retry_key, sign, verify_signature

TOKEN = "line-test-token"
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeLine]:
    with FakeLine(TOKEN, monthly_limit=1000) as server:
        yield server


@pytest.fixture
async def line(fake: FakeLine) -> AsyncIterator[LineChannel]:
    channel = LineChannel(TOKEN, base_url=fake.url, timeout=2)
    try:
        yield channel
    finally:
        await channel.close()


def msg(*recipients: str, parts: tuple[str, ...] = ("避難指示",), key: str | None = None
        ) -> OutgoingMessage:
    return OutgoingMessage(recipients=recipients, parts=parts,
                           idempotency_key=key or str(uuid.uuid4()))


# ------------------------------------------------------------ push, multicast


async def test_one_recipient_is_a_push_with_the_retry_key(line: LineChannel,
                                                          fake: FakeLine) -> None:
    message = msg(user_id(1), parts=("a", "b"))
    result = await line.send(message)
    [request] = fake.requests
    assert (request.endpoint, request.to, request.texts) == ("push", (user_id(1),), ("a", "b"))
    assert request.retry_key == message.idempotency_key
    assert len(result.message_ids) == 2


async def test_many_recipients_are_one_multicast(line: LineChannel, fake: FakeLine) -> None:
    users = tuple(user_id(i) for i in range(500))
    result = await line.send(msg(*users))
    [request] = fake.requests
    assert request.endpoint == "multicast"
    assert request.to == users
    assert result.message_ids == (request.request_id,)
    assert fake.usage == 500


async def test_multicast_over_500_is_refused_before_sending(line: LineChannel,
                                                            fake: FakeLine) -> None:
    with pytest.raises(ValueError, match="501 recipients"):
        await line.send(msg(*(user_id(i) for i in range(501))))
    assert fake.requests == []


def test_the_fake_also_refuses_501_recipients_and_6_messages(fake: FakeLine) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    text = [{"type": "text", "text": "x"}]
    with httpx.Client(base_url=fake.url, headers=headers) as client:
        too_many = client.post("/v2/bot/message/multicast", json={
            "to": [user_id(i) for i in range(501)], "messages": text})
        six = client.post("/v2/bot/message/push", json={"to": user_id(1), "messages": text * 6})
    assert too_many.status_code == 400
    assert too_many.json()["details"] == [{"message": "Size must be between 1 and 500",
                                           "property": "to"}]
    assert six.status_code == 400
    assert six.json()["details"][0]["property"] == "messages"
    assert fake.accepted == []


async def test_more_than_five_parts_is_rejected_before_sending(line: LineChannel,
                                                               fake: FakeLine) -> None:
    # A message the platform cannot take is MessageRejected (the row fails, the
    # dispatcher goes on); a bare ValueError used to escape the dispatcher's send task.
    with pytest.raises(MessageRejected, match="6 parts"):
        await line.send(msg(user_id(1), parts=tuple("abcdef")))
    assert fake.requests == []


async def test_multicast_skips_blocked_users_silently(line: LineChannel, fake: FakeLine) -> None:
    fake.block(user_id(2))
    await line.send(msg(user_id(1), user_id(2), user_id(3)))
    assert fake.messages_to(user_id(1)) == ["避難指示"]
    assert fake.messages_to(user_id(2)) == []
    assert fake.usage == 2


# ------------------------------------------------------------------ retry key


async def test_a_repeated_retry_key_is_a_duplicate_not_a_second_delivery(
        line: LineChannel, fake: FakeLine) -> None:
    message = msg(user_id(1), user_id(2), parts=("a", "b"))
    first = await line.send(message)
    # Same message again, e.g. after a crash between the send and the ledger write.
    again = LineChannel(TOKEN, base_url=fake.url)
    try:
        second = await again.send(message)
    finally:
        await again.close()
    assert first.duplicate is False
    assert second.duplicate is True
    assert second.message_ids == first.message_ids  # x-line-accepted-request-id
    assert [r.status for r in fake.requests] == [200, 409]
    assert fake.messages_to(user_id(1)) == ["a", "b"]


async def test_a_non_uuid_key_becomes_a_stable_uuid(line: LineChannel, fake: FakeLine) -> None:
    await line.send(msg(user_id(1), key="delivery-42"))
    second = await line.send(msg(user_id(1), key="delivery-42"))
    assert second.duplicate is True
    assert fake.requests[0].retry_key == retry_key("delivery-42")
    assert str(uuid.UUID(retry_key("delivery-42"))) == retry_key("delivery-42")
    assert fake.messages_to(user_id(1)) == ["避難指示"]


async def test_a_retry_after_a_timeout_is_not_delivered_twice(fake: FakeLine) -> None:
    channel = LineChannel(TOKEN, base_url=fake.url, timeout=0.3)
    fake.delay_next(0.8)
    message = msg(user_id(1))
    try:
        with pytest.raises(RetryLater):
            await channel.send(message)
        await wait_until(lambda: fake.requests[0].status == 200)
        result = await channel.send(message)
    finally:
        await channel.close()
    assert result.duplicate is True
    assert fake.messages_to(user_id(1)) == ["避難指示"]


async def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------ errors


async def test_rate_limit_without_retry_after_is_retry_later(line: LineChannel,
                                                             fake: FakeLine) -> None:
    fake.fail_next(1, 429)
    with pytest.raises(RetryLater) as info:
        await line.send(msg(user_id(1), user_id(2)))
    assert info.value.retry_after is None
    assert fake.accepted == []


async def test_monthly_limit_is_channel_fatal(fake: FakeLine, line: LineChannel) -> None:
    fake.set_usage(999)
    with pytest.raises(ChannelFatal, match="monthly"):
        await line.send(msg(user_id(1), user_id(2)))
    fake.fail_next(1, 429, message=MONTHLY_LIMIT_MESSAGE)
    with pytest.raises(ChannelFatal, match="monthly"):
        await line.send(msg(user_id(1)))
    assert fake.accepted == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retry_later(line: LineChannel, fake: FakeLine,
                                             status: int) -> None:
    fake.fail_next(1, status)
    with pytest.raises(RetryLater):
        await line.send(msg(user_id(1)))


async def test_push_to_a_blocked_user_is_recipient_error(line: LineChannel,
                                                         fake: FakeLine) -> None:
    fake.block(user_id(7))
    with pytest.raises(RecipientError) as info:
        await line.send(msg(user_id(7)))
    assert info.value.recipients == (user_id(7),)


async def test_push_to_a_malformed_id_is_recipient_error(line: LineChannel) -> None:
    with pytest.raises(RecipientError):
        await line.send(msg("not-a-user"))


async def test_a_malformed_multicast_is_rejected_and_says_it_is_our_bug(
        line: LineChannel) -> None:
    # One bad id fails this request, not every LINE send: MessageRejected, not ChannelFatal.
    with pytest.raises(MessageRejected, match="bug in bousai-bot") as info:
        await line.send(msg(user_id(1), "not-a-user"))
    assert type(info.value) is MessageRejected


async def test_too_long_push_is_not_blamed_on_the_user(line: LineChannel) -> None:
    with pytest.raises(MessageRejected, match="Length must be between 0 and 5000") as info:
        await line.send(msg(user_id(1), parts=("x" * 5001,)))
    assert type(info.value) is MessageRejected


async def test_a_refused_header_is_fatal(line: LineChannel, fake: FakeLine) -> None:
    fake.fail_next(1, 400, message="The value for the 'X-Line-Retry-Key' header is invalid")
    with pytest.raises(ChannelFatal, match="header"):
        await line.send(msg(user_id(1)))


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_are_fatal(line: LineChannel, fake: FakeLine, status: int) -> None:
    fake.fail_next(1, status)
    with pytest.raises(ChannelFatal):
        await line.send(msg(user_id(1)))


async def test_unreachable_server_is_retry_later() -> None:
    channel = LineChannel(TOKEN, base_url="http://127.0.0.1:9", timeout=1)
    try:
        with pytest.raises(RetryLater, match="unreachable"):
            await channel.send(msg(user_id(1)))
    finally:
        await channel.close()


def test_token_is_required_and_not_shown() -> None:
    with pytest.raises(ChannelFatal):
        LineChannel("")
    assert TOKEN not in repr(LineChannel(TOKEN))


# ------------------------------------------------------------------ quota


async def test_quota_reports_limit_and_usage(line: LineChannel, fake: FakeLine) -> None:
    await line.send(msg(user_id(1), user_id(2), user_id(3)))
    assert await line.quota() == (1000, 3)


async def test_quota_is_none_when_unlimited() -> None:
    with FakeLine(TOKEN) as fake:
        channel = LineChannel(TOKEN, base_url=fake.url)
        try:
            await channel.send(msg(user_id(1)))
            assert await channel.quota() == (None, 1)
        finally:
            await channel.close()


# ------------------------------------------------------------------ webhooks


def test_signature_verifies_only_the_exact_body() -> None:
    body, signature = signed_body([webhook_event("follow", user_id(1))], SECRET)
    assert verify_signature(body, signature, SECRET)
    assert not verify_signature(body + b" ", signature, SECRET)
    assert not verify_signature(body, signature, "another-secret")
    assert not verify_signature(body, "", SECRET)
    assert not verify_signature(body, None, SECRET)
    assert not verify_signature(b"", sign(b"", SECRET), SECRET)
    assert not verify_signature(body, "not base64 at all ✗", SECRET)


def test_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(line_module.hmac, "compare_digest", spy)
    body, signature = signed_body([webhook_event("unfollow", user_id(1))], SECRET)
    assert verify_signature(body, signature, SECRET) is True
    assert verify_signature(body, signature[:-2] + "AA", SECRET) is False
    assert len(compared) == 2
    assert compared[0] == (signature.encode(), signature.encode())


def test_fake_webhook_events_parse_with_the_real_sdk() -> None:
    events = [
        webhook_event("follow", user_id(1)),
        webhook_event("message", user_id(1), text="/lang vi"),
        webhook_event("postback", user_id(1), data="ward=43101"),
        webhook_event("unfollow", user_id(1)),
    ]
    body, signature = signed_body(events, SECRET)
    parsed = WebhookParser(SECRET).parse(body.decode(), signature)
    assert [type(e) for e in parsed] == [FollowEvent, MessageEvent, PostbackEvent, UnfollowEvent]
    assert all(e.source.user_id == user_id(1) for e in parsed)
    assert parsed[1].message.text == "/lang vi"
    assert parsed[2].postback.data == "ward=43101"
