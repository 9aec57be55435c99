//! Conversions between domain values and column values, shared by both backends.
//!
//! Columns are plain SQL integers, reals and text (plus JSON documents), so the only
//! lossy spots are here: `u64` counts saturate at `i64::MAX`, and a `NaN` float may come
//! back from SQLite as `NULL` (SQLite stores NaN as NULL), which we turn back into `NaN`.

use crate::StoreError;
use serde::de::DeserializeOwned;
use vigie_model::{CrisisLevel, Timestamp};

/// Smallest and largest page sizes of [`crate::Store::list_mentions`].
pub(crate) const PAGE_LIMITS: (u32, u32) = (1, 1000);

/// Largest number of signals [`crate::Store::list_signals`] returns in one call.
pub(crate) const MAX_SIGNALS: u32 = 10_000;

/// A position in the `(published_at DESC, id DESC)` order of mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MentionCursor {
    /// `published_at` of the last mention of the previous page, epoch ms.
    pub published_ms: i64,
    /// Store id of that mention.
    pub id: i64,
}

impl MentionCursor {
    /// Encodes as `"<published_ms>:<id>"`. Callers treat it as opaque.
    pub fn encode(self) -> String {
        format!("{}:{}", self.published_ms, self.id)
    }

    /// Parses what [`MentionCursor::encode`] wrote; anything else is [`StoreError::Invalid`].
    pub fn decode(s: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::Invalid {
            what: "cursor",
            detail: format!("{s:?} is not a cursor returned by a previous page"),
        };
        let (published, id) = s.split_once(':').ok_or_else(bad)?;
        let published_ms = published.parse::<i64>().map_err(|_| bad())?;
        let id = id.parse::<i64>().map_err(|_| bad())?;
        if id < 0 {
            return Err(bad());
        }
        Ok(Self { published_ms, id })
    }
}

/// Clamps a requested page size to [`PAGE_LIMITS`].
pub(crate) fn clamp_page_limit(limit: u32) -> u32 {
    limit.clamp(PAGE_LIMITS.0, PAGE_LIMITS.1)
}

/// A `u64` count as a signed column value (saturating: no count comes near `i64::MAX`).
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A signed column value back to a count (negative values cannot be written; read as 0).
pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A crisis level as a `SMALLINT`.
pub(crate) fn level_to_i16(level: CrisisLevel) -> i16 {
    i16::from(level.as_u8())
}

/// A `SMALLINT` back to a crisis level; values outside 0..=3 are corrupt.
pub(crate) fn level_from_i16(n: i16) -> Result<CrisisLevel, StoreError> {
    match u8::try_from(n) {
        Ok(v @ 0..=3) => Ok(CrisisLevel::from_u8(v)),
        _ => Err(StoreError::Corrupt {
            what: "crisis level",
            detail: format!("{n} is not between 0 and 3"),
        }),
    }
}

/// A nullable `REAL` column back to a float (`NULL` is how SQLite stores `NaN`).
pub(crate) fn real_or_nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// Decodes a stored JSON document into a domain value.
pub(crate) fn from_json<T: DeserializeOwned>(
    what: &'static str,
    value: serde_json::Value,
) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

/// Decodes a stored id (a slug) into a typed id.
pub(crate) fn parse_id<T>(what: &'static str, s: String) -> Result<T, StoreError>
where
    T: TryFrom<String, Error = vigie_model::IdError>,
{
    T::try_from(s).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

/// A timestamp column.
pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_model::WatchId;

    #[test]
    fn cursor_round_trips() {
        let c = MentionCursor {
            published_ms: -5,
            id: 42,
        };
        assert_eq!(c.encode(), "-5:42");
        assert_eq!(MentionCursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn malformed_cursors_are_client_errors() {
        for bad in ["", "12", "a:1", "1:b", "1:2:3", "1:-1", " 1:2"] {
            let err = MentionCursor::decode(bad).unwrap_err();
            assert!(err.is_client_error(), "{bad:?}");
        }
    }

    #[test]
    fn limits_and_counts() {
        assert_eq!(clamp_page_limit(0), 1);
        assert_eq!(clamp_page_limit(50), 50);
        assert_eq!(clamp_page_limit(u32::MAX), 1000);
        assert_eq!(to_i64(u64::MAX), i64::MAX);
        assert_eq!(to_u64(-3), 0);
        assert_eq!(to_u64(7), 7);
        assert!(real_or_nan(None).is_nan());
    }

    #[test]
    fn levels_round_trip_and_reject_garbage() {
        for l in [
            CrisisLevel::Calm,
            CrisisLevel::Vigilance,
            CrisisLevel::Alert,
            CrisisLevel::Crisis,
        ] {
            assert_eq!(level_from_i16(level_to_i16(l)).unwrap(), l);
        }
        assert!(level_from_i16(4).is_err());
        assert!(level_from_i16(-1).is_err());
    }

    #[test]
    fn corrupt_values_are_reported() {
        let e = from_json::<Vec<String>>("languages", serde_json::json!(3)).unwrap_err();
        assert!(e.to_string().starts_with("corrupt stored languages"));
        assert!(parse_id::<WatchId>("watch", "Not A Slug".into()).is_err());
        assert_eq!(
            parse_id::<WatchId>("watch", "brand".into())
                .unwrap()
                .as_str(),
            "brand"
        );
    }
}
