"""Published content versions, drafts and language switches in SQLite.

Texts are public, so nothing here is encrypted; what matters is that nobody
who gets at the database file can change what members read. Every row
therefore carries an HMAC-SHA256, under a key derived from the root key
(:meth:`storage.crypto.Pseudonymizer.content_key`), over all its fields,
length-framed and domain-separated by table; a row that fails it is never
returned. A version's files are one zlib-compressed JSON blob; its MAC covers
the blob's SHA-256, which is also stored, so listing the history reads no blob
and reading a version checks both.

What the MAC cannot show is a row that was removed: deleting the newest
versions brings back an older one. The audit log (which records each publish)
has the same limit, and the same remedy: compare its head with one noted
elsewhere (``python -m bot admin verify-audit``).

The SQL is portable. Numbering under concurrency relies only on the primary
key: a publish takes number ``after + 1`` only if ``after`` is the newest, and
two writers that both saw ``after`` cannot both insert ``after + 1``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import aiosqlite

from storage.content import pack_files, unpack_files
from storage.content_records import (
    LOCALE_CODE,
    BrokenVersion,
    ContentFiles,
    Draft,
    LocaleSwitch,
    PublishedVersion,
    VersionInfo,
)
from storage.errors import ContentIntegrityError, UnknownVersion, VersionConflict
from storage.sqlite import audit
from storage.sqlite.database import Database

_MAC_DOMAIN = b"yardem/content/v1"
_OWNER_KEY_BYTES = 32


def _day(value: date) -> str:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError("a date (not a datetime) is required: only days are stored")
    return value.isoformat()


def _mac(key: bytes, table: str, *parts: bytes) -> bytes:
    digest = hmac.new(key, _MAC_DOMAIN, hashlib.sha256)
    # Length prefixes keep the encoding injective: no two rows frame to the same bytes.
    for part in (table.encode(), *parts):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.digest()


def _int(value: int) -> bytes:
    return str(value).encode()


def _version_mac(
    key: bytes, number: int, base: int, publisher: str, day: str, summary: str, digest: bytes
) -> bytes:
    return _mac(
        key,
        "content_versions",
        _int(number),
        _int(base),
        publisher.encode(),
        day.encode(),
        summary.encode(),
        digest,
    )


def _draft_mac(key: bytes, owner: bytes, base: int, day: str, digest: bytes) -> bytes:
    return _mac(key, "content_drafts", owner, _int(base), day.encode(), digest)


def _locale_mac(key: bytes, locale: str, enabled: bool, changed_by: str, day: str) -> bytes:
    return _mac(
        key,
        "content_locales",
        locale.encode(),
        b"1" if enabled else b"0",
        changed_by.encode(),
        day.encode(),
    )


def _summary_text(summary: Mapping[str, Any]) -> str:
    return json.dumps(dict(summary), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class SqliteContentRepository:
    """The :class:`~storage.content_records.ContentRepository` on SQLite."""

    def __init__(self, db: Database, mac_key: bytes, audit_key: bytes) -> None:
        self._db = db
        self._key = mac_key
        self._audit_key = audit_key

    # -- published versions ------------------------------------------------

    def _version_mac(
        self, number: int, base: int, publisher: str, day: str, summary: str, digest: bytes
    ) -> bytes:
        return _version_mac(self._key, number, base, publisher, day, summary, digest)

    async def newest_number(self) -> int:
        async with self._db.snapshot() as connection:
            return await _newest(connection)

    async def publish(
        self,
        files: ContentFiles,
        *,
        after: int,
        base: int,
        publisher: str,
        day: date,
        summary: Mapping[str, Any],
    ) -> VersionInfo:
        if after < 0 or not 0 <= base <= after:
            raise ValueError("after must be a published number and base one of the versions")
        blob = pack_files(files)
        digest = hashlib.sha256(blob).digest()
        summary_text = _summary_text(summary)
        day_text = _day(day)
        number = after + 1
        mac = self._version_mac(number, base, publisher, day_text, summary_text, digest)
        async with self._db.transaction() as connection:
            newest = await _newest(connection)
            if newest != after:
                raise VersionConflict(after, newest)
            try:
                await connection.execute(
                    "INSERT INTO content_versions "
                    "(number, base, publisher, day, summary, files, files_digest, mac) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (number, base, publisher, day_text, summary_text, blob, digest, mac),
                )
            except sqlite3.IntegrityError:
                # Another writer inserted this number after our read (possible where
                # reads do not block writers, as in PostgreSQL): fail, never overwrite.
                raise VersionConflict(after, number) from None
            await audit.append(
                connection,
                self._audit_key,
                actor=publisher,
                action=f"content-publish:{number}",
                referral=None,
                today=day,
            )
        return VersionInfo(number, base, publisher, day, _frozen_json(summary_text))

    async def version(self, number: int) -> PublishedVersion:
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT number, base, publisher, day, summary, files_digest, mac, files "
                "FROM content_versions WHERE number = ?",
                (number,),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        if row is None:
            raise UnknownVersion(number)
        info = self._verified_info(row)
        blob = bytes(row[7])
        if not hmac.compare_digest(hashlib.sha256(blob).digest(), bytes(row[5])):
            raise ContentIntegrityError(
                f"content version {number}: its files do not match their MAC (edited outside "
                "the bot?)",
                number=number,
            )
        try:
            files = unpack_files(blob)
        except ValueError as exc:
            raise ContentIntegrityError(f"content version {number}: {exc}", number=number) from None
        return PublishedVersion(info, files)

    def _verified_info(self, row: sqlite3.Row | tuple[Any, ...]) -> VersionInfo:
        number, base, publisher, day, summary, digest, mac = row[:7]
        expected = self._version_mac(
            int(number), int(base), str(publisher), str(day), str(summary), bytes(digest)
        )
        if not hmac.compare_digest(expected, bytes(mac)):
            raise ContentIntegrityError(
                f"content version {number} fails its MAC: edited outside the bot, or stored "
                "under another root key",
                number=int(number),
            )
        try:
            return VersionInfo(
                int(number),
                int(base),
                str(publisher),
                date.fromisoformat(str(day)),
                _frozen_json(str(summary)),
            )
        except ValueError as exc:
            raise ContentIntegrityError(
                f"content version {number}: {exc}", number=int(number)
            ) from None

    async def history(self, limit: int = 20) -> list[VersionInfo | BrokenVersion]:
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT number, base, publisher, day, summary, files_digest, mac "
                "FROM content_versions ORDER BY number DESC LIMIT ?",
                (limit,),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        listed: list[VersionInfo | BrokenVersion] = []
        for row in rows:
            try:
                listed.append(self._verified_info(row))
            except ContentIntegrityError as exc:
                listed.append(BrokenVersion(int(row[0]), str(exc)))
        return listed

    # -- drafts ------------------------------------------------------------

    def _draft_mac(self, owner: bytes, base: int, day: str, digest: bytes) -> bytes:
        return _draft_mac(self._key, owner, base, day, digest)

    async def save_draft(self, draft: Draft) -> None:
        owner = _owner(draft.owner)
        blob = pack_files(draft.files)
        digest = hashlib.sha256(blob).digest()
        day = _day(draft.day)
        mac = self._draft_mac(owner, draft.base, day, digest)
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO content_drafts (owner_key, base, day, files, files_digest, mac) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner_key) DO UPDATE SET "
                "base = excluded.base, day = excluded.day, files = excluded.files, "
                "files_digest = excluded.files_digest, mac = excluded.mac",
                (owner, draft.base, day, blob, digest, mac),
            )

    async def draft(self, owner: bytes) -> Draft | None:
        owner = _owner(owner)
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT base, day, files, files_digest, mac FROM content_drafts "
                "WHERE owner_key = ?",
                (owner,),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        if row is None:
            return None
        base, day, blob, digest = int(row[0]), str(row[1]), bytes(row[2]), bytes(row[3])
        signed = hmac.compare_digest(self._draft_mac(owner, base, day, digest), bytes(row[4]))
        if not signed or not hmac.compare_digest(hashlib.sha256(blob).digest(), digest):
            raise ContentIntegrityError("a draft fails its MAC: edited outside the bot")
        try:
            return Draft(owner, base, unpack_files(blob), date.fromisoformat(day))
        except ValueError as exc:
            raise ContentIntegrityError(f"a draft cannot be read: {exc}") from None

    async def discard_draft(self, owner: bytes) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "DELETE FROM content_drafts WHERE owner_key = ?", (_owner(owner),)
            )

    # -- languages ---------------------------------------------------------

    def _locale_mac(self, locale: str, enabled: bool, changed_by: str, day: str) -> bytes:
        return _locale_mac(self._key, locale, enabled, changed_by, day)

    async def switch_locale(self, switch: LocaleSwitch) -> None:
        if not LOCALE_CODE.fullmatch(switch.locale):
            raise ValueError(f"{switch.locale!r} is not a locale code")
        day = _day(switch.day)
        mac = self._locale_mac(switch.locale, switch.enabled, switch.changed_by, day)
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO content_locales (locale, enabled, changed_by, day, mac) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (locale) DO UPDATE SET "
                "enabled = excluded.enabled, changed_by = excluded.changed_by, "
                "day = excluded.day, mac = excluded.mac",
                (switch.locale, int(switch.enabled), switch.changed_by, day, mac),
            )
            await audit.append(
                connection,
                self._audit_key,
                actor=switch.changed_by,
                action=f"content-locale-{'on' if switch.enabled else 'off'}:{switch.locale}",
                referral=None,
                today=switch.day,
            )

    async def locale_switches(self) -> Mapping[str, LocaleSwitch]:
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT locale, enabled, changed_by, day, mac FROM content_locales ORDER BY locale"
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        switches: dict[str, LocaleSwitch] = {}
        for locale, enabled, changed_by, day, mac in rows:
            expected = self._locale_mac(str(locale), bool(enabled), str(changed_by), str(day))
            if not hmac.compare_digest(expected, bytes(mac)):
                raise ContentIntegrityError(
                    f"the language switch for {locale!r} fails its MAC: edited outside the bot"
                )
            switches[str(locale)] = LocaleSwitch(
                str(locale), bool(enabled), str(changed_by), date.fromisoformat(str(day))
            )
        return MappingProxyType(switches)


async def rekey(
    connection: aiosqlite.Connection,
    old_key: bytes,
    new_key: bytes,
    *,
    owner: Callable[[bytes], bytes],
    label: Callable[[str], str],
) -> tuple[int, int]:
    """MAC every content row again under ``new_key``, for a root key rotation.

    Inside the caller's transaction. A row is re-signed only if it verifies
    under ``old_key`` (else its old MAC stays, and it keeps failing: an edit is
    never laundered). Publishers and switchers get their new labels, drafts
    their owner's new pseudonym (``owner``; its new staff row must exist).
    Returns (rows re-signed, rows left failing).
    """
    signed = failing = 0
    async with connection.execute(
        "SELECT number, base, publisher, day, summary, files_digest, mac FROM content_versions"
    ) as cursor:
        versions = [tuple(row) for row in await cursor.fetchall()]
    for number, base, publisher, day, summary, digest, mac in versions:
        old = _version_mac(
            old_key, int(number), int(base), str(publisher), str(day), str(summary), bytes(digest)
        )
        if not hmac.compare_digest(old, bytes(mac)):
            failing += 1
            continue
        publisher = label(str(publisher))
        fresh = _version_mac(
            new_key, int(number), int(base), publisher, str(day), str(summary), bytes(digest)
        )
        await connection.execute(
            "UPDATE content_versions SET publisher = ?, mac = ? WHERE number = ?",
            (publisher, fresh, number),
        )
        signed += 1
    async with connection.execute(
        "SELECT owner_key, base, day, files_digest, mac FROM content_drafts"
    ) as cursor:
        drafts = [tuple(row) for row in await cursor.fetchall()]
    for owner_key, base, day, digest, mac in drafts:
        was = bytes(owner_key)
        ok = hmac.compare_digest(
            _draft_mac(old_key, was, int(base), str(day), bytes(digest)), bytes(mac)
        )
        now = owner(was)
        fresh = _draft_mac(new_key, now, int(base), str(day), bytes(digest)) if ok else bytes(mac)
        await connection.execute(
            "UPDATE content_drafts SET owner_key = ?, mac = ? WHERE owner_key = ?",
            (now, fresh, was),
        )
        signed, failing = (signed + 1, failing) if ok else (signed, failing + 1)
    async with connection.execute(
        "SELECT locale, enabled, changed_by, day, mac FROM content_locales"
    ) as cursor:
        switches = [tuple(row) for row in await cursor.fetchall()]
    for locale, enabled, changed_by, day, mac in switches:
        old = _locale_mac(old_key, str(locale), bool(enabled), str(changed_by), str(day))
        if not hmac.compare_digest(old, bytes(mac)):
            failing += 1
            continue
        changed_by = label(str(changed_by))
        fresh = _locale_mac(new_key, str(locale), bool(enabled), changed_by, str(day))
        await connection.execute(
            "UPDATE content_locales SET changed_by = ?, mac = ? WHERE locale = ?",
            (changed_by, fresh, locale),
        )
        signed += 1
    return signed, failing


async def _newest(connection: aiosqlite.Connection) -> int:
    async with connection.execute("SELECT MAX(number) FROM content_versions") as cursor:
        row = await cursor.fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _owner(owner: bytes) -> bytes:
    # A wrong-sized key is most likely a raw Telegram id passed by mistake.
    if not isinstance(owner, bytes) or len(owner) != _OWNER_KEY_BYTES:
        raise ValueError("a draft's owner must be a 32-byte pseudonym")
    return owner


def _frozen_json(text: str) -> Mapping[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("the change summary is not a JSON object")
    return MappingProxyType(value)


if TYPE_CHECKING:
    from storage.content_records import ContentRepository

    def _implements(repository: SqliteContentRepository) -> ContentRepository:
        return repository  # mypy checks the adapter against the port here
