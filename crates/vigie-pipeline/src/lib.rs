//! The topology: sources -> enrichment -> store + detectors -> levels, with backpressure and graceful shutdown.
