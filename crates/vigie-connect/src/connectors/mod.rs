//! The connectors. One file each; the registry is [`build`].

pub mod file;

pub use file::FileConnector;
