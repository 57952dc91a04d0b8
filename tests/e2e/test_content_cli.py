"""``python -m bot content``: export, import, history and rollback as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flows.registry import RegistrySources
from tests.unit.content_edits import edit_entry

REPO = Path(__file__).resolve().parents[2]
OLD = "It is recorded in Interpol's files."
NEW = "It is also recorded in Interpol's files."


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "ROOT_KEY", "ROOT_KEY_FILE"}
    }
    # The key's default place is the user's config folder: keep it in the test's folder.
    env.update(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def bot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot <args>``, from a directory without a .env."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def content(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return bot(tmp_path, "content", *args)


def installed(tmp_path: Path) -> Path:
    """A first run, as an operator starts one: content commands never create a database."""
    first = bot(tmp_path, "init")
    assert first.returncode == 0, first.stderr
    return tmp_path


def flows_check(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    where = [
        "--flows",
        str(directory / "flows/definitions"),
        "--locales",
        str(directory / "locales"),
    ]
    return subprocess.run(
        [sys.executable, "-m", "flows", "check", *where, *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_edit_import_export_round_trip(tmp_path: Path) -> None:
    installed(tmp_path)
    shipped = tmp_path / "shipped"
    exported = content(tmp_path, "export", str(shipped))
    assert exported.returncode == 0, exported.stderr
    assert "version 0" in exported.stdout
    for path in (
        "flows/definitions/main.yaml",
        "locales/ug/LC_MESSAGES/messages.po",
        "locales/zh_Hans/LC_MESSAGES/messages.po",
        "locales/zh_Hant/LC_MESSAGES/messages.po",
        "locales/messages.pot",
    ):
        assert (shipped / path).is_file(), path
    assert (shipped / "locales/messages.pot").read_text() == (
        REPO / "locales/messages.pot"
    ).read_text()

    flow = shipped / "flows/definitions/red_notices.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    imported = content(tmp_path, "import", str(shipped))
    assert imported.returncode == 0, imported.stderr
    assert "published version 1 (was 0)" in imported.stdout
    assert "ug: 1 became pending" in imported.stdout
    ug_catalog = "locales/ug/LC_MESSAGES/messages.po"
    assert f"warning: {ug_catalog}: red_notices/diffusions [ug]: untranslated" in imported.stdout

    history = content(tmp_path, "history")
    assert history.returncode == 0, history.stderr
    assert history.stdout.splitlines()[0].split()[::2] == ["1", "admin"]

    live = tmp_path / "live"
    again = content(tmp_path, "export", str(live))
    assert again.returncode == 0, again.stderr
    assert "version 1" in again.stdout
    assert NEW in (live / "flows/definitions/red_notices.yaml").read_text(encoding="utf-8")
    template = (live / "locales/messages.pot").read_text(encoding="utf-8")
    assert NEW in template.replace('"\n"', "")
    assert OLD not in template.replace('"\n"', ""), "the template follows the published flows"
    # What the repository takes in: fine for the live desk, and its own CI names what to translate.
    assert flows_check(live, "--live-desk").returncode == 0
    strict = flows_check(live)
    assert strict.returncode == 1
    assert "red_notices/diffusions [ug]: untranslated" in strict.stdout

    same = content(tmp_path, "import", str(live))
    assert same.returncode == 0
    assert "nothing to publish" in same.stdout


def test_a_failing_set_changes_nothing_and_every_problem_is_printed(tmp_path: Path) -> None:
    installed(tmp_path)
    directory = tmp_path / "set"
    assert content(tmp_path, "export", str(directory)).returncode == 0
    main = directory / "flows/definitions/main.yaml"
    main.write_text(main.read_text().replace("goto: about:intro", "goto: about:nowhere"))
    catalog = directory / "locales/ug/LC_MESSAGES/messages.po"
    one = RegistrySources({}, {"ug": catalog.read_text(encoding="utf-8")})
    wrong = edit_entry(one, "ug", "about.intro", msgstr="{oops} ئۇيغۇرچە")
    catalog.write_text(wrong.po_files["ug"], encoding="utf-8")

    refused = content(tmp_path, "import", str(directory))
    assert refused.returncode == 1
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert any("unresolved-target" in line for line in errors)
    assert any("about/intro [ug]: placeholders" in line for line in errors)
    assert len(errors) == 2, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "no published versions" in content(tmp_path, "history").stdout

    missing = content(tmp_path, "import", str(tmp_path / "absent"))
    assert missing.returncode == 2
    assert "not a directory of flow files" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_rollback_publishes_an_old_version_again(tmp_path: Path) -> None:
    installed(tmp_path)
    directory = tmp_path / "set"
    assert content(tmp_path, "export", str(directory)).returncode == 0
    flow = directory / "flows/definitions/red_notices.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    assert content(tmp_path, "import", str(directory)).returncode == 0

    back = content(tmp_path, "rollback", "0")
    assert back.returncode == 0, back.stderr
    assert "published version 2 (was 1)" in back.stdout
    history = content(tmp_path, "history").stdout
    assert "(files of version 0)" in history
    out = tmp_path / "out"
    assert content(tmp_path, "export", str(out)).returncode == 0
    assert OLD in (out / "flows/definitions/red_notices.yaml").read_text(encoding="utf-8")
    assert content(tmp_path, "export", str(out), "--version", "1").returncode == 0
    assert NEW in (out / "flows/definitions/red_notices.yaml").read_text(encoding="utf-8")

    unknown = content(tmp_path, "export", str(out), "--version", "7")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines()[-1] == (
        "yardem: content version 7 refused: there is no published content version 7"
    )
    assert "Traceback" not in unknown.stderr


def test_content_commands_never_create_a_database(tmp_path: Path) -> None:
    for args in (("history",), ("export", str(tmp_path / "out"))):
        refused = content(tmp_path, *args)
        assert refused.returncode != 0
        assert "DATA_DIR" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not (tmp_path / "data" / "yardem.sqlite3").exists()
