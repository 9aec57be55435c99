//! The BERT-style encoder: embeddings, 12 post-norm transformer layers, mean pooling and
//! L2 normalization, as multilingual-e5-small (XLM-R architecture) computes them.

use crate::NeuralError;
use crate::format::{self, Header, Q4_BLOCK_BYTES, QK, f32s};
use crate::kernels::{
    Kernel, QActs, QMatrix, add_layer_norm, dequant_row_q4, dot, exp_f32, gelu, matmul, sum,
};
use crate::tokenizer::Tokenizer;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The text prefix e5 models expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// `query: ` (symmetric tasks such as classification use this one).
    Query,
    /// `passage: `.
    Passage,
}

impl Prefix {
    fn as_str(self) -> &'static str {
        match self {
            Prefix::Query => "query: ",
            Prefix::Passage => "passage: ",
        }
    }
}

#[derive(Debug)]
struct Layer {
    q: QMatrix,
    qb: Vec<f32>,
    k: QMatrix,
    kb: Vec<f32>,
    v: QMatrix,
    vb: Vec<f32>,
    ao: QMatrix,
    aob: Vec<f32>,
    aln_w: Vec<f32>,
    aln_b: Vec<f32>,
    fi: QMatrix,
    fib: Vec<f32>,
    fo: QMatrix,
    fob: Vec<f32>,
    oln_w: Vec<f32>,
    oln_b: Vec<f32>,
}

/// A loaded sentence encoder.
#[derive(Debug)]
pub struct Encoder {
    header: Header,
    tokenizer: Tokenizer,
    /// The Q4_0 word-embedding table (rows of `hidden / 32` blocks).
    word: Vec<u8>,
    pos: Vec<f32>,
    token_type: Vec<f32>,
    eln_w: Vec<f32>,
    eln_b: Vec<f32>,
    layers: Vec<Layer>,
    threads: usize,
    /// The matrix kernel the weights are laid out for.
    kernel: Kernel,
}

/// One forward pass's input: windows of token ids (`<s>` … `</s>`) laid end to end.
struct Batch {
    ids: Vec<u32>,
    /// `[start, end)` of each window in `ids`.
    segments: Vec<(usize, usize)>,
}

/// Scratch buffers of one thread.
#[derive(Default)]
struct Scratch {
    x: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    ctx: Vec<f32>,
    tmp: Vec<f32>,
    mid: Vec<f32>,
    acts: QActs,
    probs: Vec<f32>,
}

/// Tokens per forward pass (several texts share each weight pass).
const BATCH_TOKENS: usize = 2048;

impl Encoder {
    /// Loads a model file (`e5-small-q4.bin` as installed by `vigie model install`).
    pub fn load(path: &Path) -> Result<Self, NeuralError> {
        let bytes = std::fs::read(path).map_err(|e| NeuralError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_bytes(&bytes)
    }

    /// Parses a model image.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NeuralError> {
        let file = format::parse(bytes)?;
        let h = file.header;
        // the VNNI layout works on panels of 16 rows (384 and 1536 for e5-small)
        let kernel = match Kernel::detect() {
            Kernel::Vnni if h.hidden % 16 != 0 || h.ff % 16 != 0 => Kernel::Avx2,
            k => k,
        };
        let f = |name: &str, len: usize| file.tensor(name, 0, len).map(f32s);
        let qm = |name: &str, rows: usize, cols: usize| {
            file.tensor(name, 1, rows * cols)
                .map(|b| QMatrix::from_q4(b, rows, cols, kernel))
        };
        let mut layers = Vec::with_capacity(h.layers);
        for l in 0..h.layers {
            let n = |s: &str| format!("l{l}.{s}");
            layers.push(Layer {
                q: qm(&n("q.w"), h.hidden, h.hidden)?,
                qb: f(&n("q.b"), h.hidden)?,
                k: qm(&n("k.w"), h.hidden, h.hidden)?,
                kb: f(&n("k.b"), h.hidden)?,
                v: qm(&n("v.w"), h.hidden, h.hidden)?,
                vb: f(&n("v.b"), h.hidden)?,
                ao: qm(&n("ao.w"), h.hidden, h.hidden)?,
                aob: f(&n("ao.b"), h.hidden)?,
                aln_w: f(&n("aln.w"), h.hidden)?,
                aln_b: f(&n("aln.b"), h.hidden)?,
                fi: qm(&n("fi.w"), h.ff, h.hidden)?,
                fib: f(&n("fi.b"), h.ff)?,
                fo: qm(&n("fo.w"), h.hidden, h.ff)?,
                fob: f(&n("fo.b"), h.hidden)?,
                oln_w: f(&n("oln.w"), h.hidden)?,
                oln_b: f(&n("oln.b"), h.hidden)?,
            });
        }
        // the table holds every token type; type 0 is its first row
        let token_type = file.tensor_prefix("emb.type", 0, h.hidden)?;
        let encoder = Self {
            header: h,
            word: file
                .tensor("emb.word", 1, h.vocab_rows * h.hidden)?
                .to_vec(),
            pos: f("emb.pos", h.max_positions * h.hidden)?,
            token_type: f32s(token_type).into_iter().take(h.hidden).collect(),
            eln_w: f("emb.ln.w", h.hidden)?,
            eln_b: f("emb.ln.b", h.hidden)?,
            tokenizer: Tokenizer::new(file.tokenizer),
            layers,
            threads: 1,
            kernel,
        };
        if encoder.header.max_positions < 3 {
            return Err(NeuralError::Format("fewer than 3 positions".into()));
        }
        Ok(encoder)
    }

    /// Uses `threads` worker threads for [`Encoder::embed`] (1 by default).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The model's hyper-parameters.
    pub fn header(&self) -> Header {
        self.header
    }

    /// Embedding size (384).
    pub fn dim(&self) -> usize {
        self.header.hidden
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Heap bytes held by the weights and tables (an estimate of the resident size).
    pub fn weight_bytes(&self) -> usize {
        let l: usize = self
            .layers
            .iter()
            .map(|l| {
                l.q.heap_bytes()
                    + l.k.heap_bytes()
                    + l.v.heap_bytes()
                    + l.ao.heap_bytes()
                    + l.fi.heap_bytes()
                    + l.fo.heap_bytes()
            })
            .sum();
        l + self.word.len() + self.pos.len() * 4
    }

    /// Token ids (with `<s>`/`</s>`) the model reads for `text`.
    pub fn token_ids(&self, text: &str, prefix: Prefix) -> Vec<u32> {
        let mut ids = vec![self.tokenizer.bos];
        ids.extend(self.tokenizer.encode(&format!("{}{text}", prefix.as_str())));
        ids.push(self.tokenizer.eos);
        ids
    }

    /// L2-normalized mean-pooled embeddings of `texts` (`dim()` values each).
    ///
    /// Texts longer than the model's window are cut into windows of at most 510 tokens;
    /// the result is the token-weighted mean of the windows' pooled vectors.
    pub fn embed(&self, texts: &[&str], prefix: Prefix) -> Vec<Vec<f32>> {
        let hidden = self.header.hidden;
        let wmax = self.header.max_positions - 2;
        // 1. windows: (text, content tokens)
        let mut windows: Vec<(usize, Vec<u32>)> = Vec::with_capacity(texts.len());
        for (i, t) in texts.iter().enumerate() {
            let content = self.tokenizer.encode(&format!("{}{t}", prefix.as_str()));
            if content.is_empty() {
                windows.push((i, Vec::new()));
            }
            for chunk in content.chunks(wmax) {
                windows.push((i, chunk.to_vec()));
            }
        }
        // 2. batches of similar lengths
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&w| windows[w].1.len());
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut cur = Vec::new();
        let mut cur_tokens = 0;
        for w in order {
            let n = windows[w].1.len() + 2;
            if !cur.is_empty() && cur_tokens + n > BATCH_TOKENS {
                batches.push(std::mem::take(&mut cur));
                cur_tokens = 0;
            }
            cur.push(w);
            cur_tokens += n;
        }
        if !cur.is_empty() {
            batches.push(cur);
        }
        // 3. forward passes, spread over the threads (longest batches first)
        batches.reverse();
        let next = AtomicUsize::new(0);
        let run = |scratch: &mut Scratch| {
            let mut done = Vec::new();
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                let Some(members) = batches.get(b) else { break };
                let mut batch = Batch {
                    ids: Vec::new(),
                    segments: Vec::with_capacity(members.len()),
                };
                for &w in members {
                    let start = batch.ids.len();
                    batch.ids.push(self.tokenizer.bos);
                    batch.ids.extend_from_slice(&windows[w].1);
                    batch.ids.push(self.tokenizer.eos);
                    batch.segments.push((start, batch.ids.len()));
                }
                let pooled = self.forward(&batch, scratch);
                for (k, &w) in members.iter().enumerate() {
                    done.push((w, pooled[k * hidden..(k + 1) * hidden].to_vec()));
                }
            }
            done
        };
        let threads = self.threads.min(batches.len()).max(1);
        let results: Vec<(usize, Vec<f32>)> = if threads == 1 {
            run(&mut Scratch::default())
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|_| s.spawn(|| run(&mut Scratch::default())))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect()
            })
        };
        // 4. token-weighted mean of the windows, then L2 normalization
        let mut out = vec![vec![0f32; hidden]; texts.len()];
        let mut weights = vec![0f64; texts.len()];
        for (w, pooled) in results {
            let (text, content) = &windows[w];
            let wgt = content.len().max(1) as f32;
            for (o, p) in out[*text].iter_mut().zip(&pooled) {
                *o += wgt * p;
            }
            weights[*text] += f64::from(wgt);
        }
        for (v, w) in out.iter_mut().zip(&weights) {
            let inv = if *w > 0.0 { (1.0 / w) as f32 } else { 1.0 };
            let mut norm = 0f32;
            for x in v.iter_mut() {
                *x *= inv;
                norm += *x * *x;
            }
            let n = 1.0 / norm.max(1e-12).sqrt();
            for x in v.iter_mut() {
                *x *= n;
            }
        }
        out
    }

    /// One forward pass; returns the mean-pooled (not normalized) vector of each segment.
    ///
    /// The whole pass (attention, softmax, GELU, layer norms, quantization) is compiled a
    /// second and third time with AVX-512 or AVX2 enabled, and the copy this CPU runs is
    /// chosen here (docs/design/neural.md, "`unsafe_code`").
    fn forward(&self, batch: &Batch, s: &mut Scratch) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 =
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            if avx2 && self.kernel == Kernel::Vnni && Kernel::detect() == Kernel::Vnni {
                #[allow(unsafe_code)]
                // SAFETY: AVX-512 F, BW, VNNI (`Kernel::detect`) and AVX2, FMA were just
                // detected: the only requirement of calling a function compiled with them.
                return unsafe { self.forward_avx512(batch, s) };
            }
            if avx2 {
                #[allow(unsafe_code)]
                // SAFETY: AVX2 and FMA were just detected: the only requirement of calling a
                // function compiled with them.
                return unsafe { self.forward_avx2(batch, s) };
            }
        }
        self.forward_body(batch, s)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma")]
    fn forward_avx512(&self, batch: &Batch, s: &mut Scratch) -> Vec<f32> {
        self.forward_body(batch, s)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn forward_avx2(&self, batch: &Batch, s: &mut Scratch) -> Vec<f32> {
        self.forward_body(batch, s)
    }

    #[inline(always)]
    fn forward_body(&self, batch: &Batch, s: &mut Scratch) -> Vec<f32> {
        let h = self.header.hidden;
        let heads = self.header.heads;
        let hd = h / heads;
        let eps = self.header.eps;
        let t_all = batch.ids.len();
        let row_bytes = h / QK * Q4_BLOCK_BYTES;

        s.x.clear();
        s.x.resize(t_all * h, 0.0);
        for &(a, b) in &batch.segments {
            for t in a..b {
                let id = batch.ids[t] as usize;
                let p = (t - a).min(self.header.max_positions - 1);
                let row = &mut s.x[t * h..(t + 1) * h];
                if let Some(bytes) = self.word.get(id * row_bytes..(id + 1) * row_bytes) {
                    dequant_row_q4(bytes, row);
                }
                for ((r, pp), ty) in row
                    .iter_mut()
                    .zip(&self.pos[p * h..(p + 1) * h])
                    .zip(&self.token_type)
                {
                    *r += pp + ty;
                }
            }
        }
        add_layer_norm(&mut s.x, None, &self.eln_w, &self.eln_b, eps);

        let scale = 1.0 / (hd as f32).sqrt();
        for l in &self.layers {
            s.acts.quantize(&s.x, h, self.kernel);
            matmul(&l.q, &l.qb, &s.acts, &mut s.q);
            matmul(&l.k, &l.kb, &s.acts, &mut s.k);
            matmul(&l.v, &l.vb, &s.acts, &mut s.v);
            s.ctx.clear();
            s.ctx.resize(t_all * h, 0.0);
            for &(a, b) in &batch.segments {
                s.probs.resize(b - a, 0.0);
                for t in a..b {
                    for head in 0..heads {
                        let off = head * hd;
                        let qh = &s.q[t * h + off..t * h + off + hd];
                        let mut mx = f32::NEG_INFINITY;
                        for (j, src) in (a..b).enumerate() {
                            let kh = &s.k[src * h + off..src * h + off + hd];
                            let d = dot(qh, kh) * scale;
                            s.probs[j] = d;
                            mx = mx.max(d);
                        }
                        for p in s.probs.iter_mut() {
                            *p = exp_f32(*p - mx);
                        }
                        let sum = sum(&s.probs);
                        let inv = 1.0 / sum;
                        let ch = &mut s.ctx[t * h + off..t * h + off + hd];
                        weighted_rows(ch, &s.probs, inv, &s.v[a * h..b * h], (h, off));
                    }
                }
            }
            s.acts.quantize(&s.ctx, h, self.kernel);
            matmul(&l.ao, &l.aob, &s.acts, &mut s.tmp);
            add_layer_norm(&mut s.x, Some(&s.tmp), &l.aln_w, &l.aln_b, eps);

            s.acts.quantize(&s.x, h, self.kernel);
            matmul(&l.fi, &l.fib, &s.acts, &mut s.mid);
            for v in s.mid.iter_mut() {
                *v = gelu(*v);
            }
            s.acts.quantize(&s.mid, self.header.ff, self.kernel);
            matmul(&l.fo, &l.fob, &s.acts, &mut s.tmp);
            add_layer_norm(&mut s.x, Some(&s.tmp), &l.oln_w, &l.oln_b, eps);
        }

        let mut pooled = vec![0f32; batch.segments.len() * h];
        for (k, &(a, b)) in batch.segments.iter().enumerate() {
            let o = &mut pooled[k * h..(k + 1) * h];
            for t in a..b {
                for (o, x) in o.iter_mut().zip(&s.x[t * h..(t + 1) * h]) {
                    *o += x;
                }
            }
            let inv = 1.0 / (b - a) as f32;
            for v in o.iter_mut() {
                *v *= inv;
            }
        }
        pooled
    }
}

/// `out = inv · Σ_j p_j · v_j`, where `v_j` are the `out.len()` values at `off` of row `j`
/// of `v` (rows of `h`); the sum stays in registers when a head has 32 values (e5-small).
#[inline(always)]
fn weighted_rows(out: &mut [f32], probs: &[f32], inv: f32, v: &[f32], (h, off): (usize, usize)) {
    const HD: usize = 32;
    if let Ok(out) = <&mut [f32; HD]>::try_from(&mut *out) {
        let mut acc = [0f32; HD];
        for (row, &p) in v.chunks_exact(h).zip(probs) {
            let vh = &row[off..off + HD];
            for i in 0..HD {
                acc[i] += p * vh[i];
            }
        }
        for (o, a) in out.iter_mut().zip(acc) {
            *o = a * inv;
        }
        return;
    }
    let hd = out.len();
    for (row, &p) in v.chunks_exact(h).zip(probs) {
        for (o, x) in out.iter_mut().zip(&row[off..off + hd]) {
            *o += p * inv * x;
        }
    }
}
