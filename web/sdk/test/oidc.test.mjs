// The PKCE helpers of the OpenID Connect login, checked against RFC 7636 and Node's own SHA-256
// (no server needed).

import test from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pkceChallenge, startOidcLogin, finishOidcLogin } from "../dist/index.js";

test("the S256 challenge of RFC 7636's example verifier", async () => {
  // RFC 7636, Appendix B.
  assert.equal(
    await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

test("a login starts with a fresh verifier, its challenge and the server's nonce", async () => {
  const asked = [];
  const api = {
    oidcNonce: async (dapp) => (asked.push(dapp), "n1.shop.123.abc.def"),
    oidcCodeLogin: async (opts) => JSON.stringify(opts),
  };
  const provider = {
    name: "idp", label: "IdP", client_id: "signer", scope: "openid",
    authorization_endpoint: "https://idp.example/authorize?tenant=cn",
  };
  const a = await startOidcLogin(api, provider, { redirectUri: "https://wallet.example/bridge", dapp: "shop" });
  const b = await startOidcLogin(api, provider, { redirectUri: "https://wallet.example/bridge" });
  assert.deepEqual(asked, ["shop", undefined]);
  const url = new URL(a.url);
  assert.equal(url.origin + url.pathname, "https://idp.example/authorize");
  const q = url.searchParams;
  assert.equal(q.get("tenant"), "cn", "the endpoint's own query is kept");
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("client_id"), "signer");
  assert.equal(q.get("redirect_uri"), "https://wallet.example/bridge");
  assert.equal(q.get("nonce"), "n1.shop.123.abc.def");
  assert.equal(q.get("code_challenge_method"), "S256");
  assert.equal(q.get("state"), a.pending.state);
  assert.match(a.pending.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(q.get("code_challenge"), createHash("sha256").update(a.pending.codeVerifier).digest("base64url"));
  assert.notEqual(a.pending.codeVerifier, b.pending.codeVerifier);
  assert.notEqual(a.pending.state, b.pending.state);

  // Back from the provider: the state must match; the provider's refusal is thrown.
  const back = (query) => new URLSearchParams(query);
  await assert.rejects(finishOidcLogin(api, a.pending, back(`code=c&state=${b.pending.state}`)), /state does not match/);
  await assert.rejects(
    finishOidcLogin(api, a.pending, back(`error=access_denied&error_description=no+thanks&state=${a.pending.state}`)),
    /no thanks/,
  );
  const sent = JSON.parse(await finishOidcLogin(api, a.pending, back(`code=c1&state=${a.pending.state}`)));
  assert.deepEqual(sent, {
    provider: "idp", code: "c1", codeVerifier: a.pending.codeVerifier,
    redirectUri: "https://wallet.example/bridge", dapp: "shop",
  });
});
