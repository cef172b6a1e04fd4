//! The Bitcoin plugin: BIP-84, BIP-86 and Base58Check addresses; BIP-143's native P2WPKH
//! example and BIP-341's key-path vector through the sandboxed plugin; then 2-of-3 ECDSA and
//! BIP-340 wallets signing P2WPKH, P2PKH and Taproot inputs of PSBTs built by rust-bitcoin,
//! each signed input checked by libbitcoinconsensus, Bitcoin Core's own script interpreter.

use std::str::FromStr;

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::psbt::{Psbt, PsbtSighashType};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use k256::ecdsa::SigningKey;
use mpcw_engine::Scheme;
use mpcw_host::chains::Registry;
use mpcw_host::plugin::{wit, Error};
use mpcw_tests::{network, runtime, unhex, Wallet};
use sha2::{Digest, Sha256};

fn key(scheme: wit::Scheme, hex_key: &str) -> wit::PublicKey {
    wit::PublicKey {
        scheme,
        bytes: unhex(hex_key),
        view_key: None,
    }
}

fn addresses(id: &str, key: &wit::PublicKey) -> Vec<(String, String)> {
    runtime()
        .addresses("bitcoin", key, &network(id))
        .unwrap()
        .into_iter()
        .map(|a| (a.kind, a.value))
        .collect()
}

/// BIP-84's first receiving address, BIP-86's first two receiving and first change addresses,
/// and the P2PKH address of the Bitcoin wiki's "Technical background of version 1 Bitcoin
/// addresses" key.
#[test]
fn bip84_bip86_and_base58check_addresses() {
    let ecdsa = key(
        wit::Scheme::EcdsaSecp256k1,
        "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c",
    );
    assert_eq!(
        addresses("bitcoin", &ecdsa)[0],
        (
            "p2wpkh".into(),
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu".into()
        )
    );
    let wiki = key(
        wit::Scheme::EcdsaSecp256k1,
        "0250863ad64a87ae8a2fe83c1af1a8403cb53f53e486d8511dad8a04887e5b2352",
    );
    assert_eq!(
        addresses("bitcoin", &wiki)[1],
        ("p2pkh".into(), "1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs".into())
    );
    for (internal, address) in [
        (
            "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115",
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
        ),
        (
            "83dfe85a3151d2517290da461fe2815591ef69f2b18a2ce63f01697a8b313145",
            "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh",
        ),
        (
            "399f1b2f4393f29a18c937859c5dd8a77350103157eb880f02e8c08214277cef",
            "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7",
        ),
    ] {
        let k = key(wit::Scheme::SchnorrBip340, &format!("02{internal}"));
        assert_eq!(
            addresses("bitcoin-taproot", &k),
            vec![("p2tr".to_string(), address.to_string())]
        );
    }
    // The same keys on test networks, read back by rust-bitcoin.
    let testnet = addresses("bitcoin-testnet", &ecdsa);
    let regtest = addresses("bitcoin-regtest", &ecdsa);
    for (list, net) in [
        (&testnet, bitcoin::Network::Testnet),
        (&regtest, bitcoin::Network::Regtest),
    ] {
        for (_, a) in list {
            bitcoin::Address::from_str(a)
                .unwrap()
                .require_network(net)
                .unwrap();
        }
    }
    assert!(testnet[0].1.starts_with("tb1q") && regtest[0].1.starts_with("bcrt1q"));
}

/// BIP-143, "Native P2WPKH": the preimage and signature of the second input, then the signed
/// transaction once the first (P2PK) input's scriptSig is added.
#[test]
fn bip143_native_p2wpkh_example() {
    let runtime = runtime();
    let net = network("bitcoin");
    let tx: Transaction = deserialize(&unhex("0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac11000000")).unwrap();
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    psbt.inputs[0].witness_utxo = Some(TxOut {
        value: Amount::from_sat(625_000_000),
        script_pubkey: ScriptBuf::from_bytes(unhex(
            "2103c9f4836b9a4f77fc0d81f7bcb01b7f1b35916864b9476c241ce9fc198bd25432ac",
        )),
    });
    psbt.inputs[1].witness_utxo = Some(TxOut {
        value: Amount::from_sat(600_000_000),
        script_pubkey: ScriptBuf::from_bytes(unhex("00141d0f172a0ecb48aee1be1f2687d2963ae33f71a1")),
    });
    let secret = SigningKey::from_slice(&unhex(
        "619c335025c7f4012e556c2a58b2506e30b8511b53ade95ea316fd8c3286feb9",
    ))
    .unwrap();
    let wallet = key(
        wit::Scheme::EcdsaSecp256k1,
        "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357",
    );

    let request = serde_json::json!({"kind": "psbt", "psbt": psbt.to_string()}).to_string();
    let prepared = runtime.prepare("bitcoin", &request, &wallet, &net).unwrap();
    let [payload] = prepared.payloads.as_slice() else {
        panic!("only the P2WPKH input is the wallet's")
    };
    assert_eq!(payload.hash, wit::MessageHash::DoubleSha256);
    assert_eq!(payload.bytes, unhex("0100000096b827c8483d4e9b96712b6713a7b68d6e8003a781feba36c31143470b4efd3752b0a642eea2fb7ae638c36f6252b6750293dbe574a806984b8e4d8548339a3bef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a010000001976a9141d0f172a0ecb48aee1be1f2687d2963ae33f71a188ac0046c32300000000ffffffff863ef3e1a92afbfdb97f31ad0fc7683ee943e9abcf2501590ff8f6551f47e5e51100000001000000"));
    let digest = Sha256::digest(Sha256::digest(&payload.bytes));
    assert_eq!(
        hex::encode(digest),
        "c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670"
    );
    // The example's amounts: 12.25 BTC in, 3.3579 BTC out.
    assert_eq!(prepared.summary.fee.as_deref(), Some("8.8921 BTC"));
    assert!(prepared.summary.warnings.iter().any(|w| w.contains("fee")));

    let (sig, recid) = secret.sign_prehash_recoverable(&digest).unwrap();
    let signature = wit::Signature {
        scheme: wit::Scheme::EcdsaSecp256k1,
        bytes: sig.to_bytes().to_vec(),
        recovery_id: Some(recid.to_byte()),
    };
    let der = "304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee01";
    // The P2PK input is not the wallet's: the PSBT comes back with a partial signature.
    let partial = runtime
        .finalize(
            "bitcoin",
            &request,
            &wallet,
            &net,
            std::slice::from_ref(&signature),
        )
        .unwrap();
    assert_eq!(partial.encoding, "base64");
    let back = Psbt::from_str(&partial.encoded).unwrap();
    let (pk, sig) = back.inputs[1].partial_sigs.iter().next().unwrap();
    assert_eq!(
        pk.to_string(),
        "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357"
    );
    assert_eq!(hex::encode(sig.to_vec()), der);

    // With the first input's scriptSig from the example, the plugin completes the transaction.
    psbt.inputs[0].final_script_sig = Some(ScriptBuf::from_bytes(unhex("4830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01")));
    let request = serde_json::json!({"kind": "psbt", "psbt": psbt.to_string()}).to_string();
    let signed = runtime
        .finalize("bitcoin", &request, &wallet, &net, &[signature])
        .unwrap();
    assert_eq!(signed.encoded, "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000494830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000");
    let decoded: Transaction = deserialize(&signed.raw).unwrap();
    assert_eq!(signed.id, decoded.compute_txid().to_string());
}

/// BIP-341's wallet test vectors (bip-0341/wallet-test-vectors.json, also Bitcoin Core's
/// src/test/data/bip341_wallet_vectors.json), keyPathSpending input 0: the one input without a
/// script tree, signed with SIGHASH_SINGLE.
#[test]
fn bip341_key_path_vector() {
    let runtime = runtime();
    let net = network("bitcoin-taproot");
    let tx: Transaction = deserialize(&unhex("02000000097de20cbff686da83a54981d2b9bab3586f4ca7e48f57f5b55963115f3b334e9c010000000000000000d7b7cab57b1393ace2d064f4d4a2cb8af6def61273e127517d44759b6dafdd990000000000fffffffff8e1f583384333689228c5d28eac13366be082dc57441760d957275419a418420000000000fffffffff0689180aa63b30cb162a73c6d2a38b7eeda2a83ece74310fda0843ad604853b0100000000feffffffaa5202bdf6d8ccd2ee0f0202afbbb7461d9264a25e5bfd3c5a52ee1239e0ba6c0000000000feffffff956149bdc66faa968eb2be2d2faa29718acbfe3941215893a2a3446d32acd050000000000000000000e664b9773b88c09c32cb70a2a3e4da0ced63b7ba3b22f848531bbb1d5d5f4c94010000000000000000e9aa6b8e6c9de67619e6a3924ae25696bb7b694bb677a632a74ef7eadfd4eabf0000000000ffffffffa778eb6a263dc090464cd125c466b5a99667720b1c110468831d058aa1b82af10100000000ffffffff0200ca9a3b000000001976a91406afd46bcdfd22ef94ac122aa11f241244a37ecc88ac807840cb0000000020ac9a87f5594be208f8532db38cff670c450ed2fea8fcdefcc9a663f78bab962b0065cd1d")).unwrap();
    let utxos = [
        (
            "512053a1f6e454df1aa2776a2814a721372d6258050de330b3c6d10ee8f4e0dda343",
            420000000,
        ),
        (
            "5120147c9c57132f6e7ecddba9800bb0c4449251c92a1e60371ee77557b6620f3ea3",
            462000000,
        ),
        (
            "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac",
            294000000,
        ),
        (
            "5120e4d810fd50586274face62b8a807eb9719cef49c04177cc6b76a9a4251d5450e",
            504000000,
        ),
        (
            "512091b64d5324723a985170e4dc5a0f84c041804f2cd12660fa5dec09fc21783605",
            630000000,
        ),
        ("00147dd65592d0ab2fe0d0257d571abf032cd9db93dc", 378000000),
        (
            "512075169f4001aa68f15bbed28b218df1d0a62cbbcf1188c6665110c293c907b831",
            672000000,
        ),
        (
            "5120712447206d7a5238acc7ff53fbe94a3b64539ad291c7cdbc490b7577e4b17df5",
            546000000,
        ),
        (
            "512077e30a5522dd9f894c3f8b8bd4c4b2cf82ca7da8a3ea6a239655c39c050ab220",
            588000000,
        ),
    ];
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    for (input, (script, sats)) in psbt.inputs.iter_mut().zip(utxos) {
        input.witness_utxo = Some(TxOut {
            value: Amount::from_sat(sats),
            script_pubkey: ScriptBuf::from_bytes(unhex(script)),
        });
    }
    psbt.inputs[0].sighash_type = Some(PsbtSighashType::from_u32(3));
    let wallet = key(
        wit::Scheme::SchnorrBip340,
        "02d6889cb081036e0faefa3a35157ad71086b123b2b144b649798b494c300a961d",
    );
    let request = serde_json::json!({"kind": "psbt", "psbt": psbt.to_string()}).to_string();
    let prepared = runtime.prepare("bitcoin", &request, &wallet, &net).unwrap();
    let [payload] = prepared.payloads.as_slice() else {
        panic!("input 0 is the only one with this key")
    };
    assert_eq!(payload.scheme, wit::Scheme::SchnorrBip340);
    assert_eq!(
        hex::encode(&payload.bytes),
        "2514a6272f85cfa0f45eb907fcb0d121b808ed37c6ea160a5a9046ed5526d555"
    );
    assert!(prepared
        .summary
        .warnings
        .iter()
        .any(|w| w.contains("SIGHASH_SINGLE")));

    // The vector's tweaked private key signs (BIP-340 with all-zero auxiliary randomness, as
    // the vector's witness was made); the plugin checks it under the output key it derived.
    let tweaked = k256::schnorr::SigningKey::from_bytes(&unhex(
        "2405b971772ad26915c8dcdf10f238753a9b837e5f8e6a86fd7c0cce5b7296d9",
    ))
    .unwrap();
    let sig = tweaked.sign_raw(&payload.bytes, &[0u8; 32]).unwrap();
    let signature = wit::Signature {
        scheme: wit::Scheme::SchnorrBip340,
        bytes: sig.to_bytes().to_vec(),
        recovery_id: None,
    };
    let out = runtime
        .finalize("bitcoin", &request, &wallet, &net, &[signature])
        .unwrap();
    let back = Psbt::from_str(&out.encoded).unwrap();
    assert_eq!(
        hex::encode(back.inputs[0].tap_key_sig.unwrap().to_vec()),
        "ed7c1647cb97379e76892be0cacff57ec4a7102aa24296ca39af7541246d8ff14d38958d4cc1e2e478e4d4a764bbfd835b16d4e314b72937b29833060b87276c03"
    );
}

/// A previous transaction paying `value` to each of `scripts`, to spend from.
fn funding(scripts: &[ScriptBuf], value: u64) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_str(&"11".repeat(32)).unwrap(), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: scripts
            .iter()
            .map(|s| TxOut {
                value: Amount::from_sat(value),
                script_pubkey: s.clone(),
            })
            .collect(),
    }
}

fn spend(
    funding: &Transaction,
    pay_to: ScriptBuf,
    amount: u64,
    change: ScriptBuf,
    change_amount: u64,
) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: (0..funding.output.len())
            .map(|i| TxIn {
                previous_output: OutPoint::new(funding.compute_txid(), i as u32),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: vec![
            TxOut {
                value: Amount::from_sat(amount),
                script_pubkey: pay_to,
            },
            TxOut {
                value: Amount::from_sat(change_amount),
                script_pubkey: change,
            },
        ],
    }
}

/// Every input of `signed` passes Bitcoin Core's script verification (all soft forks, Taproot
/// included) against the outputs it spends.
fn consensus_verify(signed: &[u8], spent: &[TxOut]) {
    let utxos: Vec<bitcoinconsensus::Utxo> = spent
        .iter()
        .map(|o| bitcoinconsensus::Utxo {
            script_pubkey: o.script_pubkey.as_bytes().as_ptr(),
            script_pubkey_len: o.script_pubkey.len() as u32,
            value: o.value.to_sat() as i64,
        })
        .collect();
    for (i, o) in spent.iter().enumerate() {
        bitcoinconsensus::verify(
            o.script_pubkey.as_bytes(),
            o.value.to_sat(),
            signed,
            Some(&utxos),
            i,
        )
        .unwrap_or_else(|e| panic!("input {i}: {e:?}"));
    }
}

#[test]
fn threshold_signed_psbts_pass_bitcoin_core_script_verification() {
    let runtime = runtime();
    let registry = Registry::builtin().unwrap();
    let to = ScriptBuf::from_bytes(unhex("00141d0f172a0ecb48aee1be1f2687d2963ae33f71a1"));

    for (scheme, network_id, signers) in [
        (Scheme::EcdsaSecp256k1, "bitcoin-regtest", [0u16, 1]),
        (Scheme::SchnorrBip340, "bitcoin-regtest-taproot", [1, 2]),
    ] {
        let wallet = Wallet::generate(scheme, 2, 3);
        let path = registry.get(network_id).unwrap().path().unwrap();
        let key = wallet.public_key(&path);
        let net = network(network_id);
        let listed = runtime.addresses("bitcoin", &key, &net).unwrap();
        let scripts: Vec<ScriptBuf> = listed
            .iter()
            .map(|a| {
                bitcoin::Address::from_str(&a.value)
                    .unwrap()
                    .require_network(bitcoin::Network::Regtest)
                    .unwrap()
                    .script_pubkey()
            })
            .collect();
        // One UTXO of 0.5 BTC per address kind (P2WPKH and P2PKH, or P2TR); pay 0.3 BTC, the
        // change back to the first address, 2 000 sat of fee.
        let prev = funding(&scripts, 50_000_000);
        let total = 50_000_000 * scripts.len() as u64;
        let tx = spend(
            &prev,
            to.clone(),
            30_000_000,
            scripts[0].clone(),
            total - 30_000_000 - 2_000,
        );
        let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
        for input in &mut psbt.inputs {
            input.non_witness_utxo = Some(prev.clone());
        }
        let request = serde_json::json!({"kind": "psbt", "psbt": psbt.to_string()}).to_string();
        let prepared = runtime.prepare("bitcoin", &request, &key, &net).unwrap();
        let s = &prepared.summary;
        assert_eq!(s.amount.as_deref(), Some("0.3 BTC"), "{network_id}");
        assert_eq!(s.fee.as_deref(), Some("0.00002 BTC"));
        let recipient = bitcoin::Address::from_script(&to, bitcoin::Network::Regtest).unwrap();
        assert_eq!(s.recipient, Some(recipient.to_string()));
        assert!(s.details.iter().any(|d| d.label.contains("change")));
        assert_eq!(prepared.payloads.len(), scripts.len());

        let signatures: Vec<wit::Signature> = prepared
            .payloads
            .iter()
            .map(|p| wallet.sign(&signers, &path, p))
            .collect();
        let signed = runtime
            .finalize("bitcoin", &request, &key, &net, &signatures)
            .unwrap();
        assert_eq!(signed.encoding, "hex");
        let decoded: Transaction = deserialize(&signed.raw).unwrap();
        assert_eq!(serialize(&decoded), signed.raw);
        assert_eq!(signed.id, decoded.compute_txid().to_string());
        consensus_verify(&signed.raw, &prev.output);

        // A wrong signature (another payload's) is refused, and nothing is returned.
        if signatures.len() > 1 {
            let swapped = vec![signatures[1].clone(), signatures[0].clone()];
            match runtime.finalize("bitcoin", &request, &key, &net, &swapped) {
                Err(Error::Rejected { code, .. }) => {
                    assert_eq!(code, wit::ErrorCode::InvalidSignature)
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn bad_psbts_are_refused_with_a_reason() {
    let runtime = runtime();
    let net = network("bitcoin");
    let wallet = key(
        wit::Scheme::EcdsaSecp256k1,
        "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357",
    );
    let ours = ScriptBuf::from_bytes(unhex("00141d0f172a0ecb48aee1be1f2687d2963ae33f71a1"));
    let prev = funding(std::slice::from_ref(&ours), 1_000);
    let psbt_of = |tx: Transaction, utxo: bool| {
        let mut p = Psbt::from_unsigned_tx(tx).unwrap();
        if utxo {
            p.inputs[0].witness_utxo = Some(prev.output[0].clone());
        }
        p.to_string()
    };
    let good = spend(&prev, ours.clone(), 500, ours.clone(), 400);
    let overspend = spend(&prev, ours.clone(), 900, ours.clone(), 400);
    let impossible = spend(&prev, ours.clone(), 2_100_000_000_000_001, ours.clone(), 0);
    let truncated = {
        let s = psbt_of(good.clone(), true);
        let mut b = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s).unwrap();
        b.truncate(b.len() - 3);
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)
    };
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            serde_json::json!({"kind": "psbt", "psbt": psbt_of(good.clone(), false)}),
            "no UTXO",
        ),
        (
            serde_json::json!({"kind": "psbt", "psbt": psbt_of(overspend, true)}),
            "exceed",
        ),
        (
            serde_json::json!({"kind": "psbt", "psbt": psbt_of(impossible, true)}),
            "ever exist",
        ),
        (
            serde_json::json!({"kind": "psbt", "psbt": truncated}),
            "truncated",
        ),
        (
            serde_json::json!({"kind": "psbt", "psbt": "not base64!"}),
            "base64",
        ),
        (
            serde_json::json!({"kind": "psbt", "psbt": "cHNidP8="}),
            "truncated",
        ),
        (
            serde_json::json!({"kind": "psbt", "psbt": "cHNidP8A"}),
            "no unsigned transaction",
        ),
        (
            serde_json::json!({"kind": "psbt", "psbt": 7}),
            "expected a string",
        ),
        (serde_json::json!({"kind": "send", "to": "bc1q..."}), "send"),
    ];
    for (request, expect) in cases {
        match runtime.prepare("bitcoin", &request.to_string(), &wallet, &net) {
            Err(Error::Rejected { message, .. }) => {
                assert!(
                    message.contains(expect),
                    "{request}: {message:?} should mention {expect}"
                )
            }
            other => panic!("{request}: {other:?}"),
        }
    }
    // A PSBT none of whose inputs is the wallet's.
    let other = key(
        wit::Scheme::EcdsaSecp256k1,
        "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c",
    );
    let request = serde_json::json!({"kind": "psbt", "psbt": psbt_of(good, true)}).to_string();
    assert!(runtime.prepare("bitcoin", &request, &wallet, &net).is_ok());
    match runtime.prepare("bitcoin", &request, &other, &net) {
        Err(Error::Rejected { message, .. }) => assert!(message.contains("no unsigned input")),
        other => panic!("{other:?}"),
    }
    // Networks without a Bitcoin prefix, and an Ed25519 key.
    let mut unknown = net.clone();
    unknown.address_prefix = Some("ltc".into());
    match runtime.prepare("bitcoin", &request, &wallet, &unknown) {
        Err(Error::Rejected { code, .. }) => assert_eq!(code, wit::ErrorCode::UnknownNetwork),
        other => panic!("{other:?}"),
    }
    let ed = wit::PublicKey {
        scheme: wit::Scheme::Ed25519,
        bytes: vec![1; 32],
        view_key: None,
    };
    match runtime.prepare("bitcoin", &request, &ed, &net) {
        Err(Error::Rejected { code, .. }) => assert_eq!(code, wit::ErrorCode::InvalidPublicKey),
        other => panic!("{other:?}"),
    }
}

/// BIP-322's test vectors: the key's address, the `to_spend` transaction the payload commits to,
/// and the simple signatures of "" and "Hello World".
#[test]
fn bip322_simple_signature_vectors() {
    let runtime = runtime();
    let net = network("bitcoin");
    let secret =
        bitcoin::PrivateKey::from_wif("L3VFeEujGtevx9w18HD1fhRbCH67Az2dpCymeRE1SoPK6XQtaN2k")
            .unwrap();
    let signing = SigningKey::from_slice(&secret.inner.secret_bytes()).unwrap();
    let wallet = wit::PublicKey {
        scheme: wit::Scheme::EcdsaSecp256k1,
        bytes: signing
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec(),
        view_key: None,
    };
    assert_eq!(
        addresses("bitcoin", &wallet)[0].1,
        "bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l"
    );
    for (message, to_spend, signatures) in [
        (
            "",
            "c5680aa69bb8d860bf82d4e9cd3504b55dde018de765a91bb566283c545a99a7",
            [
                "AkcwRAIgM2gBAQqvZX15ZiysmKmQpDrG83avLIT492QBzLnQIxYCIBaTpOaD20qRlEylyxFSeEA2ba9YOixpX8z46TSDtS40ASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=",
                "AkgwRQIhAPkJ1Q4oYS0htvyuSFHLxRQpFAY56b70UvE7Dxazen0ZAiAtZfFz1S6T6I23MWI2lK/pcNTWncuyL8UL+oMdydVgzAEhAsfxIAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy",
            ],
        ),
        (
            "Hello World",
            "b79d196740ad5217771c1098fc4a4b51e0535c32236c71f1ea4d61a2d603352b",
            [
                "AkcwRAIgZRfIY3p7/DoVTty6YZbWS71bc5Vct9p9Fia83eRmw2QCICK/ENGfwLtptFluMGs2KsqoNSk89pO7F29zJLUx9a/sASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=",
                "AkgwRQIhAOzyynlqt93lOKJr+wmmxIens//zPzl9tqIOua93wO6MAiBi5n5EyAcPScOjf1lAqIUIQtr3zKNeavYabHyR8eGhowEhAsfxIAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy",
            ],
        ),
    ] {
        let request =
            serde_json::json!({"kind": "message", "message": message, "encoding": "utf8"})
                .to_string();
        let prepared = runtime.prepare("bitcoin", &request, &wallet, &net).unwrap();
        let payload = &prepared.payloads[0];
        // BIP-143 preimage: the outpoint after version and two hashes is to_spend's txid, 0.
        let mut txid = unhex(to_spend);
        txid.reverse();
        assert_eq!(payload.bytes[68..100], txid[..], "{message:?}");
        let digest = Sha256::digest(Sha256::digest(&payload.bytes));
        let (sig, recid) = signing.sign_prehash_recoverable(&digest).unwrap();
        let signature = wit::Signature {
            scheme: wit::Scheme::EcdsaSecp256k1,
            bytes: sig.to_bytes().to_vec(),
            recovery_id: Some(recid.to_byte()),
        };
        let signed = runtime
            .finalize("bitcoin", &request, &wallet, &net, &[signature])
            .unwrap();
        assert!(
            signatures.contains(&signed.encoded.as_str()),
            "{message:?}: {}",
            signed.encoded
        );
    }
}

/// `to_spend` and `to_sign` of BIP-322 for `challenge`, with `witness` as to_sign's witness.
fn bip322_transactions(
    challenge: &ScriptBuf,
    message: &str,
    witness: Witness,
) -> (Transaction, Transaction) {
    let tag = Sha256::digest(b"BIP0322-signed-message");
    let hash: [u8; 32] = Sha256::new()
        .chain_update(tag)
        .chain_update(tag)
        .chain_update(message.as_bytes())
        .finalize()
        .into();
    let mut script_sig = vec![0x00, 0x20];
    script_sig.extend(hash);
    let to_spend = Transaction {
        version: Version(0),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_str(&"00".repeat(32)).unwrap(), 0xffff_ffff),
            script_sig: ScriptBuf::from_bytes(script_sig),
            sequence: Sequence(0),
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::ZERO,
            script_pubkey: challenge.clone(),
        }],
    };
    let to_sign = Transaction {
        version: Version(0),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(to_spend.compute_txid(), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence(0),
            witness,
        }],
        output: vec![TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::from_bytes(vec![0x6a]),
        }],
    };
    (to_spend, to_sign)
}

#[test]
fn threshold_signed_bip322_messages_pass_bitcoin_core_script_verification() {
    let runtime = runtime();
    let registry = Registry::builtin().unwrap();
    let message = "mpcw: I control this address. 我控制这个地址。";
    for (scheme, network_id) in [
        (Scheme::EcdsaSecp256k1, "bitcoin"),
        (Scheme::SchnorrBip340, "bitcoin-taproot"),
    ] {
        let wallet = Wallet::generate(scheme, 2, 3);
        let path = registry.get(network_id).unwrap().path().unwrap();
        let key = wallet.public_key(&path);
        let net = network(network_id);
        let address = runtime.addresses("bitcoin", &key, &net).unwrap()[0]
            .value
            .clone();
        let challenge = bitcoin::Address::from_str(&address)
            .unwrap()
            .require_network(bitcoin::Network::Bitcoin)
            .unwrap()
            .script_pubkey();
        let request = serde_json::json!({"kind": "message", "message": message}).to_string();
        let prepared = runtime.prepare("bitcoin", &request, &key, &net).unwrap();
        assert_eq!(prepared.summary.sender.as_deref(), Some(address.as_str()));
        let signature = wallet.sign(&[0, 1], &path, &prepared.payloads[0]);
        let signed = runtime
            .finalize("bitcoin", &request, &key, &net, &[signature])
            .unwrap();
        let witness: Witness = deserialize(&signed.raw).unwrap();
        let (to_spend, to_sign) = bip322_transactions(&challenge, message, witness);
        consensus_verify(&serialize(&to_sign), &to_spend.output);
        // The same signature does not prove another message.
        let (other_spend, other_sign) = bip322_transactions(
            &challenge,
            "another message",
            to_sign.input[0].witness.clone(),
        );
        let utxo = bitcoinconsensus::Utxo {
            script_pubkey: other_spend.output[0].script_pubkey.as_bytes().as_ptr(),
            script_pubkey_len: other_spend.output[0].script_pubkey.len() as u32,
            value: 0,
        };
        assert!(bitcoinconsensus::verify(
            other_spend.output[0].script_pubkey.as_bytes(),
            0,
            &serialize(&other_sign),
            Some(&[utxo]),
            0,
        )
        .is_err());
    }
}
