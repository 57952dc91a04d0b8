"""Settings, read once from the environment (and an optional ``.env`` file).

The settings object is built at start-up and passed explicitly; nothing reads
the environment later. Its ``repr`` never shows the token or secrets.
"""

from __future__ import annotations

import os
import pwd
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import SettingsError
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES_DIR
from flows.values import TextValues

DEFAULT_API_URL = "https://api.telegram.org/bot"
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_SECRET_RULE = "16 to 256 characters of A-Z a-z 0-9 _ -"  # noqa: S105 - a rule, not a secret
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = field(default=None, repr=False)
    bot_api_url: str = DEFAULT_API_URL
    data_dir: Path = Path("data")
    root_key_file: Path | None = None
    """``ROOT_KEY_FILE``, else ``config_dir / "root.key"``: never beside the data by default."""
    root_key: str | None = field(default=None, repr=False)
    """The root key material itself (``ROOT_KEY``), preferred over the file."""
    config_dir: Path | None = None
    """The user's configuration folder for Yardem (``$XDG_CONFIG_HOME/yardem``)."""
    allow_key_beside_data: bool = False
    """``ALLOW_KEY_BESIDE_DATA=1``: accept a key file inside ``DATA_DIR`` (not recommended)."""
    bot_api_retries: int = 5
    """How often start-up retries an unreachable Bot API, with growing pauses."""
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "0.0.0.0"  # noqa: S104 - a container publishes the port it chooses
    webhook_port: int = 8443
    log_level: str = "INFO"
    flows_dir: Path = DEFINITIONS_DIR
    locales_dir: Path = LOCALES_DIR
    retention_days: int = 30
    """Closed referrals are erased this many days after closing."""
    referral_expiry_days: int = 14
    """An unclaimed referral expires (and the member is told) after this many days."""
    new_members_per_hour: int = 300
    """Strangers who may become members in one hour; as many again on the crisis path."""
    flood_burst: int = 30
    """Updates one account is served at once before it is slowed."""
    flood_per_minute: int = 60
    """The pace a slowed account is served at; far past it, it is ignored for a while."""
    audit_retention_days: int = 365
    """Audit entries older than this are compacted into a checkpoint entry."""
    max_held_requests: int = 3
    """A volunteer (or coordinator) holds at most this many requests at once."""
    claim_alert_per_day: int = 5
    """More claims than this by one account in one day alert the coordinators."""

    @property
    def text_values(self) -> TextValues:
        """What the screens say about these settings, e.g. "erased after 30 days"."""
        return TextValues(retention_days=self.retention_days)

    @property
    def key_file(self) -> Path:
        if self.root_key_file is not None:
            return self.root_key_file
        if self.config_dir is None:
            raise SettingsError("ROOT_KEY_FILE is not set and there is no home directory for it")
        return self.config_dir / "root.key"

    @property
    def legacy_key_file(self) -> Path:
        """Where releases before this one created the key: beside the database."""
        return self.data_dir / "root.key"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "yardem.sqlite3"

    def require_token(self) -> str:
        if not self.bot_token:
            raise SettingsError(
                "BOT_TOKEN is not set: create a bot with @BotFather, then run "
                "BOT_TOKEN=<token> python -m bot (or put BOT_TOKEN=<token> in .env). "
                "To walk the flows without Telegram, run: python -m bot try"
            )
        return self.bot_token


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines; ``#`` comments; optional matching quotes around values.

    A file holding ``ROOT_KEY`` that other users can read is refused, as a key
    file would be: the key opens every stored secret.
    """
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    if values.get("ROOT_KEY", "").strip() and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise SettingsError(
            f"{path} holds ROOT_KEY but is open to other users: run 'chmod 600 {path}'"
        )
    return values


def default_config_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CONFIG_HOME/yardem``, else ``~/.config/yardem`` (the XDG base directory rule)."""
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "yardem"
    home = environ.get("HOME", "").strip()
    if not home:
        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:
            return None
    return Path(home) / ".config" / "yardem"


def _url(name: str, value: str, *, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise SettingsError(f"{name} must be an {' or '.join(schemes)} URL, got {value!r}")
    return value


def load_settings(environ: Mapping[str, str], *, env_file: Path | None = Path(".env")) -> Settings:
    """Build settings from ``environ`` over ``env_file``; raise SettingsError on bad values."""
    values = {**(read_env_file(env_file) if env_file else {}), **environ}

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    token = get("BOT_TOKEN")
    if token is not None and not _TOKEN.match(token):
        raise SettingsError("BOT_TOKEN does not look like a token from @BotFather (digits:letters)")
    api_url = _url("BOT_API_URL", get("BOT_API_URL") or DEFAULT_API_URL, schemes=("https", "http"))
    if urlsplit(api_url).scheme == "http" and urlsplit(api_url).hostname not in _LOOPBACK:
        # The token travels in the URL path: plain HTTP only on this machine.
        raise SettingsError("BOT_API_URL must use https unless it points at this machine")
    webhook_url = get("WEBHOOK_URL")
    webhook_secret = get("WEBHOOK_SECRET")
    if webhook_url is not None:
        _url("WEBHOOK_URL", webhook_url, schemes=("https",))
        if webhook_secret is None:
            raise SettingsError(f"WEBHOOK_SECRET must be set with WEBHOOK_URL: {_SECRET_RULE}")
    if webhook_secret is not None and not _SECRET.match(webhook_secret):
        raise SettingsError(f"WEBHOOK_SECRET must be {_SECRET_RULE}")
    port_text = get("WEBHOOK_PORT") or "8443"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"WEBHOOK_PORT must be a port number, got {port_text!r}")
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")
    data_dir = Path(get("DATA_DIR") or "data")
    retention_days = _days("RETENTION_DAYS", get("RETENTION_DAYS") or "30")
    expiry_days = _days("REFERRAL_EXPIRY_DAYS", get("REFERRAL_EXPIRY_DAYS") or "14")
    key_file = get("ROOT_KEY_FILE")
    retries_text = get("BOT_API_RETRIES") or "5"
    if not retries_text.isascii() or not retries_text.isdigit() or int(retries_text) > 100:
        raise SettingsError(
            f"BOT_API_RETRIES must be a whole number from 0 to 100, got {retries_text!r}"
        )
    new_members = _count("NEW_MEMBERS_PER_HOUR", get("NEW_MEMBERS_PER_HOUR") or "300", most=_MANY)
    flood_burst = _count("FLOOD_BURST", get("FLOOD_BURST") or "30", most=_MANY)
    flood_per_minute = _count("FLOOD_PER_MINUTE", get("FLOOD_PER_MINUTE") or "60", most=_MANY)
    audit_days = _days("AUDIT_RETENTION_DAYS", get("AUDIT_RETENTION_DAYS") or "365")
    max_held = _count("MAX_HELD_REQUESTS", get("MAX_HELD_REQUESTS") or "3", most=100)
    claim_alert = _count("CLAIM_ALERT_PER_DAY", get("CLAIM_ALERT_PER_DAY") or "5", most=100)
    return Settings(
        bot_token=token,
        bot_api_url=api_url,
        data_dir=data_dir,
        root_key_file=Path(key_file) if key_file else None,
        root_key=get("ROOT_KEY"),
        config_dir=default_config_dir(values),
        allow_key_beside_data=_flag("ALLOW_KEY_BESIDE_DATA", get("ALLOW_KEY_BESIDE_DATA")),
        bot_api_retries=int(retries_text),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=get("WEBHOOK_LISTEN") or "0.0.0.0",  # noqa: S104
        webhook_port=int(port_text),
        log_level=log_level,
        flows_dir=Path(get("FLOWS_DIR") or DEFINITIONS_DIR),
        locales_dir=Path(get("LOCALES_DIR") or LOCALES_DIR),
        retention_days=retention_days,
        referral_expiry_days=expiry_days,
        new_members_per_hour=new_members,
        flood_burst=flood_burst,
        flood_per_minute=flood_per_minute,
        audit_retention_days=audit_days,
        max_held_requests=max_held,
        claim_alert_per_day=claim_alert,
    )


def _flag(name: str, text: str | None) -> bool:
    if text is None or text.lower() in {"0", "false", "no"}:
        return False
    if text.lower() in {"1", "true", "yes"}:
        return True
    raise SettingsError(f"{name} must be 1 or 0, got {text!r}")


def _days(name: str, text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 3650:
        raise SettingsError(f"{name} must be a whole number of days from 1 to 3650, got {text!r}")
    return int(text)


_MANY = 1_000_000
"""The most a flood or newcomer limit can be set to: far past any real need."""


def _count(name: str, text: str, *, most: int) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= most:
        raise SettingsError(f"{name} must be a whole number from 1 to {most}, got {text!r}")
    return int(text)
