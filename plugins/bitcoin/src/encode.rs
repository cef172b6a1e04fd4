//! Bitcoin's consensus encoding: little-endian integers, CompactSize lengths, and a reader that
//! refuses truncated input and lengths larger than what is left.

use mpcw_plugin_sdk::{PluginError, Result};

/// A cursor over bytes being decoded; `what` names them in errors.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Read `data`, described as `what` in errors.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, pos: 0, what }
    }

    fn bad(&self, why: &str) -> PluginError {
        PluginError::invalid_request(format!("{}: {why} at byte {}", self.what, self.pos))
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.data.len() - self.pos {
            return Err(self.bad("truncated"));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A CompactSize integer, in its shortest form.
    pub fn compact(&mut self) -> Result<u64> {
        let first = self.u8()?;
        let (n, min) = match first {
            0xfd => (u64::from(u16::from_le_bytes(self.array()?)), 0xfd),
            0xfe => (u64::from(self.u32()?), 0x1_0000),
            0xff => (self.u64()?, 0x1_0000_0000),
            n => return Ok(u64::from(n)),
        };
        if n < min {
            return Err(self.bad("non-canonical CompactSize"));
        }
        Ok(n)
    }

    /// A count of items, each at least `min_item` bytes, bounded by what is left.
    pub fn count(&mut self, min_item: usize) -> Result<usize> {
        let n = self.compact()?;
        let left = (self.data.len() - self.pos) as u64;
        if n.saturating_mul(min_item.max(1) as u64) > left {
            return Err(self.bad("a count larger than the data"));
        }
        Ok(n as usize)
    }

    /// Length-prefixed bytes.
    pub fn var_bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.count(1)?;
        self.bytes(n)
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    /// Fail unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.bad("trailing bytes"))
        }
    }
}

/// Append a CompactSize.
pub fn compact(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend((n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend((n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend(n.to_le_bytes());
        }
    }
}

/// Append length-prefixed bytes.
pub fn var_bytes(out: &mut Vec<u8>, b: &[u8]) {
    compact(out, b.len() as u64);
    out.extend_from_slice(b);
}
