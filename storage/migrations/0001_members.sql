-- Members are keyed by a pseudonym (HMAC of the Telegram id), never the id itself.
-- state is a FieldCipher blob bound to ('members', 'state', member_key).
-- updated_day is 'YYYY-MM-DD': day granularity limits what activity times reveal.
CREATE TABLE members (
    member_key BLOB PRIMARY KEY,
    state BLOB NOT NULL,
    updated_day TEXT NOT NULL
);

CREATE INDEX members_updated_day ON members (updated_day);

-- Message ids the bot may still delete for /wipe. Telegram allows 48 hours, so
-- rows older than that are purged: keeping them would only record activity.
-- sent_hour is unix time // 3600.
CREATE TABLE chat_messages (
    member_key BLOB NOT NULL REFERENCES members (member_key) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    sent_hour INTEGER NOT NULL,
    PRIMARY KEY (member_key, message_id)
);

CREATE INDEX chat_messages_sent_hour ON chat_messages (sent_hour);
