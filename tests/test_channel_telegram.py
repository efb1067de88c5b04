"""Telegram error mapping, against the fake Bot API (bot/fakes/telegram.py)."""

from __future__ import annotations

import socket
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.fakes.telegram import FakeTelegram
from channels.base import (
    ChannelError,
    ChannelFatal,
    MessageRejected,
    OutgoingMessage,
    RecipientError,
    RetryLater,
)
from channels.telegram import TelegramChannel

TOKEN = "123456:TEST-TOKEN"
CHAT = "2002"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def tg(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(TOKEN, base_url=fake.url, timeout=2)
    try:
        yield channel
    finally:
        await channel.close()


def msg(*parts: str, chat: str = CHAT, reply_to: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(recipients=(chat,), parts=parts or ("警報",), reply_to=reply_to,
                           idempotency_key=str(uuid.uuid4()))


async def test_429_carries_retry_after(tg: TelegramChannel, fake: FakeTelegram) -> None:
    fake.fail_next(1, 429, retry_after=17)
    with pytest.raises(RetryLater) as info:
        await tg.send(msg())
    assert info.value.retry_after == 17
    assert fake.too_many == 1
    assert fake.messages_to(CHAT) == []


async def test_blocked_chat_is_recipient_error(tg: TelegramChannel, fake: FakeTelegram) -> None:
    fake.block(CHAT)
    with pytest.raises(RecipientError) as info:
        await tg.send(msg())
    assert info.value.recipients == (CHAT,)
    assert fake.messages_to(CHAT) == []


async def test_wrong_token_is_channel_fatal_and_not_quoted(fake: FakeTelegram) -> None:
    channel = TelegramChannel("999:WRONG", base_url=fake.url)
    try:
        with pytest.raises(ChannelFatal) as info:
            await channel.send(msg())
    finally:
        await channel.close()
    assert "999:WRONG" not in "".join(traceback.format_exception(info.value))
    assert fake.sent == []


async def test_token_revoked_after_start_is_channel_fatal(tg: TelegramChannel,
                                                          fake: FakeTelegram) -> None:
    await tg.start()
    fake.token = "123456:ROTATED"
    with pytest.raises(ChannelFatal, match="401"):
        await tg.send(msg())


@pytest.mark.parametrize(("status", "description", "error"), [
    (400, "Bad Request: message is too long", MessageRejected),
    (400, "Bad Request: can't parse entities: Can't find end of the entity", MessageRejected),
    (400, "Bad Request: message text is empty", MessageRejected),
    (400, "Bad Request: chat not found", RecipientError),
    (400, "Bad Request: PEER_ID_INVALID", RecipientError),
    (400, "Bad Request: not enough rights to send text messages to the chat", RecipientError),
    (403, "Forbidden: user is deactivated", RecipientError),
    (403, "Forbidden: bot was kicked from the group chat", RecipientError),
])
async def test_400s_blame_the_message_unless_they_name_the_chat(
        tg: TelegramChannel, fake: FakeTelegram, status: int, description: str,
        error: type[ChannelError]) -> None:
    fake.fail_next(1, status, description=description)
    with pytest.raises(ChannelError) as info:
        await tg.send(msg())
    assert type(info.value) is error
    if error is RecipientError:
        assert info.value.recipients == (CHAT,)  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [500, 502])
async def test_server_error_is_retry_later(tg: TelegramChannel, fake: FakeTelegram,
                                           status: int) -> None:
    fake.fail_next(1, status)
    with pytest.raises(RetryLater) as info:
        await tg.send(msg())
    assert info.value.retry_after is None
    assert fake.messages_to(CHAT) == []


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


async def test_timeout_is_retry_later(silent_port: int) -> None:
    channel = TelegramChannel(TOKEN, base_url=f"http://127.0.0.1:{silent_port}", timeout=0.3)
    try:
        with pytest.raises(RetryLater):
            await channel.send(msg())
    finally:
        await channel.close()


async def test_a_multi_part_message_replies_to_the_original(tg: TelegramChannel,
                                                            fake: FakeTelegram) -> None:
    first = await tg.send(msg("津波注意報"))
    follow_up = await tg.send(msg("(1/2) 解除 Lifted", "(2/2) details",
                                  reply_to=first.provider_message_id))
    sent = fake.messages_to(CHAT)
    assert [(m.text, m.reply_to_message_id) for m in sent] == [
        ("津波注意報", None),
        ("(1/2) 解除 Lifted", int(first.message_ids[0])),
        ("(2/2) details", None),
    ]
    assert follow_up.message_ids == tuple(str(m.message_id) for m in sent[1:])
