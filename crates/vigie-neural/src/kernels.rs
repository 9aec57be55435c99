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

/// A `rows × cols` weight matrix, laid out for the kernel this CPU runs.
#[derive(Debug, Clone)]
pub struct QMatrix {
    /// Output rows.
    pub rows: usize,
    /// Input columns (a multiple of 32).
    pub cols: usize,
    layout: Layout,
}

/// How a matrix is held.
#[derive(Debug, Clone)]
enum Layout {
    /// Row-major `rows × cols` values in `−8..=7` widened to `i16`, and `rows × cols / 32`
    /// block scales (the portable and AVX2 kernels).
    Wide { w: Vec<i16>, scales: Vec<f32> },
    /// Panels of 16 rows for `vpdpbusd` (AVX-512 VNNI): for panel `p`, block `k` and group
    /// `g` of 4 columns, one 64-byte vector holds the 4 raw nibbles (`0..=15`, i.e. the
    /// weight + 8) of each of the 16 rows, row by row; `scales[p · nb + k]` holds the 16
    /// rows' block scales.
    Panels {
        w: Vec<[u64; 8]>,
        scales: Vec<[f32; PANEL]>,
    },
}

/// Rows per panel of the VNNI layout (one 512-bit vector of `i32`).
const PANEL: usize = 16;

/// The matrix kernel a process uses (chosen once from the CPU's features).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// Plain Rust compiled for the baseline target.
    Generic,
    /// The same code compiled with AVX2 and FMA.
    Avx2,
    /// AVX-512 VNNI: 8-bit products summed by `vpdpbusd`, 16 rows × 8 tokens at a time.
    Vnni,
}

impl Kernel {
    /// The best kernel this CPU runs.
    pub(crate) fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vnni")
            {
                return Kernel::Vnni;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Kernel::Avx2;
            }
        }
        Kernel::Generic
    }
}

impl QMatrix {
    /// Widens Q4_0 bytes (`rows × cols / 32` blocks of 18 bytes) for `kernel`.
    pub(crate) fn from_q4(bytes: &[u8], rows: usize, cols: usize, kernel: Kernel) -> Self {
        let nb = cols / QK;
        let mut w = vec![0i16; rows * cols];
        let mut scales = vec![0f32; rows * nb];
        for ((blk, out), s) in bytes
            .chunks_exact(Q4_BLOCK_BYTES)
            .zip(w.chunks_exact_mut(QK))
            .zip(scales.iter_mut())
        {
            *s = f16_to_f32(u16::from_le_bytes([blk[0], blk[1]]));
            dequant_nibbles(&blk[2..], out);
        }
        let layout = if kernel == Kernel::Vnni && rows.is_multiple_of(PANEL) {
            let panels = rows / PANEL;
            let mut pw = Vec::with_capacity(panels * nb * 8);
            let mut ps = Vec::with_capacity(panels * nb);
            for p in 0..panels {
                for k in 0..nb {
                    ps.push(std::array::from_fn(|r| scales[(p * PANEL + r) * nb + k]));
                    for g in 0..QK / 4 {
                        // lane r: the 4 columns k·32 + 4g … + 3 of row p·16 + r
                        let byte = |r: usize, j: usize| {
                            (w[(p * PANEL + r) * cols + k * QK + 4 * g + j] + 8) as u8
                        };
                        pw.push(std::array::from_fn(|l| {
                            u64::from_le_bytes(std::array::from_fn(|b| byte(2 * l + b / 4, b % 4)))
                        }));
                    }
                }
            }
            Layout::Panels { w: pw, scales: ps }
        } else {
            Layout::Wide { w, scales }
        };
        Self { rows, cols, layout }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        match &self.layout {
            Layout::Wide { w, scales } => w.len() * 2 + scales.len() * 4,
            Layout::Panels { w, scales } => w.len() * 64 + scales.len() * 4 * PANEL,
        }
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

/// Activations quantized per block of 32 (Q8_0: scale `max|x| / 127`, ties to even), held
/// as `i16` for the portable and AVX2 kernels, or as bytes for the VNNI kernel.
#[derive(Debug, Default)]
pub(crate) struct QActs {
    /// `rows × cols` values (portable and AVX2 kernels).
    q: Vec<i16>,
    /// `rows × cols / 4` groups of 4 signed bytes (VNNI kernel).
    q8: Vec<[u8; 4]>,
    /// Per block: `8 × Σ values` (VNNI kernel; the weights' `+ 8` taken back).
    corr: Vec<i32>,
    /// Per block: the scale.
    d: Vec<f32>,
    cols: usize,
}

impl QActs {
    /// Quantizes `rows × cols` values for `kernel`.
    #[inline(always)]
    pub(crate) fn quantize(&mut self, x: &[f32], cols: usize, kernel: Kernel) {
        self.cols = cols;
        let nb = x.len() / QK;
        self.d.resize(nb, 0.0);
        let bytes = kernel == Kernel::Vnni;
        if bytes {
            self.q.clear();
            self.q8.resize(x.len() / 4, [0; 4]);
            self.corr.resize(nb, 0);
        } else {
            self.q8.clear();
            self.corr.clear();
            self.q.resize(x.len(), 0);
        }
        for (k, xb) in x.chunks_exact(QK).enumerate() {
            let amax = xb
                .iter()
                .fold(0f32, |m, v| if v.abs() > m { v.abs() } else { m });
            let dd = amax / 127.0;
            let id = if dd > 0.0 { 1.0 / dd } else { 0.0 };
            let mut v = [0i8; QK];
            for (q, &x) in v.iter_mut().zip(xb) {
                *q = round_even_i32((x * id).clamp(-128.0, 127.0)) as i8;
            }
            self.d[k] = dd;
            if bytes {
                for (g, o) in self.q8[k * QK / 4..(k + 1) * QK / 4].iter_mut().enumerate() {
                    *o = std::array::from_fn(|j| v[4 * g + j] as u8);
                }
                self.corr[k] = 8 * v.iter().map(|&q| i32::from(q)).sum::<i32>();
            } else {
                for (o, &q) in self.q[k * QK..(k + 1) * QK].iter_mut().zip(&v) {
                    *o = i16::from(q);
                }
            }
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

/// `x` rounded half to even (what C's `lrintf` does) as an integer, for `|x| < 2^22`: after adding `1.5 · 2^23` the value's
/// mantissa bits hold the rounded integer (offset by `2^22`), so no float-to-int
/// conversion (whose saturation rules keep loops scalar) is needed.
#[inline(always)]
fn round_even_i32(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC).to_bits() as i32 - 0x4B40_0000
}

/// Lanes of the partial sums below (one AVX-512 vector).
const LANES: usize = 16;

/// `Σ f(a_i, b_i)` with 16 partial sums (a fixed order, so the compiler may vectorize:
/// a plain `sum()` of floats is one serial chain).
#[inline(always)]
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| f(*x, *y))
        .sum();
    for (xa, xb) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += f(xa[i], xb[i]);
        }
    }
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            acc[i] += acc[i + w];
        }
        w /= 2;
    }
    acc[0] + tail
}

/// `Σ a_i · b_i` (see [`lane_sum`]).
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    lane_sum(a, b, |x, y| x * y)
}

/// `Σ a_i` (see [`lane_sum`]).
#[inline(always)]
pub(crate) fn sum(a: &[f32]) -> f32 {
    lane_sum(a, a, |x, _| x)
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
fn matmul_body<const FMA: bool>(
    (ww, ws): (&[i16], &[f32]),
    cols: usize,
    bias: &[f32],
    x: &QActs,
    y: &mut [f32],
) {
    let nb = cols / QK;
    let rows = ws.len() / nb.max(1);
    let tokens = x.q.len() / cols.max(1);
    let arow = |t: usize| &x.q[t * cols..(t + 1) * cols];
    let drow = |t: usize| &x.d[t * nb..(t + 1) * nb];
    for t0 in (0..tokens).step_by(TOKEN_TILE) {
        let t1 = (t0 + TOKEN_TILE).min(tokens);
        for (o, (wrow, wsc)) in ww.chunks_exact(cols).zip(ws.chunks_exact(nb)).enumerate() {
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

fn matmul_generic(w: (&[i16], &[f32]), cols: usize, bias: &[f32], x: &QActs, y: &mut [f32]) {
    matmul_body::<false>(w, cols, bias, x, y);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn matmul_avx2(w: (&[i16], &[f32]), cols: usize, bias: &[f32], x: &QActs, y: &mut [f32]) {
    matmul_body::<true>(w, cols, bias, x, y);
}

/// The AVX-512 VNNI kernel. Safe Rust: `std::arch` intrinsics without pointers are safe in
/// functions compiled with their features, and vectors are built from and stored to
/// fixed-size arrays (`_mm512_set_*` of consecutive elements, lane extraction), which the
/// compiler turns into plain vector loads and stores (checked in the generated assembly).
#[cfg(target_arch = "x86_64")]
mod vnni {
    use super::{PANEL, QActs, QK};
    use std::arch::x86_64::*;

    /// Tokens per register tile (8 integer and 8 float accumulators).
    const TILE: usize = 8;
    /// Tokens whose activations stay in cache while every panel of the matrix passes.
    const CHUNK: usize = 64;
    /// Groups of 4 columns in a block of 32.
    const G: usize = QK / 4;

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load_w(v: &[u64; 8]) -> __m512i {
        let i = |k: usize| v[k] as i64;
        _mm512_set_epi64(i(7), i(6), i(5), i(4), i(3), i(2), i(1), i(0))
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load_ps(v: &[f32; PANEL]) -> __m512 {
        _mm512_set_ps(
            v[15], v[14], v[13], v[12], v[11], v[10], v[9], v[8], v[7], v[6], v[5], v[4], v[3],
            v[2], v[1], v[0],
        )
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store_ps(v: __m512, out: &mut [f32]) {
        let q = [
            _mm512_extractf32x4_ps::<0>(v),
            _mm512_extractf32x4_ps::<1>(v),
            _mm512_extractf32x4_ps::<2>(v),
            _mm512_extractf32x4_ps::<3>(v),
        ];
        for (o, q) in out.chunks_exact_mut(4).zip(q) {
            o[0] = f32::from_bits(_mm_extract_ps::<0>(q) as u32);
            o[1] = f32::from_bits(_mm_extract_ps::<1>(q) as u32);
            o[2] = f32::from_bits(_mm_extract_ps::<2>(q) as u32);
            o[3] = f32::from_bits(_mm_extract_ps::<3>(q) as u32);
        }
    }

    /// One panel (16 rows) against `T` tokens: per block, 8 `vpdpbusd` per token into
    /// `i32` lanes (one weight vector loaded, used `T` times), then the `+ 8` correction,
    /// conversion and one multiply-add by the two scales into `f32` lanes.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn tile<const T: usize>(
        pw: &[[u64; 8]],
        ps: &[[f32; PANEL]],
        q8: [&[[u8; 4]]; T],
        corr: [&[i32]; T],
        d: [&[f32]; T],
    ) -> [__m512; T] {
        let mut facc = [_mm512_setzero_ps(); T];
        for (k, (wk, sk)) in pw.chunks_exact(G).zip(ps).enumerate() {
            let mut iacc = [_mm512_setzero_si512(); T];
            let mut ak: [&[[u8; 4]]; T] = [&[]; T];
            for t in 0..T {
                ak[t] = &q8[t][k * G..(k + 1) * G];
            }
            for (g, wg) in wk.iter().enumerate() {
                let wz = load_w(wg);
                for t in 0..T {
                    let a = _mm512_set1_epi32(i32::from_le_bytes(ak[t][g]));
                    iacc[t] = _mm512_dpbusd_epi32(iacc[t], wz, a);
                }
            }
            let ws = load_ps(sk);
            for t in 0..T {
                let i = _mm512_sub_epi32(iacc[t], _mm512_set1_epi32(corr[t][k]));
                let sc = _mm512_mul_ps(ws, _mm512_set1_ps(d[t][k]));
                facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), sc, facc[t]);
            }
        }
        facc
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn run<const T: usize>(
        (pw, ps): (&[[u64; 8]], &[[f32; PANEL]]),
        x: &QActs,
        t: usize,
        bias: __m512,
        (p, rows): (usize, usize),
        y: &mut [f32],
    ) {
        let (nb, g4) = (ps.len(), ps.len() * G);
        let mut q8: [&[[u8; 4]]; T] = [&[]; T];
        let mut corr: [&[i32]; T] = [&[]; T];
        let mut d: [&[f32]; T] = [&[]; T];
        for i in 0..T {
            q8[i] = &x.q8[(t + i) * g4..(t + i + 1) * g4];
            corr[i] = &x.corr[(t + i) * nb..(t + i + 1) * nb];
            d[i] = &x.d[(t + i) * nb..(t + i + 1) * nb];
        }
        let r = tile::<T>(pw, ps, q8, corr, d);
        for (i, v) in r.into_iter().enumerate() {
            let o = (t + i) * rows + p * PANEL;
            store_ps(_mm512_add_ps(v, bias), &mut y[o..o + PANEL]);
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) fn matmul(
        (pw, ps): (&[[u64; 8]], &[[f32; PANEL]]),
        (rows, cols): (usize, usize),
        bias: &[f32],
        x: &QActs,
        y: &mut [f32],
    ) {
        let nb = cols / QK;
        let panels = rows / PANEL;
        let tokens = x.d.len() / nb.max(1);
        if nb == 0 || x.q8.len() != tokens * nb * G || pw.len() != panels * nb * G {
            return; // activations not quantized for this kernel: left at zero
        }
        for t0 in (0..tokens).step_by(CHUNK) {
            let t1 = (t0 + CHUNK).min(tokens);
            for p in 0..panels {
                let w = (&pw[p * nb * G..(p + 1) * nb * G], &ps[p * nb..(p + 1) * nb]);
                let b = match bias.get(p * PANEL..(p + 1) * PANEL) {
                    Some(b) => load_ps(b.try_into().unwrap_or(&[0.0; PANEL])),
                    None => _mm512_setzero_ps(),
                };
                let mut t = t0;
                while t + TILE <= t1 {
                    run::<TILE>(w, x, t, b, (p, rows), y);
                    t += TILE;
                }
                if t + 4 <= t1 {
                    run::<4>(w, x, t, b, (p, rows), y);
                    t += 4;
                }
                while t < t1 {
                    run::<1>(w, x, t, b, (p, rows), y);
                    t += 1;
                }
            }
        }
    }
}

/// Which kernel `matmul` runs on this CPU.
pub fn kernel_name() -> &'static str {
    match Kernel::detect() {
        Kernel::Vnni => "avx512-vnni",
        Kernel::Avx2 => "avx2+fma",
        Kernel::Generic => "generic",
    }
}

/// `y[t, o] = bias[o] + Σ_i W[o, i] · x[t, i]` with `x` already quantized for the kernel
/// the matrix was laid out for.
pub(crate) fn matmul(w: &QMatrix, bias: &[f32], x: &QActs, y: &mut Vec<f32>) {
    let tokens = x.d.len() / (w.cols / QK).max(1);
    y.clear();
    y.resize(tokens * w.rows, 0.0);
    match &w.layout {
        Layout::Wide { w: ww, scales } => {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                #[allow(unsafe_code)]
                // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only
                // requirement of calling a `#[target_feature(enable = "avx2,fma")]` function.
                unsafe {
                    matmul_avx2((ww, scales), w.cols, bias, x, y);
                }
                return;
            }
            matmul_generic((ww, scales), w.cols, bias, x, y);
        }
        Layout::Panels { w: pw, scales } => {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vnni")
            {
                #[allow(unsafe_code)]
                // SAFETY: the CPU supports AVX-512 F, BW and VNNI (checked just above), the
                // only requirement of calling a function compiled with those features.
                unsafe {
                    vnni::matmul((pw, scales), (w.rows, w.cols), bias, x, y);
                }
            }
            // (panels are only built when `Kernel::detect` found VNNI)
        }
    }
}

/// `eˣ` in `f32` without a libm call, so that loops over it vectorize: `x = n·ln 2 + r`,
/// `eʳ` by the Cephes minimax polynomial (relative error ≈ 1e-7), `2ⁿ` built in the
/// exponent bits. Inputs are clamped to `[−87.3, 88.3]` (results stay normal and finite).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.3);
    let ni = round_even_i32(x * std::f32::consts::LOG2_E);
    let n = ni as f32;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = 1.987_569_2e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_65;
    let p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((ni + 127) as u32) << 23)
}

/// `erf`, Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7, plus `f32` rounding).
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    (1.0 - poly * exp_f32(-a * a)).copysign(x)
}

/// Exact GELU, `x · Φ(x)`.
#[inline(always)]
pub(crate) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `x = layer_norm(x + y)` row by row (`y` optional).
#[inline(always)]
pub(crate) fn add_layer_norm(x: &mut [f32], y: Option<&[f32]>, w: &[f32], b: &[f32], eps: f32) {
    let h = w.len();
    for (t, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            for (r, v) in row.iter_mut().zip(&y[t * h..(t + 1) * h]) {
                *r += v;
            }
        }
        let mean = sum(row) / h as f32;
        let var = lane_sum(row, row, |v, _| (v - mean) * (v - mean)) / h as f32;
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
    fn exp_matches_libm() {
        for i in -1700..=1700 {
            let x = i as f32 * 0.05 + 0.013;
            let (got, want) = (exp_f32(x), x.exp());
            assert!(
                (got - want).abs() <= 3e-7 * want,
                "exp({x}) = {got} not {want}"
            );
        }
    }

    #[test]
    fn erf_matches_known_values() {
        for (x, e) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-2.0, -0.995_322_3),
        ] {
            assert!((erf(x) - e).abs() < 4e-7, "erf({x}) = {} not {e}", erf(x));
        }
    }

    fn run(bytes: &[u8], rows: usize, cols: usize, bias: &[f32], x: &[f32], k: Kernel) -> Vec<f32> {
        let w = QMatrix::from_q4(bytes, rows, cols, k);
        let mut q = QActs::default();
        q.quantize(x, cols, k);
        let mut y = Vec::new();
        matmul(&w, bias, &q, &mut y);
        y
    }

    #[test]
    fn the_vnni_kernel_matches_the_portable_one() {
        if Kernel::detect() != Kernel::Vnni {
            eprintln!("skipped: this CPU has no AVX-512 VNNI");
            return;
        }
        // 48 rows (3 panels) × 96 inputs, 13 tokens (a tile of 8, one of 4, one single)
        let (rows, cols, tokens) = (48, 96, 13);
        let mut bytes = Vec::new();
        for blk in 0..rows * cols / QK {
            // f16 scales 0.25, 0.5, 0.75, 1.0, 1.5, ≈ 0.1
            let bits = [0x3400u16, 0x3800, 0x3a00, 0x3c00, 0x3e00, 0x2e66][blk % 6];
            bytes.extend_from_slice(&bits.to_le_bytes());
            for j in 0..16 {
                bytes.push((((j * 5 + blk) % 16) | (((j * 11 + 3 * blk) % 16) << 4)) as u8);
            }
        }
        let x: Vec<f32> = (0..tokens * cols)
            .map(|i| ((i * 53 % 41) as f32 - 20.0) / 9.0)
            .collect();
        let bias: Vec<f32> = (0..rows).map(|r| r as f32 * 0.1 - 2.0).collect();
        let a = run(&bytes, rows, cols, &bias, &x, Kernel::Generic);
        let b = run(&bytes, rows, cols, &bias, &x, Kernel::Vnni);
        assert_eq!(a.len(), b.len());
        for (i, (a, b)) in a.iter().zip(&b).enumerate() {
            assert!(
                (a - b).abs() < 1e-4 * (1.0 + a.abs()),
                "output {i}: {a} vs {b}"
            );
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
        let x: Vec<f32> = (0..5 * cols)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
            .collect();
        let bias = [0.5, -1.0, 2.0];
        let y = run(&bytes, rows, cols, &bias, &x, Kernel::Generic);
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
