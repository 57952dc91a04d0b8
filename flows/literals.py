"""The parts of a text a translation must keep exactly as they are.

A translated screen that loses ``/wipe``, a link, a phone number or a number
sends a member nowhere or says something false ("call 1-800-…" with a digit
missing), and no reader of the translation alone would notice. These are
found in the English and looked for, as written, in each translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# URLs end where their ASCII characters do: Chinese puts no space after one.
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]"
_URL = re.compile(rf"https?://{_URL_CHARS}+")
# Bare domains as the texts write them: tips.fbi.gov, help.unhcr.org. Only ASCII
# letters may not touch a match: in Chinese "访问help.unhcr.org" is a link too.
_DOMAIN = re.compile(rf"(?<![A-Za-z0-9_@/.:-])(?:[a-z0-9-]+\.)+[a-z]{{2,}}(?:/{_URL_CHARS}*)?")
_COMMAND = re.compile(r"(?<![A-Za-z0-9_/.:-])/[a-z][a-z_]*\b")
_PHONE = re.compile(r"(?<![A-Za-z0-9_+-])\+?\d{1,4}(?:[- ]\d{2,4}){2,}(?![A-Za-z0-9_-])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# "HK$1 million" becomes "100万港元" in Chinese: a number with a scale word is
# rewritten, not dropped, so it is not checked.
_SCALED = re.compile(r"\s*(?:million|billion|thousand)\b", re.IGNORECASE)
_TRAILING = ".,;:!?)"


def _links(text: str) -> list[str]:
    found = [match.rstrip(_TRAILING) for match in _URL.findall(text)]
    without = _URL.sub(" ", text)
    found += [match.rstrip(_TRAILING) for match in _DOMAIN.findall(without)]
    return found


def _numbers(text: str) -> set[str]:
    """Every number, with thousands separators dropped: 4,997 and 4997 are one."""
    numbers: set[str] = set()
    for match in _NUMBER.finditer(text):
        if _SCALED.match(text, match.end()):
            continue
        value = match.group(0)
        # "4,997" and "52,103" group thousands; "1.5" is a decimal.
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", value):
            value = value.replace(",", "")
        numbers.add(value)
    return numbers


@dataclass(frozen=True)
class Literals:
    commands: frozenset[str]
    links: frozenset[str]
    phones: frozenset[str]
    numbers: frozenset[str]


def literals(text: str) -> Literals:
    links = _links(text)
    rest = _DOMAIN.sub(" ", _URL.sub(" ", text))
    return Literals(
        commands=frozenset(_COMMAND.findall(rest)),
        links=frozenset(links),
        phones=frozenset(_PHONE.findall(rest)),
        numbers=frozenset(_numbers(rest)),
    )


def dropped(english: str, translation: str) -> list[str]:
    """What the translation lacks of the English's commands, links, phones and numbers."""
    wanted = literals(english)
    have = literals(translation)
    missing = [
        *(command for command in wanted.commands if command not in have.commands),
        *(link for link in wanted.links if link not in translation),
        *(phone for phone in wanted.phones if phone not in translation),
        *(number for number in wanted.numbers if number not in have.numbers),
    ]
    return sorted(set(missing), key=missing.index)
