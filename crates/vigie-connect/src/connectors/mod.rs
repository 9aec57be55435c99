//! The connectors, one file each (network connectors behind their cargo feature).

#[cfg(feature = "bluesky")]
pub mod bluesky;
#[cfg(feature = "feed")]
pub mod feed;
pub mod file;
#[cfg(feature = "mastodon")]
pub mod mastodon;
#[cfg(feature = "reddit")]
pub mod reddit;
#[cfg(feature = "x")]
pub mod x;

pub use file::FileConnector;
