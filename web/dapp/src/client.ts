// The bridge as a Dapp uses it, with the Dapp's id and API secret (keep them on the Dapp's
// server): connect to the user's accounts, ask for signatures (for a connection's wallet, or any),
// show a request's QR code, and wait for the result.

import qrcode from "qrcode-generator";

/** A `fetch` (the platform's). */
export type Fetch = typeof fetch;

/**
 * A new bridge request: show `deep_link` or its QR code (`qrDataUrl`) to the user. The token is
 * single use.
 */
export interface BridgeCreated {
  id: string;
  token: string;
  deep_link: string;
  expires_at: number;
}

/** A network the server serves. */
export interface NetworkInfo {
  id: string;
  name: string;
  plugin: string;
  scheme: string;
  chain_id: number | null;
  symbol: string;
  decimals: number;
  testnet: boolean;
  rpc_url?: string | null;
  node?: boolean;
}

/** One connected account: the user's wallet and its address on a network. */
export interface Account {
  network: string;
  wallet_id: string;
  address: string;
}

/** A connection to a user's accounts; name its `id` in later requests. */
export interface Connection {
  id: string;
  dapp: string;
  status: "active" | "revoked" | "expired";
  accounts: Account[];
  created_at: number;
  expires_at: number;
  revoked_at?: number;
}

/**
 * A bridge request's status: of a signing request, `result` once `done`; of a connect request,
 * `connection` once `done`.
 */
export interface BridgeStatus {
  id: string;
  action: "sign" | "connect";
  network: string;
  status: "pending" | "opened" | "signing" | "sending" | "done" | "failed" | "rejected" | "expired";
  expires_at: number;
  result?: { raw: number[]; encoded: string; encoding: string; id: string };
  connection?: Connection;
  /** Fields the server filled in from the network's node. */
  filled?: { field: string; value: unknown }[];
  /** The broadcast, when asked for: `sent` with the node's transaction id, or `not_sent`. */
  broadcast?: { state: "asked" | "sending" | "sent" | "not_sent"; tx_id?: string; message?: string };
  reason?: string;
}

/** The statuses after which nothing changes. */
export const FINAL = ["done", "failed", "rejected", "expired"];

/** The server refused: status, stable code, message. */
export class BridgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The server's message alone. */
    readonly detail: string,
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

/** A Dapp's client of the bridge. */
export class DappClient {
  private readonly base: string;
  private readonly auth: string;

  constructor(opts: { base: string; id: string; secret: string; fetch?: Fetch }) {
    this.base = opts.base.replace(/\/+$/, "");
    this.auth = "Basic " + btoa(`${opts.id}:${opts.secret}`);
    this.fetch = opts.fetch ?? fetch;
  }

  private readonly fetch: Fetch;

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.fetch(this.base + path, {
      method,
      headers: {
        authorization: this.auth,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!r.ok) throw new BridgeError(r.status, json?.error?.code ?? "unknown", json?.error?.message ?? text);
    return json as T;
  }

  /**
   * Ask for a signature: `request` as the network's plugin documents it. The server checks it
   * with the plugin before answering. `callbackUrl` overrides the registered one (same origin).
   * With `connection`, the request is for that connection's user and wallet only, and refused
   * if its sender or fee payer is another account. Where the server has the network's node,
   * fields a wallet fills in may be left out (EVM nonce, gas and fees; Solana's recent
   * blockhash), and `broadcast` sends the signed transaction: the status is then `done` with
   * `broadcast.tx_id` once the node took it.
   */
  createRequest(opts: {
    network: string;
    request: unknown;
    ttlSecs?: number;
    callbackUrl?: string;
    connection?: string;
    broadcast?: boolean;
  }) {
    return this.call<BridgeCreated>("POST", "/v1/bridge/requests", {
      network: opts.network,
      request: opts.request,
      ttl_secs: opts.ttlSecs,
      callback_url: opts.callbackUrl,
      connection: opts.connection,
      broadcast: opts.broadcast,
    });
  }

  /**
   * Ask for the user's accounts on `networks`: show the answer's link or QR code like a signing
   * request's; once the user approves, the request's status carries the `connection`.
   * `connectionTtlSecs` is how long the connection lasts (default 7 days, at most 30).
   */
  connect(opts: { networks: string[]; ttlSecs?: number; connectionTtlSecs?: number; callbackUrl?: string }) {
    return this.call<BridgeCreated>("POST", "/v1/bridge/connect", {
      networks: opts.networks,
      ttl_secs: opts.ttlSecs,
      connection_ttl_secs: opts.connectionTtlSecs,
      callback_url: opts.callbackUrl,
    });
  }

  /**
   * The WeChat mini-program code of a waiting request (an image to show where users scan with
   * WeChat): it opens the mini-program's approval page with the request. Needs WeChat set up on
   * the server; the server keeps what WeChat made until the request expires.
   */
  async wechatCode(id: string): Promise<{ contentType: string; image: Uint8Array }> {
    const r = await this.fetch(`${this.base}/v1/bridge/requests/${encodeURIComponent(id)}/wechat/code`, {
      headers: { authorization: this.auth },
    });
    if (!r.ok) {
      const json = await r.json().catch(() => undefined);
      throw new BridgeError(r.status, json?.error?.code ?? "unknown", json?.error?.message ?? "");
    }
    return { contentType: r.headers.get("content-type") ?? "image/png", image: new Uint8Array(await r.arrayBuffer()) };
  }

  /** A `weixin://` link that opens the WeChat mini-program on the request (for a page shown in a phone's browser). */
  wechatLink(id: string) {
    return this.call<{ openlink: string; expires_at: number }>(
      "GET",
      `/v1/bridge/requests/${encodeURIComponent(id)}/wechat/link`,
    );
  }

  /** The Alipay mini-program code's image URL and the `alipays://` link that opens the request in Alipay. */
  alipayCode(id: string) {
    return this.call<{ qr_code_url: string; scheme: string; expires_at: number }>(
      "GET",
      `/v1/bridge/requests/${encodeURIComponent(id)}/alipay/code`,
    );
  }

  /** The server's networks: id, plugin, scheme, chain id, public `rpc_url`, whether it has a `node`. */
  async chains(): Promise<NetworkInfo[]> {
    return (await this.call<{ networks: NetworkInfo[] }>("GET", "/v1/chains")).networks;
  }

  /**
   * A read of `network`'s chain (`eth_getBalance`, `eth_call`, `getLatestBlockhash`, …) through
   * the server's node: the node's JSON-RPC answer (`result`, or its `error`). Sends are refused.
   */
  rpc(network: string, method: string, params: unknown[] = []) {
    return this.call<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }>(
      "POST",
      `/v1/bridge/rpc/${encodeURIComponent(network)}`,
      { method, params },
    );
  }

  /** A connection of this Dapp's, with its status now. */
  connection(id: string) {
    return this.call<Connection>("GET", `/v1/bridge/connections/${encodeURIComponent(id)}`);
  }

  /** Revoke a connection of this Dapp's (disconnect): later requests naming it are refused. */
  disconnect(id: string) {
    return this.call<Connection>("DELETE", `/v1/bridge/connections/${encodeURIComponent(id)}`);
  }

  /**
   * The key this Dapp's callbacks are signed with (64 hex digits), for `verifyCallback`. It
   * changes only when the server's key-encryption key does: fetch it at start and again if a
   * callback stops verifying.
   */
  async callbackKey(): Promise<string> {
    return (await this.call<{ key: string; algorithm: string }>("GET", "/v1/bridge/callback-key")).key;
  }

  /** The request's status now, or once it changes within `waitSecs` (at most 25). */
  status(id: string, waitSecs = 0) {
    return this.call<BridgeStatus>("GET", `/v1/bridge/requests/${encodeURIComponent(id)}?wait=${waitSecs}`);
  }

  /** Long-poll until the request's status is final (works wherever `fetch` does). */
  async waitForResult(id: string, opts: { timeoutMs?: number } = {}): Promise<BridgeStatus> {
    const until = Date.now() + (opts.timeoutMs ?? 15 * 60 * 1000);
    for (;;) {
      const s = await this.status(id, 25);
      if (FINAL.includes(s.status) || Date.now() >= until) return s;
    }
  }

  /** Every status change as it happens (server-sent events), ending after a final status. */
  async *events(id: string): AsyncGenerator<BridgeStatus> {
    const r = await this.fetch(`${this.base}/v1/bridge/requests/${encodeURIComponent(id)}/events`, {
      headers: { authorization: this.auth, accept: "text/event-stream" },
    });
    if (!r.ok || !r.body) throw new BridgeError(r.status, "events", await r.text());
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = r.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (block.includes("event: status") && data) yield JSON.parse(data) as BridgeStatus;
      }
    }
  }
}

/**
 * The modules of the QR code of `text` (error correction level M, byte mode): `true` is dark,
 * row by row, without the quiet zone.
 */
export function qrModules(text: string): boolean[][] {
  const code = qrcode(0, "M");
  code.addData(text, "Byte");
  code.make();
  const n = code.getModuleCount();
  return Array.from({ length: n }, (_, row) => Array.from({ length: n }, (_, col) => code.isDark(row, col)));
}

/**
 * The QR code of a request's link as an image source (`<img src>`): an SVG data URL drawn here,
 * in the page or on the Dapp's server, with no request to the signing server.
 */
export function qrDataUrl(created: BridgeCreated): string {
  const modules = qrModules(created.deep_link);
  const quiet = 4;
  const side = modules.length + 2 * quiet;
  let path = "";
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) path += `M${x + quiet} ${y + quiet}h1v1h-1z`;
    }),
  );
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side * 8}" height="${side * 8}" ` +
    `viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
    `<rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
