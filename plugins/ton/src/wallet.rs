//! The standard wallet contracts: v4r2 (wallet-contract v4, revision 2) and v5r1 (W5). Their
//! code, the initial data for a public key, the address, and the external messages that carry
//! a signed transfer.

use std::rc::Rc;

use base64::Engine as _;
use mpcw_plugin_sdk::{PluginError, Result};

use crate::address::Address;
use crate::cell::{parse_boc, Builder, Cell};
use crate::jetton::JettonTransfer;

/// The code of wallet v4r2 as a bag of cells, from the official contract
/// (github.com/ton-blockchain/wallet-contract, `wallet-v4-code.fc`, revision 2); its hash is
/// `feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0`.
const V4R2_CODE: &str = "te6cckECFAEAAtQAART/APSkE/S88sgLAQIBIAIDAgFIBAUE+PKDCNcYINMf0x/THwL4I7vyZO1E0NMf0x/T//QE0VFDuvKhUVG68qIF+QFUEGT5EPKj+AAkpMjLH1JAyx9SMMv/UhD0AMntVPgPAdMHIcAAn2xRkyDXSpbTB9QC+wDoMOAhwAHjACHAAuMAAcADkTDjDQOkyMsfEssfy/8QERITAubQAdDTAyFxsJJfBOAi10nBIJJfBOAC0x8hghBwbHVnvSKCEGRzdHK9sJJfBeAD+kAwIPpEAcjKB8v/ydDtRNCBAUDXIfQEMFyBAQj0Cm+hMbOSXwfgBdM/yCWCEHBsdWe6kjgw4w0DghBkc3RyupJfBuMNBgcCASAICQB4AfoA9AQw+CdvIjBQCqEhvvLgUIIQcGx1Z4MesXCAGFAEywUmzxZY+gIZ9ADLaRfLH1Jgyz8gyYBA+wAGAIpQBIEBCPRZMO1E0IEBQNcgyAHPFvQAye1UAXKwjiOCEGRzdHKDHrFwgBhQBcsFUAPPFiP6AhPLassfyz/JgED7AJJfA+ICASAKCwBZvSQrb2omhAgKBrkPoCGEcNQICEekk30pkQzmkD6f+YN4EoAbeBAUiYcVnzGEAgFYDA0AEbjJftRNDXCx+AA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0Cm+hMYAIBIA4PABmtznaiaEAga5Drhf/AABmvHfaiaEAQa5DrhY/AAG7SB/oA1NQi+QAFyMoHFcv/ydB3dIAYyMsFywIizxZQBfoCFMtrEszMyXP7AMhAFIEBCPRR8qcCAHCBAQjXGPoA0z/IVCBHgQEI9FHyp4IQbm90ZXB0gBjIywXLAlAGzxZQBPoCFMtqEssfyz/Jc/sAAgBsgQEI1xj6ANM/MFIkgQEI9Fnyp4IQZHN0cnB0gBjIywXLAlAFzxZQA/oCE8tqyx8Syz/Jc/sAAAr0AMntVGliJeU=";

/// The code of wallet v5r1 (W5) as a bag of cells, from the official contract
/// (github.com/ton-blockchain/wallet-contract-v5); its hash is
/// `20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f`.
const V5R1_CODE: &str = "te6ccgECFAEAAoEAART/APSkE/S88sgLAQIBIAIDAgFIBAUBAvIOAtzQINdJwSCRW49jINcLHyCCEGV4dG69IYIQc2ludL2wkl8D4IIQZXh0brqOtIAg1yEB0HTXIfpAMPpE+Cj6RDBYvZFb4O1E0IEBQdch9AWDB/QOb6ExkTDhgEDXIXB/2zzgMSDXSYECgLmRMOBw4hAPAgEgBgcCASAICQAZvl8PaiaECAoOuQ+gLAIBbgoLAgFIDA0AGa3OdqJoQCDrkOuF/8AAGa8d9qJoQBDrkOuFj8AAF7Ml+1E0HHXIdcLH4AARsmL7UTQ1woAgAR4g1wsfghBzaWduuvLgin8PAeaO8O2i7fshgwjXIgKDCNcjIIAg1yHTH9Mf0x/tRNDSANMfINMf0//XCgAK+QFAzPkQmiiUXwrbMeHywIffArNQB7Dy0IRRJbry4IVQNrry4Ib4I7vy0IgikvgA3gGkf8jKAMsfAc8Wye1UIJL4D95w2zzYEAP27aLt+wL0BCFukmwhjkwCIdc5MHCUIccAs44tAdcoIHYeQ2wg10nACPLgkyDXSsAC8uCTINcdBscSwgBSMLDy0InXTNc5MAGk6GwShAe78uCT10rAAPLgk+1V4tIAAcAAkVvg69csCBQgkXCWAdcsCBwS4lIQseMPINdKERITAJYB+kAB+kT4KPpEMFi68uCR7UTQgQFB1xj0BQSdf8jKAEAEgwf0U/Lgi44UA4MH9Fvy4Iwi1woAIW4Bs7Dy0JDiyFADzxYS9ADJ7VQAcjDXLAgkji0h8uCS0gDtRNDSAFETuvLQj1RQMJExnAGBAUDXIdcKAPLgjuLIygBYzxbJ7VST8sCN4gAQk1vbMeHXTNA=";

/// v4r2's default subwallet id (698983191 + workchain 0).
pub const V4R2_SUBWALLET: u32 = 0x29a9a317;
/// v5r1's wallet id on mainnet: the network's global id (-239) XOR the client context of
/// workchain 0, version 0, subwallet 0 (wallet-contract-v5's `wallet_id` definition).
pub const V5R1_WALLET_ID_MAINNET: u32 = 0x7fff_ff11;
/// v5r1's wallet id on testnet (global id -3).
pub const V5R1_WALLET_ID_TESTNET: u32 = 0x7fff_fffd;
/// `action_send_msg#0ec3c86d`.
const ACTION_SEND_MSG: u128 = 0x0ec3_c86d;
/// The `signed_external` prefix of v5r1, "sign".
const SIGNED_EXTERNAL: u128 = 0x7369_676e;

/// A wallet contract version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V4r2,
    V5r1,
}

/// What an internal message carries.
#[derive(Debug, Clone)]
pub enum Body {
    /// Nothing.
    Empty,
    /// A text comment.
    Comment(String),
    /// A jetton transfer (to the wallet's jetton wallet).
    Jetton(JettonTransfer),
}

/// One outgoing internal message.
#[derive(Debug, Clone)]
pub struct OutMessage {
    pub to: Address,
    pub bounce: bool,
    /// Nanotons.
    pub amount: u128,
    /// The send mode.
    pub mode: u8,
    /// The body.
    pub body: Body,
}

/// A wallet contract for a public key on a network.
#[derive(Debug, Clone)]
pub struct Wallet {
    pub version: Version,
    pub public_key: [u8; 32],
    pub wallet_id: u32,
}

fn code(version: Version) -> Result<Rc<Cell>> {
    let b64 = match version {
        Version::V4r2 => V4R2_CODE,
        Version::V5r1 => V5R1_CODE,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| PluginError::internal(format!("wallet code: {e}")))?;
    parse_boc(&bytes)
}

/// A text comment as a snake of cells: op 0, then the UTF-8 bytes, continued in references.
pub fn comment_cell(text: &str) -> Result<Rc<Cell>> {
    let bytes = text.as_bytes();
    // Fill from the end: each cell holds what fits and refers to the rest.
    let first = (crate::cell::MAX_BITS - 32) / 8;
    let rest = crate::cell::MAX_BITS / 8;
    let mut chunks = vec![&bytes[..bytes.len().min(first)]];
    let mut tail = &bytes[bytes.len().min(first)..];
    while !tail.is_empty() {
        let n = tail.len().min(rest);
        chunks.push(&tail[..n]);
        tail = &tail[n..];
    }
    let mut next: Option<Rc<Cell>> = None;
    for (i, chunk) in chunks.iter().enumerate().rev() {
        let mut b = Builder::new();
        if i == 0 {
            b.uint(32, 0)?;
        }
        b.bytes(chunk)?;
        if let Some(n) = next.take() {
            b.reference(n)?;
        }
        next = Some(b.build()?);
    }
    next.ok_or_else(|| PluginError::internal("empty comment"))
}

impl OutMessage {
    /// The internal message (`MessageRelaxed`): int_msg_info with no source, the value, zero
    /// fees and times (the network fills them), no state init, the body in a reference.
    pub fn cell(&self) -> Result<Rc<Cell>> {
        let mut b = Builder::new();
        // int_msg_info$0 ihr_disabled:1 bounce bounced:0 src:addr_none$00
        b.bit(false)?
            .bit(true)?
            .bit(self.bounce)?
            .bit(false)?
            .uint(2, 0)?;
        self.to.store(&mut b)?;
        // value: grams, no extra currencies; ihr_fee, fwd_fee; created_lt, created_at.
        b.coins(self.amount)?.bit(false)?;
        b.coins(0)?.coins(0)?.uint(64, 0)?.uint(32, 0)?;
        // init: nothing.
        b.bit(false)?;
        match &self.body {
            Body::Empty => {
                b.bit(false)?;
            }
            Body::Comment(text) => {
                b.bit(true)?.reference(comment_cell(text)?)?;
            }
            Body::Jetton(j) => {
                b.bit(true)?.reference(j.cell()?)?;
            }
        }
        b.build()
    }
}

impl Wallet {
    /// The wallet's initial data: v4r2 seqno, subwallet id, key, no plugins; v5r1 signature
    /// allowed, seqno, wallet id, key, no extensions.
    fn data(&self) -> Result<Rc<Cell>> {
        let mut b = Builder::new();
        match self.version {
            Version::V4r2 => {
                b.uint(32, 0)?.uint(32, u128::from(self.wallet_id))?;
                b.bytes(&self.public_key)?.bit(false)?;
            }
            Version::V5r1 => {
                b.bit(true)?
                    .uint(32, 0)?
                    .uint(32, u128::from(self.wallet_id))?;
                b.bytes(&self.public_key)?.bit(false)?;
            }
        }
        b.build()
    }

    /// StateInit: no split depth, not special, code, data, no libraries.
    pub fn state_init(&self) -> Result<Rc<Cell>> {
        let mut b = Builder::new();
        b.uint(2, 0)?.bit(true)?.bit(true)?.bit(false)?;
        b.reference(code(self.version)?)?.reference(self.data()?)?;
        b.build()
    }

    /// The wallet's address in the basechain: the hash of its initial state.
    pub fn address(&self) -> Result<Address> {
        Ok(Address {
            workchain: 0,
            hash: self.state_init()?.hash(),
        })
    }

    /// The body the signature covers (its cell hash is what ed25519 signs).
    pub fn signing_body(
        &self,
        seqno: u32,
        valid_until: u32,
        messages: &[OutMessage],
    ) -> Result<Rc<Cell>> {
        let mut b = Builder::new();
        match self.version {
            Version::V4r2 => {
                b.uint(32, u128::from(self.wallet_id))?
                    .uint(32, u128::from(valid_until))?
                    .uint(32, u128::from(seqno))?
                    // op 0: simple send.
                    .uint(8, 0)?;
                for m in messages {
                    b.uint(8, u128::from(m.mode))?.reference(m.cell()?)?;
                }
            }
            Version::V5r1 => {
                b.uint(32, SIGNED_EXTERNAL)?
                    .uint(32, u128::from(self.wallet_id))?
                    .uint(32, u128::from(valid_until))?
                    .uint(32, u128::from(seqno))?;
                // out_list: each node refers to the previous list, then holds one action.
                let mut list = Builder::new().build()?;
                for m in messages {
                    let mut node = Builder::new();
                    node.reference(list)?;
                    node.uint(32, ACTION_SEND_MSG)?
                        .uint(8, u128::from(m.mode))?
                        .reference(m.cell()?)?;
                    list = node.build()?;
                }
                // Maybe ^OutList, then no other actions.
                b.bit(true)?.reference(list)?.bit(false)?;
            }
        }
        b.build()
    }

    /// The external message to the wallet with the signed body, and the state init when the
    /// wallet is not deployed yet.
    pub fn external_message(
        &self,
        signing_body: &Cell,
        signature: &[u8; 64],
        with_state_init: bool,
    ) -> Result<Rc<Cell>> {
        let mut body = Builder::new();
        match self.version {
            Version::V4r2 => {
                body.bytes(signature)?.cell_contents(signing_body)?;
            }
            Version::V5r1 => {
                body.cell_contents(signing_body)?.bytes(signature)?;
            }
        }
        let mut m = Builder::new();
        // ext_in_msg_info$10 src:addr_none$00 dest import_fee:0
        m.uint(2, 0b10)?.uint(2, 0)?;
        self.address()?.store(&mut m)?;
        m.coins(0)?;
        if with_state_init {
            // Maybe (Either StateInit ^StateInit): present, as a reference.
            m.bit(true)?.bit(true)?.reference(self.state_init()?)?;
        } else {
            m.bit(false)?;
        }
        // Either X ^X: the body as a reference.
        m.bit(true)?.reference(body.build()?)?;
        m.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_code_hashes_are_the_published_ones() {
        assert_eq!(
            hex::encode(code(Version::V4r2).unwrap().hash()),
            "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0"
        );
        assert_eq!(
            hex::encode(code(Version::V5r1).unwrap().hash()),
            "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f"
        );
    }

    #[test]
    fn long_comments_snake_into_references() {
        let text = "x".repeat(400);
        let c = comment_cell(&text).unwrap();
        assert_eq!(c.bit_len(), 32 + 123 * 8);
        assert_eq!(c.refs()[0].bit_len(), 127 * 8);
        let third = &c.refs()[0].refs()[0];
        assert_eq!(third.bit_len(), 127 * 8);
        assert_eq!(third.refs()[0].bit_len(), (400 - 123 - 127 - 127) * 8);
        assert!(third.refs()[0].refs().is_empty());
    }
}
