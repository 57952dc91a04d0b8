"""The composition root: one function that wires a ready-to-run Application."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot import flood, heartbeat, jobs, routing, texts
from bot.context import BotData, YardemApplication, YardemContext
from bot.error_handler import on_error
from bot.members import Clock, utc_now
from bot.sending import SendingPolicy
from bot.services import open_services
from bot.settings import Settings
from bot.updates import PerChatUpdateProcessor

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
"""Edits are asked for only to tell the sender that the relay never passes them on."""

# Telegram's per-language command menus use two-letter codes, so the Chinese
# menu can only follow one script; Simplified is the more common default.
_COMMAND_LANGUAGES = {None: "en", "zh": "zh_Hans", "ug": "ug"}


def file_url(api_url: str) -> str:
    base = api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def build_application(settings: Settings, *, clock: Clock = utc_now) -> YardemApplication:
    token = settings.require_token()
    check = flood.FloodCheck()

    async def post_init(application: YardemApplication) -> None:
        services = await open_services(settings, clock)
        application.bot_data.services = services
        check.services = services
        heartbeat.started(settings.data_dir)
        await _publish_commands(application)
        log.info("ready: flows version %s", services.content.current.registry.version)

    async def post_shutdown(application: YardemApplication) -> None:
        services = application.bot_data.services
        if services is not None:
            await services.close()
            application.bot_data.services = None
            check.services = None

    context_types: ContextTypes[YardemContext, dict[Any, Any], dict[Any, Any], BotData] = (
        ContextTypes(context=YardemContext, bot_data=BotData)
    )
    application: YardemApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.bot_api_url)
        .base_file_url(file_url(settings.bot_api_url))
        .context_types(context_types)
        .concurrent_updates(PerChatUpdateProcessor(screen=check))
        .rate_limiter(SendingPolicy())
        .defaults(Defaults(protect_content=True))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    routing.register(application)
    application.add_error_handler(on_error)
    jobs.schedule(application)
    heartbeat.schedule(application)
    return application


async def _publish_commands(application: YardemApplication) -> None:
    services = application.bot_data.services
    if services is None:
        return
    translators = services.content.current.translators
    for language_code, locale in _COMMAND_LANGUAGES.items():
        tr = translators[locale]
        commands = [
            BotCommand("start", texts.command_start(tr)),
            BotCommand("menu", texts.command_menu(tr)),
            BotCommand("language", texts.command_language(tr)),
            BotCommand("wipe", texts.command_wipe(tr)),
            BotCommand("status", texts.command_status(tr)),
        ]
        await application.bot.set_my_commands(commands, language_code=language_code)
