// Checking a bridge callback on the Dapp's server, with Web Crypto (Node.js 18+, browsers,
// workers). The host signs `"<timestamp>.<body>"` with HMAC-SHA256 under the Dapp's callback
// key (`DappClient.callbackKey()`, derived from the server's key-encryption key, so the server's
// configuration alone cannot sign), and sends `X-Mpcw-Timestamp`, `X-Mpcw-Signature: v1=<hex>`
// and `X-Mpcw-Event-Id` (the same at every attempt).

import type { BridgeStatus } from "./client.js";

/** A callback's body. */
export interface BridgeEvent {
  id: string;
  type: "bridge.request.done" | "bridge.request.failed" | "bridge.request.rejected" | "bridge.request.expired";
  created_at: number;
  data: BridgeStatus;
}

const subtle = () => {
  const c = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto;
  if (!c?.subtle) throw new Error("Web Crypto is not available");
  return c.subtle;
};

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

/** Constant-time comparison of two hex strings of the same length. */
function same(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Check a callback: the Dapp's callback `key` (64 hex digits, from `DappClient.callbackKey()`),
 * the `X-Mpcw-Timestamp` and `X-Mpcw-Signature` header values, and the body exactly as received
 * (bytes or text). Throws unless the signature matches and the timestamp is within
 * `toleranceSecs` (300) of `now` (seconds); returns the event. Ignore an event id already
 * handled: deliveries are at least once.
 */
export async function verifyCallback(opts: {
  key: string;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  body: Uint8Array | string;
  now?: number;
  toleranceSecs?: number;
}): Promise<BridgeEvent> {
  const ts = Number(opts.timestamp);
  if (!opts.timestamp || !Number.isInteger(ts)) throw new Error("malformed X-Mpcw-Timestamp");
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSecs ?? 300)) throw new Error("stale callback timestamp");
  const given = opts.signature?.trim().match(/^v1=([0-9a-f]{64})$/)?.[1];
  if (!given) throw new Error("malformed X-Mpcw-Signature");
  const enc = new TextEncoder();
  const body = typeof opts.body === "string" ? enc.encode(opts.body) : opts.body;
  if (!/^[0-9a-f]{64}$/i.test(opts.key)) throw new Error("the callback key must be 64 hex digits");
  const keyBytes = Uint8Array.from(opts.key.match(/../g)!, (h) => parseInt(h, 16));
  const key = await subtle().importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signed = new Uint8Array([...enc.encode(`${opts.timestamp}.`), ...body]);
  const expected = hex(await subtle().sign("HMAC", key, signed));
  if (!same(expected, given)) throw new Error("the callback's signature does not match");
  return JSON.parse(new TextDecoder().decode(body)) as BridgeEvent;
}
