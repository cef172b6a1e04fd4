// Logging in with an OpenID Connect provider by the authorization code flow with PKCE
// (RFC 7636, S256): `startOidcLogin` makes the verifier, its challenge and a state, gets a
// login nonce for the Dapp from the server, and gives the authorization URL to send the user
// to; once the provider sends the user back, `finishOidcLogin` checks the state and has the
// server redeem the code with the verifier. The page keeps `pending` (in sessionStorage, say)
// across the redirect.

import type { Api, LoginOptions } from "./api.js";
import { webSha256, type Sha256 } from "./recovery.js";

/** A provider the server offers (from `Api.loginOptions()`). */
export type OidcProvider = LoginOptions["oidc"][number];

/** What the page keeps while the user is at the provider. */
export interface PendingOidcLogin {
  provider: string;
  state: string;
  codeVerifier: string;
  redirectUri: string;
  dapp?: string;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url (written out: mini-programs have no `btoa`). */
const base64url = (bytes: Uint8Array) => {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += ALPHABET[(n >> (18 - 6 * j)) & 63];
  }
  return out;
};

const random = (n: number) => {
  const crypto = (globalThis as { crypto?: { getRandomValues(b: Uint8Array): Uint8Array } }).crypto;
  if (!crypto) throw new Error("no secure random numbers on this platform");
  return crypto.getRandomValues(new Uint8Array(n));
};

/** The S256 code challenge of `verifier` (ASCII, as RFC 7636 requires): base64url(SHA-256(verifier)). */
export async function pkceChallenge(verifier: string, sha256: Sha256 = webSha256): Promise<string> {
  return base64url(await sha256(Uint8Array.from(verifier, (c) => c.charCodeAt(0))));
}

/**
 * Begin a login at `provider` for `dapp` (or none), coming back to `redirectUri` (on the
 * server's origin): the URL to send the user to, and what to keep until they come back.
 */
export async function startOidcLogin(
  api: Api,
  provider: OidcProvider,
  opts: { redirectUri: string; dapp?: string; sha256?: Sha256 },
): Promise<{ url: string; pending: PendingOidcLogin }> {
  // 32 random bytes: a 43-character verifier, the shortest RFC 7636 allows, with 256 bits.
  const codeVerifier = base64url(random(32));
  const state = base64url(random(16));
  const nonce = await api.oidcNonce(opts.dapp);
  const query = Object.entries({
    response_type: "code",
    client_id: provider.client_id,
    redirect_uri: opts.redirectUri,
    scope: provider.scope,
    state,
    nonce,
    code_challenge: await pkceChallenge(codeVerifier, opts.sha256),
    code_challenge_method: "S256",
  })
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  const endpoint = provider.authorization_endpoint;
  return {
    url: `${endpoint}${endpoint.includes("?") ? "&" : "?"}${query}`,
    pending: { provider: provider.name, state, codeVerifier, redirectUri: opts.redirectUri, dapp: opts.dapp },
  };
}

/**
 * Finish the login the provider sent the user back from (`query`: the redirect's query): the
 * state must be the one `pending` kept; an `error` from the provider is thrown with its words.
 * Returns the server's access token (also set on `api`).
 */
export async function finishOidcLogin(
  api: Api,
  pending: PendingOidcLogin,
  query: { get(name: string): string | null },
): Promise<string> {
  if (query.get("state") !== pending.state) throw new Error("the login's state does not match: start again");
  const error = query.get("error");
  if (error) throw new Error(`the identity provider refused: ${query.get("error_description") ?? error}`);
  const code = query.get("code");
  if (!code) throw new Error("the identity provider sent no code");
  return api.oidcCodeLogin({
    provider: pending.provider,
    code,
    codeVerifier: pending.codeVerifier,
    redirectUri: pending.redirectUri,
    dapp: pending.dapp,
  });
}
