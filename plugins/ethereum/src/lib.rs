//! The EVM chain plugin: Ethereum, Polygon, Conflux eSpace and any network that speaks the
//! Ethereum transaction formats.
//!
//! Requests (JSON, see `README.md`):
//! - `{"kind": "transaction", ...}`: legacy (EIP-155), EIP-2930 and EIP-1559 transactions,
//!   transfers and contract calls;
//! - `{"kind": "personal_sign", "message": ...}`: EIP-191 version 0x45 messages;
//! - `{"kind": "typed_data", "typedData": {...}}`: EIP-712 as `eth_signTypedData_v4`.
//!
//! Every payload is threshold ECDSA over keccak-256 of the bytes returned, so a device can show
//! and check the exact preimage it signs.

mod address;
mod message;
mod request;
mod summary;
mod tx;

use mpcw_plugin_sdk::{
    Address, Finalized, Network, Plugin, PluginError, PluginInfo, Prepared, PublicKey, Result,
    Scheme, Signature,
};

use mpcw_plugin_sdk::typed_data::{Dialect, TypedData};
use request::Request;

/// EIP-712 as Ethereum defines it; addresses are hex with an optional EIP-55 checksum.
pub(crate) const EIP712: Dialect = Dialect {
    domain_type: "EIP712Domain",
    require_chain_id: false,
    parse_address: address::parse,
};

/// The plugin type exported to the host.
pub struct Evm;

/// The largest EVM network chain id we accept (EIP-2294 bounds it below 2^63 - 1 ... we keep
/// the bound that keeps `v` of a legacy signature inside 64 bits).
const MAX_CHAIN_ID: u64 = (u64::MAX - 36) / 2;

/// The chain id of `network`, which every EVM network has.
fn chain_id(network: &Network) -> Result<u64> {
    match network.chain_id {
        Some(id) if id > 0 && id <= MAX_CHAIN_ID => Ok(id),
        Some(id) => Err(PluginError::unknown_network(format!(
            "{}: chain id {id} is out of range",
            network.id
        ))),
        None => Err(PluginError::unknown_network(format!(
            "{}: an EVM network needs a chain id",
            network.id
        ))),
    }
}

/// The payload preimage of a request: what keccak-256 is taken of.
fn preimage(request: &Request, key: &PublicKey, network: &Network) -> Result<Vec<u8>> {
    Ok(match request {
        Request::Transaction(t) => tx::Tx::from_request(t, Some(key), network)?.signing_preimage(),
        Request::PersonalSign(m) => message::preimage(&m.bytes()?),
        Request::TypedData(d) => {
            TypedData::parse(&d.typed_data, chain_id(network)?, EIP712)?.signing_preimage()?
        }
    })
}

impl Plugin for Evm {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "ethereum".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            family: "evm".into(),
            schemes: vec![Scheme::EcdsaSecp256k1],
            networks: [
                "ethereum",
                "sepolia",
                "polygon",
                "polygon-amoy",
                "conflux-espace",
                "conflux-espace-testnet",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn addresses(key: PublicKey, network: Network) -> Result<Vec<Address>> {
        chain_id(&network)?;
        let address = address::from_key(&key)?;
        Ok(vec![Address {
            kind: "eip55".into(),
            value: address::checksum(&address),
        }])
    }

    fn validate(request: String, network: Network) -> Result<()> {
        let chain = chain_id(&network)?;
        match Request::parse(&request)? {
            Request::Transaction(t) => {
                tx::Tx::from_request(&t, None, &network)?;
            }
            Request::PersonalSign(m) => {
                m.bytes()?;
            }
            Request::TypedData(d) => {
                TypedData::parse(&d.typed_data, chain, EIP712)?.signing_preimage()?;
            }
        }
        Ok(())
    }

    fn prepare(request: String, key: PublicKey, network: Network) -> Result<Prepared> {
        chain_id(&network)?;
        let request: Request = Request::parse(&request)?;
        let payload = request::payload(preimage(&request, &key, &network)?, &request);
        let summary = summary::summarize(&request, &key, &network)?;
        Ok(Prepared {
            payloads: vec![payload],
            summary,
        })
    }

    fn finalize(
        request: String,
        key: PublicKey,
        network: Network,
        signatures: Vec<Signature>,
    ) -> Result<Finalized> {
        chain_id(&network)?;
        let request: Request = Request::parse(&request)?;
        let pre = preimage(&request, &key, &network)?;
        let sig = request::check_signature(&pre, &key, &signatures)?;
        Ok(match &request {
            Request::Transaction(t) => {
                tx::Tx::from_request(t, Some(&key), &network)?.finalize(&sig)
            }
            Request::PersonalSign(_) | Request::TypedData(_) => message::finalize(&sig),
        })
    }
}

mpcw_plugin_sdk::export_plugin!(Evm);
