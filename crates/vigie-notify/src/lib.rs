//! Mobilizing people (issue #6): notifiers with retries, dead letters and health checks;
//! routing with quiet hours and de-duplication; on-call rotations; escalation policies
//! repeated until someone acknowledges; incident timelines; SLA timers for the first public
//! answer; signed, expiring, single-use acknowledgement links.
//!
//! The [`Mobilizer`] is the service the pipeline feeds: [`Mobilizer::on_level_change`] and
//! [`Mobilizer::on_signal`] for what detection found, [`Mobilizer::tick`] for timers. All
//! time comes from an injected [`vigie_model::Clock`], so escalations are tested on a
//! [`vigie_model::ManualClock`] without sleeping.
//!
//! ```
//! use vigie_notify::{Rotation};
//! use vigie_config::{RotationConfig, RotationEvery};
//! use vigie_model::Timestamp;
//! let rotation = RotationConfig {
//!     id: "cm".into(),
//!     time_zone: chrono_tz::Europe::Paris,
//!     every: RotationEvery::Daily,
//!     handoff: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
//!     handoff_day: chrono::Weekday::Mon,
//!     start: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
//!     members: vec!["alice".into(), "bob".into()],
//!     overrides: vec![],
//! };
//! let at = Timestamp::parse_rfc3339("2026-01-06T08:30:00Z").unwrap();
//! assert_eq!(Rotation::new(&rotation).on_call(at).unwrap().person, "bob");
//! ```

pub mod demo;
mod error;
mod incident;
mod message;
mod mobilizer;
pub mod notifiers;
mod oncall;
mod routing;
mod sign;

pub use error::{MobilizeError, NotifyError};
pub use incident::{
    Acknowledgement, EntryKind, Escalation, MobilizedIncident, Resolution, Sla, Status,
    TimelineEntry,
};
pub use message::{Message, MessageKind, escape};
pub use mobilizer::{ChannelHealth, Mobilizer};
pub use notifiers::{Notifier, Recipient, build_notifier};
pub use oncall::{OnCall, Rotation};
pub use routing::{Dedup, in_quiet_hours, route_matches};
pub use sign::{AckClaims, AckSigner, LinkError, sign_hex, verify_hex};
