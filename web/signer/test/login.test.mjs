// Logging in to the web signer with OpenID Connect, in headless Chromium: the server
// (MPCW_TEST_HOST, development login off) offers the stub provider MPCW_TEST_OIDC; the page
// sends the user there with a PKCE challenge and a login nonce, the user continues, and the
// page comes back, has the server redeem the code, and shows the user's wallets as
// `oidc:stub:<sub>`. A user who cancels at the provider sees the provider's words and the
// login again. Screenshots of the login screen in Chinese and English, and of the provider.

import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch, visibleIn } from "./browser.mjs";

const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const shots = env.MPCW_SCREENSHOTS ?? "screenshots";

test("log in with OpenID Connect (code flow with PKCE)", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  mkdirSync(shots, { recursive: true });
  const browser = await launch();
  try {
    const page = await browser.newPage({ locale: "zh-CN" });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const visible = visibleIn(page);

    // A bridge link's query survives the trip to the provider.
    await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await visible("#login");
    const provider = page.locator('button.provider[data-provider="stub"]');
    await provider.waitFor();
    assert.match(await provider.textContent(), /登录.*Stub ID/);
    assert.ok(await page.locator("#dev-login").isHidden(), "no development login on this server");
    await page.screenshot({ path: join(shots, "login-1-zh.png"), fullPage: true });
    await page.click("#lang");
    assert.match(await provider.textContent(), /Log in with Stub ID/);
    await page.screenshot({ path: join(shots, "login-1-en.png"), fullPage: true });

    await provider.click();
    await page.waitForURL(new RegExp(`^${env.MPCW_TEST_OIDC}/authorize\\?`));
    const asked = new URL(page.url()).searchParams;
    assert.equal(asked.get("code_challenge_method"), "S256");
    assert.equal(asked.get("redirect_uri"), `${HOST}/bridge`);
    assert.match(asked.get("nonce"), /^n1\./, "a login nonce of the server's");
    await page.screenshot({ path: join(shots, "login-2-provider.png"), fullPage: true });
    await page.click("#consent");

    await page.waitForURL(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await visible("#wallet");
    assert.equal(await page.locator("#who-subject").textContent(), "oidc:stub:alice-at-stub");
    await visible("#new-wallet");
    await page.screenshot({ path: join(shots, "login-3-logged-in-en.png"), fullPage: true });
    await page.click("#lang");
    await page.screenshot({ path: join(shots, "login-3-logged-in-zh.png"), fullPage: true });
    const kept = await page.evaluate(() => Object.keys(sessionStorage));
    assert.ok(!kept.includes("mpcw.oidc.pending"), "the verifier is forgotten once used");

    // Cancelled at the provider: its words, and the login again.
    const other = await browser.newPage({ locale: "en-US" });
    await other.goto(`${HOST}/bridge`);
    await other.locator('button.provider[data-provider="stub"]').click();
    await other.waitForURL(/\/authorize\?/);
    await other.click("#deny");
    await other.waitForFunction(() => document.querySelector("#error").textContent);
    assert.match(await other.locator("#error").textContent(), /the user said no/);
    assert.ok(await other.locator("#login").isVisible());
    assert.equal(new URL(other.url()).search, "", "the provider's answer is gone from the address bar");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
