"""Uploads: what a good one contributes, and one clear refusal for each kind of bad one.

Every malicious file is built here, in memory, the way an attacker would.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterable

import pytest

from flows.bundle import (
    MAX_FILE_BYTES,
    MAX_MEMBERS,
    MAX_TOTAL_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    Upload,
    UploadError,
    UploadErrorCode,
    read_upload,
)
from flows.registry import build_registry, read_sources
from tests.unit.flow_samples import CLEAN_FLOWS, INFO_YAML, make_sources, quote

Code = UploadErrorCode


def po(
    language: str | None, body: str = 'msgctxt "main.menu"\nmsgid "Choose a topic."\nmsgstr "x"\n'
) -> bytes:
    headers = [quote("Content-Type: text/plain; charset=UTF-8\n")]
    if language is not None:
        headers.append(quote(f"Language: {language}\n"))
    return ('msgid ""\nmsgstr ""\n' + "\n".join(headers) + "\n\n" + body).encode()


def make_zip(
    members: Iterable[tuple[str | zipfile.ZipInfo, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def refused(name: str, data: bytes) -> UploadError:
    with pytest.raises(UploadError) as caught:
        read_upload(name, data)
    return caught.value


# --- what a good upload gives -------------------------------------------------------------


def test_a_catalog_is_filed_under_the_locale_in_its_header() -> None:
    upload = read_upload("whatever-poedit-called-it.po", po("ug"))
    assert dict(upload.po_files) == {"ug": po("ug").decode()}
    assert not upload.flow_files
    assert upload.new_locales == frozenset()


def test_a_regional_header_names_the_known_locale() -> None:
    assert set(read_upload("a.po", po("zh_CN")).po_files) == {"zh_Hans"}
    assert set(read_upload("a.po", po("zh-TW")).po_files) == {"zh_Hant"}


def test_a_language_cldr_knows_is_a_new_locale() -> None:
    upload = read_upload("turkish.po", po("tr"))
    assert set(upload.po_files) == {"tr"}
    assert upload.new_locales == frozenset({"tr"})


def test_a_flow_file_is_named_by_the_flow_it_holds() -> None:
    upload = read_upload("info (2).YML", INFO_YAML.encode())
    assert dict(upload.flow_files) == {"info.yaml": INFO_YAML}
    assert dict(upload.origins) == {"info.yaml": "info (2).YML"}


def test_windows_line_ends_and_byte_order_marks_are_dropped() -> None:
    data = b"\xef\xbb\xbf" + INFO_YAML.replace("\n", "\r\n").encode()
    assert read_upload("info.yaml", data).flow_files["info.yaml"] == INFO_YAML


def test_a_downloaded_set_zipped_again_is_the_same_set(tmp_path: os.PathLike[str]) -> None:
    live = read_sources()
    members: list[tuple[str, bytes]] = [
        *((f"texts/{name}", text.encode()) for name, text in live.flow_files.items()),
        *((f"texts/{locale}.po", text.encode()) for locale, text in live.po_files.items()),
        ("texts/messages.pot", (live.template or "").encode()),
        ("texts/", b""),
        ("__MACOSX/texts/._main.yaml", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
    ]
    upload = read_upload("yardem-texts.zip", make_zip(members))
    assert set(upload.flow_files) == set(live.flow_files)
    assert set(upload.po_files) == set(live.po_files)
    assert set(upload.ignored) == {
        "texts/messages.pot",
        "texts/",
        "__MACOSX/texts/._main.yaml",
        ".DS_Store",
    }
    draft = upload.apply_to(live)
    assert build_registry(draft).version == build_registry(live).version


def test_apply_to_adds_and_replaces_without_touching_the_rest() -> None:
    live = make_sources()
    changed = INFO_YAML.replace("More facts.", "Even more facts.")
    upload = Upload(flow_files={"info.yaml": changed}, po_files={"tr": "x"})
    draft = upload.apply_to(live)
    assert draft.flow_files["info.yaml"] == changed
    assert draft.flow_files["main.yaml"] == live.flow_files["main.yaml"]
    assert draft.po_files["tr"] == "x"
    assert draft.po_files["ug"] == live.po_files["ug"]
    assert draft.template == live.template
    assert live.flow_files["info.yaml"] == CLEAN_FLOWS["info.yaml"]


# --- files of any kind -------------------------------------------------------------------


def test_files_over_two_megabytes_are_refused() -> None:
    error = refused("big.po", po("ug") + b"#" * MAX_FILE_BYTES)
    assert error.code is Code.TOO_LARGE
    assert error.params["limit"] == MAX_FILE_BYTES
    assert error.params["file"] == "big.po"
    assert "over the limit" in str(error)


def test_empty_files_are_refused() -> None:
    assert refused("ug.po", b"").code is Code.EMPTY


@pytest.mark.parametrize("name", ["notes.txt", "texts.docx", "photo.jpg", "ug.mo", "no-suffix"])
def test_unknown_types_are_refused(name: str) -> None:
    error = refused(name, b"hello")
    assert error.code is Code.UNKNOWN_TYPE
    assert error.params == {"file": name}


def test_the_template_is_refused_on_its_own() -> None:
    assert refused("messages.pot", po(None)).code is Code.TEMPLATE


def test_text_that_is_not_utf8_is_refused() -> None:
    error = refused("ug.po", po("ug").replace(b'msgstr "x"', b'msgstr "\xff\xfe"'))
    assert error.code is Code.NOT_UTF8
    assert isinstance(error.params["byte"], int)


# --- catalogs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ('msgid "a"\nmsgstr "b"\nmsgfoo "c"\n', 8),  # unknown keyword
        ('msgid "a"\nmsgstr "b\n', 7),  # unclosed quote
        ('msgid "a"\nmsgstr "b"\n\nmsgid "a"\nmsgstr "c"\n', 9),  # duplicate
        ('msgstr "lonely"\n', 6),  # msgstr without msgid
        ('msgid "a"\n\nmsgid "b"\nmsgstr "c"\n', 6),  # msgid without msgstr (Babel's check)
        ('msgid "a"\nmsgstr "b"\n"\\q"\n', 8),  # bad escape
    ],
)
def test_po_syntax_errors_give_the_line(body: str, line: int) -> None:
    error = refused("ug.po", po("ug", body))
    assert error.code is Code.PO_SYNTAX
    assert error.params["line"] == line
    assert error.params["file"] == "ug.po"
    assert f"line {line}" in str(error)
    assert "<upload>" not in str(error)


def test_a_catalog_without_a_language_header_is_refused() -> None:
    assert refused("ug.po", po(None)).code is Code.PO_NO_LANGUAGE


@pytest.mark.parametrize("language", ["tlh", "xx", "und", "../../etc/passwd", "ug;rm -rf", "C"])
def test_a_catalog_for_a_language_cldr_does_not_know_is_refused(language: str) -> None:
    error = refused("x.po", po(language))
    assert error.code is Code.PO_UNKNOWN_LOCALE
    assert error.params["locale"] == language


@pytest.mark.parametrize("language", ["en", "en_GB", "en-US"])
def test_a_catalog_for_the_source_language_is_refused(language: str) -> None:
    assert refused("en.po", po(language)).code is Code.PO_SOURCE_LOCALE


# --- flow files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ('id: x\nrun: !!python/object/apply:os.system ["id"]\n', "tag:yaml.org,2002:python/"),
        ("id: !!python/name:os.system x\n", "tag:yaml.org,2002:python/name:os.system"),
        ("id: !!str info\n", "tag:yaml.org,2002:str"),
        ("id: !custom info\n", "!custom"),
        ("%TAG !e! tag:evil.example,2026:\n---\nid: !e!x info\n", "tag:evil.example,2026:"),
    ],
)
def test_yaml_with_tags_is_refused(text: str, tag: str) -> None:
    error = refused("info.yaml", text.encode())
    assert error.code is Code.YAML_TAG
    assert str(error.params["tag"]).startswith(tag)


def test_yaml_anchors_and_alias_bombs_are_refused() -> None:
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        laughs.append(f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]")
    error = refused("bomb.yaml", "\n".join(laughs).encode())
    assert error.code is Code.YAML_ANCHOR
    assert error.params["line"] == 1
    alias_only = refused("x.yaml", b"id: info\nstart: *nowhere\n")
    assert alias_only.code is Code.YAML_ANCHOR
    assert alias_only.params["line"] == 2
    merge_key = refused("x.yaml", b"base: &b {kind: end}\nnode:\n  <<: *b\n")
    assert merge_key.code is Code.YAML_ANCHOR


def test_deeply_nested_yaml_is_refused() -> None:
    deep = "x: " + "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1) + "\n"
    error = refused("deep.yaml", deep.encode())
    assert error.code is Code.YAML_TOO_DEEP
    assert error.params["limit"] == MAX_YAML_DEPTH


def test_yaml_with_too_many_values_is_refused() -> None:
    many = "x: [" + ", ".join(["1"] * MAX_YAML_NODES) + "]\n"
    assert len(many) < MAX_FILE_BYTES
    assert refused("many.yaml", many.encode()).code is Code.YAML_TOO_BIG


def test_several_yaml_documents_are_refused() -> None:
    error = refused("two.yaml", (INFO_YAML + "---\n" + INFO_YAML).encode())
    assert error.code is Code.YAML_DOCUMENTS


def test_yaml_syntax_errors_give_the_line() -> None:
    error = refused("info.yaml", b"id: info\nstart: intro\nnodes:\n  - id: [unclosed\n")
    assert error.code is Code.YAML_SYNTAX
    assert error.params["line"] == 5


def test_yaml_that_is_not_a_flow_is_refused_with_the_field() -> None:
    error = refused("info.yaml", INFO_YAML.replace("start: intro\n", "").encode())
    assert error.code is Code.FLOW_INVALID
    assert "start" in str(error.params["detail"])
    assert not str(error.params["detail"]).startswith("<upload>")
    assert refused("list.yaml", b"- 1\n- 2\n").code is Code.FLOW_INVALID


# --- zips ------------------------------------------------------------------------------------


def test_a_zip_member_is_named_inside_its_archive() -> None:
    error = refused("set.zip", make_zip([("ug.po", po("tlh"))]))
    assert error.code is Code.PO_UNKNOWN_LOCALE
    assert error.params["file"] == "set.zip/ug.po"


@pytest.mark.parametrize(
    "member",
    [
        "/etc/cron.d/x.po",
        "../x.po",
        "texts/../../x.po",
        "./x.po",
        "texts//x.po",
        "..\\x.po",
        "C:/x.po",
        "C:x.po",
    ],
)
def test_zip_paths_that_could_escape_are_refused(member: str) -> None:
    error = refused("set.zip", make_zip([("ug.po", po("ug")), (member, po("ug"))]))
    assert error.code is Code.ZIP_UNSAFE_PATH
    assert error.params["file"] == f"set.zip/{member}"


def test_zip_symlinks_are_refused() -> None:
    link = zipfile.ZipInfo("ug.po")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    error = refused("set.zip", make_zip([(link, b"/etc/passwd")]))
    assert error.code is Code.ZIP_LINK
    fifo = zipfile.ZipInfo("zh_Hans.po")
    fifo.create_system = 3
    fifo.external_attr = (stat.S_IFIFO | 0o600) << 16
    assert refused("set.zip", make_zip([(fifo, b"")])).code is Code.ZIP_LINK


@pytest.mark.parametrize("member", ["a/b/ug.po", "a/b/", "locales/ug/LC_MESSAGES/messages.po"])
def test_zip_folders_deeper_than_one_are_refused(member: str) -> None:
    error = refused("set.zip", make_zip([(member, b"" if member.endswith("/") else po("ug"))]))
    assert error.code is Code.ZIP_NESTED


def test_zips_with_too_many_members_are_refused() -> None:
    members = [(f"f{index}.yaml", b"") for index in range(MAX_MEMBERS + 1)]
    error = refused("set.zip", make_zip(members))
    assert error.code is Code.ZIP_TOO_MANY
    assert error.params["count"] == MAX_MEMBERS + 1


def test_a_member_over_two_megabytes_is_refused_before_unpacking() -> None:
    big = po("ug") + b"#" * MAX_FILE_BYTES
    error = refused("set.zip", make_zip([("ug.po", big)]))
    assert error.code is Code.TOO_LARGE
    assert error.params["file"] == "set.zip/ug.po"


def test_a_compression_bomb_is_refused_before_unpacking() -> None:
    bomb = b"\n" * MAX_FILE_BYTES
    data = make_zip([("ug.po", bomb)])
    assert len(data) < 10_000
    error = refused("set.zip", data)
    assert error.code is Code.ZIP_BOMB
    assert int(error.params["ratio"]) > 100


def test_members_unpacking_to_more_than_ten_megabytes_together_are_refused() -> None:
    # Each member is under 2 MB and compresses well but not suspiciously.
    members = []
    for index in range(6):
        noise = os.urandom(20_000).hex().encode()
        members.append((f"f{index}.po", noise + b"\n" * (1_900_000 - len(noise))))
    data = make_zip(members)
    assert len(data) < MAX_FILE_BYTES
    error = refused("set.zip", data)
    assert error.code is Code.ZIP_TOTAL_TOO_LARGE
    assert error.params["limit"] == MAX_TOTAL_BYTES


def test_a_header_that_lies_about_the_size_does_not_get_more_through() -> None:
    data = bytearray(make_zip([("ug.po", po("ug") * 2000)], compression=zipfile.ZIP_DEFLATED))
    real = len(po("ug") * 2000)
    # Shrink the sizes both headers declare, as a bomb would to pass the checks.
    fake = (1000).to_bytes(4, "little")
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = fake
    data[central + 24 : central + 28] = fake
    error = refused("set.zip", bytes(data))
    assert real > 1000
    assert error.code is Code.ZIP_UNREADABLE  # zipfile stops at the declared size: bad CRC


def test_encrypted_members_are_refused() -> None:
    data = bytearray(make_zip([("ug.po", po("ug"))]))
    # zipfile cannot encrypt, so set the "encrypted" flag as an encrypting tool would.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature) + offset
        data[position] |= 0x01
    error = refused("set.zip", bytes(data))
    assert error.code is Code.ZIP_ENCRYPTED
    assert error.params["file"] == "set.zip/ug.po"


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really", b"just text", make_zip([])[:-5]])
def test_unreadable_zips_are_refused(data: bytes) -> None:
    assert refused("set.zip", data).code is Code.ZIP_UNREADABLE


def test_unknown_types_inside_a_zip_are_refused() -> None:
    inner = make_zip([("ug.po", po("ug"))])
    for name, content in (("inner.zip", inner), ("run.sh", b"#!/bin/sh\n"), ("ug.mo", b"\x95")):
        error = refused("set.zip", make_zip([("zh_Hans.po", po("zh_Hans")), (name, content)]))
        assert error.code is Code.UNKNOWN_TYPE
        assert error.params["file"] == f"set.zip/{name}"


def test_a_zip_with_nothing_to_add_is_refused() -> None:
    data = make_zip([("messages.pot", po(None)), ("__MACOSX/._x", b"")])
    assert refused("set.zip", data).code is Code.EMPTY
    assert refused("set.zip", make_zip([])).code is Code.EMPTY


def test_two_files_for_one_locale_or_flow_are_refused() -> None:
    error = refused("set.zip", make_zip([("ug.po", po("ug")), ("ug-new.po", po("ug_CN"))]))
    assert error.code is Code.DUPLICATE
    assert error.params == {
        "file": "set.zip/ug-new.po",
        "other": "set.zip/ug.po",
        "kind": "locale",
        "value": "ug",
    }
    twice = [("info.yaml", INFO_YAML.encode()), ("copy/info.yml", INFO_YAML.encode())]
    flow_error = refused("set.zip", make_zip(twice))
    assert flow_error.code is Code.DUPLICATE
    assert flow_error.params["kind"] == "flow"
    same_name = [("ug.po", po("ug")), ("ug.po", po("ug"))]
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = make_zip(same_name)
    assert refused("set.zip", data).code is Code.DUPLICATE


def test_a_zip_of_the_sample_set_gives_every_file() -> None:
    sources = make_sources()
    members = [(name, text.encode()) for name, text in sources.flow_files.items()]
    members += [
        (
            f"{locale}.po",
            text.replace(
                'msgid ""\nmsgstr ""\n', f'msgid ""\nmsgstr ""\n"Language: {locale}\\n"\n', 1
            ).encode(),
        )
        for locale, text in sources.po_files.items()
    ]
    upload = read_upload("set.zip", make_zip(members))
    assert set(upload.flow_files) == set(CLEAN_FLOWS)
    assert set(upload.po_files) == {"zh_Hans", "zh_Hant", "ug"}
    assert upload.new_locales == frozenset()
    assert upload.ignored == ()
    assert upload.origins["ug"] == "set.zip/ug.po"
    assert upload.origins["help.yaml"] == "set.zip/help.yaml"


def test_every_code_has_english_words() -> None:
    sample: dict[str, str | int] = {
        "file": "f",
        "size": 1,
        "limit": 2,
        "byte": 3,
        "line": 4,
        "detail": "d",
        "locale": "l",
        "tag": "t",
        "other": "o",
        "kind": "k",
        "value": "v",
        "count": 5,
        "ratio": 6,
    }
    for code in UploadErrorCode:
        text = str(UploadError(code, **sample))
        assert text.startswith("f: ")
        assert "{" not in text
