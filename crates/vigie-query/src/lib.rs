//! Boolean queries.
