"""The coordinators' text desk in Telegram: download, upload, preview, publish, history, map.

Only coordinators reach it; anyone else's ``/texts``, file or desk button goes
on to the handlers that would have taken it without the desk (a stray message,
a relayed file, "not available"), so the desk's existence is not revealed.
"""

from __future__ import annotations

from bot.desk.handlers import register

__all__ = ["register"]
