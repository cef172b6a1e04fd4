// Secure random numbers for the device party where the platform has no synchronous Web Crypto
// (WeChat and Alipay mini-programs give `getRandomValues` only as an asynchronous call).
//
// A fast-key-erasure generator (D. J. Bernstein, "Fast-key-erasure random-number generators",
// 2017): a 256-bit key seeded once from the platform's randomness; each request runs ChaCha20
// (@noble/ciphers, audited) under the key, the first 32 bytes of output replace the key at
// once and the rest is the answer, so a later compromise of the state reveals nothing given
// before. Installed as `crypto.getRandomValues`, which the WebAssembly bindings call.

import { chacha20 } from "../vendor/noble-ciphers/chacha.js";

const NONCE = new Uint8Array(12);
/** The most bytes `getRandomValues` gives at once (as Web Crypto). */
const MAX = 65536;

/** Install the generator, seeded with `seed` (32 bytes from the platform), unless Web Crypto is there. */
export function installRandom(seed) {
  if (globalThis.crypto?.getRandomValues) return false;
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new Error("a 32-byte seed is needed");
  let key = Uint8Array.from(seed);
  seed.fill(0);
  const getRandomValues = (view) => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    if (bytes.length > MAX) throw new Error(`at most ${MAX} bytes at once`);
    const out = chacha20(key, NONCE, new Uint8Array(32 + bytes.length));
    key.fill(0);
    key = out.slice(0, 32);
    bytes.set(out.subarray(32));
    out.fill(0);
    return view;
  };
  globalThis.crypto = Object.assign(globalThis.crypto ?? {}, { getRandomValues });
  return true;
}

/** 32 bytes from WeChat's `wx.getRandomValues` (or Alipay's `my.getRandomValues`). */
export function platformSeed(api) {
  return new Promise((resolve, reject) => {
    if (typeof api?.getRandomValues !== "function") {
      reject(new Error("this platform version gives no secure random numbers (getRandomValues)"));
      return;
    }
    api.getRandomValues({
      length: 32,
      success: (res) => resolve(new Uint8Array(res.randomValues)),
      fail: (e) => reject(new Error(`getRandomValues failed: ${e?.errMsg ?? e?.errorMessage ?? e}`)),
    });
  });
}
