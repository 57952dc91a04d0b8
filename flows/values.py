"""Values from the bot's settings that flow texts may name as ``{placeholders}``.

A screen that states a setting, such as how long a closed request is kept,
names it (``{retention_days}``) instead of repeating a number that would go
stale when the operator changes the setting. The bot fills the values in when
it renders a screen; the checks know these names and report any other one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType


@dataclass(frozen=True)
class TextValues:
    retention_days: int
    """Days a closed request for a volunteer is kept (``RETENTION_DAYS``)."""

    def as_mapping(self) -> Mapping[str, str]:
        return MappingProxyType({item.name: str(getattr(self, item.name)) for item in fields(self)})


VALUE_NAMES: frozenset[str] = frozenset(item.name for item in fields(TextValues))
"""The placeholders a flow text may use besides the answers its questions record."""
