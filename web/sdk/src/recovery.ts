// Custody of the recovery share. At wallet creation the recovery party's share is sealed under a
// secret the server never sees and cannot guess offline, and escrowed with the server:
//
// - a passkey's WebAuthn PRF output (the passkey syncs to the user's other devices), or
// - a recovery code: 12 BIP-39 words (128 bits) the user writes down or prints.
//
// With the sealed share the device leaves a verifier: SHA-256 of a proof derived from the same
// secret. On a new device, after logging in, the user gives the passkey or the code; the proof
// fetches the sealed share (wrong proofs are refused, recorded and limited by the server), the
// secret opens it, and the recovery party deals the wallet to the new device. A share sealed
// under a typed password is never escrowed (the server could try passwords offline): it is kept
// as a file instead.

import { Api } from "./api.js";

/** The PRF label under which a passkey seals the recovery share. */
export const RECOVERY_PASSKEY_LABEL = "recovery-share";

/** Where the recovery share's secret comes from, for escrow. */
export type Custody =
  | { method: "code"; code: string }
  | { method: "passkey"; credentialId: string; secret: string };

const web = globalThis as unknown as {
  crypto: { subtle: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> } };
  TextEncoder: new () => { encode(s: string): Uint8Array };
};

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

/** SHA-256 as a platform provides it. */
export type Sha256 = (bytes: Uint8Array) => Promise<Uint8Array>;

/** Web Crypto's SHA-256 (browsers, Node.js). */
export const webSha256: Sha256 = async (b) => new Uint8Array(await web.crypto.subtle.digest("SHA-256", b));

/** SHA-256 from the device's wasm module (mini-programs have no Web Crypto). */
export const wasmSha256 =
  (wasm: { sha256(bytesHex: string): string }): Sha256 =>
  async (b) =>
    unhex(wasm.sha256(hex(b)));

/** A recovery code as it is sealed under: lower-case words, one space apart. */
export function normalizeCode(code: string): string {
  return code.trim().toLowerCase().split(/\s+/).join(" ");
}

/** The sealing secret of `custody`: the normalized code, or the passkey's PRF output (hex). */
export function custodySecret(custody: Custody): string {
  return custody.method === "code" ? normalizeCode(custody.code) : custody.secret;
}

/** The proof of a sealing secret, hex: SHA-256 of "mpcw/escrow-proof/v1", a zero byte, the secret. */
export async function escrowProof(secret: string, sha256: Sha256 = webSha256): Promise<string> {
  const label = new web.TextEncoder().encode("mpcw/escrow-proof/v1\0");
  const text = new web.TextEncoder().encode(secret);
  const both = new Uint8Array(label.length + text.length);
  both.set(label);
  both.set(text, label.length);
  return hex(await sha256(both));
}

/** What the server keeps to check a proof: SHA-256 of the proof's bytes, hex. */
export async function escrowVerifier(secret: string, sha256: Sha256 = webSha256): Promise<string> {
  return hex(await sha256(unhex(await escrowProof(secret, sha256))));
}

/** Escrow `sealed`, the recovery share sealed under `custody`'s secret, for `walletId`. */
export async function escrowRecovery(
  api: Api,
  walletId: string,
  sealed: string,
  custody: Custody,
  sha256: Sha256 = webSha256,
) {
  return api.putEscrow(walletId, {
    method: custody.method,
    ...(custody.method === "passkey" ? { credential_id: custody.credentialId } : {}),
    verifier: await escrowVerifier(custodySecret(custody), sha256),
    sealed,
  });
}

/** A recovery the server holds back until `notBefore` (Unix seconds); a device of the wallet may cancel it meanwhile. */
export class RecoveryWaiting extends Error {
  constructor(
    readonly recoveryId: string,
    readonly notBefore: number,
  ) {
    super(`the recovery may start at ${new Date(notBefore * 1000).toISOString()}, unless a device of the wallet cancels it`);
  }
}
