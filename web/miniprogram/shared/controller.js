// What the mini-programs' pages do, platform-neutral: the page files of the WeChat and Alipay
// projects are thin wrappers around it. A platform gives:
//
// - `name`: "wechat" or "alipay" (the login route, and what is said);
// - `fetch`, `storage`: the SDK's adapters over `wx.request` / `my.request` and their storage;
// - `loginCode()`: a login code from `wx.login` / `my.getAuthCode`;
// - `wasm()`: the device party's bindings.

import {
  Api, Device, ApiError, createMyWallet, familiesOf, MY_WALLET_LABEL, balanceOf, fromUnits, toUnits, transferRequest,
  recentTransactions,
} from "../sdk/index.js";

/** Argon2 cost of sealing the device share on a phone (the SDK's default is for browsers). */
const COST = { memoryKib: 16 * 1024, passes: 2 };

const tokenKey = (dapp) => `mpcw/token/${dapp ?? ""}`;

export class MiniWallet {
  /** `server`: the signing server's URL; `platform`: as above. */
  constructor(server, platform) {
    this.server = server;
    this.platform = platform;
    this.api = new Api(server, platform.fetch);
    this.device = null;
    this.wasmModule = null;
    this.dapp = undefined;
    this.opened = null;
  }

  /** The device party's WebAssembly, loaded once. */
  async ready() {
    if (!this.wasmModule) {
      this.wasmModule = await this.platform.wasm();
      this.device = new Device(this.api, this.wasmModule, this.platform.storage, COST);
    }
    return this;
  }

  /** Log in for `dapp` (or none) with the platform's login code; the token is kept per Dapp. */
  async login(dapp) {
    this.dapp = dapp;
    const code = await this.platform.loginCode();
    const body = this.platform.name === "alipay" ? { auth_code: code, dapp } : { code, dapp };
    const r = await this.platform.fetch(`${this.server}/v1/auth/${this.platform.name}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = JSON.parse(await r.text());
    if (r.status !== 201) throw new ApiError(r.status, answer?.error?.code ?? "unknown", answer?.error?.message ?? "");
    this.api.setToken(answer.access_token);
    await this.platform.storage.set(tokenKey(dapp), answer.access_token);
    return answer.subject;
  }

  /** The user's wallets whose device share this phone keeps. */
  async localWallets() {
    const mine = [];
    for (const w of await this.api.wallets()) {
      if (w.status === "ready" && (await this.platform.storage.get(`mpcw/wallet/${w.id}/device`))) mine.push(w);
    }
    return mine;
  }

  /**
   * One entry per network family of the local wallets, for its main network: name, address,
   * the QR code to receive (drawn by the server), the balance and (Solana) the latest
   * transactions where the server has the node,
   * whether it can send from here, and the family's networks.
   */
  async families() {
    const families = await familiesOf(this.api, await this.localWallets());
    this.networksById = new Map(families.flatMap((f) => f.networks.map((n) => [n.network.id, n])));
    return Promise.all(
      families.map(async (f) => {
        const main = f.networks[0];
        const units = await balanceOf(this.api, main.network, main.address).catch(() => null);
        const recent = await recentTransactions(this.api, main.network, main.address).catch(() => null);
        return {
          family: `${f.plugin}/${f.scheme}`,
          name: main.network.name,
          network: main.network.id,
          address: main.address,
          qr: `${this.server}/v1/qr.png?text=${encodeURIComponent(main.address)}`,
          balance: units == null ? "" : `${fromUnits(units, main.network.decimals)} ${main.network.symbol}`,
          recent: (recent ?? []).map((tx) => ({ id: tx.id, short: `${tx.id.slice(0, 12)}…`, failed: tx.failed })),
          sendable: Boolean(main.network.node && transferRequest(main.network.plugin, main.address, "1")),
          networks: f.networks.map((n) => n.network.name),
        };
      }),
    );
  }

  /**
   * A native transfer of `amount` to `to` on `network` from the wallet's address there,
   * completed by the server's node and summarised by the plugin: the summary, to show before
   * `send`.
   */
  async preview(network, to, amount) {
    const n = this.networksById?.get(network);
    if (!n) throw new Error(`no address of this wallet on ${network}`);
    const request = transferRequest(n.network.plugin, to.trim(), toUnits(amount, n.network.decimals));
    if (!request) throw new Error(`sending on ${n.network.name} is not offered here`);
    const previewed = await this.api.preview(n.walletId, network, request);
    this.sending = { n, previewed };
    const s = previewed.summary;
    return {
      title: s.title,
      rows: [["recipient", s.recipient], ["amount", s.amount], ["fee", s.fee], ...(s.warnings ?? []).map((w) => ["⚠", w])].filter(
        ([, v]) => v != null && v !== "",
      ),
    };
  }

  /** Sign the previewed transfer with `password` and have the server send it: the transaction id. */
  async send(password, progress) {
    const sending = this.sending;
    if (!sending) throw new Error("nothing to send: review a transfer first");
    const { n, previewed } = sending;
    const signed = await this.device.sign({ walletId: n.walletId, network: n.network.id, request: previewed.request, password, progress });
    this.sending = null;
    if (!previewed.broadcastable) return null;
    return (await this.api.broadcast(signed.id)).tx_id;
  }

  /**
   * Refresh the shares of every local wallet with its escrowed recovery share (`code`) and the
   * device `password`: the same addresses, new shares. The ids refreshed.
   */
  async refresh(code, password, progress) {
    const refreshed = [];
    for (const w of await this.localWallets()) {
      const escrow = await this.api.escrow(w.id);
      if (escrow?.method !== "code") continue;
      await this.device.refreshFromEscrow({ walletId: w.id, password, custody: { method: "code", code }, progress });
      refreshed.push(w.id);
    }
    return refreshed;
  }

  /**
   * Make "my wallet" (every scheme) behind `password`, its recovery shares escrowed under a new
   * 12-word recovery code: the code, to show once.
   */
  async createMyWallet(password, progress) {
    await this.ready();
    const code = this.wasmModule.generateMnemonic(12);
    const made = await createMyWallet(this.device, { password, recoveryPassword: code, progress });
    for (const { wallet, recoverySealed } of made) {
      await this.device.escrow(wallet.id, recoverySealed, { method: "code", code });
    }
    return { code, wallets: made.map((m) => m.wallet.id) };
  }

  /**
   * Open the bridge request an entry token names (a mini-program code's scene, or a link's
   * `t`): which Dapp asks, log in for it, and open the request with the local wallet of its
   * network's scheme. The summary, to show before approving.
   */
  async openEntry(token) {
    await this.ready();
    const peeked = await this.api.peekBridge(token);
    await this.login(peeked.dapp);
    const networks = await this.api.networks();
    const scheme = networks.find((n) => n.id === peeked.network)?.scheme;
    const wallet = (await this.localWallets()).find((w) => w.scheme === scheme);
    // Wallets are kept per Dapp (one Dapp never sees another's): the first request of a Dapp
    // asks the user to make "my wallet" for it.
    if (!wallet) return { needWallet: true, dappName: peeked.dapp_name, network: peeked.network };
    const opened = await this.api.openBridge(token, wallet.id);
    this.opened = { ...opened, walletId: wallet.id };
    const s = opened.summary ?? {};
    return {
      needWallet: false,
      dappName: opened.dapp_name,
      network: opened.network,
      title: s.title ?? "",
      rows: [
        ["sender", s.sender],
        ["recipient", s.recipient],
        ["amount", s.amount],
        ["fee", s.fee],
        ...(s.details ?? []).map((d) => [d.label, d.value]),
        ...(s.warnings ?? []).map((w) => ["⚠", w]),
      ].filter(([, v]) => v != null && v !== ""),
    };
  }

  /** Approve the opened request: co-sign it with the server. */
  async approve(password, progress) {
    const o = this.opened;
    if (!o) throw new Error("no request is open");
    const view = await this.device.sign({ walletId: o.walletId, network: o.network, request: o.request, password, bridge: o.id, progress });
    this.opened = null;
    return view;
  }

  /** Reject the opened request. */
  async reject(reason) {
    const o = this.opened;
    if (!o) throw new Error("no request is open");
    await this.api.rejectBridge(o.id, reason);
    this.opened = null;
  }

  /**
   * A new phone: every wallet of the user that this phone lacks and whose recovery share is
   * escrowed under a code is recovered with `code`, its new device share sealed under
   * `password`. The ids recovered.
   */
  async recover(code, password, progress) {
    await this.ready();
    const held = new Set((await this.localWallets()).map((w) => w.id));
    const recovered = [];
    for (const w of await this.api.wallets()) {
      if (w.status !== "ready" || held.has(w.id) || w.label !== MY_WALLET_LABEL) continue;
      const escrow = await this.api.escrow(w.id);
      if (escrow?.method !== "code") continue;
      await this.device.recoverFromEscrow({
        walletId: w.id, password, custody: { method: "code", code }, progress,
      });
      recovered.push(w.id);
    }
    return recovered;
  }

  /** The user's connections to Dapps, and revoking one. */
  connections() {
    return this.api.connections();
  }

  revoke(id) {
    return this.api.revokeConnection(id);
  }
}
