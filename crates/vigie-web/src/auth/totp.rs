//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) and the
//! base32 encoding (RFC 4648, no padding) authenticator apps use for the secret.

use hmac::{KeyInit, Mac};
use vigie_model::Timestamp;

/// Seconds per TOTP step.
pub const STEP_SECONDS: i64 = 30;
/// Steps accepted before and after the current one (clock drift of the phone).
pub const DRIFT_STEPS: i64 = 1;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, spaces and `=` ignored); `None` on any other character.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase();
        let v = BASE32.iter().position(|&b| char::from(b) == c)?;
        buffer = (buffer << 5) | u32::try_from(v).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The HOTP value (RFC 4226) of `counter`, as 6 digits.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        // HMAC accepts keys of any length; this branch is unreachable in practice.
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let code = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    code % 1_000_000
}

/// The TOTP value at `now`.
pub fn totp(secret: &[u8], now: Timestamp) -> u32 {
    hotp(secret, step(now))
}

fn step(now: Timestamp) -> u64 {
    u64::try_from(now.as_secs().div_euclid(STEP_SECONDS)).unwrap_or(0)
}

/// Whether `code` (6 digits, spaces allowed) is valid at `now` for the base32 `secret`,
/// allowing [`DRIFT_STEPS`] of clock drift.
pub fn verify(secret_base32: &str, code: &str, now: Timestamp) -> bool {
    verify_step(secret_base32, code, now).is_some()
}

/// The time step `code` belongs to when it is valid at `now` (within [`DRIFT_STEPS`]), to be
/// recorded so that the same code cannot be used twice (RFC 6238 §5.2): see
/// `AccountStore::use_totp_step`.
pub fn verify_step(secret_base32: &str, code: &str, now: Timestamp) -> Option<u64> {
    let secret = base32_decode(secret_base32)?;
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given = digits.parse::<u32>().ok()?;
    let current = i64::try_from(step(now)).unwrap_or(0);
    // Every candidate is computed (no early exit), so timing says nothing about which one
    // matched.
    let mut found = None;
    for d in -DRIFT_STEPS..=DRIFT_STEPS {
        let s = u64::try_from(current + d).unwrap_or(0);
        let same: bool = subtle::ConstantTimeEq::ct_eq(&hotp(&secret, s), &given).into();
        if same && found.is_none() {
            found = Some(s);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app imports.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1 key "12345678901234567890", 8 digits there; we keep 6
        // (the last 6 digits of the published values).
        let key = b"12345678901234567890";
        for (secs, expected) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
        ] {
            assert_eq!(
                totp(key, Timestamp::from_millis(secs * 1000)),
                expected,
                "{secs}"
            );
        }
    }

    #[test]
    fn base32_round_trip_and_rfc4648_vectors() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert!(base32_decode("MZ1!").is_none());
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn verify_accepts_drift_and_refuses_the_rest() {
        let secret = base32_encode(b"12345678901234567890");
        let now = Timestamp::from_millis(1_111_111_109_000);
        assert!(verify(&secret, "081804", now));
        assert!(verify(&secret, "081 804", now));
        let previous = format!(
            "{:06}",
            totp(
                b"12345678901234567890",
                Timestamp::from_millis(1_111_111_079_000)
            )
        );
        assert!(verify(&secret, &previous, now));
        let far = format!(
            "{:06}",
            totp(
                b"12345678901234567890",
                Timestamp::from_millis(1_111_110_000_000)
            )
        );
        assert!(!verify(&secret, &far, now));
        assert!(!verify(&secret, "81804", now));
        assert!(!verify(&secret, "abcdef", now));
        assert!(!verify("not base32!", "081804", now));
        // The step is the one the code belongs to (the previous step's code gives it).
        let current = step(now);
        assert_eq!(verify_step(&secret, "081804", now), Some(current));
        assert_eq!(verify_step(&secret, &previous, now), Some(current - 1));
        assert_eq!(verify_step(&secret, &far, now), None);
    }

    #[test]
    fn otpauth_uri_is_escaped() {
        let uri = otpauth_uri("Vigie", "marie@example.org", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/Vigie:marie%40example.org?secret=ABC&issuer=Vigie&algorithm=SHA1&digits=6&period=30"
        );
    }
}
