"""Webhook mode over real HTTP: body limits before reading, the secret, and content types."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import QUIET_SECONDS
from tests.e2e.test_process import _env, _free_port, _start, _stop
from tests.fakebot import TEST_TOKEN, FakeBotApi

SECRET = "s3cret-webhook-token-for-tests"
LIMIT = 1_000_000


@dataclass
class Webhook:
    server: FakeBotApi
    port: int
    url: str


@pytest.fixture
async def webhook(server: FakeBotApi, tmp_path: Path) -> AsyncIterator[Webhook]:
    port = _free_port()
    env = _env(
        tmp_path,
        BOT_TOKEN=TEST_TOKEN,
        BOT_API_URL=server.base_url,
        WEBHOOK_URL="https://yardem.example.org/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    process = _start(env, tmp_path)
    try:
        await server.wait_for_call("setWebhook", timeout=60)  # its port is open before
        yield Webhook(server, port, f"http://127.0.0.1:{port}/telegram")
    finally:
        code, stderr = _stop(process)
    assert code == 0, stderr
    assert SECRET not in stderr
    assert "Traceback" not in stderr


def _update(user_id: int, text: str = "/start", padding: int = 0) -> bytes:
    update = {
        "update_id": user_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "M"},
            "from": {"id": user_id, "is_bot": False, "first_name": "M"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }
    # JSON allows whitespace anywhere between tokens: a big but valid body.
    return json.dumps(update).encode() + b" " * padding


async def _raw_request(port: int, head: bytes, body: bytes = b"") -> bytes:
    """Send ``head`` (and ``body``) on a fresh connection; whatever comes back until close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=15)
    finally:
        writer.close()


def _head(length_header: str) -> bytes:
    return (
        "POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n{length_header}\r\n\r\n"
    ).encode()


async def test_a_body_over_one_megabyte_is_refused_before_it_is_read(webhook: Webhook) -> None:
    # Only the headers are sent: the answer comes without waiting for 2 MB that never come.
    answer = await _raw_request(webhook.port, _head(f"Content-Length: {2 * LIMIT}"), b"{")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    assert webhook.server.calls("sendMessage") == []


async def test_a_chunked_body_is_cut_off_at_one_megabyte(webhook: Webhook) -> None:
    # A valid update padded past the limit: served, it would be answered.
    body = _update(8400004, padding=LIMIT + 200_000)
    reader, writer = await asyncio.open_connection("127.0.0.1", webhook.port)
    answer = b""
    try:
        writer.write(_head("Transfer-Encoding: chunked"))
        for start in range(0, len(body), 65536):
            part = body[start : start + 65536]
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=15)
    except (ConnectionResetError, BrokenPipeError):
        answer = b"closed while sending"
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 400") or answer == b"closed while sending", answer[:80]
    await webhook.server.wait_idle(min_quiet=QUIET_SECONDS, timeout=30)  # nothing follows
    assert webhook.server.calls("sendMessage") == []


async def test_a_body_just_under_the_limit_is_served(webhook: Webhook) -> None:
    body = _update(8400001)
    body += b" " * (LIMIT - len(body) - 10)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            webhook.url,
            content=body,
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    assert answer.status_code == 200
    await webhook.server.wait_for_call("sendMessage", chat_id=8400001)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Telegram-Bot-Api-Secret-Token": ""},
        {"X-Telegram-Bot-Api-Secret-Token": "x" * len(SECRET)},
        {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]},
        {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"},
        {"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-tøken-for-tests".encode()},
    ],
    ids=["missing", "empty", "same-length", "prefix", "longer", "non-ascii"],
)
async def test_a_wrong_secret_is_refused(webhook: Webhook, headers: dict[str, str | bytes]) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            webhook.url,
            content=_update(8400002),
            headers={"Content-Type": "application/json", **headers},
        )
    assert answer.status_code == 403
    await webhook.server.wait_idle(min_quiet=QUIET_SECONDS, timeout=30)  # nothing follows
    assert webhook.server.calls("sendMessage") == []


async def test_bad_bodies_and_types_are_refused(webhook: Webhook) -> None:
    secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient() as client:
        plain = await client.post(
            webhook.url, content=_update(8400003), headers={"Content-Type": "text/plain", **secret}
        )
        json_type = {"Content-Type": "application/json", **secret}
        broken = await client.post(webhook.url, content=b"{not json", headers=json_type)
        fetched = await client.get(webhook.url, headers=secret)
    assert plain.status_code == 415
    assert broken.status_code == 400
    assert fetched.status_code == 405
    await webhook.server.wait_idle(min_quiet=QUIET_SECONDS, timeout=30)  # nothing follows
    assert webhook.server.calls("sendMessage") == []
