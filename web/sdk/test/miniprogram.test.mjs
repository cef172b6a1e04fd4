// The mini-program adapters against a real signing server (MPCW_TEST_HOST): `wx` and `my`
// objects that behave as WeChat's and Alipay's documentation says (wx.request resolves every
// HTTP status through `success` with `statusCode`; my.request reports HTTP errors through
// `fail` with `status`; their storage is synchronous, an absent WeChat key reads as ""), built
// here over Node's fetch and a Map. A wallet is made and co-signs through them; a server error
// reaches the caller as an ApiError with its code.

import test from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  Api, ApiError, Device, wxFetch, wxStorage, myFetch, myStorage, escrowVerifier, wasmSha256, webSha256,
} from "../dist/index.js";
import { fakeWx, fakeMy } from "../test-support/platforms.mjs";

const wasm = createRequire(import.meta.url)("../../device/pkg-node/mpcw_device_wasm.js");
const HOST = process.env.MPCW_TEST_HOST;

const transfer = {
  kind: "transfer",
  to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
  lamports: "1000",
  recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
};

test("the SDK runs over wx.request and my.request", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  for (const [name, fake, fetchOf, storeOf] of [
    ["wx", fakeWx(), wxFetch, wxStorage],
    ["my", fakeMy(), myFetch, myStorage],
  ]) {
    const api = new Api(HOST, fetchOf(fake));
    await api.devLogin(`mini-${name}`);
    const device = new Device(api, wasm, storeOf(fake), { memoryKib: 8 * 1024, passes: 1 });
    const { wallet } = await device.createWallet({
      scheme: "ed25519", threshold: 2, parties: 3, password: "pw", recoveryPassword: "rpw",
    });
    // The sealed share went to the mini-program's storage, and only sealed.
    const stored = fake.kept.get(`mpcw/wallet/${wallet.id}/device`);
    assert.ok(stored.includes("ciphertext") && !stored.includes("party_keys"), name);
    const view = await device.sign({ walletId: wallet.id, network: "solana", request: transfer, password: "pw" });
    assert.equal(view.status, "done", name);
    assert.ok(view.result.raw.length > 65, name);
    await assert.rejects(api.wallet("w_missing"), (e) => e instanceof ApiError && e.status === 404, name);
    assert.equal(await storeOf(fake).get("absent"), null, name);
  }
});

// Recovery inside a mini-program: the recovery share escrowed under a recovery code at wallet
// creation; a new phone (empty storage) logs in as the same user, recovers with the code through
// the SDK, and co-signs; the old phone's share is refused. Mini-programs have no Web Crypto: the
// SDK then hashes with the wasm module, which must agree with Web Crypto.
test("recovery with a code runs over wx.request and my.request", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  const secret = "legal winner thank year wave sausage worth useful legal winner thank yellow";
  assert.equal(await escrowVerifier(secret, wasmSha256(wasm)), await escrowVerifier(secret, webSha256));
  const real = globalThis.crypto;
  Object.defineProperty(globalThis, "crypto", {
    value: { getRandomValues: (b) => real.getRandomValues(b) },
    configurable: true,
  });
  try {
    for (const [name, fakeOf, fetchOf, storeOf] of [
      ["wx", fakeWx, wxFetch, wxStorage],
      ["my", fakeMy, myFetch, myStorage],
    ]) {
      const cost = { memoryKib: 8 * 1024, passes: 1 };
      const oldPhone = fakeOf();
      const api = new Api(HOST, fetchOf(oldPhone));
      await api.devLogin(`mini-recover-${name}`);
      const device = new Device(api, wasm, storeOf(oldPhone), cost);
      const code = wasm.generateMnemonic(12);
      const { wallet, recoverySealed } = await device.createWallet({
        scheme: "ed25519", threshold: 2, parties: 3, password: "pw", recoveryPassword: code,
      });
      await device.escrow(wallet.id, recoverySealed, { method: "code", code });

      const newPhone = fakeOf();
      const api2 = new Api(HOST, fetchOf(newPhone));
      await api2.devLogin(`mini-recover-${name}`);
      const device2 = new Device(api2, wasm, storeOf(newPhone), cost);
      await assert.rejects(
        device2.recoverFromEscrow({ walletId: wallet.id, password: "pw2", custody: { method: "code", code: "wrong words" } }),
        (e) => e instanceof ApiError && e.code === "wrong_recovery_secret",
        name,
      );
      const recovered = await device2.recoverFromEscrow({ walletId: wallet.id, password: "pw2", custody: { method: "code", code } });
      assert.equal(recovered.public_key.public_key, wallet.public_key.public_key, name);
      const view = await device2.sign({ walletId: wallet.id, network: "solana", request: transfer, password: "pw2" });
      assert.equal(view.status, "done", name);
      await assert.rejects(device.sign({ walletId: wallet.id, network: "solana", request: transfer, password: "pw" }), name);
    }
  } finally {
    Object.defineProperty(globalThis, "crypto", { value: real, configurable: true });
  }
});
