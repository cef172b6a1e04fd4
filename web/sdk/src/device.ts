// The device party: the same engine as the server (compiled to WebAssembly, `web/device`),
// carried through the server's relay. The wasm module is injected: each platform loads it its
// own way (a bundler, `fetch` + `WebAssembly.instantiate`, or a mini-program's loader).

import { Api, Relayed, SigningView, WalletView } from "./api.js";
import { KeyValueStore } from "./storage.js";
import { RecoveryView } from "./api.js";
import {
  Custody,
  custodySecret,
  escrowProof,
  escrowRecovery,
  RecoveryWaiting,
  Sha256,
  wasmSha256,
  webSha256,
} from "./recovery.js";

/** A running protocol session, as the wasm module exports it. */
export interface WasmParty {
  start(): string;
  handle(envelope: string): string;
  isDone(): boolean;
  signature(): string | undefined;
  /** ECDSA: the co-signer that failed an oblivious-transfer check, JSON `{party, reason}`. */
  cheater?(): string | undefined;
  free?(): void;
}

/** The party's secrets inside WebAssembly, as the wasm module exports them. */
export interface WasmSecret {
  publicKeys(): string;
  index(): number | undefined;
  groupKey(): string;
  /** The key's public information, JSON (`public_shares` among it). */
  keyInfo(): string;
  childKey(path: Uint32Array): string;
  seal(label: string, password: string, memoryKib?: number, passes?: number): string;
  keygen(
    session: string,
    me: number,
    roster: string,
    scheme: string,
    threshold: number,
    parties: number,
  ): WasmParty;
  accept(party: WasmParty): void;
  sign(session: string, roster: string, signers: Uint16Array, path: Uint32Array, hash: string | undefined, bytesHex: string): WasmParty;
  reshare(
    session: string,
    me: number,
    roster: string,
    key: string,
    oldSigners: Uint16Array,
    newThreshold: number,
    newParties: number,
  ): WasmParty;
  /** ECDSA: refuse to sign with `party` until a refresh; `false` if it already was. */
  suspend?(party: number, reason: string): boolean;
  /** A statement signed with the party's identity key, base64. */
  signStatement(purpose: string, text: string): string;
  free?(): void;
}

/** The wasm module (`mpcw_device_wasm`, built with wasm-bindgen). */
export interface DeviceWasm {
  DeviceSecret: { new (): WasmSecret; open(sealed: string, password: string): WasmSecret };
  /** A fresh BIP-39 mnemonic of `words` words (12: 128 bits), for recovery codes. */
  generateMnemonic?(words: number): string;
  /** SHA-256 of hex bytes, hex (used where the platform has no Web Crypto). */
  sha256?(bytesHex: string): string;
}

/** Argon2id cost of sealing; the defaults (64 MiB, 3 passes) suit phones and browsers. */
export interface SealCost {
  memoryKib?: number;
  passes?: number;
}

/** Progress as the user should see it: a step name and, while messages flow, a count. */
export type Progress = (step: string, detail?: string) => void;

/** What a new wallet leaves on the device. */
export interface CreatedWallet {
  wallet: WalletView;
  /** The recovery party's secret, sealed under the recovery password: keep it elsewhere. */
  recoverySealed: string;
}

// An idempotency key (not a secret): Web Crypto's randomness where the platform has it.
const randomId = (prefix: string) => {
  const b = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues(b: Uint8Array): Uint8Array } }).crypto;
  if (crypto) crypto.getRandomValues(b);
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  return `${prefix}_${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;
};

/** The storage key of a wallet's sealed device secret. */
export const secretKey = (walletId: string) => `mpcw/wallet/${walletId}/device`;

/** The storage key of a device secret from a resharing the server has not confirmed. */
const pendingKey = (walletId: string) => `mpcw/wallet/${walletId}/device.pending`;

/** The user's device as a party of threshold wallets. */
export class Device {
  constructor(
    readonly api: Api,
    private readonly wasm: DeviceWasm,
    private readonly store: KeyValueStore,
    private readonly cost: SealCost = {},
  ) {}

  /**
   * Make a `threshold`-of-`parties` wallet with the server: the device is party 0, the
   * recovery party is the last, the server takes party 1. The device's secret is sealed under
   * `password` and stored; the recovery party's is sealed under `recoveryPassword` and returned.
   */
  async createWallet(opts: {
    scheme: "ed25519" | "schnorr-bip340" | "ecdsa-secp256k1";
    threshold: number;
    parties: number;
    password: string;
    recoveryPassword: string;
    label?: string;
    progress?: Progress;
  }): Promise<CreatedWallet> {
    const progress = opts.progress ?? (() => {});
    const local = [0, opts.parties - 1];
    const secrets = local.map(() => new this.wasm.DeviceSecret());
    const roster: Record<string, unknown> = {};
    local.forEach((i, k) => (roster[i] = JSON.parse(secrets[k].publicKeys())));
    progress("creating");
    const created = await this.api.createWallet(
      {
        scheme: opts.scheme,
        threshold: opts.threshold,
        parties: opts.parties,
        server_index: 1,
        roster,
        label: opts.label,
      },
      randomId("idem"),
    );
    const fullRoster = JSON.stringify(created.wallet.roster);
    const parties = local.map((i, k) =>
      secrets[k].keygen(created.session.id, i, fullRoster, opts.scheme, opts.threshold, opts.parties),
    );
    progress("keygen");
    await this.run(created.session.id, local, parties, progress);
    await this.waitDone(created.session.id, local[0]);
    parties.forEach((p, k) => secrets[k].accept(p));
    const wallet = await this.api.wallet(created.wallet.id);
    const recoverySealed = await this.keep(wallet, secrets[0], secrets[1], opts.password, opts.recoveryPassword);
    progress("done");
    return { wallet, recoverySealed };
  }

  /**
   * Check that the device and recovery secrets hold shares of `wallet`'s key, store the
   * device's sealed under `password`, and return the recovery's sealed under
   * `recoveryPassword`; both are freed.
   */
  private async keep(
    wallet: WalletView,
    device: WasmSecret,
    recovery: WasmSecret,
    password: string,
    recoveryPassword: string,
  ): Promise<string> {
    try {
      for (const s of [device, recovery]) {
        if (s.groupKey() !== wallet.public_key?.public_key) {
          throw new Error("the server's group key differs from this device's");
        }
      }
      const label = (i: number) => `mpcw/device-share/${wallet.id}/${i}`;
      const { memoryKib, passes } = this.cost;
      const sealed = device.seal(label(0), password, memoryKib, passes);
      await this.store.set(secretKey(wallet.id), JSON.stringify({ wallet, index: 0, sealed }));
      return recovery.seal(label(wallet.parties - 1), recoveryPassword, memoryKib, passes);
    } finally {
      device.free?.();
      recovery.free?.();
    }
  }

  /** The wallets whose sealed device secret is in the store. */
  async wallet(walletId: string): Promise<WalletView | null> {
    const text = await this.store.get(secretKey(walletId));
    return text ? (JSON.parse(text).wallet as WalletView) : null;
  }

  /**
   * Co-sign `request` on `network` with the server: the device's secret is opened with
   * `password` (a wrong one throws before anything is sent), each payload is signed in its
   * session, and the server's finalized result is returned. If the server fails an ECDSA
   * oblivious-transfer check, the device stops signing with it until the wallet is refreshed
   * (DKLs23 requires it): the suspension is sealed into the stored secret.
   */
  async sign(opts: {
    walletId: string;
    network: string;
    request: unknown;
    password: string;
    bridge?: string;
    progress?: Progress;
  }): Promise<SigningView> {
    const progress = opts.progress ?? (() => {});
    const kept = await this.kept(opts.walletId);
    const secret = this.wasm.DeviceSecret.open(kept.sealed, opts.password);
    try {
      const signers = [kept.index, kept.wallet.server_index];
      progress("preparing");
      const started = await this.api.startSigning(
        opts.walletId,
        { network: opts.network, request: opts.request, signers, bridge: opts.bridge },
        randomId("idem"),
      );
      const roster = JSON.stringify(kept.wallet.roster);
      for (const payload of started.payloads) {
        progress("signing", payload.label);
        const party = secret.sign(
          payload.session,
          roster,
          Uint16Array.from(started.signers),
          Uint32Array.from(started.path),
          payload.hash ?? undefined,
          payload.bytes,
        );
        try {
          await this.run(payload.session, [kept.index], [party], progress, payload.messages ?? []);
        } catch (e) {
          await this.suspendCheater(opts.walletId, kept, secret, party, opts.password);
          throw e;
        }
      }
      // The server finalizes once every session is done and stores the outcome: the read waits.
      let view = await this.api.signing(started.id, 5000);
      const last = started.payloads[started.payloads.length - 1];
      if (view.status === "running" && last) {
        // Still running after the wait: follow the session's end through the relay.
        await this.waitDone(last.session, kept.index);
        view = await this.api.signing(started.id);
      }
      if (view.status !== "done") throw new Error(`signing failed: ${view.error ?? view.status}`);
      progress("done");
      return view;
    } finally {
      secret.free?.();
    }
  }

  /** Keep a co-signer's failed oblivious-transfer check in the stored secret. */
  private async suspendCheater(
    walletId: string,
    kept: { wallet: WalletView; index: number; sealed: string },
    secret: WasmSecret,
    party: WasmParty,
    password: string,
  ) {
    const cheater = party.cheater?.();
    if (!cheater || !secret.suspend) return;
    const { party: index, reason } = JSON.parse(cheater) as { party: number; reason: string };
    if (!secret.suspend(index, reason)) return;
    const { memoryKib, passes } = this.cost;
    const sealed = secret.seal(`mpcw/device-share/${walletId}/${kept.index}`, password, memoryKib, passes);
    await this.store.set(secretKey(walletId), JSON.stringify({ ...kept, sealed }));
  }

  /**
   * Refresh: the device and the recovery party get new shares of the same key (same
   * addresses) with the server, and every share from before stops working. Returns the new
   * recovery secret, sealed under `recoveryPassword`.
   */
  async refresh(opts: {
    walletId: string;
    password: string;
    recoverySealed: string;
    recoveryPassword: string;
    progress?: Progress;
  }): Promise<string> {
    const kept = await this.kept(opts.walletId);
    const device = this.wasm.DeviceSecret.open(kept.sealed, opts.password);
    const recovery = this.wasm.DeviceSecret.open(opts.recoverySealed, opts.recoveryPassword);
    return this.reshare(kept.wallet, [device, recovery], true, opts.password, opts.recoveryPassword, opts.progress);
  }

  /**
   * Recover a lost device: with the recovery secret, the server deals the same key to a new
   * device party (fresh identity keys) here; the lost device's share stops working. The new
   * device secret is stored under `password`; the new recovery secret is returned sealed.
   */
  async recover(opts: {
    walletId: string;
    password: string;
    recoverySealed: string;
    recoveryPassword: string;
    /** The recovery announced with `Api.announceRecovery`, when the server holds recoveries back. */
    recovery?: string;
    progress?: Progress;
  }): Promise<string> {
    const wallet = await this.api.wallet(opts.walletId);
    const device = new this.wasm.DeviceSecret();
    const recovery = this.wasm.DeviceSecret.open(opts.recoverySealed, opts.recoveryPassword);
    return this.reshare(wallet, [device, recovery], false, opts.password, opts.recoveryPassword, opts.progress, opts.recovery);
  }

  /**
   * Recover a lost device from the escrowed recovery share: its sealing secret (`custody`: the
   * recovery code, or the passkey's PRF output) fetches and opens it, a recovery is announced
   * (throws `RecoveryWaiting` while the server's delay runs: call again after it), the wallet
   * is dealt to this device (stored under `password`), and the new recovery share is escrowed
   * under the same secret. Returns the wallet.
   */
  async recoverFromEscrow(opts: { walletId: string; password: string; custody: Custody; progress?: Progress }) {
    const secret = custodySecret(opts.custody);
    const opened = await this.api.openEscrow(opts.walletId, await escrowProof(secret, this.sha256));
    const announced = await this.announceRecovery(opts.walletId);
    const sealed = await this.recover({
      walletId: opts.walletId,
      password: opts.password,
      recoverySealed: opened.sealed,
      recoveryPassword: secret,
      recovery: announced.id,
      progress: opts.progress,
    });
    await escrowRecovery(this.api, opts.walletId, sealed, opts.custody, this.sha256);
    return this.api.wallet(opts.walletId);
  }

  /**
   * A recovery of `walletId` that may start now: the one waiting for it (announced earlier,
   * from any device), else a new announcement. Throws `RecoveryWaiting` while the server's
   * delay runs (a device that holds a share may cancel it meanwhile): call again after it.
   */
  async announceRecovery(walletId: string): Promise<RecoveryView> {
    const waiting = (await this.api.recoveries()).find(
      (r) => r.wallet === walletId && r.kind === "recovery" && r.status === "waiting",
    );
    const announced = waiting ?? (await this.api.announceRecovery(walletId));
    if ((announced.not_before ?? 0) > Date.now() / 1000) throw new RecoveryWaiting(announced.id, announced.not_before ?? 0);
    return announced;
  }

  /** Escrow the recovery share `sealed` of `walletId` under `custody` (see `escrowRecovery`). */
  escrow(walletId: string, sealed: string, custody: Custody) {
    return escrowRecovery(this.api, walletId, sealed, custody, this.sha256);
  }

  /** SHA-256 from Web Crypto where the platform has it, else from the wasm module. */
  private get sha256(): Sha256 {
    const subtle = (globalThis as { crypto?: { subtle?: unknown } }).crypto?.subtle;
    if (subtle || !this.wasm.sha256) return webSha256;
    return wasmSha256(this.wasm as { sha256(h: string): string });
  }

  /**
   * Refresh with the escrowed recovery share: every share gets renewed (same addresses), the
   * old ones stop working, and the new recovery share is escrowed under the same secret.
   */
  async refreshFromEscrow(opts: { walletId: string; password: string; custody: Custody; progress?: Progress }) {
    const secret = custodySecret(opts.custody);
    const opened = await this.api.openEscrow(opts.walletId, await escrowProof(secret, this.sha256));
    const sealed = await this.refresh({
      walletId: opts.walletId,
      password: opts.password,
      recoverySealed: opened.sealed,
      recoveryPassword: secret,
      progress: opts.progress,
    });
    await escrowRecovery(this.api, opts.walletId, sealed, opts.custody, this.sha256);
  }

  /**
   * Cancel recovery `recoveryId` of a wallet this device holds (someone else is recovering it):
   * the device's secret, opened with `password`, signs the cancellation.
   */
  async cancelRecovery(opts: { walletId: string; recoveryId: string; password: string }) {
    const kept = await this.kept(opts.walletId);
    const secret = this.wasm.DeviceSecret.open(kept.sealed, opts.password);
    try {
      const signature = secret.signStatement("mpcw/recovery-cancel/v1", `${opts.walletId}/${opts.recoveryId}`);
      return await this.api.cancelRecovery(opts.walletId, opts.recoveryId, kept.index, signature);
    } finally {
      secret.free?.();
    }
  }

  /** Reshare among the device (party 0), the recovery party (the last) and the server. */
  private async reshare(
    wallet: WalletView,
    [device, recovery]: [WasmSecret, WasmSecret],
    refresh: boolean,
    password: string,
    recoveryPassword: string,
    progress: Progress = () => {},
    announced?: string,
  ): Promise<string> {
    const local = [0, wallet.parties - 1];
    const secrets = [device, recovery];
    // A refresh deals from the device; a recovery from the recovery party (the device is new).
    const dealer = refresh ? 0 : wallet.parties - 1;
    const oldSigners = [wallet.server_index, dealer].sort((a, b) => a - b);
    if (wallet.threshold !== 2) throw new Error("the SDK reshares 2-of-n wallets");
    const roster: Record<string, unknown> = {};
    local.forEach((i, k) => (roster[i] = JSON.parse(secrets[k].publicKeys())));
    progress("creating");
    const started = await this.api.startReshare(
      wallet.id,
      {
        old_signers: oldSigners,
        new_threshold: wallet.threshold,
        new_parties: wallet.parties,
        roster,
        ...(announced ? { recovery: announced } : {}),
      },
      randomId("idem"),
    );
    const sessionRoster = JSON.stringify(started.roster);
    const key = JSON.stringify(started.key);
    const parties = local.map((i, k) =>
      secrets[k].reshare(
        started.session.id,
        i,
        sessionRoster,
        key,
        Uint16Array.from(oldSigners),
        wallet.threshold,
        wallet.parties,
      ),
    );
    progress("reshare");
    await this.run(started.session.id, local, parties, progress);
    try {
      await this.waitDone(started.session.id, local[0]);
    } catch (e) {
      // The parties finished, but the server did not confirm that it stored its new share. If
      // it said the session failed, it stored nothing; otherwise keep the new device secret
      // beside the current one, and the next use keeps whichever the server holds.
      if (!/the session failed/.test((e as Error).message ?? "")) {
        parties.forEach((p, k) => secrets[k].accept(p));
        const { memoryKib, passes } = this.cost;
        const pending = {
          wallet,
          index: 0,
          publicShares: (JSON.parse(device.keyInfo()) as { public_shares: string[] }).public_shares,
          sealed: device.seal(`mpcw/device-share/${wallet.id}/0`, password, memoryKib, passes),
        };
        await this.store.set(pendingKey(wallet.id), JSON.stringify(pending));
      }
      throw e;
    }
    parties.forEach((p, k) => secrets[k].accept(p));
    const now = await this.api.wallet(wallet.id);
    const sealed = await this.keep(now, device, recovery, password, recoveryPassword);
    progress("done");
    return sealed;
  }

  private async kept(walletId: string) {
    await this.settlePending(walletId);
    const text = await this.store.get(secretKey(walletId));
    if (!text) throw new Error(`no secret for wallet ${walletId} on this device`);
    return JSON.parse(text) as { wallet: WalletView; index: number; sealed: string };
  }

  /**
   * A device secret from a resharing the server did not confirm: if the server now lists its
   * public shares, it replaces the current one; otherwise it is dropped. (After a replacement
   * the escrowed recovery share is the one from before: refresh to renew it.)
   */
  private async settlePending(walletId: string) {
    const text = await this.store.get(pendingKey(walletId));
    if (!text) return;
    const pending = JSON.parse(text) as { wallet: WalletView; index: number; publicShares: string[]; sealed: string };
    const now = (await this.api.wallet(walletId)) as WalletView & { public_key: { public_shares?: string[] } | null };
    const held = JSON.stringify(now.public_key?.public_shares ?? []) === JSON.stringify(pending.publicShares);
    if (held) {
      await this.store.set(secretKey(walletId), JSON.stringify({ wallet: now, index: pending.index, sealed: pending.sealed }));
    }
    await this.store.remove(pendingKey(walletId));
  }

  /**
   * Run this device's `parties` of `session` through the relay until all are done: post what
   * they send and fetch what is addressed to them in one round trip. `first` is what the server
   * already sent them (from the answer that started the session).
   */
  private async run(session: string, indices: number[], parties: WasmParty[], progress: Progress, first: Relayed[] = []) {
    let outbox: unknown[] = [];
    for (const p of parties) outbox.push(...JSON.parse(p.start()));
    let after = 0;
    let received = 0;
    let batch = first;
    for (;;) {
      for (const m of batch) {
        after = Math.max(after, m.seq);
        received += 1;
        const envelope = JSON.stringify(m.envelope);
        for (const p of parties) outbox.push(...JSON.parse(p.handle(envelope)));
      }
      if (batch.length > 0) progress("messages", String(received));
      if (parties.every((p) => p.isDone())) {
        await this.api.postMessages(session, outbox);
        return;
      }
      const fetched = await this.api.exchange(session, outbox, indices, after, 5000);
      outbox = [];
      if (fetched.status.state === "failed") {
        throw new Error(`the session failed on the server: ${fetched.status.error ?? ""}`);
      }
      if (fetched.messages.length === 0 && fetched.status.state === "done") {
        throw new Error("the server finished the session but this device did not");
      }
      batch = fetched.messages;
    }
  }

  /** Wait until the server ends `session` (its share stored, or its output finalized). */
  private async waitDone(session: string, party: number) {
    for (let i = 0; i < 24; i++) {
      const { status } = await this.api.fetchMessages(session, [party], Number.MAX_SAFE_INTEGER, 5000);
      if (status.state === "done") return;
      if (status.state === "failed") throw new Error(`the session failed on the server: ${status.error ?? ""}`);
    }
    throw new Error("the server did not finish the session within two minutes");
  }
}
