// The web signer (the H5 counterpart of the mini-program): log in, create "my wallet" (keys for
// every signature scheme in one flow) with the server, show an address, balance and recent
// transactions on every network family, send native transfers (summary first), open a Dapp's bridge request and approve or reject it (a signing
// request by co-signing; a connect request by sharing the addresses of the wallets it needs),
// and list and revoke the Dapp's connections; log in with an OpenID Connect provider (code flow
// with PKCE) or, where the server allows it, the development login; keep the recovery share with a passkey, a printed
// recovery code or a file, and on a new phone recover the wallet with it (or refresh the shares).
// The device party is the engine in WebAssembly; the share is kept sealed under the user's
// password (or passkey) in localStorage.

import {
  Api, ApiError, Device, webStorage, secretKey, createPasskey, passkeySecret,
  RECOVERY_PASSKEY_LABEL, RecoveryWaiting, startOidcLogin, finishOidcLogin,
  createMyWallet, MY_WALLET_LABEL, familiesOf, toUnits, fromUnits, transferRequest, balanceOf, recentTransactions,
} from "/signer/sdk/index.js";
import init, * as wasm from "/signer/wasm/mpcw_device_wasm.js";
import { strings } from "/signer/i18n.js";
import qrcode from "/signer/vendor/qrcode.mjs";

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
  $("#error").textContent =
    e instanceof ApiError && e.code === "wrong_recovery_secret" ? t("wrong_code")
    : e instanceof ApiError && e.code === "rate_limited" ? t("too_many_tries")
    : e instanceof RecoveryWaiting ? `${t("recovery_waiting")} ${new Date(e.notBefore * 1000).toLocaleString()}`
    : /decryption failed/.test(message) ? t("wrong_password") : message;
};
const guard = (f) => async () => {
  $("#error").textContent = "";
  try {
    await f();
  } catch (e) {
    fail(e);
  }
};

// A button labelled with string `key`, of class `className`, doing `action` (errors shown).
function button(className, key, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.dataset.t = key;
  b.textContent = t(key);
  b.onclick = guard(action);
  return b;
}

// Of the user's wallets `all`, those whose device secret this browser keeps.
async function localWallets(all) {
  const mine = [];
  for (const w of all) {
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

// The subject an access token names (shown, not trusted: the server checks the token).
function subjectOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part)).sub ?? "";
  } catch {
    return "";
  }
}

async function showWallet() {
  show("#login", false);
  show("#wallet");
  $("#who-subject").textContent = subjectOf(sessionStorage.getItem(tokenKey) ?? "");
  const all = await api.wallets();
  const wallets = await localWallets(all);
  const list = $("#wallets");
  list.replaceChildren();
  await showMyWallet(wallets);
  // "My wallet" shows its keys folded away: the scheme is an inner detail there.
  $("#keys").open = !(wallets.length && wallets.every((w) => w.label === MY_WALLET_LABEL));
  show("#keys", wallets.length > 0);
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
    article.append(title, ul, button("refresh", "refresh", () => refreshWallet(wallet)));
    list.append(article);
  }
  await showRecoverable(all, wallets);
  await showRecord();
  await showConnections();
  if (bridgeToken && !opened) await openBridge(wallets);
}

// "I lost my phone": the user's wallets whose share this browser does not hold, each with how
// its recovery share is kept (escrowed under a passkey or a code, or a file) and a recover button.
async function showRecoverable(all, local) {
  const held = new Set(local.map((w) => w.id));
  const others = all.filter((w) => w.status === "ready" && !held.has(w.id));
  show("#recover-box", others.length + local.length > 0);
  show("#lost", others.length > 0);
  const ul = $("#recoverable");
  ul.replaceChildren();
  for (const w of others) {
    const escrow = await api.escrow(w.id);
    const li = document.createElement("li");
    li.dataset.wallet = w.id;
    li.dataset.method = escrow?.method ?? "file";
    const what = document.createElement("span");
    what.textContent = `${t("wallet_id")} ${w.id} · ${w.scheme} · ${t(`escrow_${escrow?.method ?? "none"}`)} `;
    li.append(what, button("recover", "recover", () => recoverWallet(w, escrow)));
    ul.append(li);
  }
}

// The user's record of escrow use, recoveries and refreshes. A recovery still waiting (the
// server holds recoveries back when configured to) can be cancelled from a device that holds
// the wallet's share: someone else may be recovering it.
async function showRecord() {
  const entries = await api.recoveries();
  show("#record-box", entries.length > 0);
  const ul = $("#record");
  ul.replaceChildren();
  for (const e of entries) {
    const li = document.createElement("li");
    li.dataset.kind = e.kind;
    li.dataset.status = e.status;
    li.dataset.wallet = e.wallet;
    const until = e.status === "waiting" && e.not_before ? ` · ${t("until")} ${new Date(e.not_before * 1000).toLocaleString()}` : "";
    li.textContent = `${new Date(e.created_at * 1000).toLocaleString()} · ${t(`ev_${e.kind}`)} · ${t(`st_${e.status}`)}${until} · ${e.wallet}${e.client ? ` · ${e.client}` : ""} `;
    if (e.kind === "recovery" && e.status === "waiting" && (await store.get(secretKey(e.wallet)))) {
      li.append(
        button("cancel-recovery", "cancel_recovery", async () => {
          const password = await secretFor(e.wallet, $("#device-password").value);
          await device.cancelRecovery({ walletId: e.wallet, recoveryId: e.id, password });
          await showRecord();
        }),
      );
    }
    ul.append(li);
  }
}

// The custody of an escrowed recovery share, from the passkey (the user verifies) or the typed
// recovery code.
async function escrowCustody(escrow) {
  if (escrow.method === "passkey") {
    progress("passkey");
    const secret = await passkeySecret(navigator.credentials, escrow.credential_id, RECOVERY_PASSKEY_LABEL);
    return { method: "passkey", credentialId: escrow.credential_id, secret };
  }
  const code = $("#code-input").value;
  if (!code.trim()) throw new Error(t("recovery_code"));
  return { method: "code", code };
}

// Offer the sealed recovery share of `walletId` as a file to download.
function offerFile(made) {
  const a = $("#recovery-file");
  // One wallet: its sealed share; "my wallet": each key's, by wallet id.
  const doc =
    made.length === 1
      ? { wallet: made[0].wallet.id, sealed: made[0].recoverySealed }
      : { wallets: Object.fromEntries(made.map((m) => [m.wallet.id, m.recoverySealed])) };
  const blob = new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" });
  a.href = URL.createObjectURL(blob);
  a.download = made.length === 1 ? `mpcw-recovery-${made[0].wallet.id}.json` : "mpcw-recovery-my-wallet.json";
  $("#recovery-sealed").value = made.map((m) => m.recoverySealed).join("\n");
  show("#recovery-box");
  $("#recovery-box").open = true;
}

// Recover `wallet` on this device, with its escrow (passkey or code) or the chosen file.
async function recoverWallet(wallet, escrow) {
  try {
    await recoverWith(wallet, escrow);
  } finally {
    // A refused code is in the record too.
    await showRecord().catch(() => {});
  }
}

async function recoverWith(wallet, escrow) {
  const password = $("#device-password").value;
  if (!password) throw new Error(t("need_password"));
  progress("recovering");
  const file = $("#file-input").files?.[0];
  if (escrow && !file) {
    const custody = await escrowCustody(escrow);
    await device.recoverFromEscrow({ walletId: wallet.id, password, custody, progress });
  } else {
    if (!file) throw new Error(t("recovery_file"));
    const doc = JSON.parse(await file.text());
    const sealed = doc.wallets?.[wallet.id] ?? doc.sealed;
    const recoveryPassword = $("#file-password").value;
    const announced = await device.announceRecovery(wallet.id);
    const next = await device.recover({ walletId: wallet.id, password, recoverySealed: sealed, recoveryPassword, recovery: announced.id, progress });
    offerFile([{ wallet, recoverySealed: next }]);
  }
  progress("recovered");
  await showWallet();
}

// Refresh `wallet`'s shares with its escrowed recovery share: same addresses, new shares.
async function refreshWallet(wallet) {
  const escrow = await api.escrow(wallet.id);
  if (!escrow) throw new Error(t("recovery_file"));
  const custody = await escrowCustody(escrow);
  const password = await secretFor(wallet.id, $("#device-password").value);
  await device.refreshFromEscrow({ walletId: wallet.id, password, custody, progress });
  progress("refreshed");
  await showRecord();
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
      li.append(
        button("revoke", "revoke", async () => {
          await api.revokeConnection(c.id);
          await showConnections();
        }),
      );
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

// "My wallet": one card per network family (its networks in a list, main networks first), with
// the address and its QR code, the balance and recent transactions where the server has the
// network's node, and a send button for native transfers.
async function showMyWallet(wallets) {
  const families = wallets.length ? await familiesOf(api, wallets) : [];
  show("#my-wallet", families.length > 0);
  $("#families").replaceChildren(...families.map(familyCard));
}

function familyCard(family) {
  const article = document.createElement("article");
  article.className = "family";
  article.dataset.family = `${family.plugin}/${family.scheme}`;
  const img = document.createElement("img");
  const title = document.createElement("h3");
  const select = document.createElement("select");
  select.className = "network";
  for (const [k, n] of family.networks.entries()) {
    select.append(Object.assign(document.createElement("option"), { value: String(k), textContent: n.network.name }));
  }
  const code = document.createElement("code");
  code.className = "address";
  const balance = document.createElement("p");
  balance.className = "balance";
  const recent = document.createElement("ul");
  recent.className = "recent";
  const send = button("send-button", "send", () => openSend(family.networks[Number(select.value)]));
  const render = () => {
    const n = family.networks[Number(select.value)];
    article.dataset.network = n.network.id;
    title.textContent = n.network.name;
    code.textContent = n.address;
    img.src = qrDataUrl(n.address);
    img.alt = `${t("receive")} ${n.network.name}`;
    send.hidden = !(n.network.node && transferRequest(n.network.plugin, n.address, "1"));
    balance.textContent = "";
    recent.replaceChildren();
    fillBalance(n, balance, recent).catch((e) => (balance.textContent = e.message));
  };
  select.onchange = render;
  select.hidden = family.networks.length < 2;
  article.append(img, title, select, code, balance, recent, send);
  render();
  return article;
}

async function fillBalance(n, balance, recent) {
  const units = await balanceOf(api, n.network, n.address);
  balance.textContent = units == null ? "" : `${fromUnits(units, n.network.decimals)} ${n.network.symbol}`;
  balance.dataset.units = units == null ? "" : units.toString();
  const txs = await recentTransactions(api, n.network, n.address);
  if (txs?.length) {
    recent.replaceChildren(
      Object.assign(document.createElement("li"), { textContent: t("recent") }),
      ...txs.map((tx) => {
        const li = document.createElement("li");
        const c = Object.assign(document.createElement("code"), { textContent: `${tx.id.slice(0, 16)}…` });
        li.append(c, tx.time ? ` ${new Date(tx.time * 1000).toLocaleString()}` : "", tx.failed ? " ✕" : "");
        return li;
      }),
    );
  }
}

// The send sheet: a native transfer on one network, completed and summarised by the server
// before the user signs it; sent through the server's node.
let sending = null;
function openSend(n) {
  sending = { n, previewed: null };
  $("#send-network").textContent = n.network.name;
  $("#send-from").textContent = n.address;
  $("#send-symbol").textContent = n.network.symbol;
  $("#send-to").value = "";
  $("#send-amount").value = "";
  $("#send-summary").replaceChildren();
  $("#send-result").textContent = "";
  delete $("#send-result").dataset.txId;
  show("#send-confirm", false);
  show("#send-password-label", false);
  show("#send");
  $("#send").scrollIntoView();
}
$("#send-cancel").onclick = () => {
  sending = null;
  show("#send", false);
};
$("#send-review").onclick = guard(async () => {
  const { n } = sending;
  const request = transferRequest(n.network.plugin, $("#send-to").value.trim(), toUnits($("#send-amount").value, n.network.decimals));
  const previewed = await api.preview(n.walletId, n.network.id, request);
  sending.previewed = previewed;
  const dl = $("#send-summary");
  dl.replaceChildren();
  const row = (k, v) => {
    if (v == null || v === "") return;
    dl.append(Object.assign(document.createElement("dt"), { textContent: k }), Object.assign(document.createElement("dd"), { textContent: v }));
  };
  const s = previewed.summary;
  row("", s.title);
  row(t("recipient"), s.recipient);
  row(t("amount"), s.amount);
  row(t("fee"), s.fee);
  for (const d of s.details ?? []) row(d.label, d.value);
  for (const w of s.warnings ?? []) row("⚠", w);
  show("#send-password-label", !localStorage.getItem(passkeyKey(n.walletId)));
  show("#send-confirm");
});
$("#send-confirm").onclick = guard(async () => {
  const { n, previewed } = sending;
  const password = await secretFor(n.walletId, $("#send-password").value);
  const signed = await device.sign({ walletId: n.walletId, network: n.network.id, request: previewed.request, password, progress });
  show("#send-confirm", false);
  if (previewed.broadcastable) {
    const { tx_id } = await api.broadcast(signed.id);
    $("#send-result").textContent = `${t("sent")} ${tx_id}`;
    $("#send-result").dataset.txId = tx_id;
  } else {
    $("#send-result").textContent = `${t("signed_only")} ${signed.result?.encoded ?? ""}`;
  }
  progress("done");
});

// Logging in: the providers the server offers (authorization code flow with PKCE, back to
// /bridge), and the development login only where the server allows it.
const REDIRECT_URI = `${location.origin}/bridge`;
const PENDING_LOGIN = "mpcw.oidc.pending";

async function showLogin() {
  show("#login");
  const options = await api.loginOptions().catch(() => ({ dev_login: false, oidc: [] }));
  $("#providers").replaceChildren(
    ...options.oidc.map((p) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "provider";
      b.dataset.provider = p.name;
      const words = Object.assign(document.createElement("span"), { textContent: t("login_with") });
      words.dataset.t = "login_with";
      b.append(words, ` ${p.label}`);
      b.onclick = guard(async () => {
        const { url, pending } = await startOidcLogin(api, p, { redirectUri: REDIRECT_URI, dapp });
        // What to come back to: the link the user arrived with (a bridge request, say).
        sessionStorage.setItem(PENDING_LOGIN, JSON.stringify({ ...pending, back: location.search }));
        location.assign(url);
      });
      return b;
    }),
  );
  show("#dev-login", options.dev_login);
  show("#no-login", !options.dev_login && options.oidc.length === 0);
}

// Back from the provider: redeem the code, then reload the link the user arrived with.
async function finishLogin() {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_LOGIN));
  sessionStorage.removeItem(PENDING_LOGIN);
  progress("logging_in");
  try {
    const token = await finishOidcLogin(api, pending, params);
    sessionStorage.setItem(`mpcw.token.${pending.dapp ?? ""}`, token);
    location.replace(`${location.pathname}${pending.back}`);
  } catch (e) {
    history.replaceState(null, "", `${location.pathname}${pending.back}`);
    fail(e);
    await showLogin();
  }
}

$("#login-dev").onclick = guard(async () => {
  const token = await api.devLogin($("#subject").value.trim(), dapp);
  sessionStorage.setItem(tokenKey, token);
  await showWallet();
});

// Recovery custody: the page recommends a passkey where the browser has WebAuthn; a file needs
// its own password, the others need none.
const custodyChanged = () => show("#recovery-password-label", $("#custody").value === "file");
$("#custody").onchange = custodyChanged;
// A browser that says it lacks WebAuthn's PRF extension gets the code recommended instead.
const capabilities = await globalThis.PublicKeyCredential?.getClientCapabilities?.().catch(() => null);
if (!globalThis.PublicKeyCredential || capabilities?.["extension:prf"] === false) $("#custody").value = "code";
custodyChanged();

// Make the user's keys: for every scheme ("my wallet"), or for the one chosen.
async function create(scheme) {
  const usePasskey = $("#use-passkey").checked;
  const custodyMethod = $("#custody").value;
  let password = $("#password").value;
  let recoveryPassword = $("#recovery-password").value;
  if ((!password && !usePasskey) || (custodyMethod === "file" && !recoveryPassword)) throw new Error(t("need_password"));
  let credential = null;
  const passkey = async () => {
    if (credential) return credential;
    progress("passkey");
    credential = await createPasskey(navigator.credentials, { rpName: "mpcw", userName: $("#subject").value || "mpcw" });
    return credential;
  };
  if (usePasskey) password = await passkeySecret(navigator.credentials, await passkey(), PASSKEY_LABEL);
  let custody = null;
  if (custodyMethod === "passkey") {
    const credentialId = await passkey();
    const secret = await passkeySecret(navigator.credentials, credentialId, RECOVERY_PASSKEY_LABEL);
    custody = { method: "passkey", credentialId, secret };
    recoveryPassword = secret;
  } else if (custodyMethod === "code") {
    // 12 BIP-39 words: 128 bits from the engine's generator.
    custody = { method: "code", code: wasm.generateMnemonic(12) };
    recoveryPassword = custody.code;
  }
  const stepProgress = (step, detail) => progress(step, step === "creating_keys" ? schemeName(detail) : detail);
  const made = scheme
    ? [await device.createWallet({ scheme, threshold: 2, parties: 3, password, recoveryPassword, progress })]
    : await createMyWallet(device, { password, recoveryPassword, progress: stepProgress });
  for (const { wallet, recoverySealed } of made) {
    if (usePasskey) localStorage.setItem(passkeyKey(wallet.id), credential);
    if (custody) await device.escrow(wallet.id, recoverySealed, custody);
  }
  if (custody?.method === "code") showSheet(made.map((m) => m.wallet.id), custody.code);
  if (!custody) offerFile(made);
  await showWallet();
}
$("#create").onclick = guard(() => create($("#scheme").value));
$("#create-all").onclick = guard(() => create(null));

// What the user reads for a scheme while its keys are made: the chains it serves.
const schemeName = (scheme) =>
  ({ ed25519: "Solana · TON · Monero", "ecdsa-secp256k1": "Ethereum · Polygon · Conflux · Bitcoin", "schnorr-bip340": "Bitcoin Taproot" })[scheme] ?? scheme;

// The recovery sheet: the code's words and QR code, shown once, to print or write down.
function showSheet(walletIds, code) {
  $("#sheet-wallet").textContent = `${t("wallet_id")} ${walletIds.join(", ")}`;
  const ol = $("#recovery-words");
  ol.replaceChildren(...code.split(" ").map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  // Drawn here: the code must never reach the server.
  $("#recovery-qr").src = qrDataUrl(code);
  show("#recovery-sheet");
}
$("#print-sheet").onclick = () => window.print();

// The QR code of `text` as an SVG data URL, drawn in the page.
function qrDataUrl(text) {
  const code = qrcode(0, "M");
  code.addData(text, "Byte");
  code.make();
  const n = code.getModuleCount();
  const side = n + 8;
  let path = "";
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (code.isDark(y, x)) path += `M${x + 4} ${y + 4}h1v1h-1z`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
    `<rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

render();
await init();
const saved = sessionStorage.getItem(tokenKey);
if (params.has("state") && sessionStorage.getItem(PENDING_LOGIN)) {
  await finishLogin();
} else if (saved) {
  api.setToken(saved);
  await showWallet().catch(() => showLogin());
} else {
  await showLogin();
}
