-- Bridge callbacks: one event per bridge request, made when the request reaches its final
-- status, delivered at least once to the Dapp's callback URL (the `id` is the event's
-- idempotency id). Times are Unix milliseconds. `status` is `pending` (to be delivered at
-- `next_attempt_at`), `delivered` or `failed` (every attempt failed).
CREATE TABLE bridge_callbacks (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    dapp TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX bridge_callbacks_due ON bridge_callbacks (status, next_attempt_at);
