"""``pybabel extract`` with the project's mapping finds every flow text."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from flows.catalog import Key
from flows.errors import DefinitionError
from flows.extract import extract_flows
from flows.loader import DEFINITIONS_DIR, parse_flow
from flows.messages import flow_messages

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
TEMPLATE = ROOT / "locales" / "messages.pot"
EXTRACT_COMMAND = ".venv/bin/pybabel extract -F babel.cfg -o locales/messages.pot ."
UPDATE_COMMAND = ".venv/bin/pybabel update -i locales/messages.pot -d locales"

Extracted = tuple[str, int, Key, list[str]]


def _mapping() -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
    """The method map and options of babel.cfg, as ``pybabel extract -F`` reads them."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(BABEL_CFG))  # type: ignore[no-untyped-call]
    return list(method_map), dict(options_map)


def _extract() -> Iterator[Extracted]:
    method_map, options_map = _mapping()
    for filename, line, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        yield filename, line, (context, msgid), comments


def _template_keys() -> set[Key]:
    with TEMPLATE.open("rb") as template:
        catalog = read_po(template)
    keys: set[Key] = set()
    for message in catalog:
        msgid: Any = message.id[0] if isinstance(message.id, tuple | list) else message.id
        if msgid or message.context is not None:
            keys.add((message.context, str(msgid)))
    return keys


def test_mapping_routes_flow_files_to_the_flow_extractor() -> None:
    method_map, _ = _mapping()
    assert ("flows/definitions/*.yaml", "flows.extract.extract_flows") in method_map


def test_every_flow_message_is_extracted_with_its_context() -> None:
    extracted = list(_extract())
    by_file: dict[str, set[Key]] = {}
    for filename, _, key, _ in extracted:
        by_file.setdefault(filename.replace("\\", "/"), set()).add(key)
    paths = sorted(DEFINITIONS_DIR.glob("*.yaml"))
    assert paths
    for path in paths:
        flow = parse_flow(path.read_text(encoding="utf-8"), origin=path.name)
        expected = {(message.context, message.msgid) for message in flow_messages(flow)}
        got = by_file.get(f"flows/definitions/{path.name}", set())
        missing = expected - got
        assert not missing, f"{path.name}: not extracted: {sorted(missing)}"
        assert got == expected, f"{path.name}: unexpected: {sorted(got - expected)}"


def test_committed_template_is_up_to_date() -> None:
    if not TEMPLATE.is_file():
        pytest.fail(f"locales/messages.pot is missing; run: {EXTRACT_COMMAND}")
    extracted = {key for _, _, key, _ in _extract()}
    committed = _template_keys()
    missing = sorted(extracted - committed, key=str)
    stale = sorted(committed - extracted, key=str)
    assert (missing, stale) == ([], []), (
        "locales/messages.pot is out of date"
        f"\n  not in messages.pot: {missing}"
        f"\n  no longer in the code: {stale}"
        f"\nRun from the project root:\n  {EXTRACT_COMMAND}\n  {UPDATE_COMMAND}"
    )


# The extractor on its own ----------------------------------------------------

SAMPLE = """\
id: demo
start: first
nodes:
  - id: first
    kind: message
    unsourced: menu
    text: Hello {name}.
    options:
      - id: go
        label: Go on
        goto: second

  - id: second
    kind: handoff
    unsourced: menu
    text: Refer?
    consent_label: "Yes"
    decline_label: "No"
    next: first
    declined: first
"""


def _run(text: str) -> list[tuple[int, str, tuple[str, str], list[str]]]:
    fileobj = io.BytesIO(text.encode("utf-8"))
    return list(extract_flows(fileobj, {}, (), {}))


def test_extractor_yields_pgettext_calls_at_the_node_lines() -> None:
    results = _run(SAMPLE)
    assert [(line, func, args) for line, func, args, _ in results] == [
        (4, "pgettext", ("demo.first", "Hello {name}.")),
        (4, "pgettext", ("demo.first.go", "Go on")),
        (13, "pgettext", ("demo.second", "Refer?")),
        (13, "pgettext", ("demo.second.consent", "Yes")),
        (13, "pgettext", ("demo.second.decline", "No")),
    ]
    comments = [comment for *_, [comment] in results]
    assert ["Button label" in comment for comment in comments] == [False, True, False, True, True]
    assert "{name} placeholders" in comments[0]


def test_extractor_rejects_a_broken_flow() -> None:
    with pytest.raises(DefinitionError):
        _run("id: demo\nstart: first\nnodes: 3\n")
