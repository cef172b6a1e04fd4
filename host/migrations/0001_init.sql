-- The server's state. Written to run unchanged on SQLite and PostgreSQL.
-- Secrets (server shares, the server's party keys) are stored only as sealed JSON
-- (XChaCha20-Poly1305 under the key-encryption key); tokens only as SHA-256 hashes.

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE wallets (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    label TEXT NOT NULL,
    scheme TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    parties BIGINT NOT NULL,
    server_index BIGINT NOT NULL,
    roster TEXT NOT NULL,
    party_keys TEXT NOT NULL,
    status TEXT NOT NULL,
    public_info TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX wallets_by_owner ON wallets (owner, created_at);

CREATE TABLE server_shares (
    wallet_id TEXT NOT NULL REFERENCES wallets (id),
    generation BIGINT NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (wallet_id, generation)
);

CREATE TABLE signing_requests (
    id TEXT PRIMARY KEY,
    wallet_id TEXT NOT NULL REFERENCES wallets (id),
    owner TEXT NOT NULL,
    network TEXT NOT NULL,
    request TEXT NOT NULL,
    prepared TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX signing_requests_by_wallet ON signing_requests (wallet_id, created_at);

CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner, idem_key)
);
