// A passkey in place of a password: WebAuthn's PRF extension makes the authenticator derive a
// secret from the credential and a salt, never shown to anyone else; the SDK seals the device's
// share under that secret instead of a typed password. The platform's `navigator.credentials`
// is injected (a browser's, or a test's). Passkeys without PRF support are refused when made.

/** What is used of `navigator.credentials`. */
export interface Credentials {
  create(options: { publicKey: unknown }): Promise<unknown>;
  get(options: { publicKey: unknown }): Promise<unknown>;
}

interface PublicKeyCredentialLike {
  rawId: ArrayBuffer;
  getClientExtensionResults(): { prf?: { enabled?: boolean; results?: { first?: ArrayBuffer } } };
}

// The web platform's globals, typed here: the SDK's core builds without the DOM library.
const web = globalThis as unknown as {
  crypto: {
    getRandomValues(b: Uint8Array): Uint8Array;
    subtle: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> };
  };
  btoa(s: string): string;
  atob(s: string): string;
  TextEncoder: new () => { encode(s: string): Uint8Array };
};

const random = (n: number) => web.crypto.getRandomValues(new Uint8Array(n));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const base64url = (b: Uint8Array) => web.btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromBase64url = (s: string) =>
  Uint8Array.from(web.atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c: string) => c.charCodeAt(0));

/** The PRF salt of a label: SHA-256 of "mpcw/passkey-seal/v1/" and the label. */
async function salt(label: string): Promise<Uint8Array> {
  const bytes = new web.TextEncoder().encode(`mpcw/passkey-seal/v1/${label}`);
  return new Uint8Array(await web.crypto.subtle.digest("SHA-256", bytes));
}

/**
 * Make a passkey for sealing shares (user verification required, PRF enabled); its credential
 * id, base64url. Keep the id with the wallet: it is public. `rpId` defaults to the page's host.
 */
export async function createPasskey(
  credentials: Credentials,
  opts: { rpName: string; userName: string; rpId?: string },
): Promise<string> {
  const credential = (await credentials.create({
    publicKey: {
      rp: { name: opts.rpName, ...(opts.rpId ? { id: opts.rpId } : {}) },
      user: { id: random(16), name: opts.userName, displayName: opts.userName },
      // Nothing is attested to a server: the passkey only derives a local secret.
      challenge: random(32),
      pubKeyCredParams: [
        { type: "public-key", alg: -7 },
        { type: "public-key", alg: -8 },
        { type: "public-key", alg: -257 },
      ],
      authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
      extensions: { prf: {} },
    },
  })) as PublicKeyCredentialLike | null;
  if (!credential) throw new Error("no passkey was made");
  if (!credential.getClientExtensionResults().prf?.enabled) {
    throw new Error("this passkey cannot derive secrets (no WebAuthn PRF support): use a password");
  }
  return base64url(new Uint8Array(credential.rawId));
}

/**
 * The secret passkey `credentialId` derives for `label` (the user verifies), hex: pass it as the
 * password of `Device.createWallet` and `Device.sign`.
 */
export async function passkeySecret(
  credentials: Credentials,
  credentialId: string,
  label: string,
  rpId?: string,
): Promise<string> {
  const assertion = (await credentials.get({
    publicKey: {
      challenge: random(32),
      ...(rpId ? { rpId } : {}),
      allowCredentials: [{ type: "public-key", id: fromBase64url(credentialId) }],
      userVerification: "required",
      timeout: 120_000,
      extensions: { prf: { eval: { first: await salt(label) } } },
    },
  })) as PublicKeyCredentialLike | null;
  const first = assertion?.getClientExtensionResults().prf?.results?.first;
  if (!first) throw new Error("the passkey gave no secret (no WebAuthn PRF support)");
  return hex(new Uint8Array(first));
}
