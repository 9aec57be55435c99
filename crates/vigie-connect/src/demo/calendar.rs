//! Paris local time (the story's daily rhythm) and the instants where the phases begin.

use super::{DemoOptions, DemoPhase};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Timelike, Weekday};
use vigie_model::Timestamp;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Minutes after the trigger post where the later phases begin.
pub(crate) const SPREAD_AT_MIN: i64 = 15;
/// The apology of `@orsane`.
pub(crate) const RESPONSE_AT_MIN: i64 = 150;
/// The volume starts decaying.
pub(crate) const DECAY_AT_MIN: i64 = 210;
/// The aftermath phase (as told in the timeline).
pub(crate) const AFTERMATH_AT_MIN: i64 = 240;
/// The story ends this long after the trigger.
pub(crate) const END_AT_MIN: i64 = 40 * 60;

/// The last Sunday of a month with 31 days (March or October), at 01:00 UTC: when France
/// changes between winter (UTC+1) and summer time (UTC+2).
fn last_sunday_0100_utc(year: i32, month: u32) -> Option<i64> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    let back = i64::from(last.weekday().num_days_from_sunday());
    let day = last - Duration::days(back);
    let at = day.and_time(NaiveTime::from_hms_opt(1, 0, 0)?);
    Some(at.and_utc().timestamp_millis())
}

/// Paris's offset from UTC at `t`, in hours (2 in summer time, 1 otherwise).
pub(crate) fn paris_offset_hours(t: Timestamp) -> i64 {
    let year = t.to_datetime().year();
    match (
        last_sunday_0100_utc(year, 3),
        last_sunday_0100_utc(year, 10),
    ) {
        (Some(from), Some(to)) if (from..to).contains(&t.as_millis()) => 2,
        _ => 1,
    }
}

/// Local wall-clock time in Paris as a naive date-time.
fn paris_local(t: Timestamp) -> chrono::NaiveDateTime {
    t.plus_millis(paris_offset_hours(t) * HOUR_MS)
        .to_datetime()
        .naive_utc()
}

/// The hour (0–23) on a Paris clock.
pub(crate) fn paris_hour(t: Timestamp) -> u32 {
    paris_local(t).hour()
}

/// Saturday or Sunday in Paris.
pub(crate) fn paris_weekend(t: Timestamp) -> bool {
    matches!(paris_local(t).weekday(), Weekday::Sat | Weekday::Sun)
}

/// The instant a Paris clock shows `hh:mm` on `date`.
fn paris_instant(date: NaiveDate, hh: u32, mm: u32) -> Option<Timestamp> {
    let local = date.and_time(NaiveTime::from_hms_opt(hh, mm, 0)?);
    let as_if_utc = Timestamp::from_millis(local.and_utc().timestamp_millis());
    // Try winter time first, then summer time; keep the one that reads back correctly.
    [1, 2]
        .into_iter()
        .map(|h| as_if_utc.plus_millis(-h * HOUR_MS))
        .find(|t| paris_local(*t) == local)
        .or(Some(as_if_utc.plus_millis(-HOUR_MS)))
}

/// Where the phases of one story begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeline {
    /// First instant of ordinary chatter.
    pub start: Timestamp,
    /// The trigger post.
    pub onset: Timestamp,
    /// After the last generated instant.
    pub end: Timestamp,
}

impl Timeline {
    /// The first 19:40 on a Paris clock at or after the end of the chatter days.
    pub(crate) fn new(opts: &DemoOptions) -> Self {
        let chatter_end = opts
            .start
            .plus_millis(i64::from(opts.chatter_days).saturating_mul(DAY_MS));
        let date = paris_local(chatter_end).date();
        let onset = [date, date + Duration::days(1)]
            .into_iter()
            .filter_map(|d| paris_instant(d, 19, 40))
            .find(|t| *t >= chatter_end)
            .unwrap_or(chatter_end);
        Self {
            start: opts.start,
            onset,
            end: onset.plus_minutes(END_AT_MIN),
        }
    }

    /// The phases, in order, as the demo prints them.
    pub(crate) fn phases(&self) -> Vec<DemoPhase> {
        vec![
            DemoPhase {
                name: "chatter",
                start: self.start,
                description: "ordinary days: the seasonal drink, the loyalty app, a café opening in Lyon, a promotion day, the odd cold coffee",
            },
            DemoPhase {
                name: "trigger",
                start: self.onset,
                description: "a customer posts a video: in a Bordeaux café a barista refused to serve a man in a wheelchair and mocked him",
            },
            DemoPhase {
                name: "spread",
                start: self.onset.plus_minutes(SPREAD_AT_MIN),
                description: "outrage spreads: #BoycottOrsane (+30 min), an influencer (+50 min), a disability-rights group, the press (+90 min), English echoes (+2 h)",
            },
            DemoPhase {
                name: "response",
                start: self.onset.plus_minutes(RESPONSE_AT_MIN),
                description: "@orsane apologizes: employee suspended, customer contacted; @orsane_service answers complaints; reactions are mixed",
            },
            DemoPhase {
                name: "aftermath",
                start: self.onset.plus_minutes(AFTERMATH_AT_MIN),
                description: "the volume decays over about 36 hours and sentiment slowly recovers, back to ordinary chatter",
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn paris_is_utc_plus_one_in_winter_and_two_in_summer() {
        assert_eq!(paris_offset_hours(ts("2026-03-07T18:40:00Z")), 1);
        assert_eq!(paris_offset_hours(ts("2026-03-29T00:59:59Z")), 1);
        assert_eq!(paris_offset_hours(ts("2026-03-29T01:00:00Z")), 2);
        assert_eq!(paris_offset_hours(ts("2026-07-14T12:00:00Z")), 2);
        assert_eq!(paris_offset_hours(ts("2026-10-25T01:00:00Z")), 1);
        assert_eq!(paris_hour(ts("2026-03-07T18:40:00Z")), 19);
        assert_eq!(paris_hour(ts("2026-07-14T12:00:00Z")), 14);
        assert!(paris_weekend(ts("2026-03-07T18:40:00Z")));
        assert!(!paris_weekend(ts("2026-03-02T08:00:00Z")));
    }

    #[test]
    fn the_trigger_is_at_1940_paris_the_evening_after_the_chatter_days() {
        let t = Timeline::new(&DemoOptions::default());
        // Six days of chatter from Monday 2 March: the trigger is on Sunday evening.
        assert_eq!(t.onset, ts("2026-03-08T18:40:00Z"));
        assert!(paris_weekend(t.onset));
        assert_eq!(t.end, ts("2026-03-10T10:40:00Z"));
        let two = Timeline::new(&DemoOptions {
            chatter_days: 2,
            ..DemoOptions::default()
        });
        assert_eq!(two.onset, ts("2026-03-04T18:40:00Z"));
        // Summer time, and a start in the evening: the next 19:40 after two full days.
        let summer = Timeline::new(&DemoOptions {
            start: ts("2026-06-01T20:00:00Z"),
            chatter_days: 2,
            seed: 1,
        });
        assert_eq!(summer.onset, ts("2026-06-04T17:40:00Z"));
    }

    #[test]
    fn phases_are_in_order() {
        let t = Timeline::new(&DemoOptions::default());
        let phases = t.phases();
        assert_eq!(phases.len(), 5);
        assert!(phases.windows(2).all(|w| w[0].start < w[1].start));
        assert_eq!(phases[1].start, t.onset);
    }
}
