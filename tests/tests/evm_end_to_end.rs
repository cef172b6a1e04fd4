//! A wallet's first EVM transfer, end to end: DKG 2-of-3 in the engine, the address from the
//! group key, an EIP-1559 transfer prepared by the plugin in the sandbox, threshold-signed by the
//! device and the server, finalized by the plugin, and checked by an independent implementation
//! (alloy decodes the raw transaction and recovers its sender). The same wallet then signs an
//! EIP-191 message and EIP-712 typed data with other pairs of parties, checked by alloy too.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use mpcw_engine::Scheme;
use mpcw_host::chains::Registry;
use mpcw_host::plugin::Error;
use mpcw_tests::{network, runtime, Wallet};
use serde_json::json;

#[test]
fn dkg_address_prepare_threshold_sign_finalize_recover() {
    let runtime = runtime();
    let wallet = Wallet::generate(Scheme::EcdsaSecp256k1, 2, 3);
    let registry = Registry::builtin().unwrap();
    let polygon = registry.get("polygon").unwrap();
    let path = polygon.path().unwrap();
    let key = wallet.public_key(&path);
    let net = network("polygon");

    let address = runtime.addresses("ethereum", &key, &net).unwrap()[0]
        .value
        .clone();
    // Every EVM network shares the derivation path, so the wallet has one address on all.
    assert_eq!(
        runtime
            .addresses("ethereum", &key, &network("ethereum"))
            .unwrap()[0]
            .value,
        address
    );

    let request = json!({
        "kind": "transaction",
        "from": address,
        "nonce": "0x7",
        "to": "0x3535353535353535353535353535353535353535",
        "value": "1500000000000000000",
        "gas": 21000,
        "maxFeePerGas": "0x174876e800",
        "maxPriorityFeePerGas": "2000000000",
    })
    .to_string();
    let prepared = runtime.prepare("ethereum", &request, &key, &net).unwrap();
    assert_eq!(prepared.summary.amount.as_deref(), Some("1.5 POL"));
    assert_eq!(prepared.summary.fee.as_deref(), Some("at most 0.0021 POL"));
    assert_eq!(
        prepared.summary.recipient.as_deref(),
        Some("0x3535353535353535353535353535353535353535")
    );
    assert_eq!(prepared.summary.sender.as_deref(), Some(address.as_str()));

    // The device (0) and the server (1) sign; the recovery share (2) stays offline.
    let signature = wallet.sign(&[0, 1], &path, &prepared.payloads[0]);
    let signed = runtime
        .finalize(
            "ethereum",
            &request,
            &key,
            &net,
            std::slice::from_ref(&signature),
        )
        .unwrap();

    let envelope = TxEnvelope::decode_2718(&mut signed.raw.as_slice()).expect("alloy decodes it");
    assert!(envelope.is_eip1559());
    assert_eq!(envelope.chain_id(), Some(137));
    assert_eq!(envelope.nonce(), 7);
    assert_eq!(envelope.gas_limit(), 21000);
    assert_eq!(envelope.max_fee_per_gas(), 100_000_000_000);
    assert_eq!(
        envelope.value(),
        alloy_primitives::U256::from(1_500_000_000_000_000_000u128)
    );
    let sender = envelope.recover_signer().expect("the signature recovers");
    assert_eq!(sender.to_checksum(None), address);
    assert_eq!(
        signed.id,
        format!("0x{}", hex::encode(envelope.tx_hash().as_slice()))
    );

    // A signature over another request does not finalize this one.
    let other = request.replace("\"0x7\"", "\"0x8\"");
    let err = runtime
        .finalize("ethereum", &other, &key, &net, &[signature])
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { code, .. } if *code == mpcw_host::plugin::wit::ErrorCode::InvalidSignature),
        "{err}"
    );

    // personal_sign (EIP-191): alloy recovers the wallet's address from the message.
    let text = "Log in to example.com with nonce 42";
    let request = json!({"kind": "personal_sign", "message": text}).to_string();
    let prepared = runtime.prepare("ethereum", &request, &key, &net).unwrap();
    let signature = wallet.sign(&[1, 2], &path, &prepared.payloads[0]);
    let signed = runtime
        .finalize("ethereum", &request, &key, &net, &[signature])
        .unwrap();
    let sig = alloy_primitives::Signature::from_raw(&signed.raw).unwrap();
    let signer = sig.recover_address_from_msg(text).unwrap();
    assert_eq!(signer.to_checksum(None), address);

    // eth_signTypedData_v4 (EIP-712): alloy recovers the address from the signing hash.
    let typed = json!({"kind": "typed_data", "typedData": {
        "types": {"Permit": [
            {"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
            {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"}
        ]},
        "primaryType": "Permit",
        "domain": {"name": "Token", "version": "1", "chainId": 137,
                   "verifyingContract": "0x3535353535353535353535353535353535353535"},
        "message": {"owner": address, "spender": "0x3535353535353535353535353535353535353535",
                    "value": "1000", "nonce": 0, "deadline": "0xffffffff"}
    }})
    .to_string();
    let prepared = runtime.prepare("ethereum", &typed, &key, &net).unwrap();
    assert!(
        prepared
            .summary
            .warnings
            .iter()
            .any(|w| w.contains("Permit")),
        "{:?}",
        prepared.summary.warnings
    );
    let signature = wallet.sign(&[0, 2], &path, &prepared.payloads[0]);
    let signed = runtime
        .finalize("ethereum", &typed, &key, &net, &[signature])
        .unwrap();
    let sig = alloy_primitives::Signature::from_raw(&signed.raw).unwrap();
    let digest = alloy_primitives::keccak256(&prepared.payloads[0].bytes);
    let signer = sig.recover_address_from_prehash(&digest).unwrap();
    assert_eq!(signer.to_checksum(None), address);
}
