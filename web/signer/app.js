// The web signer (the H5 counterpart of the mini-program): log in, create a wallet with the
// server, show its addresses, and open, approve or reject a Dapp's bridge request. The device
// party is the engine in WebAssembly; the share is kept sealed under the user's password in
// localStorage.

import { Api, Device, webStorage, secretKey } from "/signer/sdk/index.js";
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
const tokenKey = `mpcw.token.${dapp ?? ""}`;
const api = new Api(location.origin, (url, init) => fetch(url, init));
const store = webStorage(localStorage);
const device = new Device(api, wasm, store);

const show = (id, on = true) => ($(id).hidden = !on);
const progress = (step, detail) => ($("#progress").textContent = t(step) + (detail ? ` ${detail}` : ""));
const fail = (e) => {
  $("#progress").textContent = "";
  $("#error").textContent = e?.message ?? String(e);
};
const guard = (f) => async () => {
  $("#error").textContent = "";
  try {
    await f();
  } catch (e) {
    fail(e);
  }
};

async function localWallet() {
  for (const w of await api.wallets()) {
    if (w.status === "ready" && (await store.get(secretKey(w.id)))) return w;
  }
  return null;
}

async function showWallet() {
  show("#login", false);
  show("#wallet");
  const wallet = await localWallet();
  show("#no-wallet", !wallet);
  show("#has-wallet", !!wallet);
  if (!wallet) return;
  $("#wallet-id").textContent = wallet.id;
  const list = $("#addresses");
  list.replaceChildren();
  for (const n of await api.addresses(wallet.id)) {
    const a = n.addresses[0];
    if (!a) continue;
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
    list.append(li);
  }
  if (bridgeToken) await openBridge(wallet);
}

let opened = null;
async function openBridge(wallet) {
  progress("opening");
  opened = await api.openBridge(bridgeToken, wallet.id);
  progress("done");
  show("#bridge");
  $("#bridge-from").textContent = `${t("from")} ${opened.dapp_name} · ${opened.network}`;
  const s = opened.summary ?? {};
  $("#summary-title").textContent = s.title ?? "";
  const dl = $("#summary");
  dl.replaceChildren();
  const row = (k, v) => {
    if (v == null || v === "") return;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  };
  row(t("sender"), s.sender);
  row(t("recipient"), s.recipient);
  row(t("amount"), s.amount);
  row(t("fee"), s.fee);
  for (const d of s.details ?? []) row(d.label, d.value);
  for (const w of s.warnings ?? []) row("⚠", w);
  $("#approve").onclick = guard(async () => {
    const password = $("#bridge-password").value;
    if (!password) throw new Error(t("need_password"));
    await device.sign({
      walletId: wallet.id,
      network: opened.network,
      request: opened.request,
      password,
      bridge: opened.id,
      progress,
    });
    progress("signed");
    show("#approve", false);
    show("#reject", false);
  });
  $("#reject").onclick = guard(async () => {
    await api.rejectBridge(opened.id);
    progress("rejected");
    show("#approve", false);
    show("#reject", false);
  });
}

$("#login-dev").onclick = guard(async () => {
  const token = await api.devLogin($("#subject").value.trim(), dapp);
  sessionStorage.setItem(tokenKey, token);
  await showWallet();
});

$("#create").onclick = guard(async () => {
  const password = $("#password").value;
  const recoveryPassword = $("#recovery-password").value;
  if (!password || !recoveryPassword) throw new Error(t("need_password"));
  const { recoverySealed } = await device.createWallet({
    scheme: $("#scheme").value,
    threshold: 2,
    parties: 3,
    password,
    recoveryPassword,
    progress,
  });
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
