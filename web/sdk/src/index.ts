// @mpcw/sdk: the device party of mpcw threshold wallets, for browsers, Node.js and
// mini-programs (no DOM in the core; HTTP, storage and the wasm module are injected).

export { Api, ApiError } from "./api.js";
export type {
  Fetch,
  Roster,
  WalletView,
  SigningView,
  PayloadView,
  Messages,
  NetworkView,
  OpenedBridge,
  ConnectionView,
  EscrowView,
  RecoveryView,
  LoginOptions,
} from "./api.js";
export { Device, secretKey } from "./device.js";
export type { DeviceWasm, WasmParty, WasmSecret, SealCost, Progress, CreatedWallet } from "./device.js";
export { MemoryStore, webStorage } from "./storage.js";
export type { KeyValueStore } from "./storage.js";
export { wxFetch, myFetch, wxStorage, myStorage } from "./miniprogram.js";
export type { WxLike, MyLike } from "./miniprogram.js";
export { createPasskey, passkeySecret } from "./passkey.js";
export {
  MY_WALLET_SCHEMES,
  MY_WALLET_LABEL,
  createMyWallet,
  familiesOf,
  toUnits,
  fromUnits,
  transferRequest,
  balanceOf,
  recentTransactions,
} from "./mywallet.js";
export type { Family, FamilyNetwork } from "./mywallet.js";
export { startOidcLogin, finishOidcLogin, pkceChallenge } from "./oidc.js";
export type { OidcProvider, PendingOidcLogin } from "./oidc.js";
export type { Credentials } from "./passkey.js";
export {
  RECOVERY_PASSKEY_LABEL,
  RecoveryWaiting,
  custodySecret,
  escrowProof,
  escrowRecovery,
  escrowVerifier,
  normalizeCode,
  wasmSha256,
  webSha256,
} from "./recovery.js";
export type { Custody, Sha256 } from "./recovery.js";
