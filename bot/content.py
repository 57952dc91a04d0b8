"""The live flow registry and its translators, swapped whole on reload."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import Translator, translators
from flows.registry import Registry, load_registry
from flows.values import TextValues

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    registry: Registry
    translators: Mapping[str, Translator]


def load_snapshot(flows_dir: Path, locales_dir: Path, values: TextValues) -> Snapshot:
    """``values``: the settings that screens state, such as the retention period."""
    registry = load_registry(flows_dir, locales_dir)
    return Snapshot(registry, translators(registry, values))


class Content:
    """Holds the current snapshot; handlers read it once per update."""

    def __init__(self, flows_dir: Path, locales_dir: Path, values: TextValues) -> None:
        self._flows_dir = flows_dir
        self._locales_dir = locales_dir
        self._values = values
        self._current = load_snapshot(flows_dir, locales_dir, values)

    @property
    def current(self) -> Snapshot:
        return self._current

    def reload(self) -> Snapshot:
        """Validate the files on disk in full, then swap; on error keep serving the old set."""
        snapshot = load_snapshot(self._flows_dir, self._locales_dir, self._values)
        if snapshot.registry.version != self._current.registry.version:
            log.info(
                "flows reloaded: version %s -> %s",
                self._current.registry.version,
                snapshot.registry.version,
            )
        self._current = snapshot
        return snapshot
