-- Webhook subscriptions, one outbox row per (entry, subscription) written in the
-- entry's transaction, and the log of every delivery attempt.
CREATE TABLE webhook_subscriptions (
    subscription_id TEXT PRIMARY KEY NOT NULL,
    party_id TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    active INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_by_party ON webhook_subscriptions (party_id, active);

CREATE TABLE webhook_deliveries (
    delivery_id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
