-- Recovery custody and the record of recoveries.
--
-- `recovery_escrow`: a wallet's recovery share as the user's device sealed it, under a passkey's
-- PRF output or a generated recovery code (never a typed password). The host cannot open it: it
-- keeps the sealed text and `verifier`, SHA-256 of a proof the device derives from the same
-- secret; a device that presents the proof gets the sealed text back. Kept apart from the
-- server's own shares (`wallets`), which the host seals under its KEK.
CREATE TABLE recovery_escrow (
    wallet_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    method TEXT NOT NULL,
    credential_id TEXT,
    verifier TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What happened to a user's wallets that the user should see: escrow saved, opened or refused,
-- recoveries (asked, cancelled, done) and refreshes. Times are Unix seconds. A recovery asked
-- while a delay is configured is `waiting` until `not_before`, then may be used once (`done`),
-- unless a device holding a share `cancelled` it.
CREATE TABLE recovery_events (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    wallet_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    client TEXT,
    not_before BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX recovery_events_owner ON recovery_events (owner, created_at);
CREATE INDEX recovery_events_wallet ON recovery_events (wallet_id, kind, status);
