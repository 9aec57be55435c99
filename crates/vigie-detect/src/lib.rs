//! Deterministic streaming detectors and the crisis-level engine with explanations.
