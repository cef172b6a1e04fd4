//! TON cells and bags of cells: up to 1023 data bits and four references per cell, the
//! representation hash of ordinary cells, and the BOC serialization (with CRC-32C), following
//! the TON whitepaper and tvm.pdf ("Cells", "Standard cell representation", "Bag of cells").

use std::collections::HashMap;
use std::rc::Rc;

use mpcw_plugin_sdk::{PluginError, Result};
use sha2::{Digest, Sha256};

/// The most data bits in a cell.
pub const MAX_BITS: usize = 1023;
/// The most references in a cell.
pub const MAX_REFS: usize = 4;
const BOC_MAGIC: [u8; 4] = [0xb5, 0xee, 0x9c, 0x72];
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// An ordinary cell with its hash and depth computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    data: Vec<u8>,
    bits: usize,
    refs: Vec<Rc<Cell>>,
    hash: [u8; 32],
    depth: u16,
}

fn internal(why: impl Into<String>) -> PluginError {
    PluginError::internal(why.into())
}

impl Cell {
    fn new(data: Vec<u8>, bits: usize, refs: Vec<Rc<Cell>>) -> Result<Rc<Cell>> {
        if bits > MAX_BITS || refs.len() > MAX_REFS {
            return Err(internal(format!(
                "a cell of {bits} bits and {} references",
                refs.len()
            )));
        }
        let depth = refs.iter().map(|r| r.depth + 1).max().unwrap_or(0);
        let mut repr = Self::descriptors(bits, refs.len()).to_vec();
        repr.extend(padded(&data, bits));
        for r in &refs {
            repr.extend(r.depth.to_be_bytes());
        }
        for r in &refs {
            repr.extend(r.hash);
        }
        Ok(Rc::new(Cell {
            hash: Sha256::digest(&repr).into(),
            data,
            bits,
            refs,
            depth,
        }))
    }

    /// d1 (reference count; ordinary, level 0) and d2 (data length in half-bytes, rounded).
    fn descriptors(bits: usize, refs: usize) -> [u8; 2] {
        [refs as u8, (bits / 8 + bits.div_ceil(8)) as u8]
    }

    /// The representation hash.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The number of data bits.
    #[cfg(test)]
    pub fn bit_len(&self) -> usize {
        self.bits
    }

    /// The references.
    #[cfg(test)]
    pub fn refs(&self) -> &[Rc<Cell>] {
        &self.refs
    }
}

/// Data bytes with the completion tag: when the bit length is not a multiple of 8, a 1 bit and
/// zeros fill the last byte.
fn padded(data: &[u8], bits: usize) -> Vec<u8> {
    let mut out = data[..bits.div_ceil(8)].to_vec();
    if !bits.is_multiple_of(8) {
        let last = out.len() - 1;
        out[last] |= 0x80 >> (bits % 8);
    }
    out
}

/// Builds a cell bit by bit.
#[derive(Debug, Default, Clone)]
pub struct Builder {
    data: Vec<u8>,
    bits: usize,
    refs: Vec<Rc<Cell>>,
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one bit.
    pub fn bit(&mut self, b: bool) -> Result<&mut Self> {
        if self.bits == MAX_BITS {
            return Err(internal("cell overflow"));
        }
        if self.bits.is_multiple_of(8) {
            self.data.push(0);
        }
        if b {
            let last = self.data.len() - 1;
            self.data[last] |= 0x80 >> (self.bits % 8);
        }
        self.bits += 1;
        Ok(self)
    }

    /// Append the low `n` bits of `v`, most significant first.
    pub fn uint(&mut self, n: usize, v: u128) -> Result<&mut Self> {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1 == 1)?;
        }
        Ok(self)
    }

    /// Append whole bytes.
    pub fn bytes(&mut self, b: &[u8]) -> Result<&mut Self> {
        for byte in b {
            self.uint(8, u128::from(*byte))?;
        }
        Ok(self)
    }

    /// Append `Grams` / `Coins` (VarUInteger 16): a 4-bit byte length, then the bytes.
    pub fn coins(&mut self, v: u128) -> Result<&mut Self> {
        let len = (128 - v.leading_zeros() as usize).div_ceil(8);
        if len > 15 {
            return Err(PluginError::invalid_request(format!(
                "{v} does not fit in VarUInteger 16 (at most 2^120 - 1)"
            )));
        }
        self.uint(4, len as u128)?;
        self.uint(len * 8, v)
    }

    /// Append every bit and reference of `cell`.
    pub fn cell_contents(&mut self, cell: &Cell) -> Result<&mut Self> {
        for i in 0..cell.bits {
            self.bit(cell.data[i / 8] & (0x80 >> (i % 8)) != 0)?;
        }
        for r in &cell.refs {
            self.reference(r.clone())?;
        }
        Ok(self)
    }

    /// Append a reference.
    pub fn reference(&mut self, cell: Rc<Cell>) -> Result<&mut Self> {
        if self.refs.len() == MAX_REFS {
            return Err(internal("too many references"));
        }
        self.refs.push(cell);
        Ok(self)
    }

    /// The cell.
    pub fn build(&self) -> Result<Rc<Cell>> {
        Cell::new(self.data.clone(), self.bits, self.refs.clone())
    }
}

/// Parse a bag of cells with one root, ordinary cells only (the wallet code constants).
pub fn parse_boc(bytes: &[u8]) -> Result<Rc<Cell>> {
    let bad = |why: &str| internal(format!("bag of cells: {why}"));
    let mut pos = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let s = bytes.get(pos..pos + n).ok_or_else(|| bad("truncated"))?;
        pos += n;
        Ok(s)
    };
    if take(4)? != BOC_MAGIC {
        return Err(bad("not a bag of cells"));
    }
    let flags = take(1)?[0];
    let has_idx = flags & 0x80 != 0;
    let size = usize::from(flags & 0x07);
    let off = usize::from(take(1)?[0]);
    let be = |b: &[u8]| b.iter().fold(0usize, |acc, x| (acc << 8) | usize::from(*x));
    let cells = be(take(size)?);
    let roots = be(take(size)?);
    let _absent = be(take(size)?);
    let _total = be(take(off)?);
    if roots != 1 {
        return Err(bad("more than one root"));
    }
    let root = be(take(size)?);
    // Every cell takes at least its two descriptor bytes: a count past that is a lie, and
    // would otherwise size the allocations below.
    if cells > bytes.len() / 2 {
        return Err(bad("more cells than bytes"));
    }
    if has_idx {
        take(cells * off)?;
    }
    let mut raw = Vec::with_capacity(cells);
    for _ in 0..cells {
        let d = take(2)?;
        let (d1, d2) = (d[0], d[1]);
        if d1 & 0x08 != 0 {
            return Err(bad("exotic cells are not supported"));
        }
        let n_refs = usize::from(d1 & 0x07);
        let data = take(usize::from(d2).div_ceil(2))?.to_vec();
        let bits = if d2 % 2 == 0 {
            usize::from(d2) / 2 * 8
        } else {
            // Strip the completion tag: the last 1 bit and the zeros after it.
            let last = *data.last().ok_or_else(|| bad("empty padded data"))?;
            if last == 0 {
                return Err(bad("no completion tag"));
            }
            (data.len() - 1) * 8 + 7 - last.trailing_zeros() as usize
        };
        let mut refs = Vec::with_capacity(n_refs);
        for _ in 0..n_refs {
            refs.push(be(take(size)?));
        }
        raw.push((data, bits, refs));
    }
    // References point forward: build from the last cell back.
    let mut built: Vec<Option<Rc<Cell>>> = vec![None; cells];
    for i in (0..cells).rev() {
        let (data, bits, refs) = &raw[i];
        let mut data = data.clone();
        if !bits.is_multiple_of(8) {
            let last = data.len() - 1;
            data[last] &= !(0xffu8 >> (bits % 8));
        }
        let children = refs
            .iter()
            .map(|r| {
                if *r <= i {
                    return Err(bad("a reference that does not point forward"));
                }
                built
                    .get(*r)
                    .cloned()
                    .flatten()
                    .ok_or_else(|| bad("a reference past the last cell"))
            })
            .collect::<Result<Vec<_>>>()?;
        built[i] = Some(Cell::new(data, *bits, children)?);
    }
    built
        .get(root)
        .cloned()
        .flatten()
        .ok_or_else(|| bad("no root"))
}

/// Serialize `root` as a bag of cells: no index, CRC-32C, cells in an order where every
/// reference points forward, duplicates stored once.
pub fn serialize_boc(root: &Rc<Cell>) -> Vec<u8> {
    // Depth-first order, parents before children; a cell reached again moves after its new
    // parent so references always point forward.
    let mut order: Vec<Rc<Cell>> = Vec::new();
    fn visit(c: &Rc<Cell>, order: &mut Vec<Rc<Cell>>) {
        if let Some(i) = order.iter().position(|x| x.hash == c.hash) {
            order.remove(i);
        }
        order.push(c.clone());
        for r in &c.refs {
            visit(r, order);
        }
    }
    visit(root, &mut order);
    let index: HashMap<[u8; 32], usize> =
        order.iter().enumerate().map(|(i, c)| (c.hash, i)).collect();
    let n = order.len();
    let size = (usize::BITS - n.leading_zeros()).div_ceil(8).max(1) as usize;
    let mut cells = Vec::new();
    for c in &order {
        cells.extend(Cell::descriptors(c.bits, c.refs.len()));
        cells.extend(padded(&c.data, c.bits));
        for r in &c.refs {
            cells.extend(&(index[&r.hash] as u64).to_be_bytes()[8 - size..]);
        }
    }
    let off = (usize::BITS - cells.len().leading_zeros())
        .div_ceil(8)
        .max(1) as usize;
    let mut out = BOC_MAGIC.to_vec();
    out.push(0x40 | size as u8);
    out.push(off as u8);
    let num = |v: usize, w: usize| (v as u64).to_be_bytes()[8 - w..].to_vec();
    out.extend(num(n, size));
    out.extend(num(1, size));
    out.extend(num(0, size));
    out.extend(num(cells.len(), off));
    out.extend(num(0, size));
    out.extend(cells);
    let crc = CRC32C.checksum(&out);
    out.extend(crc.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_cell_hash() {
        // The hash of the empty cell, a well-known constant of TON.
        assert_eq!(
            hex::encode(Builder::new().build().unwrap().hash()),
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
        );
    }

    #[test]
    fn a_reference_past_the_last_cell_or_a_false_cell_count_is_an_error() {
        // Found by the bag_of_cells fuzz target: one cell whose reference names cell 5 of 1
        // made the decoder index past its cells and panic.
        let mut one_ref = BOC_MAGIC.to_vec();
        one_ref.extend([0x01, 0x01, 1, 1, 0, 4, 0]); // size 1, offset 1; 1 cell, 1 root, root 0
        one_ref.extend([0x01, 0x00, 5]); // one reference, no data, to cell 5
        assert!(parse_boc(&one_ref).is_err());
        // A header claiming 2^56 - 1 cells in a few bytes is refused before any allocation.
        let mut huge = BOC_MAGIC.to_vec();
        huge.extend([0x07, 0x01]);
        huge.extend([0xff; 7]);
        huge.extend([0, 0, 0, 0, 0, 0, 1]);
        huge.extend([0; 7 + 1 + 7]);
        assert!(parse_boc(&huge).is_err());
    }

    #[test]
    fn boc_round_trip() {
        let leaf = {
            let mut b = Builder::new();
            b.uint(7, 0x55).unwrap();
            b.build().unwrap()
        };
        let mut b = Builder::new();
        b.bytes(b"root").unwrap();
        b.reference(leaf.clone()).unwrap();
        b.reference(leaf).unwrap();
        let root = b.build().unwrap();
        let boc = serialize_boc(&root);
        assert_eq!(parse_boc(&boc).unwrap().hash(), root.hash());
    }
}
