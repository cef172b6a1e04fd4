//! TON addresses: raw (`0:<hex>`) and user-friendly (36 bytes in base64url: flags, workchain,
//! account id, CRC-16/XMODEM), bounceable or not, mainnet or test-only.

use base64::Engine as _;
use mpcw_plugin_sdk::{PluginError, Result};

use crate::cell::Builder;

const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
const BOUNCEABLE: u8 = 0x11;
const NON_BOUNCEABLE: u8 = 0x51;
const TEST_ONLY: u8 = 0x80;

/// An account address in a workchain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    /// 0 (basechain) or -1 (masterchain).
    pub workchain: i8,
    /// The account id: the hash of the account's initial state.
    pub hash: [u8; 32],
}

/// An address as a request gives it, with the flags of its user-friendly form.
#[derive(Debug, Clone, Copy)]
pub struct Parsed {
    pub address: Address,
    /// The bounce flag the form carries (raw addresses: bounceable).
    pub bounceable: bool,
    /// Whether the form is test-only.
    pub test_only: bool,
}

impl Address {
    /// `workchain:hex`.
    pub fn raw(&self) -> String {
        format!("{}:{}", self.workchain, hex::encode(self.hash))
    }

    /// The user-friendly form, base64url.
    pub fn friendly(&self, bounceable: bool, test_only: bool) -> String {
        let mut b = Vec::with_capacity(36);
        let flag = if bounceable {
            BOUNCEABLE
        } else {
            NON_BOUNCEABLE
        };
        b.push(if test_only { flag | TEST_ONLY } else { flag });
        b.push(self.workchain as u8);
        b.extend_from_slice(&self.hash);
        b.extend(CRC16.checksum(&b).to_be_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    /// Append as `MsgAddressInt` (addr_std$10, no anycast).
    pub fn store(&self, b: &mut Builder) -> Result<()> {
        b.uint(2, 0b10)?
            .bit(false)?
            .uint(8, u128::from(self.workchain as u8))?;
        b.bytes(&self.hash)?;
        Ok(())
    }

    /// Parse a raw or user-friendly address; `what` names it in errors.
    pub fn parse(s: &str, what: &str) -> Result<Parsed> {
        let bad = |why: &str| PluginError::invalid_request(format!("{what}: {why}"));
        if let Some((wc, hash)) = s.split_once(':') {
            let workchain: i8 = wc
                .parse()
                .map_err(|_| bad("the workchain of a raw address is a small integer"))?;
            let hash: [u8; 32] = hex::decode(hash)
                .ok()
                .and_then(|h| h.try_into().ok())
                .ok_or_else(|| bad("a raw address is <workchain>:<64 hex digits>"))?;
            return Ok(Parsed {
                address: Address { workchain, hash },
                bounceable: true,
                test_only: false,
            });
        }
        if s.len() != 48 {
            return Err(bad(
                "expected a raw address or a 48-character user-friendly one",
            ));
        }
        let normalized: String = s
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(normalized)
            .map_err(|_| bad("not base64"))?;
        if CRC16.checksum(&b[..34]).to_be_bytes() != b[34..] {
            return Err(bad("wrong checksum (a mistyped address?)"));
        }
        let (bounceable, test_only) = match b[0] {
            BOUNCEABLE => (true, false),
            NON_BOUNCEABLE => (false, false),
            f if f == BOUNCEABLE | TEST_ONLY => (true, true),
            f if f == NON_BOUNCEABLE | TEST_ONLY => (false, true),
            _ => return Err(bad("unknown address flags")),
        };
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&b[2..34]);
        Ok(Parsed {
            address: Address {
                workchain: b[1] as i8,
                hash,
            },
            bounceable,
            test_only,
        })
    }
}
