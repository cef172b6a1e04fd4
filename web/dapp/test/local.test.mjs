// Self-custody with the device party's WebAssembly (web/device, built for Node.js): the
// all-"abandon" BIP-39 wallet gives its well-known addresses (Ethereum 0x9858…da94 as MetaMask
// and ethers derive it, Solana HAgk…Kpqk as Phantom and solana-keygen do); a SOL transfer's
// signature is checked by Node's own Ed25519 under the address; the EVM transaction and
// message go to MPCW_RESULTS, where tests/tests/web_sdk.rs has alloy recover their signer.

import test from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createPublicKey, verify } from "node:crypto";
import { LocalWallet, base58Decode, base58Encode, rlp } from "../dist/index.js";

const wasm = createRequire(import.meta.url)("../../device/pkg-node/mpcw_device_wasm.js");
const ABANDON = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

test("a BIP-39 wallet signs in the page with no server", () => {
  const wallet = new LocalWallet(wasm, ABANDON);
  assert.equal(wallet.evmAddress(0), "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
  assert.equal(wallet.solanaAddress(0), "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk");
  assert.notEqual(wallet.evmAddress(1), wallet.evmAddress(0));

  // The codecs against known encodings: RLP's examples from the Ethereum yellow paper's
  // appendix and the wiki ("dog", ["cat","dog"], 1024), base58 round trips with leading zeros.
  const enc = (s) => new TextEncoder().encode(s);
  assert.deepEqual([...rlp(enc("dog"))], [0x83, 0x64, 0x6f, 0x67]);
  assert.deepEqual([...rlp([enc("cat"), enc("dog")])], [0xc8, 0x83, 0x63, 0x61, 0x74, 0x83, 0x64, 0x6f, 0x67]);
  assert.deepEqual([...rlp(Uint8Array.of(0x04, 0x00))], [0x82, 0x04, 0x00]);
  assert.deepEqual([...rlp([])], [0xc0]);
  assert.equal(rlp(new Uint8Array(60)).length, 62);
  assert.deepEqual([...base58Decode(base58Encode(Uint8Array.of(0, 0, 1, 2)))], [0, 0, 1, 2]);
  assert.equal(base58Encode(new Uint8Array(32)), "11111111111111111111111111111111");

  // A wrong checksum word or a new mnemonic.
  assert.throws(() => new LocalWallet(wasm, ABANDON.replace("about", "abandon")), /mnemonic/);
  const fresh = LocalWallet.generate(wasm, 24);
  assert.equal(fresh.mnemonic.split(" ").length, 24);
  assert.notEqual(fresh.wallet.evmAddress(), wallet.evmAddress());

  // SOL: Node's Ed25519 verifies the signature under the sender's address.
  const sol = wallet.signSolanaTransfer({
    to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
    lamports: "1500000",
    recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
  });
  const message = sol.raw.subarray(65);
  const from = message.subarray(4, 36);
  assert.equal(base58Encode(from), wallet.solanaAddress(0));
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(from).toString("base64url") }, format: "jwk" });
  assert.ok(verify(null, message, key, sol.raw.subarray(1, 65)));
  assert.equal(Buffer.from(sol.base64, "base64").length, sol.raw.length);

  // EVM: written for the Rust side to decode and recover with alloy.
  const tx = {
    chainId: 11155111,
    nonce: 3,
    to: "0x3535353535353535353535353535353535353535",
    value: "10000000000000000",
    gas: 21000,
    maxFeePerGas: "0x9502f9000",
    maxPriorityFeePerGas: "1500000000",
  };
  const raw = wallet.signEvmTransaction(tx);
  assert.match(raw, /^0x02f8/);
  const text = "mpcw self-custody";
  const signature = wallet.signEvmMessage(text);
  assert.match(signature, /^0x[0-9a-f]{128}(1b|1c)$/);
  if (process.env.MPCW_RESULTS) {
    writeFileSync(process.env.MPCW_RESULTS, JSON.stringify({ address: wallet.evmAddress(0), raw, tx, text, signature }));
  }
});
