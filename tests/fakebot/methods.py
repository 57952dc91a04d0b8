"""The Bot API methods the fake server implements, with Telegram's results and errors.

``BotApi.handle`` takes a decoded request and returns ``(http_status, body)``
exactly as Telegram would: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}``.
It knows nothing about HTTP; transport.py does the wire format.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.fakebot.models import ApiCall, ApiError, UploadedFile, bad_request
from tests.fakebot.rules import (
    MAX_CAPTION_LENGTH,
    check_reply_markup,
    echoed_markup,
    render_text,
)
from tests.fakebot.state import DELETE_WINDOW_SECONDS, ChatState, ServerState, StoredMessage

Handler = Callable[[dict[str, Any]], Any]

_LOGGER = logging.getLogger(__name__)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
# Message fields that copyMessage carries over besides text/caption.
_MEDIA_FIELDS = (
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "sticker",
    "location",
    "contact",
    "venue",
    "poll",
    "dice",
    "game",
)

# What editMessageMedia can change, and change to.
_EDITABLE_MEDIA = ("photo", "video", "document", "animation", "audio")

FORBIDDEN_BLOCKED = "Forbidden: bot was blocked by the user"
FORBIDDEN_NOT_STARTED = "Forbidden: bot can't initiate conversation with a user"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def flood_error(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        raise bad_request(f"{name} is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


class BotApi:
    """Dispatches Bot API methods onto a ServerState."""

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._handlers: dict[str, Handler] = {
            "getme": self.get_me,
            "getupdates": self.get_updates,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "editmessagecaption": self.edit_message_caption,
            "editmessagemedia": self.edit_message_media,
            "deletemessage": self.delete_message,
            "deletemessages": self.delete_messages,
            "copymessage": self.copy_message,
            "answercallbackquery": self.answer_callback_query,
            "sendchataction": self.send_chat_action,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "setmydescription": self.set_my_description,
            "getmydescription": self.get_my_description,
            "setmyshortdescription": self.set_my_short_description,
            "getmyshortdescription": self.get_my_short_description,
            "getfile": self.get_file,
            "senddocument": self.send_document,
            "close": self._ok,
            "logout": self._ok,
        }

    def handle(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        state = self._state
        # getUpdates is the poller idling, not the bot doing something, so it
        # does not count as activity for wait_idle.
        polling = method.lower() == "getupdates"
        call = ApiCall(method, copy.deepcopy(params), time.monotonic())
        with state.cond:
            state.bot_id = int(token.split(":", 1)[0])
            state.calls.append(call)
            index = len(state.calls) - 1
            if not polling:
                state.bot_requests_in_flight += 1
                state.touch()
            pending = state.injected.get(method.lower())
            injected = pending.popleft() if pending else None
        status, body = self._answer(method, params, injected)
        with state.cond:
            if not polling:
                state.bot_requests_in_flight -= 1
                state.last_activity = time.monotonic()
            # Answered only now, with its effects in place: waiters woken by
            # this event (they read under the same lock) see both.
            error = None if body.get("ok") else str(body.get("description"))
            state.calls[index] = replace(call, seq=state.event(), error=error)
        return status, body

    def _answer(
        self, method: str, params: dict[str, Any], injected: ApiError | None
    ) -> tuple[int, dict[str, Any]]:
        try:
            if injected is not None:
                raise injected
            handler = self._handlers.get(method.lower())
            if handler is None:
                # Telegram answers an unknown method exactly like a bad token.
                raise ApiError(404, "Not Found")
            return 200, {"ok": True, "result": handler(params)}
        except ApiError as error:
            return error.error_code, error.to_json()
        except Exception as error:
            # A bug in the fake (or a parameter it cannot read) must fail the
            # test loudly rather than look like a dropped connection.
            _LOGGER.exception("fake Bot API server failed on %s", method)
            return 500, ApiError(500, f"Internal Server Error: fake server: {error!r}").to_json()

    def inject(self, method: str, error: ApiError, times: int) -> None:
        with self._state.cond:
            queue = self._state.injected.setdefault(method.lower(), deque())
            queue.extend(error for _ in range(times))

    # -- helpers ------------------------------------------------------------

    def _chat(self, params: dict[str, Any], name: str = "chat_id") -> ChatState:
        raw = params.get(name)
        if raw is None or raw == "":
            raise bad_request(f"{name} is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            # "@username" only resolves for public chats, never for a member.
            raise bad_request("chat not found") from None
        chat = self._state.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    @staticmethod
    def _check_can_send(chat: ChatState) -> None:
        if chat.blocked:
            raise ApiError(403, FORBIDDEN_BLOCKED)
        if not chat.started:
            raise ApiError(403, FORBIDDEN_NOT_STARTED)

    def _reply_to(self, chat: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict) and params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if not isinstance(reply, dict):
            return None
        target = chat.messages.get(_int(reply, "message_id"))
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        replied = copy.deepcopy(target.json)
        replied.pop("reply_to_message", None)  # Telegram does not nest replies further.
        return replied

    def _message(self, chat: ChatState, params: dict[str, Any], missing: str) -> StoredMessage:
        if params.get("inline_message_id") is not None:
            raise bad_request("the fake Bot API server does not implement inline messages")
        stored = chat.messages.get(_int(params, "message_id"))
        if stored is None:
            raise bad_request(missing)
        return stored

    @staticmethod
    def _ok(params: dict[str, Any]) -> bool:
        return True

    # -- identity and updates -----------------------------------------------

    def get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state.cond:
            return {
                **self._state.bot_user(),
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }

    def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        state = self._state
        offset = _int(params, "offset", 0)
        limit = min(max(_int(params, "limit", 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        with state.cond:
            if state.webhook.get("url"):
                raise ApiError(409, CONFLICT_WEBHOOK)
            # A newer getUpdates ends an older one still waiting, as on Telegram.
            state.poll_generation += 1
            generation = state.poll_generation
            state.cond.notify_all()
            if isinstance(allowed, list):
                state.allowed_updates = list(allowed) or None
            state.confirm_updates(offset)
            deadline = time.monotonic() + timeout
            while True:
                batch = state.take_updates(limit)
                remaining = deadline - time.monotonic()
                if batch or state.stopping or remaining <= 0:
                    return batch
                state.cond.wait(remaining)
                if state.poll_generation != generation:
                    raise ApiError(409, CONFLICT_OTHER_POLL)

    def set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if url and not str(url).lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        with self._state.cond:
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
            self._state.webhook = {
                key: params[key]
                for key in ("url", "secret_token", "allowed_updates", "max_connections")
                if params.get(key) is not None
            }
            if not url:
                self._state.webhook = {}
        return True

    def delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._state.cond:
            self._state.webhook = {}
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
        return True

    def get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state.cond:
            info: dict[str, Any] = {
                "url": self._state.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._state.updates),
            }
            for key in ("max_connections", "allowed_updates"):
                if key in self._state.webhook:
                    info[key] = self._state.webhook[key]
            return info

    # -- messages -----------------------------------------------------------

    def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        state = self._state
        with state.cond:
            chat = self._chat(params)
            text, entities = render_text(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = check_reply_markup(params.get("reply_markup"))
            self._check_can_send(chat)
            reply_to = self._reply_to(chat, params)
            content: dict[str, Any] = {"text": text}
            if entities:
                content["entities"] = entities
            stored = state.add_message(
                chat,
                content,
                from_bot=True,
                markup=markup,
                protect_content=bool(params.get("protect_content")),
                reply_to=reply_to,
            )
            return copy.deepcopy(stored.json)

    def send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        """A file the bot uploads (multipart) or re-sends by file_id; tests read the
        bytes back with ``FakeBotApi.file_data``."""
        state = self._state
        with state.cond:
            chat = self._chat(params)
            caption, entities = render_text(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH,
                caption=True,
            )
            markup = check_reply_markup(params.get("reply_markup"))
            self._check_can_send(chat)
            source = params.get("document")
            if isinstance(source, UploadedFile):
                if not source.data:
                    raise bad_request("file must be non-empty")
                name = source.filename or "document"
                extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
                stored_file = state.new_file("document", extension, 0, source.data)
                document = {
                    "file_name": name,
                    "mime_type": source.content_type or "application/octet-stream",
                }
            elif isinstance(source, str) and source in state.files:
                stored_file = state.files[source]
                document = {}
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
            document.update(
                file_id=stored_file.file_id,
                file_unique_id=stored_file.file_unique_id,
                file_size=len(stored_file.data),
            )
            content: dict[str, Any] = {"document": document}
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
            stored = state.add_message(
                chat,
                content,
                from_bot=True,
                markup=markup,
                protect_content=bool(params.get("protect_content")),
                reply_to=self._reply_to(chat, params),
            )
            return copy.deepcopy(stored.json)

    def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state.cond:
            chat = self._chat(params)
            stored = self._message(chat, params, "message to edit not found")
            text, entities = render_text(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = check_reply_markup(params.get("reply_markup"))
            if not stored.from_bot:
                raise bad_request("message can't be edited")
            if "text" not in stored.json:
                raise bad_request("there is no text in the message to edit")
            # Without reply_markup an edit removes the inline keyboard, so the
            # markup is part of "modified" just like the text.
            unchanged = (
                text == stored.json["text"]
                and entities == stored.json.get("entities", [])
                and echoed_markup(markup) == stored.json.get("reply_markup")
            )
            if unchanged:
                raise _not_modified()
            stored.json["text"] = text
            _set_or_drop(stored.json, "entities", entities or None)
            return self._finish_edit(stored, markup)

    def edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state.cond:
            chat = self._chat(params)
            stored = self._message(chat, params, "message to edit not found")
            markup = check_reply_markup(params.get("reply_markup"))
            if not stored.from_bot:
                raise bad_request("message can't be edited")
            if echoed_markup(markup) == stored.json.get("reply_markup"):
                raise _not_modified()
            return self._finish_edit(stored, markup)

    def edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state.cond:
            chat = self._chat(params)
            stored = self._message(chat, params, "message to edit not found")
            caption, entities = render_text(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH,
                caption=True,
            )
            markup = check_reply_markup(params.get("reply_markup"))
            if not stored.from_bot:
                raise bad_request("message can't be edited")
            if "text" in stored.json or not any(key in stored.json for key in _MEDIA_FIELDS):
                raise bad_request("there is no caption in the message to edit")
            unchanged = (
                caption == stored.json.get("caption", "")
                and entities == stored.json.get("caption_entities", [])
                and echoed_markup(markup) == stored.json.get("reply_markup")
            )
            if unchanged:
                raise _not_modified()
            _set_or_drop(stored.json, "caption", caption or None)
            _set_or_drop(stored.json, "caption_entities", entities or None)
            return self._finish_edit(stored, markup)

    def edit_message_media(self, params: dict[str, Any]) -> dict[str, Any]:
        """Swap a photo, video, document, animation or audio for new media, as Telegram does.

        Voice and video notes (and stickers, locations, ...) cannot be edited; the
        wording of that error is an approximation. New media comes as an upload
        (``attach://<part>``) or an existing file_id; its caption replaces the old
        one, and no caption removes it.
        """
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") not in _EDITABLE_MEDIA:
            raise bad_request("can't parse input media JSON object")
        with self._state.cond:
            chat = self._chat(params)
            stored = self._message(chat, params, "message to edit not found")
            markup = check_reply_markup(params.get("reply_markup"))
            if not stored.from_bot:
                raise bad_request("message can't be edited")
            if not any(key in stored.json for key in _EDITABLE_MEDIA):
                if "text" in stored.json:
                    raise bad_request("there is no media in the message to edit")
                raise bad_request(
                    "MESSAGE_EDIT_MEDIA_INVALID: this message's media can't be edited"
                )
            caption, entities = render_text(
                media.get("caption"),
                media.get("parse_mode"),
                media.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH,
                caption=True,
            )
            new_media = self._input_media(media, params)
            for key in (*_MEDIA_FIELDS, "caption", "caption_entities"):
                stored.json.pop(key, None)
            stored.json[media["type"]] = new_media
            _set_or_drop(stored.json, "caption", caption or None)
            _set_or_drop(stored.json, "caption_entities", entities or None)
            return self._finish_edit(stored, markup)

    def _input_media(self, media: dict[str, Any], params: dict[str, Any]) -> Any:
        source = media.get("media")
        kind = str(media["type"])
        if isinstance(source, str) and source.startswith("attach://"):
            upload = params.get(source[len("attach://") :])
            if not isinstance(upload, UploadedFile) or not upload.data:
                raise bad_request("wrong file identifier/HTTP URL specified")
            stored_file = self._state.new_file(kind, "bin", 0)
            stored_file.data = upload.data
        elif isinstance(source, str) and source in self._state.files:
            stored_file = self._state.files[source]
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        described = {
            "file_id": stored_file.file_id,
            "file_unique_id": stored_file.file_unique_id,
            "file_size": len(stored_file.data),
        }
        if kind == "photo":
            return [{**described, "width": 64, "height": 64}]
        return described

    def _finish_edit(self, stored: StoredMessage, markup: dict[str, Any] | None) -> dict[str, Any]:
        _set_or_drop(stored.json, "reply_markup", copy.deepcopy(echoed_markup(markup)))
        stored.sent_markup = copy.deepcopy(markup)
        stored.json["edit_date"] = self._state.now()
        stored.seq = self._state.event()
        return copy.deepcopy(stored.json)

    def delete_message(self, params: dict[str, Any]) -> bool:
        with self._state.cond:
            chat = self._chat(params)
            stored = self._message(chat, params, "message to delete not found")
            if self._state.now() - stored.json["date"] >= DELETE_WINDOW_SECONDS:
                raise bad_request("message can't be deleted for everyone")
            del chat.messages[stored.json["message_id"]]
            self._state.event()
        return True

    def delete_messages(self, params: dict[str, Any]) -> bool:
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise bad_request("message_ids is empty")
        if len(ids) > 100:
            # The limit (1-100) is documented; this wording is an approximation.
            raise bad_request("too many message identifiers specified")
        with self._state.cond:
            chat = self._chat(params)
            now = self._state.now()
            for raw_id in ids:
                # Documented: messages that can't be found (or deleted) are skipped.
                stored = chat.messages.get(int(raw_id))
                if stored is not None and now - stored.json["date"] < DELETE_WINDOW_SECONDS:
                    del chat.messages[int(raw_id)]
            self._state.event()
        return True

    def copy_message(self, params: dict[str, Any]) -> dict[str, Any]:
        state = self._state
        with state.cond:
            source_chat = self._chat(params, "from_chat_id")
            target = self._chat(params)
            source = self._message(source_chat, params, "message to copy not found")
            markup = check_reply_markup(params.get("reply_markup"))
            content = {
                key: copy.deepcopy(source.json[key])
                for key in ("text", "entities", "caption", "caption_entities", *_MEDIA_FIELDS)
                if key in source.json
            }
            if "caption" in params and "text" not in content:
                caption, caption_entities = render_text(
                    params.get("caption"),
                    params.get("parse_mode"),
                    params.get("caption_entities"),
                    limit=MAX_CAPTION_LENGTH,
                    caption=True,
                )
                content.pop("caption_entities", None)
                content.pop("caption", None)
                if caption:
                    content["caption"] = caption
                if caption_entities:
                    content["caption_entities"] = caption_entities
            self._check_can_send(target)
            stored = state.add_message(
                target,
                content,
                from_bot=True,
                markup=markup,
                protect_content=bool(params.get("protect_content")),
                reply_to=self._reply_to(target, params),
            )
            return {"message_id": stored.json["message_id"]}

    def answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._state.cond:
            # Forged ids never existed; a second answer to the same query is
            # refused the same way, as the query id is spent.
            if query_id not in self._state.callbacks or self._state.callbacks[query_id]:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            self._state.callbacks[query_id] = copy.deepcopy(params)
            self._state.event()
        return True

    def send_chat_action(self, params: dict[str, Any]) -> bool:
        with self._state.cond:
            chat = self._chat(params)
            if params.get("action") not in _CHAT_ACTIONS:
                raise bad_request("wrong parameter action in request")
            self._check_can_send(chat)
        return True

    # -- bot profile --------------------------------------------------------

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return f"{scope_type}", str(params.get("language_code") or "")

    def set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            if not isinstance(name, str) or not _COMMAND.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
        with self._state.cond:
            self._state.commands[self._scope_key(params)] = copy.deepcopy(commands)
        return True

    def get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._state.cond:
            return copy.deepcopy(self._state.commands.get(self._scope_key(params), []))

    def delete_my_commands(self, params: dict[str, Any]) -> bool:
        with self._state.cond:
            self._state.commands.pop(self._scope_key(params), None)
        return True

    def _set_description(self, kind: str, params: dict[str, Any]) -> bool:
        with self._state.cond:
            key = (kind, str(params.get("language_code") or ""))
            self._state.descriptions[key] = str(params.get(kind) or "")
        return True

    def _get_description(self, kind: str, params: dict[str, Any]) -> dict[str, str]:
        with self._state.cond:
            key = (kind, str(params.get("language_code") or ""))
            return {kind: self._state.descriptions.get(key, "")}

    def set_my_description(self, params: dict[str, Any]) -> bool:
        return self._set_description("description", params)

    def get_my_description(self, params: dict[str, Any]) -> dict[str, str]:
        return self._get_description("description", params)

    def set_my_short_description(self, params: dict[str, Any]) -> bool:
        return self._set_description("short_description", params)

    def get_my_short_description(self, params: dict[str, Any]) -> dict[str, str]:
        return self._get_description("short_description", params)

    def get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state.cond:
            stored = self._state.files.get(str(params.get("file_id")))
            if stored is None:
                raise bad_request("invalid file_id")
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "file_path": stored.file_path,
            }


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )


def _set_or_drop(message: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value
