//! A file of embeddings already computed, keyed by a hash of the text (with its prefix),
//! so that training and evaluation embed each text once.
//!
//! Format: the line `vigie-embeddings v1 DIM\n`, then records of a little-endian `u64`
//! key (FNV-1a 64 of `prefix + text`) and `DIM` `f32` values. Records are appended; a
//! truncated last record (an interrupted run) is ignored.

use crate::{Encoder, NeuralError, Prefix};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Embeddings by text key.
#[derive(Debug)]
pub struct EmbeddingCache {
    path: Option<PathBuf>,
    dim: usize,
    map: HashMap<u64, Vec<f32>>,
}

/// The cache key of a text.
pub fn key(prefix: Prefix, text: &str) -> u64 {
    let p = match prefix {
        Prefix::Query => "query: ",
        Prefix::Passage => "passage: ",
    };
    p.bytes()
        .chain(text.bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> NeuralError + '_ {
    move |source| NeuralError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl EmbeddingCache {
    /// An empty cache kept in memory only.
    pub fn in_memory(dim: usize) -> Self {
        Self {
            path: None,
            dim,
            map: HashMap::new(),
        }
    }

    /// Opens (or starts) the cache file at `path`.
    pub fn open(path: &Path, dim: usize) -> Result<Self, NeuralError> {
        let mut map = HashMap::new();
        match std::fs::read(path) {
            Ok(bytes) => {
                let header = format!("vigie-embeddings v1 {dim}\n");
                if !bytes.starts_with(header.as_bytes()) {
                    return Err(NeuralError::Format(format!(
                        "{}: not an embedding cache of dimension {dim}",
                        path.display()
                    )));
                }
                let rec = 8 + 4 * dim;
                for r in bytes[header.len()..].chunks_exact(rec) {
                    let mut k = [0u8; 8];
                    k.copy_from_slice(&r[..8]);
                    map.insert(u64::from_le_bytes(k), crate::format::f32s(&r[8..]));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(io(dir))?;
                }
                std::fs::write(path, format!("vigie-embeddings v1 {dim}\n")).map_err(io(path))?;
            }
            Err(e) => return Err(io(path)(e)),
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            dim,
            map,
        })
    }

    /// Embeddings held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The embedding of `text`, if cached.
    pub fn get(&self, prefix: Prefix, text: &str) -> Option<&[f32]> {
        self.map.get(&key(prefix, text)).map(Vec::as_slice)
    }

    /// Embeds the texts not cached yet, `chunk` at a time, appending each chunk to the
    /// file; `progress(done, total)` is called after each chunk.
    pub fn fill(
        &mut self,
        encoder: &Encoder,
        prefix: Prefix,
        texts: &[&str],
        chunk: usize,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(), NeuralError> {
        let mut seen = std::collections::HashSet::new();
        let todo: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !self.map.contains_key(&key(prefix, t)) && seen.insert(key(prefix, t)))
            .collect();
        let mut done = 0;
        for part in todo.chunks(chunk.max(1)) {
            let vecs = encoder.embed(part, prefix);
            let mut buf = Vec::with_capacity(part.len() * (8 + 4 * self.dim));
            for (t, v) in part.iter().zip(vecs) {
                let k = key(prefix, t);
                buf.extend_from_slice(&k.to_le_bytes());
                for x in &v {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
                self.map.insert(k, v);
            }
            if let Some(path) = &self.path {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map_err(io(path))?;
                f.write_all(&buf).map_err(io(path))?;
            }
            done += part.len();
            progress(done, todo.len());
        }
        Ok(())
    }
}
