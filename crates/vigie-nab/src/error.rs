//! Errors of the NAB reader and scorer.

use std::path::PathBuf;

/// Why a NAB layout, a results layout or a scoring request cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NabError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV file is malformed.
    #[error("{path}:{line}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A JSON file (labels, profiles) is malformed.
    #[error("{path}: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The layout is inconsistent (missing folder, unknown category, window outside the data…).
    #[error("{0}")]
    Layout(String),
}

impl NabError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
