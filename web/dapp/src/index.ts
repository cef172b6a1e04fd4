// @mpcw/dapp: ask mpcw users for signatures through the bridge.

export { DappClient, BridgeError, FINAL, qrDataUrl, qrModules } from "./client.js";
export type { Account, BridgeCreated, BridgeStatus, Connection, Fetch } from "./client.js";
export { verifyCallback } from "./callback.js";
export type { BridgeEvent } from "./callback.js";
export { LocalWallet, base58Encode, base58Decode, rlp } from "./local.js";
export type { LocalWasm, WasmLocalKey, EvmTransaction, SolanaTransfer } from "./local.js";
