//! Responding together: scenarios (playbooks), crisis rooms, the shared inbox, drafts with
//! policy checks and approvals, publication to Mastodon and Bluesky, the append-only audit
//! log, and post-crisis reports.
//!
//! - [`scenario`]: the playbook model, the TOML library loader with validation
//!   ([`ScenarioLibrary::load_dir`]) and the matcher ([`propose`]) that suggests scenarios
//!   for an incident;
//! - [`policy`]: the charte checks ([`check`]) returning pass / warn / block with reasons and
//!   character spans;
//! - [`inbox`]: priority = reach × negativity × virality, statuses, SLA;
//! - [`Engine`]: every action (activate a scenario in one call, tasks, drafts, submit,
//!   approve or return, publish or mark sent, decisions, closing), each written with its
//!   audit line in the same transaction ([`vigie_store::RespondStore`]);
//! - [`publish`]: the Mastodon and Bluesky clients;
//! - [`report`]: the post-crisis report (HTML with inline SVG charts, PDF from a small
//!   built-in PDF writer) in French and English;
//! - [`digest`]: digest e-mails for calm periods (text and HTML, French and English) and
//!   the scheduler that sends each once per period.
//!
//! ```
//! use vigie_respond::policy::{check, Channel, CheckContext, Policy, Verdict};
//! use vigie_respond::Lang;
//!
//! let report = check(
//!     &Policy::default(),
//!     "Vous auriez dû lire la notice.",
//!     CheckContext { channel: Channel::X, lang: Lang::Fr, crisis: true },
//! );
//! assert_eq!(report.verdict, Verdict::Warn);
//! assert_eq!(report.findings[0].span.map(|s| (s.start, s.end)), Some((0, 14)));
//! ```

pub mod digest;
mod engine;
mod error;
pub mod inbox;
mod model;
pub mod pdf;
pub mod policy;
pub mod publish;
pub mod report;
pub mod scenario;
pub mod template;

pub use engine::{
    ActivateRequest, Activation, Engine, EngineSettings, InboxAction, RoleNotification,
    RoleNotifier, RoomFigures, RoomNotice, RoomView,
};
pub use error::{ErrorKind, RespondError, RespondResult};
pub use model::{
    Actor, CrisisRoom, Decision, Draft, DraftStatus, Review, RoomStatus, Task, TaskStatus,
};
pub use policy::check;
pub use scenario::{Lang, Scenario, ScenarioLibrary, propose};
