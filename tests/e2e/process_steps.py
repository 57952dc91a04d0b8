"""Running ``python -m bot`` as a separate process, for tests of operator commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.test_process import _env


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of an operator's shell: DATA_DIR and the config folder in ``tmp_path``."""
    return _env(tmp_path, **extra)


def run_bot(
    args: list[str], cwd: Path, env: dict[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m bot <args>`` to completion, from a directory without a .env."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line an operator sees for a refusal: never a traceback."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def start_silent(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``python -m bot <args>`` in the background, its output piped and never read.

    Once the pipe is full the process blocks on its next line of output: a test
    can so stop a long command mid-way whatever the machine's speed.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
