"""The checks Telegram makes on what a bot sends, with Telegram's error strings.

The point of the fake server is that a bot which passes the end-to-end tests
does not then fail against the real API, so these rejections matter more than
the happy path. Descriptions are the ones Telegram returns (PTB strips the
``Bad Request: `` prefix and capitalises the rest); where Telegram's exact
wording is unknown the comment says so.
"""

from __future__ import annotations

from typing import Any

from tests.fakebot.formatting import parse_html, trim
from tests.fakebot.models import bad_request

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

# An inline button needs exactly one of these (Bot API, InlineKeyboardButton).
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def render_text(
    text: Any,
    parse_mode: Any,
    entities: Any,
    *,
    limit: int = MAX_TEXT_LENGTH,
    caption: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Turn a sent text (or caption) into what Telegram stores, or raise ApiError.

    The length limit is checked after entity parsing, as Telegram documents
    ("1-4096 characters after entities parsing"). It counts Python characters
    (Unicode code points); Telegram's server may count astral characters such as
    emoji differently (entity offsets, for one, are UTF-16), so keep a margin
    rather than writing texts that sit exactly on the limit.
    """
    if not isinstance(text, str) or not text:
        if caption:
            return "", []
        raise bad_request("message text is empty")
    if parse_mode in (None, ""):
        plain = text
        parsed = list(entities) if isinstance(entities, list) else []
    elif isinstance(parse_mode, str) and parse_mode.lower() == "html":
        plain, parsed = parse_html(text)
    else:
        # Not Telegram behaviour: the fake does not implement Markdown, and a
        # loud failure beats silently asserting on unparsed markup.
        raise bad_request(
            f"the fake Bot API server implements parse_mode HTML only, not {parse_mode!r}"
        )
    plain, parsed = trim(plain, parsed)
    if not plain and not caption:
        raise bad_request("message text is empty")
    if len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, parsed


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate reply_markup; return it, or None when none was sent."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    return markup


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        # Telegram rejects an empty label; its exact wording here is not documented.
        raise bad_request("can't parse inline keyboard button: text must be non-empty")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not (isinstance(button["url"], str) and button["url"].strip()):
        raise bad_request("BUTTON_URL_INVALID")


def inline_buttons(markup: dict[str, Any] | None) -> list[list[tuple[str, str | None]]]:
    """The inline keyboard of a markup as rows of ``(text, callback_data)``."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        [(button["text"], button.get("callback_data")) for button in row]
        for row in markup["inline_keyboard"]
    ]


def echoed_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of reply_markup Telegram echoes in a Message: only inline keyboards."""
    if markup and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None
