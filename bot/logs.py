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
from collections.abc import Iterable

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
        # Libraries format whole updates into their messages (PTB's webhook
        # handler logs "Received data was: %r"); of theirs, keep only the template.
        library = record.name.startswith(_LIBRARIES)
        record.msg = self.redact(str(record.msg) if library else record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception messages can quote what a request carried; keep type and frames only.
            exc = record.exc_info[1]
            record.exc_text = None
            record.msg += f" [{type(exc).__name__}]"
            record.exc_info = None
            record.stack_info = None
        return True


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
