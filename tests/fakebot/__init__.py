"""A fake Telegram Bot API server for end-to-end tests of the real PTB Application."""

from __future__ import annotations

from tests.fakebot.models import TEST_TOKEN, ApiCall, BotMessage, Button, UploadedFile
from tests.fakebot.server import FakeBotApi
from tests.fakebot.user import FakeUser
from tests.fakebot.waiting import DEFAULT_TIMEOUT, WaitTimeout, wait_for

__all__ = [
    "DEFAULT_TIMEOUT",
    "TEST_TOKEN",
    "ApiCall",
    "BotMessage",
    "Button",
    "FakeBotApi",
    "FakeUser",
    "UploadedFile",
    "WaitTimeout",
    "wait_for",
]
