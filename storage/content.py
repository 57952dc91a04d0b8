"""A content set as one blob: how published versions and drafts are stored.

Deterministic (sorted JSON, then zlib), so equal sets give equal blobs and
their digests can be compared; bounded when unpacked, so a crafted blob cannot
inflate past :data:`MAX_FILES_BYTES`. No SQL: every adapter stores the same blob.
"""

from __future__ import annotations

import json
import zlib

from storage.content_records import ContentFiles

MAX_FILES_BYTES = 32 * 1024 * 1024
"""A whole set unpacked (the shipped one is about 1 MB); more is refused, not inflated."""
_COMPRESSION_LEVEL = 9


def pack_files(files: ContentFiles) -> bytes:
    """The files as one deterministic, compressed blob."""
    document = {
        "flows": dict(files.flow_files),
        "catalogs": dict(files.po_files),
        "template": files.template,
    }
    encoded = json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")
    if len(encoded) > MAX_FILES_BYTES:
        raise ValueError(f"a content set of {len(encoded)} bytes is over {MAX_FILES_BYTES}")
    return zlib.compress(encoded, _COMPRESSION_LEVEL)


def unpack_files(blob: bytes) -> ContentFiles:
    """Raise ValueError for a blob that is not a content set (never inflate past the cap)."""
    inflater = zlib.decompressobj()
    try:
        encoded = inflater.decompress(blob, MAX_FILES_BYTES)
    except zlib.error as exc:
        raise ValueError(f"not a compressed content set: {exc}") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("the content set is truncated or unpacks to too much")
    try:
        document = json.loads(encoded.decode("utf-8"))
        flows, catalogs, template = document["flows"], document["catalogs"], document["template"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a content set: {type(exc).__name__}") from None
    if not isinstance(flows, dict) or not isinstance(catalogs, dict):
        raise ValueError("not a content set: files are not mappings")
    return ContentFiles(flows, catalogs, template)
