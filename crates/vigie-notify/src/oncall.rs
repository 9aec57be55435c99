//! On-call rotations: who is on call at any instant.
//!
//! A rotation hands off every day (or every week on one weekday) at a local time in its own
//! time zone. Hand-off instants are computed per local date, so daylight-saving changes
//! shift them in UTC but never in local time: a 09:00 Europe/Paris hand-off is 08:00 UTC in
//! winter and 07:00 UTC in summer. A hand-off time that does not exist on a spring-forward day
//! happens at the first instant after the gap; one that exists twice on a fall-back day
//! happens at its first occurrence. Overrides (holidays, swaps) replace the scheduled person
//! for `[from, until)`; when several overlap, the last one in the file wins.

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use vigie_config::{RotationConfig, RotationEvery};
use vigie_model::Timestamp;

/// Who is on call, and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnCall {
    /// Rotation id.
    pub rotation: String,
    /// Person id.
    pub person: String,
    /// Start of this turn (or of the override).
    pub from: Timestamp,
    /// End of this turn (or of the override), excluded.
    pub until: Timestamp,
    /// Set when an override applies: its reason (or `override`).
    pub override_reason: Option<String>,
}

/// A rotation, ready to answer "who is on call at T".
#[derive(Debug, Clone)]
pub struct Rotation<'a> {
    config: &'a RotationConfig,
}

impl<'a> Rotation<'a> {
    /// Wraps a validated rotation.
    pub fn new(config: &'a RotationConfig) -> Self {
        Self { config }
    }

    /// The UTC instant of the hand-off on local date `date`.
    pub fn handoff_at(&self, date: NaiveDate) -> DateTime<Utc> {
        let tz = self.config.time_zone;
        let local = date.and_time(self.config.handoff);
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            LocalResult::None => {
                // In a spring-forward gap: the first valid minute after it.
                let mut probe = local;
                for _ in 0..(24 * 60) {
                    probe += chrono::Duration::minutes(1);
                    if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                Utc.from_utc_datetime(&local)
            }
        }
    }

    fn step_days(&self) -> u64 {
        match self.config.every {
            RotationEvery::Daily => 1,
            RotationEvery::Weekly => 7,
        }
    }

    /// The local date of the first hand-off (the start date, or for weekly rotations the
    /// first hand-off weekday on or after it).
    fn first_date(&self) -> NaiveDate {
        let start = self.config.start;
        match self.config.every {
            RotationEvery::Daily => start,
            RotationEvery::Weekly => {
                let ahead = (7 + self.config.handoff_day.num_days_from_monday()
                    - start.weekday().num_days_from_monday())
                    % 7;
                start + Days::new(u64::from(ahead))
            }
        }
    }

    /// The local date of the hand-off that started the turn containing `at`, if the rotation
    /// had started by then.
    fn turn_date(&self, at: DateTime<Utc>) -> Option<NaiveDate> {
        let local_date = at.with_timezone(&self.config.time_zone).date_naive();
        let mut date = match self.config.every {
            RotationEvery::Daily => local_date,
            RotationEvery::Weekly => {
                let back = (7 + local_date.weekday().num_days_from_monday()
                    - self.config.handoff_day.num_days_from_monday())
                    % 7;
                local_date - Days::new(u64::from(back))
            }
        };
        if at < self.handoff_at(date) {
            date = date - Days::new(self.step_days());
        }
        (date >= self.first_date()).then_some(date)
    }

    /// The scheduled person (ignoring overrides) at `at`, with the turn's bounds.
    pub fn scheduled(&self, at: Timestamp) -> Option<OnCall> {
        if self.config.members.is_empty() {
            return None;
        }
        let at = at.to_datetime();
        let date = self.turn_date(at)?;
        let turns =
            (date - self.first_date()).num_days() / i64::try_from(self.step_days()).unwrap_or(1);
        let n = i64::try_from(self.config.members.len()).unwrap_or(1);
        let index = usize::try_from(turns.rem_euclid(n)).unwrap_or(0);
        let next = date + Days::new(self.step_days());
        Some(OnCall {
            rotation: self.config.id.clone(),
            person: self.config.members.get(index)?.clone(),
            from: Timestamp::from_datetime(self.handoff_at(date)),
            until: Timestamp::from_datetime(self.handoff_at(next)),
            override_reason: None,
        })
    }

    /// Who is on call at `at`: an override if one covers it, else the scheduled person.
    /// `None` before the rotation's first hand-off.
    pub fn on_call(&self, at: Timestamp) -> Option<OnCall> {
        let t = at.to_datetime();
        if let Some(o) = self
            .config
            .overrides
            .iter()
            .rev()
            .find(|o| o.from <= t && t < o.until)
        {
            return Some(OnCall {
                rotation: self.config.id.clone(),
                person: o.person.clone(),
                from: Timestamp::from_datetime(o.from),
                until: Timestamp::from_datetime(o.until),
                override_reason: Some(o.reason.clone().unwrap_or_else(|| "override".into())),
            });
        }
        self.scheduled(at)
    }

    /// The next `count` scheduled turns from `at` (overrides not applied), for schedules.
    pub fn upcoming(&self, at: Timestamp, count: usize) -> Vec<OnCall> {
        let mut out = Vec::new();
        let mut t = at;
        for _ in 0..count {
            let Some(turn) = self.scheduled(t).or_else(|| {
                self.scheduled(Timestamp::from_datetime(self.handoff_at(self.first_date())))
            }) else {
                break;
            };
            t = turn.until;
            out.push(turn);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{NaiveTime, Weekday};
    use vigie_config::OverrideConfig;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn rotation(tz: chrono_tz::Tz, every: RotationEvery, handoff: &str) -> RotationConfig {
        RotationConfig {
            id: "cm".into(),
            time_zone: tz,
            every,
            handoff: NaiveTime::parse_from_str(handoff, "%H:%M").unwrap(),
            handoff_day: Weekday::Mon,
            start: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(), // a Monday
            members: vec!["alice".into(), "bob".into(), "carol".into()],
            overrides: Vec::new(),
        }
    }

    fn who(r: &RotationConfig, at: &str) -> Option<String> {
        Rotation::new(r).on_call(ts(at)).map(|o| o.person)
    }

    #[test]
    fn daily_rotation_hands_off_at_local_time() {
        let r = rotation(chrono_tz::Europe::Paris, RotationEvery::Daily, "09:00");
        // Before the first hand-off nobody is scheduled.
        assert_eq!(who(&r, "2026-01-05T07:59:00Z"), None);
        // Winter: 09:00 Paris = 08:00 UTC.
        assert_eq!(who(&r, "2026-01-05T08:00:00Z").as_deref(), Some("alice"));
        assert_eq!(who(&r, "2026-01-06T07:59:59Z").as_deref(), Some("alice"));
        assert_eq!(who(&r, "2026-01-06T08:00:00Z").as_deref(), Some("bob"));
        assert_eq!(who(&r, "2026-01-07T12:00:00Z").as_deref(), Some("carol"));
        assert_eq!(who(&r, "2026-01-08T12:00:00Z").as_deref(), Some("alice"));
        let turn = Rotation::new(&r)
            .on_call(ts("2026-01-06T12:00:00Z"))
            .unwrap();
        assert_eq!(turn.from, ts("2026-01-06T08:00:00Z"));
        assert_eq!(turn.until, ts("2026-01-07T08:00:00Z"));
    }

    #[test]
    fn daylight_saving_changes_move_the_handoff_in_utc_not_in_local_time() {
        let r = rotation(chrono_tz::Europe::Paris, RotationEvery::Daily, "09:00");
        // 2026-03-29 is the last Sunday of March: Paris goes from UTC+1 to UTC+2.
        let turn = Rotation::new(&r)
            .on_call(ts("2026-03-29T12:00:00Z"))
            .unwrap();
        assert_eq!(turn.from, ts("2026-03-29T07:00:00Z")); // 09:00 CEST
        // The turn that started on Saturday at 08:00 UTC lasted 23 hours.
        let sat = Rotation::new(&r)
            .on_call(ts("2026-03-28T12:00:00Z"))
            .unwrap();
        assert_eq!(sat.from, ts("2026-03-28T08:00:00Z"));
        assert_eq!(sat.until, ts("2026-03-29T07:00:00Z"));
        assert_ne!(sat.person, turn.person);
        // At 07:30 UTC on the Sunday it is already the new person (09:30 local).
        assert_eq!(who(&r, "2026-03-29T07:30:00Z"), Some(turn.person.clone()));
        // 2026-10-25, last Sunday of October: back to UTC+1, a 25-hour turn.
        let before = Rotation::new(&r)
            .on_call(ts("2026-10-24T12:00:00Z"))
            .unwrap();
        assert_eq!(before.from, ts("2026-10-24T07:00:00Z"));
        assert_eq!(before.until, ts("2026-10-25T08:00:00Z"));
        assert_eq!(who(&r, "2026-10-25T07:30:00Z"), Some(before.person));
    }

    #[test]
    fn handoffs_inside_a_dst_gap_or_overlap_are_well_defined() {
        // 02:30 does not exist in Paris on 2026-03-29 and exists twice on 2026-10-25.
        let r = rotation(chrono_tz::Europe::Paris, RotationEvery::Daily, "02:30");
        let rot = Rotation::new(&r);
        let gap = rot.handoff_at(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
        assert_eq!(Timestamp::from_datetime(gap), ts("2026-03-29T01:00:00Z")); // 03:00 CEST
        let overlap = rot.handoff_at(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
        assert_eq!(
            Timestamp::from_datetime(overlap),
            ts("2026-10-25T00:30:00Z")
        ); // first 02:30
        // During the repeated hour the new person stays on call.
        let p = who(&r, "2026-10-25T00:45:00Z");
        assert_eq!(who(&r, "2026-10-25T01:15:00Z"), p); // second 02:15 local
    }

    #[test]
    fn weekly_rotation_across_time_zones() {
        let mut paris = rotation(chrono_tz::Europe::Paris, RotationEvery::Weekly, "09:00");
        let mut montreal = rotation(chrono_tz::America::Montreal, RotationEvery::Weekly, "09:00");
        paris.handoff_day = Weekday::Mon;
        montreal.handoff_day = Weekday::Mon;
        // Monday 2026-01-12 10:00 UTC: 11:00 in Paris (handed off), 05:00 in Montreal (not yet).
        assert_eq!(who(&paris, "2026-01-12T10:00:00Z").as_deref(), Some("bob"));
        assert_eq!(
            who(&montreal, "2026-01-12T10:00:00Z").as_deref(),
            Some("alice")
        );
        assert_eq!(
            who(&montreal, "2026-01-12T14:00:00Z").as_deref(),
            Some("bob")
        );
        // Weeks later the cycle wraps around.
        assert_eq!(
            who(&paris, "2026-01-26T10:00:00Z").as_deref(),
            Some("alice")
        );
        // Starting on a Wednesday, the first turn begins the next Monday.
        paris.start = NaiveDate::from_ymd_opt(2026, 1, 7).unwrap();
        assert_eq!(who(&paris, "2026-01-10T10:00:00Z"), None);
        assert_eq!(
            who(&paris, "2026-01-12T10:00:00Z").as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn overrides_replace_the_schedule_and_the_last_one_wins() {
        let mut r = rotation(chrono_tz::Europe::Paris, RotationEvery::Daily, "09:00");
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        r.overrides.push(OverrideConfig {
            from: at("2026-12-24T18:00:00+01:00"),
            until: at("2026-12-26T09:00:00+01:00"),
            person: "dave".into(),
            reason: Some("Christmas".into()),
        });
        r.overrides.push(OverrideConfig {
            from: at("2026-12-25T00:00:00+01:00"),
            until: at("2026-12-25T12:00:00+01:00"),
            person: "erin".into(),
            reason: None,
        });
        let scheduled = Rotation::new(&r)
            .scheduled(ts("2026-12-24T20:00:00Z"))
            .unwrap();
        let o = Rotation::new(&r)
            .on_call(ts("2026-12-24T20:00:00Z"))
            .unwrap();
        assert_eq!(o.person, "dave");
        assert_ne!(scheduled.person, "dave");
        assert_eq!(o.override_reason.as_deref(), Some("Christmas"));
        assert_eq!(who(&r, "2026-12-25T06:00:00Z").as_deref(), Some("erin"));
        assert_eq!(who(&r, "2026-12-25T12:00:00Z").as_deref(), Some("dave"));
        // The end is excluded: back to the schedule at 09:00 local on the 26th.
        assert_eq!(
            who(&r, "2026-12-26T08:00:00Z"),
            Some(
                Rotation::new(&r)
                    .scheduled(ts("2026-12-26T08:00:00Z"))
                    .unwrap()
                    .person
            )
        );
    }

    #[test]
    fn upcoming_lists_consecutive_turns() {
        let r = rotation(chrono_tz::UTC, RotationEvery::Daily, "00:00");
        let turns = Rotation::new(&r).upcoming(ts("2026-01-05T12:00:00Z"), 4);
        let people: Vec<_> = turns.iter().map(|t| t.person.as_str()).collect();
        assert_eq!(people, ["alice", "bob", "carol", "alice"]);
        assert_eq!(turns[1].from, turns[0].until);
    }
}
