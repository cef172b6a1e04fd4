// The pages of both mini-programs, as `Page()` options built around the shared controller. A
// project's page file passes `ui` (its platform's `navigateTo` and toast) and registers the
// result with its `Page()`. Page data carries the words of the chosen language (`t`).

import { strings, language } from "./i18n.js";

const message = (e) => e?.message ?? String(e);

/** What every page shares: the app's wallet, the words, errors shown in `error`. */
function base(ui, extra) {
  return {
    ...extra,
    wallet() {
      return getApp().wallet();
    },
    async words() {
      const lang = await language(this.wallet().platform.storage);
      this.setData({ t: strings[lang], lang });
    },
    async guarded(work) {
      this.setData({ error: "", busy: true });
      try {
        await work();
      } catch (e) {
        this.setData({ error: message(e) });
        ui.toast(message(e));
      } finally {
        this.setData({ busy: false });
      }
    },
  };
}

/** The wallet screen: every network family's address, or the button that makes the wallet. */
export function indexPage(ui) {
  return base(ui, {
    data: { t: strings.zh, families: [], password: "", words: [], error: "", busy: false, subject: "" },
    async onLoad() {
      await this.words();
      await this.guarded(async () => {
        await this.wallet().ready();
        const subject = await this.wallet().login();
        this.setData({ subject, families: await this.wallet().families() });
      });
    },
    onPassword(e) {
      this.setData({ password: e.detail.value });
    },
    async create() {
      await this.guarded(async () => {
        if (!this.data.password) throw new Error(this.data.t.password);
        const { code } = await this.wallet().createMyWallet(this.data.password, (step, detail) =>
          this.setData({ progress: `${this.data.t.creating} ${detail ?? ""}` }),
        );
        this.setData({ words: code.split(" "), password: "", families: await this.wallet().families(), progress: "" });
      });
    },
    toRecover() {
      ui.navigate("/pages/recover/recover");
    },
    toSend(e) {
      const network = (e.currentTarget ?? e.target).dataset.network;
      ui.navigate(`/pages/send/send?network=${encodeURIComponent(network)}`);
    },
    toSettings() {
      ui.navigate("/pages/settings/settings");
    },
  });
}

/**
 * A Dapp's request, opened from a mini-program code (its scene) or a link (its `t` query):
 * the Dapp, the plugin's summary, approve with the password or reject.
 */
export function approvePage(ui) {
  return base(ui, {
    data: { t: strings.zh, dappName: "", title: "", rows: [], password: "", done: "", error: "", busy: false, needWallet: false, words: [] },
    async onLoad(query) {
      await this.words();
      this.token = query?.scene ? decodeURIComponent(query.scene) : query?.t;
      await this.guarded(() => this.show());
    },
    async show() {
      if (!this.token) throw new Error("no request in this link");
      const opened = await this.wallet().openEntry(this.token);
      const t = this.data.t;
      this.setData({ ...opened, rows: (opened.rows ?? []).map(([k, v]) => ({ k: t[k] ?? k, v })) });
    },
    /** The Dapp's first request on this phone: make "my wallet" for it, then show the request. */
    async createWallet() {
      await this.guarded(async () => {
        if (!this.data.password) throw new Error(this.data.t.password);
        const { code } = await this.wallet().createMyWallet(this.data.password);
        this.setData({ words: code.split(" ") });
        await this.show();
      });
    },
    onPassword(e) {
      this.setData({ password: e.detail.value });
    },
    async approve() {
      await this.guarded(async () => {
        await this.wallet().approve(this.data.password);
        this.setData({ done: this.data.t.approved, password: "" });
      });
    },
    async reject() {
      await this.guarded(async () => {
        await this.wallet().reject();
        this.setData({ done: this.data.t.rejected });
      });
    },
  });
}

/** Send from a network's address: recipient and amount, the summary, then the password. */
export function sendPage(ui) {
  return base(ui, {
    data: { t: strings.zh, network: "", to: "", amount: "", title: "", rows: [], password: "", txId: "", error: "", busy: false },
    async onLoad(query) {
      await this.words();
      this.setData({ network: decodeURIComponent(query?.network ?? "") });
      // The families (and their networks) are known once the wallet screen listed them.
      await this.guarded(async () => {
        if (!this.wallet().networksById) await this.wallet().families();
      });
    },
    onTo(e) {
      this.setData({ to: e.detail.value });
    },
    onAmount(e) {
      this.setData({ amount: e.detail.value });
    },
    onPassword(e) {
      this.setData({ password: e.detail.value });
    },
    async review() {
      await this.guarded(async () => {
        const summary = await this.wallet().preview(this.data.network, this.data.to, this.data.amount);
        const t = this.data.t;
        this.setData({ title: summary.title, rows: summary.rows.map(([k, v]) => ({ k: t[k] ?? k, v })) });
      });
    },
    async send() {
      await this.guarded(async () => {
        const txId = await this.wallet().send(this.data.password);
        this.setData({ txId: txId ?? this.data.t.signed_only, password: "" });
      });
    },
  });
}

/** A new phone: the recovery code and a new password bring the wallet back. */
export function recoverPage(ui) {
  return base(ui, {
    data: { t: strings.zh, code: "", password: "", recovered: [], error: "", busy: false },
    async onLoad() {
      await this.words();
    },
    onCode(e) {
      this.setData({ code: e.detail.value });
    },
    onPassword(e) {
      this.setData({ password: e.detail.value });
    },
    async recover() {
      await this.guarded(async () => {
        await this.wallet().login();
        const recovered = await this.wallet().recover(this.data.code, this.data.password);
        this.setData({ recovered, code: "", password: "" });
      });
    },
  });
}

/**
 * Settings: the language, refreshing the shares (with the recovery code and the password), and
 * the Dapps the user is connected to (each can be disconnected).
 */
export function settingsPage(ui) {
  return base(ui, {
    data: { t: strings.zh, connections: [], code: "", password: "", refreshed: 0, error: "", busy: false },
    onCode(e) {
      this.setData({ code: e.detail.value });
    },
    onPassword(e) {
      this.setData({ password: e.detail.value });
    },
    async refresh() {
      await this.guarded(async () => {
        const refreshed = await this.wallet().refresh(this.data.code, this.data.password);
        this.setData({ refreshed: refreshed.length, code: "", password: "" });
      });
    },
    async onLoad() {
      await this.words();
      await this.guarded(() => this.list());
    },
    async list() {
      const all = await this.wallet().connections();
      this.setData({ connections: all.filter((c) => c.status === "active").map((c) => ({ id: c.id, dapp: c.dapp })) });
    },
    async switchLanguage() {
      await this.wallet().platform.storage.set("mpcw/lang", this.data.lang === "en" ? "zh" : "en");
      await this.words();
    },
    async revoke(e) {
      const id = (e.currentTarget ?? e.target).dataset.id;
      await this.guarded(async () => {
        await this.wallet().revoke(id);
        await this.list();
      });
    },
  });
}
