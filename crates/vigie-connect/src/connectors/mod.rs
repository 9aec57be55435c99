//! The connectors, one file each.

pub mod file;

pub use file::FileConnector;
