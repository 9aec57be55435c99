#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// splitmix64 uniform in [0, 1).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Noisy series with a daily cycle (5-minute steps) and optional spikes at given rows.
fn series(n: usize, spikes: &[usize], seed: u64) -> Vec<(i64, f64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let phase = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
            let mut v = 50.0 + 10.0 * phase.sin() + rng.normal();
            if spikes.contains(&i) {
                v += 60.0;
            }
            (i as i64 * 300_000, v)
        })
        .collect()
}

fn run(det: &mut StreamingAnomaly, data: &[(i64, f64)]) -> Vec<AnomalyScore> {
    data.iter().map(|&(t, v)| det.update(t, v)).collect()
}

#[test]
fn learning_rows_score_zero_and_a_spike_is_found() {
    let data = series(2000, &[1500], 1);
    let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(600));
    let out = run(&mut det, &data);
    assert!(out[..600].iter().all(|s| s.score == 0.0));
    let spike = &out[1500];
    let others = out[601..1500]
        .iter()
        .map(|s| s.score)
        .fold(0.0_f64, f64::max);
    assert!(
        spike.score > others,
        "spike {spike:?} vs max before {others}"
    );
    assert!(spike.p_value < 1e-6, "{spike:?}");
    assert!(
        spike
            .reasons
            .iter()
            .any(|(r, _)| matches!(r, Reason::Level | Reason::Change)),
        "{spike:?}"
    );
    assert!(out.iter().all(|s| (0.0..1.0).contains(&s.score)));
}

#[test]
fn a_second_spike_right_after_an_alarm_is_suppressed() {
    let data = series(2000, &[1500, 1510], 2);
    let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(600));
    let out = run(&mut det, &data);
    assert!(out[1500].score > 0.5, "{:?}", out[1500]);
    assert_eq!(out[1510].score, 0.0);
    assert!(out[1510].suppressed);
    assert!(
        out[1510].p_value < 1e-3,
        "still surprising: {:?}",
        out[1510]
    );
}

#[test]
fn same_input_same_output() {
    let data = series(1500, &[1200], 3);
    let mut a = StreamingAnomaly::new(AnomalyParams::with_learning_rows(400));
    let mut b = StreamingAnomaly::new(AnomalyParams::with_learning_rows(400));
    assert_eq!(run(&mut a, &data), run(&mut b, &data));
}

#[test]
fn restored_state_continues_exactly() {
    let data = series(1800, &[1400], 4);
    let params = AnomalyParams::with_learning_rows(500);
    let mut whole = StreamingAnomaly::new(params.clone());
    let expected = run(&mut whole, &data);
    let mut first = StreamingAnomaly::new(params.clone());
    run(&mut first, &data[..900]);
    let saved = serde_json::to_string(&first.state()).unwrap();
    let mut second = StreamingAnomaly::new(params);
    second
        .restore(&serde_json::from_str(&saved).unwrap())
        .unwrap();
    assert_eq!(second.rows(), 900);
    let rest = run(&mut second, &data[900..]);
    assert_eq!(rest, expected[900..]);
}

#[test]
fn bad_state_is_refused_and_changes_nothing() {
    let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(10));
    run(&mut det, &series(50, &[], 5));
    let before = det.clone();
    let mut state = det.state();
    state["version"] = serde_json::json!(99);
    assert!(matches!(
        det.restore(&state),
        Err(DetectError::UnsupportedVersion { found: 99, .. })
    ));
    let mut state = det.state();
    state["values"]["sorted"] = serde_json::json!([3.0, 1.0]);
    assert!(det.restore(&state).is_err());
    assert!(
        det.restore(&serde_json::json!({"version": STATE_VERSION}))
            .is_err()
    );
    assert_eq!(det, before);
}

#[test]
fn invalid_params_are_refused() {
    let bad = AnomalyParams {
        shape_len: 0,
        ..AnomalyParams::default()
    };
    assert!(StreamingAnomaly::try_new(bad.clone()).is_err());
    // `new` repairs them instead.
    assert_eq!(StreamingAnomaly::new(bad).params().shape_len, 12);
    let bad = AnomalyParams {
        alarm_p: 0.0,
        ..AnomalyParams::default()
    };
    assert!(StreamingAnomaly::try_new(bad).is_err());
    let bad = AnomalyParams {
        recur_ratio: f64::NAN,
        ..AnomalyParams::default()
    };
    assert!(StreamingAnomaly::try_new(bad.clone()).is_err());
    assert_eq!(StreamingAnomaly::new(bad).params().recur_ratio, 0.4);
}

#[test]
fn non_finite_values_are_ignored() {
    let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(5));
    run(&mut det, &series(40, &[], 6));
    let rows = det.rows();
    let s = det.update(40 * 300_000, f64::NAN);
    assert_eq!(s.score, 0.0);
    assert_eq!(det.rows(), rows);
}

#[test]
fn small_counts_jump_is_count_surprising() {
    // Per-minute counts around 2, then 14 in one minute.
    let mut rng = Rng(7);
    let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(300));
    let mut last = None;
    for i in 0..700i64 {
        // Poisson(2) by inversion.
        let u = rng.uniform();
        let (mut k, mut p, mut c) = (0u32, (-2.0f64).exp(), (-2.0f64).exp());
        while u > c && k < 20 {
            k += 1;
            p *= 2.0 / f64::from(k);
            c += p;
        }
        let v = if i == 650 { 14.0 } else { f64::from(k) };
        let s = det.update(i * 60_000, v);
        if i == 650 {
            last = Some(s);
        }
    }
    let s = last.unwrap();
    assert!(s.score > 0.5, "{s:?}");
    assert!(s.reasons.iter().any(|(r, _)| *r == Reason::Count), "{s:?}");
}

#[test]
fn a_daily_spike_stops_being_news() {
    // The same spike every day at the same time: after a few days it is expected.
    let spikes: Vec<usize> = (0..12).map(|d| d * 288 + 100).collect();
    let data = series(12 * 288, &spikes, 8);
    let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(600));
    let out = run(&mut det, &data);
    for d in 3..12 {
        let p = out[spikes[d]].p_value;
        assert!(p > 1e-3, "day {d}: p {p}");
    }
}

#[test]
fn a_daily_spike_that_drifts_a_few_rows_is_remembered() {
    // A spike near the same time every day, drifting by up to 5 rows (25 minutes): the
    // recurrence memory scales its surprise down; a spike at a new time of day stays news.
    let spikes: Vec<usize> = (0..12)
        .map(|d| d * 288 + 100 + [0, 3, 5, 1, 4, 2][d % 6])
        .collect();
    let mut all = spikes.clone();
    all.push(11 * 288 + 200);
    let data = series(12 * 288, &all, 9);
    let on = run(
        &mut StreamingAnomaly::new(AnomalyParams::with_learning_rows(600)),
        &data,
    );
    let off = run(
        &mut StreamingAnomaly::new(AnomalyParams {
            recur_ratio: 0.0,
            ..AnomalyParams::with_learning_rows(600)
        }),
        &data,
    );
    for d in 4..12 {
        let (a, b) = (on[spikes[d]].score, off[spikes[d]].score);
        assert!(a < b * 0.6, "day {d}: {a} with memory vs {b} without");
    }
    let new = on[11 * 288 + 200].score;
    assert!(new > 0.5, "a spike at a new time: {new}");
}

#[test]
fn fisher_combination() {
    assert!((fisher([0.5].into_iter()) - 0.5).abs() < 1e-12);
    // Two p = 0.1: X = -2 ln 0.01 = 9.21, P(χ²₄ > 9.21) = 0.01 (1 + 4.605) = 0.05605.
    assert!((fisher([0.1, 0.1].into_iter()) - 0.056_05).abs() < 1e-4);
}

#[test]
fn a_drop_below_every_value_seen_is_a_range_anomaly() {
    // Values between 30 and 40 for 1500 rows, then a fall to 1.
    let mut rng = Rng(9);
    let mut det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(400));
    let mut out = Vec::new();
    for i in 0..1600i64 {
        let v = if i >= 1500 {
            1.0
        } else {
            35.0 + 5.0 * (rng.uniform() - 0.5) * 2.0
        };
        out.push(det.update(i * 300_000, v));
    }
    let before = out[401..1500]
        .iter()
        .map(|s| s.score)
        .fold(0.0_f64, f64::max);
    let drop = &out[1500];
    assert!(drop.score > before, "drop {drop:?} vs max before {before}");
    assert!(drop.score > 0.5, "{drop:?}");
    assert!(
        drop.reasons.iter().any(|(r, _)| *r == Reason::Range),
        "{drop:?}"
    );
}

#[test]
fn an_event_that_grows_over_a_few_rows_reports_once() {
    // Three ever larger spikes on consecutive rows.
    let mut data = series(2000, &[], 10);
    for (k, extra) in [(1500, 20.0), (1501, 40.0), (1502, 80.0)] {
        data[k].1 += extra;
    }
    let no_quiet = AnomalyParams {
        alarm_p: 1e-300,
        ..AnomalyParams::with_learning_rows(600)
    };
    let mut hushed = StreamingAnomaly::new(no_quiet.clone());
    let out = run(&mut hushed, &data);
    assert!(out[1500].score > 0.0, "{:?}", out[1500]);
    assert!(out[1501].suppressed && out[1502].suppressed);
    assert_eq!(out[1501].score + out[1502].score, 0.0);
    // Without the hush a new maximum of surprise is reported again.
    let mut escalating = StreamingAnomaly::new(AnomalyParams {
        hush_rows: 0,
        ..no_quiet
    });
    let out = run(&mut escalating, &data);
    assert!(out[1500].score > 0.0, "{:?}", out[1500]);
    assert!(
        !out[1502].suppressed && out[1502].score > out[1500].score,
        "{:?}",
        &out[1500..1503]
    );
}

#[test]
fn a_fresh_detector_state_round_trips() {
    // The all-time extremes start as finite sentinels, so even an empty state is valid JSON.
    let det = StreamingAnomaly::new(AnomalyParams::with_learning_rows(10));
    let saved = serde_json::to_string(&det.state()).unwrap();
    let mut other = StreamingAnomaly::new(AnomalyParams::with_learning_rows(10));
    other
        .restore(&serde_json::from_str(&saved).unwrap())
        .unwrap();
    assert_eq!(other, det);
}
