// The EIP-1193 provider against a real signing server (MPCW_TEST_HOST, with the Dapp
// MPCW_TEST_DAPP registered; started by tests/tests/web_sdk.rs), used by viem as any injected
// wallet: viem's wallet client (`custom(provider)`) asks for the accounts (the user approves the
// connection), signs a personal message and EIP-712 typed data that viem verifies and a
// transaction whose sender viem recovers, switches between the connected chains, and sees a
// rejection as EIP-1193's 4001, another account as 4100 and an unknown chain as 4902. The provider calls the Dapp's relay
// (`bridgeRelay`, in process here), never the server with the API secret; the user is the device
// SDK with a 2-of-3 ECDSA wallet made by the WebAssembly party.

import test from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createWalletClient, custom, parseEther, recoverTransactionAddress, verifyMessage, verifyTypedData } from "viem";
import { polygonAmoy, sepolia } from "viem/chains";
import { DappClient, MpcwEthereumProvider, bridgeRelay } from "../dist/index.js";
import { Api, Device, MemoryStore } from "../../sdk/dist/index.js";

const require = createRequire(import.meta.url);
const wasm = require("../../device/pkg-node/mpcw_device_wasm.js");
const env = process.env;
const HOST = env.MPCW_TEST_HOST;
const RELAY = "http://shop.test/mpcw";

/** `fetch` as the page has it: the relay's path goes to the relay on "the Dapp's server". */
function pageFetch(relay) {
  return async (url, init = {}) => {
    const u = new URL(url);
    if (u.origin + u.pathname.slice(0, 5) !== RELAY) return fetch(url, init);
    const answer = await relay({
      method: init.method ?? "GET",
      path: u.pathname.slice(5) + u.search,
      body: init.body ? JSON.parse(init.body) : undefined,
    });
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "content-type": "application/json" } });
  };
}

test("viem signs through the EIP-1193 provider, and verifies what it signed", { skip: !HOST && "MPCW_TEST_HOST is not set" }, async () => {
  const dapp = new DappClient({ base: HOST, id: env.MPCW_TEST_DAPP, secret: env.MPCW_TEST_DAPP_SECRET });
  const api = new Api(HOST, fetch);
  await api.devLogin("web-carol", env.MPCW_TEST_DAPP);
  const device = new Device(api, wasm, new MemoryStore(), { memoryKib: 8 * 1024, passes: 1 });
  const { wallet } = await device.createWallet({
    scheme: "ecdsa-secp256k1", threshold: 2, parties: 3, password: "pw", recoveryPassword: "rpw",
  });

  // The user, in the signer: opens each request's link and approves it (or rejects the next).
  const failures = [];
  const seen = [];
  let rejectNext = false;
  const show = (prompt, kind) => {
    seen.push(kind);
    (async () => {
      const opened = await api.openBridge(new URL(prompt.deep_link).searchParams.get("token"), wallet.id);
      if (rejectNext) {
        rejectNext = false;
        await api.rejectBridge(opened.id, "not me");
      } else if (opened.action === "connect") {
        await api.connectBridge(opened.id, [wallet.id]);
      } else {
        await device.sign({ walletId: wallet.id, network: opened.network, request: opened.request, password: "pw", bridge: opened.id });
      }
    })().catch((e) => failures.push(e));
    return () => {};
  };
  const provider = new MpcwEthereumProvider({
    relay: RELAY, chainId: sepolia.id, chains: [sepolia.id, polygonAmoy.id], fetch: pageFetch(bridgeRelay(dapp)), show, storage: null,
  });
  const changes = [];
  provider.on("accountsChanged", (a) => changes.push(a));
  const client = createWalletClient({ chain: sepolia, transport: custom(provider) });

  // Connect: the address is the wallet's on Sepolia.
  assert.deepEqual(await provider.request({ method: "eth_accounts" }), []);
  const [address] = await client.requestAddresses();
  const listed = (await api.addresses(wallet.id)).find((n) => n.network === "sepolia").addresses[0].value;
  assert.equal(address, listed);
  assert.deepEqual(changes, [[address]]);
  assert.equal(await client.getChainId(), sepolia.id);

  // A personal message and typed data, verified by viem.
  const message = "Log in to the shop";
  const signature = await client.signMessage({ account: address, message });
  assert.ok(await verifyMessage({ address, message, signature }), "viem verifies the message");
  assert.equal(await verifyMessage({ address, message: "something else", signature }), false);
  const typed = {
    domain: { name: "Shop", version: "1", chainId: sepolia.id, verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" },
    types: { Order: [{ name: "item", type: "string" }, { name: "amount", type: "uint256" }] },
    primaryType: "Order",
    message: { item: "tea", amount: 3n },
  };
  const typedSignature = await client.signTypedData({ account: address, ...typed });
  assert.ok(await verifyTypedData({ address, ...typed, signature: typedSignature }), "viem verifies the typed data");

  // A signed transaction (not sent), whose sender viem recovers.
  const serializedTransaction = await client.signTransaction({
    account: address, to: "0x3535353535353535353535353535353535353535", value: parseEther("0.001"),
    nonce: 0, gas: 21000n, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n,
  });
  assert.equal(await recoverTransactionAddress({ serializedTransaction }), address);

  // Switching among the connected chains: same account, chainChanged; others are 4902.
  const chains = [];
  provider.on("chainChanged", (c) => chains.push(c));
  await client.switchChain({ id: polygonAmoy.id });
  assert.equal(await client.getChainId(), polygonAmoy.id);
  assert.deepEqual(await provider.request({ method: "eth_accounts" }), [address]);
  await assert.rejects(provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x1" }] }), (e) => e.code === 4902);
  await client.switchChain({ id: sepolia.id });
  assert.deepEqual(chains, ["0x13882", "0xaa36a7"]);

  // A rejection is 4001; another account is 4100; nothing is asked of the user for it.
  rejectNext = true;
  await assert.rejects(client.signMessage({ account: address, message: "again" }), (e) => e.code === 4001);
  const asked = seen.length;
  await assert.rejects(
    provider.request({ method: "personal_sign", params: ["0x6869", "0x8ba1f109551bD432803012645Ac136ddd64DBA72"] }),
    (e) => e.code === 4100,
  );
  assert.equal(seen.length, asked);
  assert.deepEqual(seen, ["connect", "sign", "sign", "sign", "sign"]);

  // The Dapp disconnects: no accounts, and the connection is revoked on the server.
  const id = (await dapp.connection((await api.connections())[0].id)).id;
  await provider.disconnect();
  assert.deepEqual(await provider.request({ method: "eth_accounts" }), []);
  assert.equal((await dapp.connection(id)).status, "revoked");
  assert.deepEqual(changes.at(-1), []);
  assert.deepEqual(failures, []);
});
