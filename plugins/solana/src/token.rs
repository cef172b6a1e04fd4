//! SPL tokens: associated token accounts and `TransferChecked`, for the Token program and
//! Token-2022 (whose transfer instruction has the same layout).

use curve25519_dalek::edwards::CompressedEdwardsY;
use sha2::{Digest, Sha256};

use crate::message::{AccountMeta, Instruction, Pubkey, SYSTEM_PROGRAM};

/// `TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`, the SPL Token program.
pub const TOKEN_PROGRAM: Pubkey = [
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237,
    95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169,
];
/// `TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb`, the Token-2022 program.
pub const TOKEN_2022_PROGRAM: Pubkey = [
    6, 221, 246, 225, 238, 117, 143, 222, 24, 66, 93, 188, 228, 108, 205, 218, 182, 26, 252, 77,
    131, 185, 13, 39, 254, 189, 249, 40, 216, 161, 139, 252,
];
/// `ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`, the Associated Token Account program.
pub const ATA_PROGRAM: Pubkey = [
    140, 151, 37, 143, 78, 36, 137, 241, 187, 61, 16, 41, 20, 142, 13, 131, 11, 90, 19, 153, 218,
    255, 16, 132, 4, 142, 123, 216, 219, 233, 248, 89,
];
/// The rent-exempt minimum of a 165-byte token account (rent of 3 480 lamports per byte-year
/// for two years, with the 128-byte account overhead): 2 039 280 lamports.
pub const TOKEN_ACCOUNT_RENT: u64 = 2_039_280;

/// `Pubkey::find_program_address`: the first bump from 255 down for which
/// sha256(seeds || bump || program || "ProgramDerivedAddress") is not an Ed25519 point, so no
/// key can sign for the address.
pub fn find_program_address(seeds: &[&[u8]], program: &Pubkey) -> Option<Pubkey> {
    (0..=255u8).rev().find_map(|bump| {
        let mut h = Sha256::new();
        for s in seeds {
            h.update(s);
        }
        h.update([bump]);
        h.update(program);
        h.update(b"ProgramDerivedAddress");
        let candidate: Pubkey = h.finalize().into();
        CompressedEdwardsY(candidate)
            .decompress()
            .is_none()
            .then_some(candidate)
    })
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_account(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    find_program_address(&[owner, token_program, mint], &ATA_PROGRAM)
        .expect("a bump off the curve exists for every seed set in practice")
}

fn meta(key: Pubkey, signer: bool, writable: bool) -> AccountMeta {
    AccountMeta {
        key,
        signer,
        writable,
    }
}

/// The ATA program's `CreateIdempotent`: creates `owner`'s token account for `mint`, paid by
/// `payer`, and succeeds without change if it exists.
pub fn create_associated_account_idempotent(
    payer: Pubkey,
    owner: Pubkey,
    mint: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    Instruction {
        program: ATA_PROGRAM,
        accounts: vec![
            meta(payer, true, true),
            meta(
                associated_account(&owner, &mint, &token_program),
                false,
                true,
            ),
            meta(owner, false, false),
            meta(mint, false, false),
            meta(SYSTEM_PROGRAM, false, false),
            meta(token_program, false, false),
        ],
        data: vec![1],
    }
}

/// The token program's `TransferChecked` (instruction 12): `amount` base units of `mint` with
/// `decimals` from `source` to `destination`, authorised by `owner`. The program refuses it if
/// `decimals` is not the mint's.
pub fn transfer_checked(
    token_program: Pubkey,
    source: Pubkey,
    mint: Pubkey,
    destination: Pubkey,
    owner: Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    let mut data = vec![12u8];
    data.extend(amount.to_le_bytes());
    data.push(decimals);
    Instruction {
        program: token_program,
        accounts: vec![
            meta(source, false, true),
            meta(mint, false, false),
            meta(destination, false, true),
            meta(owner, true, false),
        ],
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpcw_plugin_sdk::base58;

    #[test]
    fn program_ids_are_their_base58_names() {
        for (bytes, name) in [
            (TOKEN_PROGRAM, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
            (
                TOKEN_2022_PROGRAM,
                "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
            ),
            (ATA_PROGRAM, "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"),
        ] {
            assert_eq!(base58::encode(&bytes), name);
        }
    }
}
