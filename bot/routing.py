"""Which handler answers which update: the one place that routes.

Groups run in order, one handler each:

- ``FLOOD_GROUP``: the flood guard, before anything touches the database.
- ``ACTOR_GROUP``: who sent the update (:mod:`bot.actors`), resolved once and
  carried in ``context.actor``.
- the default group: commands, buttons and messages, sent to the member side
  (:mod:`bot.member_handlers`), the staff side (:mod:`bot.staff_handlers`) or
  a coordinator's panel (:mod:`bot.desk`, :mod:`bot.locale_switch`) by the actor.
  The member and staff sides never import each other; this module joins them.

A staff command from anyone but an active staff account is answered as a
member's stray message would be, so the bot does not reveal that staff
commands exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import desk, flood, locale_switch, member_handlers, staff_handlers
from bot.actors import Staff, identify
from bot.callbacks import STAFF_PREFIX
from bot.context import YardemApplication, YardemContext

CommandRoute = Callable[[Update, YardemContext, str], Awaitable[None]]
FLOOD_GROUP = -2
ACTOR_GROUP = -1

_PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
"""Only new messages: an edited command is not a command (on_message ignores it)."""


async def resolve_actor(update: Update, context: YardemContext) -> None:
    context.actor = await identify(update, context.services)


async def on_member_command(update: Update, context: YardemContext, name: str) -> None:
    args = context.args or []
    # An invite link opens as /start <code>; anything else is a member's /start.
    invite = args[0] if name == "start" and len(args) == 1 else None
    if invite is not None and await staff_handlers.redeem_invite(update, context, invite):
        return
    await member_handlers.on_command(update, context, name)


async def on_staff_command(update: Update, context: YardemContext, name: str) -> None:
    actor = context.actor
    if isinstance(actor, Staff):
        await staff_handlers.on_command(update, context, name, actor.account)
    else:
        await member_handlers.on_message(update, context)


async def on_message(update: Update, context: YardemContext) -> None:
    """A volunteer's message goes to the member they talk with; everyone else's
    to the member side (relayed to a volunteer, or answered by the conversation)."""
    actor = context.actor
    if update.edited_message is not None:
        await _on_edit(update, context)
        return
    message = update.effective_message
    if (
        isinstance(actor, Staff)
        and message is not None
        and not (message.text or "").startswith("/")
    ):
        account = actor.account
        if await flood.relay_allowed(
            context, "staff", account.key, message.chat_id, account.locale
        ):
            await staff_handlers.relay_from_staff(message, context, account)
        return
    await member_handlers.on_message(update, context)


async def _on_edit(update: Update, context: YardemContext) -> None:
    message = update.edited_message
    actor = context.actor
    if message is None or (message.text or "").startswith("/"):
        return
    if isinstance(actor, Staff):
        await staff_handlers.refuse_staff_edit(message, context, actor.account)
    else:
        await member_handlers.on_edit(update, context)


def _command(name: str, route: CommandRoute) -> CommandHandler[YardemContext, None]:
    async def handle(update: Update, context: YardemContext) -> None:
        await route(update, context, name)

    return CommandHandler(name, handle, filters=_PRIVATE_MESSAGE)


def register(application: YardemApplication) -> None:
    # ApplicationHandlerStop in an early group ends the update there.
    application.add_handler(TypeHandler(Update, flood.guard), group=FLOOD_GROUP)
    application.add_handler(TypeHandler(Update, resolve_actor), group=ACTOR_GROUP)
    for name in member_handlers.COMMANDS:
        application.add_handler(_command(name, on_member_command))
    for name in staff_handlers.COMMANDS:
        application.add_handler(_command(name, on_staff_command))
    # Coordinator panels before the staff buttons' handler, which takes every
    # other ``s|`` press; the desk also sees documents first and hands on any
    # that are not a coordinator's (a volunteer's file is a relay).
    desk.register(
        application,
        stray=member_handlers.on_message,
        message=on_message,
        button=staff_handlers.on_staff_button,
    )
    locale_switch.register(application, member_handlers.on_message)
    application.add_handler(
        CallbackQueryHandler(staff_handlers.on_staff_button, pattern=rf"^{STAFF_PREFIX}\|")
    )
    application.add_handler(CallbackQueryHandler(member_handlers.on_button))
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, on_message))
