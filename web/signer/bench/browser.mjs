// The device party's cost in a real browser: what a page loads, and the time of key generation
// and of a co-signature with the server, measured inside headless Chromium (Debian's, driven by
// Playwright) on a page of the server's origin:
//
//   node web/signer/bench/browser.mjs [server URL, default http://127.0.0.1:8420] [runs, default 5]
//
// Needs scripts/web.sh's build (the signer's dist, Playwright) and a server with the dev login
// on that serves the signer (`signer_dir = "web/signer/dist"`). Ed25519 and ECDSA (DKLs23)
// wallets are made and co-sign; ECDSA key generation runs at most three times.

import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const base = (args[0] ?? "http://127.0.0.1:8420").replace(/\/+$/, "");
const runs = Number(args[1] ?? 5);

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const size = (files) => {
  const bytes = files.map((f) => readFileSync(f));
  const raw = bytes.reduce((a, b) => a + b.length, 0);
  const gz = bytes.reduce((a, b) => a + gzipSync(b, { level: 9 }).length, 0);
  return `${kib(raw)} (${kib(gz)} gzipped)`;
};
const dist = join(here, "../dist");
const js = (dir) => readdirSync(dir).filter((f) => f.endsWith(".js")).map((f) => join(dir, f));
console.log("| what the signer page loads | size |");
console.log("| --- | ---: |");
console.log(`| device party, WebAssembly | ${size([join(dist, "wasm/mpcw_device_wasm_bg.wasm")])} |`);
console.log(`| its JavaScript bindings | ${size([join(dist, "wasm/mpcw_device_wasm.js")])} |`);
console.log(`| the device SDK | ${size(js(join(dist, "sdk")))} |`);
console.log(`| the page's own scripts | ${size(js(dist))} |`);

const browser = await chromium.launch({
  executablePath: process.env.MPCW_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/signer/`);
  // Everything below runs in the page: the SDK and the wasm as the signer loads them.
  const times = await page.evaluate(
    async ({ runs }) => {
      const { Api, Device, MemoryStore } = await import("/signer/sdk/index.js");
      const wasm = await import("/signer/wasm/mpcw_device_wasm.js");
      await wasm.default();
      const api = new Api(location.origin, (u, i) => fetch(u, i));
      await api.devLogin(`bench-${Date.now()}`);
      const time = async (f) => {
        const t0 = performance.now();
        await f();
        return performance.now() - t0;
      };
      const out = { keygen: [], sign: [], open: [], ecdsaKeygen: [], ecdsaSign: [] };
      // The cheapest sealing cost for the protocol runs; the default is timed on its own.
      const device = new Device(api, wasm, new MemoryStore(), { memoryKib: 8 * 1024, passes: 1 });
      const create = (scheme) =>
        device.createWallet({ scheme, threshold: 2, parties: 3, password: "pw", recoveryPassword: "rpw" });
      let wallet;
      for (let i = 0; i < runs; i++) out.keygen.push(await time(async () => ({ wallet } = await create("ed25519"))));
      const sol = {
        kind: "transfer",
        to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
        lamports: "1000",
        recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
      };
      for (let i = 0; i < runs; i++) {
        out.sign.push(await time(() => device.sign({ walletId: wallet.id, network: "solana", request: sol, password: "pw" })));
      }
      const store = new MemoryStore();
      const sealed = await new Device(api, wasm, store).createWallet({
        scheme: "ed25519", threshold: 2, parties: 3, password: "pw", recoveryPassword: "rpw",
      });
      const kept = JSON.parse(await store.get(`mpcw/wallet/${sealed.wallet.id}/device`)).sealed;
      for (let i = 0; i < 3; i++) out.open.push(await time(async () => wasm.DeviceSecret.open(kept, "pw").free()));
      for (let i = 0; i < Math.min(runs, 3); i++) {
        out.ecdsaKeygen.push(await time(async () => ({ wallet } = await create("ecdsa-secp256k1"))));
      }
      const eth = {
        kind: "transaction", nonce: "0x0", to: "0x3535353535353535353535353535353535353535",
        value: "1000", gas: 21000, maxFeePerGas: "0x9502f9000", maxPriorityFeePerGas: "1500000000",
      };
      for (let i = 0; i < runs; i++) {
        out.ecdsaSign.push(await time(() => device.sign({ walletId: wallet.id, network: "sepolia", request: eth, password: "pw" })));
      }
      return out;
    },
    { runs },
  );
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    return `p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms`;
  };
  console.log();
  console.log(`| in the page (${runs} runs, Chromium ${browser.version()}) | time |`);
  console.log("| --- | ---: |");
  console.log(`| 2-of-3 Ed25519 wallet: key generation with the server (device and recovery parties in the page) | ${stats(times.keygen)} |`);
  console.log(`| co-signing a Solana transfer with the server | ${stats(times.sign)} |`);
  console.log(`| opening the sealed share (Argon2id, 64 MiB, 3 passes: the default) | ${stats(times.open)} |`);
  console.log(`| 2-of-3 ECDSA wallet (DKLs23): key generation and pairwise OT setup with the server | ${stats(times.ecdsaKeygen)} |`);
  console.log(`| co-signing an EVM transfer (DKLs23, three rounds) | ${stats(times.ecdsaSign)} |`);
} finally {
  await browser.close();
}
