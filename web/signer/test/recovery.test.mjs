// Lose the phone, log in on a new one, get the same wallet back: the web signer in headless
// Chromium, each path with a phone A that makes the wallet and a phone B with empty storage that
// logs in as the same user, recovers, shows the same addresses and co-signs a Dapp's Solana
// transfer that Node verifies; phone A's share is then refused.
//
// - Recovery code: A and B are two browser contexts. A's page shows the code once (12 words and
//   a QR code on a printable sheet); B types a wrong code (refused), then the right one.
// - File: two contexts; A downloads the sealed recovery share, B uploads it with its password.
// - Passkey: the recovery share is escrowed under a passkey's PRF output. A synced passkey is
//   the same credential on both phones; Chromium's virtual authenticator cannot carry a
//   credential's PRF secret to another authenticator (the DevTools protocol exports only its
//   private key, and the copy derives nothing), so here phone B is phone A's tab with its
//   storage wiped (localStorage, sessionStorage, cookies) and the authenticator kept.
//
// Screenshots of the recovery screens in Chinese and English go to MPCW_SCREENSHOTS.

import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createPublicKey, verify } from "node:crypto";
import { launch, visibleIn } from "./browser.mjs";
import { DappClient } from "../../dapp/dist/index.js";

const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const shots = env.MPCW_SCREENSHOTS ?? "screenshots";
const skip = !HOST && "MPCW_TEST_HOST is not set";

const transfer = {
  kind: "transfer",
  to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
  lamports: "1500000",
  recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
};

/** A phone: a page in its own context (or `context`), logged in as `user`. */
async function phone(browser, user, locale, context) {
  const ctx = context ?? (await browser.newContext({ locale, acceptDownloads: true }));
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await login(page, user);
  return { ctx, page, errors, visible: visibleIn(page) };
}

async function login(page, user) {
  await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
  await page.locator("#login").waitFor();
  await page.fill("#subject", user);
  await page.click("#login-dev");
  await visibleIn(page)("#new-wallet");
}

/** Create an Ed25519 wallet on `p` with `custody`; its id and Solana address. */
async function createWallet(p, custody, fill = async () => {}) {
  await p.page.fill("#password", "phone A password");
  await p.page.selectOption("#custody", custody);
  await fill();
  await p.page.selectOption("#scheme", "ed25519");
  await p.page.click("#create");
  await p.visible('article[data-scheme="ed25519"]', 60_000);
  const id = await p.page.locator("article.wallet").getAttribute("data-wallet");
  return { id, address: await solanaAddress(p.page, id) };
}

const solanaAddress = (page, id) =>
  page.locator(`article[data-wallet="${id}"] li[data-network="solana"] code`).textContent();

/** Recover wallet `id` on `p` (the recovery inputs filled by `fill`); its Solana address. */
async function recover(p, id, fill) {
  await p.page.locator(`#recoverable li[data-wallet="${id}"]`).waitFor();
  await fill();
  await p.page.fill("#device-password", "phone B password");
  await p.page.click(`#recoverable li[data-wallet="${id}"] button.recover`);
  await p.visible(`article[data-wallet="${id}"]`, 90_000);
  return solanaAddress(p.page, id);
}

const errorShown = (page) =>
  page.waitForFunction(() => document.querySelector("#error").textContent.length > 0, null, { timeout: 60_000 });

/** A Dapp's Solana transfer approved on `p` with `password` (empty: passkey); whether signed. */
async function coSign(p, password) {
  const dapp = new DappClient({ base: HOST, id: env.MPCW_TEST_DAPP, secret: env.MPCW_TEST_DAPP_SECRET });
  const created = await dapp.createRequest({ network: "solana", request: transfer });
  await p.page.goto(created.deep_link);
  await p.visible("#bridge");
  if (password) await p.page.fill("#bridge-password", password);
  await p.page.click("#approve");
  await p.page.waitForFunction(
    () => ["已签名", "Signed"].includes(document.querySelector("#progress").textContent) || document.querySelector("#error").textContent,
    null,
    { timeout: 90_000 },
  );
  if ((await dapp.status(created.id)).status !== "done") return false;
  const result = await dapp.waitForResult(created.id);
  const raw = Buffer.from(result.result.raw);
  const message = raw.subarray(65);
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: message.subarray(4, 36).toString("base64url") }, format: "jwk" });
  assert.ok(verify(null, message, key, raw.subarray(1, 65)), "the transaction's signature verifies");
  return true;
}

test("recovery with the printed code, in two browser contexts", { skip }, async () => {
  mkdirSync(shots, { recursive: true });
  const browser = await launch();
  try {
    const a = await phone(browser, "ruth", "zh-CN");
    const wallet = await createWallet(a, "code");
    await a.visible("#recovery-sheet");
    const words = await a.page.locator("#recovery-words li").allTextContents();
    assert.equal(words.length, 12);
    // The sheet's QR code is drawn in the page: the code never goes to the server.
    assert.match(await a.page.locator("#recovery-qr").getAttribute("src"), /^data:image\/svg\+xml,/);
    await a.page.screenshot({ path: join(shots, "recovery-1-sheet-zh.png"), fullPage: true });
    await a.page.emulateMedia({ media: "print" });
    await a.page.screenshot({ path: join(shots, "recovery-2-sheet-print.png"), fullPage: true });
    await a.page.emulateMedia({ media: "screen" });

    const b = await phone(browser, "ruth", "en-US");
    await b.visible(`#recoverable li[data-wallet="${wallet.id}"]`);
    assert.equal(await b.page.locator(`#recoverable li[data-wallet="${wallet.id}"]`).getAttribute("data-method"), "code");
    await b.page.screenshot({ path: join(shots, "recovery-3-lost-en.png"), fullPage: true });
    // A wrong code is refused by the server, and nothing changes.
    await b.page.fill("#code-input", [...words.slice(0, 11), words[11] === "abandon" ? "ability" : "abandon"].join(" "));
    await b.page.fill("#device-password", "phone B password");
    await b.page.click(`#recoverable li[data-wallet="${wallet.id}"] button.recover`);
    await b.page.waitForFunction(() => document.querySelector("#error").textContent.length > 0, null, { timeout: 60_000 });
    assert.match(await b.page.locator("#error").textContent(), /Wrong recovery code/);
    await b.page.locator('#record li[data-kind="escrow_refused"]').waitFor();
    await b.page.screenshot({ path: join(shots, "recovery-4-wrong-code-en.png"), fullPage: true });

    const address = await recover(b, wallet.id, () => b.page.fill("#code-input", words.join("  ").toUpperCase()));
    assert.equal(address, wallet.address, "the same address on the new phone");
    await b.visible('#record li[data-kind="recovery"][data-status="done"]');
    assert.equal(await b.page.locator('#record li[data-kind="escrow_refused"]').count(), 1);
    await b.page.screenshot({ path: join(shots, "recovery-5-recovered-en.png"), fullPage: true });
    assert.ok(await coSign(b, "phone B password"), "the new phone co-signs");
    assert.equal(await coSign(a, "phone A password"), false, "the lost phone's share is refused");
    // A refresh on the new phone, with the escrowed share (the code is still typed): new
    // shares, same address; the new phone still signs.
    await b.page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await b.page.locator(`article[data-wallet="${wallet.id}"] button.refresh`).waitFor();
    await b.page.fill("#code-input", words.join(" "));
    await b.page.fill("#device-password", "phone B password");
    await b.page.click(`article[data-wallet="${wallet.id}"] button.refresh`);
    await b.page.locator('#record li[data-kind="refresh"][data-status="done"]').waitFor({ timeout: 60_000 });
    assert.equal(await b.page.locator("#error").textContent(), "");
    assert.ok(await coSign(b, "phone B password"), "the new phone signs after the refresh");
    // The record in Chinese, on the new phone.
    await b.page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await b.visible("#record-box");
    await b.page.click("#lang");
    await b.page.screenshot({ path: join(shots, "recovery-6-record-zh.png"), fullPage: true });
    assert.deepEqual(b.errors, []);
  } finally {
    await browser.close();
  }
});

test("recovery with the downloaded file, in two browser contexts", { skip }, async () => {
  const browser = await launch();
  try {
    const a = await phone(browser, "sam", "en-US");
    const wallet = await createWallet(a, "file", () => a.page.fill("#recovery-password", "file password"));
    await a.visible("#recovery-box");
    const [download] = await Promise.all([a.page.waitForEvent("download"), a.page.click("#recovery-file")]);
    const path = join(shots, `recovery-file-${wallet.id}.json`);
    await download.saveAs(path);

    const b = await phone(browser, "sam", "zh-CN");
    assert.equal(await b.page.locator(`#recoverable li[data-wallet="${wallet.id}"]`).getAttribute("data-method"), "file");
    await b.page.screenshot({ path: join(shots, "recovery-7-lost-zh.png"), fullPage: true });
    const address = await recover(b, wallet.id, async () => {
      await b.page.setInputFiles("#file-input", path);
      await b.page.fill("#file-password", "file password");
    });
    assert.equal(address, wallet.address);
    assert.ok(await coSign(b, "phone B password"));
    assert.equal(await coSign(a, "phone A password"), false);
  } finally {
    await browser.close();
  }
});

test("recovery with a synced passkey", { skip: skip || (!/^http:\/\/localhost:/.test(HOST) && "the page must be at http://localhost") }, async () => {
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ locale: "en-US" });
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2", ctap2Version: "ctap2_1", transport: "internal",
        hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
        automaticPresenceSimulation: true, hasPrf: true,
      },
    });
    const a = await phone(browser, "tara", "en-US", ctx);
    const wallet = await createWallet(a, "passkey");
    // Phone B: the same passkey, nothing else. Phone A's storage is kept aside, to show later
    // that its share is refused.
    const phoneA = await page.evaluate(() => Object.entries(localStorage));
    await page.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
    await ctx.clearCookies();
    const b = await phone(browser, "tara", "en-US", ctx);
    await b.page.locator(`#recoverable li[data-wallet="${wallet.id}"]`).waitFor();
    assert.equal(await b.page.locator("article.wallet").count(), 0, "nothing of phone A is left");
    assert.equal(await b.page.locator(`#recoverable li[data-wallet="${wallet.id}"]`).getAttribute("data-method"), "passkey");
    const address = await recover(b, wallet.id, async () => {});
    assert.equal(address, wallet.address);
    assert.ok(await coSign(b, "phone B password"));
    assert.deepEqual(b.errors, []);
    // Phone A, with what it kept: its share is refused.
    const ctxA = await browser.newContext({ locale: "en-US" });
    await ctxA.addInitScript((entries) => {
      if (!sessionStorage.getItem("mpcw.restored")) {
        for (const [k, v] of entries) localStorage.setItem(k, v);
        sessionStorage.setItem("mpcw.restored", "1");
      }
    }, phoneA);
    const a2 = await phone(browser, "tara", "en-US", ctxA);
    await a2.page.locator(`article[data-wallet="${wallet.id}"]`).waitFor();
    assert.equal(await coSign(a2, "phone A password"), false, "the lost phone's share is refused");
  } finally {
    await browser.close();
  }
});

test("repeated wrong recovery codes are limited", { skip }, async () => {
  const browser = await launch();
  try {
    const a = await phone(browser, "vera", "en-US");
    const wallet = await createWallet(a, "code");
    const b = await phone(browser, "vera", "en-US");
    await b.page.locator(`#recoverable li[data-wallet="${wallet.id}"]`).waitFor();
    await b.page.fill("#code-input", "abandon ".repeat(11) + "about");
    await b.page.fill("#device-password", "phone B password");
    const seen = [];
    for (let i = 0; i < 12 && !seen.includes("Too many tries; try again later"); i++) {
      await b.page.evaluate(() => (document.querySelector("#error").textContent = ""));
      await b.page.click(`#recoverable li[data-wallet="${wallet.id}"] button.recover`);
      await errorShown(b.page);
      seen.push(await b.page.locator("#error").textContent());
    }
    // Refused as wrong, then held back (10 tries an hour per user and per client address).
    assert.equal(seen[0], "Wrong recovery code or passkey");
    assert.equal(seen.at(-1), "Too many tries; try again later");
    assert.ok(seen.length <= 11, `${seen.length} tries`);
  } finally {
    await browser.close();
  }
});
