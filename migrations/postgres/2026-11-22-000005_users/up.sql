-- People who sign in to the web pages: one party and one role each.
CREATE TABLE users (
    email TEXT PRIMARY KEY NOT NULL,
    party_id TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled INTEGER NOT NULL
);

-- Signed-in sessions: only the SHA-256 of the cookie's secret is kept.
CREATE TABLE sessions (
    session_sha256_hex TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
