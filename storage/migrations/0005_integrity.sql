-- The audit chain's head, relayed messages as daily counts, and (below) the
-- MACs that bind roles and holders to the root key.

-- One row: the last audit entry's sequence number and hash. An append takes
-- this row first (UPDATE ... RETURNING), which serialises concurrent writers on
-- any backend instead of two of them reading the same "last seq" and forking
-- the chain. It starts at the last row already written, or at the genesis.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, X'0000000000000000000000000000000000000000000000000000000000000000');

UPDATE audit_head SET
    seq = (SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1),
    hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1)
    WHERE EXISTS (SELECT 1 FROM audit_log);

-- Messages relayed for a request on a day, by direction, while the day lasts;
-- once it is over the counts are sealed into the audit chain as one entry and
-- the row goes. No row per message: the log says how much a request was
-- answered, not when each word was sent.
CREATE TABLE relay_counts (
    day TEXT NOT NULL,
    referral TEXT NOT NULL,
    from_member INTEGER NOT NULL DEFAULT 0,
    from_staff INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, referral)
);

-- A MAC over the fields that give authority (see storage/integrity.py): an
-- account's role, status, label and languages; a request's member, status,
-- holder and language; an invite's role, inviter and expiry. Rows written
-- before this have none and count as unchecked until the operator has looked
-- at them and sealed them (python -m bot admin seal-rows).
ALTER TABLE staff ADD COLUMN mac BLOB;
ALTER TABLE referrals ADD COLUMN mac BLOB;
ALTER TABLE invites ADD COLUMN mac BLOB;
