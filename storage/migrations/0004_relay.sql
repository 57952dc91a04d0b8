-- The relay, hardened: where the bot's copies of relayed words sit, languages
-- waiting for a coordinator's approval, and how often each account claims.

-- staff_messages kept message ids in the clear and only while Telegram allowed
-- deletion (47 hours); relay_copies replaces it. Ids still in it when this
-- runs belong to conversations of the last two days; they are given up.
DROP TABLE staff_messages;

-- The bot's copies of relayed messages in both chats of a referral (and the
-- volunteer's own replies), kept for as long as the referral lives so that
-- closing, handing back, handing over or withdrawing it can delete them while
-- Telegram allows and blank them by editing afterwards. copies is one
-- FieldCipher blob bound to ('relay_copies', 'copies', referral_id): a JSON
-- list of [chat, message id, kind, sent hour], padded to a power of two
-- (at least 256 bytes), so a seized file shows neither whose chats they are
-- in nor, beyond an order of magnitude, how many messages were relayed.
CREATE TABLE relay_copies (
    referral_id TEXT PRIMARY KEY REFERENCES referrals (id) ON DELETE CASCADE,
    copies BLOB NOT NULL
);

-- Languages a volunteer asked to add, until a coordinator approves (the code
-- moves into staff.languages) or refuses (the row goes). asked is 0 while the
-- volunteer is still choosing, 1 once the coordinators were asked.
CREATE TABLE language_requests (
    staff_key BLOB NOT NULL REFERENCES staff (staff_key) ON DELETE CASCADE,
    language TEXT NOT NULL,
    asked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (staff_key, language)
);

-- Claims per account and day, for the coordinators' roster and the alert on
-- an unusual claim rate; rows older than a week are deleted.
CREATE TABLE staff_claims (
    staff_key BLOB NOT NULL REFERENCES staff (staff_key) ON DELETE CASCADE,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (staff_key, day)
);

CREATE INDEX staff_claims_day ON staff_claims (day);
