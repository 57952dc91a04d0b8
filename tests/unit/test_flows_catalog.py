"""The PO reader, checked on tricky inputs and against Babel's reader."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from flows.catalog import Catalog, Entry, Key, parse_po
from flows.errors import CatalogError
from flows.registry import LOCALES_DIR, TRANSLATED_LOCALES

TRICKY = r"""# Translator comment.
msgid ""
msgstr ""
"Project-Id-Version: Yardem 0.1\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#. Screen text.
#: flows/definitions/main.yaml:6
msgctxt "main.menu"
msgid ""
"What would you like to know about?\n"
"\n"
"Choose below."
msgstr ""
"Was möchten Sie wissen?\n"
"\n"
"Wählen Sie unten."

#: bot/texts.py:1
msgid "Say \"hi\" to C:\\temp\tnow"
msgstr "Sag \"hallo\" zu C:\\temp\tjetzt"

msgctxt "main.menu.about"
msgid "About"
msgstr "Über"

msgid "About"
msgstr "Info"

#, fuzzy
msgctxt "main.menu.help"
msgid "Help"
msgstr "Hilfe"

#, fuzzy, python-format
msgid "Hello {name}"
msgstr "Hallo {name}"

#, python-format
msgid "{n} day"
msgid_plural "{n} days"
msgstr[0] "{n} Tag"
msgstr[1] "{n} Tage"

msgid "{n} hour"
msgid_plural "{n} hours"
msgstr[0] "{n} Stunde"
msgstr[1] ""

#, fuzzy
#~ msgid "Old text"
#~ msgstr "Alter Text"

#: bot/texts.py:8
msgid "Kept"
msgstr "Behalten"

#: bot/texts.py:9
#, fuzzy
#| msgid "Bye"
msgid "Goodbye"
msgstr "Tschüss"

msgid "Empty"
msgstr ""
#~ msgctxt "gone"
#~ msgid "Gone"
#~ msgstr "Weg"
msgid "Last"
msgstr "Letzte"
"""


def parse(text: str) -> Catalog:
    return parse_po(text, locale="de", origin="x.po")


def entry(catalog: Catalog, context: str | None, msgid: str) -> Entry:
    found = catalog.lookup(context, msgid)
    assert found is not None, (context, msgid, sorted(catalog.entries, key=str))
    return found


def test_multi_line_strings_are_joined() -> None:
    menu = entry(parse(TRICKY), "main.menu", "What would you like to know about?\n\nChoose below.")
    assert menu.msgstr == ("Was möchten Sie wissen?\n\nWählen Sie unten.",)
    assert menu.line == 10  # the msgctxt line
    assert menu.usable


def test_escapes() -> None:
    said = entry(parse(TRICKY), None, 'Say "hi" to C:\\temp\tnow')
    assert said.msgstr == ('Sag "hallo" zu C:\\temp\tjetzt',)


def test_context_separates_equal_msgids() -> None:
    catalog = parse(TRICKY)
    assert entry(catalog, "main.menu.about", "About").msgstr == ("Über",)
    assert entry(catalog, None, "About").msgstr == ("Info",)


def test_plurals() -> None:
    catalog = parse(TRICKY)
    days = entry(catalog, None, "{n} day")
    assert days.msgid_plural == "{n} days"
    assert days.msgstr == ("{n} Tag", "{n} Tage")
    assert days.translated
    assert days.usable
    assert not days.fuzzy
    hours = entry(catalog, None, "{n} hour")
    assert hours.msgstr == ("{n} Stunde", "")
    assert not hours.translated
    assert not hours.usable


def test_plural_forms_given_out_of_order() -> None:
    catalog = parse('msgid "a"\nmsgid_plural "as"\nmsgstr[1] "bs"\nmsgstr[0] "b"\n')
    assert entry(catalog, None, "a").msgstr == ("b", "bs")
    gap = parse('msgid "a"\nmsgid_plural "as"\nmsgstr[1] "bs"\n')
    assert entry(gap, None, "a").msgstr == ("", "bs")


@pytest.mark.parametrize(
    ("context", "msgid", "fuzzy"),
    [
        ("main.menu.help", "Help", True),
        (None, "Hello {name}", True),  # "#, fuzzy, python-format"
        (None, "{n} day", False),  # "#, python-format" alone
        (None, "Goodbye", True),  # flags after "#:", before "#|"
        (None, "About", False),
        ("main.menu.about", "About", False),
        (None, "Last", False),
    ],
)
def test_fuzzy_flag(context: str | None, msgid: str, fuzzy: bool) -> None:
    found = entry(parse(TRICKY), context, msgid)
    assert found.fuzzy is fuzzy
    assert found.usable is (not fuzzy)


def test_fuzzy_flag_in_a_combined_flag_line() -> None:
    catalog = parse('#, python-format,fuzzy\nmsgid "a"\nmsgstr "b"\n')
    assert entry(catalog, None, "a").fuzzy
    not_fuzzy = parse('#, fuzzy-ish, python-format\nmsgid "a"\nmsgstr "b"\n')
    assert not entry(not_fuzzy, None, "a").fuzzy


def test_obsolete_entries_are_ignored_and_keep_their_flags() -> None:
    catalog = parse(TRICKY)
    assert catalog.lookup(None, "Old text") is None
    assert catalog.lookup("gone", "Gone") is None
    # A "#, fuzzy" written before an obsolete entry must not stick to the next one.
    assert not entry(catalog, None, "Kept").fuzzy
    assert not entry(catalog, None, "Last").fuzzy
    assert entry(catalog, None, "Empty").msgstr == ("",)


@pytest.mark.parametrize(
    "text",
    [
        'msgid "one"\nmsgstr "eins"\n\n#, fuzzy\n#~ msgid "old"\n#~ msgstr "alt"\n\n'
        '#: a.py:2\nmsgid "two"\nmsgstr "zwei"\n',
        # With gettext's previous msgids, of the obsolete entry (#~|) and of the next (#|).
        'msgid "one"\nmsgstr "eins"\n\n#, fuzzy\n#~| msgid "olde"\n#~ msgid "old"\n'
        '#~ msgstr "alt"\n\n#| msgid "tow"\nmsgid "two"\nmsgstr "zwei"\n',
    ],
)
def test_obsolete_fuzzy_entry_between_entries(text: str) -> None:
    catalog = parse(text)
    assert set(catalog.entries) == {(None, "one"), (None, "two")}
    assert not entry(catalog, None, "two").fuzzy


def test_header_is_parsed_and_not_an_entry() -> None:
    catalog = parse(TRICKY)
    assert (None, "") not in catalog.entries
    assert catalog.headers["Project-Id-Version"] == "Yardem 0.1"
    assert catalog.headers["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    assert catalog.locale == "de"


def test_plural_forms_default_without_header() -> None:
    catalog = parse('msgid "a"\nmsgstr "b"\n')
    assert catalog.headers == {}
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"


def test_empty_text_is_an_empty_catalog() -> None:
    assert dict(parse("").entries) == {}
    assert dict(parse("# only a comment\n\n").entries) == {}


def test_duplicate_entries_are_an_error() -> None:
    text = 'msgid "a"\nmsgstr "b"\n\nmsgid "x"\nmsgstr "y"\n\nmsgid "a"\nmsgstr "c"\n'
    with pytest.raises(CatalogError, match=r"^x\.po:7: duplicate message 'a'"):
        parse(text)


def test_duplicate_with_context_is_an_error() -> None:
    text = 'msgctxt "c"\nmsgid "a"\nmsgstr "b"\n\nmsgctxt "c"\nmsgid "a"\nmsgstr "d"\n'
    with pytest.raises(CatalogError, match=r"^x\.po:5: duplicate"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ('msgid "a"\nmsgstr "b"\nbogus "c"\n', "x.po:3", "unknown keyword 'bogus'"),
        ('msgid "a"\nmsgstr b\n', "x.po:2", "expected a quoted string"),
        ('msgid "a"\nmsgstr "b\n', "x.po:2", "expected a quoted string"),
        ('msgid "a\\"\nmsgstr ""\n', "x.po:1", "bad string escape"),
        ('"floating"\nmsgid "a"\n', "x.po:1", "continuation line without a keyword"),
        ('msgid "a"\nmsgid_plural "as"\nmsgstr[x] "b"\n', "x.po:3", "bad plural index"),
        ('msgid "a"\nmsgid_plural "as"\nmsgstr[\u00b2] "b"\n', "x.po:3", "bad plural index"),
        ('\n\nmsgctxt "c"\n\n# comment\n', "x.po:3", "entry without msgid"),
        ('msgid "a"\nmsgstr "b"\n\n\nmsgstr "again"\n', "x.po:5", "msgstr without its own msgid"),
        ('msgstr "orphan"\nmsgid "a"\n', "x.po:1", "msgstr without its own msgid"),
        (
            'msgid "a"\nmsgid_plural "as"\nmsgstr[0] "b"\nmsgstr[0] "c"\n',
            "x.po:4",
            "msgstr without its own msgid",
        ),
        ('#~ msgid "old"\nmsgstr[0] "b"\n', "x.po:2", "msgstr without its own msgid"),
        ("<html>\n", "x.po:1", "expected a quoted string"),
        ("<html> <body>\n", "x.po:1", "expected a quoted string"),
        ('msgidd "a"\n', "x.po:1", "unknown keyword 'msgidd'"),
        # Escapes Babel would show members as typed (gettext's octal and hex included).
        ('msgid "a"\nmsgstr "\\x41"\n', "x.po:2", "bad string escape '\\\\x'"),
        ('msgid "a"\nmsgstr "\\101"\n', "x.po:2", "bad string escape '\\\\1'"),
        ('msgid "a"\nmsgstr ""\n"it\\\'s"\n', "x.po:3", "bad string escape"),
        ('msgid "a"\nmsgstr "say "hi""\n', "x.po:2", "quote inside a string"),
        ('msgctxt "c"\nmsgid ""\nmsgstr "x"\n', "x.po:1", "empty msgid is only for the header"),
        ('msgid "a"\nmsgstr[1] "b"\n', "x.po:2", "msgstr[1] without a msgid_plural"),
        ('msgid "a"\nmsgstr "b"\nmsgid_plural "as"\n', "x.po:3", "msgid_plural must follow"),
        ('msgid "a"\nmsgid_plural "as"\nmsgid_plural "bs"\n', "x.po:3", "msgid_plural must"),
        # What Babel's own parser refuses keeps its line too.
        ('msgid "a"\n\nmsgid "b"\nmsgstr "c"\n', "x.po:1", "missing msgstr for msgid 'a'"),
        ('msgid "a"\nmsgstr "b"\n#-#-#-#-#  ug.po  #-#-#-#-#\n', "x.po:3", "conflicts"),
    ],
)
def test_garbage_names_file_and_line(text: str, where: str, what: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse(text)
    assert str(caught.value).startswith(f"{where}: ")
    assert what in str(caught.value)


def _with_plural_forms(forms: str, body: str) -> str:
    return f'msgid ""\nmsgstr ""\n"Plural-Forms: {forms}\\n"\n\n{body}'


def test_more_forms_than_plural_forms_declares_are_refused() -> None:
    body = 'msgid "a"\nmsgid_plural "as"\nmsgstr[0] "b"\nmsgstr[1] "bs"\n'
    with pytest.raises(CatalogError, match=r"^x\.po:8: msgstr\[1\] but Plural-Forms says"):
        parse(_with_plural_forms("nplurals=1; plural=0;", body))
    with pytest.raises(CatalogError, match=r"^x\.po:1: Plural-Forms: .* is not a number"):
        parse(_with_plural_forms("nplurals=two; plural=(n != 1);", body))


def test_three_plural_forms_are_read_and_fewer_written_stay_fewer() -> None:
    forms = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 ? 1 : 2);"
    catalog = parse(
        _with_plural_forms(
            forms,
            'msgid "a"\nmsgid_plural "as"\nmsgstr[0] "x"\nmsgstr[1] "y"\nmsgstr[2] "z"\n\n'
            'msgid "b"\nmsgid_plural "bs"\nmsgstr[0] "u"\nmsgstr[1] "v"\n',
        )
    )
    assert entry(catalog, None, "a").msgstr == ("x", "y", "z")
    assert entry(catalog, None, "b").msgstr == ("u", "v")
    assert catalog.plural_forms == forms


def test_header_flags_and_values_are_read_as_written() -> None:
    # A template's header is "#, fuzzy": that flag must not reach the first message.
    catalog = parse(
        '#, fuzzy\nmsgid ""\nmsgstr ""\n"Language: ../../etc/passwd\\n"\n'
        '"POT-Creation-Date: not a date\\n"\n\nmsgid "a"\nmsgstr "b"\n'
    )
    assert not entry(catalog, None, "a").fuzzy
    # Judging the language is the upload checks' job (flows.bundle), not a syntax error.
    assert catalog.headers["Language"] == "../../etc/passwd"
    assert catalog.headers["POT-Creation-Date"] == "not a date"


# Against Babel ---------------------------------------------------------------


def _ours(text: str) -> dict[Key, tuple[bool, tuple[str, ...]]]:
    return {key: (found.fuzzy, found.msgstr) for key, found in parse(text).entries.items()}


def _babel(text: str) -> dict[Key, tuple[bool, tuple[str, ...]]]:
    result: dict[Key, tuple[bool, tuple[str, ...]]] = {}
    for message in read_po(io.StringIO(text)):
        msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
        if msgid == "" and message.context is None:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        result[(message.context, str(msgid))] = (message.fuzzy, tuple(str(s) for s in strings))
    return result


def test_tricky_catalog_reads_as_babel_reads_it() -> None:
    assert _ours(TRICKY) == _babel(TRICKY)


def _shipped() -> list[Path]:
    paths = [LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po" for locale in TRANSLATED_LOCALES]
    return [path for path in [*paths, LOCALES_DIR / "messages.pot"] if path.is_file()]


@pytest.mark.skipif(not _shipped(), reason="no catalogs under locales/ yet")
@pytest.mark.parametrize("path", _shipped(), ids=lambda path: path.parent.parent.name)
def test_shipped_catalog_reads_as_babel_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    ours = _ours(text)
    assert ours, f"{path} has no entries"
    assert ours == _babel(text)
