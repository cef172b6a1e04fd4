// What the page's wallets (the EIP-1193 provider, the Solana Wallet Standard wallet) share: the
// calls to the Dapp server's relay, the connection kept between page loads, and a bridge
// request shown to the user (link and QR code) and followed to its final status.

import type { BridgeStatus, Connection, NetworkInfo } from "./client.js";
import type { Prompt } from "./relay.js";

/** An EIP-1193 error: `code` 4001 (the user rejected), 4100 (not authorized), 4200 (not
 * supported), 4900 (disconnected), 4901 (not connected to the chain), 4902 (unknown chain),
 * -32602 (invalid params), -32603 (internal). */
export class ProviderRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** Where a storage keeps the connection between page loads (`localStorage` has this shape). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** How a request is shown to the user: returns what hides it again. */
export type Show = (prompt: Prompt, kind: "connect" | "sign") => (() => void) | void;

/** The connection a Dapp's page keeps. */
export interface Kept {
  id: string;
  accounts: { network: string; address: string }[];
  expires_at: number;
}

/** Statuses after which a request does not change. */
const FINAL = ["done", "failed", "rejected", "expired"];

/** The wallet's icon, as EIP-6963 and the Wallet Standard want it (a data URL). */
export const WALLET_ICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f6feb"/>' +
      '<text x="16" y="21" font-family="sans-serif" font-size="12" fill="#fff" text-anchor="middle">mpcw</text></svg>',
  );

/** What a wallet needs to reach the Dapp server's relay. */
export interface SessionOptions {
  /** The base URL of the Dapp server's relay, e.g. `/mpcw` or `https://shop.example/mpcw`. */
  relay: string;
  /** The `fetch` to use (the platform's by default). */
  fetch?: typeof fetch;
  /**
   * Show the user a request's link and QR code, and return what hides it again. By default
   * an overlay with the QR code and the link is shown (`document` needed); on a touch screen
   * the link opens the signer.
   */
  show?: Show;
  /** Where the connection is kept across reloads (`localStorage` by default where it exists). */
  storage?: KeyValueStore | null;
}

/** A page's session with the relay; wallets of several chains may share one (one connection). */
export class RelaySession {
  private readonly relay: string;
  private readonly fetch: typeof fetch;
  private readonly storage: KeyValueStore | null;
  private networkList?: Promise<NetworkInfo[]>;
  /** The connection in use. */
  kept: Kept | null;
  private readonly gone = new Set<() => void>();

  constructor(
    opts: SessionOptions,
    private readonly storageKey = "mpcw.connection",
  ) {
    this.relay = opts.relay.replace(/\/+$/, "");
    this.fetch = opts.fetch ?? ((...a) => fetch(...a));
    const ls = (globalThis as { localStorage?: KeyValueStore }).localStorage;
    this.storage = opts.storage === undefined ? (ls ?? null) : opts.storage;
    this.show = opts.show ?? defaultShow;
    this.kept = this.load();
  }

  private readonly show: Show;

  private load(): Kept | null {
    try {
      const kept = JSON.parse(this.storage?.getItem(this.storageKey) ?? "null") as Kept | null;
      return kept && kept.expires_at * 1000 > Date.now() ? kept : null;
    } catch {
      return null;
    }
  }

  /** Call `f` whenever the server says the connection is gone (revoked, expired, unknown). */
  onGone(f: () => void) {
    this.gone.add(f);
  }

  /** Keep connection `c` (here and in storage). */
  keep(c: Connection) {
    this.kept = { id: c.id, accounts: c.accounts.map((a) => ({ network: a.network, address: a.address })), expires_at: c.expires_at };
    this.storage?.setItem(this.storageKey, JSON.stringify(this.kept));
  }

  /** Forget the connection. */
  forget() {
    this.kept = null;
    this.storage?.removeItem(this.storageKey);
  }

  /** Revoke the connection on the server and forget it; whether there was one. */
  async disconnect(): Promise<boolean> {
    const kept = this.kept;
    if (!kept) return false;
    this.forget();
    await this.call("DELETE", `/connections/${encodeURIComponent(kept.id)}`).catch(() => undefined);
    return true;
  }

  /** A relay call; its refusals as EIP-1193 errors. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let r: Response;
    try {
      r = await this.fetch(this.relay + path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ProviderRpcError(4900, `the wallet relay cannot be reached: ${(e as Error).message}`);
    }
    const text = await r.text();
    let json: { error?: { code?: string; message?: string } } | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (r.ok) return json as T;
    const code = json?.error?.code ?? "unknown";
    const message = json?.error?.message ?? text;
    if (code === "connection_revoked" || code === "connection_expired" || code === "unknown_connection") {
      this.forget();
      for (const f of this.gone) f();
      throw new ProviderRpcError(4100, `${message}: connect again`, { code });
    }
    if (code === "network_not_connected") throw new ProviderRpcError(4901, message, { code });
    const rpcCode = r.status === 422 || r.status === 400 ? -32602 : -32603;
    throw new ProviderRpcError(rpcCode, message, { code, status: r.status });
  }

  /** The server's networks (asked once). */
  networks(): Promise<NetworkInfo[]> {
    this.networkList ??= this.call<{ networks: NetworkInfo[] }>("GET", "/chains").then((c) => c.networks);
    return this.networkList;
  }

  /** Ask for a connection to `networks` and keep it. */
  async connect(networks: string[]): Promise<Kept> {
    const status = await this.ask("connect", () => this.call<Prompt>("POST", "/connect", { networks }));
    if (!status.connection) throw new ProviderRpcError(-32603, "the connection is missing from the answer");
    this.keep(status.connection);
    return this.kept!;
  }

  /** A bridge request on `network` naming the connection, shown to the user; its final status. */
  sign(network: string, request: unknown, broadcast: boolean): Promise<BridgeStatus> {
    const connection = this.kept?.id;
    if (!connection) throw new ProviderRpcError(4100, "not connected");
    return this.ask("sign", () => this.call<Prompt>("POST", "/requests", { network, request, connection, broadcast }));
  }

  /** A read of `network`'s chain through the relay: the node's result. */
  async read(network: string, method: string, params: unknown[]): Promise<unknown> {
    let answer: { result?: unknown; error?: { code?: number; message?: string; data?: unknown } };
    try {
      answer = await this.call("POST", `/rpc/${encodeURIComponent(network)}`, { method, params });
    } catch (e) {
      const data = (e as ProviderRpcError).data as { code?: string } | undefined;
      if (data?.code === "not_a_read") throw new ProviderRpcError(4200, `${method} is not supported`);
      throw e;
    }
    if (answer.error) throw new ProviderRpcError(answer.error.code ?? -32603, answer.error.message ?? "node error", answer.error.data);
    return answer.result;
  }

  /** Show the request's prompt and follow it to its final status. */
  private async ask(kind: "connect" | "sign", create: () => Promise<Prompt>): Promise<BridgeStatus> {
    const prompt = await create();
    const hide = this.show(prompt, kind);
    try {
      for (;;) {
        const status = await this.call<BridgeStatus>("GET", `/requests/${encodeURIComponent(prompt.id)}?wait=25`);
        if (!FINAL.includes(status.status)) continue;
        if (status.status === "done") return status;
        if (status.status === "rejected") {
          throw new ProviderRpcError(4001, `the user rejected the request${status.reason ? `: ${status.reason}` : ""}`);
        }
        if (status.status === "expired") throw new ProviderRpcError(4001, "the request expired before the user approved it");
        throw new ProviderRpcError(-32603, status.reason ?? "the request failed", status);
      }
    } finally {
      if (typeof hide === "function") hide();
    }
  }
}

/** The default prompt: an overlay with the QR code and the link; on a touch screen the link opens at once. */
export function defaultShow(prompt: Prompt): () => void {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc) throw new ProviderRpcError(-32603, "no document to show the request in: give `show`");
  const box = doc.createElement("div");
  box.id = "mpcw-prompt";
  box.setAttribute("role", "dialog");
  box.style.cssText =
    "position:fixed;inset:0;display:flex;flex-direction:column;align-items:center;justify-content:center;" +
    "gap:12px;background:rgba(0,0,0,.55);z-index:2147483647;font:16px system-ui,sans-serif";
  const img = doc.createElement("img");
  img.src = prompt.qr;
  img.alt = "QR code of the wallet request";
  img.width = 240;
  img.height = 240;
  img.style.background = "#fff";
  const link = doc.createElement("a");
  link.href = prompt.deep_link;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = "Open in the wallet";
  link.style.cssText = "color:#fff;background:#1f6feb;padding:8px 16px;border-radius:6px;text-decoration:none";
  box.append(img, link);
  doc.body.append(box);
  const touch = (globalThis as { matchMedia?: (q: string) => { matches: boolean } }).matchMedia?.("(pointer: coarse)").matches;
  if (touch) (globalThis as { open?: (url: string, target: string) => unknown }).open?.(prompt.deep_link, "_blank");
  return () => box.remove();
}

