//! Networks, output scripts and addresses: Base58Check (P2PKH, P2SH), bech32 (SegWit v0,
//! BIP-173) and bech32m (v1 and later, BIP-350).

use bech32::{hrp::Hrp, segwit, Fe32};
use mpcw_plugin_sdk::{base58, Network, PluginError, Result};

use crate::hash::sha256d;

/// The parameters of a Bitcoin network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// The bech32 human-readable part: "bc", "tb" or "bcrt".
    pub hrp: &'static str,
    /// Base58Check version of P2PKH addresses.
    pub p2pkh: u8,
    /// Base58Check version of P2SH addresses.
    pub p2sh: u8,
}

/// Mainnet.
pub const MAINNET: Params = Params {
    hrp: "bc",
    p2pkh: 0x00,
    p2sh: 0x05,
};
/// Testnet, testnet4 and signet.
pub const TESTNET: Params = Params {
    hrp: "tb",
    p2pkh: 0x6f,
    p2sh: 0xc4,
};
/// Regtest.
pub const REGTEST: Params = Params {
    hrp: "bcrt",
    p2pkh: 0x6f,
    p2sh: 0xc4,
};

/// The parameters of a registry network, chosen by its address prefix.
pub fn params(network: &Network) -> Result<Params> {
    match network.address_prefix.as_deref() {
        Some("bc") => Ok(MAINNET),
        Some("tb") => Ok(TESTNET),
        Some("bcrt") => Ok(REGTEST),
        Some(other) => Err(PluginError::unknown_network(format!(
            "{}: address prefix {other:?} is not a Bitcoin network's (bc, tb, bcrt)",
            network.id
        ))),
        None => Err(PluginError::unknown_network(format!(
            "{}: a Bitcoin network needs its address prefix (bc, tb or bcrt)",
            network.id
        ))),
    }
}

/// OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG.
pub fn p2pkh_script(pkh: &[u8; 20]) -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 0x14];
    s.extend_from_slice(pkh);
    s.extend([0x88, 0xac]);
    s
}

/// OP_0 <20>.
pub fn p2wpkh_script(pkh: &[u8; 20]) -> Vec<u8> {
    let mut s = vec![0x00, 0x14];
    s.extend_from_slice(pkh);
    s
}

/// OP_1 <32>.
pub fn p2tr_script(output_key: &[u8; 32]) -> Vec<u8> {
    let mut s = vec![0x51, 0x20];
    s.extend_from_slice(output_key);
    s
}

fn base58check(version: u8, payload: &[u8]) -> String {
    let mut b = vec![version];
    b.extend_from_slice(payload);
    let check = sha256d(&b);
    b.extend_from_slice(&check[..4]);
    base58::encode(&b)
}

fn segwit_address(params: Params, version: u8, program: &[u8]) -> Option<String> {
    let hrp = Hrp::parse(params.hrp).ok()?;
    let v = Fe32::try_from(version).ok()?;
    segwit::encode(hrp, v, program).ok()
}

/// The address of an output script on `params`' network, or `None` for scripts without one
/// (OP_RETURN, bare multisig, non-standard).
pub fn address(params: Params, script: &[u8]) -> Option<String> {
    match script {
        [0x76, 0xa9, 0x14, pkh @ .., 0x88, 0xac] if pkh.len() == 20 => {
            Some(base58check(params.p2pkh, pkh))
        }
        [0xa9, 0x14, sh @ .., 0x87] if sh.len() == 20 => Some(base58check(params.p2sh, sh)),
        [0x00, len, program @ ..]
            if usize::from(*len) == program.len() && matches!(len, 20 | 32) =>
        {
            segwit_address(params, 0, program)
        }
        [op @ 0x51..=0x60, len, program @ ..]
            if usize::from(*len) == program.len() && (2..=40).contains(len) =>
        {
            segwit_address(params, op - 0x50, program)
        }
        _ => None,
    }
}

/// How an output script is shown: its address, or what it is.
pub fn describe(params: Params, script: &[u8]) -> String {
    if let Some(a) = address(params, script) {
        return a;
    }
    match script.first() {
        Some(0x6a) => format!("OP_RETURN data 0x{}", hex::encode(&script[1..])),
        _ => format!("script 0x{}", hex::encode(script)),
    }
}
