"""The exceptions of the bot package."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot package raises on purpose."""


class SettingsError(BotError):
    """A setting is missing or malformed; the message is one line saying what to set."""
