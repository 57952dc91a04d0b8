"""Value types shared by the fake Bot API server and the tests that read it.

Everything here is an immutable snapshot: tests receive copies, never the
server's live state, so reading them never races with the server thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The token the tests give python-telegram-bot. Any token of the right shape is
# accepted; this one is merely a convenient, recognisable default. Like a real
# token, its number before the colon is the bot's user id.
TEST_TOKEN = "4242424242:AAFakeTokenForYardemTests_0123456789ab"


class ApiError(Exception):
    """A Bot API error response: ``{"ok": false, "error_code": .., "description": ..}``."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """An HTTP 400 with Telegram's ``Bad Request: `` prefix (which PTB strips again)."""
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart/form-data request, as recorded in ``ApiCall.params``."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request the bot made, in arrival order.

    ``params`` are decoded the way Telegram reads them: JSON-encoded values
    (numbers, booleans, reply_markup, entities, lists) become Python values,
    string parameters (text, callback_query_id, ...) stay strings even when
    they look like JSON. ``time`` is ``time.monotonic()`` at arrival, so tests
    can measure gaps (e.g. that a RetryAfter was respected).

    ``seq`` is the server's event number when the answer was ready (0 while the
    call is still being served), comparable with ``FakeBotApi.mark()``;
    ``error`` is the error description it was answered with, if any.
    """

    method: str
    params: dict[str, Any]
    time: float
    seq: int = 0
    error: str | None = None

    @property
    def chat_id(self) -> int | None:
        """The ``chat_id`` parameter as a number, if it is one."""
        try:
            return int(self.params["chat_id"])
        except (KeyError, TypeError, ValueError):
            return None


Button = tuple[str, str | None]
"""An inline button as ``(text, callback_data)``; callback_data is None for URL buttons etc."""


@dataclass(frozen=True, slots=True)
class BotMessage:
    """The current state of one message the bot sent, after edits.

    ``text`` is the text of a text message or the caption of a media message,
    as the member sees it (HTML tags already turned into ``entities``).
    """

    message_id: int
    text: str | None
    buttons: list[list[Button]]
    protect_content: bool
    date: int
    edit_date: int | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    """The markup as the bot last sent it: inline keyboards, and also reply keyboards,
    ReplyKeyboardRemove and ForceReply, which Telegram does not echo in the Message."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The Message JSON Telegram would return for this message now."""
    seq: int = 0
    """The server's event number of the last send or edit of this message; a
    message with ``seq > FakeBotApi.mark()`` taken earlier changed since then."""

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    @property
    def callback_data(self) -> list[str]:
        return [data for row in self.buttons for _, data in row if data is not None]
