"""Pure parts of the operator's side: settings, log rendering, first-run rules, the
terminal's arrows, and the files that build and install Yardem."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest

from bot.errors import SettingsError
from bot.installation import InstallationError, Purpose, prepare
from bot.logs import RedactingFilter
from bot.reachability import pauses
from bot.screens import Button, Screen
from bot.settings import Settings, default_config_dir, load_settings
from bot.terminal import _plain, prompt

ROOT = Path(__file__).resolve().parents[2]
KEY = "1:" + "A" * 43 + "="


# Settings -------------------------------------------------------------------------


def test_the_default_key_lives_in_the_config_folder() -> None:
    assert default_config_dir({"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/h"}) == Path("/x/cfg/yardem")
    assert default_config_dir({"HOME": "/h"}) == Path("/h/.config/yardem")
    # A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
    assert default_config_dir({"XDG_CONFIG_HOME": "cfg", "HOME": "/h"}) == Path("/h/.config/yardem")
    settings = load_settings({"HOME": "/h", "DATA_DIR": "/srv/data"}, env_file=None)
    assert settings.key_file == Path("/h/.config/yardem/root.key")
    assert not settings.key_file.is_relative_to(settings.data_dir)


def test_root_key_file_overrides_the_default() -> None:
    settings = load_settings({"HOME": "/h", "ROOT_KEY_FILE": "/run/secrets/k"}, env_file=None)
    assert settings.key_file == Path("/run/secrets/k")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_an_env_file_with_the_root_key_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    env = tmp_path / ".env"
    env.write_text(f"ROOT_KEY={KEY}\n")
    env.chmod(mode)
    with pytest.raises(SettingsError, match="chmod 600") as error:
        load_settings({}, env_file=env)
    assert KEY not in str(error.value)
    env.chmod(0o600)
    assert load_settings({}, env_file=env).root_key == KEY


def test_an_env_file_without_the_root_key_may_be_readable(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("LOG_LEVEL=DEBUG\n")
    env.chmod(0o644)
    assert load_settings({}, env_file=env).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"ALLOW_KEY_BESIDE_DATA": "maybe"}, "ALLOW_KEY_BESIDE_DATA"),
        ({"BOT_API_RETRIES": "-1"}, "BOT_API_RETRIES"),
        ({"BOT_API_RETRIES": "1000"}, "BOT_API_RETRIES"),
    ],
)
def test_new_settings_are_checked(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        load_settings(environ, env_file=None)


# First runs -----------------------------------------------------------------------


def _settings(tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "root_key_file": tmp_path / "config" / "root.key",
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_a_fresh_machine_is_a_first_run_for_the_bot(tmp_path: Path) -> None:
    plan = prepare(_settings(tmp_path), Purpose.BOT)
    assert plan.create_database
    assert plan.generate_key
    with pytest.raises(InstallationError, match="no database in DATA_DIR"):
        prepare(_settings(tmp_path), Purpose.ADMIN)


def test_a_given_key_without_a_database_needs_init(tmp_path: Path) -> None:
    settings = _settings(tmp_path, root_key=KEY)
    with pytest.raises(InstallationError, match="may not be mounted"):
        prepare(settings, Purpose.BOT)
    plan = prepare(settings, Purpose.INIT)
    assert plan.create_database
    assert not plan.generate_key


def test_an_empty_database_file_counts_as_none(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "yardem.sqlite3").touch()
    with pytest.raises(InstallationError, match="no database"):
        prepare(_settings(tmp_path), Purpose.ADMIN)


def test_a_key_inside_data_dir_is_refused_unless_allowed(tmp_path: Path) -> None:
    inside = tmp_path / "data" / "sub" / "root.key"
    with pytest.raises(InstallationError, match="ALLOW_KEY_BESIDE_DATA=1"):
        prepare(_settings(tmp_path, root_key_file=inside), Purpose.INIT)
    prepare(_settings(tmp_path, root_key_file=inside, allow_key_beside_data=True), Purpose.INIT)


def test_a_key_given_in_the_environment_is_never_beside_the_data(tmp_path: Path) -> None:
    settings = _settings(tmp_path, root_key=KEY, root_key_file=tmp_path / "data" / "root.key")
    assert prepare(settings, Purpose.INIT).create_database


# Log rendering ----------------------------------------------------------------------


def _rendered(name: str, message: str, *args: object) -> str:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, None)
    RedactingFilter(["123456:SECRET-TOKEN"]).filter(record)
    return record.getMessage()


def test_library_messages_keep_their_values() -> None:
    text = _rendered(
        "telegram.ext._utils.networkloop",
        "%s Failed run number %s of %s. Aborting.",
        "Network Retry Loop (Bootstrap Initialize Application):",
        3,
        3,
    )
    assert text == (
        "Network Retry Loop (Bootstrap Initialize Application): Failed run number 3 of 3. Aborting."
    )
    rate = _rendered("telegram.ext.AIORateLimiter", "Retrying after %f seconds", 1.5)
    assert rate == "Retrying after 1.500000 seconds"


def test_library_messages_never_show_data() -> None:
    update = {"message": {"text": "my name is Canary", "from": {"id": 123456789}}}
    assert _rendered("telegram.ext.Updater", "Received data was: %r", update) == (
        "Received data was: <dict>"
    )
    assert "Canary" not in _rendered("tornado.general", "body %s", '{"text": "Canary"}')
    assert "Canary" not in _rendered("telegram", "got %s", "Canary " * 40)
    assert _rendered("telegram", "failed: %s", ValueError("Canary")) == "failed: <ValueError>"
    assert "123456789" not in _rendered("telegram", "chat %s", 123456789)
    assert "SECRET" not in _rendered("httpx", "GET %s", "/bot123456:SECRET-TOKEN/getMe")


def test_a_placeholder_that_does_not_fit_still_leaves_no_bare_percent() -> None:
    text = _rendered("telegram", "update %d of %s (100%%)", object(), "x")
    assert text == "update <object> of x (100%)"
    named = _rendered("telegram", "job %(name)s took %(seconds)d", {"name": "a", "seconds": "b"})
    assert named == "job a took b"


def test_own_messages_are_rendered_as_before() -> None:
    assert _rendered("bot.jobs", "forgot %d message references", 3) == (
        "forgot 3 message references"
    )


# Start-up ---------------------------------------------------------------------------


def test_startup_pauses_grow_and_stop_at_thirty_seconds() -> None:
    assert pauses(0) == []
    assert pauses(5) == [1, 2, 4, 8, 16]
    assert max(pauses(20)) == 30


# The terminal -----------------------------------------------------------------------


def test_rtl_arrows_are_mirrored_for_a_left_to_right_terminal() -> None:
    assert _plain("▶ قايتىش", right_to_left=True) == "◀ قايتىش"
    assert _plain("◀ Back") == "◀ Back"
    assert _plain("\u2068CCF\u2069 → x", right_to_left=True) == "CCF ← x"


def test_the_prompt_names_the_numbers_that_work() -> None:
    screen = Screen("text", [[Button("a", None), Button("b", None)]])  # type: ignore[arg-type]
    assert prompt(screen) == "[1-2, q] > "
    assert prompt(Screen("text", [])) == "[q] > "


# Building and installing -----------------------------------------------------------------


def _dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_the_image_is_pinned_checked_installed_from_the_lock_and_non_root() -> None:
    lines = _dockerfile()
    base = [line for line in lines if line.startswith("FROM ")]
    assert len(base) == 1
    assert re.fullmatch(r"FROM python:3\.11[\w.-]*@sha256:[0-9a-f]{64}", base[0]), base[0]
    health = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert len(health) == 1
    assert '"python", "-m", "bot", "health"' in health[0]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    installs = [line for line in lines if "pip install" in line]
    assert any("--require-hashes -r requirements.lock" in line for line in installs)
    assert not any(re.search(r"\s-e\s|--editable", line) for line in installs)
    env = " ".join(line for line in lines if line.startswith("ENV "))
    key_file = re.search(r"ROOT_KEY_FILE=(\S+)", env)
    data_dir = re.search(r"DATA_DIR=(\S+)", env)
    assert key_file
    assert data_dir
    assert not Path(key_file.group(1)).is_relative_to(data_dir.group(1)), "key off the data"


def _requirement_name(spec: str) -> str:
    return re.split(r"[\[<>=~! ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_every_runtime_dependency_is_bounded_and_locked_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = project["dependencies"]
    for spec in runtime:
        assert "<" in spec, f"{spec} has no upper bound"
    for lock_name, specs in (
        ("requirements.lock", runtime),
        ("requirements-test.lock", runtime + project["optional-dependencies"]["test"]),
    ):
        text = (ROOT / lock_name).read_text()
        pinned = {
            match.group(1).lower(): match.group(2)
            for match in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.MULTILINE)
        }
        for spec in specs:
            assert _requirement_name(spec) in pinned, f"{spec} missing from {lock_name}"
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        for block in blocks:
            if block.strip() and not block.startswith("#"):
                assert "--hash=sha256:" in block, f"no hash in {lock_name}: {block[:40]}"


def test_ci_runs_the_readme_test_command_which_installs_from_the_lock() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2, "two opening commands, one line each"
    run, test = block
    assert "-r requirements.lock" in run
    assert run.endswith(".venv/bin/python -m bot")
    assert "-r requirements-test.lock" in test
    assert test.endswith(".venv/bin/python -m pytest")
    assert test in (ROOT / ".ci" / "run").read_text()
