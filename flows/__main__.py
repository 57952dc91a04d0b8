"""``python -m flows``: the static checks, and the project's copy of the sources.

``check`` exits 0 when the flows and catalogs have no errors, 1 when they do,
2 when the inputs cannot be read at all. It reads the cited sources from
``flows/sources.csv`` (or from a FACTS.md given with ``--facts``), so a
checkout without the shared folder beside it is checked in full.
``check --live-desk`` judges a set as the live desk does before publishing it:
missing and fuzzy translations are warnings there (members get the English with
a "translation pending" marker); every other check stays an error.

``sources`` rewrites ``flows/sources.csv`` from the shared FACTS.md; run it
after the facts change, and commit the result with the flows that cite them.

``graph -o FILE`` draws the flows with Graphviz (see :mod:`flows.graph`); it
exits 3 when Graphviz is not installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.errors import FlowError
from flows.facts import (
    DEFAULT_FACTS_FILE,
    SOURCES_FILE,
    Facts,
    load_facts,
    load_sources,
    render_sources,
)
from flows.graph import GraphvizMissing, ImageFormat, guess_format, registry_graph_dot, render
from flows.inspect import check_set
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES_DIR, SOURCE_LOCALE, build_registry, read_sources


def counted(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check(args: argparse.Namespace) -> int:
    try:
        sources = read_sources(args.flows, args.locales)
        facts: Facts = load_facts(args.facts) if args.facts else load_sources(args.sources)
        checked = check_set(sources, live_desk=args.live_desk, facts=facts)
    except FlowError as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2

    registry = checked.registry
    for issue in checked.issues:
        print(f"{issue.severity}: {issue}")
    nodes = sum(len(flow.nodes) for flow in registry.flows.values())
    print(
        f"{counted(len(registry.flows), 'flow')}, {counted(nodes, 'node')}, "
        f"{counted(len(registry.catalogs), 'catalog')}: "
        f"{counted(len(checked.errors), 'error')}, {counted(len(checked.warnings), 'warning')}"
    )
    return 1 if checked.errors else 0


def _sources(args: argparse.Namespace) -> int:
    try:
        facts = load_facts(args.facts)
    except OSError as exc:
        print(f"cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    args.output.write_text(render_sources(facts), encoding="utf-8")
    print(f"{args.output}: {counted(len(facts.sources), 'source')} from {args.facts}")
    return 0


def _graph(args: argparse.Namespace) -> int:
    output: Path = args.output
    image_format = ImageFormat(args.format) if args.format else guess_format(output.name)
    try:
        registry = build_registry(read_sources(args.flows, args.locales))
    except FlowError as exc:
        print(f"cannot draw: {exc}", file=sys.stderr)
        return 2
    locale: str | None = args.locale
    if locale is not None and locale != SOURCE_LOCALE and locale not in registry.catalogs:
        known = ", ".join([SOURCE_LOCALE, *sorted(registry.catalogs)])
        print(f"cannot draw: no catalog for locale {locale!r} (known: {known})", file=sys.stderr)
        return 2
    try:
        image = render(registry_graph_dot(registry, locale), image_format)
    except GraphvizMissing as exc:
        print(f"cannot draw: {exc}", file=sys.stderr)
        return 3
    except FlowError as exc:
        print(f"cannot draw: {exc}", file=sys.stderr)
        return 2
    try:
        output.write_bytes(image)
    except OSError as exc:
        print(f"cannot write {output}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"{output}: {image_format}, {len(registry.flows)} flows")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flows",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check flows and translations; list every issue")
    check.add_argument("--flows", type=Path, default=DEFINITIONS_DIR, help="flow directory")
    check.add_argument("--locales", type=Path, default=LOCALES_DIR, help="catalog directory")
    check.add_argument(
        "--sources", type=Path, default=SOURCES_FILE, help="the sources file (flows/sources.csv)"
    )
    check.add_argument(
        "--facts", type=Path, default=None, help="check against this FACTS.md instead"
    )
    check.add_argument(
        "--live-desk",
        action="store_true",
        help="judge as the live desk does: missing or fuzzy translations are warnings",
    )
    write = commands.add_parser("sources", help="rewrite flows/sources.csv from FACTS.md")
    write.add_argument("--facts", type=Path, default=DEFAULT_FACTS_FILE, help="the FACTS.md")
    write.add_argument("--output", type=Path, default=SOURCES_FILE, help="the file to write")
    graph = commands.add_parser("graph", help="draw the flows with Graphviz")
    graph.add_argument("-o", "--output", type=Path, required=True, help="image file to write")
    graph.add_argument(
        "--format",
        choices=[str(member) for member in ImageFormat],
        default=None,
        help="png, svg or dot (default: from the output's suffix, else svg)",
    )
    graph.add_argument("--locale", default=None, help="mark translations pending in this locale")
    graph.add_argument("--flows", type=Path, default=DEFINITIONS_DIR, help="flow directory")
    graph.add_argument("--locales", type=Path, default=LOCALES_DIR, help="catalog directory")
    args = parser.parse_args(argv)
    if args.command == "graph":
        return _graph(args)
    return _check(args) if args.command == "check" else _sources(args)


if __name__ == "__main__":
    sys.exit(main())
