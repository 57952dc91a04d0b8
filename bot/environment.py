"""Before anything else: is this Python the one with Yardem's dependencies?

``python3 -m bot`` with the system Python, outside the virtual environment,
would otherwise end in an ImportError traceback. This module uses only the
standard library, so it can run first and say what to do instead.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REQUIRED = ("telegram", "tornado", "aiosqlite", "cryptography", "pydantic", "yaml", "babel")
_PROJECT = Path(__file__).resolve().parent.parent


def missing_dependency() -> str | None:
    """One line telling how to run Yardem properly, or None if everything is importable."""
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    venv_python = _PROJECT / ".venv" / "bin" / "python"
    arguments = " ".join(sys.argv[1:2])  # the command word only: later ones may be ids
    command = f"-m bot {arguments}".rstrip()
    if venv_python.exists():
        how = (
            f"run it with the virtual environment's Python: {_relative(venv_python)} {command} "
            f"(or first: source {_relative(venv_python.parent / 'activate')})"
        )
    else:
        how = (
            "create the virtual environment first: python3 -m venv .venv && "
            f".venv/bin/pip install -e . && .venv/bin/python {command}"
        )
    return (
        f"yardem: this Python ({sys.executable}) lacks Yardem's dependencies "
        f"(no module {missing[0]!r}): {how}"
    )


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
