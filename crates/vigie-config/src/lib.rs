//! Versioned TOML configuration: raw structs, validation, positioned errors.
