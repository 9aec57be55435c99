//! Integration tests of mobilizing: real payloads to local receivers, escalation on a
//! manual clock, acknowledgement links.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod delivery;
mod escalation;
mod support;
