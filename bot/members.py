"""Members as the bot sees them: a pseudonymous key and an encrypted state."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.engine import Session
from flows.locales import is_locale_code
from storage.crypto import Pseudonymizer
from storage.errors import DecryptionError
from storage.ports import MemberRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class MemberState:
    locale: str | None = None
    """None until the member picks a language."""
    session: Session = field(default_factory=Session)
    screen_message: int | None = None
    """The chat message that carries the current buttons; older screens lose theirs."""
    draft: tuple[tuple[str, str], ...] | None = None
    """Answers so far to the volunteer questions; None when not asking for one."""

    @property
    def answers(self) -> dict[str, str]:
        return dict(self.draft or ())

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "locale": self.locale,
            "session": self.session.to_json(),
            "screen": self.screen_message,
            "draft": None if self.draft is None else dict(self.draft),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberState:
        locale = data.get("locale")
        session = data.get("session")
        screen = data.get("screen")
        draft = data.get("draft")
        return cls(
            # Any well-formed code: a language switched off meanwhile is the
            # conversation's to handle (it asks again), not a reason to lose it here.
            locale if isinstance(locale, str) and is_locale_code(locale) else None,
            Session.from_json(session) if isinstance(session, Mapping) else Session(),
            screen if isinstance(screen, int) and not isinstance(screen, bool) else None,
            tuple((str(k), str(v)) for k, v in draft.items())
            if isinstance(draft, Mapping)
            else None,
        )


class Members:
    def __init__(
        self, repository: MemberRepository, pseudonymizer: Pseudonymizer, clock: Clock
    ) -> None:
        self._repository = repository
        self._pseudonymizer = pseudonymizer
        self._clock = clock

    def key_for(self, telegram_user_id: int) -> bytes:
        return self._pseudonymizer.member_key(telegram_user_id)

    async def load(self, key: bytes) -> MemberState | None:
        """The member's state; an unreadable one is erased so the member can go on.

        A state that fails to decrypt (tampering, a retired key id) would
        otherwise lock the member out of every command, /wipe included. Only the
        state is reset: the ids of messages /wipe can still delete are kept.
        """
        try:
            data = await self._repository.load(key)
        except DecryptionError:
            log.error("a member's stored state could not be decrypted; starting it afresh")
            await self.save(key, MemberState())
            return None
        return None if data is None else MemberState.from_json(data)

    async def save(self, key: bytes, state: MemberState) -> None:
        await self._repository.save(key, state.to_json(), today=self._clock().date())

    async def remember(
        self, key: bytes, message_ids: Iterable[int], *, at: datetime | None = None
    ) -> None:
        """Record ids for /wipe; ``at`` is when they were sent, if earlier than now.

        A member's message that waited while the bot was down is older than
        the moment it is handled, and Telegram's 48 hours run from its date.
        """
        ids = [message_id for message_id in message_ids if message_id > 0]
        if ids:
            now = self._clock()
            await self._repository.remember_messages(key, ids, now=min(now, at) if at else now)

    async def deletable(self, key: bytes) -> list[int]:
        return await self._repository.deletable_messages(key, now=self._clock())

    async def erase(self, key: bytes) -> None:
        await self._repository.erase(key)

    async def forget_old_messages(self) -> int:
        return await self._repository.forget_old_messages(now=self._clock())

    async def purge_idle(self, idle_days: int) -> int:
        return await self._repository.purge_idle(
            before=(self._clock() - timedelta(days=idle_days)).date()
        )
