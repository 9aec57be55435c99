//! A UTC instant with millisecond precision, stored as epoch milliseconds.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UTC instant, milliseconds since the Unix epoch.
///
/// Integer milliseconds keep arithmetic exact and deterministic, and map to the same
/// `BIGINT` column in SQLite and PostgreSQL. It serializes as an RFC 3339 string.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// A string that is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {input:?}: expected RFC 3339, e.g. 2026-03-01T10:00:00Z")]
pub struct TimestampError {
    /// The rejected input.
    pub input: String,
}

impl Timestamp {
    /// The instant `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    /// Whole seconds since the Unix epoch (floor).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
    /// Parses an RFC 3339 date-time (any offset; converted to UTC).
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimestampError> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|d| Self(d.timestamp_millis()))
            .map_err(|_| TimestampError {
                input: s.to_owned(),
            })
    }
    /// RFC 3339 in UTC, with milliseconds only when they are not zero.
    pub fn to_rfc3339(self) -> String {
        let format = if self.0.rem_euclid(1000) == 0 {
            SecondsFormat::Secs
        } else {
            SecondsFormat::Millis
        };
        self.to_datetime().to_rfc3339_opts(format, true)
    }
    /// The same instant as a chrono `DateTime<Utc>`.
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
    /// From a chrono `DateTime<Utc>`.
    pub fn from_datetime(d: DateTime<Utc>) -> Self {
        Self(d.timestamp_millis())
    }
    /// This instant plus `ms` milliseconds (saturating).
    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
    /// This instant plus `s` seconds (saturating).
    pub const fn plus_secs(self, s: i64) -> Self {
        self.plus_millis(s.saturating_mul(1000))
    }
    /// This instant plus `m` minutes (saturating).
    pub const fn plus_minutes(self, m: i64) -> Self {
        self.plus_millis(m.saturating_mul(60_000))
    }
    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
    /// The start of the `bucket_ms`-wide bucket containing this instant.
    pub const fn floor_to(self, bucket_ms: i64) -> Self {
        if bucket_ms <= 0 {
            return self;
        }
        Self(self.0 - self.0.rem_euclid(bucket_ms))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let t = Timestamp::parse_rfc3339("2026-03-01T10:00:00.250+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T09:00:00.250Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
    }

    #[test]
    fn rejects_garbage() {
        let e = Timestamp::parse_rfc3339("yesterday").unwrap_err();
        assert!(e.to_string().contains("yesterday"));
    }

    #[test]
    fn floors_to_buckets_before_epoch() {
        assert_eq!(Timestamp::from_millis(-1).floor_to(1000).as_millis(), -1000);
        assert_eq!(
            Timestamp::from_millis(1999).floor_to(1000).as_millis(),
            1000
        );
    }
}
