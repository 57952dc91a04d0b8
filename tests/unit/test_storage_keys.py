from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from storage.errors import KeyFileError
from storage.keys import (
    RootKeys,
    add_key,
    format_root_keys,
    generate_root_key_file,
    load_root_keys,
    parse_root_keys,
)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))


def test_parse_format_round_trip() -> None:
    keys = RootKeys(keys={1: KEY_A, 2: KEY_B}, active=2, pseudonym_key_id=1)
    assert parse_root_keys(format_root_keys(keys)) == keys


def test_round_trip_keeps_a_lower_active_key_active() -> None:
    keys = RootKeys(keys={1: KEY_A, 2: KEY_B}, active=1, pseudonym_key_id=1)
    parsed = parse_root_keys(format_root_keys(keys))
    assert parsed.active == 1
    assert parsed == keys


def test_format_explains_the_file_and_carries_no_key_in_comments() -> None:
    text = format_root_keys(RootKeys(keys={1: KEY_A}, active=1, pseudonym_key_id=1))
    comments = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "back" in comments.lower()
    assert "commit" in comments.lower()
    assert "ROOT_KEY" in comments
    assert _b64(KEY_A) not in comments


def test_parse_ignores_comments_and_blank_lines_and_takes_last_as_active() -> None:
    text = f"# header\n\n2:{_b64(KEY_B)}\n  # indented comment\n1:{_b64(KEY_A)}\n"
    keys = parse_root_keys(text)
    assert keys.active == 1
    assert keys.pseudonym_key_id == 1
    assert dict(keys.keys) == {1: KEY_A, 2: KEY_B}


def test_repr_does_not_leak_key_material() -> None:
    keys = RootKeys(keys={1: KEY_A}, active=1, pseudonym_key_id=1)
    assert _b64(KEY_A) not in repr(keys)
    assert repr(KEY_A) not in repr(keys)


def test_keys_mapping_is_read_only_copy() -> None:
    source = {1: KEY_A}
    keys = RootKeys(keys=source, active=1, pseudonym_key_id=1)
    source[2] = KEY_B
    assert 2 not in keys.keys
    with pytest.raises(TypeError):
        keys.keys[3] = KEY_B  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "no key line"),
        ("# only a comment\n", "no key line"),
        ("justbase64withoutid\n", "line 1"),
        (f"x:{_b64(KEY_A)}\n", "line 1"),
        (f"-1:{_b64(KEY_A)}\n", "line 1"),
        (f"0:{_b64(KEY_A)}\n", "out of range"),
        (f"65536:{_b64(KEY_A)}\n", "out of range"),
        ("1:not base64!!\n", "base64"),
        (f"1:{_b64(KEY_A[:31])}\n", "31 bytes"),
        (f"1:{_b64(KEY_A + b'x')}\n", "33 bytes"),
        (f"1:{_b64(KEY_A)}\n1:{_b64(KEY_B)}\n", "appears twice"),
    ],
)
def test_malformed_key_text_is_refused_clearly(text: str, fragment: str) -> None:
    with pytest.raises(KeyFileError, match=fragment) as caught:
        parse_root_keys(text)
    message = str(caught.value)
    assert "\n" not in message
    assert _b64(KEY_A) not in message


def test_root_keys_validation() -> None:
    with pytest.raises(KeyFileError):
        RootKeys(keys={}, active=1, pseudonym_key_id=1)
    with pytest.raises(KeyFileError):
        RootKeys(keys={1: KEY_A}, active=2, pseudonym_key_id=1)
    with pytest.raises(KeyFileError):
        RootKeys(keys={1: b"short"}, active=1, pseudonym_key_id=1)
    with pytest.raises(KeyFileError):
        RootKeys(keys={70000: KEY_A}, active=70000, pseudonym_key_id=70000)
    with pytest.raises(KeyFileError, match="lowest"):
        RootKeys(keys={1: KEY_A, 2: KEY_B}, active=2, pseudonym_key_id=2)


def test_bare_base64_env_value_is_key_one(tmp_path: Path) -> None:
    keys = load_root_keys(path=tmp_path / "absent", env_value=f"  {_b64(KEY_A)}\n")
    assert dict(keys.keys) == {1: KEY_A}
    assert keys.active == 1
    assert keys.pseudonym_key_id == 1


def test_env_value_in_file_format(tmp_path: Path) -> None:
    text = f"# comment\n1:{_b64(KEY_A)}\n2:{_b64(KEY_B)}\n"
    keys = load_root_keys(path=tmp_path / "absent", env_value=text)
    assert keys.active == 2
    assert dict(keys.keys) == {1: KEY_A, 2: KEY_B}


def test_env_value_takes_precedence_over_file(tmp_path: Path) -> None:
    path = tmp_path / "root.keys"
    generate_root_key_file(path)
    keys = load_root_keys(path=path, env_value=_b64(KEY_B))
    assert dict(keys.keys) == {1: KEY_B}


def test_malformed_env_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="ROOT_KEY"):
        load_root_keys(path=tmp_path / "absent", env_value=_b64(KEY_A[:16]))


def test_empty_env_value_falls_back_to_file(tmp_path: Path) -> None:
    path = tmp_path / "root.keys"
    generated = generate_root_key_file(path)
    assert load_root_keys(path=path, env_value="") == generated
    assert load_root_keys(path=path, env_value="  \n") == generated
    assert load_root_keys(path=path, env_value=None) == generated


def test_generate_creates_private_file_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "root.keys"
    generated = generate_root_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]
    assert generated.active == 1
    assert len(generated.keys[1]) == 32
    assert load_root_keys(path=path, env_value=None) == generated


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "root.keys"
    first = generate_root_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        generate_root_key_file(path)
    assert path.read_bytes() == before
    assert load_root_keys(path=path, env_value=None) == first
    assert list(tmp_path.iterdir()) == [path]


def test_generated_keys_are_random(tmp_path: Path) -> None:
    first = generate_root_key_file(tmp_path / "a.keys")
    second = generate_root_key_file(tmp_path / "b.keys")
    assert first.keys[1] != second.keys[1]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o610])
def test_load_refuses_group_or_world_readable_file(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "root.keys"
    generate_root_key_file(path)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_root_keys(path=path, env_value=None)


def test_load_accepts_owner_only_read(tmp_path: Path) -> None:
    path = tmp_path / "root.keys"
    generated = generate_root_key_file(path)
    os.chmod(path, 0o400)
    assert load_root_keys(path=path, env_value=None) == generated


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        load_root_keys(path=tmp_path / "absent.keys", env_value=None)


def test_load_checks_the_symlink_target(tmp_path: Path) -> None:
    target = tmp_path / "real.keys"
    generated = generate_root_key_file(target)
    link = tmp_path / "link.keys"
    link.symlink_to(target)
    assert load_root_keys(path=link, env_value=None) == generated
    os.chmod(target, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_root_keys(path=link, env_value=None)


def test_load_refuses_directory(tmp_path: Path) -> None:
    directory = tmp_path / "root.keys"
    directory.mkdir(mode=0o700)
    with pytest.raises(KeyFileError):
        load_root_keys(path=directory, env_value=None)


def test_load_malformed_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "root.keys"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"# fine\n1:garbage\n")
    os.close(fd)
    with pytest.raises(KeyFileError, match="line 2"):
        load_root_keys(path=path, env_value=None)


def test_add_key_appends_active_key_and_keeps_pseudonym_key() -> None:
    keys = RootKeys(keys={1: KEY_A}, active=1, pseudonym_key_id=1)
    rotated = add_key(keys)
    assert rotated.active == 2
    assert rotated.pseudonym_key_id == 1
    assert rotated.keys[1] == KEY_A
    assert len(rotated.keys[2]) == 32
    assert rotated.keys[2] != KEY_A
    assert dict(keys.keys) == {1: KEY_A}
    again = add_key(rotated)
    assert again.active == 3
    assert parse_root_keys(format_root_keys(again)) == again


def test_add_key_runs_out_of_ids() -> None:
    keys = RootKeys(keys={1: KEY_A, 65535: KEY_B}, active=65535, pseudonym_key_id=1)
    with pytest.raises(KeyFileError):
        add_key(keys)
