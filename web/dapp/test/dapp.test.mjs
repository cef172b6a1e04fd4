// The Dapp SDK against a real signing server (MPCW_TEST_HOST, with the Dapp MPCW_TEST_DAPP /
// MPCW_TEST_DAPP_SECRET registered and its callback URL on MPCW_TEST_CALLBACK_PORT, started by
// tests/tests/web_sdk.rs): the Dapp asks for a Solana transfer, the user's device (the device
// SDK with the WebAssembly party) opens and approves it, the Dapp follows the server-sent
// events and reads the result, whose signature Node's own Ed25519 verifies; its callback
// endpoint receives the event and verifyCallback accepts it, and refuses it altered. Then the
// Dapp connects to the user's Solana account, and names the connection in a request.

import test from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createRequire } from "node:module";
import { createPublicKey, verify } from "node:crypto";
import jsQR from "jsqr";
import { DappClient, qrDataUrl, qrModules, verifyCallback } from "../dist/index.js";
import { Api, Device, MemoryStore } from "../../sdk/dist/index.js";

const require = createRequire(import.meta.url);
const wasm = require("../../device/pkg-node/mpcw_device_wasm.js");
const env = process.env;
const HOST = env.MPCW_TEST_HOST;

// What an independent QR reader (jsQR) reads from the modules, drawn 4 pixels a module with a
// quiet zone of 4.
function readQr(modules) {
  const scale = 4;
  const side = (modules.length + 8) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + 4) * scale + dy) * side + (x + 4) * scale + dx) * 4;
          pixels.fill(0, i, i + 3);
        }
    }),
  );
  return jsQR(pixels, side, side)?.data;
}

test("the QR code of a link is drawn locally and reads back as the link", () => {
  const link = "https://wallet.example/bridge?token=Zm9vYmFyYmF6cXV4&dapp=shop&network=solana";
  const modules = qrModules(link);
  assert.equal(readQr(modules), link);
  const url = qrDataUrl({ id: "br_1", token: "t", deep_link: link, expires_at: 0 });
  assert.ok(url.startsWith("data:image/svg+xml,"));
  const svg = decodeURIComponent(url.slice("data:image/svg+xml,".length));
  const dark = modules.flat().filter(Boolean).length;
  assert.equal(svg.match(/M\d+ \d+h1v1h-1z/g).length, dark);
});

function callbackEndpoint(port) {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ server, received })));
}

test("a Dapp asks, the user approves, the Dapp gets a verified result", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  const { server, received } = await callbackEndpoint(Number(env.MPCW_TEST_CALLBACK_PORT));
  try {
    const dapp = new DappClient({ base: HOST, id: env.MPCW_TEST_DAPP, secret: env.MPCW_TEST_DAPP_SECRET });
    const api = new Api(HOST, fetch);
    await api.devLogin("web-bob", env.MPCW_TEST_DAPP);
    const store = new MemoryStore();
    const device = new Device(api, wasm, store, { memoryKib: 8 * 1024, passes: 1 });
    const { wallet } = await device.createWallet({
      scheme: "ed25519", threshold: 2, parties: 3, password: "pw", recoveryPassword: "rpw",
    });

    // A malformed request is refused by the plugin before any user sees it.
    await assert.rejects(
      dapp.createRequest({ network: "solana", request: { kind: "transfer", to: "nope", lamports: "1", recentBlockhash: "x" } }),
      /422 request_rejected/,
    );
    const request = {
      kind: "transfer",
      to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
      lamports: "2500000",
      recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
    };
    const created = await dapp.createRequest({ network: "solana", request });
    assert.ok(created.deep_link.endsWith(`/bridge?token=${created.token}&dapp=${env.MPCW_TEST_DAPP}&network=solana`));
    assert.equal(readQr(qrModules(created.deep_link)), created.deep_link);
    assert.equal((await dapp.status(created.id)).status, "pending");

    // The Dapp follows the events while the user opens and approves.
    const statuses = (async () => {
      const seen = [];
      for await (const s of dapp.events(created.id)) seen.push(s.status);
      return seen;
    })();
    const opened = await api.openBridge(created.token, wallet.id);
    assert.match(opened.summary.title, /0\.0025 SOL/);
    const view = await device.sign({ walletId: wallet.id, network: "solana", request: opened.request, password: "pw", bridge: created.id });
    const result = await dapp.waitForResult(created.id);
    assert.equal(result.status, "done");
    assert.equal(result.result.encoded, view.result.encoded);
    const seen = await statuses;
    assert.equal(seen.at(-1), "done");

    // The signed transaction: one signature, then the message it signs (a Solana legacy
    // transaction), verified by Node's Ed25519 under the wallet's Solana key.
    const raw = Buffer.from(result.result.raw);
    assert.equal(raw[0], 1);
    const signature = raw.subarray(1, 65);
    const message = raw.subarray(65);
    assert.equal(message.toString("hex"), view.payloads[0].bytes);
    const sealed = JSON.parse(await store.get(`mpcw/wallet/${wallet.id}/device`)).sealed;
    const child = wasm.DeviceSecret.open(sealed, "pw").childKey(Uint32Array.from(view.path));
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(child, "hex").toString("base64url") }, format: "jwk" });
    assert.ok(verify(null, message, key, signature), "the transaction's signature verifies");

    // The callback came, signed (other tests' requests may call back here too: only this
    // request's count).
    const about = () => received.filter((r) => JSON.parse(r.body.toString()).data.id === created.id);
    for (let i = 0; i < 100 && about().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(about().length, 1);
    const cb = about()[0];
    const callbackKey = await dapp.callbackKey();
    const event = await verifyCallback({
      key: callbackKey,
      timestamp: cb.headers["x-mpcw-timestamp"],
      signature: cb.headers["x-mpcw-signature"],
      body: new Uint8Array(cb.body),
    });
    assert.equal(event.type, "bridge.request.done");
    assert.equal(event.id, cb.headers["x-mpcw-event-id"]);
    assert.equal(event.data.result.encoded, view.result.encoded);
    const altered = new Uint8Array(Buffer.from(cb.body.toString().replace("done", "failed")));
    await assert.rejects(
      verifyCallback({ key: callbackKey, timestamp: cb.headers["x-mpcw-timestamp"], signature: cb.headers["x-mpcw-signature"], body: altered }),
      /does not match/,
    );
    await assert.rejects(
      verifyCallback({ key: "ab".repeat(32), timestamp: cb.headers["x-mpcw-timestamp"], signature: cb.headers["x-mpcw-signature"], body: new Uint8Array(cb.body) }),
      /does not match/,
    );
    await assert.rejects(
      verifyCallback({ key: callbackKey, timestamp: cb.headers["x-mpcw-timestamp"], signature: cb.headers["x-mpcw-signature"], body: new Uint8Array(cb.body), now: Number(cb.headers["x-mpcw-timestamp"]) + 3600 }),
      /stale/,
    );

    // A second request, rejected by the user: the Dapp reads the reason.
    const second = await dapp.createRequest({ network: "solana", request });
    const o2 = await api.openBridge(second.token);
    await api.rejectBridge(o2.id, "不是我");
    const r2 = await dapp.waitForResult(second.id);
    assert.deepEqual([r2.status, r2.reason], ["rejected", "不是我"]);

    // Connect: the user shares the wallet's Solana address; a request naming the connection is
    // refused with another sender, and opened with the connected wallet; once the Dapp
    // disconnects, requests naming it are refused.
    const connect = await dapp.connect({ networks: ["solana"] });
    assert.ok(connect.deep_link.endsWith("&action=connect"));
    const o3 = await api.openBridge(connect.token);
    assert.deepEqual([o3.action, o3.networks], ["connect", ["solana"]]);
    const made = await api.connectBridge(o3.id, [wallet.id]);
    const solAddress = (await api.addresses(wallet.id)).find((n) => n.network === "solana").addresses[0].value;
    const connected = await dapp.waitForResult(connect.id);
    assert.deepEqual([connected.action, connected.status, connected.connection.id], ["connect", "done", made.id]);
    assert.deepEqual(connected.connection.accounts.map((a) => a.address), [solAddress]);
    const other = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
    await assert.rejects(
      dapp.createRequest({ network: "solana", request: { ...request, from: other }, connection: made.id }),
      /422 request_rejected/,
    );
    const third = await dapp.createRequest({ network: "solana", request: { ...request, from: solAddress }, connection: made.id });
    const o4 = await api.openBridge(third.token);
    assert.deepEqual([o4.connection, o4.wallet, o4.summary.sender], [made.id, wallet.id, solAddress]);
    assert.deepEqual((await api.connections()).map((c) => [c.id, c.status]), [[made.id, "active"]]);
    assert.equal((await dapp.disconnect(made.id)).status, "revoked");
    assert.equal((await dapp.connection(made.id)).status, "revoked");
    await assert.rejects(dapp.createRequest({ network: "solana", request, connection: made.id }), /410 connection_revoked/);
  } finally {
    server.close();
  }
});
