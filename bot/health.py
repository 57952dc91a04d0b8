"""``python -m bot health``: is the bot alive? For Docker's HEALTHCHECK and monitoring.

Healthy means the database can be read and the running bot reached the Bot
API recently (its heartbeat). It needs no token and no key, and reads no
member data: only the schema version and the heartbeat's time.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot import heartbeat
from bot.installation import database_present
from bot.settings import Settings

DEFAULT_MAX_AGE = 180
"""Three missed heartbeats (one a minute) make the bot unhealthy."""


@dataclass(frozen=True)
class Health:
    problems: list[str]
    details: list[str]

    @property
    def healthy(self) -> bool:
        return not self.problems


def _database(settings: Settings) -> str | None:
    """None if readable, else what is wrong."""
    if not database_present(settings):
        return f"no database in DATA_DIR={settings.data_dir}"
    try:
        # mode=rw: never create a database; the health check only reads.
        uri = f"{settings.database_file.resolve().as_uri()}?mode=rw"
        with sqlite3.connect(uri, uri=True, timeout=5) as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            connection.execute("SELECT count(*) FROM key_check").fetchone()
        connection.close()
    except sqlite3.Error as error:
        return f"the database in DATA_DIR={settings.data_dir} cannot be read ({error})"
    if not version:
        return f"the database in DATA_DIR={settings.data_dir} has no schema"
    return None


def check(settings: Settings, now: float, max_age: int = DEFAULT_MAX_AGE) -> Health:
    problems: list[str] = []
    details: list[str] = []
    database = _database(settings)
    if database is None:
        details.append("database readable")
    else:
        problems.append(database)
    beat = heartbeat.read(settings.data_dir)
    if beat is None:
        problems.append("no successful Bot API call recorded yet (is the bot running?)")
    else:
        age = max(0, int(now) - beat)
        if age > max_age:
            problems.append(
                f"last successful Bot API call {age} s ago (more than {max_age} s): "
                "check the network and BOT_API_URL"
            )
        else:
            details.append(f"last successful Bot API call {age} s ago")
    return Health(problems, details)
