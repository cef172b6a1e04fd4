//! A wallet's first EVM transfer, end to end: DKG 2-of-3 in the engine, the address from the
//! group key, an EIP-1559 transfer prepared by the plugin in the sandbox, threshold-signed by the
//! device and the server, finalized by the plugin, and checked by an independent implementation
//! (alloy decodes the raw transaction and recovers its sender).

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
    let signature = wallet.sign_ecdsa(&[0, 1], &path, &prepared.payloads[0]);
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
}
