// @mpcw/dapp: ask mpcw users for signatures through the bridge.

export { DappClient, BridgeError, FINAL, qrDataUrl, qrModules } from "./client.js";
export type { Account, BridgeCreated, BridgeStatus, Connection, Fetch, NetworkInfo } from "./client.js";
export { verifyCallback } from "./callback.js";
export type { BridgeEvent } from "./callback.js";
export { LocalWallet, base58Encode, base58Decode, rlp } from "./local.js";
export type { LocalWasm, WasmLocalKey, EvmTransaction, SolanaTransfer } from "./local.js";
export { bridgeRelay } from "./relay.js";
export type { RelayCall, RelayAnswer, Prompt } from "./relay.js";
export { MpcwEthereumProvider, announceProvider } from "./eip1193.js";
export type { EthereumProviderOptions, ProviderInfo } from "./eip1193.js";
export { ProviderRpcError } from "./session.js";
export type { KeyValueStore, Kept, Show } from "./session.js";
export { RelaySession } from "./session.js";
export type { SessionOptions } from "./session.js";
export { MpcwSolanaWallet, registerWallet } from "./solana.js";
export type { SolanaWalletOptions, StandardAccount } from "./solana.js";
