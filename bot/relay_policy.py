"""What the relay passes between a member and a volunteer, and what it refuses.

Only what people need to talk passes: text, photos, voice notes, video notes,
videos and PDF or image documents. Everything else is refused with a reason:
a contact, location or venue points at a person or a place; polls, dice,
games and stickers carry an origin (a sticker names its pack); other files
can carry code. Hidden link targets and mentions are stripped from text and
captions, so a link shows what it opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from telegram import Message, MessageEntity

Refusal = Literal["kind", "file"]
Kind = Literal["text", "photo", "voice", "video_note", "video", "document"]

SAFE_DOCUMENTS: dict[str, frozenset[str]] = {
    ".pdf": frozenset({"application/pdf"}),
    ".jpg": frozenset({"image/jpeg"}),
    ".jpeg": frozenset({"image/jpeg"}),
    ".png": frozenset({"image/png"}),
    ".webp": frozenset({"image/webp"}),
    ".heic": frozenset({"image/heic", "image/heif"}),
}
"""File name ending -> the types a document may declare: both must fit."""

REFUSED_FIELDS = (
    "animation",
    "audio",
    "contact",
    "dice",
    "game",
    "invoice",
    "live_photo",
    "location",
    "paid_media",
    "passport_data",
    "poll",
    "sticker",
    "story",
    "venue",
    "giveaway",
    "giveaway_winners",
    "checklist",
    "via_bot",
)
"""Present on a message, any of these refuses it: an animation also carries a
document, a venue a location, so the check is for any, not the first."""

HIDDEN_ENTITIES = frozenset(
    {MessageEntity.TEXT_LINK, MessageEntity.TEXT_MENTION, MessageEntity.CUSTOM_EMOJI}
)
"""Entities whose target is not in the visible text: a link hidden behind
words, a mention of an account, or a custom emoji that names its pack."""


@dataclass(frozen=True)
class Verdict:
    kind: Kind | None
    refusal: Refusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def _present(message: Message, name: str) -> bool:
    return bool(getattr(message, name, None)) or bool(message.api_kwargs.get(name))


def judge(message: Message) -> Verdict:
    """Whether the relay may copy ``message``, and as what."""
    if any(_present(message, name) for name in REFUSED_FIELDS):
        return Verdict(None, "kind")
    if message.photo:
        return Verdict("photo", None)
    if message.voice:
        return Verdict("voice", None)
    if message.video_note:
        return Verdict("video_note", None)
    if message.video:
        return Verdict("video", None)
    if message.document:
        name = message.document.file_name or ""
        mime = (message.document.mime_type or "").lower()
        allowed = SAFE_DOCUMENTS.get(PurePosixPath(name.lower()).suffix, frozenset())
        return Verdict("document", None if mime in allowed else "file")
    if message.text:
        return Verdict("text", None)
    return Verdict(None, "kind")


def has_hidden(entities: Sequence[MessageEntity]) -> bool:
    return any(entity.type in HIDDEN_ENTITIES for entity in entities)


def visible(entities: Sequence[MessageEntity]) -> list[MessageEntity]:
    """The entities without hidden targets; formatting such as bold stays."""
    return [entity for entity in entities if entity.type not in HIDDEN_ENTITIES]
