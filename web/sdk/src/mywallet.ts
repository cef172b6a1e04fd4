// "My wallet": one wallet per signature scheme, made together behind one device secret, shown
// as one wallet with an address on every network family. The scheme stays inside: the user
// sees networks, addresses, balances and a send button.

import type { Api, NetworkView, WalletView } from "./api.js";
import type { CreatedWallet, Device, Progress } from "./device.js";

/** The schemes a user's wallet covers: every network family the server has a plugin for. */
export const MY_WALLET_SCHEMES = ["ed25519", "ecdsa-secp256k1", "schnorr-bip340"] as const;

/** The label the wallets of "my wallet" carry. */
export const MY_WALLET_LABEL = "my wallet";

/**
 * Make the user's keys for every scheme, one after another, each 2-of-3 with the server, the
 * device shares sealed under the same `password` (or passkey secret) and the recovery shares
 * under the same `recoveryPassword`. `progress` is told the scheme before each.
 */
export async function createMyWallet(
  device: Device,
  opts: { password: string; recoveryPassword: string; progress?: Progress },
): Promise<CreatedWallet[]> {
  const made: CreatedWallet[] = [];
  for (const scheme of MY_WALLET_SCHEMES) {
    opts.progress?.("creating_keys", scheme);
    made.push(
      await device.createWallet({
        scheme,
        threshold: 2,
        parties: 3,
        password: opts.password,
        recoveryPassword: opts.recoveryPassword,
        label: MY_WALLET_LABEL,
        progress: opts.progress,
      }),
    );
  }
  return made;
}

/** One network of a family, with the wallet's address there. */
export interface FamilyNetwork {
  network: NetworkView;
  walletId: string;
  address: string;
}

/** A network family (one plugin and scheme): its networks, main networks (the family's own first) before test networks. */
export interface Family {
  plugin: string;
  scheme: string;
  networks: FamilyNetwork[];
}

/** The families of `wallets` (the user's, one per scheme), each with its networks' addresses. */
export async function familiesOf(api: Api, wallets: WalletView[]): Promise<Family[]> {
  const chains = await api.networks();
  const byId = new Map(chains.map((n) => [n.id, n]));
  const families = new Map<string, Family>();
  for (const w of wallets) {
    for (const n of await api.addresses(w.id)) {
      const network = byId.get(n.network);
      const address = n.addresses[0]?.value;
      if (!network || !address) continue;
      const key = `${network.plugin}/${network.scheme}`;
      if (!families.has(key)) families.set(key, { plugin: network.plugin, scheme: network.scheme, networks: [] });
      families.get(key)!.networks.push({ network, walletId: w.id, address });
    }
  }
  const list = [...families.values()];
  // Main networks first, the family's own (Ethereum for the EVM family) before the others.
  const rank = (n: FamilyNetwork) => Number(n.network.testnet) * 2 + Number(n.network.id !== n.network.plugin);
  for (const f of list) f.networks.sort((a, b) => rank(a) - rank(b));
  return list;
}

/** `amount` ("0.01") in the network's smallest units ("10000000000000000" for 18 decimals). */
export function toUnits(amount: string, decimals: number): string {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(amount.trim());
  if (!m) throw new Error(`not an amount: ${amount}`);
  const fraction = m[2] ?? "";
  if (fraction.length > decimals) throw new Error(`at most ${decimals} decimals`);
  const units = BigInt(m[1] + fraction.padEnd(decimals, "0"));
  if (units === 0n) throw new Error("the amount is zero");
  return units.toString();
}

/** `units` of the smallest denomination as a decimal amount ("1.5"). */
export function fromUnits(units: bigint | string, decimals: number): string {
  const s = BigInt(units).toString().padStart(decimals + 1, "0");
  const whole = s.slice(0, s.length - decimals);
  const fraction = s.slice(s.length - decimals).replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}

/**
 * A native transfer of `units` to `to` as the network's plugin documents it, for the families
 * whose node the server fills in (nonce, fees, blockhash); null for the others.
 */
export function transferRequest(plugin: string, to: string, units: string): Record<string, unknown> | null {
  switch (plugin) {
    case "ethereum":
    case "conflux":
      return { kind: "transaction", to, value: units };
    case "solana":
      return { kind: "transfer", to, lamports: units };
    default:
      return null;
  }
}

/** The native balance of `address` on `network`, in smallest units, from the server's node; null without one. */
export async function balanceOf(api: Api, network: NetworkView, address: string): Promise<bigint | null> {
  if (!network.node) return null;
  const read = async (method: string, params: unknown[]) => {
    const r = await api.chainRead(network.id, method, params);
    if (r.error) throw new Error(r.error.message);
    return r.result;
  };
  switch (network.plugin) {
    case "ethereum":
      return BigInt((await read("eth_getBalance", [address, "latest"])) as string);
    case "conflux":
      return BigInt((await read("cfx_getBalance", [address])) as string);
    case "solana": {
      const r = (await read("getBalance", [address])) as { value: number };
      return BigInt(r.value);
    }
    default:
      return null;
  }
}

/** The address's latest transactions, newest first, where the node can list them (Solana); null elsewhere. */
export async function recentTransactions(
  api: Api,
  network: NetworkView,
  address: string,
  limit = 5,
): Promise<{ id: string; time: number | null; failed: boolean }[] | null> {
  if (!network.node || network.plugin !== "solana") return null;
  const r = await api.chainRead(network.id, "getSignaturesForAddress", [address, { limit }]);
  if (r.error) throw new Error(r.error.message);
  return ((r.result as { signature: string; blockTime?: number | null; err?: unknown }[]) ?? []).map((s) => ({
    id: s.signature,
    time: s.blockTime ?? null,
    failed: s.err != null,
  }));
}
