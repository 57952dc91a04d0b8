"""The exceptions of the flow domain.

Everything the flow package raises on purpose derives from :class:`FlowError`,
so callers can catch one type and show the message, which always names the
file or the flow and node at fault.
"""

from __future__ import annotations


class FlowError(Exception):
    """Base of every error raised by the flow package."""


class DefinitionError(FlowError):
    """A flow file cannot be read or does not match the flow format."""


class CatalogError(FlowError):
    """A gettext catalog cannot be parsed."""


class RegistryError(FlowError):
    """A set of flows and catalogs failed validation; nothing was swapped in."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems
