-- Several hosts may share one database. Work in progress (a key generation, a signing) runs in
-- the memory of one host, its `runner` (a stable id kept in the host's data directory): at
-- start a host fails only its own interrupted work, and any host fails work older than a
-- session may live. A signing that approves a bridge request records it in `bridge_id`, so
-- the request can be settled when its signing is failed this way.
ALTER TABLE wallets ADD COLUMN runner TEXT;
ALTER TABLE signing_requests ADD COLUMN runner TEXT;
ALTER TABLE signing_requests ADD COLUMN bridge_id TEXT;
