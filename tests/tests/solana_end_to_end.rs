//! The Solana plugin against Solana's own SDK: the message the plugin prepares is byte for byte
//! the one the SDK compiles from the same instructions (legacy and v0), and a transfer
//! threshold-signed by a 2-of-3 Ed25519 wallet decodes and verifies with the SDK's transaction
//! type, with the SDK's system-instruction decoder reading the amount and recipient back.

use mpcw_engine::Scheme;
use mpcw_host::chains::Registry;
use mpcw_tests::{network, runtime, Wallet};
use serde_json::json;
use solana_address::Address;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_message::{v0, Message, VersionedMessage};
use solana_system_interface::instruction::{transfer, SystemInstruction};
use solana_transaction::versioned::VersionedTransaction;

const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

fn sdk_message(
    payer: Address,
    limit: Option<u32>,
    price: Option<u64>,
    lamports: u64,
    v0: bool,
) -> Vec<u8> {
    let to: Address = TO.parse().unwrap();
    let mut ixs = Vec::new();
    if let Some(l) = limit {
        ixs.push(ComputeBudgetInstruction::set_compute_unit_limit(l));
    }
    if let Some(p) = price {
        ixs.push(ComputeBudgetInstruction::set_compute_unit_price(p));
    }
    ixs.push(transfer(&payer, &to, lamports));
    let hash: solana_hash::Hash = BLOCKHASH.parse().unwrap();
    let message = if v0 {
        VersionedMessage::V0(v0::Message::try_compile(&payer, &ixs, &[], hash).unwrap())
    } else {
        VersionedMessage::Legacy(Message::new_with_blockhash(&ixs, Some(&payer), &hash))
    };
    bincode::serialize(&message).unwrap()
}

/// A 2-of-3 Ed25519 wallet made by DKG, its Solana path and key there, and that key as
/// Solana's SDK writes an address.
fn solana_wallet() -> (Wallet, Vec<u32>, mpcw_host::plugin::wit::PublicKey, Address) {
    let wallet = Wallet::generate(Scheme::Ed25519, 2, 3);
    let path = Registry::builtin()
        .unwrap()
        .get("solana")
        .unwrap()
        .path()
        .unwrap();
    let key = wallet.public_key(&path);
    let address = Address::from(<[u8; 32]>::try_from(key.bytes.as_slice()).unwrap());
    (wallet, path, key, address)
}

/// What the plugin makes of `request` once the wallet's device and server parties signed
/// `payload` on Solana.
fn co_sign(
    runtime: &mpcw_host::plugin::Runtime,
    wallet: &Wallet,
    path: &[u32],
    key: &mpcw_host::plugin::wit::PublicKey,
    request: &str,
    payload: &mpcw_host::plugin::wit::Payload,
) -> mpcw_host::plugin::wit::Finalized {
    let signature = wallet.sign(&[0, 1], path, payload);
    runtime
        .finalize("solana", request, key, &network("solana"), &[signature])
        .unwrap()
}

#[test]
fn messages_match_the_sdk_and_a_threshold_signed_transfer_verifies() {
    let runtime = runtime();
    let (wallet, path, key, payer) = solana_wallet();
    let net = network("solana");

    let address = runtime.addresses("solana", &key, &net).unwrap()[0]
        .value
        .clone();
    assert_eq!(address, payer.to_string(), "base58 as the SDK writes it");

    let cases = [
        (None, None, 1_000_000u64, false),
        (Some(300_000), Some(25_000), 2_500_000_000, false),
        (Some(200_000), Some(1), 1, true),
        (None, None, 42, true),
    ];
    for (limit, price, lamports, v0) in cases {
        let mut request = json!({
            "kind": "transfer", "from": address, "to": TO, "lamports": lamports.to_string(),
            "recentBlockhash": BLOCKHASH,
        });
        if let Some(l) = limit {
            request["computeUnitLimit"] = json!(l);
        }
        if let Some(p) = price {
            request["computeUnitPrice"] = json!(p);
        }
        if v0 {
            request["version"] = json!(0);
        }
        let request = request.to_string();
        let prepared = runtime.prepare("solana", &request, &key, &net).unwrap();
        assert_eq!(
            prepared.payloads[0].bytes,
            sdk_message(payer, limit, price, lamports, v0),
            "limit {limit:?} price {price:?} v0 {v0}"
        );

        let signed = co_sign(
            &runtime,
            &wallet,
            &path,
            &key,
            &request,
            &prepared.payloads[0],
        );
        let tx: VersionedTransaction = bincode::deserialize(&signed.raw).unwrap();
        tx.verify_and_hash_message()
            .expect("the SDK sanitizes the transaction and verifies its signature");
        assert_eq!(tx.signatures[0].to_string(), signed.id);
        assert_eq!(tx.message.static_account_keys()[0], payer);
        let keys = tx.message.static_account_keys();
        let ix = tx
            .message
            .instructions()
            .iter()
            .find(|ix| keys[ix.program_id_index as usize] == solana_system_interface::program::ID)
            .unwrap();
        let decoded: SystemInstruction = bincode::deserialize(&ix.data).unwrap();
        assert_eq!(decoded, SystemInstruction::Transfer { lamports });
        assert_eq!(keys[ix.accounts[1] as usize].to_string(), TO);
    }

    // The summary a user confirms.
    let request = json!({
        "kind": "transfer", "to": TO, "lamports": 2_500_000_000u64, "recentBlockhash": BLOCKHASH,
        "computeUnitLimit": 300_000, "computeUnitPrice": 25_000,
    })
    .to_string();
    let s = runtime
        .prepare("solana", &request, &key, &net)
        .unwrap()
        .summary;
    assert_eq!(s.amount.as_deref(), Some("2.5 SOL"));
    // 5000 lamports per signature + 25 000 micro-lamports x 300 000 units = 12 500 lamports.
    assert_eq!(s.fee.as_deref(), Some("0.0000125 SOL"));
    assert_eq!(s.recipient.as_deref(), Some(TO));
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let runtime = runtime();
    let key = Wallet::generate(Scheme::Ed25519, 2, 2).public_key(&[]);
    let net = network("solana");
    let ok = json!({"kind": "transfer", "to": TO, "lamports": 1, "recentBlockhash": BLOCKHASH});
    let cases = [
        (
            json!({"kind": "transfer", "to": TO, "lamports": -1, "recentBlockhash": BLOCKHASH}),
            "lamports",
        ),
        (
            json!({"kind": "transfer", "to": TO, "lamports": "18446744073709551616", "recentBlockhash": BLOCKHASH}),
            "lamports",
        ),
        (
            json!({"kind": "transfer", "to": "0OIl", "lamports": 1, "recentBlockhash": BLOCKHASH}),
            "to",
        ),
        (
            json!({"kind": "transfer", "to": TO, "lamports": 1, "recentBlockhash": "111"}),
            "recentBlockhash",
        ),
        (
            json!({"kind": "transfer", "to": TO, "lamports": 1, "recentBlockhash": BLOCKHASH, "computeUnitLimit": 2_000_000}),
            "computeUnitLimit",
        ),
        (
            json!({"kind": "transfer", "to": TO, "lamports": 1, "recentBlockhash": BLOCKHASH, "version": 1}),
            "version",
        ),
        (
            json!({"kind": "transfer", "to": TO, "lamports": 1, "recentBlockhash": BLOCKHASH, "memo": "x"}),
            "memo",
        ),
        (json!({"kind": "stake", "to": TO}), "stake"),
        (
            json!({"kind": "transfer", "from": TO, "to": TO, "lamports": 1, "recentBlockhash": BLOCKHASH}),
            "from",
        ),
    ];
    for (request, word) in cases {
        let err = runtime
            .prepare("solana", &request.to_string(), &key, &net)
            .unwrap_err();
        assert!(err.is_rejection(), "{err}");
        assert!(err.to_string().contains(word), "{word}: {err}");
    }
    // An ECDSA key, a wrong signature, a missing signature.
    let ecdsa = mpcw_host::plugin::wit::PublicKey {
        scheme: mpcw_host::plugin::wit::Scheme::EcdsaSecp256k1,
        bytes: vec![2; 33],
        view_key: None,
    };
    assert!(runtime
        .prepare("solana", &ok.to_string(), &ecdsa, &net)
        .is_err());
    let bad_sig = mpcw_host::plugin::wit::Signature {
        scheme: mpcw_host::plugin::wit::Scheme::Ed25519,
        bytes: vec![1; 64],
        recovery_id: None,
    };
    let err = runtime
        .finalize("solana", &ok.to_string(), &key, &net, &[bad_sig])
        .unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
    assert!(runtime
        .finalize("solana", &ok.to_string(), &key, &net, &[])
        .is_err());
}

/// Off-chain messages: the bytes the plugin has signed are what `solana-offchain-message`
/// serializes (each of its three formats), and that crate verifies the threshold signature.
#[test]
fn offchain_messages_match_the_sdk_and_verify() {
    use solana_offchain_message::OffchainMessage;
    let runtime = runtime();
    let (wallet, path, key, payer) = solana_wallet();
    let net = network("solana");
    let long = "签名".repeat(400); // 2400 bytes of UTF-8: too long for a Ledger screen
    for text in [
        "Log in to example.org at 2026-11-25",
        "确认登录 mpcw",
        long.as_str(),
    ] {
        let request = json!({"kind": "message", "message": text}).to_string();
        let prepared = runtime.prepare("solana", &request, &key, &net).unwrap();
        let sdk = OffchainMessage::new(0, text.as_bytes()).unwrap();
        assert_eq!(
            prepared.payloads[0].bytes,
            sdk.serialize().unwrap(),
            "{text:.20}"
        );
        assert_eq!(prepared.summary.title, "Sign a message");
        let signature = wallet.sign(&[1, 2], &path, &prepared.payloads[0]);
        let signed = runtime
            .finalize(
                "solana",
                &request,
                &key,
                &net,
                std::slice::from_ref(&signature),
            )
            .unwrap();
        let sig = solana_signature::Signature::try_from(signed.raw.as_slice()).unwrap();
        assert_eq!(sig.to_string(), signed.encoded);
        assert!(sdk.verify(&payer, &sig).unwrap(), "the SDK verifies it");
    }
    // Empty and oversized messages are refused with the reason.
    for (text, word) in [(String::new(), "empty"), ("a".repeat(65_516), "limit")] {
        let request = json!({"kind": "message", "message": text}).to_string();
        let err = runtime.prepare("solana", &request, &key, &net).unwrap_err();
        assert!(err.to_string().contains(word), "{err}");
    }
}

/// An instruction as (program, accounts, data) bytes, to compare across SDK versions.
type Ix = ([u8; 32], Vec<[u8; 32]>, Vec<u8>);

fn spl_ix(ix: &solana_instruction3::Instruction) -> Ix {
    (
        ix.program_id.to_bytes(),
        ix.accounts.iter().map(|a| a.pubkey.to_bytes()).collect(),
        ix.data.clone(),
    )
}

#[test]
fn spl_token_transfers_match_the_spl_programs_and_verify() {
    use solana_pubkey3::Pubkey;
    use spl_associated_token_account_interface::address::get_associated_token_address_with_program_id as ata;
    use spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent;

    const MINT: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
    let runtime = runtime();
    let (wallet, path, key, _) = solana_wallet();
    let net = network("solana");
    let me = Pubkey::new_from_array(key.bytes.clone().try_into().unwrap());
    let to: Pubkey = TO.parse().unwrap();
    let mint: Pubkey = MINT.parse().unwrap();
    let token = spl_token_interface::id();
    let token_2022: Pubkey = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
        .parse()
        .unwrap();

    for (program, create, v0) in [
        ("token", false, false),
        ("token", true, true),
        ("token-2022", true, false),
    ] {
        let program_id = if program == "token" {
            token
        } else {
            token_2022
        };
        let request = json!({
            "kind": "token_transfer", "to": TO, "mint": MINT, "amount": "2500000",
            "decimals": 6, "symbol": "USDC", "tokenProgram": program,
            "createRecipientAccount": create, "recentBlockhash": BLOCKHASH,
            "computeUnitLimit": 60_000, "computeUnitPrice": 1000, "version": if v0 { json!(0) } else { json!("legacy") },
        })
        .to_string();
        let prepared = runtime.prepare("solana", &request, &key, &net).unwrap();
        let s = &prepared.summary;
        assert_eq!(s.amount.as_deref(), Some("2.5 USDC"));
        assert_eq!(s.recipient.as_deref(), Some(TO));
        let destination = ata(&to, &mint, &program_id);
        assert!(
            s.details.iter().any(|d| d.value == destination.to_string()),
            "the summary names the recipient's token account as the SPL program derives it"
        );

        let signature = wallet.sign(&[1, 2], &path, &prepared.payloads[0]);
        let signed = runtime
            .finalize("solana", &request, &key, &net, &[signature])
            .unwrap();
        let tx: VersionedTransaction = bincode::deserialize(&signed.raw).unwrap();
        tx.verify_and_hash_message()
            .expect("the SDK sanitizes the transaction and verifies its signature");
        let keys = tx.message.static_account_keys();
        let compiled: Vec<Ix> = tx
            .message
            .instructions()
            .iter()
            .map(|ix| {
                (
                    keys[ix.program_id_index as usize].to_bytes(),
                    ix.accounts
                        .iter()
                        .map(|a| keys[*a as usize].to_bytes())
                        .collect(),
                    ix.data.clone(),
                )
            })
            .collect();
        // Two compute-budget instructions, then what the SPL crates build.
        let mut expected = Vec::new();
        if create {
            expected.push(spl_ix(&create_associated_token_account_idempotent(
                &me,
                &to,
                &mint,
                &program_id,
            )));
        }
        let source = ata(&me, &mint, &program_id);
        if program == "token" {
            expected.push(spl_ix(
                &spl_token_interface::instruction::transfer_checked(
                    &token,
                    &source,
                    &mint,
                    &destination,
                    &me,
                    &[],
                    2_500_000,
                    6,
                )
                .unwrap(),
            ));
        } else {
            // Token-2022 keeps Token's TransferChecked layout: tag 12, amount, decimals.
            let mut data = vec![12];
            data.extend(2_500_000u64.to_le_bytes());
            data.push(6);
            expected.push((
                token_2022.to_bytes(),
                vec![
                    source.to_bytes(),
                    mint.to_bytes(),
                    destination.to_bytes(),
                    me.to_bytes(),
                ],
                data,
            ));
        }
        assert_eq!(compiled[2..], expected[..], "{program} create {create}");
        // Only the wallet signs; the token accounts are written, the mint is not.
        assert_eq!(tx.message.header().num_required_signatures, 1);
        let index = |k: &Pubkey| {
            keys.iter()
                .position(|x| x.to_bytes() == k.to_bytes())
                .unwrap()
        };
        let header = tx.message.header();
        let writable = |i: usize| {
            let signers = usize::from(header.num_required_signatures);
            if i < signers {
                i < signers - usize::from(header.num_readonly_signed_accounts)
            } else {
                i < keys.len() - usize::from(header.num_readonly_unsigned_accounts)
            }
        };
        assert!(writable(index(&source)));
        assert!(writable(index(&destination)));
        assert!(!writable(index(&mint)));
    }

    // Bad token requests.
    let base = json!({
        "kind": "token_transfer", "to": TO, "mint": MINT, "amount": 1, "decimals": 6,
        "recentBlockhash": BLOCKHASH,
    });
    for (field, value) in [
        ("amount", json!("18446744073709551616")),
        ("decimals", json!(256)),
        ("mint", json!("not-base58-0OIl")),
        ("tokenProgram", json!("token-2023")),
        ("symbol", json!("A VERY LONG SYMBOL INDEED")),
    ] {
        let mut r = base.clone();
        r[field] = value;
        match runtime.prepare("solana", &r.to_string(), &key, &net) {
            Err(mpcw_host::plugin::Error::Rejected { message, .. }) => {
                assert!(message.contains(field), "{field}: {message}")
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// Transactions a Dapp built with Solana's SDK (as the Wallet Standard hands them over): a
/// legacy transfer paid by the wallet, with an instruction of a program the wallet cannot read;
/// and a v0 transaction paid and already signed by another account, which the wallet co-signs.
/// The payload is the SDK's message, the summary says what the wallet can read and warns about
/// the rest, and the transaction the plugin returns verifies in the SDK with every signature.
#[test]
fn transactions_a_dapp_built_are_signed_in_the_wallets_slot() {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;

    let runtime = runtime();
    let (wallet, path, key, me) = solana_wallet();
    let net = network("solana");
    let to: Address = TO.parse().unwrap();
    let hash: solana_hash::Hash = BLOCKHASH.parse().unwrap();
    let program: Address = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
        .parse()
        .unwrap();
    let opaque = solana_message::Instruction {
        program_id: program,
        accounts: vec![],
        data: vec![1, 2, 3],
    };
    let sign_and_check = |tx: VersionedTransaction| {
        let wire = bincode::serialize(&tx).unwrap();
        let request = json!({
            "kind": "transaction",
            "transaction": base64::engine::general_purpose::STANDARD.encode(&wire),
        })
        .to_string();
        runtime.validate("solana", &request, &net).unwrap();
        let prepared = runtime.prepare("solana", &request, &key, &net).unwrap();
        assert_eq!(
            prepared.payloads[0].bytes,
            tx.message.serialize(),
            "the SDK's message"
        );
        let signed = co_sign(
            &runtime,
            &wallet,
            &path,
            &key,
            &request,
            &prepared.payloads[0],
        );
        let out: VersionedTransaction = bincode::deserialize(&signed.raw).unwrap();
        out.verify_and_hash_message()
            .expect("the SDK verifies every signature");
        assert_eq!(out.message, tx.message, "the message is the Dapp's");
        assert_eq!(signed.id, out.signatures[0].to_string());
        prepared.summary
    };

    // Legacy, paid by the wallet.
    let ixs = [transfer(&me, &to, 1_500_000), opaque.clone()];
    let message = Message::new_with_blockhash(&ixs, Some(&me), &hash);
    let tx = VersionedTransaction {
        signatures: vec![solana_signature::Signature::default(); 1],
        message: VersionedMessage::Legacy(message),
    };
    let s = sign_and_check(tx);
    assert_eq!(s.title, "Send 0.0015 SOL on Solana");
    assert_eq!(
        (s.amount.as_deref(), s.recipient.as_deref()),
        (Some("0.0015 SOL"), Some(TO))
    );
    assert_eq!(s.fee.as_deref(), Some("0.000005 SOL"));
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("cannot read") && w.contains(&program.to_string())),
        "{:?}",
        s.warnings
    );

    // v0, paid and signed first by another account; the wallet co-signs its slot.
    let payer = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let payer_address = Address::from(payer.verifying_key().to_bytes());
    let ixs = [transfer(&me, &to, 42)];
    let message = VersionedMessage::V0(
        v0::Message::try_compile(&payer_address, &ixs, &[], hash.clone()).unwrap(),
    );
    let first = payer.sign(&message.serialize());
    let tx = VersionedTransaction {
        signatures: vec![
            solana_signature::Signature::from(first.to_bytes()),
            solana_signature::Signature::default(),
        ],
        message,
    };
    let s = sign_and_check(tx);
    assert!(s.fee.is_none(), "the wallet does not pay");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("Another account pays")),
        "{:?}",
        s.warnings
    );

    // A transaction the wallet does not sign, and bytes that are not one, are refused.
    let stranger = Message::new_with_blockhash(
        &[transfer(&payer_address, &to, 1)],
        Some(&payer_address),
        &hash,
    );
    let tx = VersionedTransaction {
        signatures: vec![solana_signature::Signature::default()],
        message: VersionedMessage::Legacy(stranger),
    };
    let wire = base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).unwrap());
    let request = json!({"kind": "transaction", "transaction": wire}).to_string();
    let err = runtime.prepare("solana", &request, &key, &net).unwrap_err();
    assert!(err.to_string().contains("not one of its signers"), "{err}");
    // Raw message bytes (the Wallet Standard's signMessage) are signed as they are, unless they
    // are a transaction message.
    let text = b"Sign in to the shop";
    let request = json!({"kind": "raw_message", "message": base64::engine::general_purpose::STANDARD.encode(text)}).to_string();
    let prepared = runtime.prepare("solana", &request, &key, &net).unwrap();
    assert_eq!(prepared.payloads[0].bytes, text);
    let signed = co_sign(
        &runtime,
        &wallet,
        &path,
        &key,
        &request,
        &prepared.payloads[0],
    );
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&me.to_bytes()).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&signed.raw).unwrap();
    vk.verify_strict(text, &sig)
        .expect("Ed25519 over the bytes themselves");
    let message = Message::new_with_blockhash(&[transfer(&me, &to, 1)], Some(&me), &hash);
    let disguised = base64::engine::general_purpose::STANDARD.encode(message.serialize());
    let request = json!({"kind": "raw_message", "message": disguised}).to_string();
    let err = runtime.prepare("solana", &request, &key, &net).unwrap_err();
    assert!(err.to_string().contains("transaction message"), "{err}");
    for bad in ["AAAA", "not base64", ""] {
        let request = json!({"kind": "transaction", "transaction": bad}).to_string();
        assert!(
            runtime.validate("solana", &request, &net).is_err(),
            "{bad:?}"
        );
    }
}
