//! Development helper: prints the detector's output for one file (`NAB_PARAMS` as nab_dev).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]
use vigie_detect::anomaly::{AnomalyParams, StreamingAnomaly};
use vigie_nab::Corpus;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let name = std::env::args().nth(2).unwrap();
    let corpus = Corpus::load(&dir, None).unwrap();
    let f = corpus
        .files
        .iter()
        .find(|f| f.name.contains(&name))
        .unwrap();
    let mut base = serde_json::to_value(AnomalyParams::default()).unwrap();
    if let Ok(s) = std::env::var("NAB_PARAMS") {
        let patch: serde_json::Value = serde_json::from_str(&s).unwrap();
        for (k, v) in patch.as_object().unwrap() {
            base[k] = v.clone();
        }
    }
    let mut params: AnomalyParams = serde_json::from_value(base).unwrap();
    params.learning_rows = f.probation();
    params.suppression_rows =
        (params.learning_rows as f64 * params.suppression_factor).round() as usize;
    let mut det = StreamingAnomaly::new(params);
    println!("windows {:?} probation {}", f.windows, f.probation());
    for (i, r) in f.rows.iter().enumerate() {
        let s = det.update(r.ts_ms, r.value);
        if i >= f.probation() {
            println!(
                "{i} {} {:.4} {:.3e} {} {:?}",
                r.value, s.score, s.p_value, s.suppressed, s.reasons
            );
        }
    }
}
