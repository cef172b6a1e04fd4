//! Jetton (TEP-74) transfers: the wallet sends a `transfer` message, with TON for the fees, to
//! its own jetton wallet for the token, which moves the jettons to the recipient's jetton
//! wallet.
//!
//! ```text
//! transfer#0f8a7ea5 query_id:uint64 amount:(VarUInteger 16) destination:MsgAddress
//!     response_destination:MsgAddress custom_payload:(Maybe ^Cell)
//!     forward_ton_amount:(VarUInteger 16) forward_payload:(Either Cell ^Cell)
//! ```

use std::rc::Rc;

use mpcw_plugin_sdk::Result;

use crate::address::Address;
use crate::cell::{Builder, Cell};
use crate::wallet::comment_cell;

/// TEP-74's `transfer` operation code.
const TRANSFER: u128 = 0x0f8a_7ea5;

/// A jetton transfer's body fields.
#[derive(Debug, Clone)]
pub struct JettonTransfer {
    /// Chosen by the sender to match the answer.
    pub query_id: u64,
    /// Jetton base units.
    pub amount: u128,
    /// The recipient (the owner, not its jetton wallet).
    pub destination: Address,
    /// Where the jetton wallet returns the unspent TON (this wallet).
    pub response_destination: Address,
    /// Nanotons forwarded to the recipient with the notification.
    pub forward_ton_amount: u128,
    /// A text comment in the forward payload.
    pub comment: Option<String>,
}

impl JettonTransfer {
    /// The body cell; the comment, when there is one, is a reference.
    pub fn cell(&self) -> Result<Rc<Cell>> {
        let mut b = Builder::new();
        b.uint(32, TRANSFER)?.uint(64, u128::from(self.query_id))?;
        b.coins(self.amount)?;
        self.destination.store(&mut b)?;
        self.response_destination.store(&mut b)?;
        // No custom payload.
        b.bit(false)?;
        b.coins(self.forward_ton_amount)?;
        match &self.comment {
            Some(text) => {
                b.bit(true)?.reference(comment_cell(text)?)?;
            }
            None => {
                b.bit(false)?;
            }
        }
        b.build()
    }
}
