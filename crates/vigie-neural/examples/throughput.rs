//! Measures encoder throughput on a TSV file (`label<TAB>text`), and the core's peak
//! arithmetic rate with the same code generation.
//!
//! `cargo run --release -p vigie-neural --example throughput -- MODEL.bin DATA.tsv [THREADS] [LIMIT]`
#![allow(clippy::disallowed_methods)] // a benchmark reads the real clock

use std::time::Instant;
use vigie_neural::{Encoder, Prefix};

fn peak_f32() -> f64 {
    // 16 independent multiply-add chains of 8 lanes: compute-bound, no memory traffic
    let mut acc = [[1.0f32; 8]; 16];
    let m = std::hint::black_box([0.999_999f32; 8]);
    let a = std::hint::black_box([1e-7f32; 8]);
    let iters = 20_000_000u64;
    let t = Instant::now();
    for _ in 0..iters {
        for chain in acc.iter_mut() {
            for (c, (m, a)) in chain.iter_mut().zip(m.iter().zip(&a)) {
                *c = *c * m + a;
            }
        }
    }
    let s = t.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    (iters * 16 * 8 * 2) as f64 / s
}

fn peak_i16() -> f64 {
    // the integer dot product of the matrix kernels: 16-bit products summed into 32 bits
    let a: Vec<i16> = (0..4096).map(|i| (i % 255 - 127) as i16).collect();
    let b: Vec<i16> = (0..4096).map(|i| (i % 15 - 7) as i16).collect();
    let reps = 200_000u64;
    let t = Instant::now();
    let mut total = 0i64;
    for r in 0..reps {
        let bb = std::hint::black_box(&b);
        let mut acc = [0i32; 8];
        for (x, y) in a.chunks_exact(8).zip(bb.chunks_exact(8)) {
            for k in 0..8 {
                acc[k] = acc[k].wrapping_add(i32::from(x[k]) * i32::from(y[k]));
            }
        }
        total += i64::from(acc.iter().fold(0i32, |s, v| s.wrapping_add(*v))) + r as i64;
    }
    let s = t.elapsed().as_secs_f64();
    std::hint::black_box(total);
    (reps * 4096 * 2) as f64 / s
}

/// Peaks of the instructions the AVX-512 kernel uses: `vfmadd` on 16 `f32` lanes and
/// `vpdpbusd` (64 byte products summed into 16 `i32` lanes), 16 independent chains each.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn peak_avx512() -> (f64, f64) {
    use std::arch::x86_64::*;
    let iters = 50_000_000u64;
    let m = _mm512_set1_ps(std::hint::black_box(0.999_999));
    let a = _mm512_set1_ps(std::hint::black_box(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); 16];
    let t = Instant::now();
    for _ in 0..iters {
        for c in acc.iter_mut() {
            *c = _mm512_fmadd_ps(*c, m, a);
        }
    }
    let f = (iters * 16 * 16 * 2) as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    let u = _mm512_set1_epi32(std::hint::black_box(0x0102_0304));
    let v = _mm512_set1_epi32(std::hint::black_box(0x01ff_01ff));
    let mut acc = [_mm512_setzero_si512(); 16];
    let t = Instant::now();
    for _ in 0..iters {
        for c in acc.iter_mut() {
            *c = _mm512_dpbusd_epi32(*c, u, v);
        }
    }
    let i = (iters * 16 * 64 * 2) as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    (f, i)
}

/// CPU seconds used by this process (user + system), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    // fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (num(11) + num(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(model), Some(data)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: throughput MODEL.bin DATA.tsv [THREADS] [LIMIT]");
        std::process::exit(2);
    };
    let threads: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let limit: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let t = Instant::now();
    let enc = match Encoder::load(model.as_ref()) {
        Ok(e) => e.with_threads(threads),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "load: {:.2} s, weights in memory: {:.1} MB",
        t.elapsed().as_secs_f64(),
        enc.weight_bytes() as f64 / 1e6
    );
    let text = std::fs::read_to_string(data).unwrap_or_default();
    let texts: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t))
        .take(limit)
        .collect();
    let tokens: usize = texts
        .iter()
        .map(|t| enc.token_ids(t, Prefix::Query).len())
        .sum();
    let h = enc.header();
    // multiply-adds per token: 4 H×H + 2 H×FF matrices per layer, ×2 FLOP
    let flop_tok = (h.layers * (4 * h.hidden * h.hidden + 2 * h.hidden * h.ff) * 2) as f64;
    let t = Instant::now();
    let c0 = cpu_seconds();
    let out = enc.embed(&texts, Prefix::Query);
    let s = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    println!(
        "CPU time {cpu:.2} s: {:.1} texts per CPU-second, {:.1} GFLOP per CPU-second",
        texts.len() as f64 / cpu,
        tokens as f64 * flop_tok / cpu / 1e9
    );
    println!(
        "{} texts, {} tokens ({:.1}/text) on {threads} thread(s): {:.2} s, {:.1} texts/s, {:.0} tokens/s, {:.1} GFLOP/s in the matrix products",
        out.len(),
        tokens,
        tokens as f64 / texts.len().max(1) as f64,
        s,
        texts.len() as f64 / s,
        tokens as f64 / s,
        tokens as f64 * flop_tok / s / 1e9
    );
    println!("kernel: {}", vigie_neural::kernel_name());
    let c0 = cpu_seconds();
    let t = Instant::now();
    println!(
        "peak f32 multiply-add (this build's code generation): {:.1} GFLOP/s",
        peak_f32() / 1e9
    );
    println!(
        "peak i16 dot product (this build's code generation): {:.1} GOP/s",
        peak_i16() / 1e9
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vnni")
    {
        #[allow(unsafe_code)]
        // SAFETY: AVX-512 F, BW and VNNI were just detected.
        let (f, i) = unsafe { peak_avx512() };
        println!(
            "peak AVX-512 f32 multiply-add (vfmadd, 16 lanes): {:.1} GFLOP/s",
            f / 1e9
        );
        println!(
            "peak AVX-512 VNNI 8-bit dot product (vpdpbusd, the kernel's instruction): {:.1} GOP/s",
            i / 1e9
        );
    }
    println!(
        "(peak loops: wall {:.2} s, CPU {:.2} s; scale the rates by wall/CPU under contention)",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c0
    );
}
