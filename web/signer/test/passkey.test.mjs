// A passkey in place of the password, in headless Chromium with a virtual authenticator that
// supports WebAuthn's PRF extension (set up over the DevTools protocol). The page is opened at
// http://localhost (a passkey's relying party must be a domain, not an IP address), from the
// server MPCW_TEST_HOST whose public URL is that origin. The user makes a wallet protecting the
// device share with a passkey; a Dapp's Solana transfer is approved with the passkey alone (no
// password field), and Node verifies the signature; once the passkey is deleted, nothing signs.

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

test("a passkey protects the device share", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  mkdirSync(shots, { recursive: true });
  assert.match(HOST, /^http:\/\/localhost:/);
  const browser = await launch();
  try {
    const page = await browser.newPage({ locale: "zh-CN" });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2", ctap2Version: "ctap2_1", transport: "internal",
        hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
        automaticPresenceSimulation: true, hasPrf: true,
      },
    });
    const visible = visibleIn(page);

    await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await page.locator("#login").waitFor();
    await page.fill("#subject", "carol");
    await page.click("#login-dev");
    await visible("#new-wallet");
    await page.check("#use-passkey");
    assert.ok(await page.locator("#password-label").isHidden());
    await page.selectOption("#custody", "file");
    await page.fill("#recovery-password", "battery staple");
    await page.selectOption("#scheme", "ed25519");
    await page.click("#create");
    await visible('article[data-scheme="ed25519"]');
    const walletId = await page.locator("article.wallet").getAttribute("data-wallet");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1);
    const kept = await page.evaluate((id) => [localStorage.getItem(`mpcw.passkey.${id}`), localStorage.getItem(`mpcw/wallet/${id}/device`)], walletId);
    assert.ok(kept[0], "the wallet remembers its passkey");
    assert.ok(kept[1].includes("ciphertext") && !kept[1].includes("party_keys"));
    await page.screenshot({ path: join(shots, "passkey-1-wallet.png"), fullPage: true });

    // A Dapp's request, approved with the passkey: no password field.
    const dapp = new DappClient({ base: HOST, id: env.MPCW_TEST_DAPP, secret: env.MPCW_TEST_DAPP_SECRET });
    const request = {
      kind: "transfer",
      to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
      lamports: "1500000",
      recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
    };
    const first = await dapp.createRequest({ network: "solana", request });
    assert.ok(first.deep_link.startsWith(`${HOST}/bridge?`));
    await page.goto(first.deep_link);
    await visible("#bridge");
    assert.ok(await page.locator("#bridge-password-label").isHidden());
    await page.click("#approve");
    await page.waitForFunction(() => document.querySelector("#progress").textContent === "已签名", null, { timeout: 60_000 });
    await page.screenshot({ path: join(shots, "passkey-2-signed.png"), fullPage: true });
    const result = await dapp.waitForResult(first.id);
    assert.equal(result.status, "done");
    const raw = Buffer.from(result.result.raw);
    const message = raw.subarray(65);
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: message.subarray(4, 36).toString("base64url") }, format: "jwk" });
    assert.ok(verify(null, message, key, raw.subarray(1, 65)), "the transaction's signature verifies");

    // Without the passkey (deleted from the authenticator), the share does not open: nothing
    // is signed.
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    const second = await dapp.createRequest({ network: "solana", request });
    await page.goto(second.deep_link);
    await visible("#bridge");
    await page.click("#approve");
    await page.waitForFunction(() => document.querySelector("#error").textContent.length > 0, null, { timeout: 90_000 });
    assert.equal((await dapp.status(second.id)).status, "opened");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
