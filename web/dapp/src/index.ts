// @mpcw/dapp: ask mpcw users for signatures through the bridge.

export { DappClient, BridgeError, FINAL, qrDataUrl, qrModules } from "./client.js";
export type { Account, BridgeCreated, BridgeStatus, Connection, Fetch, NetworkInfo } from "./client.js";
export { verifyCallback } from "./callback.js";
export type { BridgeEvent } from "./callback.js";
export { LocalWallet, base58Encode, base58Decode, rlp } from "./local.js";
export type { LocalWasm, WasmLocalKey, EvmTransaction, SolanaTransfer } from "./local.js";
export { bridgeRelay } from "./relay.js";
export type { RelayCall, RelayAnswer, Prompt } from "./relay.js";
export { MpcwEthereumProvider, ProviderRpcError, announceProvider } from "./eip1193.js";
export type { EthereumProviderOptions, KeyValueStore, ProviderInfo } from "./eip1193.js";
