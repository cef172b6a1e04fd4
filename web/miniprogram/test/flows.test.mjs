// The mini-programs' pages, run as WeChat and Alipay run them: `App()` and `Page()` options
// from the projects' own files (web/miniprogram/{wechat,alipay}, with the lib/ that
// scripts/web.sh builds), instances whose `setData` merges into `data`, and `wx` / `my`
// objects that behave as the platforms document (requests resolved with `statusCode` on WeChat
// and HTTP errors through `fail` on Alipay, synchronous storage, `wx.login` / `my.getAuthCode`,
// asynchronous `getRandomValues`). There is no Web Crypto, as in a mini-program: the device
// party's randomness comes from the shared generator seeded by `getRandomValues`. WeChat's
// `WXWebAssembly` loads the package's `.wasm.br` by its path; Alipay's package file is read
// and inflated. Against a real signing server (MPCW_TEST_HOST) whose WeChat and Alipay are the
// stubs at MPCW_TEST_PLATFORMS.

import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliDecompressSync } from "node:zlib";
import { createPublicKey, verify, randomBytes } from "node:crypto";
import { DappClient } from "../../dapp/dist/index.js";
import { fakeWx, fakeMy } from "../../sdk/test-support/platforms.mjs";

const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const here = new URL("..", import.meta.url).pathname;
const skip = !HOST && "MPCW_TEST_HOST is not set";
const realWebAssembly = globalThis.WebAssembly;
const transfer = (lamports) => ({
  kind: "transfer",
  to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
  lamports,
  recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
});

// A mini-program has no Web Crypto.
Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true, writable: true });

const later = (f) => setTimeout(f, 1);

/** A phone with WeChat, logged in as `user`. */
function wechatPhone(user) {
  return {
    ...fakeWx(),
    toasts: [],
    pages: [],
    login({ success }) {
      later(() => success({ code: `code-${user}`, errMsg: "login:ok" }));
    },
    getRandomValues({ length, success }) {
      later(() => success({ randomValues: Uint8Array.from(randomBytes(length)).buffer }));
    },
    navigateTo({ url }) {
      this.pages.push(url);
    },
    showToast({ title }) {
      this.toasts.push(title);
    },
  };
}

/** A phone with Alipay, logged in as `user`. */
function alipayPhone(user) {
  return {
    ...fakeMy(),
    toasts: [],
    pages: [],
    getAuthCode({ scopes, success }) {
      assert.equal(scopes, "auth_base");
      later(() => success({ authCode: `auth-${user}` }));
    },
    getRandomValues({ length, success }) {
      later(() => success({ randomValues: Uint8Array.from(randomBytes(length)).buffer }));
    },
    getFileSystemManager: () => ({
      readFileSync: (path) => ({ data: Uint8Array.from(readFileSync(join(here, "alipay", path))).buffer }),
    }),
    navigateTo({ url }) {
      this.pages.push(url);
    },
    showToast({ content }) {
      this.toasts.push(content);
    },
  };
}

/** WeChat's loader: a `.wasm.br` of the code package, by its path. */
globalThis.WXWebAssembly = {
  instantiate: async (path, imports) => {
    assert.match(path, /^\/lib\/wasm\/.*\.wasm\.br$/);
    const module = new realWebAssembly.Module(brotliDecompressSync(readFileSync(join(here, "wechat", path))));
    return { instance: new realWebAssembly.Instance(module, imports), module };
  },
};

/** A project's `App()` and `Page()` options, from its own files (loaded once). */
const projects = new Map();
async function project(name) {
  if (!projects.has(name)) projects.set(name, await load(name));
  const loaded = projects.get(name);
  globalThis.getApp = () => loaded.app;
  return loaded;
}

async function load(name) {
  let app;
  globalThis.App = (o) => (app = o);
  await import(join(here, name, "app.js"));
  app.globalData.server = HOST;
  const pages = {};
  for (const p of ["index", "approve", "send", "recover", "settings"]) {
    globalThis.Page = (o) => (pages[p] = o);
    await import(join(here, name, "pages", p, `${p}.js`));
  }
  return { app, pages };
}

/** A page instance, as the platform makes one from its options. */
function open(options) {
  const page = Object.create(options);
  page.data = structuredClone(options.data);
  page.setData = (patch) => Object.assign(page.data, patch);
  return page;
}

const typed = (value) => ({ detail: { value } });

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58(bytes) {
  let n = BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** The Solana transaction a Dapp got, verified by Node's Ed25519: its fee payer, base58. */
function verifiedPayer(result) {
  const raw = Buffer.from(result.raw);
  assert.equal(raw[0], 1, "one signature");
  const signature = raw.subarray(1, 65);
  const message = raw.subarray(65);
  const payer = message.subarray(4, 36);
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: payer.toString("base64url") }, format: "jwk" });
  assert.ok(verify(null, message, key, signature), "the transaction's signature verifies");
  return base58(payer);
}

/** What the Rust side checks at the stub node: each platform's Solana address and transfer. */
const results = {};
test.after(() => writeFileSync(env.MPCW_RESULTS ?? "miniprogram.json", JSON.stringify(results, null, 2)));

/** Phone A makes the wallet, approves a request it opens, phone B recovers it. */
async function flow({ name, phone, setPhone, entry }) {
  const { app, pages } = await project(name);
  const dapp = new DappClient({ base: HOST, id: env.MPCW_TEST_DAPP, secret: env.MPCW_TEST_DAPP_SECRET });
  const a = phone("alice");
  setPhone(a);

  // The wallet screen: logged in, no wallet yet; "create my wallet".
  const home = open(pages.index);
  let started = performance.now();
  await home.onLoad({});
  const toScreen = performance.now() - started;
  assert.equal(home.data.error, "", name);
  assert.match(home.data.subject, new RegExp(`^${name}:.*:(o|a)-alice$`));
  assert.equal(home.data.families.length, 0);
  await home.create();
  assert.notEqual(home.data.error, "", "no password, no wallet");
  home.onPassword(typed("pw-a"));
  started = performance.now();
  await home.create();
  console.log(`timing ${name}: wallet screen ${(toScreen / 1000).toFixed(2)} s (WebAssembly loaded, logged in), my wallet made ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(home.data.error, "", name);
  assert.equal(home.data.words.length, 12, "the recovery code, shown once");
  assert.equal(home.data.families.length, 7, "every network family");
  const solana = home.data.families.find((f) => f.family === "solana/ed25519");
  assert.ok(home.data.families.every((f) => f.address.length > 20));
  assert.ok(![...a.kept.values()].some((v) => String(v).includes("party_keys")), "only sealed shares are stored");

  // Balance from the server's (stub) node, and a SOL transfer sent from the send page.
  assert.equal(solana.balance, "1.5 SOL");
  assert.match(solana.recent[0]?.id ?? "", /^5VERv8NMvzbJMEkV/, "the node's latest transaction");
  assert.ok(solana.sendable && solana.qr.includes("/v1/qr.png?text="));
  home.toSend({ currentTarget: { dataset: { network: solana.network } } });
  assert.equal(a.pages.at(-1), `/pages/send/send?network=${solana.network}`);
  const send = open(pages.send);
  await send.onLoad({ network: solana.network });
  send.onTo(typed("4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"));
  send.onAmount(typed("0.0015"));
  await send.review();
  assert.equal(send.data.error, "", name);
  assert.match(send.data.title, /0\.0015 SOL/);
  send.onPassword(typed("pw-a"));
  await send.send();
  assert.equal(send.data.error, "", name);
  assert.ok(send.data.txId.length > 40, "the node's transaction id");
  results[name] = { address: solana.address, sent: send.data.txId };

  // A Dapp's request, opened from the platform's entry: the summary, a wrong password, approval.
  const created = await dapp.createRequest({ network: "solana", request: transfer("1500000") });
  const token = await entry(dapp, created.id);
  const approve = open(pages.approve);
  await approve.onLoad(token);
  assert.equal(approve.data.error, "", name);
  // Wallets are kept per Dapp: the shop's first request asks for the shop's wallet.
  assert.equal(approve.data.needWallet, true);
  assert.equal(approve.data.dappName, "Shop");
  approve.onPassword(typed("pw-a"));
  await approve.createWallet();
  assert.equal(approve.data.error, "", name);
  assert.equal(approve.data.words.length, 12);
  assert.equal(approve.data.needWallet, false);
  assert.match(approve.data.title, /0\.0015 SOL/);
  const sender = approve.data.rows.find((r) => r.k === approve.data.t.sender)?.v;
  assert.ok(sender && sender !== solana.address, "the shop's own wallet, not the home one");
  approve.onPassword(typed("wrong"));
  await approve.approve();
  assert.notEqual(approve.data.error, "", "a wrong password signs nothing");
  assert.equal(approve.data.done, "");
  approve.onPassword(typed("pw-a"));
  await approve.approve();
  assert.equal(approve.data.error, "", name);
  assert.equal(approve.data.done, approve.data.t.approved);
  const status = await dapp.waitForResult(created.id, { timeoutMs: 30_000 });
  assert.equal(status.status, "done");
  assert.equal(verifiedPayer(status.result), sender, "signed by the wallet shown");

  // A second request, rejected.
  const second = await dapp.createRequest({ network: "solana", request: transfer("1000") });
  const reject = open(pages.approve);
  await reject.onLoad(await entry(dapp, second.id));
  await reject.reject();
  assert.equal(reject.data.done, reject.data.t.rejected);
  assert.equal((await dapp.status(second.id)).status, "rejected");

  // A new phone: the recovery code brings the same wallet back.
  const b = phone("alice");
  setPhone(b);
  app.globalData.wallet = null;
  const recover = open(pages.recover);
  await recover.onLoad({});
  recover.onCode(typed(home.data.words.join(" ").toUpperCase()));
  recover.onPassword(typed("pw-b"));
  await recover.recover();
  assert.equal(recover.data.error, "", name);
  assert.equal(recover.data.recovered.length, 3, "every scheme's key");
  const again = open(pages.index);
  await again.onLoad({});
  assert.deepEqual(again.data.families.map((f) => f.address), home.data.families.map((f) => f.address), "the same addresses");

  // Settings: the shares refreshed with the code, English, and no connections.
  const settings = open(pages.settings);
  await settings.onLoad({});
  assert.equal(settings.data.error, "");
  settings.onCode(typed(home.data.words.join(" ")));
  settings.onPassword(typed("pw-b"));
  await settings.refresh();
  assert.equal(settings.data.error, "", name);
  assert.equal(settings.data.refreshed, 3);
  assert.deepEqual(settings.data.connections, []);
  await settings.switchLanguage();
  assert.equal(settings.data.lang, "en");
  assert.equal(settings.data.t.approve, "Approve and sign");
}

test("the WeChat mini-program: a request opened from its code's scene", { skip }, async () => {
  await flow({
    name: "wechat",
    phone: wechatPhone,
    setPhone: (p) => (globalThis.wx = p),
    // The Dapp shows the mini-program code; the phone's camera reads its scene (the stub drew it).
    entry: async (dapp, id) => {
      const code = await dapp.wechatCode(id);
      assert.equal(code.contentType, "image/png");
      const scenes = await (await fetch(`${env.MPCW_TEST_PLATFORMS}/stub/scenes`)).json();
      return { scene: encodeURIComponent(scenes.at(-1)) };
    },
  });
});

test("the Alipay mini-program: a request opened from its link's query", { skip }, async () => {
  await flow({
    name: "alipay",
    phone: alipayPhone,
    setPhone: (p) => (globalThis.my = p),
    entry: async (dapp, id) => {
      const { scheme, qr_code_url } = await dapp.alipayCode(id);
      assert.match(qr_code_url, /^https:\/\//);
      const query = new URLSearchParams(new URL(scheme).searchParams.get("query"));
      return { t: query.get("t") };
    },
  });
});

test("every handler the templates name is a method of its page, on both platforms", async () => {
  for (const [name, ext, pattern] of [
    ["wechat", "wxml", /\bbind\w+="(\w+)"/g],
    ["alipay", "axml", /\bon[A-Z]\w*="(\w+)"/g],
  ]) {
    const { pages } = await project(name);
    for (const [page, options] of Object.entries(pages)) {
      const template = readFileSync(join(here, name, "pages", page, `${page}.${ext}`), "utf8");
      const handlers = [...template.matchAll(pattern)].map((m) => m[1]);
      assert.ok(handlers.length > 0, `${name} ${page}`);
      for (const h of handlers) assert.equal(typeof options[h], "function", `${name} ${page}: ${h}`);
    }
    for (const page of Object.keys(pages)) {
      const js = (p) => readFileSync(join(here, p, "pages", page, `${page}.js`), "utf8");
      assert.equal(js("wechat"), js("alipay"), `${page}: one page logic for both platforms`);
    }
  }
});
