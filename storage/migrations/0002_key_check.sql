-- A value derived from the pseudonym pepper, recorded when the database is
-- first used: a different root key (a lost key replaced, key 1 removed, a
-- wrong ROOT_KEY) is refused at start-up instead of silently turning every
-- member into a stranger and orphaning their deletable message ids.
CREATE TABLE key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pepper_check BLOB NOT NULL
);
