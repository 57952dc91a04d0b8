"""Who sent an update: a member, a volunteer, a coordinator, or someone the bot does not serve.

Resolved once per update by a handler in an early group (see
:mod:`bot.routing`) and carried in the context (``context.actor``), so no
handler looks the sender up again. Who someone is comes only from the
sender's Telegram id, looked up by its pseudonym; nothing in the update's
content counts. Only private chats are served: :func:`private_sender` is the
one place that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from telegram import Chat, Update, User

from bot.services import Services
from storage.staff import StaffMember

if TYPE_CHECKING:  # the context carries the actor, so it imports this module
    from bot.context import YardemContext


class Role(Enum):
    MEMBER = "member"
    VOLUNTEER = "volunteer"
    COORDINATOR = "coordinator"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Unknown:
    """No sender, or not a private chat: the bot answers nothing and stores nothing."""

    @property
    def role(self) -> Role:
        return Role.UNKNOWN


@dataclass(frozen=True)
class Member:
    """Someone in a private chat with no active staff account (anyone, at first)."""

    key: bytes
    """The sender's pseudonym: the only way the bot knows them."""
    chat_id: int
    language_code: str | None
    """What Telegram says the sender's app is set to; a hint for a first language."""

    @property
    def role(self) -> Role:
        return Role.MEMBER


@dataclass(frozen=True)
class Staff:
    """An active volunteer's or coordinator's account, writing in a private chat."""

    key: bytes
    chat_id: int
    language_code: str | None
    account: StaffMember

    @property
    def role(self) -> Role:
        return Role.COORDINATOR if self.account.is_coordinator else Role.VOLUNTEER


Actor = Member | Staff | Unknown
Private = Member | Staff


def private_sender(update: Update) -> tuple[User, Chat] | None:
    """The sender and chat of a private update; None for anything else."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return None
    return user, chat


async def identify(update: Update, services: Services) -> Actor:
    """Look the sender up: one read of the staff table, nothing written."""
    sender = private_sender(update)
    if sender is None:
        return Unknown()
    user, chat = sender
    key = services.members.key_for(user.id)
    account = await services.staff.get(key)
    if account is not None and account.active:
        return Staff(key, chat.id, user.language_code, account)
    return Member(key, chat.id, user.language_code)


def coordinator_of(context: YardemContext) -> StaffMember | None:
    """The sender's account if this update's actor is an active coordinator."""
    actor = context.actor
    if isinstance(actor, Staff) and actor.account.is_coordinator:
        return actor.account
    return None
