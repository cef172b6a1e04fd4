// "My wallet" in headless Chromium: a user logs in with OpenID Connect (the stub provider) and
// makes their keys for every scheme in one flow, the
// home screen shows one card per network family with an address and its QR code, the balance
// and recent transactions from the server's (stub) node, and the user sends SOL and ETH on
// Sepolia from the send screen, each after reviewing the plugin's summary (a wrong password
// first). The addresses shown and the transactions sent go to MPCW_RESULTS for the Rust side,
// which checks them with the chains' own libraries and the stub node's log. Screenshots of
// every screen in Chinese and English.

import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, visibleIn } from "./browser.mjs";

const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const shots = env.MPCW_SCREENSHOTS ?? "screenshots";
const TO_SOL = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
const TO_ETH = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

test("my wallet: every chain in one flow, balances, and sends", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  mkdirSync(shots, { recursive: true });
  const browser = await launch();
  const results = {};
  try {
    const page = await browser.newPage({ locale: "zh-CN" });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const visible = visibleIn(page);
    const shot = async (name) => {
      await page.screenshot({ path: join(shots, `${name}-${await page.evaluate(() => document.documentElement.lang.slice(0, 2))}.png`), fullPage: true });
    };
    const both = async (name) => {
      await shot(name);
      await page.click("#lang");
      await shot(name);
    };

    // Logged in through the OpenID Connect provider (code flow with PKCE): no development login.
    await page.goto(`${HOST}/bridge`);
    await page.locator('button.provider[data-provider="stub"]').click();
    await page.waitForURL(/\/authorize\?/);
    await page.click("#consent");
    // Back from the provider, the page redeems the code and reloads the link logged in.
    await visible("#wallet");
    assert.equal(await page.locator("#who-subject").textContent(), "oidc:stub:alice-at-stub");
    await both("my-1-new");
    await page.fill("#password", "correct horse");
    await page.selectOption("#custody", "code");
    const started = Date.now();
    await page.click("#create-all");
    await page.waitForFunction(() => document.querySelectorAll("article.family").length === 7 || document.querySelector("#error").textContent, null, { timeout: 180_000 });
    assert.equal(await page.locator("#error").textContent(), "");
    results.seconds = (Date.now() - started) / 1000;
    assert.ok(await page.locator("#recovery-sheet").isVisible(), "one recovery sheet for the whole wallet");
    assert.equal((await page.locator("#recovery-words li").count()), 12);

    // One card per family: its main network's address.
    results.families = await page.$$eval("article.family", (cards) =>
      cards.map((c) => ({ plugin: c.dataset.family.split("/")[0], scheme: c.dataset.family.split("/")[1], network: c.dataset.network, address: c.querySelector("code.address").textContent })),
    );
    const card = (plugin, scheme) => page.locator(`article.family[data-family="${plugin}/${scheme}"]`);
    const sol = card("solana", "ed25519");
    const evm = card("ethereum", "ecdsa-secp256k1");
    // Balance and recent transactions from the node; Sepolia (a node) chosen in the EVM card.
    await sol.locator(".balance", { hasText: "1.5 SOL" }).waitFor();
    assert.match(await sol.locator("ul.recent").textContent(), /5VERv8NMvzbJMEkV/);
    await evm.locator("select.network").selectOption({ label: "Sepolia" });
    await evm.locator(".balance", { hasText: "1.5 ETH" }).waitFor();
    assert.ok(await card("monero", "ed25519").locator("button.send-button").isHidden(), "no send without a node");
    await page.locator("#recovery-sheet").evaluate((e) => (e.hidden = true));
    await both("my-2-home");

    // Send SOL: review (the plugin's summary), a wrong password, then the right one.
    results.solana = { address: await sol.locator("code.address").textContent() };
    await sol.locator("button.send-button").click();
    await page.fill("#send-to", TO_SOL);
    await page.fill("#send-amount", "0.0015");
    await page.click("#send-review");
    await visible("#send-confirm");
    assert.match(await page.locator("#send-summary").textContent(), /0\.0015 SOL/);
    await both("my-3-send-review");
    await page.fill("#send-password", "wrong horse");
    await page.click("#send-confirm");
    await page.waitForFunction(() => document.querySelector("#error").textContent);
    assert.match(await page.locator("#error").textContent(), /Wrong password|密码错误/);
    await page.fill("#send-password", "correct horse");
    await page.click("#send-confirm");
    await page.waitForFunction(() => document.querySelector("#send-result").dataset.txId || document.querySelector("#error").textContent, null, { timeout: 60_000 });
    assert.equal(await page.locator("#error").textContent(), "");
    results.solana.sent = await page.locator("#send-result").getAttribute("data-tx-id");
    await both("my-4-sent");

    // Send 0.01 ETH on Sepolia: nonce, gas and fees from the node.
    results.evm = { address: await evm.locator("code.address").textContent() };
    await evm.locator("button.send-button").click();
    await page.fill("#send-to", TO_ETH);
    await page.fill("#send-amount", "0.01");
    await page.click("#send-review");
    await visible("#send-confirm");
    assert.match(await page.locator("#send-summary").textContent(), /0\.01 ETH/);
    await page.fill("#send-password", "correct horse");
    await page.click("#send-confirm");
    await page.waitForFunction(() => document.querySelector("#send-result").dataset.txId || document.querySelector("#error").textContent, null, { timeout: 60_000 });
    assert.equal(await page.locator("#error").textContent(), "");
    results.evm.sent = await page.locator("#send-result").getAttribute("data-tx-id");
    assert.deepEqual(errors, []);
  } finally {
    writeFileSync(env.MPCW_RESULTS ?? "mywallet.json", JSON.stringify(results, null, 2));
    await browser.close();
  }
});
