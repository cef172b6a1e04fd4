// An EIP-1193 provider over the bridge, for Ethereum-like networks: ethers, viem and wagmi use
// it as they use any injected wallet. Accounts come from a connection (the user approves it in
// the mini-program or web signer); signatures and transactions are bridge requests naming it;
// reads go to the network's node through the signing server. It calls the Dapp server's relay
// (`bridgeRelay`), never the signing server with the API secret. `announceProvider` makes it
// discoverable by EIP-6963.

import type { BridgeStatus, NetworkInfo } from "./client.js";
import { ProviderRpcError, RelaySession, WALLET_ICON } from "./session.js";
import type { Kept, SessionOptions } from "./session.js";

/** Options of the provider. */
export interface EthereumProviderOptions extends SessionOptions {
  /** The chain the Dapp starts on (its chain id). */
  chainId: number;
  /** The chains to connect (chain ids); `wallet_switchEthereumChain` moves among them. */
  chains?: number[];
  /**
   * Other networks to connect in the same approval (registry ids, e.g. `["solana"]`): their
   * accounts are in `connection`, for the Dapp's other requests.
   */
  alsoConnect?: string[];
  /** A session to share with the page's other wallets (one connection for all). */
  session?: RelaySession;
}

type Listener = (...args: unknown[]) => void;

const hexChain = (id: number) => `0x${id.toString(16)}`;

/** An EIP-1193 provider whose wallet is the user's mpcw wallet. */
export class MpcwEthereumProvider {
  /** For libraries that look for injected wallets' flags. */
  readonly isMpcw = true;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly session: RelaySession;
  private readonly chains: number[];
  private chainId: number;

  constructor(private readonly opts: EthereumProviderOptions) {
    this.session = opts.session ?? new RelaySession(opts);
    this.session.onGone(() => this.emit("accountsChanged", []));
    this.chainId = opts.chainId;
    this.chains = opts.chains ?? [opts.chainId];
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
        return this.session.read((await this.network(this.chainId)).id, args.method, params);
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
  get connection(): Kept | null {
    return this.session.kept;
  }

  /** Revoke the connection (the Dapp's disconnect): its requests are refused from now on. */
  async disconnect(): Promise<void> {
    if (!(await this.session.disconnect())) return;
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

  /** The registry's EVM network of chain `id`. */
  private async network(id: number): Promise<NetworkInfo> {
    const n = (await this.session.networks()).find((n) => n.plugin === "ethereum" && n.chain_id === id);
    if (!n) throw new ProviderRpcError(4902, `chain ${hexChain(id)} is not served by this wallet`);
    return n;
  }

  private async accounts(): Promise<string[]> {
    const kept = this.session.kept;
    if (!kept) return [];
    const network = await this.network(this.chainId);
    const account = kept.accounts.find((a) => a.network === network.id);
    return account ? [account.address] : [];
  }

  private async requestAccounts(): Promise<string[]> {
    const already = await this.accounts();
    if (already.length) return already;
    const networks: string[] = [];
    for (const id of this.chains) networks.push((await this.network(id)).id);
    networks.push(...(this.opts.alsoConnect ?? []));
    await this.session.connect(networks);
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

  private async personalSign(params: unknown[]): Promise<string> {
    const [message, address] = params;
    if (typeof message !== "string") throw new ProviderRpcError(-32602, "personal_sign takes [message, address]");
    const { network } = await this.signer(address);
    const status = await this.session.sign(network.id, { kind: "personal_sign", message }, false);
    return withHexPrefix(status.result?.encoded);
  }

  private async signTypedData(params: unknown[]): Promise<string> {
    const [address, data] = params;
    const typedData = typeof data === "string" ? JSON.parse(data) : data;
    if (typeof typedData !== "object" || typedData === null) {
      throw new ProviderRpcError(-32602, "eth_signTypedData_v4 takes [address, typed data]");
    }
    const { network } = await this.signer(address);
    const status = await this.session.sign(network.id, { kind: "typed_data", typedData }, false);
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
    return this.session.sign(network.id, request, broadcast);
  }
}

function withHexPrefix(encoded: string | undefined): string {
  if (!encoded) throw new ProviderRpcError(-32603, "the signed result is missing");
  return encoded.startsWith("0x") ? encoded : `0x${encoded}`;
}

/** What EIP-6963 says about a wallet. */
export interface ProviderInfo {
  uuid: string;
  name: string;
  icon: string;
  rdns: string;
}

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
      icon: info.icon ?? WALLET_ICON,
      rdns: info.rdns ?? "io.github.mpcw",
    }),
    provider,
  });
  const announce = () => w.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  announce();
  w.addEventListener("eip6963:requestProvider", announce);
  return () => w.removeEventListener("eip6963:requestProvider", announce);
}
