//! Transactions a Dapp built itself (`{"kind": "transaction", "transaction": "<base64>"}`), as
//! the Wallet Standard's `solana:signTransaction` hands them over: the wire format (the
//! signatures, then the legacy or v0 message) read back, the wallet's signer slot found, the
//! instructions the wallet can read decoded for the summary, and the signed transaction
//! rebuilt with the other signers' signatures left as they were.

use mpcw_plugin_sdk::{
    amount::format_amount, base58, Detail, Network, PluginError, Result, Summary,
};

use crate::message::{Pubkey, COMPUTE_BUDGET_PROGRAM, SYSTEM_PROGRAM};
use crate::token::{ATA_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM};
use crate::{DEFAULT_UNITS_PER_INSTRUCTION, LAMPORTS_PER_SIGNATURE};

/// `MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr` (SPL Memo v2).
const MEMO_PROGRAM: &str = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";
/// The largest transaction Solana accepts (a packet), bytes.
const MAX_TRANSACTION_BYTES: usize = 1232;

/// An instruction as a message compiles it.
#[derive(Debug)]
struct Compiled {
    program: usize,
    accounts: Vec<usize>,
    data: Vec<u8>,
}

/// A wire transaction, read.
#[derive(Debug)]
pub struct Wire {
    /// The signature slots, in signer order (zeros where nobody signed yet).
    pub signatures: Vec<[u8; 64]>,
    /// The message bytes: what every signer signs.
    pub message: Vec<u8>,
    version: &'static str,
    required: usize,
    keys: Vec<Pubkey>,
    blockhash: [u8; 32],
    instructions: Vec<Compiled>,
    lookups: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn bad(what: &str) -> PluginError {
        PluginError::invalid_request(format!("transaction: {what}"))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| Self::bad(&format!("ends inside {what}")))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn byte(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    /// A compact-u16 length (at most three bytes, no redundant encodings).
    fn len(&mut self, what: &str) -> Result<usize> {
        let mut n = 0usize;
        for i in 0..3 {
            let b = self.byte(what)?;
            n |= usize::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(Self::bad(&format!(
                        "{what}: a length is not in its shortest form"
                    )));
                }
                return Ok(n);
            }
        }
        Err(Self::bad(&format!(
            "{what}: a length is longer than three bytes"
        )))
    }

    fn key(&mut self, what: &str) -> Result<Pubkey> {
        Ok(self.take(32, what)?.try_into().expect("32 bytes"))
    }
}

impl Wire {
    /// Read a wire transaction.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_TRANSACTION_BYTES {
            return Err(Reader::bad(&format!(
                "{} bytes, more than Solana's {MAX_TRANSACTION_BYTES}",
                bytes.len()
            )));
        }
        let mut r = Reader { bytes, at: 0 };
        let count = r.len("the signatures")?;
        let mut signatures = Vec::with_capacity(count);
        for _ in 0..count {
            signatures.push(r.take(64, "the signatures")?.try_into().expect("64 bytes"));
        }
        let message = bytes[r.at..].to_vec();
        let first = r.byte("the message")?;
        let (version, required) = if first & 0x80 != 0 {
            if first & 0x7f != 0 {
                return Err(Reader::bad(&format!(
                    "message version {} is not known",
                    first & 0x7f
                )));
            }
            ("v0", usize::from(r.byte("the header")?))
        } else {
            ("legacy", usize::from(first))
        };
        let readonly_signed = usize::from(r.byte("the header")?);
        let readonly_unsigned = usize::from(r.byte("the header")?);
        let key_count = r.len("the account keys")?;
        let mut keys = Vec::with_capacity(key_count);
        for _ in 0..key_count {
            keys.push(r.key("the account keys")?);
        }
        if required == 0 || required > keys.len() || readonly_signed >= required {
            return Err(Reader::bad("the header does not fit the account keys"));
        }
        if readonly_unsigned > keys.len() - required {
            return Err(Reader::bad("the header does not fit the account keys"));
        }
        if count != required {
            return Err(Reader::bad(&format!(
                "{count} signature slots for {required} signers"
            )));
        }
        let blockhash = r.key("the recent blockhash")?;
        let mut instructions = Vec::new();
        for _ in 0..r.len("the instructions")? {
            let program = usize::from(r.byte("an instruction")?);
            let mut accounts = Vec::new();
            for _ in 0..r.len("an instruction's accounts")? {
                accounts.push(usize::from(r.byte("an instruction's accounts")?));
            }
            let n = r.len("an instruction's data")?;
            let data = r.take(n, "an instruction's data")?.to_vec();
            instructions.push(Compiled {
                program,
                accounts,
                data,
            });
        }
        let mut loaded = 0usize;
        let mut lookups = 0usize;
        if version == "v0" {
            lookups = r.len("the address-table lookups")?;
            for _ in 0..lookups {
                r.key("an address-table lookup")?;
                for what in ["its writable indexes", "its read-only indexes"] {
                    let n = r.len(what)?;
                    r.take(n, what)?;
                    loaded += n;
                }
            }
        }
        if r.at != bytes.len() {
            return Err(Reader::bad("bytes left after the message"));
        }
        let all = keys.len() + loaded;
        for ix in &instructions {
            if ix.program >= keys.len() || ix.accounts.iter().any(|a| *a >= all) {
                return Err(Reader::bad(
                    "an instruction names an account that is not listed",
                ));
            }
        }
        Ok(Self {
            signatures,
            message,
            version,
            required,
            keys,
            blockhash,
            instructions,
            lookups,
        })
    }
}

/// Whether `bytes` read as a transaction message (legacy or v0): signing them as a "message"
/// would sign that transaction.
pub fn is_transaction_message(bytes: &[u8]) -> bool {
    let required = match bytes {
        [v, n, ..] if v & 0x80 != 0 => *n,
        [n, ..] => *n,
        [] => return false,
    };
    let mut wire = Vec::new();
    crate::message::short_vec_len(&mut wire, usize::from(required));
    wire.resize(wire.len() + 64 * usize::from(required), 0);
    wire.extend_from_slice(bytes);
    Wire::parse(&wire).is_ok()
}

impl Wire {
    /// The wallet's signer slot, or why it has none.
    pub fn slot_of(&self, wallet: &Pubkey) -> Result<usize> {
        self.keys[..self.required]
            .iter()
            .position(|k| k == wallet)
            .ok_or_else(|| {
                PluginError::invalid_request(
                    "transaction: this wallet is not one of its signers (nor its fee payer)",
                )
            })
    }

    /// The transaction with `signature` in slot `slot`, the other slots as they came.
    pub fn signed(&self, slot: usize, signature: [u8; 64]) -> Vec<u8> {
        let mut signatures = self.signatures.clone();
        signatures[slot] = signature;
        crate::message::transaction(&signatures, &self.message)
    }

    /// The account at `index` of an instruction, if it is a listed key (not one loaded from a
    /// lookup table).
    fn account(&self, ix: &Compiled, i: usize) -> Option<&Pubkey> {
        ix.accounts.get(i).and_then(|a| self.keys.get(*a))
    }

    /// What the user approves: the fee payer, the fee, every instruction the wallet can read in
    /// words, and warnings for what it cannot.
    pub fn summary(&self, wallet: &Pubkey, network: &Network) -> Summary {
        let sol = |lamports: u128| {
            format_amount(&lamports.to_string(), network.decimals, &network.symbol)
        };
        let name = |k: &Pubkey| base58::encode(k);
        let mut details = vec![
            Detail::new("Fee payer", name(&self.keys[0])),
            Detail::new("Recent blockhash", name(&self.blockhash)),
            Detail::new("Message", self.version),
            Detail::new("Signers", self.required.to_string()),
        ];
        let mut warnings = Vec::new();
        let (mut limit, mut price) = (None, None);
        let mut sent: u128 = 0;
        let mut recipient = None;
        let mut undecoded = Vec::new();
        for (n, ix) in self.instructions.iter().enumerate() {
            let program = &self.keys[ix.program];
            let label = format!("Instruction {}", n + 1);
            let d = &ix.data;
            let text =
                if *program == SYSTEM_PROGRAM && d.len() == 12 && d[..4] == 2u32.to_le_bytes() {
                    let lamports = u64::from_le_bytes(d[4..12].try_into().expect("8 bytes"));
                    let (from, to) = (self.account(ix, 0), self.account(ix, 1));
                    if from == Some(wallet) {
                        sent += u128::from(lamports);
                        recipient = to.map(name);
                    }
                    format!(
                        "Transfer {} from {} to {}",
                        sol(lamports.into()),
                        from.map(name)
                            .unwrap_or_else(|| "a looked-up account".into()),
                        to.map(name).unwrap_or_else(|| "a looked-up account".into())
                    )
                } else if *program == COMPUTE_BUDGET_PROGRAM && d.len() == 5 && d[0] == 2 {
                    let units = u32::from_le_bytes(d[1..5].try_into().expect("4 bytes"));
                    limit = Some(units);
                    format!("Compute unit limit {units}")
                } else if *program == COMPUTE_BUDGET_PROGRAM && d.len() == 9 && d[0] == 3 {
                    let p = u64::from_le_bytes(d[1..9].try_into().expect("8 bytes"));
                    price = Some(p);
                    format!("Priority fee {p} micro-lamports per compute unit")
                } else if (*program == TOKEN_PROGRAM || *program == TOKEN_2022_PROGRAM)
                    && d.len() == 10
                    && d[0] == 12
                {
                    let amount = u64::from_le_bytes(d[1..9].try_into().expect("8 bytes"));
                    let mint = self.account(ix, 1).map(name).unwrap_or_default();
                    let to = self.account(ix, 2).map(name).unwrap_or_default();
                    format!(
                        "Token transfer of {} of mint {mint} to token account {to}",
                        format_amount(&amount.to_string(), d[9], "tokens")
                    )
                } else if *program == TOKEN_PROGRAM || *program == TOKEN_2022_PROGRAM {
                    if d.first() == Some(&4) || d.first() == Some(&13) {
                        warnings.push(format!(
                            "{label} lets another account spend this wallet's tokens (Approve)."
                        ));
                    }
                    format!(
                        "Token program instruction {}",
                        d.first().copied().unwrap_or(0)
                    )
                } else if *program == ATA_PROGRAM {
                    "Create an associated token account".into()
                } else if name(program) == MEMO_PROGRAM {
                    format!(
                        "Memo: {}",
                        String::from_utf8_lossy(d)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    )
                } else {
                    undecoded.push(name(program));
                    format!(
                        "Program {}: {} accounts, {} bytes of data (not decoded)",
                        name(program),
                        ix.accounts.len(),
                        d.len()
                    )
                };
            details.push(Detail::new(&label, text));
        }
        let units = limit
            .map(u64::from)
            .unwrap_or(DEFAULT_UNITS_PER_INSTRUCTION * self.instructions.len().max(1) as u64);
        let priority = price
            .map(|p| (u128::from(p) * u128::from(units)).div_ceil(1_000_000))
            .unwrap_or(0);
        let fee = u128::from(LAMPORTS_PER_SIGNATURE) * self.required as u128 + priority;
        let pays = self.keys[0] == *wallet;
        if !pays {
            warnings.push("Another account pays the fee; this wallet only co-signs.".into());
        }
        if !undecoded.is_empty() {
            warnings.push(format!(
                "It calls programs this wallet cannot read ({}): approve only what you expect from this Dapp.",
                undecoded.join(", ")
            ));
        }
        if self.lookups > 0 {
            warnings.push(
                "It loads accounts from address lookup tables; they are not shown by address."
                    .into(),
            );
        }
        let others = self
            .signatures
            .iter()
            .filter(|s| s.iter().any(|b| *b != 0))
            .count();
        if others > 0 {
            details.push(Detail::new(
                "Signed already",
                format!("{others} of {}", self.required),
            ));
        }
        Summary {
            title: if sent > 0 {
                format!("Send {} on {}", sol(sent), network.name)
            } else {
                format!("Sign a transaction on {}", network.name)
            },
            sender: Some(name(wallet)),
            recipient,
            amount: (sent > 0).then(|| sol(sent)),
            fee: pays.then(|| {
                if price.is_some() && limit.is_none() {
                    format!("about {}", sol(fee))
                } else {
                    sol(fee)
                }
            }),
            contract_call: None,
            details,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{compile, transaction, transfer, Version};

    fn message(version: Version) -> Vec<u8> {
        compile([1; 32], &[transfer([1; 32], [2; 32], 5)], [3; 32], version)
    }

    #[test]
    fn a_transaction_reads_back_and_is_signed_in_its_slot() {
        for version in [Version::Legacy, Version::V0] {
            let m = message(version);
            let w = Wire::parse(&transaction(&[[0; 64]], &m)).unwrap();
            assert_eq!(w.message, m);
            assert_eq!(w.slot_of(&[1; 32]).unwrap(), 0);
            assert!(w.slot_of(&[2; 32]).is_err(), "the recipient does not sign");
            assert_eq!(w.signed(0, [9; 64]), transaction(&[[9; 64]], &m));
            assert!(is_transaction_message(&m));
        }
        assert!(!is_transaction_message(b"Sign in to the shop"));
    }

    #[test]
    fn malformed_transactions_are_refused() {
        let m = message(Version::Legacy);
        let good = transaction(&[[0; 64]], &m);
        let mut longer = good.clone();
        longer.push(0);
        let mut v1 = transaction(&[[0; 64]], &message(Version::V0));
        v1[65] = 0x81;
        let mut padded = vec![0x81, 0x00];
        padded.extend_from_slice(&good[1..]);
        for (bytes, why) in [
            (longer, "bytes left"),
            (v1, "version 1"),
            (padded, "shortest form"),
            (transaction(&[], &m), "0 signature slots"),
            (good[..good.len() - 1].to_vec(), "ends inside"),
        ] {
            let err = Wire::parse(&bytes).unwrap_err();
            assert!(format!("{err:?}").contains(why), "{why}: {err:?}");
        }
    }
}
