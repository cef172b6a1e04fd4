// The web signer and an example Dapp's page in a real headless Chromium (Debian's, driven by
// Playwright), against a real server (MPCW_TEST_HOST, serving the built signer, with the Dapp
// MPCW_TEST_DAPP registered and its callbacks sent to MPCW_TEST_CALLBACK_PORT; started by
// tests/tests/web_sdk.rs). The shop (web/dapp/example) runs here on that port.
//
// The user logs in and creates two 2-of-3 wallets in the signer page, Ed25519 and ECDSA
// (DKLs23, made entirely in the page: no precomputed parameters). The shop's page finds the
// wallet's EIP-1193 provider by EIP-6963 and uses it through ethers' BrowserProvider: it
// connects (the user opens the provider's link in the signer, sees which Dapp asks for which
// addresses and approves; the shop shows the addresses the signer shows and the balance from
// the stub node), signs in (personal_sign) and signs an order (EIP-712), both verified by
// ethers in the page, and pays 0.01 ETH with `sendTransaction` (nonce and fees filled in from
// the stub node, which receives the broadcast; the Rust test checks there, with alloy, that
// its sender is the address the signer showed). A payment the user rejects is ethers'
// ACTION_REJECTED with EIP-1193's 4001. The shop pays 0.0015 SOL through the wallet's Wallet
// Standard wallet (a transfer it builds with @solana/web3.js and the node's blockhash, which the
// stub node receives and verifies), and takes a SOL order by QR code through its server for the
// connected account (summary, approval, the result and its verified callback; Node verifies the
// signature with Ed25519). A wrong password signs nothing, a rejection reaches
// the shop, a reload keeps both wallets, the page speaks both languages, and once the user
// revokes the connection in the signer the shop's next order is refused. A screenshot of each
// step goes to MPCW_SCREENSHOTS.

import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicKey, verify } from "node:crypto";
import { launch, visibleIn } from "./browser.mjs";
import { DappClient } from "../../dapp/dist/index.js";
import { startShop } from "../../dapp/example/shop.mjs";

const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const shots = env.MPCW_SCREENSHOTS ?? "screenshots";
test("wallets made in the page connect to a shop, sign in, and approve its ETH and SOL payments", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  mkdirSync(shots, { recursive: true });
  const shop = await startShop({
    base: HOST,
    id: env.MPCW_TEST_DAPP,
    secret: env.MPCW_TEST_DAPP_SECRET,
    port: Number(env.MPCW_TEST_CALLBACK_PORT),
  });
  const dapp = new DappClient({ base: HOST, id: env.MPCW_TEST_DAPP, secret: env.MPCW_TEST_DAPP_SECRET });
  const browser = await launch();
  try {
    const signerContext = await browser.newContext({ locale: "zh-CN" });
    const page = await signerContext.newPage();
    const shopPage = await (await browser.newContext({ locale: "en-US" })).newPage();
    const errors = [];
    for (const p of [page, shopPage]) {
      p.on("pageerror", (e) => errors.push(e.message));
      p.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    }
    const shot = (name, p = page) => p.screenshot({ path: join(shots, name), fullPage: true });
    const visible = visibleIn(page);
    const create = async (scheme) => {
      await page.fill("#password", "correct horse");
      await page.selectOption("#custody", "file");
      await page.fill("#recovery-password", "battery staple");
      await page.selectOption("#scheme", scheme);
      await page.click("#create");
      await visible(`article[data-scheme="${scheme}"]`, 120_000);
      assert.ok((await page.locator("#recovery-sealed").inputValue()).includes("ciphertext"));
    };
    const address = (scheme, network) => page.locator(`article[data-scheme="${scheme}"] li[data-network="${network}"] code`).textContent();

    // Log in for the Dapp and create an Ed25519 wallet.
    await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await page.locator("#login").waitFor();
    assert.equal(await page.locator("h1").textContent(), "mpcw 钱包");
    await page.fill("#subject", "alice");
    await page.click("#login-dev");
    await visible("#new-wallet");
    await shot("1-login.png");
    await create("ed25519");
    const solAddress = await address("ed25519", "solana");
    assert.match(solAddress, /^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    assert.ok(await page.locator('article[data-scheme="ed25519"] li[data-network="ton"]').count());

    // And an ECDSA wallet.
    await create("ecdsa-secp256k1");
    const ethAddress = await address("ecdsa-secp256k1", "sepolia");
    assert.match(ethAddress, /^0x[0-9a-fA-F]{40}$/);
    assert.equal(await address("ecdsa-secp256k1", "ethereum"), ethAddress);
    await page.waitForFunction(() => [...document.querySelectorAll(".addresses img")].every((i) => i.complete && i.naturalWidth > 0));
    await shot("2-wallets.png");
    // The shares in storage are sealed.
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((k) => k.startsWith("mpcw/wallet/")).map((k) => localStorage.getItem(k)),
    );
    assert.equal(stored.length, 2);
    for (const s of stored) assert.ok(s.includes("ciphertext") && !s.includes("party_keys"));

    // The shop's server asks (SOL); the user opens its link in the signer.
    const order = async (button) => {
      await shopPage.click(button);
      await shopPage.waitForFunction(() => document.querySelector("#status").textContent === "pending");
      await shopPage.waitForFunction(() => document.querySelector("#qr").complete && document.querySelector("#qr").naturalWidth > 0);
      return { id: await shopPage.locator("#order").getAttribute("data-request"), link: await shopPage.locator("#link").getAttribute("href") };
    };
    const approve = async (link, password = "correct horse") => {
      await page.goto(link);
      await visible("#bridge");
      await page.fill("#bridge-password", password);
      await page.click("#approve");
    };
    const settled = async (status) => {
      await shopPage.waitForFunction((s) => document.querySelector("#status").textContent === s, status, { timeout: 300_000 });
      await shopPage.waitForFunction(() => !document.querySelector("#callback").hidden);
      assert.match(await shopPage.locator("#callback").textContent(), new RegExp(`bridge\\.request\\.${status}, signature verified`));
    };
    await shopPage.goto(shop.url);

    // The wallet's prompt in the shop (the EIP-1193 provider's overlay): its link.
    const prompted = async (button) => {
      await shopPage.click(button);
      await shopPage.locator("#mpcw-prompt a").waitFor();
      await shopPage.waitForFunction(() => document.querySelector("#mpcw-prompt img").complete && document.querySelector("#mpcw-prompt img").naturalWidth > 0);
      return shopPage.locator("#mpcw-prompt a").getAttribute("href");
    };
    const signed = () => page.waitForFunction(() => document.querySelector("#progress").textContent === "已签名", null, { timeout: 300_000 });

    // The shop connects through ethers and the provider it found by EIP-6963: the signer shows
    // who asks for which addresses; the shop then shows the addresses the signer showed, and
    // the balance its node gives.
    const connectLink = await prompted("#connect");
    assert.ok(connectLink.endsWith("&action=connect"), connectLink);
    await shot("3-shop-connect.png", shopPage);
    await page.goto(connectLink);
    await visible("#bridge");
    assert.equal(await page.locator("#bridge-heading").textContent(), "连接请求");
    assert.match(await page.locator("#bridge-from").textContent(), /Shop/);
    const shared = await page.locator("#summary").textContent();
    assert.ok(shared.includes(ethAddress) && shared.includes(solAddress), shared);
    // The user picks a wallet per scheme (one of each here).
    for (const scheme of ["ecdsa-secp256k1", "ed25519"]) {
      const id = await page.locator(`article[data-scheme="${scheme}"]`).getAttribute("data-wallet");
      assert.equal(await page.locator(`#wallet-picks select[data-scheme="${scheme}"]`).inputValue(), id);
    }
    await shot("3-connect.png");
    await page.click("#approve");
    await page.waitForFunction(() => document.querySelector("#progress").textContent === "已连接");
    await visible('#connections li[data-status="active"]');
    await shopPage.waitForFunction(() => !document.querySelector("#account").hidden);
    assert.equal(await shopPage.locator("#mpcw-prompt").count(), 0, "the prompt is gone");
    assert.equal(await shopPage.locator('#accounts li[data-network="sepolia"] code').textContent(), ethAddress);
    assert.equal(await shopPage.locator('#accounts li[data-network="solana"] code').textContent(), solAddress);
    assert.equal(await shopPage.locator("#balance").textContent(), "1.5 ETH");
    await shot("3-shop-connected.png", shopPage);

    // Sign in (personal_sign) and sign the order (EIP-712): ethers verifies both in the page.
    await approve(await prompted("#sign-in"));
    await signed();
    await shopPage.waitForFunction(() => !document.querySelector("#signed-in").hidden);
    assert.equal(await shopPage.locator("#signed-in").textContent(), `signed in, verified: ${ethAddress}`);
    await approve(await prompted("#sign-order"));
    assert.match(await page.locator("#summary").textContent(), /Example shop/);
    await signed();
    await shopPage.waitForFunction(() => !document.querySelector("#signed-order").hidden);
    assert.equal(await shopPage.locator("#signed-order").textContent(), `order signed, verified: ${ethAddress}`);

    // 0.01 ETH through ethers: nonce and fees come from the node; a wrong password first
    // signs nothing.
    const ethLink = await prompted("#pay-eth");
    assert.ok(ethLink.startsWith(`${HOST}/bridge?token=`) && ethLink.endsWith("&network=sepolia"));
    await shot("3-shop-eth.png", shopPage);
    await approve(ethLink, "wrong");
    await page.waitForFunction(() => document.querySelector("#error").textContent.length > 0);
    assert.equal(await page.locator("#error").textContent(), "密码错误");
    assert.match(await page.locator("#summary-title").textContent(), /0\.01/);
    assert.match(await page.locator("#bridge-from").textContent(), /Shop · sepolia/);
    assert.match(await page.locator("#summary").textContent(), /nonce/);
    await shot("4-eth-request.png");
    await page.fill("#bridge-password", "correct horse");
    await page.click("#approve");
    await signed();
    await shot("5-eth-signed.png");
    await shopPage.waitForFunction(() => !document.querySelector("#eth-tx").hidden, null, { timeout: 60_000 });
    const ethTx = await shopPage.locator("#eth-tx-id").textContent();
    assert.match(ethTx, /^0x[0-9a-f]{64}$/);
    await shot("6-shop-eth-paid.png", shopPage);

    // A payment the user rejects: ethers reports EIP-1193's 4001.
    await page.goto(await prompted("#pay-eth"));
    await visible("#bridge");
    await page.click("#reject");
    await page.waitForFunction(() => document.querySelector("#progress").textContent === "已拒绝");
    await shopPage.waitForFunction(() => document.querySelector("#error").textContent.length > 0);
    assert.match(await shopPage.locator("#error").textContent(), /ACTION_REJECTED 4001/);

    // 0.0015 SOL through the Wallet Standard wallet: the shop builds the transfer with
    // @solana/web3.js and the node's blockhash; the node receives it (the Rust test checks its
    // payer and blockhash there).
    await approve(await prompted("#pay-sol"));
    assert.match(await page.locator("#summary-title").textContent(), /0\.0015 SOL/);
    await signed();
    await shopPage.waitForFunction(() => !document.querySelector("#sol-tx").hidden, null, { timeout: 60_000 });
    const solTx = await shopPage.locator("#sol-tx-id").textContent();
    assert.match(solTx, /^[1-9A-HJ-NP-Za-km-z]{64,88}$/);
    await shot("6-shop-sol-sent.png", shopPage);

    // SOL by QR code, through the shop's server; Node checks the signature under the
    // transaction's fee payer, which is the address the page showed.
    const sol = await order("#order-sol");
    await approve(sol.link);
    assert.match(await page.locator("#summary-title").textContent(), /0\.0015 SOL/);
    await page.waitForFunction(() => document.querySelector("#progress").textContent === "已签名", null, { timeout: 120_000 });
    await settled("done");
    await shot("7-shop-sol-paid.png", shopPage);
    const raw = Buffer.from((await dapp.status(sol.id)).result.raw);
    const message = raw.subarray(65);
    const payer = message.subarray(4, 36);
    assert.equal(raw[0], 1);
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: payer.toString("base64url") }, format: "jwk" });
    assert.ok(verify(null, message, key, raw.subarray(1, 65)), "the transaction's signature verifies");

    // A third order, rejected: the shop sees it and its callback.
    const third = await order("#order-sol");
    await page.goto(third.link);
    await visible("#bridge");
    await page.click("#reject");
    await page.waitForFunction(() => document.querySelector("#progress").textContent === "已拒绝");
    await settled("rejected");
    await shot("8-rejected.png", shopPage);

    // A reload keeps both wallets; the page speaks English too.
    await page.goto(`${HOST}/bridge?dapp=${env.MPCW_TEST_DAPP}`);
    await visible('article[data-scheme="ecdsa-secp256k1"]');
    assert.equal(await page.locator("article.wallet").count(), 2);
    await page.click("#lang");
    assert.equal(await page.locator("h1").textContent(), "mpcw wallet");
    await shot("9-english.png");
    assert.deepEqual(errors, []);

    // The user revokes the connection; the shop's next order is refused.
    await page.click('#connections li[data-status="active"] button.revoke');
    await visible('#connections li[data-status="revoked"]');
    assert.equal(await page.locator('#connections li[data-status="active"]').count(), 0);
    await shot("10-revoked.png");
    await shopPage.click("#order-sol");
    await shopPage.waitForFunction(() => document.querySelector("#error").textContent.length > 0);
    assert.match(await shopPage.locator("#error").textContent(), /410 connection_revoked/);
    // The refused order is the shop page's only failed load.
    assert.ok(errors.every((e) => /status of 502/.test(e)), errors.join("\n"));

    if (env.MPCW_RESULTS) {
      writeFileSync(
        env.MPCW_RESULTS,
        JSON.stringify({
          evm: { network: "sepolia", address: ethAddress, tx_hash: ethTx, to: "0x3535353535353535353535353535353535353535", value: "10000000000000000" },
          solana: { address: solAddress, payer: payer.toString("hex"), sent: solTx },
        }),
      );
    }
  } finally {
    await browser.close();
    await shop.close();
  }
});
