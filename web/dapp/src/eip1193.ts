// An EIP-1193 provider over the bridge, for Ethereum-like networks: ethers, viem and wagmi use
// it as they use any injected wallet. Accounts come from a connection (the user approves it in
// the mini-program or web signer); signatures and transactions are bridge requests naming it;
// reads go to the network's node through the signing server. It calls the Dapp server's relay (`bridgeRelay`),
// never the signing server with the API secret. `announceProvider` makes it discoverable by
// EIP-6963.

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

/** Options of the provider. */
export interface EthereumProviderOptions {
  /** The base URL of the Dapp server's relay, e.g. `/mpcw` or `https://shop.example/mpcw`. */
  relay: string;
  /** The chain the Dapp starts on (its chain id). */
  chainId: number;
  /** The chains to connect (chain ids); `wallet_switchEthereumChain` moves among them. */
  chains?: number[];
  /**
   * Other networks to connect in the same approval (registry ids, e.g. `["solana"]`): their
   * accounts are in `connection`, for the Dapp's other requests.
   */
  alsoConnect?: string[];
  /** The `fetch` to use (the platform's by default). */
  fetch?: typeof fetch;
  /**
   * Show the user a request's link and QR code, and return what hides it again. By default
   * an overlay with the QR code and the link is shown (`document` needed); on a touch screen
   * the link opens the signer.
   */
  show?: (prompt: Prompt, kind: "connect" | "sign") => (() => void) | void;
  /** Where the connection is kept across reloads (`localStorage` by default where it exists). */
  storage?: KeyValueStore | null;
}

type Listener = (...args: unknown[]) => void;

const STORAGE_KEY = "mpcw.eip1193.connection";
/** Statuses after which a request does not change. */
const FINAL = ["done", "failed", "rejected", "expired"];

const hexChain = (id: number) => `0x${id.toString(16)}`;

/** The connection a Dapp's page keeps. */
interface Kept {
  id: string;
  accounts: { network: string; address: string }[];
  expires_at: number;
}

/** An EIP-1193 provider whose wallet is the user's mpcw wallet. */
export class MpcwEthereumProvider {
  /** For libraries that look for injected wallets' flags. */
  readonly isMpcw = true;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly fetch: typeof fetch;
  private readonly storage: KeyValueStore | null;
  private readonly relay: string;
  private readonly chains: number[];
  private chainId: number;
  private networks?: NetworkInfo[];
  private kept: Kept | null;

  constructor(private readonly opts: EthereumProviderOptions) {
    this.relay = opts.relay.replace(/\/+$/, "");
    this.chainId = opts.chainId;
    this.chains = opts.chains ?? [opts.chainId];
    this.fetch = opts.fetch ?? ((...a) => fetch(...a));
    const ls = (globalThis as { localStorage?: KeyValueStore }).localStorage;
    this.storage = opts.storage === undefined ? (ls ?? null) : opts.storage;
    this.kept = this.load();
  }

  /** EIP-1193's one method. */
  async request(args: { method: string; params?: unknown[] | Record<string, unknown> }): Promise<unknown> {
    const params = Array.isArray(args.params) ? args.params : args.params === undefined ? [] : [args.params];
    switch (args.method) {
      case "eth_chainId":
        return hexChain(this.chainId);
      case "net_version":
        return String(this.chainId);
      case "eth_accounts":
        return this.accounts();
      case "eth_requestAccounts":
        return this.requestAccounts();
      case "wallet_switchEthereumChain":
        return this.switchChain(params[0]);
      case "wallet_revokePermissions":
        await this.disconnect();
        return null;
      case "personal_sign":
        return this.personalSign(params);
      case "eth_signTypedData_v4":
        return this.signTypedData(params);
      case "eth_signTransaction":
        return (await this.transaction(params[0], false)).result?.encoded;
      case "eth_sendTransaction": {
        const status = await this.transaction(params[0], true);
        return status.broadcast?.tx_id;
      }
      case "eth_sign":
      case "eth_signTypedData":
      case "eth_signTypedData_v3":
        throw new ProviderRpcError(4200, `${args.method} is not supported: use personal_sign or eth_signTypedData_v4`);
      default:
        return this.read(args.method, params);
    }
  }

  /** Listen to `accountsChanged`, `chainChanged`, `connect` or `disconnect`. */
  on(event: string, listener: Listener): this {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(listener);
    return this;
  }

  /** Stop listening. */
  removeListener(event: string, listener: Listener): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  /** The connection in use (its id and accounts on every network connected), if any. */
  get connection(): { id: string; accounts: { network: string; address: string }[]; expires_at: number } | null {
    return this.kept;
  }

  /** Revoke the connection (the Dapp's disconnect): its requests are refused from now on. */
  async disconnect(): Promise<void> {
    const kept = this.kept;
    if (!kept) return;
    this.forget();
    await this.relayCall("DELETE", `/connections/${encodeURIComponent(kept.id)}`).catch(() => undefined);
    this.emit("accountsChanged", []);
    this.emit("disconnect", new ProviderRpcError(4900, "disconnected"));
  }

  private emit(event: string, ...args: unknown[]) {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        l(...args);
      } catch {
        // a listener's error is its own
      }
    }
  }

  private load(): Kept | null {
    try {
      const kept = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? "null") as Kept | null;
      return kept && kept.expires_at * 1000 > Date.now() ? kept : null;
    } catch {
      return null;
    }
  }

  private keep(c: Connection) {
    this.kept = { id: c.id, accounts: c.accounts.map((a) => ({ network: a.network, address: a.address })), expires_at: c.expires_at };
    this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.kept));
  }

  private forget() {
    this.kept = null;
    this.storage?.removeItem(STORAGE_KEY);
  }

  private async relayCall<T>(method: string, path: string, body?: unknown): Promise<T> {
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
      this.emit("accountsChanged", []);
      throw new ProviderRpcError(4100, `${message}: connect again (eth_requestAccounts)`, { code });
    }
    if (code === "network_not_connected") throw new ProviderRpcError(4901, message, { code });
    const rpcCode = r.status === 422 || r.status === 400 ? -32602 : -32603;
    throw new ProviderRpcError(rpcCode, message, { code, status: r.status });
  }

  private async allNetworks(): Promise<NetworkInfo[]> {
    this.networks ??= (await this.relayCall<{ networks: NetworkInfo[] }>("GET", "/chains")).networks;
    return this.networks;
  }

  /** The registry's EVM network of chain `id`. */
  private async network(id: number): Promise<NetworkInfo> {
    const n = (await this.allNetworks()).find((n) => n.plugin === "ethereum" && n.chain_id === id);
    if (!n) throw new ProviderRpcError(4902, `chain ${hexChain(id)} is not served by this wallet`);
    return n;
  }

  private async accounts(): Promise<string[]> {
    if (!this.kept) return [];
    const network = await this.network(this.chainId);
    const account = this.kept.accounts.find((a) => a.network === network.id);
    return account ? [account.address] : [];
  }

  private async requestAccounts(): Promise<string[]> {
    const already = await this.accounts();
    if (already.length) return already;
    const networks: string[] = [];
    for (const id of this.chains) networks.push((await this.network(id)).id);
    networks.push(...(this.opts.alsoConnect ?? []));
    const status = await this.ask("connect", () => this.relayCall<Prompt>("POST", "/connect", { networks }));
    if (!status.connection) throw new ProviderRpcError(-32603, "the connection is missing from the answer");
    this.keep(status.connection);
    const accounts = await this.accounts();
    this.emit("connect", { chainId: hexChain(this.chainId) });
    this.emit("accountsChanged", accounts);
    return accounts;
  }

  private async switchChain(param: unknown): Promise<null> {
    const asked = (param as { chainId?: string } | undefined)?.chainId;
    const id = typeof asked === "string" ? Number.parseInt(asked, 16) : Number.NaN;
    if (!Number.isSafeInteger(id)) throw new ProviderRpcError(-32602, "chainId must be a hex string");
    if (!this.chains.includes(id)) throw new ProviderRpcError(4902, `chain ${asked} is not one this Dapp connects`);
    await this.network(id);
    if (id !== this.chainId) {
      this.chainId = id;
      this.emit("chainChanged", hexChain(id));
    }
    return null;
  }

  /** The connected account that must be `address`, and the current network. */
  private async signer(address: unknown): Promise<{ account: string; network: NetworkInfo }> {
    const network = await this.network(this.chainId);
    const [account] = await this.accounts();
    if (!account) throw new ProviderRpcError(4100, "not connected: call eth_requestAccounts first");
    if (typeof address === "string" && address.toLowerCase() !== account.toLowerCase()) {
      throw new ProviderRpcError(4100, `${address} is not the connected account ${account}`);
    }
    return { account, network };
  }

  /** A bridge request naming the connection, shown to the user; its final status. */
  private async sign(network: NetworkInfo, request: unknown, broadcast: boolean): Promise<BridgeStatus> {
    const connection = this.kept!.id;
    return this.ask("sign", () =>
      this.relayCall<Prompt>("POST", "/requests", { network: network.id, request, connection, broadcast }),
    );
  }

  private async personalSign(params: unknown[]): Promise<string> {
    const [message, address] = params;
    if (typeof message !== "string") throw new ProviderRpcError(-32602, "personal_sign takes [message, address]");
    const { network } = await this.signer(address);
    const status = await this.sign(network, { kind: "personal_sign", message }, false);
    return withHexPrefix(status.result?.encoded);
  }

  private async signTypedData(params: unknown[]): Promise<string> {
    const [address, data] = params;
    const typedData = typeof data === "string" ? JSON.parse(data) : data;
    if (typeof typedData !== "object" || typedData === null) {
      throw new ProviderRpcError(-32602, "eth_signTypedData_v4 takes [address, typed data]");
    }
    const { network } = await this.signer(address);
    const status = await this.sign(network, { kind: "typed_data", typedData }, false);
    return withHexPrefix(status.result?.encoded);
  }

  private async transaction(tx: unknown, broadcast: boolean): Promise<BridgeStatus> {
    if (typeof tx !== "object" || tx === null) throw new ProviderRpcError(-32602, "expected a transaction object");
    const fields = tx as Record<string, unknown>;
    const { account, network } = await this.signer(fields.from);
    const request: Record<string, unknown> = { kind: "transaction", from: account };
    for (const k of ["type", "chainId", "nonce", "to", "value", "data", "input", "gas", "gasLimit", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "accessList"]) {
      if (fields[k] !== undefined && fields[k] !== null) request[k] = fields[k];
    }
    return this.sign(network, request, broadcast);
  }

  /** Show the request's prompt and follow it to its final status. */
  private async ask(kind: "connect" | "sign", create: () => Promise<Prompt>): Promise<BridgeStatus> {
    const prompt = await create();
    const hide = (this.opts.show ?? defaultShow)(prompt, kind);
    try {
      for (;;) {
        const status = await this.relayCall<BridgeStatus>("GET", `/requests/${encodeURIComponent(prompt.id)}?wait=25`);
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

  /** A read the wallet does not serve: sent to the network's node through the relay. */
  private async read(method: string, params: unknown[]): Promise<unknown> {
    const network = await this.network(this.chainId);
    let answer: { result?: unknown; error?: { code?: number; message?: string; data?: unknown } };
    try {
      answer = await this.relayCall("POST", `/rpc/${encodeURIComponent(network.id)}`, { method, params });
    } catch (e) {
      const code = (e as ProviderRpcError).data as { code?: string } | undefined;
      if (code?.code === "not_a_read") throw new ProviderRpcError(4200, `${method} is not supported`);
      throw e;
    }
    if (answer.error) throw new ProviderRpcError(answer.error.code ?? -32603, answer.error.message ?? "node error", answer.error.data);
    return answer.result;
  }
}

function withHexPrefix(encoded: string | undefined): string {
  if (!encoded) throw new ProviderRpcError(-32603, "the signed result is missing");
  return encoded.startsWith("0x") ? encoded : `0x${encoded}`;
}

/** The default prompt: an overlay with the QR code and the link; on a touch screen the link opens at once. */
function defaultShow(prompt: Prompt): () => void {
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

/** What EIP-6963 says about a wallet. */
export interface ProviderInfo {
  uuid: string;
  name: string;
  icon: string;
  rdns: string;
}

const ICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f6feb"/>' +
      '<text x="16" y="21" font-family="sans-serif" font-size="12" fill="#fff" text-anchor="middle">mpcw</text></svg>',
  );

/**
 * Announce `provider` to the page's Dapps by EIP-6963 (`eip6963:announceProvider`, and again at
 * every `eip6963:requestProvider`). Returns what stops answering requests.
 */
export function announceProvider(provider: MpcwEthereumProvider, info: Partial<ProviderInfo> = {}): () => void {
  const w = globalThis as unknown as Window;
  const detail = Object.freeze({
    info: Object.freeze({
      uuid: info.uuid ?? crypto.randomUUID(),
      name: info.name ?? "mpcw",
      icon: info.icon ?? ICON,
      rdns: info.rdns ?? "io.github.mpcw",
    }),
    provider,
  });
  const announce = () => w.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  announce();
  w.addEventListener("eip6963:requestProvider", announce);
  return () => w.removeEventListener("eip6963:requestProvider", announce);
}
