-- Answers to POST requests by (credential, Idempotency-Key), kept for a bounded time.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
