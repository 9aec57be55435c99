//! Domain types of Vigie, shared by every stage of the chain.
//!
//! The data flow is `sources → pipeline (normalize, language, query match, sentiment, reach)
//! → store + detectors → crisis level + explanation → incidents`. This crate holds the nouns
//! of that flow and nothing else: no I/O, no async runtime. Time is a parameter: code that
//! needs "now" takes a [`Clock`].
//!
//! ```
//! use vigie_model::{Timestamp, CrisisLevel};
//! let t = Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
//! assert_eq!(t.plus_minutes(90).to_rfc3339(), "2026-03-01T11:30:00Z");
//! assert!(CrisisLevel::Crisis > CrisisLevel::Alert);
//! ```

mod clock;
mod ids;
mod level;
mod mention;
mod settings;
mod signal;
mod source_event;
mod time;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::{IdError, WatchId, WorkspaceId};
pub use level::{
    AuthorReach, CrisisLevel, Explanation, Incident, IncidentEvent, IncidentEventKind, LevelChange,
    SamplePost, TermCount,
};
pub use mention::{
    Author, Engagement, EnrichedMention, Enrichment, LanguageGuess, Mention, MentionKey, Sentiment,
    SentimentLabel,
};
pub use settings::DetectionSettings;
pub use signal::{Signal, SignalKind};
pub use source_event::{ChangeKind, MentionChange};
pub use time::{Timestamp, TimestampError};
