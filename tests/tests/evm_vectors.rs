//! Official Ethereum vectors, through the EVM plugin inside the sandboxed runtime.

use k256::ecdsa::SigningKey;
use mpcw_host::plugin::{wit, Error};
use mpcw_tests::{ecdsa_key, keccak256, network, runtime, sign_keccak, unhex};
use serde_json::json;

/// EIP-155, "Example" (https://eips.ethereum.org/EIPS/eip-155): nonce 9, gas price 20 gwei,
/// gas 21000, to 0x3535…35, value 1 ether, chain id 1, signed with the key 0x4646…46.
#[test]
fn eip155_example() {
    let runtime = runtime();
    let secret = SigningKey::from_slice(&[0x46; 32]).unwrap();
    let key = ecdsa_key(&secret);
    let mainnet = network("ethereum");
    let request = json!({
        "kind": "transaction",
        "type": "legacy",
        "nonce": 9,
        "gasPrice": "20000000000",
        "gas": 21000,
        "to": "0x3535353535353535353535353535353535353535",
        "value": "1000000000000000000",
    })
    .to_string();

    let prepared = runtime
        .prepare("ethereum", &request, &key, &mainnet)
        .unwrap();
    let [payload] = prepared.payloads.as_slice() else {
        panic!("one payload expected")
    };
    assert_eq!(payload.hash, wit::MessageHash::Keccak256);
    // "The signing data becomes" / "The signing hash becomes".
    assert_eq!(
        payload.bytes,
        unhex("0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080")
    );
    assert_eq!(
        keccak256(&payload.bytes).to_vec(),
        unhex("0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53")
    );
    assert_eq!(prepared.summary.amount.as_deref(), Some("1 ETH"));
    assert_eq!(prepared.summary.fee.as_deref(), Some("0.00042 ETH"));

    let signature = sign_keccak(&secret, &payload.bytes);
    let signed = runtime
        .finalize("ethereum", &request, &key, &mainnet, &[signature])
        .unwrap();
    // "The signed tx would become" (v = 37, r and s as the EIP gives them).
    assert_eq!(
        signed.encoded,
        "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
    );
    assert_eq!(
        signed.id,
        format!("0x{}", hex::encode(keccak256(&signed.raw)))
    );
}

/// The typed data of EIP-712's example (https://eips.ethereum.org/EIPS/eip-712, assets
/// `eip-712/Example.js`): a Mail from Cow to Bob in the "Ether Mail" domain.
fn mail() -> serde_json::Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Person": [
                {"name": "name", "type": "string"},
                {"name": "wallet", "type": "address"}
            ],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person"},
                {"name": "contents", "type": "string"}
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!"
        }
    })
}

/// EIP-712's example: domain separator, signing hash and the signature by keccak256("cow").
#[test]
fn eip712_mail_example() {
    let runtime = runtime();
    let secret = SigningKey::from_slice(&keccak256(b"cow")).unwrap();
    let key = ecdsa_key(&secret);
    let mainnet = network("ethereum");
    let addresses = runtime.addresses("ethereum", &key, &mainnet).unwrap();
    assert_eq!(
        addresses[0].value,
        "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
    );

    let request = json!({"kind": "typed_data", "typedData": mail()}).to_string();
    let prepared = runtime
        .prepare("ethereum", &request, &key, &mainnet)
        .unwrap();
    let payload = &prepared.payloads[0].bytes;
    assert_eq!(&payload[..2], &[0x19, 0x01]);
    assert_eq!(
        payload[2..34].to_vec(),
        unhex("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f")
    );
    assert_eq!(
        payload[34..].to_vec(),
        unhex("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e")
    );
    assert_eq!(
        keccak256(payload).to_vec(),
        unhex("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
    );
    assert_eq!(
        prepared.summary.recipient.as_deref(),
        Some("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC")
    );

    let signature = sign_keccak(&secret, payload);
    let signed = runtime
        .finalize("ethereum", &request, &key, &mainnet, &[signature])
        .unwrap();
    // v = 28, r and s as the example prints them.
    assert_eq!(
        signed.encoded,
        "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c"
    );

    // The same typed data for another chain is refused, not signed.
    let err = runtime
        .prepare("ethereum", &request, &key, &network("polygon"))
        .unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err}");
}

/// EIP-55's examples (https://eips.ethereum.org/EIPS/eip-55): the summary shows a lower-case
/// recipient in its checksummed form, and a recipient with one letter's case flipped is refused.
#[test]
fn eip55_examples() {
    let vectors: Vec<&str> = include_str!("../vectors/eip55.txt")
        .lines()
        .filter(|l| l.starts_with("0x"))
        .collect();
    assert_eq!(vectors.len(), 8);
    let runtime = runtime();
    let secret = SigningKey::from_slice(&[0x11; 32]).unwrap();
    let key = ecdsa_key(&secret);
    let mainnet = network("ethereum");
    let request = |to: &str| {
        json!({
            "kind": "transaction", "nonce": 0, "gas": 21000, "to": to, "value": 1,
            "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"
        })
        .to_string()
    };
    for address in vectors {
        let prepared = runtime
            .prepare(
                "ethereum",
                &request(&address.to_lowercase()),
                &key,
                &mainnet,
            )
            .unwrap();
        assert_eq!(prepared.summary.recipient.as_deref(), Some(address));
        runtime
            .prepare("ethereum", &request(address), &key, &mainnet)
            .unwrap();
        if address[2..].chars().any(|c| c.is_ascii_lowercase())
            && address[2..].chars().any(|c| c.is_ascii_uppercase())
        {
            let i = address[2..]
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap()
                + 2;
            let mut flipped = address.to_string();
            let c = address.as_bytes()[i] as char;
            let swapped = if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            flipped.replace_range(i..=i, &swapped.to_string());
            let err = runtime
                .prepare("ethereum", &request(&flipped), &key, &mainnet)
                .unwrap_err();
            assert!(err.to_string().contains("checksum"), "{err}");
        }
    }
}
