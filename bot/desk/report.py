"""Wording the desk's findings in the coordinator's language: refusals, issues, summaries."""

from __future__ import annotations

from collections.abc import Sequence

from bot.desk import texts
from bot.i18n import Translator
from flows.bundle import UploadError, UploadErrorCode
from flows.changes import ChangeSummary
from flows.inspect import Issue, IssueCode
from flows.merge import Conflict

MAX_LINES = 15
"""Issues or conflicts listed in one report; the rest are counted. A report stays one message."""

_UNSAFE_ZIP = frozenset(
    {
        UploadErrorCode.ZIP_UNSAFE_PATH,
        UploadErrorCode.ZIP_NESTED,
        UploadErrorCode.ZIP_LINK,
        UploadErrorCode.ZIP_ENCRYPTED,
    }
)
_TOO_MUCH = frozenset(
    {
        UploadErrorCode.ZIP_TOO_MANY,
        UploadErrorCode.ZIP_BOMB,
        UploadErrorCode.ZIP_TOTAL_TOO_LARGE,
    }
)
_BAD_LANGUAGE = frozenset(
    {
        UploadErrorCode.PO_UNKNOWN_LOCALE,
        UploadErrorCode.PO_NO_LANGUAGE,
        UploadErrorCode.PO_SOURCE_LOCALE,
    }
)


def upload_error(tr: Translator, error: UploadError) -> str:
    params = error.params
    file = str(params.get("file", ""))
    code = error.code
    if code is UploadErrorCode.TOO_LARGE:
        reason = texts.too_large(tr, file)
    elif code in (UploadErrorCode.UNKNOWN_TYPE, UploadErrorCode.EMPTY, UploadErrorCode.TEMPLATE):
        reason = texts.unknown_type(tr, file)
    elif code is UploadErrorCode.PO_SYNTAX:
        reason = texts.po_syntax(tr, file, int(params.get("line", 0)), str(params.get("detail")))
    elif code in _BAD_LANGUAGE:
        reason = texts.unknown_locale(tr, file, str(params.get("locale", "")))
    elif code in (UploadErrorCode.YAML_TAG, UploadErrorCode.YAML_ANCHOR):
        reason = texts.yaml_unsafe(tr, file, int(params.get("line", 0)))
    elif code in _UNSAFE_ZIP:
        reason = texts.zip_unsafe(tr, file)
    elif code in _TOO_MUCH:
        reason = texts.zip_too_much(tr, file)
    else:
        reason = texts.file_unusable(tr, str(error))
    return texts.upload_refused(tr, reason)


def issue_line(tr: Translator, issue: Issue) -> str:
    place = ":".join(part for part in (issue.flow, issue.node) if part) or (issue.file or "")
    if issue.locale:
        place += f" [{issue.locale}]"
    reason = (
        texts.placeholders_differ(tr) if issue.code is IssueCode.PLACEHOLDERS else issue.message
    )
    return f"• {place}: {reason}"


def _listed(lines: Sequence[str]) -> list[str]:
    shown = list(lines[:MAX_LINES])
    if len(lines) > MAX_LINES:
        shown.append(f"… +{len(lines) - MAX_LINES}")
    return shown


def issues(tr: Translator, found: Sequence[Issue]) -> list[str]:
    return _listed([issue_line(tr, issue) for issue in found])


def warnings(tr: Translator, found: Sequence[Issue]) -> list[str]:
    if not found:
        return []
    return [texts.warnings_header(tr, len(found)), *issues(tr, found)]


def conflicts(tr: Translator, found: Sequence[Conflict]) -> list[str]:
    return _listed([f"• {conflict}" for conflict in found])


def summary(tr: Translator, changes: ChangeSummary) -> list[str]:
    lines = [texts.changes_header(tr)]
    if changes.empty:
        return [*lines, texts.no_changes(tr)]
    for locale, locale_changes in changes.texts.items():
        if locale_changes.changed:
            lines.append(texts.texts_changed(tr, locale, len(locale_changes.changed)))
        if locale_changes.became_pending:
            lines.append(texts.became_pending(tr, locale, len(locale_changes.became_pending)))
        if locale_changes.resolved:
            lines.append(texts.resolved(tr, locale, len(locale_changes.resolved)))
    counted = (
        (texts.screens_added, changes.nodes_added),
        (texts.screens_removed, changes.nodes_removed),
        (texts.buttons_added, changes.buttons_added),
        (texts.buttons_moved, changes.buttons_moved),
        (texts.buttons_removed, changes.buttons_removed),
    )
    lines += [word(tr, len(items)) for word, items in counted if items]
    lines.append(texts.layout_changed(tr) if changes.layout_changed else texts.layout_kept(tr))
    return lines
