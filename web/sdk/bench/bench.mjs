// Sizes of what a page loads, and the time of key generation and of a signature with the
// device party in WebAssembly, against a running server:
//
//   node web/sdk/bench/bench.mjs [server URL, default http://127.0.0.1:8420] [runs, default 10]
//
// Needs the SDK and the wasm bindings built (scripts/web.sh) and a server with the dev login
// on (`cargo run --release -- serve`). It runs in Node.js; web/signer/bench/browser.mjs measures
// the same in Chromium.

import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";
import { Api, Device, MemoryStore } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const base = process.argv[2] ?? "http://127.0.0.1:8420";
const runs = Number(process.argv[3] ?? 10);
const wasm = createRequire(import.meta.url)("../../device/pkg-node/mpcw_device_wasm.js");

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const size = (files) => {
  const bytes = files.map((f) => readFileSync(f));
  const raw = bytes.reduce((a, b) => a + b.length, 0);
  const gz = bytes.reduce((a, b) => a + gzipSync(b, { level: 9 }).length, 0);
  return `${kib(raw)} (${kib(gz)} gzipped)`;
};
const web = join(here, "../../device/pkg-web");
const dist = join(here, "../dist");
console.log("| what | size |");
console.log("| --- | ---: |");
console.log(`| device party, WebAssembly | ${size([join(web, "mpcw_device_wasm_bg.wasm")])} |`);
console.log(`| its JavaScript bindings | ${size([join(web, "mpcw_device_wasm.js")])} |`);
console.log(`| the SDK | ${size(readdirSync(dist).filter((f) => f.endsWith(".js")).map((f) => join(dist, f)))} |`);

const time = async (f) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms`;
};

const api = new Api(base, fetch);
await api.devLogin("bench");
const device = new Device(api, wasm, new MemoryStore(), { memoryKib: 8 * 1024, passes: 1 });
const request = {
  kind: "transfer",
  to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
  lamports: "1000",
  recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
};
const keygen = [];
const signing = [];
let walletId;
for (let i = 0; i < runs; i++) {
  keygen.push(
    await time(async () => {
      const { wallet } = await device.createWallet({
        scheme: "ed25519", threshold: 2, parties: 3, password: "pw", recoveryPassword: "rpw",
      });
      walletId = wallet.id;
    }),
  );
}
for (let i = 0; i < runs; i++) {
  signing.push(await time(() => device.sign({ walletId, network: "solana", request, password: "pw" })));
}
// Opening a share sealed with the default Argon2id cost (64 MiB, 3 passes), as a page does
// before each signature.
const store = new MemoryStore();
const sealed = new Device(api, wasm, store);
const { wallet } = await sealed.createWallet({
  scheme: "ed25519", threshold: 2, parties: 3, password: "pw", recoveryPassword: "rpw",
});
const kept = JSON.parse(await store.get(`mpcw/wallet/${wallet.id}/device`)).sealed;
const argon = [];
for (let i = 0; i < 3; i++) argon.push(await time(async () => wasm.DeviceSecret.open(kept, "pw")));
console.log();
console.log(`| operation (${runs} runs, Node.js ${process.versions.node}) | time |`);
console.log("| --- | ---: |");
console.log(`| 2-of-3 Ed25519 wallet: key generation with the server (device and recovery parties in WebAssembly) | ${stats(keygen)} |`);
console.log(`| co-signing a Solana transfer with the server | ${stats(signing)} |`);
console.log(`| opening the sealed share (Argon2id, 64 MiB, 3 passes: the default) | ${stats(argon)} |`);
