// A Solana wallet of the Wallet Standard over the bridge: Solana Dapps (the wallet adapter,
// `@solana/react`, …) find it by the standard's window events and use it as any wallet.
// `standard:connect` makes a connection (the user approves it in the mini-program or web
// signer); `solana:signTransaction` and `solana:signAndSendTransaction` take the transactions
// the Dapp built, `solana:signMessage` raw bytes; each is a bridge request naming the
// connection. It calls the Dapp server's relay (`bridgeRelay`), never the signing server with
// the API secret.

import { base58Decode } from "./local.js";
import { ProviderRpcError, RelaySession, WALLET_ICON } from "./session.js";
import type { SessionOptions } from "./session.js";

/** The Wallet Standard's chain ids of the registry's Solana networks. */
const CHAINS: Record<string, string> = { solana: "solana:mainnet", "solana-devnet": "solana:devnet" };
const FEATURES = ["solana:signTransaction", "solana:signAndSendTransaction", "solana:signMessage"] as const;
const VERSIONS = ["legacy", 0] as const;

/** An account as the Wallet Standard describes it. */
export interface StandardAccount {
  readonly address: string;
  readonly publicKey: Uint8Array;
  readonly chains: readonly string[];
  readonly features: readonly string[];
}

/** Options of the wallet. */
export interface SolanaWalletOptions extends SessionOptions {
  /** The registry's network: `solana` (default) or `solana-devnet`. */
  network?: string;
  /** Other networks to connect in the same approval. */
  alsoConnect?: string[];
  /** A session to share with the page's other wallets (one connection for all). */
  session?: RelaySession;
}

type ChangeListener = (change: { accounts?: readonly StandardAccount[] }) => void;

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/** The user's mpcw wallet on Solana, as a Wallet Standard wallet. */
export class MpcwSolanaWallet {
  readonly version = "1.0.0" as const;
  readonly name = "mpcw";
  readonly icon = WALLET_ICON as `data:image/svg+xml,${string}`;
  private readonly session: RelaySession;
  private readonly network: string;
  private readonly chain: string;
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly opts: SolanaWalletOptions) {
    this.session = opts.session ?? new RelaySession(opts);
    this.network = opts.network ?? "solana";
    const chain = CHAINS[this.network];
    if (!chain) throw new Error(`${this.network} is not a Solana network of the registry`);
    this.chain = chain;
    this.session.onGone(() => this.changed());
  }

  /** The Wallet Standard's chains: the one network this wallet serves. */
  get chains(): readonly string[] {
    return [this.chain];
  }

  /** The connected account, if any. */
  get accounts(): readonly StandardAccount[] {
    const account = this.session.kept?.accounts.find((a) => a.network === this.network);
    if (!account) return [];
    return [
      Object.freeze({
        address: account.address,
        publicKey: base58Decode(account.address),
        chains: [this.chain],
        features: [...FEATURES],
      }),
    ];
  }

  /** The Wallet Standard's features. */
  get features() {
    return {
      "standard:connect": { version: "1.0.0", connect: (input?: { silent?: boolean }) => this.connect(input) },
      "standard:disconnect": { version: "1.0.0", disconnect: () => this.disconnect() },
      "standard:events": { version: "1.0.0", on: (event: string, listener: ChangeListener) => this.on(event, listener) },
      "solana:signTransaction": {
        version: "1.0.0",
        supportedTransactionVersions: VERSIONS,
        signTransaction: (...inputs: { account: StandardAccount; transaction: Uint8Array }[]) =>
          this.each(inputs, async (i) => ({ signedTransaction: Uint8Array.from(await this.sign(i, false)) })),
      },
      "solana:signAndSendTransaction": {
        version: "1.0.0",
        supportedTransactionVersions: VERSIONS,
        signAndSendTransaction: (...inputs: { account: StandardAccount; transaction: Uint8Array }[]) =>
          this.each(inputs, async (i) => ({ signature: base58Decode(await this.sign(i, true)) })),
      },
      "solana:signMessage": {
        version: "1.0.0",
        signMessage: (...inputs: { account: StandardAccount; message: Uint8Array }[]) =>
          this.each(inputs, async (i) => {
            this.mine(i.account);
            const request = { kind: "raw_message", message: base64(i.message) };
            const status = await this.session.sign(this.network, request, false);
            return { signedMessage: i.message, signature: Uint8Array.from(status.result!.raw) };
          }),
      },
    };
  }

  private async connect(input?: { silent?: boolean }) {
    if (!this.accounts.length && !input?.silent) {
      await this.session.connect([this.network, ...(this.opts.alsoConnect ?? [])]);
      this.changed();
    }
    return { accounts: this.accounts };
  }

  private async disconnect() {
    if (await this.session.disconnect()) this.changed();
  }

  private on(event: string, listener: ChangeListener): () => void {
    if (event !== "change") return () => {};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed() {
    for (const l of this.listeners) {
      try {
        l({ accounts: this.accounts });
      } catch {
        // a listener's error is its own
      }
    }
  }

  /** One input after the other: each is a request the user approves. */
  private async each<I, O>(inputs: I[], f: (input: I) => Promise<O>): Promise<O[]> {
    const out: O[] = [];
    for (const i of inputs) out.push(await f(i));
    return out;
  }

  private mine(account: StandardAccount) {
    if (account?.address !== this.accounts[0]?.address) {
      throw new ProviderRpcError(4100, `${account?.address} is not the connected account`);
    }
  }

  /** Sign (and send) a transaction the Dapp built: the signed bytes, or the transaction's id. */
  private async sign(input: { account: StandardAccount; transaction: Uint8Array }, send: boolean): Promise<any> {
    this.mine(input.account);
    const request = { kind: "transaction", transaction: base64(input.transaction) };
    const status = await this.session.sign(this.network, request, send);
    return send ? status.broadcast!.tx_id : status.result!.raw;
  }
}

/**
 * Register `wallet` with the page's Dapps as the Wallet Standard says: announce it now
 * (`wallet-standard:register-wallet`), and to every app that says it is ready later
 * (`wallet-standard:app-ready`).
 */
export function registerWallet(wallet: MpcwSolanaWallet): void {
  const w = globalThis as unknown as Window;
  const callback = ({ register }: { register: (wallet: MpcwSolanaWallet) => unknown }) => register(wallet);
  w.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: callback }));
  w.addEventListener("wallet-standard:app-ready", (e) =>
    callback((e as CustomEvent<{ register: (wallet: MpcwSolanaWallet) => unknown }>).detail),
  );
}
