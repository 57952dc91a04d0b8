"""``python -m bot``: run the bot; ``init``: first run; ``try``: walk the flows in a terminal;
``health``: is it alive; ``admin``: manage; ``content``: export, import and list the live
content."""

from __future__ import annotations

import sys

from bot.environment import missing_dependency

# Outside the virtual environment the imports below would end in a traceback:
# say how to run it instead. (E402 for this module is allowed in pyproject.toml.)
if (_missing := missing_dependency()) is not None:
    print(_missing, file=sys.stderr)
    sys.exit(2)

import argparse
import asyncio
import getpass
import logging
import os
import signal
import time
from pathlib import Path

from telegram.error import TelegramError

from bot import content_cli
from bot.errors import BotError, SettingsError
from bot.logs import RedactingFilter, configure_logging
from bot.settings import Settings, load_settings
from flows.errors import FlowError
from flows.registry import LOCALES
from storage.errors import StorageError

log = logging.getLogger("bot")


def _run(settings: Settings) -> int:
    from bot.application import ALLOWED_UPDATES, build_application, file_url
    from bot.installation import Purpose, prepare, running_lock
    from bot.reachability import reach_bot_api
    from bot.webhook import run_webhook

    settings.require_token()  # before anything starts, so the error is the only output
    configure_logging(settings.log_level, _secrets(settings))
    # Refuse a wrong DATA_DIR, key or missing volume before touching the network.
    prepare(settings, Purpose.BOT)
    asyncio.run(reach_bot_api(settings, file_url(settings.bot_api_url)))
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
    with running_lock(settings):
        if settings.webhook_url is not None:
            log.info("starting in webhook mode")
            run_webhook(application, settings)
        else:
            log.info("starting with long polling")
            application.run_polling(allowed_updates=list(ALLOWED_UPDATES))
    log.info("stopped")
    return 0


def _init(settings: Settings) -> int:
    from bot.installation import Purpose, database_present
    from bot.services import open_storage

    configure_logging("WARNING", _secrets(settings))
    existed = database_present(settings)

    async def create() -> None:
        storage = await open_storage(settings, Purpose.INIT)
        await storage.database.close()

    asyncio.run(create())
    if existed:
        print(f"DATA_DIR={settings.data_dir} already holds a database for this key; nothing to do")
    else:
        where = "ROOT_KEY" if settings.root_key else str(settings.key_file)
        print(
            f"created a new database in DATA_DIR={settings.data_dir}, for the root key in "
            f"{where}. Back the key up offline: a backup of DATA_DIR does not contain it."
        )
    return 0


def _try(settings: Settings, locale: str | None) -> int:
    from bot.terminal import walk_in_scratch

    configure_logging("WARNING", _secrets(settings))
    print(
        "(a practice walk: it keeps nothing, and never touches DATA_DIR)",
        file=sys.stderr,
    )
    asyncio.run(walk_in_scratch(settings, locale, input, sys.stdout))
    return 0


def _health(settings: Settings, max_age: int) -> int:
    from bot.health import check

    health = check(settings, time.time(), max_age)
    if health.healthy:
        print("healthy: " + "; ".join(health.details))
        return 0
    print("unhealthy: " + "; ".join(health.problems), file=sys.stderr)
    return 1


def _secrets(settings: Settings | None) -> list[str]:
    if settings is None:
        return []
    return [settings.bot_token or "", settings.webhook_secret or "", settings.root_key or ""]


def _read_user_id() -> int:
    """The coordinator's id from standard input: not in the process list or shell history."""
    if sys.stdin.isatty():
        text = getpass.getpass("Telegram user id (not shown): ")
    else:
        text = sys.stdin.readline()
    try:
        return _user_id(text.strip())
    except argparse.ArgumentTypeError as error:
        raise SettingsError(f"standard input: {error}") from None


def _admin(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot import admin

    configure_logging("WARNING", _secrets(settings))
    today = datetime.now(UTC).date()
    command = args.admin_command
    if command == "add-coordinator":
        if (args.telegram_user_id is None) == (not args.id_from_stdin):
            raise SettingsError("give the user id, or --id-from-stdin, but not both")
        user_id = _read_user_id() if args.id_from_stdin else args.telegram_user_id
        added = asyncio.run(admin.add_coordinator(settings, user_id, args.locale, today))
        print(
            f"coordinator {added.label} added. They can now open the bot and send /volunteers "
            "or /invite volunteer."
        )
        return 0
    if command == "list":
        lines = asyncio.run(admin.roster(settings))
        failing = asyncio.run(admin.failing_accounts(settings))
        if not lines and not failing:
            print(
                "no volunteers or coordinators yet: add the first coordinator with "
                "'python -m bot admin add-coordinator --id-from-stdin'"
            )
        for line in lines:
            print(line)
        if failing:
            # Not "none yet": the operator must look before adding anyone again.
            print(
                f"{failing} account(s) not listed: they fail their integrity check (edited "
                "outside the bot, or from before rows were sealed); see "
                "'python -m bot admin seal-rows'"
            )
        return 0
    if command in ("suspend", "reinstate", "remove"):
        managed = asyncio.run(admin.manage(settings, args.label, command, today))
        if managed is None:
            print(f"yardem: no account has the label {args.label!r}", file=sys.stderr)
            return 1
        if command == "reinstate":
            print(f"reinstate: {managed.label} is active again.")
        else:
            print(
                f"{command}: {managed.label} done; {managed.returned} request(s) back in the "
                "queue, announced by the running bot within a minute."
            )
        return 0
    if command == "backup":
        info = asyncio.run(admin.backup(settings, args.file))
        print(
            f"backup written to {args.file} ({info.size} bytes, readable by you only). It does "
            "NOT contain the root key: keep the key backed up separately, never beside it."
        )
        return 0
    if command == "restore":
        asyncio.run(admin.restore(settings, args.file, replace=args.replace))
        print(f"restored {args.file} into DATA_DIR={settings.data_dir}; start the bot again.")
        return 0
    if command == "move-key":
        moved = asyncio.run(admin.move_key(settings, args.destination))
        print(f"moved the root key from {moved.source} to {moved.destination}.")
        if not moved.is_default:
            print(f"Set ROOT_KEY_FILE={moved.destination} for the bot and the admin commands.")
        print(
            "Backups and snapshots of DATA_DIR made before now still hold the old key file: "
            "treat them as holding the key, or rotate it."
        )
        return 0
    if command == "seal-rows":
        lines, sealed = asyncio.run(admin.seal_rows(settings, confirm=args.yes))
        for line in lines:
            print(line)
        if not lines:
            print("every account, request and invite is sealed")
        elif args.yes:
            print(f"sealed {sealed} row(s)")
        else:
            print("check these, remove what looks wrong, then run again with --yes to seal them")
        return 0
    if command == "rotate-key":
        from bot import key_rotation

        options = key_rotation.Options(
            key_out=args.key_out,
            batch=args.batch,
            wait=args.wait,
            drop_unreadable=args.drop_unreadable,
        )
        if args.finish:
            asyncio.run(key_rotation.finish(settings, options, today, print))
        else:
            asyncio.run(key_rotation.rotate(settings, options, _progress_line))
        return 0
    report = asyncio.run(admin.verify_audit(settings))
    if report.intact:
        # Cutting rows off the end leaves a shorter chain that still verifies:
        # compare the head with one recorded earlier, away from this server.
        compacted = (
            f" (entries up to {report.compacted_through} compacted into a checkpoint)"
            if report.compacted_through
            else ""
        )
        print(f"audit log intact: {report.entries} entries, head {report.head}{compacted}")
        return 0
    print(f"audit log BROKEN at entry {report.first_broken} of {report.entries}", file=sys.stderr)
    return 1


def _progress_line(line: str) -> None:
    # Flushed at once: an operator (or a test) watches a long run advance.
    print(line, flush=True)


def _positive(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("a positive whole number is needed")
    return int(text)


def _user_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**53:
        raise argparse.ArgumentTypeError("a Telegram user id is a positive whole number")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "init", help="first run with a key you provisioned: create the database in DATA_DIR"
    )
    walker = commands.add_parser("try", help="walk the flows in this terminal, without Telegram")
    walker.add_argument("--locale", choices=LOCALES, help="language to walk in")
    health = commands.add_parser(
        "health", help="exit 0 if the database is readable and the Bot API was reached recently"
    )
    health.add_argument(
        "--max-age", type=int, default=180, help="seconds since the last Bot API call (180)"
    )
    admin_parser = commands.add_parser("admin", help="server-side administration")
    admin_commands = admin_parser.add_subparsers(dest="admin_command", required=True)
    add = admin_commands.add_parser(
        "add-coordinator", help="make a Telegram account a coordinator (the first one, say)"
    )
    add.add_argument(
        "telegram_user_id", type=_user_id, nargs="?", help="the account's numeric user id"
    )
    add.add_argument(
        "--id-from-stdin",
        action="store_true",
        help="read the id from standard input, keeping it out of the process list and history",
    )
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
    sealer = admin_commands.add_parser(
        "seal-rows", help="show accounts, requests and invites from before sealing; --yes seals"
    )
    sealer.add_argument("--yes", action="store_true", help="seal the rows shown")
    backup = admin_commands.add_parser(
        "backup", help="copy the database to FILE, safely while the bot runs (not the key)"
    )
    backup.add_argument("file", type=Path, help="a new file to write")
    restore = admin_commands.add_parser(
        "restore", help="put a backup in place of the database (the bot must be stopped)"
    )
    restore.add_argument("file", type=Path, help="a file made by 'admin backup'")
    restore.add_argument(
        "--replace", action="store_true", help="overwrite the database DATA_DIR already holds"
    )
    move = admin_commands.add_parser(
        "move-key", help="move the root key file out of DATA_DIR (to the config folder by default)"
    )
    move.add_argument("destination", type=Path, nargs="?", help="where to put it")
    rotate = admin_commands.add_parser(
        "rotate-key",
        help="add a new root key and re-encrypt everything under it while the bot runs; "
        "--finish (bot stopped) re-keys pseudonyms, MACs and the audit log and removes the old key",
    )
    rotate.add_argument("--finish", action="store_true", help="the last step, with the bot stopped")
    rotate.add_argument(
        "--drop-unreadable",
        action="store_true",
        help="with --finish: clear fields that open with no key (edited outside the bot)",
    )
    rotate.add_argument(
        "--key-out",
        type=Path,
        help="write the new key set to this new file, not the key file (needed with ROOT_KEY)",
    )
    rotate.add_argument(
        "--batch", type=_positive, default=200, help="rows re-encrypted per transaction (200)"
    )
    rotate.add_argument(
        "--wait",
        type=_positive,
        default=60,
        help="seconds to wait for the running bot to take on the new key (60)",
    )
    content_cli.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings(os.environ)
        if args.command == "init":
            return _init(settings)
        if args.command == "try":
            return _try(settings, args.locale)
        if args.command == "health":
            return _health(settings, args.max_age)
        if args.command == "admin":
            return _admin(settings, args)
        if args.command == "content":
            configure_logging("WARNING", _secrets(settings))
            return content_cli.run(settings, args)
        return _run(settings)
    except SettingsError as exc:
        print(f"yardem: {exc}", file=sys.stderr)
        return 2
    except BotError as exc:
        print(f"yardem: {exc}", file=sys.stderr)
        return 1
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
