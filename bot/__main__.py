"""``python -m bot``: run the bot; ``try``: walk the flows in a terminal; ``admin``: manage;
``content``: export, import and list the live content."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from telegram.error import TelegramError

from bot import content_cli
from bot.errors import SettingsError
from bot.logs import RedactingFilter, configure_logging
from bot.settings import Settings, load_settings
from flows.errors import FlowError
from flows.registry import LOCALES
from storage.errors import StorageError

log = logging.getLogger("bot")

WEBHOOK_PATH = "telegram"


def _run(settings: Settings) -> int:
    from bot.application import ALLOWED_UPDATES, build_application

    settings.require_token()  # before anything starts, so the error is the only output
    configure_logging(settings.log_level, _secrets(settings))
    application = build_application(settings)

    def reload_flows(signum: int, frame: object) -> None:
        services = application.bot_data.services
        if services is None:
            return
        try:
            services.content.reload()
        except FlowError as exc:
            log.error("flow reload refused, still serving the old set: %s", exc)
        except Exception as exc:  # a signal handler must not raise into the running loop
            log.error("flow reload failed, still serving the old set: %s", type(exc).__name__)

    # SIGHUP re-reads flows and catalogs; a bad set is refused and changes nothing.
    signal.signal(signal.SIGHUP, reload_flows)
    if settings.webhook_url is not None:
        log.info("starting in webhook mode")
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=WEBHOOK_PATH,
            secret_token=settings.webhook_secret,
            webhook_url=settings.webhook_url.rstrip("/") + "/" + WEBHOOK_PATH,
            allowed_updates=list(ALLOWED_UPDATES),
        )
    else:
        log.info("starting with long polling")
        application.run_polling(allowed_updates=list(ALLOWED_UPDATES))
    log.info("stopped")
    return 0


def _try(settings: Settings, locale: str | None) -> int:
    from bot.terminal import walk

    configure_logging("WARNING", _secrets(settings))
    asyncio.run(walk(settings, locale, input, sys.stdout))
    return 0


def _secrets(settings: Settings | None) -> list[str]:
    if settings is None:
        return []
    return [settings.bot_token or "", settings.webhook_secret or "", settings.root_key or ""]


def _admin(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot import admin

    configure_logging("WARNING", _secrets(settings))
    if args.admin_command == "add-coordinator":
        added = asyncio.run(
            admin.add_coordinator(
                settings, args.telegram_user_id, args.locale, datetime.now(UTC).date()
            )
        )
        print(
            f"coordinator {added.label} added. They can now open the bot and send /volunteers "
            "or /invite volunteer."
        )
        return 0
    if args.admin_command == "list":
        for line in asyncio.run(admin.roster(settings)):
            print(line)
        return 0
    if args.admin_command in ("suspend", "reinstate", "remove"):
        managed = asyncio.run(
            admin.manage(settings, args.label, args.admin_command, datetime.now(UTC).date())
        )
        if managed is None:
            print(f"yardem: no account has the label {args.label!r}", file=sys.stderr)
            return 1
        print(
            f"{args.admin_command}: {managed.label} done; {managed.returned} request(s) back in "
            "the queue, announced by the running bot within a minute."
        )
        return 0
    report = asyncio.run(admin.verify_audit(settings))
    if report.intact:
        # Cutting rows off the end leaves a shorter chain that still verifies:
        # compare the head with one recorded earlier, away from this server.
        print(f"audit log intact: {report.entries} entries, head {report.head}")
        return 0
    print(f"audit log BROKEN at entry {report.first_broken} of {report.entries}", file=sys.stderr)
    return 1


def _user_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**53:
        raise argparse.ArgumentTypeError("a Telegram user id is a positive whole number")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    walker = commands.add_parser("try", help="walk the flows in this terminal, without Telegram")
    walker.add_argument("--locale", choices=LOCALES, help="language to walk in")
    admin_parser = commands.add_parser("admin", help="server-side administration")
    admin_commands = admin_parser.add_subparsers(dest="admin_command", required=True)
    add = admin_commands.add_parser(
        "add-coordinator", help="make a Telegram account a coordinator (the first one, say)"
    )
    add.add_argument("telegram_user_id", type=_user_id, help="the account's numeric user id")
    add.add_argument("--locale", choices=LOCALES, default="en", help="language of its messages")
    for name, what in (
        ("suspend", "pause an account (any role); its requests go back to the queue"),
        ("reinstate", "undo a suspension"),
        ("remove", "delete an account (any role) at once; its requests go back to the queue"),
    ):
        managing = admin_commands.add_parser(name, help=what)
        managing.add_argument("label", help="the account's label, as /volunteers shows it")
    admin_commands.add_parser("list", help="every volunteer and coordinator by label")
    admin_commands.add_parser("verify-audit", help="check the audit log's hash chain")
    content_cli.add_parser(commands)
    args = parser.parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings(os.environ)
        if args.command == "try":
            return _try(settings, args.locale)
        if args.command == "admin":
            return _admin(settings, args)
        if args.command == "content":
            configure_logging("WARNING", _secrets(settings))
            return content_cli.run(settings, args)
        return _run(settings)
    except SettingsError as exc:
        print(f"yardem: {exc}", file=sys.stderr)
        return 2
    except (FlowError, StorageError) as exc:
        print(f"yardem: cannot start: {exc}", file=sys.stderr)
        return 1
    except (TelegramError, OSError, UnicodeError) as exc:
        # One line, never a traceback: PTB's InvalidToken message quotes the token.
        detail = RedactingFilter(_secrets(settings)).redact(str(exc))
        print(f"yardem: cannot start: {type(exc).__name__}: {detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
