-- Dapp connections: a user's approval of a Dapp's connect request, naming one wallet and its
-- address per network (`accounts`, JSON). A connection is scoped to its Dapp and its user
-- (`owner`, a subject of that Dapp). Times are Unix seconds; `revoked_at` is set when the user
-- or the Dapp revokes it.
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    dapp TEXT NOT NULL,
    owner TEXT NOT NULL,
    accounts TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX connections_owner ON connections (owner, created_at);
