// The web signer in a real headless Chromium (Debian's, driven by Playwright), against a real
// server (MPCW_TEST_HOST, serving the built page, with the Dapp MPCW_TEST_DAPP registered;
// started by tests/tests/web_sdk.rs). The user logs in, creates a 2-of-3 wallet in the page and
// sees its addresses; the Dapp (the Dapp SDK, in Node.js) asks for a Solana transfer; the user
// opens its link, sees the summary and approves; the Dapp reads a transaction whose signature
// Node's Ed25519 verifies under the transaction's own fee payer. A wrong password signs nothing,
// a rejection reaches the Dapp, a reload keeps the wallet, and the page speaks both languages.
// A screenshot of each step goes to MPCW_SCREENSHOTS.

import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createPublicKey, verify } from "node:crypto";
import { chromium } from "playwright-core";
import { DappClient } from "../../dapp/dist/index.js";

const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const shots = env.MPCW_SCREENSHOTS ?? "screenshots";

test("a wallet is made in the page and approves a Dapp's request", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: env.MPCW_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ locale: "zh-CN" });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const shot = (name) => page.screenshot({ path: join(shots, name), fullPage: true });
    // Wait for `selector`, failing at once with the page's own error message if it shows one.
    const visible = async (selector, timeout = 30_000) => {
      await page.waitForFunction(
        (s) => !document.querySelector(s).hidden || document.querySelector("#error").textContent,
        selector,
        { timeout },
      );
      assert.equal(await page.locator("#error").textContent(), "", `waiting for ${selector}`);
    };

    // Log in for the Dapp and create the wallet.
    await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await page.locator("#login").waitFor();
    assert.equal(await page.locator("h1").textContent(), "mpcw 钱包");
    await page.fill("#subject", "alice");
    await page.click("#login-dev");
    await visible("#no-wallet");
    await shot("1-login.png");
    await page.fill("#password", "correct horse");
    await page.fill("#recovery-password", "battery staple");
    await page.selectOption("#scheme", "ed25519");
    await page.click("#create");
    await visible("#has-wallet", 120_000);
    const walletId = await page.locator("#wallet-id").textContent();
    assert.match(walletId, /^w_/);
    assert.ok((await page.locator("#recovery-sealed").inputValue()).includes("ciphertext"));
    const solana = page.locator('li[data-network="solana"] code');
    const address = await solana.textContent();
    assert.match(address, /^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    assert.ok(await page.locator('li[data-network="ton"]').count());
    await page.waitForFunction(() => [...document.querySelectorAll("#addresses img")].every((i) => i.complete && i.naturalWidth > 0));
    await shot("2-wallet.png");
    // The share in storage is sealed.
    const stored = await page.evaluate((id) => localStorage.getItem(`mpcw/wallet/${id}/device`), walletId);
    assert.ok(stored.includes("ciphertext") && !stored.includes("party_keys"));

    // The Dapp asks; the user opens the link.
    const dapp = new DappClient({ base: HOST, id: env.MPCW_TEST_DAPP, secret: env.MPCW_TEST_DAPP_SECRET });
    const request = {
      kind: "transfer",
      to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
      lamports: "1500000",
      recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
    };
    const open = async (created) => {
      const link = new URL(created.deep_link);
      await page.goto(`${HOST}${link.pathname}${link.search}`);
      await visible("#bridge");
    };
    const created = await dapp.createRequest({ network: "solana", request });
    await open(created);
    assert.match(await page.locator("#summary-title").textContent(), /0\.0015 SOL/);
    assert.match(await page.locator("#bridge-from").textContent(), /Shop/);
    await shot("3-request.png");

    // A wrong password signs nothing.
    await page.fill("#bridge-password", "wrong");
    await page.click("#approve");
    await page.waitForFunction(() => document.querySelector("#error").textContent.length > 0);
    assert.equal((await dapp.status(created.id)).status, "opened");

    // The right one signs; the Dapp gets the transaction.
    await page.fill("#bridge-password", "correct horse");
    await page.click("#approve");
    await page.waitForFunction(() => document.querySelector("#progress").textContent === "已签名", null, { timeout: 60_000 });
    await shot("4-signed.png");
    const result = await dapp.waitForResult(created.id);
    assert.equal(result.status, "done");
    const raw = Buffer.from(result.result.raw);
    const message = raw.subarray(65);
    const payer = message.subarray(4, 36);
    assert.equal(raw[0], 1);
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: payer.toString("base64url") }, format: "jwk" });
    assert.ok(verify(null, message, key, raw.subarray(1, 65)), "the transaction's signature verifies");

    // A second request, rejected.
    const second = await dapp.createRequest({ network: "solana", request });
    await open(second);
    await page.click("#reject");
    await page.waitForFunction(() => document.querySelector("#progress").textContent === "已拒绝");
    assert.equal((await dapp.waitForResult(second.id)).status, "rejected");
    await shot("5-rejected.png");

    // A reload keeps the wallet; the page speaks English too.
    await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await visible("#has-wallet");
    assert.equal(await page.locator("#wallet-id").textContent(), walletId);
    await page.click("#lang");
    assert.equal(await page.locator("h1").textContent(), "mpcw wallet");
    await shot("6-english.png");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
