//! The Numenta Anomaly Benchmark (NAB v1.1) in Rust: a reader for its layout, an exact
//! re-implementation of its scorer (probation, windows, scaled sigmoid, profiles, corpus-wide
//! threshold optimisation, normalisation), a runner for Vigie's streaming anomaly detector and
//! a reader/writer of NAB's results layout.
//!
//! ```
//! use vigie_nab::score::{Profile, ScoredFile, optimise, normalise};
//!
//! let scores = [0.0, 0.0, 0.0, 0.9, 0.0, 0.0];
//! let windows = [(3usize, 4usize)];
//! let standard = &Profile::nab_defaults()[0];
//! let f = ScoredFile { scores: &scores, windows: &windows, probation: 1 };
//! let best = optimise(&[f], standard);
//! assert_eq!(best.threshold, 0.9);
//! assert!((normalise(best.raw, 1, standard) - 100.0).abs() < 1e-9);
//! ```

pub mod error;
pub mod layout;
pub mod results;
pub mod run;
pub mod score;

pub use error::NabError;
pub use layout::{Corpus, DataFile, Row};
pub use run::{ProfileResult, Report, evaluate, run_detector};
pub use score::{FileScore, Optimum, Profile, normalise, optimise, score_file};
