"""Urgent requests announced again until claimed, bounded by total volume.

Each round (the job runs every minute) takes the urgent requests that are
due, and each volunteer or coordinator gets at most ONE message about them:
the usual notice when one request concerns them, else one digest that lists
them, those waiting longest first, with a Claim button each (at most
:data:`DIGEST_MAX`, within Telegram's limits). A round replaces the notices
of earlier rounds, digests included, so a chat holds one notice per request
however long it waits; when one request of a digest is taken, the digest is
redrawn without it.

After 24 hours of rounds unclaimed, a request is announced to coordinators
only. It is counted in rounds, so time the bot was down does not count:
volunteers will have been reminded for a full day. It also means a flood
of requests that nobody takes stops burying the volunteers' chats.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from bot import limit_texts, sending, staff_texts
from bot.callbacks import Claim
from bot.i18n import LANGUAGE_NAMES, Translator
from bot.referral_choices import label
from bot.referral_desk import (
    ESCALATE_AFTER_ROUNDS,
    FAST_ROUNDS,
    RENOTIFY_EVERY,
    SLOW_RENOTIFY_EVERY,
    Desk,
    button,
    reference,
)
from bot.referral_terms import Field, Status, status_of
from bot.screens import MAX_MESSAGE_CHARS, telegram_length
from bot.staff_decisions import may_serve
from storage.errors import StorageError
from storage.referrals import Referral
from storage.staff import StaffMember

log = logging.getLogger(__name__)

DIGEST_MAX = 20
"""Requests one digest lists with a Claim button: a screenful, and far inside
Telegram's 100 buttons and 4096 characters."""
COORDINATORS_ONLY_AFTER = timedelta(hours=24)


def round_at(span: timedelta) -> int:
    """The number of the first round at least ``span`` after a request was announced."""
    fast = FAST_ROUNDS * RENOTIFY_EVERY
    if span <= fast:
        return max(1, math.ceil(span / RENOTIFY_EVERY))
    return FAST_ROUNDS + math.ceil((span - fast) / SLOW_RENOTIFY_EVERY)


COORDINATORS_ONLY_ROUND = round_at(COORDINATORS_ONLY_AFTER)
"""From this round on, only coordinators are reminded of a request (53: a day)."""


@dataclass(frozen=True)
class Item:
    referral: Referral
    round: int
    """The round the request is in: how long it has waited, in rounds."""


def _for(member: StaffMember, item: Item) -> bool:
    late = item.round >= COORDINATORS_ONLY_ROUND
    return may_serve(member, item.referral.language) and (member.is_coordinator or not late)


def _lead(member: StaffMember, item: Item, tr: Translator) -> str:
    """What heads a single reminder: coordinators learn how long nobody has claimed it."""
    if not member.is_coordinator:
        return staff_texts.reminder(tr)
    if item.round >= COORDINATORS_ONLY_ROUND:
        return limit_texts.coordinators_only(tr)
    if item.round >= ESCALATE_AFTER_ROUNDS:
        return staff_texts.escalation(tr)
    return staff_texts.reminder(tr)


def _pause(this_round: int) -> timedelta:
    return RENOTIFY_EVERY if this_round < FAST_ROUNDS else SLOW_RENOTIFY_EVERY


async def renotify(desk: Desk) -> int:
    """One round: re-announce every urgent request due now; returns how many were."""
    services = desk.services
    now = int(services.clock().timestamp())
    due: list[Item] = []
    for referral in await services.referrals.due_renotify(now=now):
        this_round = referral.notify_count + 1
        # A request handed back by the admin CLI (not urgent) is announced once.
        next_at = now + int(_pause(this_round).total_seconds()) if referral.urgent else None
        if not await services.referrals.mark_notified(referral, now=now, next_at=next_at):
            continue  # another worker took this round
        due.append(Item(referral, this_round))
    if not due:
        return 0
    # The rounds are for urgent requests: their notices and digests go ahead of
    # every other bulk send, as a first announcement does (Desk.announce).
    urgent = any(item.referral.urgent for item in due)
    with sending.urgent() if urgent else contextlib.nullcontext():
        await _announce_round(desk, due)
    return len(due)


async def _announce_round(desk: Desk, due: Sequence[Item]) -> None:
    services = desk.services
    due_ids = {item.referral.id for item in due}
    old = await services.notices.take_with_companions(sorted(due_ids))
    # A digest of an earlier round may also list requests not due now; it is
    # deleted with the rest, so they are listed again in this round's message.
    carried: dict[bytes, set[str]] = {}
    doomed: dict[bytes, set[int]] = {}
    for referral_id, staff_key, message_id in old:
        doomed.setdefault(staff_key, set()).add(message_id)
        if referral_id not in due_ids:
            carried.setdefault(staff_key, set()).add(referral_id)
    await desk.delete_notices([(key, m) for key, ids in doomed.items() for m in sorted(ids)])
    companions: dict[str, Item] = {}
    for referral_id in set().union(*carried.values()) if carried else set():
        found = await services.referrals.get(referral_id)
        if found is not None and status_of(found) is Status.OPEN:
            companions[referral_id] = Item(found, found.notify_count)
    for member in await services.staff.everyone():
        if not member.active:
            continue
        mine = [item for item in due if _for(member, item)]
        mine += [
            companions[rid]
            for rid in sorted(carried.get(member.key, ()))
            if rid in companions and _for(member, companions[rid])
        ]
        if len(mine) == 1:
            await desk.announce(mine[0].referral, [member], partial(_lead, member, mine[0]))
        elif mine:
            await _send_digest(desk, member, mine)


def _ordered(items: Sequence[Item]) -> list[Item]:
    # Waited longest first: a request filed before a flood is not buried by it.
    return sorted(items, key=lambda i: (-i.round, i.referral.created_day, i.referral.id))


def digest_view(
    desk: Desk, tr: Translator, member: StaffMember, items: Sequence[Item]
) -> tuple[str, InlineKeyboardMarkup, list[Item]]:
    """The digest's text and buttons, and the items it shows (some may not fit)."""
    ordered = _ordered(items)
    heading = limit_texts.digest_heading(tr, len(ordered))
    # Room for the "and N more" line, whatever N turns out to be.
    budget = MAX_MESSAGE_CHARS - telegram_length(limit_texts.digest_more(tr, len(ordered))) - 2
    lines = [heading]
    shown: list[Item] = []
    today = desk.services.clock().date()
    for item in ordered[:DIGEST_MAX]:
        referral = item.referral
        line = "• " + limit_texts.digest_item(
            tr,
            reference(referral.id),
            label(Field.TOPIC, referral.topic, tr, tr.locale),
            LANGUAGE_NAMES.get(referral.language, referral.language),
            label(Field.URGENCY, referral.urgency, tr, tr.locale),
            staff_texts.age(tr, (today - referral.created_day).days),
        )
        if member.is_coordinator and item.round >= COORDINATORS_ONLY_ROUND:
            line += " " + limit_texts.digest_coordinators_only(tr)
        if telegram_length(tr.finish("\n".join([*lines, line]))) > budget:
            break
        lines.append(line)
        shown.append(item)
    hidden = len(ordered) - len(shown)
    if hidden:
        lines.append(limit_texts.digest_more(tr, hidden))
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    limit_texts.digest_claim_label(tr, reference(item.referral.id)),
                    Claim(item.referral.id),
                )
            ]
            for item in shown
        ]
    )
    return "\n".join(lines), markup, shown


async def _send_digest(desk: Desk, member: StaffMember, items: Sequence[Item]) -> None:
    tr = desk.tr(member.locale)
    text, markup, shown = digest_view(desk, tr, member, items)
    message = await desk.tell_staff(member, lambda _: text, markup)
    if message is None:
        return
    for item in shown:
        await desk.services.referrals.add_notice(item.referral.id, member.key, message.message_id)


async def redraw_shared(desk: Desk, member: StaffMember, message_id: int) -> bool:
    """If the message is a digest still listing open requests, redraw it with those only.

    Returns False when nothing else is listed there: the caller retires it as
    a single notice.
    """
    services = desk.services
    items: list[Item] = []
    for referral_id in await services.notices.sharing(member.key, message_id):
        found = await services.referrals.get(referral_id)
        if found is not None and status_of(found) is Status.OPEN:
            items.append(Item(found, found.notify_count))
    if not items:
        return False
    tr = desk.tr(member.locale)
    text, markup, _ = digest_view(desk, tr, member, items)
    try:
        await desk.bot.edit_message_text(
            tr.finish(text),
            chat_id=await services.staff.chat_id(member),
            message_id=message_id,
            reply_markup=markup,
        )
    except (TelegramError, StorageError):
        log.debug("a digest could not be redrawn")
    return True
