"""Logging that cannot leak who uses the bot.

Update payloads, message text, ids and the token never belong in a log. The
handlers log only event names; this module adds a last line of defence that
redacts the token and long numbers (Telegram ids) from every record, and
keeps the HTTP client quiet because it logs request URLs, which hold the token.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping

_LONG_NUMBER = re.compile(r"(?<![\w.])-?\d{5,}(?!\w|\.\d)")
# httpx logs URLs holding the token; PTB's debug output and aiosqlite's echo
# statements with their parameters.
_NOISY = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "aiosqlite": logging.INFO,
    # apscheduler logs every job it adds: a wipe's timing to the second.
    "apscheduler": logging.WARNING,
}
_LIBRARIES = ("telegram", "tornado", "httpx", "httpcore", "aiosqlite", "apscheduler")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Renders each record once and removes secrets and ids from the result."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _LONG_NUMBER.sub("[number]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        library = record.name.startswith(_LIBRARIES)
        record.msg = self.redact(_library_message(record) if library else record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception messages can quote what a request carried; keep type and frames only.
            exc = record.exc_info[1]
            record.exc_text = None
            record.msg += f" [{type(exc).__name__}]"
            record.exc_info = None
            record.stack_info = None
        return True


_MAX_ARGUMENT_CHARS = 120
_PLACEHOLDER = re.compile(
    r"%%|%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z]"
)


class _StandIn(str):
    """Shown in place of a value, the same through %s and %r."""

    def __repr__(self) -> str:
        return str(self)


def _safe_argument(value: object) -> object:
    """What of a library's log argument may be shown.

    Libraries format whole updates and responses into their messages (PTB logs
    "Received data was: %r" with an update), so only plain scalars and short
    strings that are not data pass; anything else shows as its type.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > _MAX_ARGUMENT_CHARS or value.lstrip()[:1] in {"{", "["}:
            return _StandIn(f"<text of {len(value)} characters>")
        return value
    return _StandIn(f"<{type(value).__name__}>")


def _library_message(record: logging.LogRecord) -> str:
    """The library's message with its arguments filled in safely.

    Showing the bare template ("%s Failed run number %s of %s") would hide
    what went wrong; filling in everything could leak an update.
    """
    template = str(record.msg)
    args = record.args
    if not args:
        return template
    if isinstance(args, Mapping) and "%(" not in template:
        # logging unpacks a lone dict argument into a mapping; it was one value.
        args = (args,)
    try:
        if isinstance(args, Mapping):
            return template % {key: _safe_argument(value) for key, value in args.items()}
        return template % tuple(_safe_argument(value) for value in args)
    except (TypeError, ValueError, KeyError):
        # A placeholder that does not fit its stand-in ("%d" given a type
        # name): put the stand-ins in as text instead.
        return _fill_as_text(template, args)


def _fill_as_text(template: str, args: tuple[object, ...] | Mapping[str, object]) -> str:
    positional = iter(args) if not isinstance(args, Mapping) else iter(())

    def fill(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        name = match.group("name")
        if isinstance(args, Mapping):
            value = args.get(name, "?") if name is not None else "?"
        else:
            value = next(positional, "?")
        return str(_safe_argument(value))

    return _PLACEHOLDER.sub(fill, template)


def configure_logging(level: str, secrets: Iterable[str]) -> RedactingFilter:
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, floor in _NOISY.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))
    return redactor
