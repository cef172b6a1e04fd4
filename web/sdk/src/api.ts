// The signing server's HTTP API, as the device uses it. `fetch` is injected: browsers and
// Node.js pass their own, a WeChat or Alipay mini-program passes a wrapper over wx.request or
// my.request. Nothing here touches the DOM.

/** A `fetch` as the platform provides it (only what the SDK uses). */
export type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; text(): Promise<string> }>;

/** The server refused or failed: its status, stable error code and message. */
/** `GET /v1/auth/providers`. */
export interface LoginOptions {
  dev_login: boolean;
  oidc: { name: string; label: string; authorization_endpoint: string; client_id: string; scope: string }[];
  wechat: boolean;
  alipay: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** A party's public identity keys, as the server's roster holds them. */
export type PartyPublicKeys = Record<string, unknown>;
/** Party index → public keys. */
export type Roster = Record<string, PartyPublicKeys>;

/** A wallet as the server shows it. */
export interface WalletView {
  id: string;
  label: string;
  scheme: string;
  threshold: number;
  parties: number;
  server_index: number;
  roster: Roster;
  status: string;
  public_key: { public_key: string; chain_code: string } | null;
  error: string | null;
}

/** A network of the server's registry. */
export interface NetworkView {
  id: string;
  name: string;
  plugin: string;
  scheme: string;
  chain_id: string | number | null;
  symbol: string;
  decimals: number;
  derivation_path: string;
  testnet: boolean;
  /** Whether the server has the network's node (balances, fill-in, broadcast). */
  node?: boolean;
}

/** One payload of a signing request. */
export interface PayloadView {
  scheme: string;
  hash: string | null;
  bytes: string;
  label: string;
  session: string;
  /** In the answer that starts a signing: the server's first messages of this session. */
  messages?: Relayed[];
}

/** A signing request. */
export interface SigningView {
  id: string;
  wallet_id: string;
  network: string;
  status: string;
  summary: { title: string; [k: string]: unknown };
  payloads: PayloadView[];
  signers: number[];
  path: number[];
  result: { raw: number[]; encoded: string; encoding: string; id: string } | null;
  signatures: { scheme: string; bytes: number[]; recovery_id: number | null }[];
  error: string | null;
}

/** A bridge request as the signer sees it once opened. */
export interface OpenedBridge {
  id: string;
  dapp: string;
  dapp_name: string;
  action: "sign" | "connect";
  network: string;
  networks?: string[];
  request: unknown;
  expires_at: number;
  connection?: string;
  /** Fields the server filled in from the network's node (already in `request`): show them. */
  filled?: { field: string; value: unknown }[];
  /** Whether the signed transaction goes to the network once approved. */
  broadcast?: boolean;
  wallet?: string;
  summary?: { title: string; [k: string]: unknown };
}

/** A Dapp's connection to the user's accounts. */
export interface ConnectionView {
  id: string;
  dapp: string;
  status: "active" | "revoked" | "expired";
  accounts: { network: string; wallet_id: string; address: string }[];
  created_at: number;
  expires_at: number;
  revoked_at?: number;
}

/** How a wallet's recovery share is escrowed with the server (never the sealed text). */
export interface EscrowView {
  wallet: string;
  method: "passkey" | "code";
  credential_id: string | null;
  created_at: number;
  updated_at: number;
}

/** One entry of the user's record of escrow use, recoveries and refreshes. */
export interface RecoveryView {
  id: string;
  wallet: string;
  kind: "escrow_saved" | "escrow_opened" | "escrow_refused" | "recovery" | "refresh";
  status: "done" | "refused" | "waiting" | "started" | "failed" | "cancelled";
  client: string | null;
  not_before: number | null;
  created_at: number;
  updated_at: number;
}

/** A relayed message and the session's status. */
/** A relayed envelope with its sequence number. */
export interface Relayed {
  seq: number;
  envelope: unknown;
}

export interface Messages {
  messages: Relayed[];
  status: { id: string; kind: string; state: string; error: string | null };
}

/** The API client: a base URL, an access token once logged in. */
export class Api {
  private token?: string;

  constructor(
    readonly base: string,
    private readonly fetch: Fetch,
  ) {
    this.base = base.replace(/\/+$/, "");
  }

  /** Use `token` from now on. */
  setToken(token: string): void {
    this.token = token;
  }

  private async call<T>(method: string, path: string, body?: unknown, idem?: string): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers["authorization"] = `Bearer ${this.token}`;
    if (idem) headers["idempotency-key"] = idem;
    const r = await this.fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json: any = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: reported below
    }
    if (r.status >= 200 && r.status < 300) return json as T;
    throw new ApiError(r.status, json?.error?.code ?? "unknown", json?.error?.message ?? text);
  }

  /** `POST /v1/auth/dev`: log in by subject (development servers only). */
  async devLogin(subject: string, dapp?: string): Promise<string> {
    const t = await this.call<{ access_token: string }>("POST", "/v1/auth/dev", { subject, dapp });
    this.setToken(t.access_token);
    return t.access_token;
  }

  /** `GET /v1/auth/providers`: how users can log in on this server. */
  loginOptions() {
    return this.call<LoginOptions>("GET", "/v1/auth/providers");
  }

  /**
   * `POST /v1/auth/oidc/code`: finish an authorization code flow with PKCE (see
   * `startOidcLogin`): the server redeems `code` with `codeVerifier` and logs in with the ID
   * token the provider gives.
   */
  async oidcCodeLogin(opts: {
    provider: string;
    code: string;
    codeVerifier: string;
    redirectUri: string;
    dapp?: string;
  }): Promise<string> {
    const t = await this.call<{ access_token: string }>("POST", "/v1/auth/oidc/code", {
      provider: opts.provider,
      code: opts.code,
      code_verifier: opts.codeVerifier,
      redirect_uri: opts.redirectUri,
      dapp: opts.dapp,
    });
    this.setToken(t.access_token);
    return t.access_token;
  }

  /**
   * `POST /v1/auth/oidc/nonce`: a login nonce for `dapp` (or for none). Pass it to the identity
   * provider as the authentication request's `nonce`; the ID token it returns then logs in for
   * that Dapp only.
   */
  async oidcNonce(dapp?: string): Promise<string> {
    return (await this.call<{ nonce: string; expires_at: number }>("POST", "/v1/auth/oidc/nonce", { dapp })).nonce;
  }

  /** `POST /v1/auth/oidc`: log in with an OpenID Connect ID token carrying a nonce from `oidcNonce(dapp)`. */
  async oidcLogin(provider: string, idToken: string, dapp?: string): Promise<string> {
    const t = await this.call<{ access_token: string }>("POST", "/v1/auth/oidc", {
      provider,
      id_token: idToken,
      dapp,
    });
    this.setToken(t.access_token);
    return t.access_token;
  }

  /**
   * `POST /v1/bridge/open`: use a bridge request's token (from its link or QR code). A signing
   * request (`action` `sign`) comes with the plugin's summary for `wallet` (or, if it names a
   * connection, for the connection's wallet, which must sign it): show it before approving. A
   * connect request (`action` `connect`) lists the `networks` asked for: approve it with
   * `connectBridge`.
   */
  /**
   * `POST /v1/bridge/peek`: which Dapp, network and action a token's request is for, without
   * using the token (a mini-program opened by a code learns which Dapp to log in for).
   */
  peekBridge(token: string) {
    return this.call<{ dapp: string; dapp_name: string; network: string; action: string; expires_at: number }>(
      "POST",
      "/v1/bridge/peek",
      { token },
    );
  }

  openBridge(token: string, wallet?: string) {
    return this.call<OpenedBridge>("POST", "/v1/bridge/open", { token, wallet });
  }

  /** `POST /v1/bridge/requests/{id}/reject`, with the user's reason. */
  rejectBridge(id: string, reason?: string) {
    return this.call<unknown>("POST", `/v1/bridge/requests/${encodeURIComponent(id)}/reject`, { reason });
  }

  /**
   * `POST /v1/bridge/requests/{id}/connect`: approve a connect request with the user's wallets,
   * one per scheme the networks asked for need. The Dapp gets the connection.
   */
  async connectBridge(id: string, wallets: string[]): Promise<ConnectionView> {
    const view = await this.call<{ connection: ConnectionView }>(
      "POST",
      `/v1/bridge/requests/${encodeURIComponent(id)}/connect`,
      { wallets },
    );
    return view.connection;
  }

  /** The caller's connections to the Dapp they logged in for, newest first. */
  async connections(): Promise<ConnectionView[]> {
    return (await this.call<{ connections: ConnectionView[] }>("GET", "/v1/connections")).connections;
  }

  /** Revoke one of the caller's connections: the Dapp's requests naming it are refused. */
  revokeConnection(id: string) {
    return this.call<ConnectionView>("DELETE", `/v1/connections/${encodeURIComponent(id)}`);
  }

  /** The networks the server serves, with the signature scheme each one needs. */
  async networks(): Promise<NetworkView[]> {
    return (await this.call<{ networks: NetworkView[] }>("GET", "/v1/chains")).networks;
  }

  /** The caller's wallets. */
  async wallets(): Promise<WalletView[]> {
    return (await this.call<{ wallets: WalletView[] }>("GET", "/v1/wallets")).wallets;
  }

  /** A wallet's addresses on every network of its scheme. */
  async addresses(walletId: string): Promise<{ network: string; name: string; addresses: { kind: string; value: string }[] }[]> {
    const r = await this.call<{ networks: { network: string; name: string; addresses: { kind: string; value: string }[] }[] }>(
      "GET",
      `/v1/wallets/${encodeURIComponent(walletId)}/addresses`,
    );
    return r.networks;
  }

  createWallet(body: unknown, idem: string) {
    return this.call<{ wallet: WalletView; session: { id: string } }>("POST", "/v1/wallets", body, idem);
  }

  wallet(id: string) {
    return this.call<WalletView>("GET", `/v1/wallets/${encodeURIComponent(id)}`);
  }

  startReshare(walletId: string, body: unknown, idem: string) {
    return this.call<{ wallet: WalletView; session: { id: string }; roster: Roster; key: unknown }>(
      "POST",
      `/v1/wallets/${encodeURIComponent(walletId)}/reshare`,
      body,
      idem,
    );
  }

  /** Escrow the recovery share sealed under a passkey's PRF output or a recovery code. */
  putEscrow(walletId: string, body: { method: "passkey" | "code"; credential_id?: string; verifier: string; sealed: string }) {
    return this.call<EscrowView>("PUT", `/v1/wallets/${encodeURIComponent(walletId)}/escrow`, body);
  }

  /** How the wallet's recovery share is escrowed; `null` if it is not. */
  async escrow(walletId: string): Promise<EscrowView | null> {
    try {
      return await this.call<EscrowView>("GET", `/v1/wallets/${encodeURIComponent(walletId)}/escrow`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  /** The escrowed sealed share, for the proof (wrong proofs are refused and limited). */
  openEscrow(walletId: string, proof: string) {
    return this.call<EscrowView & { sealed: string }>(
      "POST",
      `/v1/wallets/${encodeURIComponent(walletId)}/escrow/open`,
      { proof },
    );
  }

  /** Announce a recovery of the wallet by a new device. */
  announceRecovery(walletId: string) {
    return this.call<RecoveryView>("POST", `/v1/wallets/${encodeURIComponent(walletId)}/recoveries`, {});
  }

  /** Cancel an announced recovery with a statement signed by a party's identity key. */
  cancelRecovery(walletId: string, recoveryId: string, party: number, signature: string) {
    return this.call<RecoveryView>(
      "POST",
      `/v1/wallets/${encodeURIComponent(walletId)}/recoveries/${encodeURIComponent(recoveryId)}/cancel`,
      { party, signature },
    );
  }

  /** The user's record of escrow use, recoveries and refreshes, newest first. */
  recoveries() {
    return this.call<RecoveryView[]>("GET", "/v1/recoveries");
  }

  startSigning(walletId: string, body: unknown, idem: string) {
    return this.call<SigningView>("POST", `/v1/wallets/${encodeURIComponent(walletId)}/signatures`, body, idem);
  }

  /**
   * `POST /v1/wallets/{id}/preview`: `request` with what the network's node fills in (the
   * wallet's own address as the sender) and the plugin's summary, before anything is signed.
   * Sign the returned `request`.
   */
  preview(walletId: string, network: string, request: unknown) {
    return this.call<{ request: unknown; filled: { field: string; value: unknown }[]; summary: { title: string; [k: string]: unknown }; broadcastable: boolean }>(
      "POST",
      `/v1/wallets/${encodeURIComponent(walletId)}/preview`,
      { network, request },
    );
  }

  /** `POST /v1/signatures/{id}/broadcast`: send a finished signing's transaction; the node's transaction id. */
  broadcast(signingId: string) {
    return this.call<{ network: string; tx_id: string }>("POST", `/v1/signatures/${encodeURIComponent(signingId)}/broadcast`);
  }

  /** `POST /v1/networks/{network}/rpc`: a read of the chain through the server's node (its JSON-RPC answer). */
  chainRead(network: string, method: string, params: unknown[] = []) {
    return this.call<{ result?: unknown; error?: { code: number; message: string } }>(
      "POST",
      `/v1/networks/${encodeURIComponent(network)}/rpc`,
      { method, params },
    );
  }

  /** `GET /v1/signatures/{id}`; with `waitMs`, wait that long for a running request to end. */
  signing(id: string, waitMs = 0) {
    const q = waitMs > 0 ? `?wait_ms=${waitMs}` : "";
    return this.call<SigningView>("GET", `/v1/signatures/${encodeURIComponent(id)}${q}`);
  }

  async postMessages(session: string, envelopes: unknown[]): Promise<void> {
    for (let i = 0; i < envelopes.length; i += 200) {
      await this.call("POST", `/v1/sessions/${encodeURIComponent(session)}/messages`, envelopes.slice(i, i + 200));
    }
  }

  /**
   * Post `envelopes`, then fetch for `parties` as `fetchMessages` does, in one round trip (the
   * last one, if there are more than 200 envelopes).
   */
  async exchange(session: string, envelopes: unknown[], parties: number[], after: number, waitMs: number) {
    if (envelopes.length === 0) return this.fetchMessages(session, parties, after, waitMs);
    const last = Math.floor((envelopes.length - 1) / 200) * 200;
    await this.postMessages(session, envelopes.slice(0, last));
    const q = `parties=${parties.join(",")}&after=${after}&wait_ms=${waitMs}`;
    return this.call<Messages>("POST", `/v1/sessions/${encodeURIComponent(session)}/messages?${q}`, envelopes.slice(last));
  }

  fetchMessages(session: string, parties: number[], after: number, waitMs: number) {
    const q = `parties=${parties.join(",")}&after=${after}&wait_ms=${waitMs}`;
    return this.call<Messages>("GET", `/v1/sessions/${encodeURIComponent(session)}/messages?${q}`);
  }
}
