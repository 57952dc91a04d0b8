-- A root key rotation under way (python -m bot admin rotate-key): at most one
-- row. target is the new root key's id. phase 'added': the key exists but no
-- field uses it yet; 'reencrypting': fields are being re-encrypted under it, so
-- every process that reads the database must hold it (the bot refuses to start
-- without it). bot_ready is 1 once the running bot holds the target key, which
-- the rotation waits for before it writes a single field under that key. The
-- row goes when the rotation is finished.
CREATE TABLE key_rotation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    target INTEGER NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('added', 'reencrypting')),
    bot_ready INTEGER NOT NULL DEFAULT 0 CHECK (bot_ready IN (0, 1))
);
