//! HMAC signatures: outgoing webhooks and acknowledgement links.
//!
//! An acknowledgement link carries `base64url(json payload) "." hex(hmac_sha256(key, payload))`.
//! The payload names the incident, the person (if the link was sent to one), an expiry and a
//! random nonce; the nonce is recorded when the link is used, so a link works once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use vigie_model::Timestamp;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// `hex(HMAC-SHA256(key, body))`, the value of the `X-Vigie-Signature: sha256=…` header.
pub fn sign_hex(key: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Checks `hex(HMAC-SHA256(key, body)) == signature_hex` in constant time.
pub fn verify_hex(key: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// What an acknowledgement link says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckClaims {
    /// Incident id.
    #[serde(rename = "i")]
    pub incident: i64,
    /// Person the link was sent to (`None` for a link posted in a shared channel).
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// Expiry, epoch milliseconds.
    #[serde(rename = "e")]
    pub expires_ms: i64,
    /// Random nonce (single use).
    #[serde(rename = "n")]
    pub nonce: String,
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not of the form `payload.signature`, or the payload is not ours.
    Malformed,
    /// The signature does not match.
    BadSignature,
    /// Past its expiry.
    Expired,
}

impl LinkError {
    /// A short reason for people.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed link",
            Self::BadSignature => "invalid signature",
            Self::Expired => "link expired",
        }
    }
}

/// Signs and checks acknowledgement links with one key.
#[derive(Clone)]
pub struct AckSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for AckSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AckSigner(<redacted>)")
    }
}

impl AckSigner {
    /// A signer with this key (at least 16 bytes is advisable).
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    /// A signer with 32 random bytes: links stop working when the process restarts.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        // getrandom only fails when the OS has no entropy source; a zero key still signs.
        let _ = getrandom::fill(&mut key);
        Self::new(key.to_vec())
    }

    /// A token for `incident` (and `person`), valid until `expires`.
    pub fn issue(&self, incident: i64, person: Option<&str>, expires: Timestamp) -> String {
        let mut nonce = [0u8; 12];
        let _ = getrandom::fill(&mut nonce);
        let claims = AckClaims {
            incident,
            person: person.map(str::to_owned),
            expires_ms: expires.as_millis(),
            nonce: hex::encode(nonce),
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let sig = sign_hex(&self.key, payload.as_bytes());
        format!("{payload}.{sig}")
    }

    /// Checks a token's signature and expiry at `now` (single use is the caller's job:
    /// record [`AckClaims::nonce`]).
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<AckClaims, LinkError> {
        let (payload, sig) = token.split_once('.').ok_or(LinkError::Malformed)?;
        if !verify_hex(&self.key, payload.as_bytes(), sig) {
            return Err(LinkError::BadSignature);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| LinkError::Malformed)?;
        let claims: AckClaims = serde_json::from_slice(&bytes).map_err(|_| LinkError::Malformed)?;
        if now.as_millis() >= claims.expires_ms {
            return Err(LinkError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn webhook_signature_round_trips_and_detects_tampering() {
        let sig = sign_hex(b"k", b"{\"a\":1}");
        assert_eq!(sig.len(), 64);
        assert!(verify_hex(b"k", b"{\"a\":1}", &sig));
        assert!(!verify_hex(b"k", b"{\"a\":2}", &sig));
        assert!(!verify_hex(b"other", b"{\"a\":1}", &sig));
        assert!(!verify_hex(b"k", b"{\"a\":1}", "zz"));
    }

    #[test]
    fn ack_links_expire_and_reject_forgeries() {
        let signer = AckSigner::new(b"0123456789abcdef".to_vec());
        let t0 = Timestamp::from_millis(1_000_000);
        let token = signer.issue(7, Some("alice"), t0.plus_minutes(60));
        let claims = signer.verify(&token, t0).unwrap();
        assert_eq!(claims.incident, 7);
        assert_eq!(claims.person.as_deref(), Some("alice"));
        assert_eq!(
            signer.verify(&token, t0.plus_minutes(60)),
            Err(LinkError::Expired)
        );
        // Another key, or an edited payload, is refused.
        let other = AckSigner::new(b"another key, 16+".to_vec());
        assert_eq!(other.verify(&token, t0), Err(LinkError::BadSignature));
        let (payload, sig) = token.split_once('.').unwrap();
        let forged_claims = AckClaims {
            incident: 8,
            ..claims
        };
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
        assert_ne!(forged, payload);
        assert_eq!(
            signer.verify(&format!("{forged}.{sig}"), t0),
            Err(LinkError::BadSignature)
        );
        assert_eq!(signer.verify("garbage", t0), Err(LinkError::Malformed));
        // Two links for the same incident differ (distinct nonces).
        assert_ne!(signer.issue(7, None, t0), signer.issue(7, None, t0));
    }
}
