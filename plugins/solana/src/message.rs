//! Solana messages: account ordering, the header, compact arrays, legacy and v0 layouts.
//!
//! Layout (https://solana.com/docs/core/transactions): a message is a header (required
//! signatures, read-only signed, read-only unsigned), the account keys, the recent blockhash and
//! the compiled instructions, each length-prefixed with the compact-u16 ("short vec") encoding.
//! A v0 message starts with the byte `0x80` and ends with its address-table lookups (none here).
//! Account keys are ordered as the SDK compiles them: the fee payer first, then writable
//! signers, read-only signers, writable non-signers, read-only non-signers, each group sorted by
//! key bytes.

use std::collections::BTreeMap;

/// A 32-byte account address.
pub type Pubkey = [u8; 32];

/// The system program: 32 zero bytes, `11111111111111111111111111111111`.
pub const SYSTEM_PROGRAM: Pubkey = [0; 32];

/// `ComputeBudget111111111111111111111111111111` as bytes.
pub const COMPUTE_BUDGET_PROGRAM: Pubkey = [
    3, 6, 70, 111, 229, 33, 23, 50, 255, 236, 173, 186, 114, 195, 155, 231, 188, 140, 229, 187,
    197, 247, 18, 107, 44, 67, 155, 58, 64, 0, 0, 0,
];

/// An account an instruction uses.
#[derive(Clone, Copy, Debug)]
pub struct AccountMeta {
    /// The account.
    pub key: Pubkey,
    /// Whether it signs.
    pub signer: bool,
    /// Whether it is written.
    pub writable: bool,
}

/// An instruction before compilation.
#[derive(Clone, Debug)]
pub struct Instruction {
    /// The program that runs it.
    pub program: Pubkey,
    /// Its accounts, in the program's order.
    pub accounts: Vec<AccountMeta>,
    /// Its data.
    pub data: Vec<u8>,
}

/// The message format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// The original format.
    Legacy,
    /// Version 0 (address-table lookups; none are used here).
    V0,
}

/// Append `n` as a compact-u16.
pub fn short_vec_len(out: &mut Vec<u8>, n: usize) {
    let mut rem = n as u16;
    loop {
        let mut byte = (rem & 0x7f) as u8;
        rem >>= 7;
        if rem != 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if rem == 0 {
            break;
        }
    }
}

/// Compile `instructions` paid by `payer` into message bytes.
pub fn compile(
    payer: Pubkey,
    instructions: &[Instruction],
    blockhash: [u8; 32],
    version: Version,
) -> Vec<u8> {
    // (signer, writable) per key, merged over every use; the payer signs and is written.
    let mut metas: BTreeMap<Pubkey, (bool, bool)> = BTreeMap::new();
    metas.insert(payer, (true, true));
    for ix in instructions {
        metas.entry(ix.program).or_insert((false, false));
        for a in &ix.accounts {
            let m = metas.entry(a.key).or_insert((false, false));
            m.0 |= a.signer;
            m.1 |= a.writable;
        }
    }
    let group = |signer: bool, writable: bool| {
        metas
            .iter()
            .filter(move |(k, m)| **k != payer && m.0 == signer && m.1 == writable)
            .map(|(k, _)| *k)
    };
    let mut keys = vec![payer];
    keys.extend(group(true, true));
    keys.extend(group(true, false));
    keys.extend(group(false, true));
    keys.extend(group(false, false));
    let count = |f: &dyn Fn(&(bool, bool)) -> bool| metas.values().filter(|m| f(m)).count() as u8;
    let required = count(&|m| m.0);
    let readonly_signed = count(&|m| m.0 && !m.1);
    let readonly_unsigned = count(&|m| !m.0 && !m.1);
    let index = |k: &Pubkey| {
        keys.iter()
            .position(|x| x == k)
            .expect("every key is listed") as u8
    };

    let mut out = Vec::new();
    if version == Version::V0 {
        out.push(0x80);
    }
    out.extend([required, readonly_signed, readonly_unsigned]);
    short_vec_len(&mut out, keys.len());
    for k in &keys {
        out.extend_from_slice(k);
    }
    out.extend_from_slice(&blockhash);
    short_vec_len(&mut out, instructions.len());
    for ix in instructions {
        out.push(index(&ix.program));
        short_vec_len(&mut out, ix.accounts.len());
        out.extend(ix.accounts.iter().map(|a| index(&a.key)));
        short_vec_len(&mut out, ix.data.len());
        out.extend_from_slice(&ix.data);
    }
    if version == Version::V0 {
        short_vec_len(&mut out, 0);
    }
    out
}

/// The system program's transfer of `lamports` from `from` to `to`.
pub fn transfer(from: Pubkey, to: Pubkey, lamports: u64) -> Instruction {
    let mut data = 2u32.to_le_bytes().to_vec();
    data.extend(lamports.to_le_bytes());
    Instruction {
        program: SYSTEM_PROGRAM,
        accounts: vec![
            AccountMeta {
                key: from,
                signer: true,
                writable: true,
            },
            AccountMeta {
                key: to,
                signer: false,
                writable: true,
            },
        ],
        data,
    }
}

/// The compute-budget program's `SetComputeUnitLimit`.
pub fn set_compute_unit_limit(units: u32) -> Instruction {
    let mut data = vec![2u8];
    data.extend(units.to_le_bytes());
    Instruction {
        program: COMPUTE_BUDGET_PROGRAM,
        accounts: vec![],
        data,
    }
}

/// The compute-budget program's `SetComputeUnitPrice` (micro-lamports per unit).
pub fn set_compute_unit_price(micro_lamports: u64) -> Instruction {
    let mut data = vec![3u8];
    data.extend(micro_lamports.to_le_bytes());
    Instruction {
        program: COMPUTE_BUDGET_PROGRAM,
        accounts: vec![],
        data,
    }
}

/// A signed transaction: the signatures (compact array) followed by the message.
pub fn transaction(signatures: &[[u8; 64]], message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    short_vec_len(&mut out, signatures.len());
    for s in signatures {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_u16_matches_the_documented_examples() {
        // The examples in the short_vec documentation of the Solana SDK.
        for (n, bytes) in [
            (0usize, vec![0x00]),
            (0x7f, vec![0x7f]),
            (0x80, vec![0x80, 0x01]),
            (0xff, vec![0xff, 0x01]),
            (0x100, vec![0x80, 0x02]),
            (0x7fff, vec![0xff, 0xff, 0x01]),
            (0xffff, vec![0xff, 0xff, 0x03]),
        ] {
            let mut out = Vec::new();
            short_vec_len(&mut out, n);
            assert_eq!(out, bytes, "{n:#x}");
        }
    }

    #[test]
    fn compute_budget_program_id_is_its_base58_name() {
        assert_eq!(
            mpcw_plugin_sdk::base58::encode(&COMPUTE_BUDGET_PROGRAM),
            "ComputeBudget111111111111111111111111111111"
        );
    }
}
