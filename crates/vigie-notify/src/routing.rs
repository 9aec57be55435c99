//! Routing: which routes match a level change, quiet hours, and de-duplication of flapping.

use chrono::NaiveTime;
use std::collections::HashMap;
use std::time::Duration;
use vigie_config::{QuietHours, RouteConfig};
use vigie_model::{CrisisLevel, Timestamp};

/// Whether `route` applies to this workspace, watch and level.
pub fn route_matches(
    route: &RouteConfig,
    workspace: &str,
    watch: &str,
    level: CrisisLevel,
) -> bool {
    route.workspace.as_deref().is_none_or(|w| w == workspace)
        && route.watch.as_deref().is_none_or(|w| w == watch)
        && level.as_u8() >= route.min_level
}

/// Whether `at` falls in the quiet hours (local time in their zone; a window whose end is
/// before its start spans midnight).
pub fn in_quiet_hours(q: &QuietHours, at: Timestamp) -> bool {
    let local: NaiveTime = at.to_datetime().with_timezone(&q.time_zone).time();
    if q.start <= q.end {
        q.start <= local && local < q.end
    } else {
        local >= q.start || local < q.end
    }
}

/// Remembers when each (workspace, watch, level) was last notified, so that a level that
/// flaps (2 → 1 → 2 within the window) is told once.
#[derive(Debug, Default)]
pub struct Dedup {
    last: HashMap<(String, String, u8), Timestamp>,
}

impl Dedup {
    /// `true` if it should be notified now (and records it), `false` if it was notified for
    /// the same watch at this level or higher less than `window` ago.
    pub fn admit(
        &mut self,
        workspace: &str,
        watch: &str,
        level: CrisisLevel,
        now: Timestamp,
        window: Duration,
    ) -> bool {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let recent = (level.as_u8()..=3).any(|l| {
            self.last
                .get(&(workspace.to_owned(), watch.to_owned(), l))
                .is_some_and(|t| now.millis_since(*t) < window_ms)
        });
        if recent {
            return false;
        }
        self.last
            .insert((workspace.to_owned(), watch.to_owned(), level.as_u8()), now);
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn quiet_hours_span_midnight_in_their_time_zone() {
        let q = QuietHours {
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
            time_zone: chrono_tz::Europe::Paris,
        };
        let t = |s| Timestamp::parse_rfc3339(s).unwrap();
        assert!(in_quiet_hours(&q, t("2026-01-10T21:30:00Z"))); // 22:30 Paris
        assert!(in_quiet_hours(&q, t("2026-01-11T05:59:00Z"))); // 06:59
        assert!(!in_quiet_hours(&q, t("2026-01-11T06:00:00Z"))); // 07:00
        assert!(!in_quiet_hours(&q, t("2026-01-10T20:59:00Z"))); // 21:59
    }

    #[test]
    fn flapping_levels_are_told_once_per_window() {
        let mut d = Dedup::default();
        let w = Duration::from_secs(1800);
        let t0 = Timestamp::from_millis(0);
        assert!(d.admit("a", "b", CrisisLevel::Alert, t0, w));
        assert!(!d.admit("a", "b", CrisisLevel::Alert, t0.plus_minutes(10), w));
        // A lower level right after a higher one is not news either.
        assert!(!d.admit("a", "b", CrisisLevel::Vigilance, t0.plus_minutes(10), w));
        // A higher level is.
        assert!(d.admit("a", "b", CrisisLevel::Crisis, t0.plus_minutes(11), w));
        // Another watch is independent, and the window expires.
        assert!(d.admit("a", "c", CrisisLevel::Alert, t0.plus_minutes(11), w));
        assert!(d.admit("a", "b", CrisisLevel::Alert, t0.plus_minutes(45), w));
    }
}
