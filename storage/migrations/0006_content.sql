-- Live content: the flow texts and translations coordinators publish, their
-- drafts, and which languages members may pick. Texts are public, so nothing
-- here is encrypted; every row carries a MAC (HMAC-SHA256 under a key derived
-- from the root key) over all its fields, so an offline edit of the file is
-- refused instead of served. Days are 'YYYY-MM-DD'.

-- One row per published version, numbered 1, 2, ... (0 is the files the
-- program ships with and is not stored). Rows are never updated or deleted: a
-- rollback publishes an older version's files again under a new number. The
-- primary key makes two concurrent publishes of the same number fail rather
-- than overwrite each other. base: the version the files were made from (a
-- draft's base, or the version rolled back to). publisher: the pseudonymous
-- label of whoever published. summary: the change summary as JSON. files:
-- zlib-compressed JSON of the flow files, catalogs and template;
-- files_digest: SHA-256 of that blob, covered by the MAC so that listing the
-- history needs no blob.
CREATE TABLE content_versions (
    number INTEGER PRIMARY KEY CHECK (number >= 1),
    base INTEGER NOT NULL CHECK (base >= 0),
    publisher TEXT NOT NULL,
    day TEXT NOT NULL,
    summary TEXT NOT NULL,
    files BLOB NOT NULL,
    files_digest BLOB NOT NULL,
    mac BLOB NOT NULL
);

-- Each coordinator's draft (at most one), keyed by their pseudonym; it goes
-- with their account.
CREATE TABLE content_drafts (
    owner_key BLOB PRIMARY KEY REFERENCES staff (staff_key) ON DELETE CASCADE,
    base INTEGER NOT NULL CHECK (base >= 0),
    day TEXT NOT NULL,
    files BLOB NOT NULL,
    files_digest BLOB NOT NULL,
    mac BLOB NOT NULL
);

-- A language a coordinator switched on or off for members. Without a row the
-- shipped languages are on and any other is off.
CREATE TABLE content_locales (
    locale TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    changed_by TEXT NOT NULL,
    day TEXT NOT NULL,
    mac BLOB NOT NULL
);
