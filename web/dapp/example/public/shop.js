// The shop's page. Ethereum goes through ethers and the wallet's EIP-1193 provider (found by
// EIP-6963, as Dapps find injected wallets): connect, sign in, sign the order (EIP-712), pay
// 0.01 ETH. SOL goes through the wallet's Wallet Standard wallet (found by the standard's
// window events): the page builds the transfer with @solana/web3.js and a blockhash from the
// node, the wallet signs and sends it. A SOL order by QR code goes through the shop's server,
// which asks the bridge for a transfer from the connected account and follows it to the result.

import { BrowserProvider, formatEther, parseEther, verifyMessage, verifyTypedData } from "/vendor/ethers.js";
import {
  MpcwEthereumProvider,
  MpcwSolanaWallet,
  RelaySession,
  announceProvider,
  base58Encode,
  registerWallet,
} from "/vendor/dapp/index.js";

const $ = (s) => document.querySelector(s);
const SEPOLIA = 11155111;
const SHOP_ETH = "0x3535353535353535353535353535353535353535";
const SHOP_SOL = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

// The wallet: one connection for both chains, announced the way each chain's Dapps look.
const session = new RelaySession({ relay: "/mpcw" });
announceProvider(new MpcwEthereumProvider({ relay: "/mpcw", session, chainId: SEPOLIA, alsoConnect: ["solana"] }));
registerWallet(new MpcwSolanaWallet({ relay: "/mpcw", session }));

// The shop looks for wallets as Dapps do, and takes mpcw's.
const wallets = [];
window.addEventListener("eip6963:announceProvider", (e) => wallets.push(e.detail));
window.dispatchEvent(new Event("eip6963:requestProvider"));
const wallet = wallets.find((w) => w.info.rdns === "io.github.mpcw").provider;
const standard = [];
const app = Object.freeze({ register: (w) => (standard.push(w), () => {}) });
window.addEventListener("wallet-standard:register-wallet", (e) => e.detail(app));
window.dispatchEvent(new CustomEvent("wallet-standard:app-ready", { detail: app }));
const solana = standard.find((w) => w.name === "mpcw" && w.chains.includes("solana:mainnet"));
const provider = new BrowserProvider(wallet);
let signer = null;

const show = (id, text) => {
  $(id).textContent = text;
  $(id).hidden = false;
};
// What an ethers error says, with the wallet's EIP-1193 code.
const explain = (e) => [e.code, e.info?.error?.code ?? e.error?.code, e.shortMessage ?? e.message].filter((x) => x != null).join(" ");
const guard = (f) => () => {
  $("#error").textContent = "";
  f().catch((e) => ($("#error").textContent = explain(e)));
};

$("#connect").onclick = guard(async () => {
  signer = await provider.getSigner();
  const address = await signer.getAddress();
  const ul = $("#accounts");
  ul.replaceChildren();
  for (const a of wallet.connection.accounts) {
    const li = document.createElement("li");
    li.dataset.network = a.network;
    const code = document.createElement("code");
    code.textContent = a.address;
    li.append(`${a.network}: `, code);
    ul.append(li);
  }
  $("#balance").textContent = `${formatEther(await provider.getBalance(address))} ETH`;
  $("#account").hidden = false;
  for (const b of document.querySelectorAll("button[disabled]")) b.disabled = false;
});

const MESSAGE = "Sign in to the example shop";
$("#sign-in").onclick = guard(async () => {
  const signature = await signer.signMessage(MESSAGE);
  const by = verifyMessage(MESSAGE, signature);
  show("#signed-in", by === (await signer.getAddress()) ? `signed in, verified: ${by}` : `wrong signer ${by}`);
});

const DOMAIN = { name: "Example shop", version: "1", chainId: SEPOLIA, verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" };
const TYPES = { Order: [{ name: "item", type: "string" }, { name: "amount", type: "uint256" }] };
$("#sign-order").onclick = guard(async () => {
  const order = { item: "tea", amount: 3n };
  const signature = await signer.signTypedData(DOMAIN, TYPES, order);
  const by = verifyTypedData(DOMAIN, TYPES, order, signature);
  show("#signed-order", by === (await signer.getAddress()) ? `order signed, verified: ${by}` : `wrong signer ${by}`);
});

$("#pay-eth").onclick = guard(async () => {
  $("#eth-tx").hidden = true;
  const tx = await signer.sendTransaction({ to: SHOP_ETH, value: parseEther("0.01") });
  $("#eth-tx-id").textContent = tx.hash;
  $("#eth-tx").hidden = false;
});

// SOL through the Wallet Standard: the page builds the transfer, the wallet signs and sends it.
$("#pay-sol").onclick = guard(async () => {
  $("#sol-tx").hidden = true;
  const { Transaction, SystemProgram, PublicKey } = window.solanaWeb3;
  const [account] = (await solana.features["standard:connect"].connect({ silent: true })).accounts;
  const { value } = await session.read("solana", "getLatestBlockhash", [{ commitment: "confirmed" }]);
  const payer = new PublicKey(account.address);
  const tx = new Transaction({ feePayer: payer, recentBlockhash: value.blockhash }).add(
    SystemProgram.transfer({ fromPubkey: payer, toPubkey: new PublicKey(SHOP_SOL), lamports: 1_500_000 }),
  );
  const transaction = tx.serialize({ requireAllSignatures: false, verifySignatures: false });
  const [{ signature }] = await solana.features["solana:signAndSendTransaction"].signAndSendTransaction({
    account,
    transaction,
    chain: "solana:mainnet",
  });
  $("#sol-tx-id").textContent = base58Encode(signature);
  $("#sol-tx").hidden = false;
});

// A SOL order by QR code: the shop's server makes the request for the connected account.
async function follow(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const created = await r.json();
  if (!r.ok) throw new Error(created.error);
  const section = $("#order");
  section.hidden = false;
  section.dataset.request = created.id;
  $("#qr").src = created.qr;
  $("#link").href = created.link;
  $("#tx").hidden = true;
  $("#callback").hidden = true;
  $("#status").textContent = "pending";
  const events = new EventSource(`/api/orders/${created.id}/events`);
  events.onmessage = async (e) => {
    const s = JSON.parse(e.data);
    $("#status").textContent = s.status;
    if (s.result) {
      $("#tx-id").textContent = s.result.id;
      $("#tx").hidden = false;
      section.dataset.raw = s.result.encoded;
    }
    if (["done", "failed", "rejected", "expired"].includes(s.status)) {
      events.close();
      await showCallback(created.id);
    }
  };
}

// The callback reaches the shop's server on its own; show it once it has come and verified.
async function showCallback(id) {
  for (let i = 0; i < 50; i++) {
    const cb = await (await fetch(`/api/orders/${id}/callback`)).json();
    if (cb) {
      $("#callback").textContent = `Callback ${cb.type}, signature verified (${cb.event_id})`;
      $("#callback").hidden = false;
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

$("#order-sol").onclick = guard(() => follow("/api/orders", { order: "sol", connection: wallet.connection?.id }));
