// A recovery the server holds back (MPCW_TEST_HOST is configured with a recovery delay of a few
// seconds): the new phone's recovery waits; the old phone, which still holds its share, sees it
// in the record and cancels it; the new phone asks again, and once the delay has passed without
// a cancellation the wallet is recovered with the same address.

import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch, visibleIn } from "./browser.mjs";

const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const DELAY = Number(env.MPCW_TEST_RECOVERY_DELAY ?? 0);
const shots = env.MPCW_SCREENSHOTS ?? "screenshots";

async function phone(browser, locale) {
  const page = await (await browser.newContext({ locale })).newPage();
  const visible = visibleIn(page);
  await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
  await page.locator("#login").waitFor();
  await page.fill("#subject", "uma");
  await page.click("#login-dev");
  await page.locator("#new-wallet").waitFor();
  return { page, visible };
}

const errorShown = (page) =>
  page.waitForFunction(() => document.querySelector("#error").textContent.length > 0, null, { timeout: 60_000 });

test("a recovery waits, is cancelled by the old phone, and runs after the delay", { skip: (!HOST || !DELAY) && "MPCW_TEST_HOST and MPCW_TEST_RECOVERY_DELAY are not set" }, async () => {
  mkdirSync(shots, { recursive: true });
  const browser = await launch();
  try {
    const a = await phone(browser, "zh-CN");
    await a.page.fill("#password", "phone A password");
    await a.page.selectOption("#custody", "code");
    await a.page.selectOption("#scheme", "ed25519");
    await a.page.click("#create");
    await a.visible("#recovery-sheet", 60_000);
    const code = (await a.page.locator("#recovery-words li").allTextContents()).join(" ");
    const id = await a.page.locator("article.wallet").getAttribute("data-wallet");
    const address = await a.page.locator('li[data-network="solana"] code').textContent();

    // The new phone asks: the server holds the recovery back.
    const b = await phone(browser, "en-US");
    await b.page.locator(`#recoverable li[data-wallet="${id}"]`).waitFor();
    await b.page.fill("#code-input", code);
    await b.page.fill("#device-password", "phone B password");
    await b.page.click(`#recoverable li[data-wallet="${id}"] button.recover`);
    await errorShown(b.page);
    assert.match(await b.page.locator("#error").textContent(), /Recovery requested/);
    await b.page.screenshot({ path: join(shots, "recovery-8-waiting-en.png"), fullPage: true });

    // The old phone sees it and cancels it with its own share.
    await a.page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    const waiting = a.page.locator('#record li[data-kind="recovery"][data-status="waiting"]');
    await waiting.locator("button.cancel-recovery").waitFor();
    await a.page.screenshot({ path: join(shots, "recovery-9-cancel-zh.png"), fullPage: true });
    await a.page.fill("#device-password", "phone A password");
    await waiting.locator("button.cancel-recovery").click();
    await a.page.locator('#record li[data-kind="recovery"][data-status="cancelled"]').waitFor();
    assert.equal(await a.page.locator("#error").textContent(), "");

    // The new phone asks again: a new wait; after it, the recovery runs.
    await b.page.click(`#recoverable li[data-wallet="${id}"] button.recover`);
    await b.page.waitForFunction(() => /Recovery requested/.test(document.querySelector("#error").textContent), null, { timeout: 60_000 });
    await new Promise((r) => setTimeout(r, DELAY * 1000 + 500));
    await b.page.click(`#recoverable li[data-wallet="${id}"] button.recover`);
    await b.visible(`article[data-wallet="${id}"]`, 90_000);
    assert.equal(await b.page.locator(`article[data-wallet="${id}"] li[data-network="solana"] code`).textContent(), address);
    await b.page.locator('#record li[data-kind="recovery"][data-status="done"]').waitFor();
    assert.equal(await b.page.locator('#record li[data-kind="recovery"][data-status="cancelled"]').count(), 1);
  } finally {
    await browser.close();
  }
});
