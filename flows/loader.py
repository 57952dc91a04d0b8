"""Reading flow definitions from YAML files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flows.errors import DefinitionError
from flows.model import Flow, NodeKind

DEFINITIONS_DIR = Path(__file__).parent / "definitions"


def parse_flow(text: str, *, origin: str) -> Flow:
    """Parse one flow file; errors name the file and the field at fault."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{origin}: a flow file must be a mapping with id, start and nodes")
    try:
        return Flow.model_validate(raw)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {_explain(error)}"
            for error in exc.errors()
        )
        raise DefinitionError(f"{origin}: {details}") from exc


_KINDS = ", ".join(kind.value for kind in NodeKind)


def _explain(error: Any) -> str:
    """Pydantic's message, except where it would make an editor guess."""
    if error["type"] == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        return f"kind {tag!r} is not a node kind; use one of: {_KINDS}"
    if error["type"] == "union_tag_not_found":
        return f"a node needs a kind, one of: {_KINDS}"
    return str(error["msg"])


def read_flow_sources(directory: Path) -> dict[str, str]:
    """File name → text of every ``*.yaml`` file, in a stable order."""
    if not directory.is_dir():
        raise DefinitionError(f"{directory}: flow directory not found")
    return {path.name: read_text(path) for path in sorted(directory.glob("*.yaml"))}


def read_text(path: Path) -> str:
    """A definition or catalog file as text; unreadable files are a DefinitionError."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read: {exc.strerror}") from exc


def parse_flows(sources: Mapping[str, str]) -> list[Flow]:
    return [parse_flow(text, origin=name) for name, text in sources.items()]
