// Self-custody: a BIP-39 wallet in the page, signing alone with no server, for users who want
// no threshold wallet. Keys are derived and used inside the device party's WebAssembly module
// (`web/device`, injected like in the device SDK) and freed after each use; this file only
// encodes what is signed: EIP-1559 transactions and EIP-191 messages for EVM networks, SOL
// transfers for Solana.

/** A key inside the wasm module (`LocalKey` of `mpcw_device_wasm`). */
export interface WasmLocalKey {
  publicKey(uncompressed: boolean): string;
  sign(hash: string | undefined, bytesHex: string): string;
  free?(): void;
}

/** What self-custody uses of the wasm module. */
export interface LocalWasm {
  LocalKey: { fromMnemonic(phrase: string, passphrase: string, path: string, scheme: string): WasmLocalKey };
  generateMnemonic(words: number): string;
  keccak256(bytesHex: string): string;
}

/** An EIP-1559 transaction; amounts in wei, as decimal or 0x-hex strings, or bigints. */
export interface EvmTransaction {
  chainId: number | bigint;
  nonce: number | bigint | string;
  to: string;
  value: bigint | string;
  gas: number | bigint | string;
  maxFeePerGas: bigint | string;
  maxPriorityFeePerGas: bigint | string;
  data?: string;
}

/** A SOL transfer; `lamports` as a decimal string or bigint. */
export interface SolanaTransfer {
  to: string;
  lamports: bigint | string;
  recentBlockhash: string;
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
function fromHex(h: string): Uint8Array {
  const s = h.startsWith("0x") ? h.slice(2) : h;
  if (s.length % 2 || /[^0-9a-fA-F]/.test(s)) throw new Error(`not hex: ${h}`);
  return Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
}
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

// Base58 with Bitcoin's alphabet (Solana addresses and blockhashes).
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
export function base58Encode(bytes: Uint8Array): string {
  let n = BigInt("0x" + (toHex(bytes) || "0"));
  let out = "";
  while (n > 0n) (out = B58[Number(n % 58n)] + out), (n /= 58n);
  for (const b of bytes) if (b === 0) out = "1" + out; else break;
  return out;
}
export function base58Decode(text: string): Uint8Array {
  let n = 0n;
  for (const c of text) {
    const d = B58.indexOf(c);
    if (d < 0) throw new Error(`not base58: ${text}`);
    n = n * 58n + BigInt(d);
  }
  const body = n === 0n ? new Uint8Array() : fromHex(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, "0"));
  const zeros = text.length - text.replace(/^1+/, "").length;
  return concat(new Uint8Array(zeros), body);
}

// RLP (Ethereum's recursive length prefix) of bytes and lists.
type Rlp = Uint8Array | Rlp[];
function rlpLength(len: number, offset: number): Uint8Array {
  if (len < 56) return Uint8Array.of(offset + len);
  const l = fromHex(len.toString(16).padStart(Math.ceil(len.toString(16).length / 2) * 2, "0"));
  return concat(Uint8Array.of(offset + 55 + l.length), l);
}
export function rlp(item: Rlp): Uint8Array {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && item[0] < 0x80) return item;
    return concat(rlpLength(item.length, 0x80), item);
  }
  const body = concat(...item.map(rlp));
  return concat(rlpLength(body.length, 0xc0), body);
}
/** An unsigned integer as RLP wants it: big-endian, no leading zeros (0 is empty). */
function quantity(v: number | bigint | string): Uint8Array {
  const n = BigInt(v);
  if (n < 0n) throw new Error("a negative quantity");
  if (n === 0n) return new Uint8Array();
  const h = n.toString(16);
  return fromHex(h.length % 2 ? "0" + h : h);
}
const stripZeros = (b: Uint8Array) => {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
};

/** A BIP-39 wallet in the page. */
export class LocalWallet {
  /** A new wallet with a fresh mnemonic (show it to the user to write down). */
  static generate(wasm: LocalWasm, words = 12): { wallet: LocalWallet; mnemonic: string } {
    const mnemonic = wasm.generateMnemonic(words);
    return { wallet: new LocalWallet(wasm, mnemonic), mnemonic };
  }

  /** The wallet of `phrase` (checked: a wrong word or checksum throws) and `passphrase`. */
  constructor(
    private readonly wasm: LocalWasm,
    private readonly phrase: string,
    private readonly passphrase = "",
  ) {
    this.with("m/44'/60'/0'/0/0", "ecdsa-secp256k1", () => undefined);
  }

  private with<T>(path: string, scheme: string, f: (k: WasmLocalKey) => T): T {
    const key = this.wasm.LocalKey.fromMnemonic(this.phrase, this.passphrase, path, scheme);
    try {
      return f(key);
    } finally {
      key.free?.();
    }
  }

  private evm<T>(index: number, f: (k: WasmLocalKey) => T): T {
    return this.with(`m/44'/60'/0'/0/${index}`, "ecdsa-secp256k1", f);
  }

  /** The EVM address at m/44'/60'/0'/0/`index`, EIP-55 checksummed. */
  evmAddress(index = 0): string {
    const point = this.evm(index, (k) => k.publicKey(true));
    const address = this.wasm.keccak256(point.slice(2)).slice(24);
    const hash = this.wasm.keccak256(toHex(new TextEncoder().encode(address)));
    const mixed = [...address].map((c, i) => (parseInt(hash[i], 16) >= 8 ? c.toUpperCase() : c)).join("");
    return `0x${mixed}`;
  }

  /** The Solana address at m/44'/501'/`account`'/0' (Phantom's and solana-keygen's). */
  solanaAddress(account = 0): string {
    return base58Encode(fromHex(this.with(`m/44'/501'/${account}'/0'`, "ed25519", (k) => k.publicKey(false))));
  }

  /** Sign an EIP-1559 transaction; the raw signed transaction, 0x-hex, to broadcast. */
  signEvmTransaction(tx: EvmTransaction, index = 0): string {
    const fields: Rlp[] = [
      quantity(tx.chainId),
      quantity(tx.nonce),
      quantity(tx.maxPriorityFeePerGas),
      quantity(tx.maxFeePerGas),
      quantity(tx.gas),
      fromHex(tx.to),
      quantity(tx.value),
      fromHex(tx.data ?? "0x"),
      [],
    ];
    if (fromHex(tx.to).length !== 20) throw new Error("`to` is not a 20-byte address");
    const payload = concat(Uint8Array.of(2), rlp(fields));
    const sig = JSON.parse(this.evm(index, (k) => k.sign("keccak256", toHex(payload))));
    const rs = fromHex(sig.bytes);
    const signed = [...fields, quantity(sig.recovery_id), stripZeros(rs.subarray(0, 32)), stripZeros(rs.subarray(32))];
    return `0x${toHex(concat(Uint8Array.of(2), rlp(signed)))}`;
  }

  /** Sign a message as `personal_sign` does (EIP-191); r ‖ s ‖ v (27 or 28), 0x-hex. */
  signEvmMessage(message: string | Uint8Array, index = 0): string {
    const bytes = typeof message === "string" ? new TextEncoder().encode(message) : message;
    const prefixed = concat(new TextEncoder().encode(`\x19Ethereum Signed Message:\n${bytes.length}`), bytes);
    const sig = JSON.parse(this.evm(index, (k) => k.sign("keccak256", toHex(prefixed))));
    return `0x${sig.bytes}${(27 + sig.recovery_id).toString(16)}`;
  }

  /** Sign a SOL transfer from the account's address: the signed legacy transaction. */
  signSolanaTransfer(t: SolanaTransfer, account = 0): { raw: Uint8Array; base64: string; signature: string } {
    const path = `m/44'/501'/${account}'/0'`;
    const from = fromHex(this.with(path, "ed25519", (k) => k.publicKey(false)));
    const to = base58Decode(t.to);
    const blockhash = base58Decode(t.recentBlockhash);
    if (to.length !== 32 || blockhash.length !== 32) throw new Error("a Solana address or blockhash is 32 bytes");
    const lamports = BigInt(t.lamports);
    if (lamports < 0n || lamports >= 1n << 64n) throw new Error("lamports out of range");
    // The System program's Transfer: instruction 2 (u32 LE), then lamports (u64 LE).
    const data = new Uint8Array(12);
    const view = new DataView(data.buffer);
    view.setUint32(0, 2, true);
    view.setBigUint64(4, lamports, true);
    const message = concat(
      Uint8Array.of(1, 0, 1), // one signer (writable), no read-only signers, one read-only account
      Uint8Array.of(3), from, to, new Uint8Array(32), // accounts: payer, recipient, System program
      blockhash,
      Uint8Array.of(1, 2, 2, 0, 1, data.length), data, // one instruction: program 2, accounts [0, 1]
    );
    const sig = JSON.parse(this.with(path, "ed25519", (k) => k.sign(undefined, toHex(message))));
    const raw = concat(Uint8Array.of(1), fromHex(sig.bytes), message);
    const b64 = btoa(String.fromCharCode(...raw));
    return { raw, base64: b64, signature: base58Encode(fromHex(sig.bytes)) };
  }
}
