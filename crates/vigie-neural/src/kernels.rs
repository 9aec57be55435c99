//! Quantized matrix kernels.
//!
//! Weights come as Q4_0 blocks (32 four-bit values and one `f16` scale). At load time each
//! block is widened once to 32 signed `i16` values (`nibble − 8`) and an `f32` scale, so the
//! hot loop is a plain 16-bit integer dot product that compilers turn into `pmaddwd`
//! (SSE2/AVX2) without intrinsics. Activations are quantized per block of 32 to 8-bit
//! values (Q8_0: scale `max|x| / 127`, round to nearest even), stored as `i16`. One output
//! is `Σ_blocks d_w · d_a · Σ_j w_j a_j`, exactly the reference engine's arithmetic (its
//! `−8` offset folded into the weights).

use crate::format::{Q4_BLOCK_BYTES, QK, f16_to_f32};

/// A `rows × cols` weight matrix in widened Q4_0 form.
#[derive(Debug, Clone)]
pub struct QMatrix {
    /// Output rows.
    pub rows: usize,
    /// Input columns (a multiple of 32).
    pub cols: usize,
    /// `rows × cols` values in `−8..=7`.
    w: Vec<i16>,
    /// `rows × cols / 32` block scales.
    scales: Vec<f32>,
}

impl QMatrix {
    /// Widens Q4_0 bytes (`rows × cols / 32` blocks of 18 bytes).
    pub(crate) fn from_q4(bytes: &[u8], rows: usize, cols: usize) -> Self {
        let nb = rows * cols / QK;
        let mut w = vec![0i16; rows * cols];
        let mut scales = vec![0f32; nb];
        for ((blk, out), s) in bytes
            .chunks_exact(Q4_BLOCK_BYTES)
            .zip(w.chunks_exact_mut(QK))
            .zip(scales.iter_mut())
        {
            *s = f16_to_f32(u16::from_le_bytes([blk[0], blk[1]]));
            dequant_nibbles(&blk[2..], out);
        }
        Self {
            rows,
            cols,
            w,
            scales,
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.w.len() * 2 + self.scales.len() * 4
    }
}

/// Nibbles of one Q4_0 block → 32 signed values (byte `j`: value `j` low, `j + 16` high).
fn dequant_nibbles(qs: &[u8], out: &mut [i16]) {
    for (j, &b) in qs.iter().enumerate().take(16) {
        out[j] = i16::from(b & 0x0f) - 8;
        out[j + 16] = i16::from(b >> 4) - 8;
    }
}

/// One row of a Q4_0 table (the word embeddings) as `f32`.
pub(crate) fn dequant_row_q4(bytes: &[u8], out: &mut [f32]) {
    let mut tmp = [0i16; QK];
    for (blk, o) in bytes
        .chunks_exact(Q4_BLOCK_BYTES)
        .zip(out.chunks_exact_mut(QK))
    {
        let d = f16_to_f32(u16::from_le_bytes([blk[0], blk[1]]));
        dequant_nibbles(&blk[2..], &mut tmp);
        for (o, &q) in o.iter_mut().zip(tmp.iter()) {
            *o = f32::from(q) * d;
        }
    }
}

/// Activations quantized per block of 32 (Q8_0 values held as `i16`).
#[derive(Debug, Default)]
pub(crate) struct QActs {
    q: Vec<i16>,
    d: Vec<f32>,
    cols: usize,
}

impl QActs {
    /// Quantizes `rows × cols` values.
    pub(crate) fn quantize(&mut self, x: &[f32], cols: usize) {
        self.cols = cols;
        self.q.resize(x.len(), 0);
        self.d.resize(x.len() / QK, 0.0);
        for ((xb, qb), d) in x
            .chunks_exact(QK)
            .zip(self.q.chunks_exact_mut(QK))
            .zip(self.d.iter_mut())
        {
            let amax = xb.iter().fold(0f32, |m, v| m.max(v.abs()));
            let dd = amax / 127.0;
            let id = if dd > 0.0 { 1.0 / dd } else { 0.0 };
            for (q, &v) in qb.iter_mut().zip(xb) {
                *q = round_even(v * id).clamp(-128.0, 127.0) as i16;
            }
            *d = dd;
        }
    }
}

/// Pairwise products summed into 16 lanes (the `pmaddwd` / `vpmaddwd` pattern).
#[inline(always)]
fn block_madd(w: &[i16; QK], a: &[i16; QK]) -> [i32; 16] {
    let mut r = [0i32; 16];
    for (i, r) in r.iter_mut().enumerate() {
        *r = i32::from(w[2 * i]) * i32::from(a[2 * i])
            + i32::from(w[2 * i + 1]) * i32::from(a[2 * i + 1]);
    }
    r
}

/// Round half to even (what C's `lrintf` does) for `|x| < 2^22`, without a libm call:
/// adding and subtracting `1.5 · 2^23` leaves the integer part, rounded by the FPU.
#[inline(always)]
fn round_even(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    if x.abs() < 4_194_304.0 {
        (x + MAGIC) - MAGIC
    } else {
        x
    }
}

#[inline(always)]
fn block(s: &[i16], k: usize) -> &[i16; QK] {
    match <&[i16; QK]>::try_from(&s[k * QK..(k + 1) * QK]) {
        Ok(b) => b,
        Err(_) => unreachable_block(),
    }
}

#[cold]
fn unreachable_block() -> &'static [i16; QK] {
    // slices of exactly QK elements always convert; this keeps the kernel panic-free
    &[0; QK]
}

/// Dot products of one weight row with `T` token rows; block partial sums stay in 16
/// `f32` lanes per token, reduced once at the end.
#[inline(always)]
fn row_dots<const T: usize, const FMA: bool>(
    wrow: &[i16],
    wsc: &[f32],
    a: [&[i16]; T],
    d: [&[f32]; T],
) -> [f32; T] {
    let mut facc = [[0f32; 16]; T];
    for (k, &ws) in wsc.iter().enumerate() {
        let wb = block(wrow, k);
        for t in 0..T {
            let m = block_madd(wb, block(a[t], k));
            let sc = ws * d[t][k];
            for (f, &m) in facc[t].iter_mut().zip(&m) {
                *f = if FMA {
                    (m as f32).mul_add(sc, *f)
                } else {
                    *f + m as f32 * sc
                };
            }
        }
    }
    facc.map(|f| f.iter().sum())
}

/// Tokens handled together (their activations stay in cache while the weights stream).
const TOKEN_TILE: usize = 64;

#[inline(always)]
fn matmul_body<const FMA: bool>(w: &QMatrix, bias: &[f32], x: &QActs, y: &mut [f32]) {
    let (rows, cols) = (w.rows, w.cols);
    let nb = cols / QK;
    let tokens = x.q.len() / cols.max(1);
    let arow = |t: usize| &x.q[t * cols..(t + 1) * cols];
    let drow = |t: usize| &x.d[t * nb..(t + 1) * nb];
    for t0 in (0..tokens).step_by(TOKEN_TILE) {
        let t1 = (t0 + TOKEN_TILE).min(tokens);
        for (o, (wrow, wsc)) in
            w.w.chunks_exact(cols)
                .zip(w.scales.chunks_exact(nb))
                .enumerate()
        {
            let b = bias.get(o).copied().unwrap_or(0.0);
            let mut t = t0;
            while t + 4 <= t1 {
                let r = row_dots::<4, FMA>(
                    wrow,
                    wsc,
                    [arow(t), arow(t + 1), arow(t + 2), arow(t + 3)],
                    [drow(t), drow(t + 1), drow(t + 2), drow(t + 3)],
                );
                for (i, v) in r.iter().enumerate() {
                    y[(t + i) * rows + o] = b + v;
                }
                t += 4;
            }
            while t < t1 {
                let [v] = row_dots::<1, FMA>(wrow, wsc, [arow(t)], [drow(t)]);
                y[t * rows + o] = b + v;
                t += 1;
            }
        }
    }
}

fn matmul_generic(w: &QMatrix, bias: &[f32], x: &QActs, y: &mut [f32]) {
    matmul_body::<false>(w, bias, x, y);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn matmul_avx2(w: &QMatrix, bias: &[f32], x: &QActs, y: &mut [f32]) {
    matmul_body::<true>(w, bias, x, y);
}

/// Which kernel `matmul` runs on this CPU.
pub fn kernel_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        return "avx2+fma";
    }
    "generic"
}

/// `y[t, o] = bias[o] + Σ_i W[o, i] · x[t, i]` with `x` already quantized.
pub(crate) fn matmul(w: &QMatrix, bias: &[f32], x: &QActs, y: &mut Vec<f32>) {
    let tokens = x.q.len() / w.cols.max(1);
    y.clear();
    y.resize(tokens * w.rows, 0.0);
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        #[allow(unsafe_code)]
        // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only
        // requirement of calling a `#[target_feature(enable = "avx2,fma")]` function.
        unsafe {
            matmul_avx2(w, bias, x, y);
        }
        return;
    }
    matmul_generic(w, bias, x, y);
}

/// `erf`, Abramowitz & Stegun 7.1.26 evaluated in `f64` (absolute error ≤ 1.5e-7).
pub(crate) fn erf(x: f32) -> f32 {
    let x = f64::from(x);
    let s = x.signum();
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (s * (1.0 - poly * (-a * a).exp())) as f32
}

/// Exact GELU, `x · Φ(x)`.
pub(crate) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `x = layer_norm(x + y)` row by row (`y` optional).
pub(crate) fn add_layer_norm(x: &mut [f32], y: Option<&[f32]>, w: &[f32], b: &[f32], eps: f32) {
    let h = w.len();
    for (t, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            for (r, v) in row.iter_mut().zip(&y[t * h..(t + 1) * h]) {
                *r += v;
            }
        }
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((r, wi), bi) in row.iter_mut().zip(w).zip(b) {
            *r = (*r - mean) * inv * wi + bi;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, e) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-2.0, -0.995_322_3),
        ] {
            assert!((erf(x) - e).abs() < 2e-7, "erf({x}) = {} not {e}", erf(x));
        }
    }

    #[test]
    fn matmul_matches_float_reference() {
        // two rows of 64 inputs; scale 1.0 (f16 0x3c00) and 0.5 (0x3800)
        let (rows, cols) = (3, 64);
        let mut bytes = Vec::new();
        let mut wf = vec![0f32; rows * cols];
        for blk in 0..rows * cols / QK {
            let (bits, d) = if blk % 2 == 0 {
                (0x3c00u16, 1.0)
            } else {
                (0x3800, 0.5)
            };
            bytes.extend_from_slice(&bits.to_le_bytes());
            for j in 0..16 {
                let (lo, hi) = ((j + blk) % 16, (3 * j + 1) % 16);
                bytes.push((lo | (hi << 4)) as u8);
                wf[blk * QK + j] = (lo as f32 - 8.0) * d;
                wf[blk * QK + j + 16] = (hi as f32 - 8.0) * d;
            }
        }
        let w = QMatrix::from_q4(&bytes, rows, cols);
        let x: Vec<f32> = (0..5 * cols)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
            .collect();
        let mut q = QActs::default();
        q.quantize(&x, cols);
        let mut y = Vec::new();
        let bias = [0.5, -1.0, 2.0];
        matmul(&w, &bias, &q, &mut y);
        // The reference arithmetic: activations rounded to Q8_0 per block of 32 (scale
        // max|x| / 127, ties to even), then an exact dot product with the Q4_0 weights.
        let xq: Vec<f32> = x
            .chunks_exact(QK)
            .flat_map(|blk| {
                let d = blk.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                blk.iter().map(move |v| (v / d).round_ties_even() * d)
            })
            .collect();
        for t in 0..5 {
            for o in 0..rows {
                let dot = |xs: &[f32]| {
                    (0..cols)
                        .map(|i| wf[o * cols + i] * xs[t * cols + i])
                        .sum::<f32>()
                        + bias[o]
                };
                let (quantized, exact) = (dot(&xq), dot(&x));
                let got = y[t * rows + o];
                assert!(
                    (got - quantized).abs() < 1e-3 * (1.0 + quantized.abs()),
                    "{got} vs {quantized} (the same arithmetic)"
                );
                // 8-bit activations cost at most a few hundredths per 64 inputs here
                assert!(
                    (got - exact).abs() < 0.2 + 0.01 * exact.abs(),
                    "{got} vs {exact} (float)"
                );
            }
        }
    }
}
