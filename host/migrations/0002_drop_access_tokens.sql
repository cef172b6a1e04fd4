-- Access tokens are JWTs signed by the host (verified by signature, not looked up), so the
-- table of token hashes is no longer used.
DROP TABLE access_tokens;
