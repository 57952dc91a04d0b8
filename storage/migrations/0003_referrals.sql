-- Volunteers, coordinators, referrals and the audit chain.
-- Accounts are keyed by the same pseudonym as members (HMAC of the Telegram
-- id). A chat id needed to reach someone later is stored only as a FieldCipher
-- blob bound to its table, column and row. Days are 'YYYY-MM-DD'.

-- label: a short pseudonymous name coordinators see instead of an account.
-- languages: space-separated locale codes the volunteer handles.
-- current_referral: where the volunteer's typed messages are relayed.
CREATE TABLE staff (
    staff_key BLOB PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('volunteer', 'coordinator')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    label TEXT NOT NULL UNIQUE,
    locale TEXT NOT NULL,
    languages TEXT NOT NULL DEFAULT '',
    chat_ref BLOB NOT NULL,
    current_referral TEXT,
    joined_day TEXT NOT NULL
);

-- Only a keyed hash of an invite code is kept; it is deleted when used.
-- created_by is the inviting coordinator's label; expires_at is unix seconds.
CREATE TABLE invites (
    code_hash BLOB PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('volunteer', 'coordinator')),
    created_by TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- No free text: the member's answers are codes. chat_ref (the member's chat,
-- encrypted) exists only while the referral is not closed. notify_at is unix
-- seconds of the next re-notification of an urgent, unclaimed referral.
-- queued_day is when it last entered the queue: expiry counts from there, so a
-- request handed back after weeks is not erased at once.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    member_key BLOB NOT NULL REFERENCES members (member_key) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    urgency TEXT NOT NULL,
    country TEXT,
    language TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'handover', 'closed')),
    volunteer BLOB,
    outcome TEXT,
    chat_ref BLOB,
    created_day TEXT NOT NULL,
    queued_day TEXT NOT NULL,
    closed_day TEXT,
    notify_at INTEGER,
    notify_count INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX referrals_one_open_per_member ON referrals (member_key)
    WHERE status != 'closed';
CREATE INDEX referrals_volunteer ON referrals (volunteer);
CREATE INDEX referrals_status ON referrals (status, queued_day);

-- The notices sent about a referral, so they can say "taken" once claimed.
CREATE TABLE referral_notices (
    referral_id TEXT NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    staff_key BLOB NOT NULL REFERENCES staff (staff_key) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (referral_id, staff_key, message_id)
);

-- How many referrals someone asked for today, to limit floods. rate_key is a
-- keyed hash of the day and the member's pseudonym, so a /wipe cannot reset
-- it and it links to nothing after the day; rows go when the day is over.
CREATE TABLE referral_requests (
    rate_key BLOB PRIMARY KEY,
    day TEXT NOT NULL,
    count INTEGER NOT NULL
);

-- Append-only: hash = HMAC-SHA256, under a key derived from the root key, over
-- the previous hash and this row's fields.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    referral TEXT,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);

-- Messages in a volunteer's chat that carry a member's words (relayed copies,
-- their headers, the volunteer's own replies), kept only while Telegram lets
-- the bot delete them (sent_hour is unix time // 3600), so closing, handing
-- back or withdrawing a request can clear them from the volunteer's phone.
CREATE TABLE staff_messages (
    referral_id TEXT NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    staff_key BLOB NOT NULL,
    message_id INTEGER NOT NULL,
    sent_hour INTEGER NOT NULL,
    PRIMARY KEY (staff_key, message_id)
);

CREATE INDEX staff_messages_referral ON staff_messages (referral_id);
CREATE INDEX staff_messages_sent_hour ON staff_messages (sent_hour);
