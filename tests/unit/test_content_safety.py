"""No text, in any language, gives advice that FACTS.md's safety rules forbid.

Two rules are checked by phrase, per locale, because a wrong sentence there can
get a member's family detained or hand a member's location to the PRC:

- never advise relatives in China to install or use WhatsApp, Signal, a VPN, a
  "secure messenger" or any foreign app (Xinjiang police software flags them);
- never say that consular notification can be refused or is the detainee's
  choice (in the US it is mandatory for China, Hong Kong and Macao).

The phrase lists are deliberately strict: a text that names relatives may not
recommend a messenger anywhere in it unless the sentence says not to, and a
text that names a consulate or an embassy may not speak of refusing, agreeing
or choosing at all. The old texts that broke the rules are kept below as
fixtures, in every locale they were shipped in, so the rules provably catch
them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from flows.catalog import parse_po
from flows.messages import flow_messages
from flows.registry import LOCALES, SOURCE_LOCALE, Registry, build_registry, read_sources


@dataclass(frozen=True)
class Words:
    family: re.Pattern[str]
    """Relatives: the people in China the first rule protects."""
    messenger: re.Pattern[str]
    """A messenger, an app or a VPN being recommended."""
    advice: re.Pattern[str]
    """Verbs that recommend using or installing something."""
    negation: re.Pattern[str]
    """A sentence with one of these warns rather than advises."""
    consulate: re.Pattern[str]
    choice: re.Pattern[str]
    """Refusing, agreeing to or choosing consular notification."""


def _any(*words: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile("|".join(words), flags)


_LATIN_APPS = ("whatsapp", "signal", "viber", "vpn")
WORDS: dict[str, Words] = {
    "en": Words(
        family=_any(
            r"\bfamil", r"\brelative", r"\bparents?\b", r"\bmother\b", r"\bfather\b", flags=re.I
        ),
        messenger=_any(
            r"secure messeng",
            r"secure messaging",
            r"encrypted (?:app|messeng|messaging|chat)",
            *(rf"\b{app}\b" for app in _LATIN_APPS),
            flags=re.I,
        ),
        advice=_any(r"\buse\b", r"\binstall", r"\bdownload", r"\bswitch to\b", flags=re.I),
        negation=_any(r"\bnever\b", r"\bnot\b", r"\bdon't\b", r"\bno\b", flags=re.I),
        consulate=_any(r"consul", r"embass", flags=re.I),
        choice=_any(
            r"refus",
            r"declin",
            r"before you agree",
            r"your choice",
            r"you choose",
            r"choose not",
            r"optional",
            r"say no",
            r"(?:do not|don't) have to",
            r"need not",
            flags=re.I,
        ),
    ),
    "zh_Hans": Words(
        family=_any("家人", "亲属", "亲人", "家属", "父母", "亲戚"),
        messenger=_any(
            "安全的通讯",
            "安全通讯",
            "加密通讯",
            "加密的通讯",
            "加密聊天",
            "翻墙",
            *_LATIN_APPS,
            flags=re.I,
        ),
        advice=_any("使用", "安装", "下载", "改用", "用"),
        negation=_any("不", "切勿", "别", "勿", "绝不", "禁止"),
        consulate=_any("领事", "使馆"),
        choice=_any(
            "拒绝", "同意之前", "同意前", "由您决定", "可以选择", "可选", "不必", "无须", "无需"
        ),
    ),
    "zh_Hant": Words(
        family=_any("家人", "親屬", "親人", "家屬", "父母", "親戚"),
        messenger=_any(
            "安全的通訊",
            "安全通訊",
            "加密通訊",
            "加密的通訊",
            "加密聊天",
            "翻牆",
            *_LATIN_APPS,
            flags=re.I,
        ),
        advice=_any("使用", "安裝", "下載", "改用", "用"),
        negation=_any("不", "切勿", "別", "勿", "絕不", "禁止"),
        consulate=_any("領事", "使館"),
        choice=_any(
            "拒絕", "同意之前", "同意前", "由您決定", "可以選擇", "可選", "不必", "無須", "無需"
        ),
    ),
    "ug": Words(
        # ئائىلە family, تۇغقان relative, ئاتا-ئانا parents
        family=_any("ئائىل", "تۇغقان", "ئاتا-ئانا"),
        # بىخەتەر ئالاقە secure messaging, شىفىرلىق encrypted
        messenger=_any("بىخەتەر ئالاقە", "شىفىرلىق", *_LATIN_APPS, flags=re.I),
        # ئىشلەت use, ئورنات install, چۈشۈر download
        advice=_any("ئىشلىت", "ئىشلەت", "ئورنىت", "ئورنات", "چۈشۈر"),
        # ھەرگىز never; negative imperatives end in -ماڭ / -مەڭ / -ماسلىق / -مەسلىك
        negation=_any("ھەرگىز", r"ماڭ\b", r"مەڭ\b", "ماسلىق", "مەسلىك", "ئەمەس"),
        consulate=_any("كونسۇل", "ئەلچىخان"),
        # رەت قىل refuse, قوشۇلۇشتىن بۇرۇن before you agree, تاللا choose, ئىختىيار choice
        choice=_any("رەت", "قوشۇلۇشتىن بۇرۇن", "تاللا", "ئىختىيار"),
    ),
}

# Sentences end at a full stop, a question or exclamation mark (Latin, Chinese
# or Arabic), a semicolon or a line break; a colon does not end one, so
# "Never ask relatives …: police flag them" stays one warning.
_SENTENCE = re.compile(r"(?<=[.!?。！？；;؟])\s*|\n+")


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE.split(text) if part.strip()]


def app_advice_to_relatives(locale: str, text: str) -> list[str]:
    """Sentences recommending a messenger, app or VPN in a text that names relatives."""
    words = WORDS[locale]
    if not words.family.search(text):
        return []
    return [
        sentence
        for sentence in sentences(text)
        if words.messenger.search(sentence)
        and words.advice.search(sentence)
        and not words.negation.search(sentence)
    ]


def consular_choice(locale: str, text: str) -> list[str]:
    """Words of refusing, agreeing or choosing in a text that names a consulate."""
    words = WORDS[locale]
    if not words.consulate.search(text):
        return []
    return [match.group(0) for match in words.choice.finditer(text)]


def violations(locale: str, text: str) -> list[str]:
    return [
        *(
            f"advises an app where relatives are named: {s!r}"
            for s in app_advice_to_relatives(locale, text)
        ),
        *(f"consular notification as a choice: {w!r}" for w in consular_choice(locale, text)),
    ]


# The texts shipped before the December 2026 review, which broke the rules.
OLD_TEXTS: list[tuple[str, str]] = [
    (
        "en",
        "To protect your contact with family and friends:\n\n"
        "• Use a secure messenger for private talks.\n"
        "• Turn on two-step verification on your accounts. Then a stolen password alone is not "
        "enough to get in.",
    ),
    (
        "en",
        "Be careful with links and files you did not expect.\n\n"
        "Use a secure messenger for private talks with family and friends.",
    ),
    (
        "en",
        "Ask that your family or a trusted person be told where you are held. You choose who.\n\n"
        "Officers may offer to inform a Chinese consulate. It is not certain, but this may let "
        "Chinese officials know where you are. Ask your lawyer before you agree.",
    ),
    ("zh_Hans", "为保护您与家人和朋友的联系：\n\n• 私下交谈时，使用安全的通讯软件。"),
    ("zh_Hans", "与家人和朋友私下交谈时，请使用安全的通讯软件。"),
    (
        "zh_Hans",
        "官员可能会提出通知中国领事馆。这并不确定，但这样做可能会让中国官员知道您在哪里。"
        "同意之前，请先问您的律师。",
    ),
    ("zh_Hant", "保護您與家人和朋友之間的聯絡：\n\n• 私下交談時，使用安全的通訊應用程式。"),
    ("zh_Hant", "與家人和朋友私下交談時，請使用安全的通訊應用程式。"),
    (
        "zh_Hant",
        "執法人員可能會提出通知中國領事館。雖然不確定，但這可能讓中國官員得知您在哪裡。"
        "同意之前，請先問您的律師。",
    ),
    (
        "ug",
        "ئائىلىڭىز ۋە دوستلىرىڭىز بىلەن بولغان ئالاقىنى قوغداش ئۈچۈن:\n\n"
        "• شەخسىي سۆزلىشىشتە بىخەتەر ئالاقە ئەپى ئىشلىتىڭ.",
    ),
    (
        "ug",
        "ئائىلىڭىز ۋە دوستلىرىڭىز بىلەن شەخسىي سۆزلىشىشتە بىخەتەر ئالاقە ئەپى ئىشلىتىڭ.",
    ),
    (
        "ug",
        "خادىملار خىتاي كونسۇلخانىسىغا خەۋەر قىلىشنى تەكلىپ قىلىشى مۇمكىن. "
        "قوشۇلۇشتىن بۇرۇن ئادۋوكاتىڭىزدىن سوراڭ.",
    ),
]

# Warnings that must stay allowed: the rules must not push writers away from them.
SAFE_TEXTS: list[tuple[str, str]] = [
    ("en", "Never ask relatives in China to install or use any app."),
    ("en", "Police software in Xinjiang flags foreign apps and VPNs as suspicious."),
    ("en", "With people outside China, a secure messenger protects private talks."),
    (
        "en",
        "Officers may tell a Chinese consulate that you are held. In the United States they "
        'must do so, even if the person objects. Say "Do not contact the Chinese embassy."',
    ),
    ("zh_Hans", "切勿要求在中国的亲属安装或使用任何应用程序。"),
    ("zh_Hant", "切勿要求在中國的親屬安裝或使用任何應用程式。"),
    ("ug", "خىتايدىكى تۇغقانلىرىڭىزدىن ھەرگىز ھېچقانداق ئەپ ئورنىتىشنى تەلەپ قىلماڭ."),
]


@pytest.mark.parametrize(("locale", "text"), OLD_TEXTS)
def test_the_rules_catch_the_old_unsafe_texts(locale: str, text: str) -> None:
    assert violations(locale, text) != []


@pytest.mark.parametrize(("locale", "text"), SAFE_TEXTS)
def test_the_rules_leave_warnings_alone(locale: str, text: str) -> None:
    assert violations(locale, text) == []


def _shipped_texts(registry: Registry) -> Iterator[tuple[str, str, str]]:
    """(locale, where, text) for every English and translated text the bot can show."""
    for flow in registry.flows.values():
        for message in flow_messages(flow):
            yield SOURCE_LOCALE, message.context, message.msgid
    template = read_sources().template
    if template is not None:
        for (context, msgid), _ in parse_po(
            template, locale="template", origin="messages.pot"
        ).entries.items():
            if context is None:
                yield SOURCE_LOCALE, msgid[:40], msgid
    for locale, catalog in registry.catalogs.items():
        for entry in catalog.entries.values():
            for text in entry.msgstr:
                if text:
                    yield locale, entry.context or entry.msgid[:40], text


def test_no_shipped_text_breaks_the_safety_rules() -> None:
    registry = build_registry(read_sources())
    found = [
        f"{locale} {where}: {problem}"
        for locale, where, text in _shipped_texts(registry)
        for problem in violations(locale, text)
    ]
    assert found == []
    assert set(WORDS) == set(LOCALES)
