"""The referral desk: files requests, notifies volunteers, relays messages.

Everything here that reaches a person goes through Telegram; the decisions
about who may do what are made by the callers (member and staff handlers),
which check the actor's role and hold before calling in. Relayed messages
are copied with copyMessage, never forwarded, so neither side sees the other's
account; the bot records that a message was relayed, never what it said.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, TelegramError

from bot import referral_texts, staff_texts
from bot.callbacks import StaffAction, encode
from bot.i18n import LANGUAGE_NAMES, Translator
from bot.referral_choices import ReferralRequest, label
from bot.services import Services
from bot.telegram_io import delete_messages
from storage.errors import StorageError
from storage.referrals import Escalated, Held, Referral, Refused, Withdrawn
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


def reference(referral_id: str) -> str:
    return f"#{referral_id}"


def button(label_text: str, action: StaffAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(label_text, callback_data=encode(action, ""))


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
        referral = escalated.referral
        # The old notices show the old urgency; the new ones replace them.
        await self.delete_notices(escalated.notices)
        if referral.status == "open":
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

    async def withdraw(self, member_key: bytes, action: str) -> Withdrawn | None:
        """The member cancels or wipes: the referral is erased at once.

        Only the database is touched here, so nothing Telegram does can stop a
        wipe; call :meth:`farewell` afterwards to tidy the volunteers' chats.
        """
        now = self.services.clock()
        return await self.services.referrals.withdraw(
            member_key, today=now.date(), action=action, now=now
        )

    async def farewell(self, withdrawn: Withdrawn) -> None:
        """After a withdrawal: retire its notices and tell whoever held it."""
        await self._retire(withdrawn.referral, withdrawn.notices)
        await self._delete_in_staff_chats(withdrawn.staff_messages)
        holder = withdrawn.referral.volunteer
        volunteer = await self.services.staff.get(holder) if holder else None
        if volunteer is None:
            return
        rid = withdrawn.referral.id
        await self.tell_staff(volunteer, lambda tr: staff_texts.member_left(tr, reference(rid)))
        if volunteer.current_referral == rid:
            await self.services.staff.set_current(volunteer.key, None)

    async def relay_from_member(self, referral: Referral, message: Message) -> bool:
        if referral.volunteer is None:
            return False
        volunteer = await self.services.staff.get(referral.volunteer)
        if volunteer is None or not volunteer.active:
            return False
        tr = self.tr(volunteer.locale)
        shown: list[int] = []
        try:
            chat = await self.services.staff.chat_id(volunteer)
            if volunteer.current_referral != referral.id:
                # A reply must never reach the wrong member: until the volunteer
                # says whom they answer, their messages go to no one.
                await self.services.staff.set_current(volunteer.key, None)
                markup = InlineKeyboardMarkup(
                    [[button(staff_texts.reply_label(tr), StaffAction("t", (referral.id,)))]]
                )
                header = await self.bot.send_message(
                    chat,
                    tr.finish(staff_texts.relay_header(tr, reference(referral.id))),
                    reply_markup=markup,
                    protect_content=True,
                )
                shown.append(header.message_id)
            copied = await self.bot.copy_message(
                chat,
                from_chat_id=message.chat_id,
                message_id=message.message_id,
                protect_content=True,
            )
            shown.append(copied.message_id)
        except Forbidden:
            # The volunteer blocked the bot: the member must not wait on them.
            log.info("a volunteer has blocked the bot; their request goes back to the queue")
            await self._hand_back(referral, volunteer)
            return False
        except (TelegramError, StorageError) as error:
            log.info("a relayed message did not reach a volunteer: %s", type(error).__name__)
            return False
        finally:
            await self._remember_in_staff_chat(referral.id, volunteer.key, shown)
        await self.services.referrals.relayed(
            referral.id, actor="member", today=self.services.clock().date()
        )
        return True

    async def _remember_in_staff_chat(
        self, referral_id: str, staff_key: bytes, message_ids: list[int]
    ) -> None:
        if message_ids:
            await self.services.referrals.remember_staff_messages(
                referral_id, staff_key, message_ids, now=self.services.clock()
            )

    async def clear_staff_chats(self, referral_id: str) -> None:
        """Delete what was relayed about a referral from volunteers' chats, while Telegram allows.

        Volunteers are diaspora too, and their phones get checked at borders:
        a member's words should not outlive the conversation there.
        """
        taken = await self.services.referrals.take_staff_messages(
            referral_id, now=self.services.clock()
        )
        await self._delete_in_staff_chats(taken)

    async def _delete_in_staff_chats(self, messages: Sequence[tuple[bytes, int]]) -> None:
        by_staff: dict[bytes, list[int]] = {}
        for staff_key, message_id in messages:
            by_staff.setdefault(staff_key, []).append(message_id)
        for staff_key, message_ids in by_staff.items():
            member = await self.services.staff.get(staff_key)
            if member is None:
                continue
            try:
                chat = await self.services.staff.chat_id(member)
            except StorageError:
                continue
            await delete_messages(self.bot, chat, message_ids)

    async def _hand_back(self, referral: Referral, volunteer: StaffMember) -> None:
        # requeue() announces it at once, so the next round is one interval away.
        released = await self.services.referrals.release(
            referral.id,
            volunteer.key,
            actor="system",
            today=self.services.clock().date(),
            next_round_at=self.next_round_at(),
        )
        if released is not None:
            await self.clear_staff_chats(released.id)
            await self.requeue([released.id])

    # Volunteers ------------------------------------------------------------

    async def relay_from_volunteer(self, volunteer: StaffMember, message: Message) -> str | None:
        """Copy the volunteer's message to their current member; the error to show, if any."""
        tr = self.tr(volunteer.locale)
        referral = (
            await self.services.referrals.get(volunteer.current_referral)
            if volunteer.current_referral
            else None
        )
        if (
            referral is None
            or referral.volunteer != volunteer.key
            or referral.status not in ("claimed", "handover")
        ):
            return staff_texts.no_conversation(tr)
        chat = await self.services.referrals.member_chat(referral)
        if chat is None:
            return staff_texts.no_conversation(tr)
        try:
            copied = await self.bot.copy_message(
                chat,
                from_chat_id=message.chat_id,
                message_id=message.message_id,
                protect_content=True,
            )
        except Forbidden:
            return staff_texts.member_unreachable(tr, reference(referral.id))
        except TelegramError as error:
            log.info("a relayed message did not reach a member: %s", type(error).__name__)
            return staff_texts.not_delivered(tr)
        # The volunteer's own words stay in their chat only while the request lives.
        await self._remember_in_staff_chat(referral.id, volunteer.key, [message.message_id])
        try:
            await self.services.members.remember(referral.member_key, [copied.message_id])
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
            label("t", referral.topic, tr, locale),
            LANGUAGE_NAMES.get(referral.language, referral.language),
            label("u", referral.urgency, tr, locale),
            staff_texts.age(tr, days),
        )
        # No country here: every volunteer of the language sees a notice, and in
        # a small community topic, urgency and country can point at a person.
        return f"{lead}\n{text}" if lead else text

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
                [[button(staff_texts.claim_label(tr), StaffAction("c", (referral.id,)))]]
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
        for staff_key, message_id in notices:
            member = await self.services.staff.get(staff_key)
            if member is None:
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
        for staff_key, message_id in notices:
            member = await self.services.staff.get(staff_key)
            if member is None:
                continue
            try:
                await self.bot.delete_message(await self.services.staff.chat_id(member), message_id)
            except (TelegramError, StorageError):
                log.debug("a notice could not be deleted")

    async def requeue(self, referral_ids: Sequence[str]) -> None:
        """Referrals back in the queue: announce them again and tell their members."""
        for referral_id in referral_ids:
            referral = await self.services.referrals.get(referral_id)
            if referral is None or referral.status != "open":
                continue
            await self.announce(referral, await self.services.staff.to_notify(referral.language))
            await self.tell_member(referral, referral_texts.released)

    # Scheduled -------------------------------------------------------------

    async def renotify_urgent(self) -> int:
        """Announce unclaimed urgent referrals again until claimed, and escalate.

        Each round replaces the previous notices instead of adding to them, so
        a volunteer's chat holds one notice per request however long it waits.
        """
        now = self._timestamp()
        rounds = 0
        for referral in await self.services.referrals.due_renotify(now=now):
            this_round = referral.notify_count + 1
            pause = RENOTIFY_EVERY if this_round < FAST_ROUNDS else SLOW_RENOTIFY_EVERY
            # A request handed back by the admin CLI (not urgent) is announced once.
            next_at = now + int(pause.total_seconds()) if referral.urgent else None
            if not await self.services.referrals.mark_notified(referral, now=now, next_at=next_at):
                continue  # another worker took this round
            rounds += 1
            await self.delete_notices(await self.services.referrals.take_notices(referral.id))
            everyone = await self.services.staff.to_notify(referral.language)
            volunteers = [m for m in everyone if not m.is_coordinator]
            coordinators = [m for m in everyone if m.is_coordinator]
            await self.announce(referral, volunteers, staff_texts.reminder)
            escalate = this_round >= ESCALATE_AFTER_ROUNDS
            await self.announce(
                referral, coordinators, staff_texts.escalation if escalate else staff_texts.reminder
            )
        return rounds

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
        await self.services.staff.drop_expired_invites(now=self._timestamp())
        return len(expired), purged
