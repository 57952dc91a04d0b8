"""The referral desk: files requests, notifies volunteers, relays messages.

Everything here that reaches a person goes through Telegram; the decisions
about who may do what are made by the callers (member and staff handlers),
which check the actor's role and hold before calling in. Relayed messages
are copied with copyMessage, never forwarded, so neither side sees the other's
account; the bot records that a message was relayed, never what it said.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from datetime import date, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, TelegramError

from bot import referral_texts, sending, staff_texts
from bot.callbacks import Claim, StaffAction, Talk, encode
from bot.i18n import LANGUAGE_NAMES, Translator
from bot.referral_choices import ReferralRequest, label
from bot.referral_terms import Field, Status, WithdrawReason, status_of
from bot.relay_policy import Kind, has_hidden, visible
from bot.services import Services
from bot.staff_decisions import holds
from bot.telegram_io import blank_media, blank_out, delete_messages
from storage import relay_copies
from storage.errors import StorageError
from storage.referrals import Escalated, Held, Referral, Refused, Withdrawn
from storage.relay_copies import Copy, copies_at
from storage.staff import StaffMember

log = logging.getLogger(__name__)

DAILY_REQUEST_LIMIT = 3
"""Requests a member may file a day; more looks like a flood, not a person."""
RENOTIFY_EVERY = timedelta(minutes=5)
"""How often an urgent, unclaimed referral is announced again."""
ESCALATE_AFTER_ROUNDS = 3
"""Re-announcements before coordinators' notices say an urgent request is unclaimed."""
FAST_ROUNDS = 6
"""Re-announcements every RENOTIFY_EVERY (half an hour in all); after that, every
SLOW_RENOTIFY_EVERY until claimed, so a request nobody takes is not forgotten and
the volunteers' chats are not buried either."""
SLOW_RENOTIFY_EVERY = timedelta(minutes=30)
CLAIMS_SHOWN_FOR = 7
"""/volunteers counts each account's claims over this many days, today included
(by day, never finer); older counts are deleted."""


def claims_counted_from(today: date) -> date:
    return today - timedelta(days=CLAIMS_SHOWN_FOR - 1)


def reference(referral_id: str) -> str:
    return f"#{referral_id}"


def button(label_text: str, action: StaffAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(label_text, callback_data=encode(action, ""))


def _copy_kind(kind: Kind) -> relay_copies.Kind:
    if kind == "text":
        return "text"
    # No edit can change a voice or video note; the rest can be swapped for a blank.
    return "fixed" if kind in ("voice", "video_note") else "media"


@dataclass
class Desk:
    bot: Bot
    services: Services

    def tr(self, locale: str) -> Translator:
        translators = self.services.content.current.translators
        return translators.get(locale) or translators["en"]

    def _timestamp(self) -> int:
        return int(self.services.clock().timestamp())

    def next_round_at(self) -> int:
        """When an urgent request announced now is due to be announced again."""
        return int((self.services.clock() + RENOTIFY_EVERY).timestamp())

    # Members ---------------------------------------------------------------

    async def file(
        self, member_key: bytes, chat_id: int, request: ReferralRequest
    ) -> Referral | Escalated | Refused:
        """File a request and announce it; a crisis request is never refused.

        The limits and their exceptions for someone detained now are decided in
        one transaction by :meth:`storage.referrals.ReferralRepository.open`.
        """
        now = self.services.clock()
        rate_key = self.services.pseudonymizer.rate_key(member_key, now.date().isoformat())
        result = await self.services.referrals.open(
            member_key,
            topic=request.topic,
            urgency=request.urgency,
            country=request.country,
            language=request.language,
            chat_id=chat_id,
            today=now.date(),
            notify_at=self.next_round_at(),
            rate_key=rate_key,
            daily_limit=DAILY_REQUEST_LIMIT,
        )
        if isinstance(result, Held):
            # Queued; the urgent rounds announce it at its notify_at.
            return result.referral
        if isinstance(result, Referral):
            await self.announce(result, await self.services.staff.to_notify(result.language))
        if isinstance(result, Escalated) and result.changed:
            await self._announce_escalation(result)
        return result

    async def _announce_escalation(self, escalated: Escalated) -> None:
        """An open request now says its member is detained: tell whoever should know."""
        with sending.urgent():  # detained now: ahead of every other bulk send
            await self._tell_escalation(escalated)

    async def _tell_escalation(self, escalated: Escalated) -> None:
        referral = escalated.referral
        # The old notices show the old urgency; the new ones replace them.
        await self.delete_notices(escalated.notices)
        if status_of(referral) is Status.OPEN:
            await self.announce(
                referral,
                await self.services.staff.to_notify(referral.language),
                staff_texts.now_urgent,
            )
            return
        holder = await self.services.staff.get(referral.volunteer) if referral.volunteer else None
        if holder is not None:
            rid = referral.id
            await self.tell_staff(
                holder, lambda tr: staff_texts.held_now_urgent(tr, reference(rid))
            )

    async def tell_member(
        self, referral: Referral, text: Callable[[Translator], str], chat_id: int | None = None
    ) -> bool:
        """Send the member a message in their language; its id is kept for /wipe."""
        chat = (
            chat_id if chat_id is not None else await self.services.referrals.member_chat(referral)
        )
        if chat is None:
            return False
        state = await self.services.members.load(referral.member_key)
        tr = self.tr(state.locale if state and state.locale else referral.language)
        try:
            sent = await self.bot.send_message(chat, tr.finish(text(tr)), protect_content=True)
        except TelegramError:
            log.info("a member could not be reached about their referral")
            return False
        if state is not None:
            try:
                await self.services.members.remember(referral.member_key, [sent.message_id])
            except StorageError:
                log.info("a member wiped while being told about their referral")
        return True

    async def withdraw(self, member_key: bytes, reason: WithdrawReason) -> Withdrawn | None:
        """The member cancels or wipes: the referral is erased at once.

        Only the database is touched here, so nothing Telegram does can stop a
        wipe; call :meth:`farewell` afterwards to tidy the volunteers' chats.
        """
        now = self.services.clock()
        return await self.services.referrals.withdraw(member_key, today=now.date(), action=reason)

    async def farewell(self, withdrawn: Withdrawn) -> None:
        """After a withdrawal: retire its notices, clear both chats, tell whoever held it."""
        await self._retire(withdrawn.referral, withdrawn.notices)
        rid = withdrawn.referral.id
        await self.services.staff.drop_target(rid)
        await self.remove_copies(withdrawn.copies, withdrawn.member_chat)
        holder = withdrawn.referral.volunteer
        volunteer = await self.services.staff.get(holder) if holder else None
        if volunteer is None:
            return
        await self.tell_staff(volunteer, lambda tr: staff_texts.member_left(tr, reference(rid)))

    async def relay_from_member(self, referral: Referral, message: Message, kind: Kind) -> bool:
        """Copy a member's message to the volunteer holding their request; False if it failed."""
        if referral.volunteer is None:
            return False
        volunteer = await self.services.staff.get(referral.volunteer)
        if volunteer is None or not volunteer.active:
            return False
        tr = self.tr(volunteer.locale)
        shown: list[Copy] = []
        now = self.services.clock()
        try:
            chat = await self.services.staff.chat_id(volunteer)
            # A reply must never reach the wrong member: until the volunteer
            # says whom they answer, their messages go to no one, and they are
            # told so before they write again.
            previous = await self.services.staff.leave_target(volunteer.key, keep=referral.id)
            if previous is not None or volunteer.current_referral != referral.id:
                markup = InlineKeyboardMarkup(
                    [[button(staff_texts.reply_label(tr), Talk(referral.id))]]
                )
                text = staff_texts.relay_header(tr, reference(referral.id))
                if previous is not None:
                    text += "\n" + staff_texts.target_dropped(tr, reference(previous))
                header = await self.bot.send_message(
                    chat, tr.finish(text), reply_markup=markup, protect_content=True
                )
                shown += copies_at(volunteer.key, [header.message_id], "text", now)
            copied = await self._copy(chat, message, kind)
            shown += copies_at(volunteer.key, [copied], _copy_kind(kind), now)
        except Forbidden:
            # The volunteer blocked the bot: the member must not wait on them.
            log.info("a volunteer has blocked the bot; their request goes back to the queue")
            await self._remember(referral.id, shown)
            await self._hand_back(referral, volunteer)
            return False
        except (TelegramError, StorageError) as error:
            log.info("a relayed message did not reach a volunteer: %s", type(error).__name__)
            await self._remember(referral.id, shown)
            return False
        await self._remember(referral.id, shown)
        await self.services.referrals.relayed(
            referral.id, actor="member", today=self.services.clock().date()
        )
        return True

    async def _copy(self, chat: int, message: Message, kind: Kind) -> int:
        """Copy (never forward) a message the policy allowed; hidden link targets are dropped."""
        if kind == "text" and has_hidden(message.entities):
            sent = await self.bot.send_message(
                chat,
                message.text or "",
                entities=visible(message.entities),
                protect_content=True,
            )
            return sent.message_id
        caption: dict[str, object] = {}
        if message.caption and has_hidden(message.caption_entities):
            caption = {
                "caption": message.caption,
                "caption_entities": visible(message.caption_entities),
            }
        copied = await self.bot.copy_message(
            chat,
            from_chat_id=message.chat_id,
            message_id=message.message_id,
            protect_content=True,
            **caption,  # type: ignore[arg-type]
        )
        return copied.message_id

    async def _remember(
        self, referral_id: str, copies: list[Copy], member_chat: int | None = None
    ) -> None:
        try:
            kept = await self.services.referrals.remember_copies(referral_id, copies)
        except StorageError:
            log.info("copies of a relayed message could not be recorded")
            kept = False
        if not kept:
            # The request ended while this was on its way and its copies are
            # already gone: these must not stay behind alone.
            await self.remove_copies(copies, member_chat)

    async def end_relay(self, referral_id: str, member_chat: int | None) -> bool:
        """The request changed hands or ended: nobody writes to it by default any more,
        and the bot's copies of what was said leave both chats.

        Returns whether anything was removed from the member's chat.
        """
        await self.services.staff.drop_target(referral_id)
        copies = await self.services.referrals.take_copies(referral_id)
        return await self.remove_copies(copies, member_chat)

    async def remove_copies(self, copies: Sequence[Copy], member_chat: int | None) -> bool:
        """Delete what Telegram still lets the bot delete and blank the rest by editing.

        Volunteers and members are diaspora alike, and phones get checked at
        borders: words should not outlive the conversation on either. Voice
        and video notes cannot be edited; :meth:`remove_fixed_copies` takes
        them away before Telegram's 48 hours run out.
        """
        now = self.services.clock()
        by_chat: dict[bytes | None, list[Copy]] = {}
        for copy in copies:
            by_chat.setdefault(copy.staff_key, []).append(copy)
        for owner, group in by_chat.items():
            chat = member_chat if owner is None else await self._staff_chat(owner)
            if chat is None:
                continue
            deletable = [c.message_id for c in group if c.deletable(now)]
            failed = set(await delete_messages(self.bot, chat, deletable))
            for copy in group:
                if copy.deletable(now) and copy.message_id not in failed:
                    continue
                if copy.kind == "text":
                    await blank_out(self.bot, chat, copy.message_id)
                elif copy.kind == "media":
                    await blank_media(self.bot, chat, copy.message_id)
                else:
                    log.info("an old relayed message could be neither deleted nor blanked")
        return None in by_chat and member_chat is not None

    async def remove_fixed_copies(self) -> int:
        """Voice and video notes near the end of Telegram's deletion window leave both chats."""
        removed = 0
        for due in await self.services.referrals.take_fixed_copies(now=self.services.clock()):
            await self.remove_copies(due.copies, due.member_chat)
            removed += len(due.copies)
        return removed

    async def _staff_chat(self, staff_key: bytes) -> int | None:
        member = await self.services.staff.get(staff_key)
        if member is None:
            return None
        try:
            return await self.services.staff.chat_id(member)
        except StorageError:
            return None

    async def _hand_back(self, referral: Referral, volunteer: StaffMember) -> None:
        chat = await self.services.referrals.member_chat(referral)
        # requeue() announces it at once, so the next round is one interval away.
        released = await self.services.referrals.release(
            referral.id,
            volunteer.key,
            actor="system",
            today=self.services.clock().date(),
            next_round_at=self.next_round_at(),
        )
        if released is not None:
            cleared = await self.end_relay(released.id, chat)
            await self.requeue([released.id], cleared={released.id} if cleared else set())

    # Volunteers ------------------------------------------------------------

    async def relay_from_volunteer(
        self, volunteer: StaffMember, message: Message, kind: Kind
    ) -> str | None:
        """Copy the volunteer's message to the member they chose; the error to show, if any."""
        tr = self.tr(volunteer.locale)
        referral = (
            await self.services.referrals.get(volunteer.current_referral)
            if volunteer.current_referral
            else None
        )
        if referral is None or not holds(volunteer.key, referral):
            if volunteer.current_referral is not None:
                # A target left over from a request no longer held must never
                # come back to life if the request returns to this volunteer.
                await self.services.staff.leave_target(volunteer.key, keep="")
            return staff_texts.no_conversation(tr)
        chat = await self.services.referrals.member_chat(referral)
        if chat is None:
            return staff_texts.no_conversation(tr)
        try:
            copied = await self._copy(chat, message, kind)
        except Forbidden:
            return staff_texts.member_unreachable(tr, reference(referral.id))
        except TelegramError as error:
            log.info("a relayed message did not reach a member: %s", type(error).__name__)
            return staff_texts.not_delivered(tr)
        now = self.services.clock()
        # The volunteer's own words stay in their chat only while the request
        # lives (deletable for 48 hours only: the bot cannot edit them).
        await self._remember(
            referral.id,
            [
                *copies_at(volunteer.key, [message.message_id], "own", min(now, message.date)),
                *copies_at(None, [copied], _copy_kind(kind), now),
            ],
            chat,
        )
        try:
            await self.services.members.remember(referral.member_key, [copied])
        except StorageError:
            # The member wiped while this was on its way; nothing to remember.
            log.info("a relayed message arrived after the member's wipe")
        await self.services.referrals.relayed(
            referral.id, actor=volunteer.label, today=self.services.clock().date()
        )
        return None

    async def tell_staff(
        self,
        member: StaffMember,
        text: Callable[[Translator], str],
        markup: InlineKeyboardMarkup | None = None,
        chat_id: int | None = None,
    ) -> Message | None:
        tr = self.tr(member.locale)
        try:
            chat = chat_id if chat_id is not None else await self.services.staff.chat_id(member)
        except StorageError:
            return None  # removed meanwhile
        try:
            return await self.bot.send_message(
                chat, tr.finish(text(tr)), reply_markup=markup, protect_content=True
            )
        except TelegramError as error:
            log.info("a volunteer or coordinator could not be reached: %s", type(error).__name__)
            return None

    def notice_text(self, tr: Translator, referral: Referral, lead: str | None) -> str:
        locale = tr.locale
        days = (self.services.clock().date() - referral.created_day).days
        text = staff_texts.notice(
            tr,
            reference(referral.id),
            label(Field.TOPIC, referral.topic, tr, locale),
            LANGUAGE_NAMES.get(referral.language, referral.language),
            label(Field.URGENCY, referral.urgency, tr, locale),
            staff_texts.age(tr, days),
        )
        # No country here: every volunteer of the language sees a notice, and in
        # a small community topic, urgency and country can point at a person.
        return f"{lead}\n{text}" if lead else text

    @sending.at_referral_urgency
    async def announce(
        self,
        referral: Referral,
        recipients: Sequence[StaffMember],
        lead: Callable[[Translator], str] | None = None,
    ) -> int:
        """Send the generic notice with a Claim button; returns how many were sent."""
        sent = 0
        for member in recipients:
            tr = self.tr(member.locale)
            markup = InlineKeyboardMarkup(
                [[button(staff_texts.claim_label(tr), Claim(referral.id))]]
            )
            message = await self.tell_staff(
                member,
                lambda tr: self.notice_text(tr, referral, lead(tr) if lead else None),
                markup,
            )
            if message is not None:
                await self.services.referrals.add_notice(
                    referral.id, member.key, message.message_id
                )
                sent += 1
        return sent

    async def retire_notices(self, referral: Referral) -> None:
        """Every notice about the referral loses its button and says it is taken."""
        await self._retire(referral, await self.services.referrals.take_notices(referral.id))

    async def _retire(self, referral: Referral, notices: Sequence[tuple[bytes, int]]) -> None:
        from bot import digest  # it builds on this module

        for staff_key, message_id in notices:
            member = await self.services.staff.get(staff_key)
            if member is None or await digest.redraw_shared(self, member, message_id):
                continue
            tr = self.tr(member.locale)
            try:
                await self.bot.edit_message_text(
                    tr.finish(staff_texts.taken(tr, reference(referral.id))),
                    chat_id=await self.services.staff.chat_id(member),
                    message_id=message_id,
                )
            except (TelegramError, StorageError):
                log.debug("a notice could not be updated")

    async def delete_notices(self, notices: Sequence[tuple[bytes, int]]) -> None:
        """Delete notices; a digest that still lists other open requests is redrawn instead."""
        from bot import digest  # it builds on this module

        for staff_key, message_id in notices:
            member = await self.services.staff.get(staff_key)
            if member is None or await digest.redraw_shared(self, member, message_id):
                continue
            try:
                await self.bot.delete_message(await self.services.staff.chat_id(member), message_id)
            except (TelegramError, StorageError):
                log.debug("a notice could not be deleted")

    async def requeue(self, referral_ids: Sequence[str], cleared: Set[str] = frozenset()) -> None:
        """Referrals back in the queue: announce them again and tell their members.

        ``cleared`` names those whose member's chat just lost the relayed copies.
        """
        for referral_id in referral_ids:
            referral = await self.services.referrals.get(referral_id)
            if referral is None or status_of(referral) is not Status.OPEN:
                continue
            await self.announce(referral, await self.services.staff.to_notify(referral.language))
            await self.tell_member(referral, referral_texts.released)
            if referral_id in cleared:
                await self.tell_member(referral, referral_texts.copies_removed)

    # Scheduled -------------------------------------------------------------

    async def renotify_urgent(self) -> int:
        """Announce unclaimed urgent referrals again until claimed, and escalate.

        Each round replaces the previous notices instead of adding to them, so
        a volunteer's chat holds one notice per request however long it waits,
        and gives each account at most one message: see :mod:`bot.digest`.
        """
        from bot import digest  # it builds on this module

        return await digest.renotify(self)

    async def expire_and_purge(self) -> tuple[int, int]:
        settings = self.services.settings
        today = self.services.clock().date()
        expired = await self.services.referrals.expire_unclaimed(
            before=today - timedelta(days=settings.referral_expiry_days), today=today
        )
        for gone in expired:
            await self.delete_notices(gone.notices)
            try:
                await self.tell_member(gone.referral, referral_texts.expired, gone.member_chat)
            except (TelegramError, StorageError) as error:
                # The request is erased either way; one failure must not stop the rest.
                log.info("a member was not told of an expiry: %s", type(error).__name__)
        purged = await self.services.referrals.purge_closed(
            before=today - timedelta(days=settings.retention_days)
        )
        await self.services.referrals.forget_request_counts(before=today)
        await self.services.referrals.forget_claims(before=claims_counted_from(today))
        await self.services.staff.drop_expired_invites(now=self._timestamp())
        return len(expired), purged
