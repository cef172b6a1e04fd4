// The web signer (the H5 counterpart of the mini-program): log in, create a wallet with the
// server, show its addresses, open a Dapp's bridge request and approve or reject it (a signing
// request by co-signing; a connect request by sharing the addresses of the wallets it needs),
// and list and revoke the Dapp's connections. The device party is the engine in WebAssembly;
// the share is kept sealed under the user's password in localStorage.

import { Api, Device, webStorage, secretKey, createPasskey, passkeySecret } from "/signer/sdk/index.js";
import init, * as wasm from "/signer/wasm/mpcw_device_wasm.js";
import { strings } from "/signer/i18n.js";

const $ = (s) => document.querySelector(s);
let lang = localStorage.getItem("mpcw.lang") ?? (navigator.language.startsWith("zh") ? "zh" : "en");
const t = (k) => strings[lang][k] ?? k;

function render() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
}
$("#lang").onclick = () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("mpcw.lang", lang);
  render();
};

const params = new URLSearchParams(location.search);
const bridgeToken = params.get("token");
const dapp = params.get("dapp") || undefined;
const bridgeNetwork = params.get("network") || undefined;
const bridgeAction = params.get("action") ?? "sign";
const tokenKey = `mpcw.token.${dapp ?? ""}`;
const api = new Api(location.origin, (url, init) => fetch(url, init));
const store = webStorage(localStorage);
const device = new Device(api, wasm, store);

const show = (id, on = true) => ($(id).hidden = !on);
const progress = (step, detail) => ($("#progress").textContent = t(step) + (detail ? ` ${detail}` : ""));
const fail = (e) => {
  $("#progress").textContent = "";
  const message = e?.message ?? String(e);
  // The vault's words for a wrong password, in the page's language.
  $("#error").textContent = /decryption failed/.test(message) ? t("wrong_password") : message;
};
const guard = (f) => async () => {
  $("#error").textContent = "";
  try {
    await f();
  } catch (e) {
    fail(e);
  }
};

// The user's wallets whose device secret this browser keeps.
async function localWallets() {
  const mine = [];
  for (const w of await api.wallets()) {
    if (w.status === "ready" && (await store.get(secretKey(w.id)))) mine.push(w);
  }
  return mine;
}

function addressItem(n) {
  const a = n.addresses[0];
  const li = document.createElement("li");
  li.dataset.network = n.network;
  const img = document.createElement("img");
  img.alt = `QR ${n.name}`;
  img.src = `/v1/qr.svg?text=${encodeURIComponent(a.value)}`;
  const name = document.createElement("strong");
  name.textContent = n.name;
  const code = document.createElement("code");
  code.textContent = a.value;
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy";
  copy.textContent = t("copy");
  copy.onclick = async () => {
    await navigator.clipboard?.writeText(a.value).catch(() => {});
    copy.textContent = t("copied");
  };
  li.append(img, name, code, copy);
  return li;
}

async function showWallet() {
  show("#login", false);
  show("#wallet");
  const wallets = await localWallets();
  const list = $("#wallets");
  list.replaceChildren();
  for (const wallet of wallets) {
    const article = document.createElement("article");
    article.className = "wallet";
    article.dataset.wallet = wallet.id;
    article.dataset.scheme = wallet.scheme;
    const title = document.createElement("h3");
    title.textContent = `${t("wallet_id")} ${wallet.id} · ${wallet.scheme}`;
    const ul = document.createElement("ul");
    ul.className = "addresses";
    for (const n of await api.addresses(wallet.id)) if (n.addresses[0]) ul.append(addressItem(n));
    article.append(title, ul);
    list.append(article);
  }
  await showConnections();
  if (bridgeToken && !opened) await openBridge(wallets);
}

// The Dapp's connections to this user, each with a revoke button while active.
async function showConnections() {
  const connections = dapp ? await api.connections() : [];
  show("#connections-box", connections.length > 0);
  const ul = $("#connections");
  ul.replaceChildren();
  for (const c of connections) {
    const li = document.createElement("li");
    li.dataset.connection = c.id;
    li.dataset.status = c.status;
    const what = document.createElement("span");
    what.textContent = `${c.dapp} · ${t(c.status)} · ${c.accounts.map((a) => `${a.network} ${a.address}`).join(", ")}`;
    li.append(what);
    if (c.status === "active") {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "revoke";
      revoke.dataset.t = "revoke";
      revoke.textContent = t("revoke");
      revoke.onclick = guard(async () => {
        await api.revokeConnection(c.id);
        await showConnections();
      });
      li.append(revoke);
    }
    ul.append(li);
  }
}

// The wallet to open a request on `network` with: the user's wallet of the network's scheme.
async function walletFor(wallets, network) {
  if (!network) return wallets[0] ?? null;
  const scheme = (await api.networks()).find((n) => n.id === network)?.scheme;
  const wallet = wallets.find((w) => w.scheme === scheme);
  if (!wallet && scheme) {
    $("#scheme").value = scheme;
    throw new Error(`${t("no_wallet_for")}${scheme}`);
  }
  return wallet ?? null;
}

// Wallets whose device share is sealed under a passkey's secret: wallet id → credential id
// (public), in localStorage next to the sealed share.
const passkeyKey = (walletId) => `mpcw.passkey.${walletId}`;
const PASSKEY_LABEL = "device-share";
async function secretFor(walletId, typed) {
  const credential = localStorage.getItem(passkeyKey(walletId));
  if (!credential) {
    if (!typed) throw new Error(t("need_password"));
    return typed;
  }
  progress("passkey");
  return passkeySecret(navigator.credentials, credential, PASSKEY_LABEL);
}
$("#use-passkey").onchange = () => show("#password-label", !$("#use-passkey").checked);

// The request's summary as a list of label and value.
function summaryRows() {
  const dl = $("#summary");
  dl.replaceChildren();
  return (k, v) => {
    if (v == null || v === "") return;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  };
}

// The request is answered (approved or rejected): say so, and take the buttons away.
function answered(step) {
  progress(step);
  show("#approve", false);
  show("#reject", false);
}

// Show the bridge section for the opened request of kind `heading` ("request" or
// "connect_request"), approved with the button labelled `approveLabel`; either kind is
// rejected the same way.
function showBridge(heading, approveLabel) {
  $("#bridge-heading").dataset.t = heading;
  $("#approve").dataset.t = approveLabel;
  render();
  show("#bridge");
  $("#reject").onclick = guard(async () => {
    await api.rejectBridge(opened.id);
    answered("rejected");
  });
}

let opened = null;
async function openBridge(wallets) {
  if (bridgeAction === "connect") return openConnect(wallets);
  const chosen = await walletFor(wallets, bridgeNetwork);
  if (!chosen) return;
  progress("opening");
  opened = await api.openBridge(bridgeToken, chosen.id);
  // A request naming a connection is signed by the connection's wallet, whichever was chosen.
  const wallet = wallets.find((w) => w.id === (opened.wallet ?? chosen.id));
  if (!wallet) throw new Error(`${t("connected_wallet_missing")} ${opened.wallet}`);
  progress("done");
  showBridge("request", "approve");
  show("#wallet-picks", false);
  $("#bridge-from").textContent = `${t("from")} ${opened.dapp_name} · ${opened.network}`;
  const s = opened.summary ?? {};
  $("#summary-title").textContent = s.title ?? "";
  const row = summaryRows();
  row(t("sender"), s.sender);
  row(t("recipient"), s.recipient);
  row(t("amount"), s.amount);
  row(t("fee"), s.fee);
  for (const d of s.details ?? []) row(d.label, d.value);
  if (opened.filled?.length) row(t("filled"), opened.filled.map((f) => f.field).join(", "));
  if (opened.broadcast) row(t("broadcast"), t("broadcast_yes"));
  for (const w of s.warnings ?? []) row("⚠", w);
  show("#bridge-password-label", !localStorage.getItem(passkeyKey(wallet.id)));
  $("#approve").onclick = guard(async () => {
    const password = await secretFor(wallet.id, $("#bridge-password").value);
    await device.sign({
      walletId: wallet.id,
      network: opened.network,
      request: opened.request,
      password,
      bridge: opened.id,
      progress,
    });
    answered("signed");
  });
}

// A connect request: the Dapp gets, for every network it asks for, the address of one of the
// user's wallets of that network's scheme; the user picks the wallet per scheme.
async function openConnect(wallets) {
  progress("opening");
  opened = await api.openBridge(bridgeToken);
  const networks = await api.networks();
  const asked = opened.networks.map((id) => networks.find((n) => n.id === id) ?? { id, name: id, scheme: null });
  const schemes = [...new Set(asked.map((n) => n.scheme))];
  const listed = new Map(); // wallet id -> its addresses on every network of its scheme
  for (const scheme of schemes) {
    const mine = wallets.filter((w) => w.scheme === scheme);
    if (!mine.length) {
      $("#scheme").value = scheme ?? $("#scheme").value;
      throw new Error(`${t("no_wallet_for")}${scheme}`);
    }
    for (const w of mine) listed.set(w.id, await api.addresses(w.id));
  }
  progress("done");
  showBridge("connect_request", "connect");
  $("#bridge-from").textContent = `${t("from")} ${opened.dapp_name}`;
  $("#summary-title").textContent = t("connect_title");
  const picks = $("#wallet-picks");
  picks.replaceChildren();
  for (const scheme of schemes) {
    const select = document.createElement("select");
    select.dataset.scheme = scheme;
    for (const w of wallets.filter((w) => w.scheme === scheme)) {
      const option = document.createElement("option");
      option.value = w.id;
      option.textContent = `${w.label ? `${w.label} · ` : ""}${w.id}`;
      select.append(option);
    }
    select.onchange = () => rows();
    const label = document.createElement("label");
    const name = document.createElement("span");
    name.dataset.t = "wallet";
    name.textContent = t("wallet");
    label.append(name, " ", select);
    picks.append(label);
  }
  show("#wallet-picks");
  const chosen = () => Object.fromEntries([...picks.querySelectorAll("select")].map((s) => [s.dataset.scheme, s.value]));
  const rows = () => {
    const row = summaryRows();
    const c = chosen();
    for (const n of asked) row(n.name, listed.get(c[n.scheme])?.find((a) => a.network === n.id)?.addresses[0]?.value);
  };
  rows();
  show("#bridge-password-label", false);
  $("#approve").onclick = guard(async () => {
    await api.connectBridge(opened.id, [...new Set(Object.values(chosen()))]);
    answered("connected");
    await showConnections();
  });
}

$("#login-dev").onclick = guard(async () => {
  const token = await api.devLogin($("#subject").value.trim(), dapp);
  sessionStorage.setItem(tokenKey, token);
  await showWallet();
});

$("#create").onclick = guard(async () => {
  const usePasskey = $("#use-passkey").checked;
  let password = $("#password").value;
  const recoveryPassword = $("#recovery-password").value;
  if ((!password && !usePasskey) || !recoveryPassword) throw new Error(t("need_password"));
  let credential = null;
  if (usePasskey) {
    progress("passkey");
    credential = await createPasskey(navigator.credentials, { rpName: "mpcw", userName: $("#subject").value || "mpcw" });
    password = await passkeySecret(navigator.credentials, credential, PASSKEY_LABEL);
  }
  const scheme = $("#scheme").value;
  const { wallet, recoverySealed } = await device.createWallet({
    scheme,
    threshold: 2,
    parties: 3,
    password,
    recoveryPassword,
    progress,
  });
  if (credential) localStorage.setItem(passkeyKey(wallet.id), credential);
  $("#recovery-sealed").value = recoverySealed;
  show("#recovery-box");
  await showWallet();
});

render();
await init();
const saved = sessionStorage.getItem(tokenKey);
if (saved) {
  api.setToken(saved);
  await showWallet().catch(() => show("#login"));
} else {
  show("#login");
}
